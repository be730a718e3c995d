/**
 * The last stream event context of a stream, kept by bytes (see `StreamCursor`): an event whose
 * context has the same bytes is not decoded again, and readers can tell consumers that it did
 * not change (`EventRecord.streamContextVersion`).
 */
import type { FieldValue } from './event.js';

export class ContextCache {
  /** The decoded values (reused). */
  vals: FieldValue[] | undefined;
  /** Incremented whenever `vals` changes: equal numbers, equal contexts. */
  version = 0;
  /** `version` of the last event given out (-1: none, or one the consumer did not see). */
  given = -1;
  /** Bytes of the context decoded into `vals` (undefined: none to compare with). */
  private raw: Uint8Array | undefined;
  private rawView: DataView | undefined;

  /** Whether the `n` bytes at `off` equal the cached context's. */
  same(u8: Uint8Array, dv: DataView, off: number, n: number): boolean {
    const raw = this.raw;
    if (raw === undefined) return false;
    // Four bytes at a time, then the tail.
    const rv = this.rawView!;
    const n4 = n & ~3;
    let i = 0;
    for (; i < n4; i += 4) if (dv.getUint32(off + i, true) !== rv.getUint32(i, true)) return false;
    for (; i < n; i++) if (u8[off + i] !== raw[i]) return false;
    return true;
  }

  /** Keeps the `n` bytes at `off` (of a context of `fields` fields) before decoding them into `vals`. */
  store(u8: Uint8Array, off: number, n: number, fields: number): void {
    let raw = this.raw;
    if (raw === undefined) {
      raw = new Uint8Array(n);
      this.raw = raw;
      this.rawView = new DataView(raw.buffer);
      this.vals ??= new Array<FieldValue>(fields);
    }
    for (let i = 0; i < n; i++) raw[i] = u8[off + i]!;
  }

  /** Forgets the bytes (the next context is decoded and gets a new version). */
  invalidate(): void {
    this.raw = undefined;
  }
}
