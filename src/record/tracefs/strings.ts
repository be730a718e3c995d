/**
 * Syscall string arguments (paths, names) in the tracefs backend: what gets written, and the
 * counts the summary shows. A string is written only when it is provably the one the syscall
 * saw (docs/record.md, "What the tracefs backend guarantees"; ADR 0165):
 *
 * - the kernel's own copy in the event (`__data_loc char[] __<arg>_val` fields, kernels that
 *   have them), when it is complete (not cut at `syscall_user_buf_size`, which the kernel marks
 *   with "...") and unambiguous (the kernel prints a byte it finds unprintable as '.', so a
 *   copy with a '.' holds only where the watcher's verified read confirms it);
 * - otherwise the watcher's verified read (watch-logic.ts: the thread still blocked in that very
 *   syscall with the same arguments around the read, and nothing in the trace in between).
 *
 * Anything else is written as the empty string, LTTng's "no value", and counted with its
 * reason.
 */
import type { StrCapture } from './watch-worker.js';

export type UnknownStringReason =
  | NonNullable<StrCapture['reason']>
  /** No watcher (disabled, or its worker failed). */
  | 'noWatcher'
  /** The watcher had no result for the event (starved for seconds, or it missed it). */
  | 'noResult'
  /** The kernel's copy was cut at syscall_user_buf_size, and no verified read. */
  | 'kernelTruncated'
  /** The kernel's copy has a '.' that may stand for an unprintable byte, and no verified read. */
  | 'kernelAmbiguous'
  /** The kernel could not copy the string (fault), and no verified read. */
  | 'kernelFault'
  /** Exit-event strings from the entry's pointer: never read. */
  | 'exitArgument';

export interface StringStats {
  /** String arguments written with the value the syscall saw. */
  known: number;
  /** ... of which from the kernel's own copy in the event. */
  fromKernel: number;
  /** Written as "" (unknown), by reason. */
  unknown: number;
  reasons: Partial<Record<UnknownStringReason, number>>;
}

/** What the converter asks for a string argument (see convert.ts). */
export interface StringSource {
  /** The watcher's verdict for the string at `ptr` of the syscall of `tid` at `ts`. */
  capture(tid: number, ts: number, ptr: number): StrCapture | undefined;
  /** The watcher is not running (disabled or failed). */
  readonly noWatcher: boolean;
}

const DOT = 0x2e;

export class StringArgs {
  readonly stats: StringStats = { known: 0, fromKernel: 0, unknown: 0, reasons: {} };

  /**
   * @param kernelMax the kernel's `syscall_user_buf_size` for the recording's instance
   *   (undefined when the file does not exist: a copy ending in "..." may then be cut).
   */
  constructor(
    private readonly src: StringSource,
    private readonly kernelMax?: number,
  ) {}

  private unknown(reason: UnknownStringReason, du: Uint8Array, o: number): number {
    this.stats.unknown++;
    this.stats.reasons[reason] = (this.stats.reasons[reason] ?? 0) + 1;
    du[o] = 0;
    return o + 1;
  }

  private put(bytes: Uint8Array, du: Uint8Array, o: number): number {
    this.stats.known++;
    du.set(bytes, o);
    du[o + bytes.length] = 0;
    return o + bytes.length + 1;
  }

  /** The watcher's verified read, or "" (counted). */
  user(tid: number, ts: number, ptr: number, du: Uint8Array, o: number): number {
    if (this.src.noWatcher) return this.unknown('noWatcher', du, o);
    const cap = this.src.capture(tid, ts, ptr);
    if (cap === undefined) return this.unknown('noResult', du, o);
    if (cap.reason !== undefined) return this.unknown(cap.reason, du, o);
    return this.put(cap.bytes, du, o);
  }

  /**
   * The kernel's copy of the string (`len` bytes at `pu[at]`, NUL included; `len` 0 when the
   * kernel could not copy it), checked as the file comment says.
   */
  kernel(
    tid: number,
    ts: number,
    ptr: number,
    pu: Uint8Array,
    at: number,
    len: number,
    du: Uint8Array,
    o: number,
  ): number {
    // The watcher's verdict is taken in any case (its result for this event must not linger).
    const cap = this.src.noWatcher ? undefined : this.src.capture(tid, ts, ptr);
    const verified = cap !== undefined && cap.reason === undefined ? cap.bytes : undefined;
    if (len === 0) return verified ? this.put(verified, du, o) : this.unknown('kernelFault', du, o);
    let n = len;
    while (n > 0 && pu[at + n - 1] === 0) n--;
    const k = pu.subarray(at, at + n);
    const cut =
      this.kernelMax !== undefined
        ? n > this.kernelMax
        : n >= 3 && k[n - 1] === DOT && k[n - 2] === DOT && k[n - 3] === DOT;
    if (cut) return verified ? this.put(verified, du, o) : this.unknown('kernelTruncated', du, o);
    if (k.includes(DOT)) {
      if (verified && sameAsKernelCopy(verified, k)) return this.put(verified, du, o);
      return this.unknown('kernelAmbiguous', du, o);
    }
    this.stats.fromKernel++;
    return this.put(k, du, o);
  }

  /** An exit event's string from the entry's pointer: never read (the call is over). */
  exitArgument(du: Uint8Array, o: number): number {
    return this.unknown('exitArgument', du, o);
  }
}

/** Printable as the kernel's isprint() (Latin-1 ctype table): 0x20-0x7e and 0xa0-0xff. */
function kernelPrintable(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || b >= 0xa0;
}

/** Whether the kernel, copying `real`, would have recorded `copy` (unprintables as '.'). */
export function sameAsKernelCopy(real: Uint8Array, copy: Uint8Array): boolean {
  if (real.length !== copy.length) return false;
  for (let i = 0; i < real.length; i++) {
    const b = real[i]!;
    if ((kernelPrintable(b) ? b : DOT) !== copy[i]) return false;
  }
  return true;
}
