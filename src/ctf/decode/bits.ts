/**
 * Bit-level integer readers used by the generated decoders for fields that are not byte
 * aligned (bitfields such as the 5-bit id and 27-bit timestamp of LTTng's compact header).
 *
 * Positions are in bits from the start of the buffer. CTF bit order follows the byte order:
 * little-endian fields start at the least significant bit of their first byte, big-endian ones
 * at the most significant bit. Buffers handed to these readers have at least 8 bytes of slack
 * after the last byte that may be read, so the 32-bit window reads never run off the end.
 *
 * Values up to 53 bits come back as numbers; wider ones as numbers when they fit in a double
 * exactly and as bigints otherwise (see `FieldValue`).
 */

const TWO32 = 4294967296;
const MAX_SAFE_HI = 0x200000; // 2^53 / 2^32

function word32le(u8: Uint8Array, b: number): number {
  return (u8[b]! | (u8[b + 1]! << 8) | (u8[b + 2]! << 16) | (u8[b + 3]! << 24)) >>> 0;
}

function word32be(u8: Uint8Array, b: number): number {
  return ((u8[b]! << 24) | (u8[b + 1]! << 16) | (u8[b + 2]! << 8) | u8[b + 3]!) >>> 0;
}

/** Unsigned little-endian read of `size` (1..64) bits at bit `pos`. */
export function readUle(u8: Uint8Array, pos: number, size: number): number | bigint {
  const b = pos >>> 3;
  const s = pos & 7;
  if (s + size <= 32) {
    const w = word32le(u8, b) >>> s;
    return size === 32 ? w : w & ((1 << size) - 1);
  }
  // Up to 64 + 7 bits: gather as two 32-bit halves after shifting by s.
  const lo0 = word32le(u8, b);
  const hi0 = word32le(u8, b + 4);
  const ex = s === 0 ? 0 : u8[b + 8]!;
  // shift the 72-bit quantity [ex:hi0:lo0] right by s
  const lo = s === 0 ? lo0 : ((lo0 >>> s) | (hi0 << (32 - s))) >>> 0;
  if (size <= 32) return size === 32 ? lo : lo & ((1 << size) - 1);
  let hi = s === 0 ? hi0 : ((hi0 >>> s) | (ex << (32 - s))) >>> 0;
  const hiBits = size - 32;
  if (hiBits < 32) hi = (hi & ((1 << hiBits) - 1)) >>> 0;
  return combineU(hi, lo);
}

/** Unsigned big-endian read of `size` (1..64) bits at bit `pos`. */
export function readUbe(u8: Uint8Array, pos: number, size: number): number | bigint {
  const b = pos >>> 3;
  const s = pos & 7;
  if (s + size <= 32) {
    const w = word32be(u8, b);
    return ((w << s) >>> 0) >>> (32 - size);
  }
  // Take 72 bits [w0:w1:ex] from byte b, drop s leading bits, keep `size` bits.
  const w0 = word32be(u8, b);
  const w1 = word32be(u8, b + 4);
  const ex = u8[b + 8]!;
  // left-align: after dropping s bits, top 64 bits are (hi, lo)
  const hi = s === 0 ? w0 : ((w0 << s) | (w1 >>> (32 - s))) >>> 0;
  const lo = s === 0 ? w1 : ((w1 << s) | (ex >>> (8 - s))) >>> 0;
  // now the value is the top `size` bits of (hi:lo)
  const shift = 64 - size;
  if (shift === 0) return combineU(hi, lo);
  if (shift >= 32) return hi >>> (shift - 32);
  return combineU(hi >>> shift, ((lo >>> shift) | (hi << (32 - shift))) >>> 0);
}

/** Combines two unsigned 32-bit halves into a number, or a bigint past 2^53. */
export function combineU(hi: number, lo: number): number | bigint {
  if (hi < MAX_SAFE_HI) return hi * TWO32 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Combines a signed high half and an unsigned low half (a two's complement 64-bit value). */
export function combineS(hi: number, lo: number): number | bigint {
  if (hi >= -MAX_SAFE_HI && hi < MAX_SAFE_HI) return hi * TWO32 + lo;
  return (BigInt(hi) << 32n) + BigInt(lo);
}

/** A bigint as a number when it is exactly representable. */
export function normBig(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** Sign-extends an unsigned `size`-bit value. */
export function signExtend(v: number | bigint, size: number): number | bigint {
  if (typeof v === 'bigint') {
    const half = 1n << BigInt(size - 1);
    return normBig(v >= half ? v - (1n << BigInt(size)) : v);
  }
  if (size <= 32) {
    if (size === 32) return v | 0;
    const shift = 32 - size;
    return (v << shift) >> shift;
  }
  const half = 2 ** (size - 1);
  if (v < half) return v;
  const r = v - 2 ** size;
  // Exact only when representable: values between -2^53 and 2^53 are.
  if (Number.isSafeInteger(r)) return r;
  return BigInt(v) - (1n << BigInt(size));
}

export function readSle(u8: Uint8Array, pos: number, size: number): number | bigint {
  if (size === 64) {
    const u = readUle(u8, pos, 64);
    return typeof u === 'bigint' ? normBig(BigInt.asIntN(64, u)) : u;
  }
  return signExtend(readUle(u8, pos, size), size);
}

export function readSbe(u8: Uint8Array, pos: number, size: number): number | bigint {
  if (size === 64) {
    const u = readUbe(u8, pos, 64);
    return typeof u === 'bigint' ? normBig(BigInt.asIntN(64, u)) : u;
  }
  return signExtend(readUbe(u8, pos, size), size);
}

const F64 = new DataView(new ArrayBuffer(8));

/** Reads a float of 32 or 64 bits at any bit position (bitfield floats are rare). */
export function readFloatBits(u8: Uint8Array, pos: number, size: 32 | 64, le: boolean): number {
  if (size === 32) {
    const b = le ? readUle(u8, pos, 32) : readUbe(u8, pos, 32);
    F64.setUint32(0, Number(b));
    return F64.getFloat32(0);
  }
  const lo = le ? readUle(u8, pos, 32) : readUbe(u8, pos + 32, 32);
  const hi = le ? readUle(u8, pos + 32, 32) : readUbe(u8, pos, 32);
  F64.setUint32(0, Number(hi));
  F64.setUint32(4, Number(lo));
  return F64.getFloat64(0);
}

/** Reads a float of 32 or 64 bits at a byte-aligned bit position. */
export function readFloat(dv: DataView, pos: number, size: 32 | 64, le: boolean): number {
  return size === 32 ? dv.getFloat32(pos >>> 3, le) : dv.getFloat64(pos >>> 3, le);
}

/** Clock value update rule of CTF: a field of `size` bits updates the low bits, wrapping once. */
export function updateClock(cur: number, v: number, size: number): number {
  if (size >= 53) return v;
  const m = 2 ** size;
  // `cur % m` without the floating-point remainder (a C call on every event header): m is a
  // power of two, so the division and the product are exact.
  const low = cur >= 0 ? cur - Math.floor(cur / m) * m : cur % m;
  let c = cur - low;
  if (v < low) c += m;
  return c + v;
}
