/**
 * Puts back the context block a syscall record left out of the ring (FLAG_CTX_SAME, see
 * Gen.outputElided): the block of the last record of the same CPU marked FLAG_CTX_REF, in ring
 * order. The kernel compared the two byte for byte at that event, so the block put back is the
 * one it read then. Records are read in ring order (`see` comes first in the recorder's path,
 * before anything reorders them).
 *
 * Whole records come out in chunks of this object's own (a bump allocator: a chunk is never
 * written again once full, so a record handed out stays valid as long as someone holds it;
 * nothing is allocated per record).
 */
import { FLAG_CTX_REF, FLAG_CTX_SAME, FLAG_CTX_UNKNOWN, HDR } from './layout.js';

const CHUNK = 1 << 16;

export class ContextRefs {
  /** Each CPU's reference block (undefined: none seen yet). */
  private readonly refs: Array<Uint8Array | undefined> = [];
  /** The chunk the last whole record was written to. */
  buf: Uint8Array = new Uint8Array(CHUNK);
  view: DataView = new DataView(this.buf.buffer);
  private pos = 0;
  /** Records whose block was put back. */
  restored = 0;
  /** Elided records of a CPU with no reference (never expected): block zero, FLAG_CTX_UNKNOWN. */
  unresolved = 0;

  /**
   * @param size bytes of the context block (at HDR in a whole record)
   * @param rawOff where the raw area starts in a whole record (align8(HDR + size))
   */
  constructor(
    private readonly size: number,
    private readonly rawOff: number,
  ) {}

  /**
   * The record of the ring at `off` (`len` bytes, its CPU `cpu`): a reference is kept; an
   * elided record is made whole in `buf` at the offset returned (its length:
   * `len + rawOff - HDR`); -1 when the record is whole as it is.
   */
  see(u: Uint8Array, off: number, len: number, cpu: number): number {
    const flags = u[off + 12]!;
    if ((flags & FLAG_CTX_REF) !== 0) {
      let r = this.refs[cpu];
      if (r === undefined) r = this.refs[cpu] = new Uint8Array(this.size);
      r.set(u.subarray(off + HDR, off + HDR + this.size));
      return -1;
    }
    if ((flags & FLAG_CTX_SAME) === 0) return -1;
    const whole = len + this.rawOff - HDR;
    if (this.pos + whole > this.buf.length) {
      this.buf = new Uint8Array(Math.max(CHUNK, whole));
      this.view = new DataView(this.buf.buffer);
      this.pos = 0;
    }
    const b = this.buf;
    const at = this.pos;
    this.pos = (at + whole + 7) & ~7;
    for (let i = 0; i < HDR; i++) b[at + i] = u[off + i]!;
    const ref = this.refs[cpu];
    if (ref === undefined) {
      this.unresolved++;
      b.fill(0, at + HDR, at + this.rawOff);
      b[at + 12] = (b[at + 12]! & ~FLAG_CTX_SAME) | FLAG_CTX_UNKNOWN;
    } else {
      b.set(ref, at + HDR);
      b.fill(0, at + HDR + this.size, at + this.rawOff);
      b[at + 12] = b[at + 12]! & ~FLAG_CTX_SAME;
      this.restored++;
    }
    b.set(u.subarray(off + HDR, off + len), at + this.rawOff);
    return at;
  }
}
