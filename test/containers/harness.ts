/**
 * Starts and stops real containers for the integration tests: Docker (a private dockerd),
 * Podman (private storage and API service), LXC (private lxcpath), systemd-nspawn and unshare,
 * all from a busybox rootfs built here (no image pulls). Everything started is stopped by pid or
 * with the runtime's own commands, and every temporary directory and cgroup is removed.
 * Recipes and the two config fixes (podman: runc + ulimits; LXC: no network, apparmor unconfined)
 * come from docs/research/runtimes.md; they live in files under the temporary directory, the
 * system defaults are not touched.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const pexec = promisify(execFile);

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
}

/** Run a command, return its stdout (trimmed); throws with stderr on failure. */
export async function run(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<string> {
  try {
    const { stdout } = await pexec(cmd, [...args], {
      env: o.env ?? process.env,
      timeout: o.timeoutMs ?? 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

export function which(cmd: string): string | null {
  for (const d of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (existsSync(join(d, cmd))) return join(d, cmd);
  }
  return null;
}

/** Why this machine cannot run the tests of a runtime ('' when it can). */
export function missing(...cmds: string[]): string {
  if (process.getuid?.() !== 0) return 'needs root';
  const absent = cmds.filter((c) => which(c) === null);
  return absent.length > 0 ? `missing ${absent.join(', ')} (run scripts/test-setup.sh)` : '';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `fn` until it returns a value (not undefined/null/false) or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  fn: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function alive(pid: number): boolean {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/\) Z /.test(s);
  } catch {
    return false;
  }
}

export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1').trim();
  } catch {
    return '';
  }
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1')
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Send `signal` to `pid` and wait until it is gone (SIGKILL after `graceMs`). */
export async function stopPid(
  pid: number,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 10_000,
): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const end = Date.now() + graceMs;
  while (alive(pid) && Date.now() < end) await sleep(50);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    while (alive(pid)) await sleep(50);
  }
}

/** Namespace inodes of a process as util-linux `lsns` reports them. */
export async function lsnsOf(pid: number): Promise<Record<string, number>> {
  const out = await run('lsns', ['-p', String(pid), '-n', '-r', '-o', 'NS,TYPE']);
  const ns: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const [inode, type] = line.trim().split(/\s+/);
    if (inode !== undefined && type !== undefined) ns[type] = Number(inode);
  }
  return ns;
}

/** The unified (`0::`) cgroup path of a process, else its name=systemd one. */
export function procCgroupPath(pid: number): string {
  const text = readFileSync(`/proc/${pid}/cgroup`, 'latin1');
  const lines = text.trim().split('\n');
  const u = lines.find((l) => l.startsWith('0::'));
  if (u) return u.slice(3);
  const s = lines.find((l) => l.includes(':name=systemd:'));
  return s ? s.slice(s.indexOf(':name=systemd:') + ':name=systemd:'.length) : '';
}

/** Unmount everything mounted below `dir` (deepest first), then remove it. */
export async function removeTree(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mountinfo', 'latin1')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

/** A temporary work directory with a busybox rootfs (`rootfs/`) and its tar (`rootfs.tar`). */
export class Workdir {
  readonly dir: string;
  constructor(prefix = 'nstrace-ct-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }
  path(...p: string[]): string {
    return join(this.dir, ...p);
  }
  /** Build a busybox rootfs at `<dir>/<name>` (1 MB, < 1 s). */
  async rootfs(name = 'rootfs'): Promise<string> {
    const r = this.path(name);
    for (const d of [
      'bin',
      'sbin',
      'etc',
      'proc',
      'sys',
      'dev',
      'tmp',
      'root',
      'run',
      'var',
      'usr/bin',
      'usr/lib',
    ])
      mkdirSync(join(r, d), { recursive: true });
    copyFileSync('/bin/busybox', join(r, 'bin/busybox'));
    chmodSync(join(r, 'bin/busybox'), 0o755);
    const applets = (await run('/bin/busybox', ['--list'])).split('\n');
    for (const a of applets) if (a !== '' && a !== 'busybox') symlinkSync('busybox', join(r, 'bin', a));
    writeFileSync(join(r, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(r, 'etc/group'), 'root:x:0:\n');
    writeFileSync(join(r, 'etc/os-release'), 'ID=busybox\nNAME=busybox\n');
    return r;
  }
  async tar(rootfs: string, name = 'rootfs.tar'): Promise<string> {
    const t = this.path(name);
    await run('tar', ['-C', rootfs, '-cf', t, '.']);
    return t;
  }
  async remove(): Promise<void> {
    await removeTree(this.dir);
  }
}

export const LOOP = ['/bin/sh', '-c', 'while true; do sleep 1; done'];

// ---------------------------------------------------------------------------------------------
// Docker: a private dockerd (own data root, exec root, socket, no bridge, no iptables).

export class Dockerd {
  readonly socket: string;
  readonly env: NodeJS.ProcessEnv;
  private child: ChildProcess | undefined;
  pid = 0;

  constructor(readonly w: Workdir) {
    this.socket = w.path('docker', 'docker.sock');
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.socket}` };
  }

  async start(): Promise<void> {
    for (const d of ['data', 'exec', '']) mkdirSync(this.w.path('docker', d), { recursive: true });
    const log = this.w.path('docker', 'dockerd.log');
    this.child = spawn(
      'dockerd',
      [
        '--data-root',
        this.w.path('docker', 'data'),
        '--exec-root',
        this.w.path('docker', 'exec'),
        '-H',
        `unix://${this.socket}`,
        '--pidfile',
        this.w.path('docker', 'docker.pid'),
        '--bridge=none',
        '--iptables=false',
        '--ip6tables=false',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'], detached: true },
    );
    this.pid = this.child.pid ?? 0;
    void log;
    await waitFor(
      'dockerd',
      async () =>
        existsSync(this.socket) &&
        (await this.docker(['version', '-f', '{{.Server.Version}}']).catch(() => '')) !== '',
      30_000,
    );
  }

  docker(args: readonly string[]): Promise<string> {
    return run('docker', args, { env: this.env });
  }

  async stop(): Promise<void> {
    if (this.pid === 0) return;
    const ids = (await this.docker(['ps', '-aq']).catch(() => '')).split('\n').filter((x) => x !== '');
    if (ids.length > 0) await this.docker(['rm', '-f', ...ids]).catch(() => undefined);
    const containerd = childrenOf(this.pid);
    await stopPid(this.pid, 'SIGTERM', 15_000);
    for (const c of containerd) await stopPid(c, 'SIGTERM', 5_000);
    this.pid = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Podman: private storage, our own containers.conf (runc, ulimits, cgroupfs, file events), API service.

export class Podman {
  readonly socket: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly base: string[];
  servicePid = 0;

  constructor(readonly w: Workdir) {
    const d = w.path('podman');
    mkdirSync(d, { recursive: true });
    writeFileSync(
      join(d, 'containers.conf'),
      [
        '[containers]',
        // This machine lacks CAP_SYS_RESOURCE: podman's default rlimits cannot be set (runtimes.md).
        'default_ulimits = [ "nofile=20000:20000", "nproc=32768:32768" ]',
        '[engine]',
        // crun refuses cgroup v1/v2 hybrid mode; runc works.
        'runtime = "runc"',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        '',
      ].join('\n'),
    );
    this.socket = join(d, 'podman.sock');
    this.env = { ...process.env, CONTAINERS_CONF: join(d, 'containers.conf') };
    this.base = ['--root', join(d, 'root'), '--runroot', join(d, 'runroot'), '--tmpdir', join(d, 'tmp')];
  }

  podman(args: readonly string[]): Promise<string> {
    return run('podman', [...this.base, ...args], { env: this.env });
  }

  async startService(): Promise<void> {
    const child = spawn('podman', [...this.base, 'system', 'service', '--time=0', `unix://${this.socket}`], {
      env: this.env,
      stdio: 'ignore',
      detached: true,
    });
    this.servicePid = child.pid ?? 0;
    await waitFor('podman service', () => existsSync(this.socket), 30_000);
  }

  async stop(): Promise<void> {
    await this.podman(['rm', '-f', '-a', '-t', '0']).catch(() => undefined);
    if (this.servicePid !== 0) await stopPid(this.servicePid);
    this.servicePid = 0;
    await this.podman(['system', 'reset', '-f']).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// LXC: a private lxcpath; containers from a copied busybox rootfs.

export class Lxc {
  readonly lxcPath: string;
  constructor(readonly w: Workdir) {
    this.lxcPath = w.path('lxc');
    mkdirSync(this.lxcPath, { recursive: true });
  }

  async create(name: string, rootfsSrc: string): Promise<void> {
    const d = join(this.lxcPath, name);
    mkdirSync(d, { recursive: true });
    await run('cp', ['-a', rootfsSrc, join(d, 'rootfs')]);
    writeFileSync(
      join(d, 'config'),
      [
        `lxc.uts.name = ${name}`,
        `lxc.rootfs.path = dir:${join(d, 'rootfs')}`,
        // No lxcbr0 here (lxc-net never runs without systemd) and no AppArmor in this kernel.
        'lxc.net.0.type = empty',
        'lxc.apparmor.profile = unconfined',
        'lxc.autodev = 1',
        'lxc.mount.auto = cgroup:mixed proc:mixed sys:ro',
        '',
      ].join('\n'),
    );
  }

  lxc(tool: string, name: string, args: readonly string[] = []): Promise<string> {
    return run(tool, ['-P', this.lxcPath, '-n', name, ...args]);
  }

  async start(name: string): Promise<number> {
    await this.lxc('lxc-start', name, ['-d', '--', ...LOOP]);
    await this.lxc('lxc-wait', name, ['-s', 'RUNNING', '-t', '15']);
    return Number(await this.lxc('lxc-info', name, ['-pH']));
  }

  async stop(name: string): Promise<void> {
    await this.lxc('lxc-stop', name, ['-k']).catch(() => undefined);
  }

  async stopAll(): Promise<void> {
    for (const n of existsSync(this.lxcPath) ? readdirSync(this.lxcPath) : []) await this.stop(n);
  }
}

// ---------------------------------------------------------------------------------------------
// systemd-nspawn (no systemd as PID 1 here: --register=no --keep-unit), optionally inside a
// machined-style `machine.slice/machine-<name>.scope` cgroup made by a wrapper script.

const CGROUP_ROOT = '/sys/fs/cgroup';

function hierarchies(): string[] {
  return readdirSync(CGROUP_ROOT)
    .map((h) => join(CGROUP_ROOT, h))
    .filter((h) => existsSync(join(h, 'cgroup.procs')));
}

/** Remove a cgroup directory in every hierarchy, children first; only empty ones go. */
export function removeCgroup(rel: string): void {
  for (const h of hierarchies()) {
    const rm = (p: string): void => {
      if (!existsSync(p)) return;
      for (const e of readdirSync(p, { withFileTypes: true })) if (e.isDirectory()) rm(join(p, e.name));
      try {
        rmdirSync(p);
      } catch {
        // busy: someone else's processes are in it
      }
    };
    rm(join(h, rel));
  }
}

export interface Spawned {
  /** The runtime process (systemd-nspawn, unshare). */
  pid: number;
  /** The container's init (pid 1 inside). */
  initPid: number;
}

async function spawnDetached(cmd: string, args: readonly string[], log: string): Promise<number> {
  const child = spawn(cmd, [...args], { stdio: 'ignore', detached: true });
  child.unref();
  void log;
  return waitFor(`${cmd} to start`, () => child.pid ?? null);
}

export async function startNspawn(
  w: Workdir,
  name: string,
  rootfs: string,
  inMachineScope: boolean,
): Promise<Spawned> {
  const nspawnArgs = [
    '-q',
    '-D',
    rootfs,
    '-M',
    name,
    '--register=no',
    '--keep-unit',
    '--console=passive',
    '--',
    ...LOOP,
  ];
  let pid: number;
  if (inMachineScope) {
    const script = w.path(`nspawn-${name}.sh`);
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'set -e',
        `CG=machine.slice/machine-${name}.scope`,
        `for h in ${CGROUP_ROOT}/*/; do`,
        '  [ -f "$h/cgroup.procs" ] || continue',
        '  mkdir -p "$h/$CG"',
        '  if [ -f "$h/cpuset.cpus" ]; then',
        '    cat "$h/cpuset.cpus" > "$h/machine.slice/cpuset.cpus"; cat "$h/cpuset.mems" > "$h/machine.slice/cpuset.mems"',
        '    cat "$h/cpuset.cpus" > "$h/$CG/cpuset.cpus"; cat "$h/cpuset.mems" > "$h/$CG/cpuset.mems"',
        '  fi',
        '  echo $$ > "$h/$CG/cgroup.procs"',
        'done',
        `exec systemd-nspawn ${nspawnArgs.map((a) => `'${a}'`).join(' ')}`,
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    pid = await spawnDetached(script, [], '');
  } else {
    pid = await spawnDetached('systemd-nspawn', nspawnArgs, '');
  }
  const initPid = await waitFor(`nspawn ${name} init`, () => {
    if (!alive(pid)) throw new Error(`systemd-nspawn ${name} exited`);
    // Ready once the init has exec'd the loop and nspawn has put it in its payload cgroup.
    const c = childrenOf(pid).find((p) => commOf(p) === 'sh');
    return c !== undefined && procCgroupPath(c).endsWith('/payload') ? c : null;
  });
  return { pid, initPid };
}

export async function stopNspawn(s: Spawned, name: string, inMachineScope: boolean): Promise<void> {
  await stopPid(s.pid, 'SIGTERM', 10_000);
  if (inMachineScope) removeCgroup(`machine.slice/machine-${name}.scope`);
  removeCgroup('payload');
  removeCgroup('supervisor');
  if (inMachineScope) removeCgroup('machine.slice');
}

// ---------------------------------------------------------------------------------------------
// Plain unshare: new pid/mount/uts/ipc/net/cgroup namespaces, the busybox rootfs as root.

export async function startUnshare(rootfs: string): Promise<Spawned> {
  const pid = await spawnDetached(
    'unshare',
    [
      '--pid',
      '--fork',
      '--kill-child',
      '--mount',
      '--uts',
      '--ipc',
      '--net',
      '--cgroup',
      `--root=${rootfs}`,
      '--mount-proc=/proc',
      ...LOOP,
    ],
    '',
  );
  const initPid = await waitFor('unshare init', () => {
    if (!alive(pid)) throw new Error('unshare exited');
    // Ready once the child has exec'd the loop (before that its comm is still `unshare`).
    return childrenOf(pid).find((c) => commOf(c) === 'sh') ?? null;
  });
  return { pid, initPid };
}

export async function stopUnshare(s: Spawned): Promise<void> {
  // The namespace's init has no SIGTERM handler: only SIGKILL ends it; unshare then exits.
  await stopPid(s.initPid, 'SIGKILL');
  await stopPid(s.pid, 'SIGTERM', 5_000);
}
