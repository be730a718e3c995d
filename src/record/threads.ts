/**
 * The recorder's thread table: for every thread, its ids at every pid-namespace level, its
 * namespaces and its comm, kept up to date from events (task_newtask with clone flags, fork,
 * exec, task_rename, exit/free, unshare, setns, clone's return value), starting from a /proc
 * snapshot. It produces, per thread, the words of the stream event context the recorder
 * writes for every event of that thread.
 *
 * What is exact and what is inferred is documented in docs/record.md ("Namespace contexts").
 */
import { CLONE_NS_FLAGS, NS_INDEX, NS_TYPES, readTask, type NsType, type ProcThread } from './proc.js';

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
  /** Kind 0: the comm the words stood for (`Thread.commAtWrite`). */
  comm?: Uint8Array;
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
  /** `comm` as of the last rebuild (a placeholder there is patched when learnt). */
  commAtWrite: Uint8Array | undefined = undefined;
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
  /** The pid namespace level is not known: `nsTids`/`nsPids` are placeholders ([0]). */
  idsUnknown = false;
  /** Start time (`stat` field 22, ns since boot) when read from /proc; NaN when created by an event. */
  startNs = NaN;
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
  /**
   * Which values hold for the event (bits in NS_TYPES order, then 8: pid_for_children, 9:
   * time_for_children); undefined: all. Ids (NSpid) and the pid namespace always hold.
   */
  mask?: number;
}

/** Every value of a snapshot or /proc read. */
const ALL = (1 << 10) - 1;
/** What a task keeps all its life: its pid namespace and its ids (NSpid), not masked. */
const IMMUTABLE = 1 << NS_INDEX.pid;
const PFC_BIT = 1 << 8;
const TFC_BIT = 1 << 9;

/** A /proc read of a task whose mutable values become exact at `at` (ThreadTable.defer). */
interface Deferred {
  tid: number;
  pid: number;
  at: number;
  p: ProcThread;
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
  private readonly nsParent: (inum: number) => number | undefined;
  private readonly now: () => number;
  private readonly snapshotFn: ((tid: number, ts: number) => NsSnapshotLike | undefined) | undefined;
  private readonly startedBy: (startNs: number, ts: number) => boolean;
  /** Statistics for the summary. */
  readonly stats = {
    lazyReads: 0,
    lazyMisses: 0,
    nsResolved: 0,
    nsUnresolved: 0,
    /** /proc reads whose mutable values became exact at their read time (walk, lazy). */
    lateReads: 0,
    /** Parents that exited while children were known: the children's ppid became unknown. */
    ppidUnknown: 0,
  };
  /** comm arrays that stand for "not known yet" (written as ""; patched when learnt). */
  readonly unknownComm = new WeakSet<Uint8Array>();
  /** /proc reads waiting for the converter to reach their read time (sorted by `at`). */
  private deferred: Deferred[] = [];
  /** Time of the first deferred read (Infinity when none): the converter calls resolveDue. */
  nextDueAt = Infinity;
  /** The ppid and vppid contexts are written (parents' exits must be followed). */
  private readonly ppidContexts: boolean;

  constructor(opts: ThreadTableOptions) {
    this.contexts = opts.contexts;
    let words = 0;
    for (const c of opts.contexts) words += CONTEXT_FIELDS[c] === 'c16' ? 4 : 1;
    this.ctxWords = words;
    this.ctxBytes = words * 4;
    this.readTaskFn = opts.readTask ?? ((tid) => readTask(`/proc/${tid}`));
    this.nsParent = opts.nsParent ?? (() => undefined);
    this.now = opts.now ?? (() => 0);
    this.snapshotFn = opts.snapshot;
    this.startedBy = opts.startedBy ?? (() => true);
    this.ppidContexts = opts.contexts.includes('ppid') || opts.contexts.includes('vppid');
  }

  /** A comm that is not known yet. */
  private unknownCommBytes(): Uint8Array {
    const c = new Uint8Array(16);
    this.unknownComm.add(c);
    return c;
  }

  /**
   * A thread known from a /proc read whose mutable values (comm, namespaces other than pid,
   * pid/time_for_children, ppid) cannot be taken for events before the read: they are
   * placeholders ("unknown"), to be resolved by {@link defer} or by the trace. What a task
   * never changes (tid, pid, pid namespace, ids at every level) is taken.
   */
  addFromWalk(p: ProcThread, seenAt: number): Thread {
    const levelPid = p.nsTids.length - 1;
    const pidNs = this.nsOf(NS_INDEX.pid, p.ns[NS_INDEX.pid] ?? 0, levelPid);
    pidNs.level = levelPid;
    this.linkParents(pidNs);
    const ns = NS_TYPES.map((_, i) => (i === NS_INDEX.pid ? pidNs : new Ns(0, i, 0, undefined)));
    const t = new Thread(
      p.tid,
      {
        pid: p.pid,
        ppid: 0,
        comm: this.unknownCommBytes(),
        ns,
        // Until known, assumed to be the task's own pid namespace for its children's level
        // (an unshare(CLONE_NEWPID) before the recording would make it one deeper).
        pidForChildren: new Ns(0, NS_INDEX.pid, levelPid + 1, undefined),
        timeForChildren: new Ns(0, NS_INDEX.time, 0, undefined),
        nsTids: p.nsTids.slice(),
        nsPids: p.nsPids.slice(),
        seenAt,
      },
      this.ctxWords,
    );
    t.startNs = p.startNs;
    if (this.byTid.has(p.tid)) this.version++;
    this.byTid.set(p.tid, t);
    this.rootPidNsIfOneLevel(t);
    return t;
  }

  /**
   * A /proc read of `p` at `at` (relative ns, taken before the read): the task's state from
   * then on. When the converter reaches `at` (resolveDue), every value of the thread still
   * unknown takes the read's: nothing the trace shows changed it between the event that made
   * it unknown and the read (a change would have replaced the placeholder), so the earlier
   * events written with it are patched too.
   */
  defer(p: ProcThread, at: number): void {
    this.stats.lateReads++;
    const d: Deferred = { tid: p.tid, pid: p.pid, at, p };
    let i = this.deferred.length;
    while (i > 0 && this.deferred[i - 1]!.at > at) i--;
    this.deferred.splice(i, 0, d);
    this.nextDueAt = this.deferred[0]!.at;
  }

  /** Applies the deferred reads whose time the converter has reached (`ts`). */
  resolveDue(ts: number): void {
    let k = 0;
    while (k < this.deferred.length && this.deferred[k]!.at <= ts) {
      const d = this.deferred[k++]!;
      const t = this.byTid.get(d.tid);
      if (t !== undefined && this.sameTask(t, d)) this.applyLate(t, d.p);
    }
    if (k > 0) this.deferred.splice(0, k);
    this.nextDueAt = this.deferred.length > 0 ? this.deferred[0]!.at : Infinity;
  }

  /**
   * Whether the read `d` is of the task `t` stands for: the same start time, or, for a task
   * created by an event of the trace, one created before the read's time (the table follows
   * exits and forks in time order, so the tid's entry then is the task that was read).
   */
  private sameTask(t: Thread, d: Deferred): boolean {
    if (t.pid !== d.pid && t.pid !== 0) return false;
    return Number.isNaN(t.startNs) ? d.at >= t.seenAt : t.startNs === d.p.startNs;
  }

  /**
   * Moves the time from which deferred reads hold to `earliest(tid, at, p)` (a lookahead of
   * the trace found no change of the task between that time and the read), for the reads of
   * tasks the table knows from /proc (same start time).
   */
  retimeDeferred(earliest: (tid: number, at: number) => number): void {
    for (const d of this.deferred) {
      const t = this.byTid.get(d.tid);
      if (t === undefined || t.startNs !== d.p.startNs) continue;
      d.at = Math.min(d.at, earliest(d.tid, d.at));
    }
    this.deferred.sort((a, b) => a.at - b.at);
    this.nextDueAt = this.deferred.length > 0 ? this.deferred[0]!.at : Infinity;
  }

  /**
   * The level of a pid_for_children just learnt (a placeholder's was a guess): the task's own
   * pid namespace's, or one below after an unshare(CLONE_NEWPID).
   */
  private fixPfcLevel(t: Thread): void {
    const pfc = t.pidForChildren;
    if (pfc.inum === 0) return;
    const own = t.ns[NS_INDEX.pid]!;
    if (pfc.inum === own.inum) {
      pfc.level = own.level;
      pfc.parent = own.parent;
    } else {
      this.linkParents(pfc);
      if (pfc.parent) pfc.level = levelOf(pfc);
    }
  }

  private applyLate(t: Thread, p: ProcThread): void {
    let changed = this.fillUnknown(t, p, ALL);
    this.fixPfcLevel(t);
    if (t.pid === 0 && p.pid !== 0) {
      t.pid = p.pid;
      changed = true;
    }
    if (this.unknownComm.has(t.comm)) {
      // Filled in place: the events written with this placeholder are patched with it.
      t.comm.set(commBytes(p.comm));
      this.unknownComm.delete(t.comm);
      changed = true;
    }
    if (t.ppid === 0 && p.ppid !== 0) {
      t.ppid = p.ppid;
      changed = true;
    }
    this.invalidate(t);
    if (changed) this.learned++;
  }

  /**
   * Fills what is unknown in `t` for its event at `ts`: from the watcher's snapshot (the values
   * its mask says still held), then from /proc now, but only what a task never changes (its
   * pid namespace and ids): anything else read now may have changed since the event.
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
    this.fillUnknown(t, p, p.mask ?? ALL);
    this.invalidate(t);
    this.learned++;
  }

  /**
   * Fills what `t` does not know (namespaces whose `mask` bit is set, ids at each pid-ns level)
   * from a snapshot or a /proc read of the same task. Returns whether an id was filled in.
   */
  private fillUnknown(t: Thread, p: NsSnapshotLike, mask: number): boolean {
    for (let i = 0; i < NS_TYPES.length; i++) {
      const n = t.ns[i]!;
      if (n.inum === 0 && (mask & (1 << i)) !== 0) this.resolveNs(n, p.ns[i] ?? 0);
    }
    if (t.pidForChildren.inum === 0 && (mask & PFC_BIT) !== 0) {
      this.resolveNs(t.pidForChildren, p.pidForChildren);
      this.fixPfcLevel(t);
    }
    if (t.timeForChildren.inum === 0 && (mask & TFC_BIT) !== 0)
      this.resolveNs(t.timeForChildren, p.timeForChildren);
    let changed = false;
    if (t.idsUnknown && p.nsTids.length > 0) {
      // The pid namespace level was not known: the ids come whole from the read.
      t.nsTids = p.nsTids.slice();
      t.nsPids = p.nsPids.length === p.nsTids.length ? p.nsPids.slice() : p.nsTids.map(() => 0);
      t.idsUnknown = false;
      return true;
    }
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

  /**
   * The namespace object of an inode read from /proc (pid or user: linked to its parents, its
   * level from them). For the statedump, which describes the read itself.
   */
  nsFromRead(type: number, inum: number): Ns | undefined {
    if (inum === 0) return undefined;
    const n = this.nsOf(type, inum);
    this.linkParents(n);
    if (n.parent) n.level = levelOf(n);
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
    t.startNs = p.startNs;
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
    const at = this.now();
    const p = this.readTaskFn(tid);
    if (p && p.tid === tid && this.startedBy(p.startNs, ts)) {
      // Read after the event: what the task never changes is taken at once; the rest holds
      // from the read's time on (and for earlier events if the trace shows no change).
      const t = this.addFromWalk(p, ts === Infinity ? at : ts);
      this.defer(p, at);
      return t;
    }
    this.stats.lazyMisses++;
    // Gone already: only its tid is known.
    const ns = NS_TYPES.map((_, i) => new Ns(0, i, 0, undefined));
    const t = new Thread(
      tid,
      {
        pid: 0,
        ppid: 0,
        comm: this.unknownCommBytes(),
        ns,
        pidForChildren: new Ns(0, NS_INDEX.pid, 0, undefined),
        timeForChildren: new Ns(0, NS_INDEX.time, 0, undefined),
        nsTids: [0],
        nsPids: [0],
        seenAt: -Infinity,
      },
      this.ctxWords,
    );
    t.idsUnknown = true;
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
          const parent = t.idsUnknown || t.ppid === 0 ? undefined : this.byTid.get(t.ppid);
          w[k++] = parent && !parent.idsUnknown ? this.idAtLevel(parent.nsPids, t.nsPids.length - 1) : 0;
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
    t.commAtWrite = t.comm;
    t.incomplete = this.isIncomplete(t);
  }

  /**
   * Patches context words written at `off` for `t` while some values were unknown: the
   * namespace slots from `ns` (the namespaces the words stood for), vtid/vpid from the thread
   * (its ids never change, they only become known). Nothing else is rewritten. Returns true
   * when some of these values are still unknown (the entry is worth keeping).
   */
  patchContext(t: Thread, ns: readonly Ns[], dv: DataView, off: number, comm?: Uint8Array): boolean {
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
          // The comm the words stood for: a placeholder is filled in place once learnt (a
          // known comm never changes: a rename makes a new one), so its bytes are the value.
          if (comm !== undefined) {
            if (this.unknownComm.has(comm)) unknown = true;
            else for (let i = 0; i < 16; i++) dv.setUint8(off + 4 * k + i, comm[i]!);
          }
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
    if (this.unknownComm.has(t.comm)) return true;
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
    // The hierarchy knows its level (a placeholder's was a guess).
    if (n.parent && (n.type === NS_INDEX.pid || n.type === NS_INDEX.user)) n.level = levelOf(n);
    this.stats.nsResolved++;
    this.epoch++;
    this.learned++;
  }

  /**
   * Learns what a task never changes (its pid namespace, its ids at every level) from /proc
   * now, if the task there is the same one. Namespaces it can change (unshare, setns, exec)
   * are not taken: /proc shows them as they are now, not as they were at the event.
   */
  private fillFromProc(t: Thread, ts: number): boolean {
    const p = this.readTaskFn(t.tid);
    if (!p || p.pid !== t.pid || !this.startedBy(p.startNs, ts)) return false;
    const before = t.ns[NS_INDEX.pid]!.inum;
    if (this.fillUnknown(t, p, IMMUTABLE) || t.ns[NS_INDEX.pid]!.inum !== before) {
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
    // pid: a child goes to the parent's pid_for_children, or a new one under it; a thread stays
    // in its process's (the kernel refuses CLONE_THREAD when the two differ).
    let pidNs = isThread ? parent.ns[NS_INDEX.pid]! : parent.pidForChildren;
    // A pid_for_children not known yet (read late, not resolved yet): the child's level too.
    const levelUnknown =
      !isThread && parent.pidForChildren.inum === 0 && parent.pidForChildren.parent === undefined;
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
    if (levelUnknown) {
      child.nsTids = [0];
      child.nsPids = [0];
      child.idsUnknown = true;
    }
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
    if (!child || ret <= 0 || child.idsUnknown || parent.idsUnknown) return;
    const level = parent.nsTids.length - 1;
    if (level < child.nsTids.length && child.nsTids[level] === 0) {
      child.nsTids[level] = ret;
      if (child.pid === child.tid && child.nsPids[level] === 0) child.nsPids[level] = ret;
      this.invalidate(child);
      this.learned++;
    }
  }

  /**
   * exec: the task moves to its time_for_children namespace; a non-leader thread that execs
   * takes the leader's tid (old_tid → tid).
   */
  onExec(tid: number, oldTid: number, ts: number): void {
    const self = this.byTid.get(oldTid);
    if (self && self.seenAt <= ts && self.ns[NS_INDEX.time] !== self.timeForChildren) {
      self.ns[NS_INDEX.time] = self.timeForChildren;
      this.invalidate(self);
    }
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
    if (!this.ppidContexts || t.pid === 0) return;
    // The last thread of a process gone: its children are reparented (to a subreaper or the
    // namespace's init), which the trace does not show. Their ppid is unknown from here on.
    for (const o of this.byTid.values()) if (o.pid === t.pid && !o.exited) return;
    for (const c of this.byTid.values()) {
      if (c.ppid === t.pid && c.pid !== t.pid) {
        c.ppid = 0;
        this.invalidate(c);
        this.stats.ppidUnknown++;
      }
    }
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
    // Only the watcher's snapshot, taken at the event, can say where it went (the target is an
    // fd the trace does not show); /proc read later may show a later state.
    const r = this.snapshotFn?.(t.tid, ts);
    const mask = r !== undefined && r.pid === t.pid ? (r.mask ?? ALL) : 0;
    let unresolved = false;
    const after = (i: number, bit: number, inum: number | undefined, cur: Ns): Ns => {
      if ((mask & bit) !== 0 && inum !== undefined && inum !== 0) {
        if (inum === cur.inum) return cur;
        const n = this.nsOf(i, inum);
        if (i === NS_INDEX.user || i === NS_INDEX.pid) {
          this.linkParents(n);
          n.level = levelOf(n);
        }
        return n;
      }
      unresolved = true;
      // Unknown, and so is its level (parent undefined).
      return new Ns(0, i, 0, undefined);
    };
    for (let i = 0; i < NS_TYPES.length; i++) {
      const type = NS_TYPES[i]!;
      if (nstype !== 0 && (nstype & CLONE_NS_FLAGS[type]) === 0) continue;
      if (type === 'pid') {
        // A task's own pid namespace never changes: its children's does.
        t.pidForChildren = after(i, PFC_BIT, r?.pidForChildren, t.pidForChildren);
        continue;
      }
      if (type === 'time') {
        // Joining a time namespace moves the task itself, and its future children.
        t.ns[i] = after(i, 1 << i, r?.ns[i], t.ns[i]!);
        t.timeForChildren = after(i, TFC_BIT, r?.timeForChildren, t.timeForChildren);
        continue;
      }
      t.ns[i] = after(i, 1 << i, r?.ns[i], t.ns[i]!);
    }
    if (unresolved) this.stats.nsUnresolved++;
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
