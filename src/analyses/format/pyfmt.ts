/**
 * Number and text formatting that reproduces what lttng-analyses' Python prints, so that our
 * tables match its output to the last digit:
 * - `'%0.2f' % x` and `round(x, n)` round the exact binary value half to even;
 * - `str(x)` / `repr(x)` of a float is the shortest round-trip form, with Python's rules for
 *   when to use an exponent and a trailing `.0` for integral values;
 * - `str(dict)` of string keys and int values;
 * - `'{:<N}'` / `'{:>N}'` padding counts code points.
 */

/** Python's `'%.<digits>f' % x`: the exact binary value rounded at `digits` places, ties to even. */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (Math.abs(x) >= 1e21) return x.toFixed(0);
  const s = x.toFixed(digits);
  // toFixed rounds exact ties away from zero; Python rounds them to even. At an exact tie,
  // x * 2 * 10^digits is an odd integer: with x = m * 2^e (m odd), e = -(digits + 1), so
  // x * 2^(digits + 1) = m is an integer. That product is exact (a power of two): where it is
  // not an integer (almost always), x is no tie, without the long probe below.
  if (!Number.isInteger(Math.abs(x) * 2 ** (digits + 1))) return s;
  // Enough extra digits show the exact binary value, and so a tie.
  const probe = Math.abs(x).toFixed(Math.min(100, digits + 30));
  const cut = probe.indexOf('.') + digits + 1;
  const tail = probe.slice(digits === 0 ? probe.indexOf('.') + 1 : cut);
  if (!/^50*$/.test(tail)) return s;
  // Exact tie: take the truncated value and round it to even.
  const truncated = probe.slice(0, digits === 0 ? probe.indexOf('.') : cut);
  const lastDigit = Number(truncated[truncated.length - 1]);
  if (lastDigit % 2 === 0) return (x < 0 ? '-' : '') + truncated;
  return s;
}

/** Python's `round(x, ndigits)` for floats. */
export function pyRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x)) return x;
  return Number(formatFixed(x, ndigits));
}

/** Python's `repr(float)` (also `str(float)`). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const e = x.toExponential(); // shortest round-trip digits: "d.ddde+X"
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(e);
  if (m === null) return String(x);
  const sign = m[1]!;
  const digits = m[2]! + (m[3] ?? '');
  const exp = Number(m[4]);
  if (exp >= -4 && exp < 16) {
    // Python's repr uses fixed notation for decimal exponents in [-4, 16).
    const point = exp + 1;
    let out: string;
    if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
    else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length) + '.0';
    else out = digits.slice(0, point) + '.' + digits.slice(point);
    return sign + out;
  }
  return sciRepr(sign, digits, exp);
}

function sciRepr(sign: string, digits: string, exp: number): string {
  const mant = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  const es = Math.abs(exp) < 10 ? '0' + Math.abs(exp) : String(Math.abs(exp));
  return `${sign}${mant}e${exp < 0 ? '-' : '+'}${es}`;
}

/** Python's `repr(str)` for plain strings. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else {
      const c = ch.codePointAt(0)!;
      if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
      else out += ch;
    }
  }
  return out + quote;
}

/** Python's `str(dict)` for a dict of string keys and integer values, in insertion order. */
export function pyDictStr(entries: Iterable<readonly [string, number]>): string {
  const parts: string[] = [];
  for (const [k, v] of entries) parts.push(`${pyStrRepr(k)}: ${v}`);
  return '{' + parts.join(', ') + '}';
}

/** Code points (a lone surrogate counts as one, like a string iterator's): UTF-16 units less pairs. */
function cpLen(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** `'{:<N}'.format(s)` */
export function padLeftAlign(s: string, width: number): string {
  const n = cpLen(s);
  return n >= width ? s : s + ' '.repeat(width - n);
}

/** `'{:>N}'.format(s)` */
export function padRightAlign(s: string, width: number): string {
  const n = cpLen(s);
  return n >= width ? s : ' '.repeat(width - n) + s;
}

/** Length in code points, as Python's `len(str)`. */
export function pyLen(s: string): number {
  return cpLen(s);
}

/**
 * lttng-analyses' `format_size` (binary prefixes): `0 B`-style for bytes (`{:0.0f}` with the unit
 * `  B`), two decimals above; the exponent is `int(math.log(size, 1024))`.
 */
export function formatSize(size: number): string {
  const units = ['  B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];
  if (size < 0) throw new RangeError('Cannot format negative size');
  let exp = 0;
  let v = size;
  if (size !== 0) {
    exp = Math.trunc(Math.log(size) / Math.log(1024));
    if (exp >= units.length) exp = units.length - 1;
    v = size / 1024 ** exp;
  }
  return exp === 0 ? `${formatFixed(v, 0)} ${units[0]!}` : `${formatFixed(v, 2)} ${units[exp]!}`;
}
