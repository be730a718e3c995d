/**
 * Value formatting rules of babeltrace2 2.0.4's `sink.text.pretty` (see docs/text-format.md):
 * integers per display base, C `%g` floats, escaped strings, UUIDs. Pure functions, used by the
 * code the printer generates per event class.
 */

const TWO32 = 4294967296;

/** `"..."` with babeltrace2's escapes: `\\ \' \" \?`, named C escapes, `\xNN` for other controls. */
export function quoteString(s: string): string {
  // Fast path: nothing to escape (the common case in LTTng traces).
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const e = c < 128 ? ESCAPES[c] : undefined;
    out += e === undefined ? s[i] : e;
  }
  return out + '"';
}

// Control characters (C locale `iscntrl`: 0x00-0x1f, 0x7f) and the four always-escaped ones.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\x00-\x1f\x7f\\'"?]/;

const ESCAPES: Array<string | undefined> = (() => {
  const t: Array<string | undefined> = new Array<string | undefined>(128).fill(undefined);
  for (let c = 0; c < 32; c++) t[c] = '\\x' + c.toString(16).padStart(2, '0');
  t[0x7f] = '\\x7f';
  t[0] = '\\0';
  t[7] = '\\a';
  t[8] = '\\b';
  t[0x1b] = '\\e';
  t[0x0c] = '\\f';
  t[0x0a] = '\\n';
  t[0x0d] = '\\r';
  t[0x09] = '\\t';
  t[0x0b] = '\\v';
  t[0x5c] = '\\\\';
  t[0x27] = "\\'";
  t[0x22] = '\\"';
  t[0x3f] = '\\?';
  return t;
})();

/** Two's complement of `v` on `bits` bits, as a non-negative bigint. */
function toUnsignedBig(v: number | bigint, bits: number): bigint {
  return BigInt.asUintN(bits, typeof v === 'bigint' ? v : BigInt(v));
}

/**
 * `0x` + uppercase hex. Negative (signed) values are shown in two's complement on the field size
 * rounded up to a multiple of 4 bits (64 bits for 64-bit fields).
 */
export function formatHex(v: number | bigint, size: number): string {
  if (typeof v === 'number' && v >= 0) {
    return '0x' + (v < TWO32 ? (v >>> 0).toString(16) : v.toString(16)).toUpperCase();
  }
  const bits = size < 64 ? (size + 3) & ~3 : 64;
  return '0x' + toUnsignedBig(v, bits).toString(16).toUpperCase();
}

/** `0` + octal. Signed values are masked to the size rounded up to a multiple of 3 bits. */
export function formatOctal(v: number | bigint, size: number, signed: boolean): string {
  if (typeof v === 'number' && v >= 0) return '0' + v.toString(8);
  let bits = 64;
  if (signed && size < 64) bits = Math.floor((size - 1) / 3 + 1) * 3;
  return '0' + toUnsignedBig(v, bits).toString(8);
}

/** `0b` + exactly `size` binary digits (two's complement for negative values). */
export function formatBinary(v: number | bigint, size: number): string {
  const bits = toUnsignedBig(v, size).toString(2);
  return '0b' + (bits.length < size ? '0'.repeat(size - bits.length) + bits : bits);
}

/** Decimal integer: what `%PRIu64` / `%PRId64` print for the value. */
export function formatDecimal(v: number | bigint): string {
  return '' + v;
}

/** The value of an unsigned field as babeltrace2 sees it (a wrapped negative number becomes 2^64+v). */
export function formatUnsignedDecimal(v: number | bigint): string {
  if (typeof v === 'number' && v >= 0) return '' + v;
  return toUnsignedBig(v, 64).toString();
}

/**
 * C's `printf("%g", v)` (glibc): 6 significant digits, exponent form when exp < -4 or >= 6,
 * trailing zeros removed, ties rounded to even on the exact binary value.
 */
export function formatG(v: number): string {
  if (v !== v) return NAN_TEXT;
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const neg = v < 0;
  const a = neg ? -v : v;
  if (a >= 1e-4 && a < 999999.5) {
    const f = fixedG(a);
    if (f !== undefined) return neg ? '-' + f : f;
  }
  return slowG(neg, a);
}

/** Exact powers of ten (exact doubles). */
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * `%g` of 1e-4 <= a < 999999.5 (fixed notation) without string conversions: the six digits
 * come from one multiplication by an exact power of ten (error far below 1e-6 of a unit), so
 * the rounding is exact unless the value is within 1e-6 of a tie; then undefined (slow path).
 */
function fixedG(a: number): string | undefined {
  let e =
    a >= 1
      ? a >= 1e3
        ? a >= 1e5
          ? 5
          : a >= 1e4
            ? 4
            : 3
        : a >= 100
          ? 2
          : a >= 10
            ? 1
            : 0
      : a >= 0.1
        ? -1
        : a >= 0.01
          ? -2
          : a >= 1e-3
            ? -3
            : -4;
  const scaled = a * POW10[5 - e]!;
  const fl = Math.floor(scaled);
  const frac = scaled - fl;
  if (frac > 0.499999 && frac < 0.500001) return undefined;
  let n = frac > 0.5 ? fl + 1 : fl;
  if (n >= 1000000) {
    n = 100000;
    e += 1;
    if (e >= 6) return undefined;
  }
  // Six digits, trailing zeros dropped.
  while (n % 10 === 0) n /= 10;
  const digits = '' + n;
  if (e < 0) return '0.' + '0000'.slice(0, -e - 1) + digits;
  if (digits.length <= e + 1) return digits + '000000'.slice(0, e + 1 - digits.length);
  return digits.slice(0, e + 1) + '.' + digits.slice(e + 1);
}

function slowG(neg: boolean, a: number): string {
  // Digits and exponent of `a` rounded to 6 significant digits.
  const [digits, exp] = round6(a);
  let out: string;
  if (exp < -4 || exp >= 6) {
    let mant = digits[0]! + (digits.length > 1 ? '.' + digits.slice(1) : '');
    mant = stripZeros(mant);
    const e = Math.abs(exp);
    out = mant + (exp < 0 ? 'e-' : 'e+') + (e < 10 ? '0' + e : '' + e);
  } else if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1);
    const frac = digits.slice(exp + 1);
    out = stripZeros(frac.length > 0 ? intPart + '.' + frac : intPart);
  } else {
    out = stripZeros('0.' + '0'.repeat(-exp - 1) + digits);
  }
  return neg ? '-' + out : out;
}

/** glibc prints NaN as `nan` or `-nan` depending on its sign bit, which JS numbers do not keep. */
const NAN_TEXT = 'nan';

function stripZeros(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

/**
 * Six significant digits of `a` (> 0, finite) and the decimal exponent of the first one, with
 * round-half-even on the exact value like glibc (JS `toPrecision` rounds ties up).
 */
function round6(a: number): [string, number] {
  const p = a.toExponential(5); // d.ddddde±x
  let digits = p[0]! + p.slice(2, 7);
  let exp = parseInt(p.slice(8), 10);
  // Ties are only possible when the exact value has exactly 7 significant digits ending in 5.
  const exact = a.toExponential(20);
  if (exact[7] === '5' && /^0+$/.test(exact.slice(8, 22))) {
    if (isExactTie(a, exact)) {
      // toExponential rounded the tie up; glibc rounds to even.
      const lower = exact[0]! + exact.slice(2, 7);
      const lastDigit = lower.charCodeAt(5) - 48;
      if (lastDigit % 2 === 0) {
        digits = lower;
        exp = parseInt(exact.slice(exact.indexOf('e') + 1), 10);
      }
    }
  }
  return [digits, exp];
}

/** Whether `a` is exactly d.dddddd5 × 10^e (checked with exact rational arithmetic). */
function isExactTie(a: number, exact: string): boolean {
  const e = parseInt(exact.slice(exact.indexOf('e') + 1), 10);
  // Candidate decimal: 7 digits × 10^(e-6).
  const n = BigInt(exact[0]! + exact.slice(2, 8));
  const [m, be] = decompose(a); // a = m × 2^be exactly
  // Compare m × 2^be with n × 10^(e-6).
  let lhs = m;
  let rhs = n;
  if (be >= 0) lhs <<= BigInt(be);
  else rhs <<= BigInt(-be);
  const de = e - 6;
  if (de >= 0) rhs *= 10n ** BigInt(de);
  else lhs *= 10n ** BigInt(-de);
  return lhs === rhs;
}

function decompose(a: number): [bigint, number] {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, a);
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (bexp === 0) {
    e = -1074;
  } else {
    mant |= 1n << 52n;
    e = bexp - 1075;
  }
  return [mant, e];
}

/** Lowercase 8-4-4-4-12 UUID text. */
export function formatUuid(u: Uint8Array): string {
  let h = '';
  for (let i = 0; i < u.length; i++) h += (u[i]! < 16 ? '0' : '') + u[i]!.toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Zero-padded 9-digit nanoseconds. */
export function pad9(ns: number): string {
  const s = '' + ns;
  return s.length >= 9 ? s : '000000000'.slice(s.length) + s;
}

export function pad2(n: number): string {
  return n < 10 ? '0' + n : '' + n;
}
