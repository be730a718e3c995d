/**
 * Container discovery on a live host.
 *
 * 1. Scan `/proc`: every process's cgroup lines, pid namespace, parent and start time.
 * 2. Group processes into containers: by the cgroup rule that matches (cgroup-rules.ts), then the
 *    processes left over that live in a non-host pid namespace, by namespace ("bare" containers).
 * 3. For each container pick its init (pid 1 of its pid namespace, else its topmost process), read
 *    the init's namespace inodes, and ask the init's parent (shim, conmon, LXC monitor, nspawn).
 * 4. Enrich from the runtimes' own APIs and files (Docker, Podman, LXD, CRI-O sockets; LXC
 *    configs; OCI bundles; machined state), each call bounded by a timeout. A missing or dead
 *    socket is a warning, never an error: the cgroup rules still hold.
 */
import { existsSync } from 'node:fs';
import { matchCgroupLines, parseProcCgroup, representativeCgroupPath } from './cgroup-rules.js';
import type { CgroupMatch } from './cgroup-rules.js';
import { parentHint } from './parent-rules.js';
import type { ParentHint } from './parent-rules.js';
import { ProcFs } from './procfs.js';
import { inspectCrio, DEFAULT_CRIO_SOCKETS } from './runtimes/crio.js';
import { DEFAULT_DOCKER_SOCKETS, listDocker } from './runtimes/docker.js';
import { DEFAULT_LXC_PATHS, listLxcDefined, readLxcContainer } from './runtimes/lxc.js';
import { DEFAULT_LXD_SOCKETS, listLxd } from './runtimes/lxd.js';
import { DEFAULT_MACHINES_DIR, readMachineState } from './runtimes/machined.js';
import { findBundle } from './runtimes/oci-bundle.js';
import { defaultPodmanSockets, listPodman } from './runtimes/podman.js';
import { kubernetesFromLabels, mapLimit } from './runtimes/types.js';
import type { RuntimeContainer } from './runtimes/types.js';
import { emptyNamespaces, identityKey } from './types.js';
import type { ContainerInfo, ContainerType } from './types.js';

export interface DiscoverOptions {
  /** procfs mount (default `/proc`). */
  procRoot?: string;
  /** Ask the runtimes' APIs and read their files (default true). False: cgroup/procfs rules only. */
  api?: boolean;
  /** Timeout of each runtime API call, ms (default 500). */
  timeoutMs?: number;
  dockerSockets?: string[];
  podmanSockets?: string[];
  lxdSockets?: string[];
  crioSockets?: string[];
  /** LXC paths whose defined containers are listed with `all` (default `/var/lib/lxc` plus every running monitor's). */
  lxcPaths?: string[];
  machinesDir?: string;
  /** Also list containers the runtimes know that are not running (state from the runtime, no pid). */
  all?: boolean;
  /** Receives one line per degraded source (dead socket, API error). */
  onWarning?: (message: string) => void;
}

/** One process of the scan. `ppid`, `comm` and `startTicks` are read only for processes of containers (else -1, '', 0). */
export interface ProcEntry {
  pid: number;
  ppid: number;
  comm: string;
  pidNs: number;
  startTicks: number;
  cgroupText: string;
  match: CgroupMatch | null;
}

export interface HostScan {
  hostPidNs: number;
  procs: Map<number, ProcEntry>;
}

/**
 * The pid namespace of the host (of our procfs view): pid 1's, else kthreadd's (kernel threads
 * live in the initial namespace; some hosts deny reading pid 1's links), else our own.
 */
export function hostPidNamespace(proc: ProcFs): number {
  const one = proc.nsInode(1, 'pid');
  if (one !== 0) return one;
  if (proc.stat(2)?.comm === 'kthreadd') {
    const two = proc.nsInode(2, 'pid');
    if (two !== 0) return two;
  }
  return proc.nsInode('self', 'pid');
}

/**
 * Read every process once: its cgroup file and pid namespace link; and, for the processes of
 * containers only, its `stat`. Cgroup rules are evaluated once per distinct cgroup file content.
 */
export function scanProcesses(proc: ProcFs): HostScan {
  const hostPidNs = hostPidNamespace(proc);
  const procs = new Map<number, ProcEntry>();
  const matchCache = new Map<string, CgroupMatch | null>();
  for (const pid of proc.listPids()) {
    const cgroupText = proc.readText(pid, 'cgroup');
    if (cgroupText === null) continue;
    const pidNs = proc.nsInode(pid, 'pid');
    if (pidNs === 0) continue; // gone meanwhile, or not ours to read
    let match = matchCache.get(cgroupText);
    if (match === undefined) {
      match = matchCgroupLines(parseProcCgroup(cgroupText));
      matchCache.set(cgroupText, match);
    }
    const e: ProcEntry = { pid, ppid: -1, comm: '', pidNs, startTicks: 0, cgroupText, match };
    if ((match !== null || pidNs !== hostPidNs) && !readStat(e, proc)) continue;
    procs.set(pid, e);
  }
  return { hostPidNs, procs };
}

/**
 * Fill `ppid`, `comm`, `startTicks` of an entry; false when the process is gone or exiting. An
 * exiting process belongs to no running container: during a restart, the old instance's init
 * can still be there, exiting, in the container's cgroup beside the new one (and it started
 * first, which would make it the init).
 */
function readStat(e: ProcEntry, proc: ProcFs): boolean {
  if (e.ppid >= 0) return true;
  const st = proc.stat(e.pid);
  if (st === null || st.exiting) return false;
  e.ppid = st.ppid;
  e.comm = st.comm;
  e.startTicks = st.startTicks;
  return true;
}

/** A group of processes that form one container, before enrichment. */
interface Group {
  match: CgroupMatch | null;
  pidNs: number;
  members: ProcEntry[];
}

/** The group key of a process (null: a host process). */
function groupKey(p: ProcEntry, hostPidNs: number): string | null {
  if (p.match) return `cg:${p.match.type}:${p.match.id}`;
  if (p.pidNs !== hostPidNs) return `ns:${p.pidNs}`;
  return null;
}

export function groupProcesses(scan: HostScan): Group[] {
  const groups = new Map<string, Group>();
  for (const p of scan.procs.values()) {
    const k = groupKey(p, scan.hostPidNs);
    if (k === null) continue;
    let g = groups.get(k);
    if (!g) {
      g = { match: p.match, pidNs: p.match ? 0 : p.pidNs, members: [] };
      groups.set(k, g);
    }
    g.members.push(p);
  }
  return [...groups.values()];
}

/**
 * The init of a group: among its processes in a non-host pid namespace (if any), the one that is
 * pid 1 of the shallowest namespace; else the earliest-started process whose parent is outside.
 */
export function pickInit(members: readonly ProcEntry[], hostPidNs: number, proc: ProcFs): ProcEntry | null {
  const inNs = members.filter((p) => p.pidNs !== hostPidNs);
  const pool = inNs.length > 0 ? inNs : members;
  const inside = new Set(pool.map((p) => p.pid));
  const tops = pool.filter((p) => !inside.has(p.ppid));
  const byStart = (a: ProcEntry, b: ProcEntry): number => a.startTicks - b.startTicks || a.pid - b.pid;
  if (inNs.length > 0) {
    let best: ProcEntry | null = null;
    let bestDepth = Infinity;
    for (const p of [...tops].sort(byStart)) {
      const nsp = proc.nsPids(p.pid);
      if (nsp === null || nsp[nsp.length - 1] !== 1) continue;
      if (nsp.length < bestDepth) {
        best = p;
        bestDepth = nsp.length;
      }
    }
    if (best) return best;
  }
  return [...(tops.length > 0 ? tops : pool)].sort(byStart)[0] ?? null;
}

function newInfo(type: ContainerType, id: string): ContainerInfo {
  return {
    key: '',
    id,
    name: '',
    type,
    runtime: type,
    image: '',
    state: 'running',
    initPid: 0,
    ns: emptyNamespaces(),
    cgroupPath: '',
    podName: '',
    podNamespace: '',
    podUid: '',
    startedAt: 0n,
    pids: [],
    labels: {},
    rootfs: '',
    sources: [],
  };
}

/** What the scan alone tells about one container, plus the parent hint (kept for enrichment). */
export interface ScannedContainer {
  info: ContainerInfo;
  hint: ParentHint | null;
  parentPid: number;
}

function buildFromGroup(g: Group, scan: HostScan, proc: ProcFs): ScannedContainer | null {
  const init = pickInit(g.members, scan.hostPidNs, proc);
  if (!init) return null;
  const parent = proc.stat(init.ppid);
  const hint = parent ? parentHint(parent.comm, proc.cmdline(parent.pid)) : null;
  let info: ContainerInfo;
  if (g.match) {
    const m = g.match;
    let type = m.type;
    // A bare id under no known parent cgroup: the shim or conmon above the init tells the engine.
    if (type === 'oci' && hint && (hint.id === m.id || hint.id === '') && hint.type !== 'unshare')
      type = hint.type;
    info = newInfo(type, m.id);
    info.runtime = type === 'k8s' ? m.runtime : type;
    info.name = m.name !== '' ? m.name : hint && hint.id === m.id ? hint.name : '';
    info.podUid = m.podUid;
    info.sources.push('cgroup');
  } else {
    // A bare pid namespace: named by the runtime above it if we know one, else by its init.
    if (hint && hint.type !== 'unshare' && hint.type !== 'k8s' && hint.id !== '') {
      info = newInfo(hint.type, hint.id);
      info.name = hint.name !== '' ? hint.name : init.comm;
      info.sources.push('pidns', 'parent');
    } else {
      info = newInfo('unshare', `pidns:${g.pidNs}`);
      info.name = init.comm;
      info.sources.push('pidns');
    }
  }
  if (hint && info.sources.includes('cgroup') && hint.id === info.id && hint.name !== '')
    info.sources.push('parent');
  if (hint && hint.rootfs !== '') info.rootfs = hint.rootfs;
  info.initPid = init.pid;
  info.ns = proc.namespaces(init.pid);
  if (info.ns.pid === 0) return null; // the init exited meanwhile
  info.cgroupPath = representativeCgroupPath(parseProcCgroup(init.cgroupText));
  info.startedAt = proc.startTimeNs(init.startTicks);
  info.pids = g.members.map((p) => p.pid).sort((a, b) => a - b);
  return { info, hint, parentPid: parent?.pid ?? 0 };
}

/** Build a container from a runtime's record whose init pid the scan did not group (other cgroup layout). */
function buildFromRuntimePid(rc: RuntimeContainer, scan: HostScan, proc: ProcFs): ContainerInfo | null {
  const init = scan.procs.get(rc.pid);
  if (!init || !readStat(init, proc)) return null;
  const info = newInfo(rc.type, rc.id);
  info.initPid = init.pid;
  info.ns = proc.namespaces(init.pid);
  if (info.ns.pid === 0) return null;
  info.cgroupPath = representativeCgroupPath(parseProcCgroup(init.cgroupText));
  info.startedAt = proc.startTimeNs(init.startTicks);
  // Its processes: those in the same cgroup file as the init, plus its pid namespace if private.
  info.pids = [...scan.procs.values()]
    .filter(
      (p) => p.cgroupText === init.cgroupText && (p.pidNs === init.pidNs || init.pidNs === scan.hostPidNs),
    )
    .map((p) => p.pid)
    .sort((a, b) => a - b);
  return info;
}

function stoppedFromRuntime(rc: RuntimeContainer): ContainerInfo {
  const info = newInfo(rc.type, rc.id);
  info.state = rc.state !== '' ? rc.state : 'stopped';
  return info;
}

/** Fold what a runtime says into a container found on the host. */
function applyRuntime(info: ContainerInfo, rc: RuntimeContainer): void {
  if (rc.name !== '') info.name = rc.name;
  if (rc.image !== '') info.image = rc.image;
  if (rc.state !== '' && info.initPid === 0) info.state = rc.state;
  else if (rc.state === 'paused' || rc.state === 'frozen') info.state = rc.state;
  // The runtime's own start time is exact (Docker inspect); others are coarser than procfs.
  if (rc.startedAt !== 0n && (rc.source === 'docker-api' || info.startedAt === 0n))
    info.startedAt = rc.startedAt;
  Object.assign(info.labels, rc.labels);
  if (rc.podName !== '') info.podName = rc.podName;
  if (rc.podNamespace !== '') info.podNamespace = rc.podNamespace;
  if (rc.podUid !== '') info.podUid = rc.podUid;
  if (rc.rootfs !== '' && info.rootfs === '') info.rootfs = rc.rootfs;
  if (rc.type === 'k8s' || info.podUid !== '' || info.podName !== '') {
    info.type = 'k8s';
    if (info.runtime === '' || info.runtime === 'k8s' || info.runtime === 'oci') info.runtime = rc.runtime;
  } else if (info.type === 'oci' || (info.type === 'lxc' && rc.type === 'lxd')) {
    info.type = rc.type;
    info.runtime = rc.runtime;
  }
  if (!info.sources.includes(rc.source)) info.sources.push(rc.source);
}

function warnFor(opts: DiscoverOptions, msg: string): void {
  opts.onWarning?.(msg);
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Query every socket of one runtime; warnings for dead ones, and for none when containers need it. */
async function queryApi(
  what: string,
  sockets: readonly string[],
  needed: boolean,
  list: (socket: string) => Promise<RuntimeContainer[]>,
  opts: DiscoverOptions,
): Promise<RuntimeContainer[]> {
  const present = sockets.filter((s) => existsSync(s));
  if (present.length === 0) {
    if (needed)
      warnFor(
        opts,
        `${what}: no API socket (${sockets.join(', ')}); names and images of its containers are unknown (cgroup rules only)`,
      );
    return [];
  }
  const results = await Promise.all(
    present.map(async (s) => {
      try {
        return await list(s);
      } catch (e) {
        warnFor(opts, `${what}: API at ${s} failed (${errText(e)}); using cgroup rules only`);
        return [];
      }
    }),
  );
  return results.flat();
}

export interface Discovery {
  containers: ContainerInfo[];
  hostPidNs: number;
  /** The scan the containers were built from (the watcher reuses it). */
  scan: HostScan;
}

/** The containers of one `/proc` scan, before any runtime is asked. */
export interface Scanned {
  proc: ProcFs;
  scan: HostScan;
  found: ScannedContainer[];
}

/** Scan `/proc` and group processes into containers (synchronous; no runtime API). */
export function scanContainers(proc: ProcFs): Scanned {
  const scan = scanProcesses(proc);
  const found: ScannedContainer[] = [];
  for (const g of groupProcesses(scan)) {
    const b = buildFromGroup(g, scan, proc);
    if (b) found.push(b);
  }
  return { proc, scan, found };
}

/**
 * Ask the runtimes (APIs with timeouts, LXC configs, OCI bundles, machined) about `targets`
 * (default: every scanned container) and fold the answers into their `info`. Returns the
 * containers the runtimes know that the scan did not group (another cgroup layout), and, with
 * `opts.all`, the non-running ones.
 */
export async function enrichContainers(
  s: Scanned,
  opts: DiscoverOptions = {},
  targets: readonly ScannedContainer[] = s.found,
): Promise<ContainerInfo[]> {
  const { proc, scan } = s;
  const built = targets;
  const timeoutMs = opts.timeoutMs ?? 500;
  const byId = new Map<string, ContainerInfo>();
  for (const b of s.found) byId.set(b.info.id, b.info);
  const extra: ContainerInfo[] = [];
  const has = (pred: (c: ContainerInfo) => boolean): boolean => built.some((b) => pred(b.info));
  // A whole discovery asks every runtime whose socket is there (it may know containers the scan
  // did not group); the watcher's questions about a few new containers go only where they belong.
  const whole = targets === s.found;
  const maybe = (types: readonly string[]): boolean =>
    whole || has((c) => types.includes(c.type) || types.includes(c.runtime));
  const skip = async (): Promise<RuntimeContainer[]> => [];
  const [docker, podman, lxd] = await Promise.all([
    maybe(['docker', 'oci', 'k8s'])
      ? queryApi(
          'docker',
          opts.dockerSockets ?? DEFAULT_DOCKER_SOCKETS,
          has((c) => c.type === 'docker' || (c.type === 'k8s' && c.runtime === 'docker')),
          (sock) => listDocker(sock, timeoutMs),
          opts,
        )
      : skip(),
    maybe(['podman', 'oci'])
      ? queryApi(
          'podman',
          opts.podmanSockets ?? defaultPodmanSockets(),
          has((c) => c.type === 'podman'),
          (sock) => listPodman(sock, timeoutMs),
          opts,
        )
      : skip(),
    maybe(['lxc'])
      ? queryApi(
          'lxd',
          opts.lxdSockets ?? DEFAULT_LXD_SOCKETS,
          false,
          (sock) => listLxd(sock, timeoutMs),
          opts,
        )
      : skip(),
  ]);

  // CRI-O: one inspect per container it may own.
  const crioSocket = (opts.crioSockets ?? DEFAULT_CRIO_SOCKETS).find((s) => existsSync(s));
  const crioTargets = built.filter(
    (b) => b.info.runtime === 'cri-o' || (b.info.type === 'k8s' && b.info.runtime === ''),
  );
  let crio: RuntimeContainer[] = [];
  if (crioSocket !== undefined && crioTargets.length > 0) {
    const got = await mapLimit(crioTargets, 8, async (b) => {
      try {
        return await inspectCrio(crioSocket, b.info.id, timeoutMs);
      } catch (e) {
        if (b.info.runtime === 'cri-o') warnFor(opts, `cri-o: API at ${crioSocket} failed (${errText(e)})`);
        return null;
      }
    });
    crio = got.filter((x): x is RuntimeContainer => x !== null);
  } else if (crioTargets.some((b) => b.info.runtime === 'cri-o')) {
    warnFor(
      opts,
      `cri-o: no API socket (${(opts.crioSockets ?? DEFAULT_CRIO_SOCKETS).join(', ')}); using cgroup rules only`,
    );
  }

  // OCI bundles (annotations: Kubernetes identity under containerd and CRI-O) and LXC/machined files.
  for (const b of built) {
    const c = b.info;
    if (c.type === 'lxc') {
      const lxcPath = b.hint?.lxcPath || DEFAULT_LXC_PATHS[0] || '/var/lib/lxc';
      const rc = readLxcContainer(lxcPath, c.id);
      if (rc) applyRuntime(c, { ...rc, state: '' });
    } else if (c.type === 'nspawn') {
      const m = readMachineState(c.name, opts.machinesDir ?? DEFAULT_MACHINES_DIR);
      if (m) {
        if (m.root !== '' && c.rootfs === '') c.rootfs = m.root;
        c.sources.push('machined');
      }
    } else if (c.type !== 'unshare' && /^[0-9a-f]{64}$/.test(c.id)) {
      const dirs: string[] = [];
      if (b.hint?.bundle) dirs.push(b.hint.bundle);
      if (
        b.parentPid > 0 &&
        b.hint &&
        (b.hint.type === 'docker' || b.hint.type === 'k8s' || b.hint.type === 'containerd')
      ) {
        const cwd = proc.link(b.parentPid, 'cwd');
        if (cwd !== null)
          dirs.push(cwd.endsWith(`/${c.id}`) ? cwd : `${cwd.slice(0, cwd.lastIndexOf('/'))}/${c.id}`);
      }
      const bundle = findBundle(c.id, dirs);
      if (bundle) {
        const k = kubernetesFromLabels(bundle.annotations);
        Object.assign(c.labels, bundle.annotations);
        if (k.podName !== '') c.podName = k.podName;
        if (k.podNamespace !== '') c.podNamespace = k.podNamespace;
        if (k.podUid !== '') c.podUid = k.podUid;
        if (k.containerName !== '' && c.name === '') c.name = k.containerName;
        if (k.image !== '' && c.image === '') c.image = k.image;
        if (c.type === 'k8s' && c.runtime === '') {
          if (bundle.annotations['io.kubernetes.cri.container-type'] !== undefined) c.runtime = 'containerd';
          else if (bundle.annotations['io.kubernetes.cri-o.ContainerType'] !== undefined) c.runtime = 'cri-o';
        }
        c.sources.push('oci-bundle');
      }
    }
  }

  for (const rc of [...docker, ...podman, ...lxd, ...crio]) {
    const known = byId.get(rc.id);
    if (known) {
      applyRuntime(known, rc);
      continue;
    }
    if (rc.running && rc.pid > 0) {
      const info = buildFromRuntimePid(rc, scan, proc);
      if (info) {
        applyRuntime(info, rc);
        byId.set(info.id, info);
        extra.push(info);
        continue;
      }
    }
    if (opts.all === true && !rc.running) {
      const info = stoppedFromRuntime(rc);
      applyRuntime(info, rc);
      byId.set(info.id, info);
      extra.push(info);
    }
  }

  if (opts.all === true) {
    const lxcPaths = new Set([...(opts.lxcPaths ?? []), ...DEFAULT_LXC_PATHS]);
    for (const b of built) if (b.hint?.lxcPath) lxcPaths.add(b.hint.lxcPath);
    for (const rc of listLxcDefined([...lxcPaths])) {
      if (byId.has(rc.id)) continue;
      const info = stoppedFromRuntime(rc);
      applyRuntime(info, rc);
      byId.set(info.id, info);
      extra.push(info);
    }
  }
  return extra;
}

/** Set identity keys and sort (by type, name, id). */
export function finishList(containers: ContainerInfo[]): ContainerInfo[] {
  for (const c of containers) c.key = identityKey(c);
  return containers.sort(
    (a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
  );
}

/** Every container on the host (see module comment), with details. */
export async function discover(opts: DiscoverOptions = {}): Promise<Discovery> {
  const s = scanContainers(new ProcFs(opts.procRoot ?? '/proc'));
  const extra = opts.api === false ? [] : await enrichContainers(s, opts);
  const containers = finishList([...s.found.map((b) => b.info), ...extra]);
  return { containers, hostPidNs: s.scan.hostPidNs, scan: s.scan };
}

/** Every container on the host: the snapshot the recorder writes as `nstrace_container_statedump`. */
export async function discoverContainers(opts: DiscoverOptions = {}): Promise<ContainerInfo[]> {
  return (await discover(opts)).containers;
}

/**
 * The container process `pid` is in, or null for a host process. This runs a whole discovery;
 * a recorder that asks often should use `ContainerWatcher.containerOfPid` instead.
 */
export async function containerOfPid(pid: number, opts: DiscoverOptions = {}): Promise<ContainerInfo | null> {
  const { containers } = await discover(opts);
  return containers.find((c) => c.pids.includes(pid)) ?? null;
}
