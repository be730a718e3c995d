/**
 * The recorder's thread table: for every thread, its ids at every pid-namespace level, its
 * namespaces and its comm, kept up to date from events (task_newtask with clone flags, fork,
 * exec, task_rename, exit/free, unshare, setns, clone's return value), starting from a /proc
 * snapshot. It produces, per thread, the words of the stream event context the recorder
 * writes for every event of that thread.
 *
 * What is exact and what is inferred is documented in docs/record.md ("Namespace contexts").
 */
import {
  CLONE_NS_FLAGS,
  NS_INDEX,
  NS_TYPES,
  readTask,
  readTaskNs,
  type NsType,
  type ProcThread,
} from './proc.js';

/** A namespace. `inum` 0 means "not known yet" (created during the recording, not read yet). */
export class Ns {
  constructor(
    public inum: number,
    readonly type: number,
    /** Nesting level for pid and user namespaces (0 = initial), else 0. */
    public level: number,
    public parent: Ns | undefined,
  ) {}
}

export const CLONE_THREAD = 0x00010000;
/** Events of a task after its sched_process_exit (its last switch out) come within this. */
const EXITED_GRACE_NS = 50_000_000;
export const CLONE_PARENT = 0x00008000;

/** Context fields the recorder can add to every event, with their CTF type codes. */
export const CONTEXT_FIELDS = {
  pid_ns: 'u32',
  user_ns: 'u32',
  net_ns: 'u32',
  mnt_ns: 'u32',
  uts_ns: 'u32',
  ipc_ns: 'u32',
  cgroup_ns: 'u32',
  time_ns: 'u32',
  vpid: 'i32',
  vtid: 'i32',
  tid: 'i32',
  pid: 'i32',
  procname: 'c16',
  ppid: 'i32',
  vppid: 'i32',
} as const;
export type ContextName = keyof typeof CONTEXT_FIELDS;
export const DEFAULT_CONTEXTS: readonly ContextName[] = [
  'pid_ns',
  'user_ns',
  'net_ns',
  'mnt_ns',
  'uts_ns',
  'ipc_ns',
  'cgroup_ns',
  'time_ns',
  'vpid',
  'vtid',
  'tid',
  'pid',
  'procname',
];

const encoder = new TextEncoder();

/** comm as the kernel keeps it: at most 15 bytes + NUL, zero padded to 16. */
export function commBytes(comm: string): Uint8Array {
  const out = new Uint8Array(16);
  const b = encoder.encode(comm);
  out.set(b.subarray(0, 15));
  return out;
}

/** A place in an open packet holding a value of a thread that was not known yet. */
export interface PatchEntry {
  /** The packet stream (opaque here). */
  stream: unknown;
  /** Packet sequence number the value was written in (patch only while that packet is open). */
  seq: number;
  off: number;
  /** 0: the context words, 1: the fork event's vtids, 2: a pid-ns inode. */
  kind: 0 | 1 | 2;
  /**
   * Kind 0: the thread's namespaces when the words were written (`Thread.nsAtWrite`). Only
   * what was unknown then is patched, with the value of those same namespaces: a later change
   * of the thread (unshare, setns, a rename) never reaches back into earlier events.
   */
  ns?: readonly Ns[];
}

export class Thread {
  pid: number;
  ppid: number;
  comm: Uint8Array;
  /** Namespaces indexed like NS_TYPES. */
  ns: Ns[];
  pidForChildren: Ns;
  timeForChildren: Ns;
  /** Ids at each pid-ns level, root first; 0 where unknown. Length = pid ns level + 1. */
  nsTids: number[];
  nsPids: number[];
  /** Context words (see ThreadTable.layout), rebuilt when `ctxEpoch` is stale. */
  ctx: Int32Array;
  /** The same bytes (little-endian on x86), copied as a block into every event. */
  ctxBytes: Uint8Array;
  ctxEpoch = -1;
  /** `ns` as of the last rebuild of `ctx` (the namespaces the written words stand for). */
  nsAtWrite: readonly Ns[] = [];
  /** Some context value is not known yet (a new namespace, an id at a deeper level). */
  incomplete = false;
  /** Where values of this thread not known yet were written (patched when they become known). */
  patches: PatchEntry[] | undefined = undefined;
  /** Time (relative ns) of the /proc read this entry comes from; events before it are stale. */
  seenAt: number;
  exited = false;
  /** When it exited (relative ns), if it did. */
  exitedAt = Infinity;
  /** Last child created (task_newtask), for clone's return value. */
  lastChild: Thread | undefined = undefined;
  /** Syscall in progress: its ftrace sys_enter id, name and raw argument bytes. */
  scId = -1;
  scName: string | undefined = undefined;
  scArgs: Uint8Array | undefined = undefined;
  scView: DataView | undefined = undefined;
  constructor(
    readonly tid: number,
    init: {
      pid: number;
      ppid: number;
      comm: Uint8Array;
      ns: Ns[];
      pidForChildren: Ns;
      timeForChildren: Ns;
      nsTids: number[];
      nsPids: number[];
      seenAt: number;
    },
    ctxWords: number,
  ) {
    this.pid = init.pid;
    this.ppid = init.ppid;
    this.comm = init.comm;
    this.ns = init.ns;
    this.pidForChildren = init.pidForChildren;
    this.timeForChildren = init.timeForChildren;
    this.nsTids = init.nsTids;
    this.nsPids = init.nsPids;
    this.seenAt = init.seenAt;
    this.ctx = new Int32Array(ctxWords);
    this.ctxBytes = new Uint8Array(this.ctx.buffer);
  }

  get vtid(): number {
    return this.nsTids[this.nsTids.length - 1] ?? 0;
  }
  get vpid(): number {
    return this.nsPids[this.nsPids.length - 1] ?? 0;
  }
}

export interface ThreadTableOptions {
  contexts: readonly ContextName[];
  /** Reads a task from /proc (tests replace it). */
  readTask?: (tid: number) => ProcThread | undefined;
  /** Reads only the namespaces of a task. */
  readNs?: (tid: number) => { ns: number[]; pidForChildren: number; timeForChildren: number } | undefined;
  /** Parent of a pid/user namespace inode (from lsns), 0 for a root, undefined when unknown. */
  nsParent?: (inum: number) => number | undefined;
  /** Now, in the recorder's relative ns (for `seenAt` of tasks read lazily). */
  now?: () => number;
  /**
   * /proc snapshot of `tid` taken right when the event at `ts` happened (by the watcher), if
   * any: the exact state, where a read at conversion time may be too late.
   */
  snapshot?: (tid: number, ts: number) => NsSnapshotLike | undefined;
  /**
   * Whether a task that started at `startNs` (ns since boot) can be the one an event at `ts`
   * (relative ns) came from: a task read from /proc after its tid was reused started later.
   */
  startedBy?: (startNs: number, ts: number) => boolean;
}

/** What the watcher saw in /proc for a task (see watcher.ts). */
export interface NsSnapshotLike {
  ns: number[];
  pidForChildren: number;
  timeForChildren: number;
  nsTids: number[];
  nsPids: number[];
  pid: number;
}

export interface ContextSlot {
  name: ContextName;
  /** Word index in the thread's context words. */
  word: number;
}

export class ThreadTable {
  readonly byTid = new Map<number, Thread>();
  /** Per-CPU idle threads (tid 0, `swapper/N`). */
  private readonly idle: Thread[] = [];
  private readonly nsByKey = new Map<string, Ns>();
  /** Incremented whenever a namespace becomes known: every thread rebuilds its context. */
  epoch = 0;
  /** Incremented whenever a tid is removed or moved (cached tid -> thread lookups are stale). */
  version = 0;
  readonly contexts: readonly ContextName[];
  readonly ctxWords: number;
  readonly ctxBytes: number;
  private readonly readTaskFn: (tid: number) => ProcThread | undefined;
  private readonly readNsFn: (
    tid: number,
  ) => { ns: number[]; pidForChildren: number; timeForChildren: number } | undefined;
  private readonly nsParent: (inum: number) => number | undefined;
  private readonly now: () => number;
  private readonly snapshotFn: ((tid: number, ts: number) => NsSnapshotLike | undefined) | undefined;
  private readonly startedBy: (startNs: number, ts: number) => boolean;
  /** Statistics for the summary. */
  readonly stats = { lazyReads: 0, lazyMisses: 0, nsResolved: 0, nsUnresolved: 0 };

  constructor(opts: ThreadTableOptions) {
    this.contexts = opts.contexts;
    let words = 0;
    for (const c of opts.contexts) words += CONTEXT_FIELDS[c] === 'c16' ? 4 : 1;
    this.ctxWords = words;
    this.ctxBytes = words * 4;
    this.readTaskFn = opts.readTask ?? ((tid) => readTask(`/proc/${tid}`));
    this.readNsFn =
      opts.readNs ??
      ((tid) => {
        const r = readTaskNs(`/proc/${tid}`);
        return r.ns.every((x) => x === 0) ? undefined : r;
      });
    this.nsParent = opts.nsParent ?? (() => undefined);
    this.now = opts.now ?? (() => 0);
    this.snapshotFn = opts.snapshot;
    this.startedBy = opts.startedBy ?? (() => true);
  }

  /**
   * Fills what is unknown in `t` from a snapshot taken at the event (exact), or from /proc now
   * (late: right unless the task changed since). Returns false when neither is available.
   */
  private fill(t: Thread, ts: number): boolean {
    const snap = this.snapshotFn?.(t.tid, ts);
    if (snap && snap.pid === t.pid) {
      this.applySnapshot(t, snap);
      // A snapshot taken while the task was exiting has some links unreadable (0).
      if (!this.hasUnknown(t)) return true;
    }
    return this.fillFromProc(t, ts);
  }

  private applySnapshot(t: Thread, p: NsSnapshotLike): void {
    this.fillUnknown(t, p);
    this.invalidate(t);
    this.learned++;
  }

  /**
   * Fills what `t` does not know (namespaces, ids at each pid-ns level) from a snapshot or a
   * /proc read of the same task. Returns whether an id was filled in.
   */
  private fillUnknown(t: Thread, p: NsSnapshotLike): boolean {
    for (let i = 0; i < NS_TYPES.length; i++) {
      const n = t.ns[i]!;
      if (n.inum === 0) this.resolveNs(n, p.ns[i] ?? 0);
    }
    if (t.pidForChildren.inum === 0) this.resolveNs(t.pidForChildren, p.pidForChildren);
    if (t.timeForChildren.inum === 0) this.resolveNs(t.timeForChildren, p.timeForChildren);
    let changed = false;
    if (p.nsTids.length === t.nsTids.length) {
      for (let i = 0; i < p.nsTids.length; i++) {
        if (t.nsTids[i] === 0) {
          t.nsTids[i] = p.nsTids[i]!;
          changed = true;
        }
        if (t.nsPids[i] === 0) {
          t.nsPids[i] = p.nsPids[i] ?? 0;
          changed = true;
        }
      }
    }
    return changed;
  }

  /** The namespace object of a known inode (shared by every thread in it). */
  nsOf(type: number, inum: number, levelHint = 0): Ns {
    const key = `${type}:${inum}`;
    let n = this.nsByKey.get(key);
    if (!n) {
      n = new Ns(inum, type, levelHint, undefined);
      if (inum !== 0) this.nsByKey.set(key, n);
    }
    return n;
  }

  private linkParents(n: Ns, depth = 0): void {
    if (n.parent || n.inum === 0 || depth > 40) return;
    const p = this.nsParent(n.inum);
    if (p === undefined || p === 0) return;
    const pn = this.nsOf(n.type, p, Math.max(0, n.level - 1));
    n.parent = pn;
    this.linkParents(pn, depth + 1);
  }

  /** Adds (or replaces) a thread from a /proc read taken at `seenAt`. */
  addFromProc(p: ProcThread, seenAt: number): Thread {
    const levelPid = p.nsTids.length - 1;
    const ns = NS_TYPES.map((_, i) => this.nsOf(i, p.ns[i] ?? 0, i === NS_INDEX.pid ? levelPid : 0));
    const pidNs = ns[NS_INDEX.pid]!;
    pidNs.level = levelPid;
    this.linkParents(pidNs);
    this.linkParents(ns[NS_INDEX.user]!);
    const pfc =
      p.pidForChildren === 0 || p.pidForChildren === pidNs.inum
        ? pidNs
        : this.nsOf(NS_INDEX.pid, p.pidForChildren, levelPid + 1);
    const tfc =
      p.timeForChildren === 0 || p.timeForChildren === ns[NS_INDEX.time]!.inum
        ? ns[NS_INDEX.time]!
        : this.nsOf(NS_INDEX.time, p.timeForChildren);
    const t = new Thread(
      p.tid,
      {
        pid: p.pid,
        ppid: p.ppid,
        comm: commBytes(p.comm),
        ns,
        pidForChildren: pfc,
        timeForChildren: tfc,
        nsTids: p.nsTids.slice(),
        nsPids: p.nsPids.slice(),
        seenAt,
      },
      this.ctxWords,
    );
    this.byTid.set(p.tid, t);
    this.rootPidNsIfOneLevel(t);
    return t;
  }

  /**
   * A task with one pid-ns level (NSpid from our /proc, which shows kthreadd: the initial pid
   * namespace's) is in the initial pid namespace, even when its `ns/pid` link is unreadable
   * (PID 1's on this VM). Its other namespaces stay unknown.
   */
  private rootPidNsIfOneLevel(t: Thread): void {
    const n = t.ns[NS_INDEX.pid]!;
    if (n.inum !== 0 || t.nsTids.length !== 1 || t.tid === 2) return;
    const root = this.byTid.get(2)?.ns[NS_INDEX.pid];
    if (root !== undefined && root.inum !== 0) this.resolveNs(n, root.inum);
  }

  /** After a /proc walk: what `rootPidNsIfOneLevel` could not do before kthreadd was read. */
  afterWalk(): void {
    for (const t of this.byTid.values()) this.rootPidNsIfOneLevel(t);
  }

  /** Idle thread of a CPU (tid 0). */
  idleThread(cpu: number): Thread {
    let t = this.idle[cpu];
    if (!t) {
      const root = (type: number): Ns => this.rootNs(type);
      const ns = NS_TYPES.map((_, i) => root(i));
      t = new Thread(
        0,
        {
          pid: 0,
          ppid: 0,
          comm: commBytes(`swapper/${cpu}`),
          ns,
          pidForChildren: ns[NS_INDEX.pid]!,
          timeForChildren: ns[NS_INDEX.time]!,
          nsTids: [0],
          nsPids: [0],
          seenAt: -Infinity,
        },
        this.ctxWords,
      );
      this.idle[cpu] = t;
    }
    return t;
  }

  private rootCache: Ns[] = [];
  /** The initial namespace of a type: the one of pid 1 (or of kthreadd, pid 2). */
  rootNs(type: number): Ns {
    let r = this.rootCache[type];
    if (r) return r;
    const t1 = this.byTid.get(2) ?? this.byTid.get(1);
    r = t1 ? t1.ns[type]! : new Ns(0, type, 0, undefined);
    if (t1) this.rootCache[type] = r;
    return r;
  }

  /**
   * Thread of a tid, read from /proc on first sight if the snapshot and events missed it
   * (`ts`: time of the event that needs it, to reject a later task with the same tid).
   */
  get(tid: number, cpu: number, ts = Infinity): Thread {
    if (tid === 0) return this.idleThread(cpu);
    const t = this.byTid.get(tid);
    if (t !== undefined && (t.exitedAt === Infinity || ts - t.exitedAt < EXITED_GRACE_NS)) return t;
    // Unknown, or exited a while ago: the tid belongs to a task whose creation we did not see
    // (sched_process_free, which would have removed the old entry, can fire in a context that
    // is not traced).
    if (t !== undefined) {
      this.byTid.delete(tid);
      this.version++;
    }
    return this.lazy(tid, ts);
  }

  private lazy(tid: number, ts: number): Thread {
    this.stats.lazyReads++;
    const p = this.readTaskFn(tid);
    // The entry stands for the task from this event on: later state events still apply (they
    // are already reflected in /proc if they happened before the read, and applying them again
    // gives the same state).
    if (p && p.tid === tid && this.startedBy(p.startNs, ts))
      return this.addFromProc(p, ts === Infinity ? this.now() : ts);
    this.stats.lazyMisses++;
    // Gone already: assume the initial namespaces, ids as seen from the root only.
    const ns = NS_TYPES.map((_, i) => this.rootNs(i));
    const t = new Thread(
      tid,
      {
        pid: tid,
        ppid: 0,
        comm: new Uint8Array(16),
        ns,
        pidForChildren: ns[NS_INDEX.pid]!,
        timeForChildren: ns[NS_INDEX.time]!,
        nsTids: [tid],
        nsPids: [tid],
        seenAt: -Infinity,
      },
      this.ctxWords,
    );
    this.byTid.set(tid, t);
    return t;
  }

  /** Fills `t.ctx` for the configured contexts. */
  rebuild(t: Thread): void {
    const w = t.ctx;
    let k = 0;
    for (const c of this.contexts) {
      switch (c) {
        case 'pid_ns':
        case 'user_ns':
        case 'net_ns':
        case 'mnt_ns':
        case 'uts_ns':
        case 'ipc_ns':
        case 'cgroup_ns':
        case 'time_ns':
          w[k++] = t.ns[NS_INDEX[c.slice(0, -3) as NsType]]!.inum | 0;
          break;
        case 'vpid':
          w[k++] = t.vpid;
          break;
        case 'vtid':
          w[k++] = t.vtid;
          break;
        case 'tid':
          w[k++] = t.tid;
          break;
        case 'pid':
          w[k++] = t.pid;
          break;
        case 'ppid':
          w[k++] = t.ppid;
          break;
        case 'vppid': {
          const parent = this.byTid.get(t.ppid);
          w[k++] = parent ? this.idAtLevel(parent.nsPids, t.nsPids.length - 1) : 0;
          break;
        }
        case 'procname': {
          const b = t.comm;
          for (let i = 0; i < 16; i += 4) {
            w[k++] = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
          }
          break;
        }
      }
    }
    t.ctxEpoch = this.epoch;
    t.nsAtWrite = t.ns.slice();
    t.incomplete = this.isIncomplete(t);
  }

  /**
   * Patches context words written at `off` for `t` while some values were unknown: the
   * namespace slots from `ns` (the namespaces the words stood for), vtid/vpid from the thread
   * (its ids never change, they only become known). Nothing else is rewritten. Returns true
   * when some of these values are still unknown (the entry is worth keeping).
   */
  patchContext(t: Thread, ns: readonly Ns[], dv: DataView, off: number): boolean {
    let k = 0;
    let unknown = false;
    const put = (v: number): void => {
      if (v === 0) unknown = true;
      else dv.setInt32(off + 4 * k, v | 0, true);
    };
    for (const c of this.contexts) {
      switch (c) {
        case 'pid_ns':
        case 'user_ns':
        case 'net_ns':
        case 'mnt_ns':
        case 'uts_ns':
        case 'ipc_ns':
        case 'cgroup_ns':
        case 'time_ns':
          put(ns[NS_INDEX[c.slice(0, -3) as NsType]]?.inum ?? 0);
          break;
        case 'vpid':
          put(t.vpid);
          break;
        case 'vtid':
          put(t.vtid);
          break;
        case 'procname':
          k += 3;
          break;
        default:
          break;
      }
      k++;
    }
    return unknown;
  }

  /** A context value of `t` is a placeholder (0) that may become known later. */
  isIncomplete(t: Thread): boolean {
    if (t.tid === 0) return false;
    for (const n of t.ns) if (n.inum === 0) return true;
    for (const x of t.nsTids) if (x === 0) return true;
    for (const x of t.nsPids) if (x === 0) return true;
    return false;
  }

  /** Bumped whenever ids or namespaces of some thread became known (patches may apply). */
  learned = 0;

  /** Id of a task at pid-ns `level` given its root-first id list; 0 when not visible there. */
  idAtLevel(ids: readonly number[], level: number): number {
    return level < ids.length ? ids[level]! : 0;
  }

  private invalidate(t: Thread): void {
    t.ctxEpoch = -1;
  }

  private resolveNs(n: Ns, inum: number): void {
    if (n.inum !== 0 || inum === 0) return;
    n.inum = inum;
    const key = `${n.type}:${inum}`;
    if (!this.nsByKey.has(key)) this.nsByKey.set(key, n);
    this.linkParents(n);
    this.stats.nsResolved++;
    this.epoch++;
    this.learned++;
  }

  /**
   * Tries to learn unknown namespaces and ids of `t` from /proc (the task must still exist and
   * be the same task). Only fills what is unknown.
   */
  private fillFromProc(t: Thread, ts: number): boolean {
    const p = this.readTaskFn(t.tid);
    if (!p || p.pid !== t.pid || !this.startedBy(p.startNs, ts)) return false;
    if (this.fillUnknown(t, p)) {
      this.invalidate(t);
      this.learned++;
    }
    return true;
  }

  private hasUnknown(t: Thread): boolean {
    for (const n of t.ns) if (n.inum === 0) return true;
    if (t.pidForChildren.inum === 0) return true;
    for (const x of t.nsTids) if (x === 0) return true;
    return false;
  }

  /**
   * task_newtask (in the parent's context): a thread or process is created with `flags`.
   * The child inherits the parent's namespaces except those the flags make new.
   */
  onNewTask(parent: Thread, childTid: number, comm: Uint8Array, flags: number, ts: number): Thread {
    const existing = this.byTid.get(childTid);
    if (existing && existing.seenAt > ts) {
      parent.lastChild = existing;
      return existing; // the snapshot already knows it, and knows better
    }
    const isThread = (flags & CLONE_THREAD) !== 0;
    const ns = parent.ns.slice();
    let unknown = false;
    // pid: a child goes to the parent's pid_for_children, or a new one under it.
    let pidNs = parent.pidForChildren;
    if ((flags & CLONE_NS_FLAGS.pid) !== 0 && !isThread) {
      pidNs = new Ns(0, NS_INDEX.pid, parent.pidForChildren.level + 1, parent.pidForChildren);
      unknown = true;
    }
    ns[NS_INDEX.pid] = pidNs;
    let timeNs = parent.ns[NS_INDEX.time]!;
    if (!isThread) timeNs = parent.timeForChildren;
    if ((flags & CLONE_NS_FLAGS.time) !== 0) {
      timeNs = new Ns(0, NS_INDEX.time, 0, undefined);
      unknown = true;
    }
    ns[NS_INDEX.time] = timeNs;
    for (const type of ['user', 'net', 'mnt', 'uts', 'ipc', 'cgroup'] as const) {
      if ((flags & CLONE_NS_FLAGS[type]) !== 0) {
        const i = NS_INDEX[type];
        const old = parent.ns[i]!;
        ns[i] = new Ns(0, i, type === 'user' ? old.level + 1 : 0, type === 'user' ? old : undefined);
        unknown = true;
      }
    }
    // ids: the root level is the global tid; deeper levels are learnt from clone's return,
    // from /proc, or are 1 for the init of a new pid namespace.
    const level = pidNs.level;
    const nsTids = new Array<number>(level + 1).fill(0);
    nsTids[0] = childTid;
    if (level === 0) nsTids[0] = childTid;
    if (pidNs !== parent.pidForChildren && !isThread) nsTids[level] = 1;
    const nsPids = isThread ? parent.nsPids.slice() : nsTids.slice();
    if (isThread && nsPids.length !== nsTids.length) nsPids.length = nsTids.length;
    const child = new Thread(
      childTid,
      {
        pid: isThread ? parent.pid : childTid,
        ppid: isThread || (flags & CLONE_PARENT) !== 0 ? parent.ppid : parent.pid,
        comm: comm.slice(),
        ns,
        pidForChildren: pidNs,
        timeForChildren: timeNs,
        nsTids,
        nsPids,
        seenAt: ts,
      },
      this.ctxWords,
    );
    if (this.byTid.has(childTid)) this.version++;
    this.byTid.set(childTid, child);
    parent.lastChild = child;
    if (unknown || this.hasUnknown(child)) {
      this.fill(child, ts);
      if (this.hasUnknown(child)) this.stats.nsUnresolved++;
    }
    return child;
  }

  /** clone/fork/vfork/clone3 returned `ret` > 0 in the parent: the child's id at the parent's level. */
  onCloneReturn(parent: Thread, ret: number): void {
    const child = parent.lastChild;
    if (!child || ret <= 0) return;
    const level = parent.nsTids.length - 1;
    if (level < child.nsTids.length && child.nsTids[level] === 0) {
      child.nsTids[level] = ret;
      if (child.pid === child.tid && child.nsPids[level] === 0) child.nsPids[level] = ret;
      this.invalidate(child);
      this.learned++;
    }
  }

  /** exec: a non-leader thread that execs takes the leader's tid (old_tid → tid). */
  onExec(tid: number, oldTid: number, ts: number): void {
    if (tid === oldTid) return;
    const t = this.byTid.get(oldTid);
    if (!t || t.seenAt > ts) return;
    this.byTid.delete(oldTid);
    this.version++;
    const leader = this.byTid.get(tid);
    // The leader's ids at every level are the process ids.
    const moved = new Thread(
      tid,
      {
        pid: t.pid,
        ppid: t.ppid,
        comm: t.comm,
        ns: t.ns,
        pidForChildren: t.pidForChildren,
        timeForChildren: t.timeForChildren,
        nsTids: t.nsPids.slice(),
        nsPids: t.nsPids.slice(),
        seenAt: ts,
      },
      this.ctxWords,
    );
    if (leader) leader.exited = true;
    this.byTid.set(tid, moved);
  }

  onRename(t: Thread, comm: Uint8Array, ts: number): void {
    if (t.seenAt > ts) return;
    t.comm = comm.slice();
    this.invalidate(t);
  }

  onExit(t: Thread, ts = 0): void {
    t.exited = true;
    t.exitedAt = ts;
  }

  onFree(tid: number, ts: number): void {
    const t = this.byTid.get(tid);
    if (t && t.seenAt <= ts) {
      this.byTid.delete(tid);
      this.version++;
    }
  }

  /** unshare(flags) returned 0. */
  onUnshare(t: Thread, flags: number, ts: number): void {
    if (t.seenAt > ts) return;
    let changed = false;
    for (const type of ['user', 'net', 'mnt', 'uts', 'ipc', 'cgroup'] as const) {
      if ((flags & CLONE_NS_FLAGS[type]) === 0) continue;
      const i = NS_INDEX[type];
      const old = t.ns[i]!;
      t.ns[i] = new Ns(0, i, type === 'user' ? old.level + 1 : 0, type === 'user' ? old : undefined);
      changed = true;
    }
    if ((flags & CLONE_NS_FLAGS.pid) !== 0) {
      t.pidForChildren = new Ns(0, NS_INDEX.pid, t.ns[NS_INDEX.pid]!.level + 1, t.ns[NS_INDEX.pid]);
      changed = true;
    }
    if ((flags & CLONE_NS_FLAGS.time) !== 0) {
      t.timeForChildren = new Ns(0, NS_INDEX.time, 0, undefined);
      changed = true;
    }
    if (changed) {
      this.invalidate(t);
      this.fill(t, ts);
      if (this.hasUnknown(t)) this.stats.nsUnresolved++;
    }
  }

  /**
   * setns() returned 0: the target is an fd we cannot see in the trace, so the namespaces are
   * re-read from /proc (the task must still be alive). `nstype` 0 means "any": all are re-read.
   */
  onSetns(t: Thread, nstype: number, ts: number): void {
    if (t.seenAt > ts) return;
    const r = this.snapshotFn?.(t.tid, ts) ?? this.readNsFn(t.tid);
    if (!r) {
      this.stats.nsUnresolved++;
      return;
    }
    for (let i = 0; i < NS_TYPES.length; i++) {
      const type = NS_TYPES[i]!;
      if (nstype !== 0 && (nstype & CLONE_NS_FLAGS[type]) === 0) continue;
      if (type === 'pid') {
        if (r.pidForChildren !== 0 && r.pidForChildren !== t.pidForChildren.inum) {
          t.pidForChildren = this.nsOf(i, r.pidForChildren);
          this.linkParents(t.pidForChildren);
          if (t.pidForChildren.parent) t.pidForChildren.level = levelOf(t.pidForChildren);
        }
        continue;
      }
      if (type === 'time') {
        if (r.timeForChildren !== 0) t.timeForChildren = this.nsOf(i, r.timeForChildren);
        continue;
      }
      const inum = r.ns[i] ?? 0;
      if (inum !== 0 && inum !== t.ns[i]!.inum) {
        t.ns[i] = this.nsOf(i, inum);
        if (type === 'user') {
          this.linkParents(t.ns[i]!);
          t.ns[i]!.level = levelOf(t.ns[i]!);
        }
      }
    }
    this.invalidate(t);
  }

  /** The pid namespaces of a thread, deepest first (statedump / fork `vtids` order is root first). */
  pidNsChain(t: Thread): Ns[] {
    const out: Ns[] = [];
    for (let n: Ns | undefined = t.ns[NS_INDEX.pid]; n; n = n.parent) out.push(n);
    return out;
  }
}

function levelOf(n: Ns): number {
  let l = 0;
  for (let p = n.parent; p; p = p.parent) l++;
  return l;
}
