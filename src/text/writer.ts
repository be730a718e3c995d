/**
 * Byte output buffer of the printer: text is written as bytes straight into a large Buffer
 * (no intermediate JavaScript strings for numbers and separators, no encoding pass). Strings
 * handed over are byte strings (one char per byte, see `FieldValue`).
 */

// Escape sequences of babeltrace2's string printing, by byte (undefined: written as is).
const ESC: Array<Uint8Array | undefined> = (() => {
  const t = new Array<Uint8Array | undefined>(256).fill(undefined);
  const set = (c: number, s: string): void => {
    t[c] = Buffer.from(s, 'latin1');
  };
  for (let c = 0; c < 32; c++) set(c, '\\x' + c.toString(16).padStart(2, '0'));
  set(0x7f, '\\x7f');
  set(0, '\\0');
  set(7, '\\a');
  set(8, '\\b');
  set(0x1b, '\\e');
  set(0x0c, '\\f');
  set(0x0a, '\\n');
  set(0x0d, '\\r');
  set(0x09, '\\t');
  set(0x0b, '\\v');
  set(0x5c, '\\\\');
  set(0x27, "\\'");
  set(0x22, '\\"');
  set(0x3f, '\\?');
  return t;
})();

const HEX = Buffer.from('0123456789ABCDEF', 'latin1');

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(readonly chunkSize = 1 << 20) {
    this.buf = Buffer.allocUnsafe(chunkSize + 65536);
  }

  /** Makes room for `n` more bytes (grows; never flushes in the middle of a line). */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      const nb = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 65536));
      this.buf.copy(nb, 0, 0, this.pos);
      this.buf = nb;
    }
  }

  /** The bytes written so far (valid until `reset()`). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** Starts over in the same buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** Constant bytes. */
  lit(k: Uint8Array): void {
    const n = k.length;
    if (this.pos + n > this.buf.length) this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    if (n <= 24) {
      for (let i = 0; i < n; i++) b[p++] = k[i]!;
    } else {
      b.set(k, p);
      p += n;
    }
    this.pos = p;
  }

  /** A byte string written as is. */
  raw(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    if (n <= 32) {
      for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    } else {
      p += b.write(s, p, 'latin1');
    }
    this.pos = p;
  }

  /** A byte string in double quotes with babeltrace2's escapes. */
  quoted(s: string): void {
    const n = s.length;
    if (this.pos + 4 * n + 2 > this.buf.length) this.ensure(4 * n + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 34;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i) & 0xff;
      const e = ESC[c];
      if (e === undefined) {
        b[p++] = c;
      } else {
        for (let j = 0; j < e.length; j++) b[p++] = e[j]!;
      }
    }
    b[p++] = 34;
    this.pos = p;
  }

  /** Decimal integer (number or bigint). */
  dec(v: number | bigint): void {
    if (typeof v === 'number') {
      if (v >= 0) {
        if (v < 10) {
          if (this.pos + 1 > this.buf.length) this.ensure(1);
          this.buf[this.pos++] = 48 + v;
          return;
        }
        if (v <= 9007199254740991) {
          this.udec(v);
          return;
        }
      } else if (v >= -9007199254740991) {
        if (this.pos + 1 > this.buf.length) this.ensure(1);
        this.buf[this.pos++] = 45;
        this.udec(-v);
        return;
      }
    }
    this.raw('' + v);
  }

  /** Non-negative safe integer. */
  private udec(v: number): void {
    let len = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) len++;
    if (this.pos + len > this.buf.length) this.ensure(len);
    const b = this.buf;
    let p = this.pos + len;
    this.pos = p;
    if (v < 4294967296) {
      let u = v >>> 0;
      do {
        const q = (u / 10) >>> 0;
        b[--p] = 48 + u - q * 10;
        u = q;
      } while (u !== 0);
    } else {
      let u = v;
      do {
        const q = Math.floor(u / 10);
        b[--p] = 48 + u - q * 10;
        u = q;
      } while (u !== 0);
    }
  }

  /** Exactly `width` decimal digits of a non-negative integer < 10^width (zero-padded). */
  padded(v: number, width: number): void {
    if (this.pos + width > this.buf.length) this.ensure(width);
    const b = this.buf;
    let p = this.pos + width;
    this.pos = p;
    let u = v;
    for (let i = 0; i < width; i++) {
      const q = Math.floor(u / 10);
      b[--p] = 48 + u - q * 10;
      u = q;
    }
  }

  /** `0x` + upper-case hex of a non-negative number below 2^32. */
  hex32(v: number): void {
    let len = 1;
    for (let t = v >>> 4; t !== 0; t >>>= 4) len++;
    if (this.pos + len + 2 > this.buf.length) this.ensure(len + 2);
    const b = this.buf;
    b[this.pos] = 48;
    b[this.pos + 1] = 120;
    let p = this.pos + 2 + len;
    this.pos = p;
    let u = v >>> 0;
    do {
      b[--p] = HEX[u & 15]!;
      u >>>= 4;
    } while (u !== 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Position-passing helpers for generated code: write into `b` at `p`, return the new position.
// The caller has made room (see the bounds in their comments).

const DIGITS2 = (() => {
  const t = new Uint8Array(200);
  for (let i = 0; i < 100; i++) {
    t[2 * i] = 48 + Math.floor(i / 10);
    t[2 * i + 1] = 48 + (i % 10);
  }
  return t;
})();

/** Non-negative integer below 2^32. At most 10 bytes. */
function putU32(b: Uint8Array, p: number, v: number): number {
  let len = 1;
  if (v >= 10) {
    len =
      v >= 100000
        ? v >= 10000000
          ? v >= 100000000
            ? v >= 1000000000
              ? 10
              : 9
            : 8
          : v >= 1000000
            ? 7
            : 6
        : v >= 1000
          ? v >= 10000
            ? 5
            : 4
          : v >= 100
            ? 3
            : 2;
  }
  putDigitsBefore(b, p + len, v);
  return p + len;
}

/** The digits of an integer below 2^32, the last one right before `e`; returns where they start. */
function putDigitsBefore(b: Uint8Array, e: number, v: number): number {
  let u = v;
  while (u >= 100) {
    const q = (u / 100) >>> 0;
    const r = (u - q * 100) << 1;
    b[--e] = DIGITS2[r + 1]!;
    b[--e] = DIGITS2[r]!;
    u = q;
  }
  if (u >= 10) {
    b[--e] = DIGITS2[(u << 1) + 1]!;
    b[--e] = DIGITS2[u << 1]!;
  } else {
    b[--e] = 48 + u;
  }
  return e;
}

/** Decimal integer (number or bigint). At most 21 bytes. */
export function putDec(b: Uint8Array, p: number, v: number | bigint): number {
  if (typeof v === 'number') {
    if (v >= 0 && v < 4294967296) return putU32(b, p, v);
    if (v < 0 && v > -4294967296) {
      b[p] = 45;
      return putU32(b, p + 1, -v);
    }
  }
  const s = '' + v;
  for (let i = 0; i < s.length; i++) b[p + i] = s.charCodeAt(i);
  return p + s.length;
}

/** Exactly `width` digits of a non-negative integer below 10^width (width <= 20). */
export function putPadded(b: Uint8Array, p: number, v: number, width: number): number {
  let e = p + width;
  if (v < 4294967296) {
    for (let s = putDigitsBefore(b, e, v); s > p;) b[--s] = 48;
    return e;
  }
  let u = v;
  for (let i = 0; i < width; i++) {
    const q = Math.floor(u / 10);
    b[--e] = 48 + u - q * 10;
    u = q;
  }
  return p + width;
}

/** `0x` + upper-case hex (two's complement on the size rounded to a nibble). At most 18 bytes. */
export function putHex(b: Uint8Array, p: number, v: number | bigint, size: number): number {
  b[p] = 48;
  b[p + 1] = 120;
  if (typeof v === 'number' && v >= 0 && v < 4294967296) {
    let len = 1;
    for (let t = v >>> 4; t !== 0; t >>>= 4) len++;
    let e = p + 2 + len;
    let u = v >>> 0;
    do {
      b[--e] = HEX[u & 15]!;
      u >>>= 4;
    } while (u !== 0);
    return p + 2 + len;
  }
  if (typeof v === 'number' && v >= 0 && v <= 9007199254740991) {
    // Two 32-bit halves: no BigInt for 64-bit addresses.
    const hi = Math.floor(v / 4294967296);
    const lo = v - hi * 4294967296;
    let len = 0;
    for (let t = hi; t !== 0; t >>>= 4) len++;
    let e = p + 2 + len;
    let u = hi;
    while (u !== 0) {
      b[--e] = HEX[u & 15]!;
      u >>>= 4;
    }
    e = p + 2 + len + 8;
    u = lo >>> 0;
    for (let i = 0; i < 8; i++) {
      b[--e] = HEX[u & 15]!;
      u >>>= 4;
    }
    return p + 2 + len + 8;
  }
  const bits = size < 64 ? (size + 3) & ~3 : 64;
  const s = BigInt.asUintN(bits, typeof v === 'bigint' ? v : BigInt(v))
    .toString(16)
    .toUpperCase();
  for (let i = 0; i < s.length; i++) b[p + 2 + i] = s.charCodeAt(i);
  return p + 2 + s.length;
}

/** Constant bytes (short). */
export function putBytes(b: Uint8Array, p: number, k: Uint8Array): number {
  const n = k.length;
  for (let i = 0; i < n; i++) b[p + i] = k[i]!;
  return p + n;
}
