/**
 * Integration tests on real containers of every runtime that runs on this machine: Docker,
 * Podman (runc), LXC, systemd-nspawn and plain unshare (recipes: docs/research/runtimes.md).
 * Discovery is checked against what the runtime's own CLI says (ids, names, images, init pids)
 * and what util-linux `lsns` and /proc say (namespace inodes, cgroup paths); then containers are
 * stopped and must be reported gone. The watcher is checked on starts, stops and restarts, both
 * from its own sources (event streams, polling) and from recorder notifications.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilityMissing } from '../helpers/require.js';
import { discover } from '../../src/containers/discover.js';
import type { DiscoverOptions } from '../../src/containers/discover.js';
import { rfc3339ToNs } from '../../src/containers/http-unix.js';
import type { ContainerInfo } from '../../src/containers/types.js';
import { watchContainers } from '../../src/containers/watch.js';
import type { ChangeReason, ContainerWatcher } from '../../src/containers/watch.js';
import {
  Dockerd,
  LOOP,
  Lxc,
  Podman,
  Workdir,
  lsnsOf,
  missing,
  procCgroupPath,
  removeCgroup,
  run,
  startNspawn,
  startUnshare,
  stopNspawn,
  stopUnshare,
  waitFor,
} from './harness.js';
import type { Spawned } from './harness.js';

/** Discovery isolated from whatever else runs on the host: only the sockets a test names. */
function isolated(o: DiscoverOptions = {}): DiscoverOptions {
  return { dockerSockets: [], podmanSockets: [], lxdSockets: [], crioSockets: [], ...o };
}

async function expectMatchesProc(c: ContainerInfo, pid: number): Promise<void> {
  expect(c.initPid).toBe(pid);
  const ns = await lsnsOf(pid);
  expect(c.ns).toEqual({
    pid: ns['pid'],
    user: ns['user'],
    mnt: ns['mnt'],
    net: ns['net'],
    uts: ns['uts'],
    ipc: ns['ipc'],
    cgroup: ns['cgroup'],
    time: ns['time'],
  });
  expect(c.cgroupPath).toBe(procCgroupPath(pid));
  expect(c.pids).toContain(pid);
  expect(c.state).toBe('running');
  // The start time is the init's, from /proc (or the runtime's own, a few ms earlier).
  expect(c.startedAt > 0n).toBe(true);
}

interface Seen {
  kind: 'start' | 'stop';
  c: ContainerInfo;
  reason: ChangeReason;
}

/** Records watcher callbacks and waits for a matching one. */
class Recorder {
  readonly events: Seen[] = [];
  readonly warnings: string[] = [];
  onStart = (c: ContainerInfo, reason: ChangeReason): void =>
    void this.events.push({ kind: 'start', c, reason });
  onStop = (c: ContainerInfo, reason: ChangeReason): void =>
    void this.events.push({ kind: 'stop', c, reason });
  async next(kind: 'start' | 'stop', pred: (c: ContainerInfo) => boolean, from = 0): Promise<Seen> {
    return waitFor(
      `${kind} event`,
      () => this.events.slice(from).find((e) => e.kind === kind && pred(e.c)) ?? null,
      20_000,
    );
  }
}

// ---------------------------------------------------------------------------------------------

const dockerSkip =
  capabilityMissing('docker', () => missing('dockerd', 'docker', 'lsns', 'busybox') || undefined) ?? '';

describe.skipIf(dockerSkip !== '')('Docker (docker.io, private dockerd)', () => {
  let w: Workdir;
  let dockerd: Dockerd;
  const opts = (): DiscoverOptions => isolated({ dockerSockets: [dockerd.socket] });
  const inspect = async (
    name: string,
  ): Promise<{ id: string; pid: number; started: string; image: string }> => {
    const [id = '', pid = '0', started = '', image = ''] = (
      await dockerd.docker([
        'inspect',
        '-f',
        '{{.Id}} {{.State.Pid}} {{.State.StartedAt}} {{.Config.Image}}',
        name,
      ])
    ).split(' ');
    return { id, pid: Number(pid), started, image };
  };
  const runDetached = (name: string, extra: string[] = []): Promise<string> =>
    dockerd.docker([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'none',
      ...extra,
      'nstrace-test/bb:1',
      ...LOOP,
    ]);

  beforeAll(async () => {
    w = new Workdir();
    dockerd = new Dockerd(w);
    const tar = await w.tar(await w.rootfs());
    await dockerd.start();
    await dockerd.docker(['import', tar, 'nstrace-test/bb:1']);
  });
  afterAll(async () => {
    await dockerd?.stop();
    await w?.remove();
    removeCgroup('docker'); // the empty parent dockerd made (kept if anything else uses it)
  });

  it('lists running containers as `docker inspect`, lsns and /proc say', async () => {
    await runDetached('dk1', ['--label', 'io.nstrace.test=one']);
    await runDetached('dk2');
    const d = await discover(opts());
    const ps = (await dockerd.docker(['ps', '--no-trunc', '--format', '{{.ID}} {{.Names}}'])).split('\n');
    expect(ps).toHaveLength(2);
    for (const line of ps) {
      const [id = '', name = ''] = line.split(' ');
      const c = d.containers.find((x) => x.id === id);
      expect(c, `docker container ${name}`).toBeDefined();
      if (!c) continue;
      const ins = await inspect(name);
      expect(c.type).toBe('docker');
      expect(c.runtime).toBe('docker');
      expect(c.key).toBe(`docker:${id}`);
      expect(c.name).toBe(name);
      expect(c.image).toBe(ins.image);
      expect(c.startedAt).toBe(rfc3339ToNs(ins.started));
      expect(c.cgroupPath).toBe(`/docker/${id}`);
      expect(c.sources).toEqual(expect.arrayContaining(['cgroup', 'docker-api']));
      await expectMatchesProc(c, ins.pid);
    }
    expect(d.containers.find((c) => c.name === 'dk1')?.labels['io.nstrace.test']).toBe('one');
  });

  it('degrades to cgroup rules with a warning when the socket is missing or refuses', async () => {
    const warnings: string[] = [];
    const d = await discover(
      isolated({ dockerSockets: [w.path('no-such.sock')], onWarning: (m) => warnings.push(m) }),
    );
    expect(warnings.some((m) => m.startsWith('docker: no API socket'))).toBe(true);
    const ins = await inspect('dk1');
    const c = d.containers.find((x) => x.id === ins.id);
    expect(c?.type).toBe('docker');
    expect(c?.name).toBe(''); // only the API knows names
    if (c) await expectMatchesProc(c, ins.pid);
    // A socket file with nobody behind it: the same, with the error in the warning.
    const dead = w.path('dead.sock');
    await run('python3', [
      '-c',
      `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(dead)})`,
    ]);
    const w2: string[] = [];
    const d2 = await discover(isolated({ dockerSockets: [dead], onWarning: (m) => w2.push(m) }));
    expect(w2.some((m) => m.includes(`API at ${dead} failed`) && m.includes('ECONNREFUSED'))).toBe(true);
    expect(d2.containers.find((x) => x.id === ins.id)?.initPid).toBe(ins.pid);
  });

  it('keeps the identity of a restarted container; new init pid and namespaces', async () => {
    const before = (await discover(opts())).containers.find((c) => c.name === 'dk1');
    await dockerd.docker(['restart', '-t', '1', 'dk1']);
    const ins = await inspect('dk1');
    const after = (await discover(opts())).containers.find((c) => c.name === 'dk1');
    expect(before && after).toBeTruthy();
    if (!before || !after) return;
    expect(after.key).toBe(before.key);
    expect(after.id).toBe(before.id);
    expect(after.initPid).toBe(ins.pid);
    expect(after.initPid).not.toBe(before.initPid);
    // New namespaces; their inode numbers may well be the old ones: the kernel hands freed nsfs
    // inode numbers out again (seen here on every restart), so only the id is an identity.
    await expectMatchesProc(after, ins.pid);
  });

  it('follows starts, stops and restarts (event stream and polling)', async () => {
    const r = new Recorder();
    const watcher = await watchContainers(r.onStart, r.onStop, {
      ...opts(),
      pollMs: 500,
      onWarning: (m) => r.warnings.push(m),
    });
    try {
      // (Other agents' containers may share this machine: look at ours only.)
      expect(
        watcher.initial
          .filter((c) => c.type === 'docker')
          .map((c) => c.name)
          .sort(),
      ).toEqual(['dk1', 'dk2']);
      const id3 = await runDetached('dk3');
      const s3 = await r.next('start', (c) => c.id === id3);
      expect(s3.c.name).toBe('dk3');
      expect(s3.c.image).toBe('nstrace-test/bb:1');
      await expectMatchesProc(s3.c, (await inspect('dk3')).pid);
      expect(watcher.containerOfPid(s3.c.initPid)?.id).toBe(id3);

      const old1 = watcher.current().find((c) => c.name === 'dk1');
      const mark = r.events.length;
      await dockerd.docker(['restart', '-t', '1', 'dk1']);
      const stop1 = await r.next('stop', (c) => c.name === 'dk1', mark);
      const start1 = await r.next('start', (c) => c.name === 'dk1', mark);
      expect(stop1.c.initPid).toBe(old1?.initPid);
      expect(start1.c.key).toBe(stop1.c.key);
      expect(start1.c.initPid).toBe((await inspect('dk1')).pid);
      await expectMatchesProc(start1.c, start1.c.initPid);
      expect(start1.c.image).toBe('nstrace-test/bb:1'); // kept from the first answer

      await dockerd.docker(['stop', '-t', '1', 'dk3']);
      const stop3 = await r.next('stop', (c) => c.id === id3);
      expect(stop3.c.name).toBe('dk3');
      expect(watcher.current().some((c) => c.id === id3)).toBe(false);
      expect(r.warnings).toEqual([]);
    } finally {
      await watcher.close();
    }
  });

  it("follows the recorder's notifications alone (cgroup_mkdir, exit, cgroup_rmdir)", async () => {
    const r = new Recorder();
    const watcher: ContainerWatcher = await watchContainers(r.onStart, r.onStop, {
      ...opts(),
      pollMs: 0,
      runtimeEvents: false,
    });
    try {
      const id = await dockerd.docker([
        'create',
        '--name',
        'dk4',
        '--network',
        'none',
        'nstrace-test/bb:1',
        ...LOOP,
      ]);
      await dockerd.docker(['start', 'dk4']);
      watcher.noteCgroupMkdir(`/docker/${id}`);
      const s = await r.next('start', (c) => c.id === id);
      expect(s.reason).toBe('cgroup_mkdir');
      expect(s.c.name).toBe('dk4');
      const pid = (await inspect('dk4')).pid;
      expect(s.c.initPid).toBe(pid);

      // (Only dk4's events count: other agents' containers may come and go meanwhile.)
      const ours = (from: number): Seen[] => r.events.slice(from).filter((e) => e.c.id === id);
      await dockerd.docker(['kill', 'dk4']);
      const n = r.events.length;
      watcher.noteExit(pid); // synchronous: the recorder writes the stop at this point of the trace
      expect(ours(n)).toEqual([expect.objectContaining({ kind: 'stop', reason: 'exit' })]);
      await watcher.refresh();
      expect(ours(n)).toHaveLength(1); // not reported again, not restarted

      await dockerd.docker(['start', 'dk4']);
      watcher.noteFork(0, (await inspect('dk4')).pid);
      const again = await r.next('start', (c) => c.id === id, n);
      expect(again.reason).toBe('fork');
      await dockerd.docker(['kill', 'dk4']);
      await waitFor('dk4 down', async () => (await inspect('dk4')).pid === 0);
      const m = r.events.length;
      watcher.noteCgroupRmdir(`/docker/${id}`);
      expect(ours(m)).toEqual([expect.objectContaining({ kind: 'stop', reason: 'cgroup_rmdir' })]);
      watcher.noteCgroupRmdir(`/docker/${id}/child`); // not the container's own cgroup: nothing
      expect(ours(m)).toHaveLength(1);
    } finally {
      await watcher.close();
    }
  });

  it('`nstrace containers` prints them (table and --json)', async () => {
    const ins = await inspect('dk1');
    const json = JSON.parse(
      await run('npx', [
        'vite-node',
        'src/cli/main.ts',
        '--',
        'containers',
        '--json',
        '--docker-socket',
        dockerd.socket,
      ]),
    ) as Record<string, unknown>[];
    const c = json.find((x) => x['id'] === ins.id);
    expect(c).toMatchObject({
      name: 'dk1',
      type: 'docker',
      image: 'nstrace-test/bb:1',
      initPid: ins.pid,
      state: 'running',
    });
    expect(c?.['startedAt']).toBe(rfc3339ToNs(ins.started).toString());
    const table = await run('npx', [
      'vite-node',
      'src/cli/main.ts',
      '--',
      'containers',
      '--docker-socket',
      dockerd.socket,
    ]);
    const row = table.split('\n').find((l) => l.includes(ins.id.slice(0, 12)));
    expect(row?.split(/\s+/).slice(0, 6)).toEqual([
      'docker',
      ins.id.slice(0, 12),
      'dk1',
      'nstrace-test/bb:1',
      'running',
      String(ins.pid),
    ]);
    expect(table.split('\n')[0]).toMatch(/^RUNTIME\s+ID\s+NAME\s+IMAGE\s+STATE\s+PID\s+PID_NS\s+USER_NS/);
  });

  it('reports stopped containers gone, and lists them with --all', async () => {
    const ids = (await dockerd.docker(['ps', '-q', '--no-trunc'])).split('\n').filter((x) => x !== '');
    expect(ids.length).toBeGreaterThan(0);
    await dockerd.docker(['stop', '-t', '1', ...ids]);
    const d = await discover(opts());
    for (const id of ids) expect(d.containers.some((c) => c.id === id)).toBe(false);
    const all = await discover({ ...opts(), all: true });
    for (const id of ids) expect(all.containers.find((c) => c.id === id)?.state).toBe('exited');
  });
});

// ---------------------------------------------------------------------------------------------

const podmanSkip =
  capabilityMissing('podman', () => missing('podman', 'runc', 'conmon', 'lsns', 'busybox') || undefined) ??
  '';

describe.skipIf(podmanSkip !== '')('Podman (runc, private storage, API service)', () => {
  let w: Workdir;
  let pm: Podman;
  const opts = (): DiscoverOptions => isolated({ podmanSockets: [pm.socket] });
  const inspect = async (name: string): Promise<{ id: string; pid: number; image: string }> => {
    const [id = '', pid = '0', image = ''] = (
      await pm.podman(['inspect', '--format', '{{.Id}} {{.State.Pid}} {{.ImageName}}', name])
    ).split(' ');
    return { id, pid: Number(pid), image };
  };
  const runDetached = (name: string): Promise<string> =>
    pm.podman(['run', '-d', '--name', name, '--network', 'none', 'localhost/nstrace-bb:1', ...LOOP]);

  beforeAll(async () => {
    w = new Workdir();
    pm = new Podman(w);
    const tar = await w.tar(await w.rootfs());
    await pm.podman(['import', tar, 'localhost/nstrace-bb:1']);
    await pm.startService();
  });
  afterAll(async () => {
    await pm?.stop();
    await w?.remove();
    removeCgroup('libpod_parent');
  });

  it('lists running containers as `podman inspect`, lsns and /proc say', async () => {
    await runDetached('pm1');
    const d = await discover(opts());
    const ins = await inspect('pm1');
    const c = d.containers.find((x) => x.id === ins.id);
    expect(c).toMatchObject({ type: 'podman', name: 'pm1', image: ins.image, key: `podman:${ins.id}` });
    expect(c?.cgroupPath).toBe(`/libpod_parent/libpod-${ins.id}`);
    expect(c?.sources).toEqual(expect.arrayContaining(['cgroup', 'podman-api']));
    if (c) await expectMatchesProc(c, ins.pid);
  });

  it('without the API, conmon still names the container', async () => {
    const ins = await inspect('pm1');
    const d = await discover(isolated({ api: false }));
    const c = d.containers.find((x) => x.id === ins.id);
    expect(c).toMatchObject({ type: 'podman', name: 'pm1', image: '' });
    expect(c?.sources).toEqual(['cgroup', 'parent']);
  });

  it('follows starts, stops and restarts through the libpod event stream', async () => {
    const r = new Recorder();
    const watcher = await watchContainers(r.onStart, r.onStop, {
      ...opts(),
      pollMs: 0,
      onWarning: (m) => r.warnings.push(m),
    });
    try {
      const id2 = await runDetached('pm2');
      const s2 = await r.next('start', (c) => c.id === id2);
      expect(s2.reason).toBe('runtime-event');
      expect(s2.c).toMatchObject({ name: 'pm2', image: 'localhost/nstrace-bb:1' });
      await expectMatchesProc(s2.c, (await inspect('pm2')).pid);

      const mark = r.events.length;
      const old = watcher.current().find((c) => c.name === 'pm1');
      await pm.podman(['restart', '-t', '0', 'pm1']);
      const stop1 = await r.next('stop', (c) => c.name === 'pm1', mark);
      const start1 = await r.next('start', (c) => c.name === 'pm1', mark);
      expect(stop1.c.initPid).toBe(old?.initPid);
      expect(start1.c.key).toBe(old?.key);
      expect(start1.c.initPid).toBe((await inspect('pm1')).pid);
      await expectMatchesProc(start1.c, start1.c.initPid);

      await pm.podman(['stop', '-t', '0', 'pm2']);
      await r.next('stop', (c) => c.id === id2);
      expect(r.warnings).toEqual([]);
    } finally {
      await watcher.close();
    }
  });

  it('reports stopped containers gone', async () => {
    const ins = await inspect('pm1');
    await pm.podman(['stop', '-t', '0', 'pm1']);
    const d = await discover(opts());
    expect(d.containers.some((c) => c.id === ins.id)).toBe(false);
    const all = await discover({ ...opts(), all: true });
    expect(all.containers.find((c) => c.id === ins.id)?.state).toBe('exited');
  });
});

// ---------------------------------------------------------------------------------------------

const lxcSkip =
  capabilityMissing('lxc', () => missing('lxc-start', 'lxc-info', 'lsns', 'busybox') || undefined) ?? '';

describe.skipIf(lxcSkip !== '')('LXC (private lxcpath)', () => {
  let w: Workdir;
  let lxc: Lxc;
  beforeAll(async () => {
    w = new Workdir();
    lxc = new Lxc(w);
    const rootfs = await w.rootfs();
    await lxc.create('lx1', rootfs);
    await lxc.create('lx2', rootfs);
  });
  afterAll(async () => {
    await lxc?.stopAll();
    await w?.remove();
    removeCgroup('lxc.pivot');
  });

  it('lists running containers as lxc-info, lsns and /proc say; defined ones with `all`', async () => {
    const pid = await lxc.start('lx1');
    const d = await discover(isolated({ lxcPaths: [lxc.lxcPath], all: true }));
    const c = d.containers.find((x) => x.key === 'lxc:lx1');
    expect(c).toMatchObject({ type: 'lxc', id: 'lx1', name: 'lx1', cgroupPath: '/lxc.payload.lx1' });
    expect(c?.rootfs).toBe(`${lxc.lxcPath}/lx1/rootfs`);
    expect(c?.labels['lxc.lxcpath']).toBe(lxc.lxcPath);
    expect(c?.sources).toEqual(expect.arrayContaining(['cgroup', 'parent', 'lxc-config']));
    if (c) await expectMatchesProc(c, pid);
    // The cgroup namespace is private (unlike Docker's on this host).
    expect(c?.ns.cgroup).not.toBe((await lsnsOf(process.pid))['cgroup']);
    expect((await run('lxc-ls', ['-P', lxc.lxcPath, '--running'])).split(/\s+/)).toEqual(['lx1']);
    expect(d.containers.find((x) => x.key === 'lxc:lx2')).toMatchObject({ state: 'stopped', initPid: 0 });
  });

  it('keeps the identity across stop and start', async () => {
    const before = (await discover(isolated())).containers.find((c) => c.key === 'lxc:lx1');
    await lxc.stop('lx1');
    expect((await discover(isolated())).containers.some((c) => c.key === 'lxc:lx1')).toBe(false);
    const pid = await lxc.start('lx1');
    const after = (await discover(isolated())).containers.find((c) => c.key === 'lxc:lx1');
    expect(after?.initPid).toBe(pid);
    expect(after?.initPid).not.toBe(before?.initPid);
    if (after) await expectMatchesProc(after, pid);
  });

  it('the watcher sees a start and a stop (polling)', async () => {
    const r = new Recorder();
    const watcher = await watchContainers(r.onStart, r.onStop, { ...isolated(), pollMs: 200 });
    try {
      const pid = await lxc.start('lx2');
      const s = await r.next('start', (c) => c.key === 'lxc:lx2');
      expect(s.c.initPid).toBe(pid);
      await lxc.stop('lx2');
      const e = await r.next('stop', (c) => c.key === 'lxc:lx2');
      expect(e.c.initPid).toBe(pid);
    } finally {
      await watcher.close();
    }
    await lxc.stop('lx1');
    expect(
      (await discover(isolated())).containers.some((c) => c.type === 'lxc' && c.id.startsWith('lx')),
    ).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

const nspawnSkip =
  capabilityMissing('systemd-nspawn', () => missing('systemd-nspawn', 'lsns', 'busybox') || undefined) ?? '';

describe.skipIf(nspawnSkip !== '')('systemd-nspawn (--register=no --keep-unit)', () => {
  let w: Workdir;
  let a: Spawned | undefined;
  let b: Spawned | undefined;
  let rootA = '';
  let rootB = '';
  beforeAll(async () => {
    w = new Workdir();
    rootA = await w.rootfs('nsroot-a');
    rootB = await w.rootfs('nsroot-b');
  });
  afterAll(async () => {
    if (a) await stopNspawn(a, 'nsa', false);
    if (b) await stopNspawn(b, 'nsb', true);
    await w?.remove();
  });

  it('finds a container started from a shell (no machine cgroup) by its pid namespace and nspawn', async () => {
    a = await startNspawn(w, 'nsa', rootA, false);
    const c = (await discover(isolated())).containers.find((x) => x.initPid === a?.initPid);
    expect(c).toMatchObject({ type: 'nspawn', id: 'nsa', name: 'nsa', key: 'nspawn:nsa', rootfs: rootA });
    expect(c?.sources).toEqual(['pidns', 'parent']);
    expect(c?.cgroupPath).toBe(procCgroupPath(a.initPid));
    if (c) await expectMatchesProc(c, a.initPid);
  });

  it('finds a container in a machined-style machine scope by its cgroup; not the nspawn supervisor', async () => {
    b = await startNspawn(w, 'nsb', rootB, true);
    const d = await discover(isolated());
    const c = d.containers.find((x) => x.key === 'nspawn:nsb');
    expect(c).toMatchObject({
      type: 'nspawn',
      name: 'nsb',
      cgroupPath: '/machine.slice/machine-nsb.scope/payload',
    });
    expect(c?.sources).toContain('cgroup');
    expect(c?.pids).not.toContain(b.pid); // systemd-nspawn itself sits in .../supervisor
    if (c) await expectMatchesProc(c, b.initPid);
  });

  it('reports them gone once stopped', async () => {
    const r = new Recorder();
    const watcher = await watchContainers(r.onStart, r.onStop, { ...isolated(), pollMs: 200 });
    try {
      expect(watcher.initial.map((c) => c.key)).toEqual(expect.arrayContaining(['nspawn:nsa', 'nspawn:nsb']));
      if (a) await stopNspawn(a, 'nsa', false);
      a = undefined;
      await r.next('stop', (c) => c.key === 'nspawn:nsa');
      if (b) await stopNspawn(b, 'nsb', true);
      b = undefined;
      await r.next('stop', (c) => c.key === 'nspawn:nsb');
    } finally {
      await watcher.close();
    }
    expect(
      (await discover(isolated())).containers.some((c) => c.type === 'nspawn' && /^ns[ab]$/.test(c.id)),
    ).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

const unshareSkip =
  capabilityMissing('unshare', () => missing('unshare', 'lsns', 'busybox') || undefined) ?? '';

describe.skipIf(unshareSkip !== '')('plain unshare (a bare pid namespace)', () => {
  let w: Workdir | undefined;
  let u: Spawned | undefined;
  afterAll(async () => {
    if (u) await stopUnshare(u);
    await w?.remove();
  });

  it('is a container named by its pid namespace and init comm', async () => {
    w = new Workdir();
    u = await startUnshare(await w.rootfs());
    const init = u.initPid;
    const d = await discover(isolated());
    const c = d.containers.find((x) => x.initPid === init);
    const ns = await lsnsOf(init);
    expect(c).toMatchObject({
      type: 'unshare',
      id: `pidns:${ns['pid']}`,
      name: 'sh',
      key: `unshare:pidns:${ns['pid']}`,
    });
    expect(readFileSync(`/proc/${init}/comm`, 'latin1').trim()).toBe('sh');
    if (c) await expectMatchesProc(c, init);
    // `lsns -t pid` agrees on the namespace and its first process.
    const lsns = await run('lsns', ['-t', 'pid', '-n', '-r', '-o', 'NS,PID']);
    expect(lsns.split('\n')).toContain(`${ns['pid']} ${init}`);
  });

  it('`nstrace containers --watch --json` prints a start line, and ends on SIGINT', async () => {
    const cli = spawn(
      process.execPath,
      [
        'node_modules/vite-node/vite-node.mjs',
        'src/cli/main.ts',
        'containers',
        '--watch',
        '--json',
        '--no-api',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    cli.stdout.on('data', (b: Buffer) => (out += b.toString()));
    cli.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => cli.on('exit', (code) => r(code)));
    let second: Spawned | undefined;
    try {
      const wt = new Workdir();
      try {
        // The initial list comes first; then a container started afterwards is a `start` line.
        await waitFor('the watch to start', () => err.includes('nstrace: watching containers ('), 30_000);
        second = await startUnshare(await wt.rootfs());
        const init = second.initPid;
        const line = await waitFor(
          'a start line',
          () =>
            out
              .split('\n')
              .filter((l) => l.startsWith('{'))
              .map((l) => JSON.parse(l) as { event: string; container: { initPid: number; type: string } })
              .find((e) => e.event === 'start' && e.container.initPid === init) ?? null,
          20_000,
        );
        expect(line.container.type).toBe('unshare');
      } finally {
        if (second) await stopUnshare(second);
        await wt.remove();
      }
    } finally {
      cli.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('is reported gone once its init is killed', async () => {
    const r = new Recorder();
    const watcher = await watchContainers(r.onStart, r.onStop, { ...isolated(), pollMs: 200 });
    try {
      const init = u?.initPid ?? 0;
      expect(watcher.containerOfPid(init)?.type).toBe('unshare');
      if (u) await stopUnshare(u);
      u = undefined;
      const e = await r.next('stop', (c) => c.initPid === init);
      expect(e.c.type).toBe('unshare');
    } finally {
      await watcher.close();
    }
  });
});
