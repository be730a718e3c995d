/**
 * End-to-end with real containers of three runtimes (a private dockerd, Podman with runc, LXC;
 * recipes in docs/research/runtimes.md, started with the containers module's test harness):
 * the container statedump names them with the runtime's ids and /proc's namespace inodes; a
 * Docker container started and removed during the recording gets its start and stop events;
 * and every event of the containers' processes carries their namespaces and in-container ids.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/tracefs/recorder.js';
import type { RecordSummary } from '../../src/record/options.js';
import { Dockerd, Lxc, Podman, Workdir, missing, run } from '../containers/harness.js';
import { babeltrace2, field, parseBt2Lines, readStringField, skipReason, type Bt2Event } from './helpers.js';
import { hostView, NS_NAMES, type HostView } from './probe.js';
import { ReferenceSwitches, type Switch } from './sched-check.js';
import { expectCompleteScheduling } from './scheduling.js';
import { tracefsRoot } from './helpers.js';
import { capabilityMissing } from '../helpers/require.js';

const reason =
  skipReason() ??
  capabilityMissing(
    'docker, podman, runc, lxc, busybox',
    () => missing('dockerd', 'docker', 'podman', 'runc', 'lxc-start', 'busybox') || undefined,
  );
if (reason) console.warn(`SKIPPING container recording tests: ${reason}`);

// The init shell opens /etc/hostname itself (a builtin's redirection), and forks `sleep`s.
// (The path is written only when provably the one the syscall saw: these opens return at once,
// so it is mostly unknown, never another one: see docs/record.md.)
const WORK = ['/bin/sh', '-c', 'while true; do read x < /etc/hostname; sleep 0.1; done'];

interface Ct {
  name: string;
  id: string;
  type: string;
  view: HostView;
}

let w: Workdir | undefined;
let dockerd: Dockerd | undefined;
let podman: Podman | undefined;
let lxc: Lxc | undefined;
let summary: RecordSummary | undefined;
let events: Bt2Event[] = [];
let bt2: { status: number; stderr: string } = { status: -1, stderr: '' };
const cts: Record<string, Ct> = {};
let out = '';
let ref: { switches: Switch[]; lost: number } | undefined;

async function dockerCt(name: string): Promise<Ct> {
  const id = (await dockerd!.docker(['inspect', '-f', '{{.Id}}', name])).trim();
  const pid = Number((await dockerd!.docker(['inspect', '-f', '{{.State.Pid}}', name])).trim());
  return { name, id, type: 'docker', view: hostView(pid) };
}

beforeAll(async () => {
  if (reason) return;
  w = new Workdir('nstrace-rec-ct-');
  out = w.path('trace');
  const rootfs = await w.rootfs();
  const tar = await w.tar(rootfs);
  dockerd = new Dockerd(w);
  await dockerd.start();
  await dockerd.docker(['import', tar, 'nstrace-rec/bb:latest']);
  podman = new Podman(w);
  await podman.podman(['import', tar, 'localhost/nstrace-rec-bb:latest']);
  await podman.startService();
  lxc = new Lxc(w);
  await lxc.create('nsrec-lx', rootfs);

  // Running before the recording: in the container statedump.
  await dockerd.docker(['run', '-d', '--name', 'nsrec-dk1', 'nstrace-rec/bb:latest', ...WORK]);
  cts['dk1'] = await dockerCt('nsrec-dk1');
  await podman.podman(['run', '-d', '--name', 'nsrec-pm1', 'localhost/nstrace-rec-bb:latest', ...WORK]);
  const pmId = (await podman.podman(['inspect', '-f', '{{.Id}}', 'nsrec-pm1'])).trim();
  const pmPid = Number((await podman.podman(['inspect', '-f', '{{.State.Pid}}', 'nsrec-pm1'])).trim());
  cts['pm1'] = { name: 'nsrec-pm1', id: pmId, type: 'podman', view: hostView(pmPid) };
  const lxPid = await lxc.start('nsrec-lx');
  cts['lx'] = { name: 'nsrec-lx', id: 'nsrec-lx', type: 'lxc', view: hostView(lxPid) };

  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const ac = new AbortController();
  const reference = new ReferenceSwitches(tracefsRoot()!);
  reference.start();
  const recP = record({
    outDir: out,
    events: ['sched_switch', 'sched_process_*', 'syscall_entry_openat', 'syscall_entry_read'],
    signal: ac.signal,
    excludeChildren: false,
    containerOptions: {
      dockerSockets: [dockerd.socket],
      podmanSockets: [podman.socket],
      lxdSockets: [],
      crioSockets: [],
      lxcPaths: [lxc.lxcPath],
      pollMs: 300,
    },
    onStarted: () => started(),
  });
  await startedP;
  // Started and removed during the recording.
  await dockerd.docker(['run', '-d', '--name', 'nsrec-dk2', 'nstrace-rec/bb:latest', ...WORK]);
  cts['dk2'] = await dockerCt('nsrec-dk2');
  await new Promise((r) => setTimeout(r, 2000));
  await dockerd.docker(['rm', '-f', 'nsrec-dk2']);
  await new Promise((r) => setTimeout(r, 1500));
  ac.abort();
  try {
    summary = await recP;
  } finally {
    ref = reference.stop();
  }
  const bt = babeltrace2([out]);
  bt2 = bt;
  events = parseBt2Lines(bt.stdout);
}, 300_000);

afterAll(async () => {
  if (process.env.KEEP_TRACE && out) {
    fs.cpSync(out, '/tmp/nstrace-kept-ct-trace', { recursive: true });
    fs.writeFileSync('/tmp/nstrace-kept-ct-trace/cts.json', JSON.stringify(cts, null, 1));
  }
  await dockerd?.stop().catch(() => undefined);
  await podman?.stop().catch(() => undefined);
  await lxc?.stopAll().catch(() => undefined);
  if (lxc) await run('lxc-destroy', ['-P', lxc.lxcPath, '-n', 'nsrec-lx']).catch(() => undefined);
  await w?.remove();
}, 120_000);

function containerEvents(name: string): Bt2Event[] {
  return events.filter((e) => e.name === name);
}

function ofPidNs(pidNs: number): Bt2Event[] {
  return events.filter((e) => e.ctx.get('pid_ns') === String(pidNs));
}

describe.skipIf(reason !== undefined)('recording real containers', () => {
  it('writes a trace babeltrace2 reads without a warning', () => {
    expect(bt2.status).toBe(0);
    expect(bt2.stderr).toBe('');
    expect(events.length).toBe(summary!.events);
  });

  for (const k of ['dk1', 'pm1', 'lx'] as const) {
    it(`container statedump: ${k} with the runtime's id and /proc's namespaces`, () => {
      const c = cts[k]!;
      const ev = containerEvents('nstrace_container_statedump').find(
        (e) => field(e.payload, 'id') === JSON.stringify(c.id),
      );
      expect(ev, `statedump of ${c.name}`).toBeDefined();
      expect(field(ev!.payload, 'name')).toBe(JSON.stringify(c.name));
      expect(field(ev!.payload, 'type')).toBe(JSON.stringify(c.type));
      expect(field(ev!.payload, 'init_pid')).toBe(String(c.view.pid));
      for (const t of NS_NAMES) expect(field(ev!.payload, `${t}_ns`), t).toBe(String(c.view.ns[t]));
    });
  }

  it("scheduling: the kernel's switches, whole chains, CPU usage that adds up", async () => {
    await expectCompleteScheduling(out, ref);
  });

  it('a container started and removed during the recording gets start and stop events', () => {
    const c = cts['dk2']!;
    const start = containerEvents('nstrace_container_start').find(
      (e) => field(e.payload, 'id') === JSON.stringify(c.id),
    );
    expect(start, 'start event').toBeDefined();
    expect(field(start!.payload, 'pid_ns')).toBe(String(c.view.ns.pid));
    expect(field(start!.payload, 'name')).toBe('"nsrec-dk2"');
    const stop = containerEvents('nstrace_container_stop').find(
      (e) => field(e.payload, 'id') === JSON.stringify(c.id),
    );
    expect(stop, 'stop event').toBeDefined();
  });

  for (const k of ['dk1', 'pm1', 'dk2'] as const) {
    it(`${k}: its processes' events carry its namespaces and in-container ids`, () => {
      const c = cts[k]!;
      // The init (a shell loop): vpid 1 in its own pid namespace, every namespace as /proc showed.
      const init = events.filter((e) => e.ctx.get('pid') === String(c.view.pid));
      expect(init.length).toBeGreaterThan(0);
      for (const e of init) {
        for (const t of NS_NAMES)
          expect(e.ctx.get(`${t}_ns`), `${e.name} ${t}_ns`).toBe(String(c.view.ns[t]));
        expect(e.ctx.get('vpid')).toBe('1');
      }
      // The init, once it is the shell, opens /etc/hostname over and over: that path, or
      // unknown (""). Before its exec (a container started while recording), runc's init opens
      // its exec FIFO as /proc/self/fd/N (runc's standard_init_linux.go), a blocking open whose
      // path the recorder can prove: that, or unknown.
      const initOpens = readStringField(out, 'syscall_entry_openat', 'filename').filter(
        (o) => o.pid === c.view.pid,
      );
      const opens = initOpens.filter((o) => o.procname === 'sh');
      expect(opens.length).toBeGreaterThan(3);
      for (const o of opens) expect(['', '/etc/hostname']).toContain(o.value);
      for (const o of initOpens.filter((o) => o.procname !== 'sh')) {
        expect(o.procname).toMatch(/^runc|^crun|^conmon|^$/);
        if (o.value !== '') expect(o.value).toMatch(/^\/proc\/self\/fd\/\d+$/);
      }
      // Its `sleep` children: in-container ids above 1, host pid different, same namespaces.
      const kids = ofPidNs(c.view.ns.pid).filter((e) => e.ctx.get('procname') === '"sleep"');
      expect(kids.length).toBeGreaterThan(0);
      for (const e of kids) {
        for (const t of NS_NAMES) expect(e.ctx.get(`${t}_ns`), t).toBe(String(c.view.ns[t]));
        const vpid = Number(e.ctx.get('vpid'));
        expect(vpid).toBeGreaterThan(1);
        expect(e.ctx.get('vtid')).toBe(String(vpid));
        expect(Number(e.ctx.get('pid'))).not.toBe(vpid);
      }
      // The fork events of those children: vtids at both levels, the child in the container.
      const forks = events.filter(
        (e) => e.name === 'sched_process_fork' && field(e.payload, 'child_ns_inum') === String(c.view.ns.pid),
      );
      expect(forks.length).toBeGreaterThan(0);
      for (const f of forks) {
        const vt = f.payload
          .match(/vtids = \[ (.*?) \]/)![1]!
          .split(', ')
          .map((x) => Number(x.split(' = ')[1]));
        expect(vt.length).toBe(2);
        expect(vt[0]).toBe(Number(field(f.payload, 'child_tid')));
        // 1 only for the container's init (its creation, when it started during the recording).
        if (vt[0] === c.view.pid) expect(vt[1]).toBe(1);
        else expect(vt[1]).toBeGreaterThan(1);
      }
    });
  }
});
