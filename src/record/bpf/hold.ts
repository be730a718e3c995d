/**
 * Syscall entries whose strings are read at the syscall's exit (ADR 0164): such an entry is
 * held, with every later record of its CPU, until the exit's record brings the strings (or
 * says they could not be read), then written in its place in that CPU's stream.
 *
 * Pure logic, no kernel: the recorder gives it copies of records and a writer.
 */
import { FLAG_STR_UNKNOWN, HDR_STR_MASK, HDR_STR_FAILED } from './layout.js';

/**
 * Syscalls whose string arguments are read again at the exit when unreadable at entry: path
 * syscalls that only read user memory (their strings are what the kernel read: nothing in the
 * syscall writes them) and keep the address space (execve/execveat replace it: never).
 */
export const REREAD_SYSCALLS: ReadonlySet<string> = new Set([
  'open',
  'openat',
  'openat2',
  'creat',
  'access',
  'faccessat',
  'faccessat2',
  'chdir',
  'chroot',
  'mkdir',
  'mkdirat',
  'rmdir',
  'unlink',
  'unlinkat',
  'chmod',
  'fchmodat',
  'fchmodat2',
  'chown',
  'lchown',
  'fchownat',
  'truncate',
  'mknod',
  'mknodat',
  'rename',
  'renameat',
  'renameat2',
  'link',
  'linkat',
  'symlink',
  'symlinkat',
]);

interface Item {
  rec: Uint8Array;
  ts: number;
  /** An entry waiting for its exit (undefined: an ordinary record). */
  wait: { tid: number; done: boolean } | undefined;
}

export interface HoldLimits {
  /** Bytes held in all, at most; beyond, the oldest entry is written with its strings unknown. */
  maxBytes: number;
  /** An entry older than this (ns behind the newest record) is written with its strings unknown. */
  maxAgeNs: number;
}

export interface HoldStats {
  /** Entries held for their exit. */
  held: number;
  /** Entries written without their exit's strings (exit unreadable, lost, too late, stop). */
  givenUp: number;
}

export class StringHold {
  /** Per stream: records not written yet, oldest first; the first is a waiting entry. */
  private readonly queues = new Map<number, Item[]>();
  private readonly waiting = new Map<number, { item: Item; stream: number }>();
  private bytes = 0;
  private latest = 0;
  /** Records held now (0: the recorder's fast path writes directly). */
  active = 0;
  readonly stats: HoldStats = { held: 0, givenUp: 0 };

  constructor(
    private readonly write: (rec: Uint8Array) => void,
    private readonly limits: HoldLimits = { maxBytes: 32 << 20, maxAgeNs: 1e9 },
  ) {}

  /** The task has an entry waiting for its exit. */
  isWaiting(tid: number): boolean {
    return this.waiting.has(tid);
  }

  /** Holds an entry (a copy) until resolve(tid). */
  hold(stream: number, tid: number, ts: number, rec: Uint8Array): void {
    if (ts > this.latest) this.latest = ts;
    // A previous entry of the task still waiting (its exit never came): give it up first.
    if (this.waiting.has(tid)) this.resolve(tid, undefined);
    const item: Item = { rec, ts, wait: { tid, done: false } };
    this.push(stream, item);
    this.waiting.set(tid, { item, stream });
    this.stats.held++;
  }

  /** Queues a record behind a waiting entry of its stream; false when nothing waits there. */
  queue(stream: number, ts: number, rec: () => Uint8Array): boolean {
    if (ts > this.latest) this.latest = ts;
    const q = this.queues.get(stream);
    if (q === undefined || q.length === 0) return false;
    this.push(stream, { rec: rec(), ts, wait: undefined });
    return true;
  }

  /**
   * The exit of `tid` (or its next syscall) arrived: its waiting entry becomes `patch(entry)`
   * (undefined: written as it is, strings unknown) and its stream is written up to the next
   * waiting entry.
   */
  resolve(tid: number, patch: ((entry: Uint8Array) => Uint8Array) | undefined): void {
    const w = this.waiting.get(tid);
    if (w === undefined) return;
    this.waiting.delete(tid);
    w.item.wait!.done = true;
    if (patch) {
      const before = w.item.rec.length;
      w.item.rec = patch(w.item.rec);
      this.bytes += w.item.rec.length - before;
    } else this.stats.givenUp++;
    this.drain(w.stream);
  }

  /** Timestamp of the oldest waiting entry of `stream`, Infinity when none. */
  heldSince(stream: number): number {
    const q = this.queues.get(stream);
    return q !== undefined && q.length > 0 ? q[0]!.ts : Infinity;
  }

  /** Gives up entries waiting too long or holding too much (their strings stay unknown). */
  expire(): void {
    for (;;) {
      let oldest: { item: Item } | undefined;
      for (const w of this.waiting.values()) if (!oldest || w.item.ts < oldest.item.ts) oldest = w;
      if (!oldest) return;
      if (this.bytes <= this.limits.maxBytes && oldest.item.ts >= this.latest - this.limits.maxAgeNs) return;
      this.resolve(oldest.item.wait!.tid, undefined);
    }
  }

  /** Writes everything (end of the recording): waiting entries with their strings unknown. */
  releaseAll(): void {
    for (const tid of [...this.waiting.keys()]) this.resolve(tid, undefined);
  }

  private push(stream: number, item: Item): void {
    let q = this.queues.get(stream);
    if (q === undefined) this.queues.set(stream, (q = []));
    q.push(item);
    this.bytes += item.rec.length;
    this.active++;
  }

  private drain(stream: number): void {
    const q = this.queues.get(stream);
    if (q === undefined) return;
    let i = 0;
    while (i < q.length && (q[i]!.wait === undefined || q[i]!.wait!.done)) i++;
    if (i === 0) return;
    const out = q.splice(0, i);
    for (const it of out) {
      this.bytes -= it.rec.length;
      this.active--;
    }
    for (const it of out) this.write(it.rec);
  }
}

/**
 * The entry record `entry` with the strings its exit read: `strOff` is where the entry's strings
 * start (one NUL-terminated string per string argument, "" for those not read), `exitStrings`
 * the exit's (one per bit of the entry's pending mask, in argument order), `okMask` which of
 * those the exit read. Returns the new record (pending mask cleared, FLAG_STR_UNKNOWN cleared
 * when no string is left unknown) and how many strings were recovered.
 */
export function patchEntry(
  entry: Uint8Array,
  strOff: number,
  exitStrings: Uint8Array,
  okMask: number,
): { rec: Uint8Array; recovered: number } {
  const pending = entry[HDR_STR_MASK]!;
  const failed = entry[HDR_STR_FAILED]!;
  const mine = splitStrings(entry.subarray(strOff));
  const theirs = splitStrings(exitStrings);
  const parts: Uint8Array[] = [entry.subarray(0, strOff)];
  let j = 0;
  let recovered = 0;
  let unknown = 0;
  for (let k = 0; k < mine.length; k++) {
    const bit = 1 << k;
    let s = mine[k]!;
    if ((pending & bit) !== 0) {
      const t = theirs[j++];
      if ((okMask & bit) !== 0 && t !== undefined) {
        s = t;
        recovered++;
      } else unknown++;
    } else if ((failed & bit) !== 0) unknown++;
    parts.push(s);
  }
  let n = 0;
  for (const p of parts) n += p.length;
  const rec = new Uint8Array(n);
  n = 0;
  for (const p of parts) {
    rec.set(p, n);
    n += p.length;
  }
  rec[HDR_STR_MASK] = 0;
  if (unknown === 0) rec[12] = rec[12]! & ~FLAG_STR_UNKNOWN;
  return { rec, recovered };
}

/** NUL-terminated strings (each with its NUL); a trailing unterminated part is dropped. */
function splitStrings(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0) {
      out.push(b.subarray(start, i + 1));
      start = i + 1;
    }
  }
  return out;
}
