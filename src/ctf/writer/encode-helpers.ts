/**
 * Small, monomorphic write helpers called by the generated encoders (`encoder.ts`). Positions
 * are bit positions (`pos`) or byte indexes (`byte`) in the stream's chunk buffer.
 */
import { WriterError } from '../../util/errors.js';

/**
 * What an encoder accepts for one field. The reader's `FieldValue`s are accepted as they are;
 * also bytes for byte arrays/sequences, enum labels, variant options by name, and missing
 * values (encoded as 0 / empty).
 */
export type WValue = number | bigint | string | Uint8Array | readonly WValue[] | WVariant | undefined | null;
export interface WVariant {
  readonly option: number | string;
  readonly value: WValue;
}
export type Values = readonly WValue[];

const TWO32 = 4294967296;

let hi32 = 0;
let lo32 = 0;

/** Splits `v` into the two's-complement 64-bit halves `hi32`/`lo32` (module scratch). */
function split(v: WValue): void {
  if (typeof v === 'number') {
    if (v !== v) v = 0;
    const h = Math.floor(v / TWO32);
    lo32 = (v - h * TWO32) >>> 0;
    hi32 = h >>> 0;
  } else if (typeof v === 'bigint') {
    lo32 = Number(BigInt.asUintN(32, v));
    hi32 = Number(BigInt.asUintN(32, v >> 32n));
  } else {
    lo32 = 0;
    hi32 = 0;
  }
}

/** Writes a 64-bit integer (number or bigint) at a byte index. */
export function w64(dv: DataView, byte: number, v: WValue, le: boolean): void {
  if (typeof v === 'number' && v >= 0 && v < TWO32) {
    dv.setUint32(byte + (le ? 0 : 4), v, le);
    dv.setUint32(byte + (le ? 4 : 0), 0, le);
    return;
  }
  split(v);
  dv.setUint32(byte + (le ? 0 : 4), lo32, le);
  dv.setUint32(byte + (le ? 4 : 0), hi32, le);
}

function bitsAt(i: number, n: number): number {
  // n <= 8 bits of the 64-bit value (hi32:lo32) starting at bit i.
  const mask = (1 << n) - 1;
  if (i + n <= 32) return (lo32 >>> i) & mask;
  if (i >= 32) return (hi32 >>> (i - 32)) & mask;
  return ((lo32 >>> i) | (hi32 << (32 - i))) & mask;
}

/**
 * Writes the low `size` bits of `v` at bit position `pos`, CTF style: little-endian fields fill
 * each byte from its least significant bit, big-endian ones from its most significant bit.
 * Bits around the field are kept.
 */
export function wbits(u8: Uint8Array, pos: number, size: number, v: WValue, le: boolean): void {
  split(v);
  if (le) {
    let i = 0;
    while (i < size) {
      const byte = pos >>> 3;
      const off = pos & 7;
      const n = Math.min(8 - off, size - i);
      const mask = ((1 << n) - 1) << off;
      u8[byte] = (u8[byte]! & ~mask) | ((bitsAt(i, n) << off) & mask);
      pos += n;
      i += n;
    }
  } else {
    let rem = size;
    while (rem > 0) {
      const byte = pos >>> 3;
      const off = pos & 7;
      const n = Math.min(8 - off, rem);
      const shift = 8 - off - n;
      const mask = ((1 << n) - 1) << shift;
      u8[byte] = (u8[byte]! & ~mask) | ((bitsAt(rem - n, n) << shift) & mask);
      pos += n;
      rem -= n;
    }
  }
}

/** Integer of any size at any bit position (fast path when byte-aligned and 8/16/32/64 bits). */
export function wint(u8: Uint8Array, dv: DataView, pos: number, size: number, v: WValue, le: boolean): void {
  if ((pos & 7) === 0) {
    const b = pos >>> 3;
    switch (size) {
      case 8:
        u8[b] = typeof v === 'number' ? v : Number(v ?? 0);
        return;
      case 16:
        dv.setUint16(b, typeof v === 'number' ? v : Number(v ?? 0), le);
        return;
      case 32:
        dv.setUint32(
          b,
          typeof v === 'number' ? v : Number(typeof v === 'bigint' ? BigInt.asUintN(32, v) : 0),
          le,
        );
        return;
      case 64:
        w64(dv, b, v, le);
        return;
    }
  }
  wbits(u8, pos, size, v, le);
}

const fscratch = new DataView(new ArrayBuffer(8));

/** A float at any bit position. */
export function wfloat(u8: Uint8Array, pos: number, size: 32 | 64, v: WValue, le: boolean): void {
  const x = typeof v === 'number' ? v : Number(v ?? 0);
  if (size === 32) {
    fscratch.setFloat32(0, x, true);
    wbits(u8, pos, 32, fscratch.getUint32(0, true), le);
  } else {
    fscratch.setFloat64(0, x, true);
    wbits(u8, pos, 64, fscratch.getBigUint64(0, true), le);
  }
}

const encoder = new TextEncoder();

function toStr(v: WValue): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  return String(v);
}

/**
 * Writes `s` as a NUL-terminated UTF-8 string at byte `byte`, stopping at the first NUL of `s`.
 * Returns the byte index after the terminator, or -1 if it would pass `lim`.
 */
export function wstr(u8: Uint8Array, byte: number, lim: number, v: WValue): number {
  const s = typeof v === 'string' ? v : toStr(v);
  const n = s.length;
  if (byte + n + 1 > lim) return -1;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || c === 0) break;
    u8[byte + i] = c;
  }
  if (i === n || s.charCodeAt(i) === 0) {
    u8[byte + i] = 0;
    return byte + i + 1;
  }
  const start = byte + i;
  const r = encoder.encodeInto(s.substring(i), u8.subarray(start, lim - 1));
  if (r.read < n - i) return -1;
  let end = start + r.written;
  const z = u8.indexOf(0, start);
  if (z >= 0 && z < end) end = z;
  u8[end] = 0;
  return end + 1;
}

/** Same as `wstr` for byte strings (one char per byte, as the reader returns them). */
export function wstrLatin1(u8: Uint8Array, byte: number, lim: number, v: WValue): number {
  const s = toStr(v);
  const n = s.length;
  if (byte + n + 1 > lim) return -1;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) break;
    u8[byte + i] = c;
  }
  u8[byte + i] = 0;
  return byte + i + 1;
}

/**
 * UTF-8 bytes of `s` (no terminator) at `byte`, for text sequences. Returns the number of bytes
 * written, or -1 if they would pass `lim`.
 */
export function wtextSeq(u8: Uint8Array, byte: number, lim: number, v: WValue): number {
  if (typeof v !== 'string') return wbytes(u8, byte, lim, v);
  const n = v.length;
  if (byte + n > lim) return -1;
  let i = 0;
  for (; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x80) break;
    u8[byte + i] = c;
  }
  if (i === n) return n;
  const r = encoder.encodeInto(v.substring(i), u8.subarray(byte + i, lim));
  if (r.read < n - i) return -1;
  return i + r.written;
}

export function wtextSeqLatin1(u8: Uint8Array, byte: number, lim: number, v: WValue): number {
  if (typeof v !== 'string') return wbytes(u8, byte, lim, v);
  const n = v.length;
  if (byte + n > lim) return -1;
  for (let i = 0; i < n; i++) u8[byte + i] = v.charCodeAt(i);
  return n;
}

/** Bytes (Uint8Array, number[] or string) at `byte`; returns the count or -1 past `lim`. */
export function wbytes(u8: Uint8Array, byte: number, lim: number, v: WValue): number {
  if (v instanceof Uint8Array) {
    if (byte + v.length > lim) return -1;
    u8.set(v, byte);
    return v.length;
  }
  if (Array.isArray(v)) {
    const n = v.length;
    if (byte + n > lim) return -1;
    for (let i = 0; i < n; i++) {
      const x = v[i];
      u8[byte + i] = typeof x === 'number' ? x : typeof x === 'bigint' ? Number(BigInt.asUintN(8, x)) : 0;
    }
    return n;
  }
  if (typeof v === 'string') return wtextSeqLatin1(u8, byte, lim, v);
  return 0;
}

const textScratch = new Uint8Array(4096);

/**
 * A fixed array of `n` chars: the text (UTF-8, cut at a character boundary and at the first NUL)
 * then NUL padding. Also takes a Uint8Array or an array of numbers.
 */
export function wchars(u8: Uint8Array, byte: number, n: number, v: WValue): void {
  if (typeof v === 'string') {
    const m = v.length;
    let i = 0;
    for (; i < m && i < n; i++) {
      const c = v.charCodeAt(i);
      if (c >= 0x80 || c === 0) break;
      u8[byte + i] = c;
    }
    if (i < m && i < n && v.charCodeAt(i) !== 0) {
      const scratch = n + 4 <= textScratch.length ? textScratch : new Uint8Array(n + 4);
      const r = encoder.encodeInto(v.substring(i), scratch.subarray(0, n - i));
      let w = r.written;
      const z = scratch.subarray(0, w).indexOf(0);
      if (z >= 0) w = z;
      u8.set(scratch.subarray(0, w), byte + i);
      i += w;
    }
    u8.fill(0, byte + i, byte + n);
    return;
  }
  wcharsBytes(u8, byte, n, v);
}

export function wcharsLatin1(u8: Uint8Array, byte: number, n: number, v: WValue): void {
  if (typeof v === 'string') {
    const m = Math.min(v.length, n);
    let i = 0;
    for (; i < m; i++) {
      const c = v.charCodeAt(i);
      if (c === 0) break;
      u8[byte + i] = c;
    }
    u8.fill(0, byte + i, byte + n);
    return;
  }
  wcharsBytes(u8, byte, n, v);
}

function wcharsBytes(u8: Uint8Array, byte: number, n: number, v: WValue): void {
  let i = 0;
  if (v instanceof Uint8Array) {
    i = Math.min(n, v.length);
    u8.set(v.subarray(0, i), byte);
  } else if (Array.isArray(v)) {
    i = Math.min(n, v.length);
    for (let j = 0; j < i; j++) {
      const x = v[j];
      u8[byte + j] = typeof x === 'number' ? x : 0;
    }
  }
  u8.fill(0, byte + i, byte + n);
}

/** Length of a sequence value. */
export function seqLen(v: WValue): number {
  if (Array.isArray(v) || v instanceof Uint8Array) return v.length;
  return 0;
}

/** Per-enum table for label → value. */
export interface EnumTable {
  readonly byLabel: ReadonlyMap<string, number | bigint>;
  readonly name: string;
}

export function enumValue(t: EnumTable, v: string): number | bigint {
  const x = t.byLabel.get(v);
  if (x === undefined) throw new WriterError(`no label '${v}' in enumeration ${t.name}`);
  return x;
}

/** Per-variant table: option names and, for the tag, canonical values and label ranges. */
export interface VariantTable {
  readonly name: string;
  readonly options: readonly string[];
  /** Per option: the value written to the tag when the given tag value does not select it. */
  readonly canon: ReadonlyArray<number | bigint>;
  /** Per option: inclusive ranges of tag values that select it. */
  readonly ranges: ReadonlyArray<ReadonlyArray<readonly [bigint, bigint]>>;
  readonly byName: ReadonlyMap<string, number>;
}

/** Index of the option a variant value selects (a missing value selects the first option). */
export function variantOption(t: VariantTable, v: WValue): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    throw new WriterError(`variant ${t.name}: value must be { option, value }`);
  }
  const o = (v as { option: number | string }).option;
  if (typeof o === 'number') {
    if (o >= 0 && o < t.options.length && Number.isInteger(o)) return o;
  } else if (typeof o === 'string') {
    const i = t.byName.get(o);
    if (i !== undefined) return i;
  }
  throw new WriterError(`variant ${t.name}: no option ${String(o)}`);
}

/** True when tag value `tv` selects option `o`. */
export function tagSelects(t: VariantTable, o: number, tv: WValue): boolean {
  if (typeof tv !== 'number' && typeof tv !== 'bigint') return false;
  const x = BigInt(tv);
  for (const [lo, hi] of t.ranges[o]!) if (x >= lo && x <= hi) return true;
  return false;
}

export const EMPTY: Values = Object.freeze([]) as Values;
