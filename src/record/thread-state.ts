/**
 * The state of the recorder's thread table (threads.ts adds what the trace's events change):
 * its threads and namespaces, what /proc says of them (the walk, reads deferred until the
 * converter reaches their time, lazy reads of tasks first seen in an event) and the lookup of
 * the thread an event belongs to.
 */
import { NS_INDEX, NS_TYPES, readTask, type ProcThread } from './proc.js';
import { CONTEXT_FIELDS, type ContextName } from './contexts.js';
import { Ns, Thread, commBytes, levelOf } from './thread.js';

/** Events of a task after its sched_process_exit (its last switch out) come within this. */
const EXITED_GRACE_NS = 50_000_000;

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
  /** Inodes in NS_TYPES order (0 when unreadable). */
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
export const ALL = (1 << 10) - 1;
/** What a task keeps all its life: its pid namespace and its ids (NSpid), not masked. */
export const IMMUTABLE = 1 << NS_INDEX.pid;
export const PFC_BIT = 1 << 8;
export const TFC_BIT = 1 << 9;

/** A /proc read of a task whose mutable values become exact at `at` (ThreadTable.defer). */
interface Deferred {
  tid: number;
  pid: number;
  at: number;
  p: ProcThread;
}

export abstract class ThreadState {
  readonly byTid = new Map<number, Thread>();
  /** Per-CPU idle threads (tid 0, `swapper/N`). */
  protected readonly idle: Thread[] = [];
  protected readonly nsByKey = new Map<string, Ns>();
  /** Incremented whenever a namespace becomes known: every thread rebuilds its context. */
  epoch = 0;
  /** Incremented whenever a tid is removed or moved (cached tid -> thread lookups are stale). */
  version = 0;
  readonly contexts: readonly ContextName[];
  readonly ctxWords: number;
  readonly ctxBytes: number;
  protected readonly readTaskFn: (tid: number) => ProcThread | undefined;
  protected readonly nsParent: (inum: number) => number | undefined;
  protected readonly now: () => number;
  protected readonly snapshotFn: ((tid: number, ts: number) => NsSnapshotLike | undefined) | undefined;
  protected readonly startedBy: (startNs: number, ts: number) => boolean;
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
  protected deferred: Deferred[] = [];
  /** Time of the first deferred read (Infinity when none): the converter calls resolveDue. */
  nextDueAt = Infinity;
  /** The ppid and vppid contexts are written (parents' exits must be followed). */
  protected readonly ppidContexts: boolean;
  /** Bumped whenever ids or namespaces of some thread became known (patches may apply). */
  learned = 0;

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
  protected unknownCommBytes(): Uint8Array {
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
  protected sameTask(t: Thread, d: Deferred): boolean {
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
  protected fixPfcLevel(t: Thread): void {
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

  protected applyLate(t: Thread, p: ProcThread): void {
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
  protected fill(t: Thread, ts: number): boolean {
    const snap = this.snapshotFn?.(t.tid, ts);
    if (snap && snap.pid === t.pid) {
      this.applySnapshot(t, snap);
      // A snapshot taken while the task was exiting has some links unreadable (0).
      if (!this.hasUnknown(t)) return true;
    }
    return this.fillFromProc(t, ts);
  }

  protected applySnapshot(t: Thread, p: NsSnapshotLike): void {
    this.fillUnknown(t, p, p.mask ?? ALL);
    this.invalidate(t);
    this.learned++;
  }

  /**
   * Fills what `t` does not know (namespaces whose `mask` bit is set, ids at each pid-ns level)
   * from a snapshot or a /proc read of the same task. Returns whether an id was filled in.
   */
  protected fillUnknown(t: Thread, p: NsSnapshotLike, mask: number): boolean {
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

  protected linkParents(n: Ns, depth = 0): void {
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
  protected rootPidNsIfOneLevel(t: Thread): void {
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

  protected rootCache: Ns[] = [];
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

  protected lazy(tid: number, ts: number): Thread {
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

  protected invalidate(t: Thread): void {
    t.ctxEpoch = -1;
  }

  protected resolveNs(n: Ns, inum: number): void {
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
  protected fillFromProc(t: Thread, ts: number): boolean {
    const p = this.readTaskFn(t.tid);
    if (!p || p.pid !== t.pid || !this.startedBy(p.startNs, ts)) return false;
    const before = t.ns[NS_INDEX.pid]!.inum;
    if (this.fillUnknown(t, p, IMMUTABLE) || t.ns[NS_INDEX.pid]!.inum !== before) {
      this.invalidate(t);
      this.learned++;
    }
    return true;
  }

  protected hasUnknown(t: Thread): boolean {
    for (const n of t.ns) if (n.inum === 0) return true;
    if (t.pidForChildren.inum === 0) return true;
    for (const x of t.nsTids) if (x === 0) return true;
    return false;
  }

  /**
   * task_newtask (in the parent's context): a thread or process is created with `flags`.
   * The child inherits the parent's namespaces except those the flags make new.
   */
}
