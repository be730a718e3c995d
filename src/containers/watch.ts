/**
 * Follow containers as they come and go during a recording.
 *
 * The watcher keeps the set of running containers and reports each change once: a new container
 * (`onStart`), a gone one (`onStop`), and a restart (same identity, new init) as a stop then a
 * start. It learns of changes from four sources, cheapest first:
 * - the recorder's notifications: `noteExit(pid)` of a container's init and `noteCgroupRmdir` of
 *   its cgroup stop it at once (synchronously, so the recorder can write the stop event at that
 *   point of the trace); `noteCgroupMkdir` of a container cgroup and `noteFork` into an unknown
 *   pid namespace trigger a rescan soon (the new container's processes join a moment later);
 * - the Docker and Podman event streams, when their sockets are there (start/die -> rescan);
 * - a periodic poll (default every second): a cheap check of `/proc` (one readlink per process),
 *   a full rescan when it finds a change, and every tenth poll anyway (see `poll`);
 * - `refresh()`, on demand.
 * A rescan reads only `/proc`. Runtimes are asked (with the per-call timeout) only about
 * containers not seen before, and their answer is kept per container id, so a restarted Docker
 * container gets its name and image back without another call.
 */
import { existsSync } from 'node:fs';
import { classifyPath, matchCgroupLines, parseProcCgroup } from './cgroup-rules.js';
import { enrichContainers, finishList, scanContainers } from './discover.js';
import type { DiscoverOptions, ScannedContainer } from './discover.js';
import type { CgroupMatch } from './cgroup-rules.js';
import type { JsonStream } from './http-unix.js';
import { ProcFs } from './procfs.js';
import { DEFAULT_DOCKER_SOCKETS, watchDockerEvents } from './runtimes/docker.js';
import type { RuntimeEvent } from './runtimes/docker.js';
import { defaultPodmanSockets, watchPodmanEvents } from './runtimes/podman.js';
import type { ContainerInfo, DiscoverySource } from './types.js';

export type ChangeReason =
  'poll' | 'refresh' | 'cgroup_mkdir' | 'cgroup_rmdir' | 'fork' | 'exit' | 'runtime-event';

export interface WatchHandlers {
  onStart(c: ContainerInfo, reason: ChangeReason): void;
  onStop(c: ContainerInfo, reason: ChangeReason): void;
  onWarning?(message: string): void;
}

export interface WatchOptions extends Omit<DiscoverOptions, 'all' | 'onWarning'> {
  /** Rescan `/proc` every `pollMs` ms (default 1000; 0: only on notifications and runtime events). */
  pollMs?: number;
  /** Follow the Docker/Podman event streams (default true unless `api` is false). */
  runtimeEvents?: boolean;
}

/** What enrichment added to a container, kept per scan identity and re-applied on every rescan. */
interface Enrichment {
  name: string;
  type: ContainerInfo['type'];
  runtime: string;
  image: string;
  labels: Record<string, string>;
  podName: string;
  podNamespace: string;
  podUid: string;
  rootfs: string;
  sources: DiscoverySource[];
}

function scanIdentity(b: ScannedContainer): string {
  return `${b.info.type}:${b.info.id}`;
}

function snapshotEnrichment(c: ContainerInfo): Enrichment {
  return {
    name: c.name,
    type: c.type,
    runtime: c.runtime,
    image: c.image,
    labels: { ...c.labels },
    podName: c.podName,
    podNamespace: c.podNamespace,
    podUid: c.podUid,
    rootfs: c.rootfs,
    sources: [...c.sources],
  };
}

function applyEnrichment(c: ContainerInfo, e: Enrichment): void {
  c.name = e.name;
  c.type = e.type;
  c.runtime = e.runtime;
  c.image = e.image;
  c.labels = { ...e.labels };
  c.podName = e.podName;
  c.podNamespace = e.podNamespace;
  c.podUid = e.podUid;
  c.rootfs = e.rootfs;
  c.sources = [...e.sources];
}

/** Every this many polls, a full rescan even when the quick check finds nothing. */
const FULL_SCAN_EVERY = 10;

/** Retry delays (ms) after a container cgroup appeared, until its processes are seen. */
const MKDIR_RETRIES = [20, 50, 100, 200, 400, 800, 1600];

export class ContainerWatcher {
  /** The running containers when the watcher started (for the recorder's statedump). */
  initial: readonly ContainerInfo[] = [];

  private readonly proc: ProcFs;
  private readonly known = new Map<string, ContainerInfo>();
  private readonly cache = new Map<string, Enrichment>();
  /** (key, init pid) of containers stopped by a notification: a scan still showing them is stale. */
  private readonly tombstones = new Map<string, number>();
  private readonly streams: JsonStream[] = [];
  private readonly matchCache = new Map<string, CgroupMatch | null>();
  /** Non-host pid namespaces of the processes of the last full rescan. */
  private readonly seenPidNs = new Set<number>();
  private pollsSinceFull = 0;
  private hostPidNs = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private soonAt = Infinity;
  private running: Promise<void> | null = null;
  private again: ChangeReason | null = null;
  private closed = false;
  private readonly pendingMkdirs = new Map<string, number>(); // container id -> retries done

  private constructor(
    private readonly handlers: WatchHandlers,
    private readonly opts: WatchOptions,
  ) {
    this.proc = new ProcFs(opts.procRoot ?? '/proc');
  }

  /** Take the initial snapshot (asking the runtimes), then follow changes. */
  static async start(handlers: WatchHandlers, opts: WatchOptions = {}): Promise<ContainerWatcher> {
    const w = new ContainerWatcher(handlers, opts);
    await w.rescan('refresh', true);
    w.initial = [...w.known.values()];
    if (opts.api !== false && opts.runtimeEvents !== false) w.subscribe();
    const pollMs = opts.pollMs ?? 1000;
    if (pollMs > 0) w.pollTimer = setInterval(() => w.poll(), pollMs);
    return w;
  }

  /** The running containers as last seen. */
  current(): ContainerInfo[] {
    return finishList([...this.known.values()]);
  }

  /**
   * The known container process `pid` belongs to, or null (host, gone, or a container not seen
   * yet). Reads `/proc/<pid>/cgroup` and `/proc/<pid>/ns/pid`: a few microseconds.
   */
  containerOfPid(pid: number): ContainerInfo | null {
    const cg = this.proc.readText(pid, 'cgroup');
    if (cg !== null) {
      let m = this.matchCache.get(cg);
      if (m === undefined) {
        if (this.matchCache.size >= 4096) this.matchCache.clear();
        m = matchCgroupLines(parseProcCgroup(cg));
        this.matchCache.set(cg, m);
      }
      if (m) {
        for (const c of this.known.values()) if (c.id === m.id) return c;
      }
    }
    const ns = this.proc.nsInode(pid, 'pid');
    if (ns === 0 || ns === this.hostPidNs) return null;
    for (const c of this.known.values()) if (c.ns.pid === ns) return c;
    return null;
  }

  /** A cgroup directory was created (`cgroup_mkdir`); `path` is relative to its hierarchy root. */
  noteCgroupMkdir(path: string): void {
    const m = classifyPath(path);
    if (m === null || m === 'helper') return;
    if (this.findById(m.id)) return;
    if (!this.pendingMkdirs.has(m.id)) this.pendingMkdirs.set(m.id, 0);
    this.soon(MKDIR_RETRIES[0] ?? 20, 'cgroup_mkdir');
  }

  /** A cgroup directory was removed (`cgroup_rmdir`): if it was a container's own cgroup, it stopped. */
  noteCgroupRmdir(path: string): void {
    const m = classifyPath(path);
    if (m === null || m === 'helper' || m.cgroup !== path.replace(/\/+$/, '')) return;
    this.pendingMkdirs.delete(m.id);
    const c = this.findById(m.id);
    if (c) this.stopNow(c, 'cgroup_rmdir');
  }

  /**
   * A process forked (`sched_process_fork`). If the child is in a pid namespace no known container
   * owns, a container may be starting: rescan soon. Pass the child's pid namespace inode when the
   * trace has it (`_pid_ns` context), to spare a readlink.
   */
  noteFork(_parentPid: number, childPid: number, childPidNs?: number): void {
    const ns = childPidNs ?? this.proc.nsInode(childPid, 'pid');
    if (ns === 0 || ns === this.hostPidNs) return;
    for (const c of this.known.values()) if (c.ns.pid === ns) return;
    this.soon(20, 'fork');
  }

  /** A process exited (`sched_process_exit` of the thread-group leader): the end of a container whose init it was. */
  noteExit(pid: number): void {
    for (const c of this.known.values()) {
      if (c.initPid === pid) {
        this.stopNow(c, 'exit');
        return;
      }
    }
  }

  /** Rescan now; resolves when the callbacks for what changed have run. */
  refresh(reason: ChangeReason = 'refresh'): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.again = this.again ?? reason;
      return this.running;
    }
    this.running = this.rescan(reason, false)
      .catch((e: unknown) =>
        this.warn(`container rescan failed: ${e instanceof Error ? e.message : String(e)}`),
      )
      .finally(() => {
        this.running = null;
        const again = this.again;
        this.again = null;
        if (again !== null && !this.closed) void this.refresh(again);
      });
    return this.running;
  }

  /** Stop following: timers, event streams. Pending callbacks are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.soonTimer);
    for (const s of this.streams) s.close();
    await Promise.all(this.streams.map((s) => s.ended));
    if (this.running) await this.running.catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------

  private warn(msg: string): void {
    try {
      this.handlers.onWarning?.(msg);
    } catch {
      // a failing warning handler must not stop the watcher
    }
  }

  private findById(id: string): ContainerInfo | undefined {
    for (const c of this.known.values()) if (c.id === id) return c;
    return undefined;
  }

  private soon(delayMs: number, reason: ChangeReason): void {
    if (this.closed) return;
    const at = Date.now() + delayMs;
    if (this.soonTimer !== undefined && this.soonAt <= at) return;
    clearTimeout(this.soonTimer);
    this.soonAt = at;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      this.soonAt = Infinity;
      void this.refresh(reason);
    }, delayMs);
  }

  private emit(kind: 'start' | 'stop', c: ContainerInfo, reason: ChangeReason): void {
    try {
      if (kind === 'start') this.handlers.onStart(c, reason);
      else this.handlers.onStop(c, reason);
    } catch (e) {
      this.warn(`container ${kind} handler failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private stopNow(c: ContainerInfo, reason: ChangeReason): void {
    if (!this.known.delete(c.key)) return;
    this.tombstones.set(c.key, c.initPid);
    this.emit('stop', c, reason);
  }

  /**
   * A periodic poll. A full rescan reads every process's cgroup file; most polls only check what
   * is cheap (one readlink per process): that every known init is still there, and that no
   * process is in a pid namespace the last rescan did not see. A full rescan runs when either
   * fails, and every `FULL_SCAN_EVERY` polls regardless (containers sharing the host's pid
   * namespace, e.g. `docker run --pid=host`, are only seen then).
   */
  poll(): void {
    if (this.closed || this.running) return;
    if (++this.pollsSinceFull >= FULL_SCAN_EVERY || this.quickCheckFails()) void this.refresh('poll');
  }

  /** True when something may have changed since the last full rescan. */
  quickCheckFails(): boolean {
    for (const c of this.known.values()) if (this.proc.nsInode(c.initPid, 'pid') !== c.ns.pid) return true;
    for (const pid of this.proc.listPids()) {
      const ns = this.proc.nsInode(pid, 'pid');
      if (ns !== 0 && ns !== this.hostPidNs && !this.seenPidNs.has(ns)) return true;
    }
    return false;
  }

  private async rescan(reason: ChangeReason, first: boolean): Promise<void> {
    const s = scanContainers(this.proc);
    this.hostPidNs = s.scan.hostPidNs;
    this.pollsSinceFull = 0;
    this.seenPidNs.clear();
    for (const p of s.scan.procs.values()) if (p.pidNs !== this.hostPidNs) this.seenPidNs.add(p.pidNs);
    // Re-apply what runtimes said before; ask them only about containers never seen.
    const fresh: ScannedContainer[] = [];
    for (const b of s.found) {
      const e = this.cache.get(scanIdentity(b));
      if (e) applyEnrichment(b.info, e);
      else fresh.push(b);
    }
    if (fresh.length > 0 && this.opts.api !== false) {
      const ids = fresh.map(scanIdentity);
      await enrichContainers(s, { ...this.opts, all: false, onWarning: (m) => this.warn(m) }, fresh);
      if (this.closed) return;
      fresh.forEach((b, i) => this.cache.set(ids[i] ?? '', snapshotEnrichment(b.info)));
    }
    const now = new Map<string, ContainerInfo>();
    for (const c of finishList(s.found.map((b) => b.info))) now.set(c.key, c);

    // Containers stopped by a notification stay stopped until the scan shows a new init.
    for (const [key, pid] of this.tombstones) {
      const c = now.get(key);
      if (c === undefined) this.tombstones.delete(key);
      else if (c.initPid === pid) now.delete(key);
      else this.tombstones.delete(key);
    }

    if (!first) {
      for (const [key, old] of this.known) {
        const c = now.get(key);
        if (c === undefined || c.initPid !== old.initPid || c.ns.pid !== old.ns.pid) {
          this.known.delete(key);
          this.emit('stop', old, reason);
        }
      }
    }
    for (const [key, c] of now) {
      const old = this.known.get(key);
      this.known.set(key, c);
      if (old === undefined && !first) this.emit('start', c, reason);
    }

    // Container cgroups announced by cgroup_mkdir whose processes are not there yet: look again.
    for (const [id, tries] of this.pendingMkdirs) {
      if (this.findById(id) || tries >= MKDIR_RETRIES.length - 1) this.pendingMkdirs.delete(id);
      else {
        this.pendingMkdirs.set(id, tries + 1);
        this.soon(MKDIR_RETRIES[tries + 1] ?? 1000, 'cgroup_mkdir');
      }
    }
  }

  private subscribe(): void {
    const timeoutMs = this.opts.timeoutMs ?? 500;
    const onEvent = (e: RuntimeEvent): void => {
      if (e.action === 'rename' || e.action === 'destroy' || e.action === 'remove') {
        for (const k of this.cache.keys()) if (k.endsWith(`:${e.id}`)) this.cache.delete(k);
      }
      if (/^(start|restart|die|died|stop|kill|unpause|pause|cleanup|exited)$/.test(e.action))
        this.soon(e.action === 'start' || e.action === 'restart' ? 20 : 0, 'runtime-event');
    };
    const follow = (what: string, socket: string, open: typeof watchDockerEvents, delay = 0): void => {
      if (this.closed) return;
      const t = setTimeout(() => {
        if (this.closed) return;
        let failed = false;
        const s = open(socket, timeoutMs, onEvent, (err) => {
          failed = true;
          this.warn(`${what}: event stream at ${socket} failed (${err.message}); polling only`);
        });
        this.streams.push(s);
        void s.ended.then(() => {
          const i = this.streams.indexOf(s);
          if (i >= 0) this.streams.splice(i, 1);
          // The daemon went away or restarted: try again later, quietly if it keeps failing.
          if (!this.closed && existsSync(socket)) follow(what, socket, open, failed ? 5000 : 1000);
        });
      }, delay);
      t.unref();
    };
    for (const s of this.opts.dockerSockets ?? DEFAULT_DOCKER_SOCKETS)
      if (existsSync(s)) follow('docker', s, watchDockerEvents);
    for (const s of this.opts.podmanSockets ?? defaultPodmanSockets())
      if (existsSync(s)) follow('podman', s, watchPodmanEvents);
  }
}

/**
 * Start watching: the snapshot of running containers is `watcher.initial` (write it as the
 * statedump), then `onStart` / `onStop` report each change. Call `close()` at the end.
 */
export function watchContainers(
  onStart: (c: ContainerInfo, reason: ChangeReason) => void,
  onStop: (c: ContainerInfo, reason: ChangeReason) => void,
  opts: WatchOptions & { onWarning?: (message: string) => void } = {},
): Promise<ContainerWatcher> {
  return ContainerWatcher.start({ onStart, onStop, onWarning: opts.onWarning }, opts);
}
