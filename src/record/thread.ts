/**
 * A thread of the recorder's thread table (threads.ts) and its namespaces: ids at every
 * pid-namespace level, namespaces, comm, and the context words written for its events.
 */

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
export const CLONE_PARENT = 0x00008000;

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

/** What a new entry of the thread table starts from (a /proc read, or an event). */
export type ThreadInit = Pick<
  Thread,
  'pid' | 'ppid' | 'comm' | 'ns' | 'pidForChildren' | 'timeForChildren' | 'nsTids' | 'nsPids' | 'seenAt'
>;

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
    init: ThreadInit,
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

/** Nesting level of a namespace (0: initial). */
export function levelOf(n: Ns): number {
  let l = 0;
  for (let p = n.parent; p; p = p.parent) l++;
  return l;
}
