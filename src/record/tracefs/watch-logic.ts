/**
 * The rules that decide whether a value the watcher read from /proc is the one an event saw
 * (docs/record.md, "What the tracefs backend guarantees"; ADR 0165). Pure logic over an I/O
 * interface, so that unit tests drive it with fakes (tid reuse, exec, a syscall that changed,
 * memory rewritten) and the watcher's worker runs the very same code.
 *
 * `watchLogic` is serialised into the worker with `toString()`: it must stay self-contained
 * (no imports at run time, no reference to anything outside its body).
 */

/** What the watcher reads from /proc for one task, one file at a time. */
export interface ProcIo {
  /** Start of the task now at /proc/<tid> (relative mono ns), undefined when there is none. */
  startNs(tid: number): number | undefined;
  /** `/proc/<tid>/syscall` (one line), undefined when unreadable. */
  syscall(tid: number): string | undefined;
  /**
   * Opens `/proc/<tid>/mem` (bound to the address space the task has right now); undefined
   * when it cannot be opened.
   */
  mem(tid: number): MemReader | undefined;
  /** Relative mono ns (the clock of the trace). */
  now(): number;
}

export interface MemReader {
  /** The NUL-terminated string at `ptr` (without its NUL); undefined on a fault or no NUL. */
  readString(ptr: number): Uint8Array | undefined;
  close(): void;
}

/** A syscall entry the watcher saw: the thread, its syscall number and raw arguments. */
export interface StrEvent {
  tid: number;
  ts: number;
  nr: number;
  /** The record's arguments as /proc/<tid>/syscall prints them (`0x` + lowercase hex). */
  args: string[];
  /** Pointers of the string arguments to copy. */
  ptrs: number[];
}

/** Why a string was not written: the summary's reasons (`unknown` counters). */
export type StrReason =
  | 'gone'
  | 'running'
  | 'notInSyscall'
  | 'argsDiffer'
  | 'readFailed'
  | 'nullPointer'
  | 'changed'
  | 'left'
  | 'lost'
  | 'late';

export type StrVerdict = { ok: true; strings: Uint8Array[]; t2: number } | { ok: false; reason: StrReason };

/** Bits of a namespace snapshot's validity mask: NS_TYPES order, then these two. */
export const SNAP_PID_FOR_CHILDREN = 1 << 8;
export const SNAP_TIME_FOR_CHILDREN = 1 << 9;
/** Every value of a snapshot. */
export const SNAP_ALL = (1 << 10) - 1;
/** What never changes during a task's life: its pid namespace (bit 0); ids are always valid. */
export const SNAP_IMMUTABLE = 1;
/** Bit of the time namespace (index 7 in NS_TYPES): exec moves a task to time_for_children. */
export const SNAP_TIME = 1 << 7;

/** An event that can end a syscall or change a task (fed to {@link Pending.note}). */
export type ChangeKind = 'sysexit' | 'exec' | 'exit' | 'nschange';

export interface PendingItem<T> {
  tid: number;
  ts: number;
  /** When the last check of the reads was done (relative ns): changes up to here matter. */
  t2: number;
  value: T;
  kind: 'str' | 'ns';
  /** Strings: why the reads are void (a change came between the event and `t2`). */
  rejected?: StrReason;
  /** Namespace snapshots: which values still hold (SNAP_* bits). */
  mask: number;
  /**
   * execve-like syscalls: the address space may be replaced while the thread is still inside
   * the syscall, so the read holds only if the syscall's exit comes with no exec before it.
   */
  untilExit: boolean;
  /** untilExit: first exit of the syscall after the event, and first exec or task exit. */
  exitAt?: number;
  execAt?: number;
}

/** Logic serialised into the watcher worker (see the file comment). */
export function watchLogic() {
  // Copies of the SNAP_* constants: this body may not refer to anything outside itself.
  const IMMUTABLE = 1;
  const TIME = 1 << 7;

  /** `0x` + lowercase hex of the 64-bit value lo + hi * 2^32, as the kernel's `0x%lx`. */
  function hex64(lo: number, hi: number): string {
    if (hi === 0) return '0x' + (lo >>> 0).toString(16);
    return '0x' + (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0');
  }

  /**
   * `/proc/<tid>/syscall`: `running`, `-1 SP PC` (not in a syscall), or `NR A0..A5 SP PC`.
   */
  function parseSyscall(line: string): { running: true } | { running: false; nr: number; args: string[] } {
    const t = line.trim();
    if (t === 'running') return { running: true };
    const p = t.split(' ');
    return { running: false, nr: Number(p[0]), args: p.slice(1, 7) };
  }

  /**
   * Reads the strings of `ev` from the thread's memory only if the thread is provably still
   * inside that very syscall: same task (start time), same syscall number and arguments before
   * and after the read (`/proc/<tid>/syscall`, which shows them only for a blocked task), the
   * address space opened in between. What may still void the read (the thread left the
   * syscall and came back, an exec) is checked afterwards against the trace ({@link Pending}).
   */
  function verifyString(io: ProcIo, ev: StrEvent, startSlackNs: number): StrVerdict {
    // Cheapest first: most threads have long left the syscall when the watcher gets there.
    const l1 = io.syscall(ev.tid);
    if (l1 === undefined) return { ok: false, reason: 'gone' };
    const s1 = parseSyscall(l1);
    if (s1.running) return { ok: false, reason: 'running' };
    if (s1.nr !== ev.nr) return { ok: false, reason: 'notInSyscall' };
    for (let i = 0; i < ev.args.length; i++) {
      if (s1.args[i] !== ev.args[i]) return { ok: false, reason: 'argsDiffer' };
    }
    // A task that started after the event got the tid later (tids are reused). (A task that
    // replaced the event's one would also show as its exit in the trace: see Pending.)
    const st0 = io.startNs(ev.tid);
    if (st0 === undefined || st0 > ev.ts + startSlackNs) return { ok: false, reason: 'gone' };
    if (ev.ptrs.some((p) => p === 0)) return { ok: false, reason: 'nullPointer' };
    const m = io.mem(ev.tid);
    if (m === undefined) return { ok: false, reason: 'readFailed' };
    const strings: Uint8Array[] = [];
    let failed = false;
    try {
      for (const p of ev.ptrs) {
        const s = m.readString(p);
        if (s === undefined) {
          failed = true;
          break;
        }
        strings.push(s);
      }
    } finally {
      m.close();
    }
    if (failed) return { ok: false, reason: 'readFailed' };
    const l2 = io.syscall(ev.tid);
    if (l2 !== l1) return { ok: false, reason: 'changed' };
    const st1 = io.startNs(ev.tid);
    if (st1 !== st0) return { ok: false, reason: 'changed' };
    return { ok: true, strings, t2: io.now() };
  }

  /**
   * Reads waiting for the trace to say nothing happened between their event and their last
   * check: a syscall exit, an exec or an exit of the thread in that interval voids a string;
   * an unshare/setns voids a snapshot's mutable namespaces, an exec its time namespace. A
   * read is final once the trace has been read past its last check (`settle`).
   *
   * Changes are remembered for `keepNs`, for reads made after a change that was read first
   * (two CPUs' buffers are not read at the same instant).
   */
  class Pending<T> {
    readonly byTid = new Map<number, Array<PendingItem<T>>>();
    readonly recent = new Map<number, Array<{ ts: number; kind: ChangeKind }>>();
    readonly keepNs: number;
    size = 0;
    constructor(keepNs: number) {
      this.keepNs = keepNs;
    }

    add(item: PendingItem<T>): void {
      const r = this.recent.get(item.tid);
      if (r) for (const c of r) this.apply(item, c.ts, c.kind);
      let l = this.byTid.get(item.tid);
      if (!l) this.byTid.set(item.tid, (l = []));
      l.push(item);
      this.size++;
    }

    apply(p: PendingItem<T>, ts: number, kind: ChangeKind): void {
      if (ts <= p.ts) return;
      if (p.kind === 'str') {
        if (p.untilExit) {
          if (kind === 'sysexit') {
            if (p.exitAt === undefined || ts < p.exitAt) p.exitAt = ts;
          } else if (kind === 'exec' || kind === 'exit') {
            if (p.execAt === undefined || ts < p.execAt) p.execAt = ts;
          }
          return;
        }
        if (ts <= p.t2) p.rejected ??= 'left';
        return;
      }
      if (ts > p.t2) return;
      if (kind === 'nschange') p.mask &= IMMUTABLE;
      else if (kind === 'exec') p.mask &= ~TIME;
    }

    /** A change of `tid` at `ts` (from the trace). */
    note(tid: number, ts: number, kind: ChangeKind): void {
      let r = this.recent.get(tid);
      if (!r) this.recent.set(tid, (r = []));
      r.push({ ts, kind });
      const l = this.byTid.get(tid);
      if (l) for (const p of l) this.apply(p, ts, kind);
    }

    ready(p: PendingItem<T>, upTo: number): boolean {
      if (!p.untilExit) return p.t2 < upTo;
      // Everything before the exit has been read once the trace is complete past it.
      if (p.exitAt === undefined || p.exitAt >= upTo) return false;
      if (p.execAt !== undefined && p.execAt < p.exitAt) p.rejected ??= 'left';
      return true;
    }

    /**
     * Every read that is final now that the trace is complete up to `upTo`, in no particular
     * order; also forgets old changes.
     */
    settle(upTo: number): Array<PendingItem<T>> {
      const out = this.take((p) => this.ready(p, upTo));
      for (const [tid, r] of this.recent) {
        let keep = 0;
        for (const c of r) if (c.ts >= upTo - this.keepNs) r[keep++] = c;
        r.length = keep;
        if (keep === 0) this.recent.delete(tid);
      }
      return out;
    }

    /** Voids everything pending (the trace lost events: a change may be among them). */
    voidAll(reason: StrReason): Array<PendingItem<T>> {
      const out: Array<PendingItem<T>> = [];
      for (const l of this.byTid.values())
        for (const p of l) {
          if (p.kind === 'str') p.rejected ??= reason;
          else p.mask &= IMMUTABLE;
          out.push(p);
        }
      this.byTid.clear();
      this.recent.clear();
      this.size = 0;
      return out;
    }

    /** Gives up on reads whose event is before `beforeTs` and still wait for an exit. */
    expire(beforeTs: number): Array<PendingItem<T>> {
      return this.take((p) => {
        if (!p.untilExit || p.ts >= beforeTs) return false;
        p.rejected ??= 'late';
        return true;
      });
    }

    /** Takes out the pending reads `done` picks, in no particular order. */
    take(done: (p: PendingItem<T>) => boolean): Array<PendingItem<T>> {
      const out: Array<PendingItem<T>> = [];
      for (const [tid, l] of this.byTid) {
        let keep = 0;
        for (const p of l) {
          if (done(p)) out.push(p);
          else l[keep++] = p;
        }
        l.length = keep;
        if (keep === 0) this.byTid.delete(tid);
      }
      this.size -= out.length;
      return out;
    }

    /** Timestamp of the oldest read still pending (Infinity when none). */
    oldest(): number {
      let m = Infinity;
      for (const l of this.byTid.values()) for (const p of l) if (p.ts < m) m = p.ts;
      return m;
    }
  }

  return { hex64, parseSyscall, verifyString, Pending };
}

export type WatchLogic = ReturnType<typeof watchLogic>;
