/** The watcher on a fake /proc: starts, stops, restarts, notifications, stale scans. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../src/containers/types.js';
import { watchContainers } from '../../src/containers/watch.js';
import type { ChangeReason, ContainerWatcher, WatchOptions } from '../../src/containers/watch.js';
import { FakeProc, hybridCgroup } from './fake-proc.js';
import { waitFor } from './harness.js';

const ID1 = '72151856668b2b768929378a2641e9124def57be8a5707182bdf4711c64ecadf';
const ID2 = '0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86';

let fp: FakeProc;
let w: ContainerWatcher | undefined;
let events: { kind: string; key: string; initPid: number; reason: ChangeReason }[];
let warnings: string[];

function opts(o: WatchOptions = {}): WatchOptions & { onWarning: (m: string) => void } {
  return {
    procRoot: fp.root,
    api: false,
    pollMs: 0,
    onWarning: (m) => warnings.push(m),
    ...o,
  };
}
const onStart = (c: ContainerInfo, reason: ChangeReason): void =>
  void events.push({ kind: 'start', key: c.key, initPid: c.initPid, reason });
const onStop = (c: ContainerInfo, reason: ChangeReason): void =>
  void events.push({ kind: 'stop', key: c.key, initPid: c.initPid, reason });

/** A docker container: shim 4500+k, init `pid`, one child `pid+1`. */
function addDocker(id: string, pid: number, pidNs: number): void {
  const cg = hybridCgroup(`/docker/${id}`);
  fp.add({
    pid: pid - 10,
    ppid: 1,
    comm: 'containerd-shim',
    cgroup: hybridCgroup('/'),
    cmdline: ['containerd-shim-runc-v2', '-namespace', 'moby', '-id', id],
  });
  fp.add({ pid, ppid: pid - 10, comm: 'sh', cgroup: cg, ns: { pid: pidNs }, nsPids: [pid, 1] });
  fp.add({ pid: pid + 1, ppid: pid, comm: 'sleep', cgroup: cg, ns: { pid: pidNs }, nsPids: [pid + 1, 2] });
}
function removeDocker(pid: number): void {
  fp.remove(pid)
    .remove(pid + 1)
    .remove(pid - 10);
}

beforeEach(() => {
  fp = new FakeProc().host();
  events = [];
  warnings = [];
});
afterEach(async () => {
  await w?.close();
  w = undefined;
  fp.dispose();
});

describe('ContainerWatcher', () => {
  it('reports the initial set without events, then starts, restarts and stops on refresh', async () => {
    addDocker(ID1, 1000, 4026532201);
    w = await watchContainers(onStart, onStop, opts());
    expect(w.initial.map((c) => c.key)).toEqual([`docker:${ID1}`]);
    expect(events).toEqual([]);

    addDocker(ID2, 2000, 4026532202);
    await w.refresh();
    expect(events).toEqual([{ kind: 'start', key: `docker:${ID2}`, initPid: 2000, reason: 'refresh' }]);

    // Restart: same id, new init, and (as the kernel does) the same pid namespace inode again.
    removeDocker(1000);
    addDocker(ID1, 3000, 4026532201);
    events.length = 0;
    await w.refresh();
    expect(events).toEqual([
      { kind: 'stop', key: `docker:${ID1}`, initPid: 1000, reason: 'refresh' },
      { kind: 'start', key: `docker:${ID1}`, initPid: 3000, reason: 'refresh' },
    ]);

    removeDocker(2000);
    events.length = 0;
    await w.refresh();
    expect(events).toEqual([{ kind: 'stop', key: `docker:${ID2}`, initPid: 2000, reason: 'refresh' }]);
    await w.refresh();
    expect(events).toHaveLength(1);
    expect(w.current().map((c) => c.key)).toEqual([`docker:${ID1}`]);
  });

  it('noteExit of an init stops its container at once; a stale scan does not bring it back', async () => {
    addDocker(ID1, 1000, 4026532201);
    w = await watchContainers(onStart, onStop, opts());
    w.noteExit(1001); // not an init
    expect(events).toEqual([]);
    w.noteExit(1000);
    expect(events).toEqual([{ kind: 'stop', key: `docker:${ID1}`, initPid: 1000, reason: 'exit' }]);
    await w.refresh(); // /proc still shows the exiting process
    expect(events).toHaveLength(1);
    removeDocker(1000);
    await w.refresh();
    addDocker(ID1, 1100, 4026532201); // started again later
    await w.refresh();
    expect(events.slice(1)).toEqual([
      { kind: 'start', key: `docker:${ID1}`, initPid: 1100, reason: 'refresh' },
    ]);
  });

  it('noteCgroupRmdir stops only on the removal of the container cgroup itself', async () => {
    addDocker(ID1, 1000, 4026532201);
    w = await watchContainers(onStart, onStop, opts());
    w.noteCgroupRmdir(`/docker/${ID1}/sub`);
    w.noteCgroupRmdir('/docker');
    w.noteCgroupRmdir(`/docker/${ID2}`);
    expect(events).toEqual([]);
    w.noteCgroupRmdir(`/docker/${ID1}`);
    expect(events).toEqual([{ kind: 'stop', key: `docker:${ID1}`, initPid: 1000, reason: 'cgroup_rmdir' }]);
  });

  it('noteCgroupMkdir rescans until the new container has processes', async () => {
    w = await watchContainers(onStart, onStop, opts());
    w.noteCgroupMkdir('/system.slice/sshd.service'); // no container
    w.noteCgroupMkdir(`/docker/${ID2}`);
    await new Promise((r) => setTimeout(r, 120)); // a few rescans find nothing yet
    expect(events).toEqual([]);
    addDocker(ID2, 2000, 4026532202);
    await waitFor('start', () => events.length > 0, 5000);
    expect(events).toEqual([{ kind: 'start', key: `docker:${ID2}`, initPid: 2000, reason: 'cgroup_mkdir' }]);
  });

  it('noteFork into an unknown pid namespace rescans; into a known one or the host does not', async () => {
    addDocker(ID1, 1000, 4026532201);
    w = await watchContainers(onStart, onStop, opts());
    addDocker(ID2, 2000, 4026532202);
    w.noteFork(1000, 1001, 4026532201); // known container
    w.noteFork(300, 301, 4026531836); // host
    await new Promise((r) => setTimeout(r, 60));
    expect(events).toEqual([]);
    w.noteFork(1990, 2000); // pid namespace read from /proc
    await waitFor('start', () => events.length > 0, 5000);
    expect(events).toEqual([{ kind: 'start', key: `docker:${ID2}`, initPid: 2000, reason: 'fork' }]);
  });

  it('polls on its own', async () => {
    w = await watchContainers(onStart, onStop, opts({ pollMs: 30 }));
    addDocker(ID1, 1000, 4026532201);
    await waitFor('start', () => events.length > 0, 5000);
    expect(events[0]).toMatchObject({ kind: 'start', reason: 'poll' });
  });

  it('containerOfPid maps a process to its container by cgroup, then by pid namespace', async () => {
    addDocker(ID1, 1000, 4026532201);
    fp.add({
      pid: 1200,
      ppid: 1199,
      comm: 'sh',
      cgroup: hybridCgroup('/'),
      ns: { pid: 4026532300 },
      nsPids: [1200, 1],
    });
    fp.add({
      pid: 1201,
      ppid: 1200,
      comm: 'x',
      cgroup: hybridCgroup('/'),
      ns: { pid: 4026532300 },
      nsPids: [1201, 2],
    });
    w = await watchContainers(onStart, onStop, opts());
    expect(w.containerOfPid(1001)?.key).toBe(`docker:${ID1}`);
    expect(w.containerOfPid(1201)?.key).toBe('unshare:pidns:4026532300');
    expect(w.containerOfPid(300)).toBeNull();
    expect(w.containerOfPid(99999)).toBeNull();
  });

  it('a throwing handler becomes a warning; the watcher goes on', async () => {
    let n = 0;
    w = await watchContainers(
      () => {
        n++;
        throw new Error('disk full');
      },
      onStop,
      opts(),
    );
    addDocker(ID1, 1000, 4026532201);
    addDocker(ID2, 2000, 4026532202);
    await w.refresh();
    expect(n).toBe(2);
    expect(warnings).toEqual([
      'container start handler failed: disk full',
      'container start handler failed: disk full',
    ]);
  });
});
