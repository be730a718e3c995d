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
  /** Each CPU's reference block, in 32-bit words (undefined: none seen yet). */
  private readonly refs: Array<Uint32Array | undefined> = [];
  /** The chunk the last whole record was written to, and its words. */
  buf: Uint8Array = new Uint8Array(CHUNK);
  view: DataView = new DataView(this.buf.buffer);
  private words = new Uint32Array(this.buf.buffer);
  private pos = 0;
  /** Records whose block was put back. */
  restored = 0;
  /** Elided records of a CPU with no reference (never expected): block zero, FLAG_CTX_UNKNOWN. */
  unresolved = 0;
  private readonly sizeWords: number;

  /**
   * @param size bytes of the context block (at HDR in a whole record; a multiple of 4)
   * @param rawOff where the raw area starts in a whole record (align8(HDR + size))
   */
  constructor(
    private readonly size: number,
    private readonly rawOff: number,
  ) {
    if (size % 4 !== 0) throw new RangeError(`context block of ${size} bytes: not whole words`);
    this.sizeWords = size >> 2;
  }

  /**
   * The record at `off` (8-aligned, `len` bytes, its CPU `cpu`) of the ring `u`, whose 32-bit
   * words are `w` (the same memory; the ring's records are 8-aligned and padded to 8, so words
   * past `len` are still the ring's): a reference is kept; an elided record is made whole in
   * `buf` at the offset returned (its length: `len + rawOff - HDR`); -1 when the record is whole
   * as it is. Copies by words: this runs for most syscall records.
   */
  see(u: Uint8Array, w: Uint32Array, off: number, len: number, cpu: number): number {
    const flags = u[off + 12]!;
    const n = this.sizeWords;
    const o = off >> 2;
    if ((flags & FLAG_CTX_REF) !== 0) {
      let r = this.refs[cpu];
      if (r === undefined) r = this.refs[cpu] = new Uint32Array(n);
      const from = o + (HDR >> 2);
      for (let i = 0; i < n; i++) r[i] = w[from + i]!;
      return -1;
    }
    if ((flags & FLAG_CTX_SAME) === 0) return -1;
    const whole = len + this.rawOff - HDR;
    if (this.pos + whole + 8 > this.buf.length) {
      this.buf = new Uint8Array(Math.max(CHUNK, whole + 8));
      this.view = new DataView(this.buf.buffer);
      this.words = new Uint32Array(this.buf.buffer);
      this.pos = 0;
    }
    const b = this.words;
    const at = this.pos;
    const a = at >> 2;
    this.pos = (at + whole + 7) & ~7;
    for (let i = 0; i < HDR >> 2; i++) b[a + i] = w[o + i]!;
    const ref = this.refs[cpu];
    const blk = a + (HDR >> 2);
    const raw = a + (this.rawOff >> 2);
    if (ref === undefined) {
      for (let i = blk; i < raw; i++) b[i] = 0;
      this.unresolved++;
      this.buf[at + 12] = (flags & ~FLAG_CTX_SAME) | FLAG_CTX_UNKNOWN;
    } else {
      for (let i = 0; i < n; i++) b[blk + i] = ref[i]!;
      for (let i = blk + n; i < raw; i++) b[i] = 0;
      this.buf[at + 12] = flags & ~FLAG_CTX_SAME;
      this.restored++;
    }
    const rawWords = (len - HDR + 3) >> 2;
    const src = o + (HDR >> 2);
    for (let i = 0; i < rawWords; i++) b[raw + i] = w[src + i]!;
    return at;
  }
}
