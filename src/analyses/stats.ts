/**
 * Duration statistics with exact arithmetic where Python's is exact: lttng-analyses keeps every
 * duration and calls `statistics.stdev`, which works on exact fractions and rounds once. We
 * keep the count, the sum and the sum of squares exactly (squares spill into a BigInt) and take
 * a correctly rounded square root of the exact sample variance.
 */

const SAFE = 2 ** 53;
/** Below this magnitude, x*x is exact in a double. */
const SQ_EXACT = 94906265;

export class DurationStats {
  count = 0;
  min = Infinity;
  max = -Infinity;
  /** Exact while below 2^53 ns (104 days of accumulated duration). */
  sum = 0;
  private sqSmall = 0;
  private sqBig = 0n;

  add(d: number): void {
    this.count++;
    if (d < this.min) this.min = d;
    if (d > this.max) this.max = d;
    this.sum += d;
    const a = d < 0 ? -d : d;
    if (a < SQ_EXACT && Number.isInteger(a)) {
      const sq = a * a;
      if (this.sqSmall > SAFE - sq) {
        this.sqBig += BigInt(this.sqSmall);
        this.sqSmall = 0;
      }
      this.sqSmall += sq;
    } else {
      const b = BigInt(Math.round(a));
      this.sqBig += b * b;
    }
  }

  merge(o: DurationStats): void {
    if (o.count === 0) return;
    this.count += o.count;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    this.sum += o.sum;
    this.sqBig += o.sqBig + BigInt(o.sqSmall);
  }

  get sumOfSquares(): bigint {
    return this.sqBig + BigInt(this.sqSmall);
  }

  /** Python's `total / count`. */
  get mean(): number {
    return this.sum / this.count;
  }

  /** Sample standard deviation (n - 1), correctly rounded; NaN below 2 samples. */
  get stdev(): number {
    const n = this.count;
    if (n < 2) return NaN;
    const bn = BigInt(n);
    const s1 = BigInt(this.sum);
    const num = bn * this.sumOfSquares - s1 * s1;
    const den = bn * (bn - 1n);
    return sqrtRatio(num, den);
  }
}

/** Integer square root (floor) of a non-negative BigInt. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  // Newton's iteration from a power of two above the root decreases monotonically to it.
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** sqrt(num / den) rounded to the nearest double (num >= 0, den > 0). */
export function sqrtRatio(num: bigint, den: bigint): number {
  if (num <= 0n) return 0;
  // Scale so the root has at least 64 significant bits, keep a sticky bit for the rounding.
  const bits = num.toString(2).length - den.toString(2).length;
  let k = 0n;
  const want = 140;
  if (bits < want) k = BigInt(Math.ceil((want - bits) / 2));
  const scaled = (num << (2n * k)) / den;
  const exactDiv = (num << (2n * k)) % den === 0n;
  const r = isqrt(scaled);
  const exact = exactDiv && r * r === scaled;
  const withSticky = (r << 1n) | (exact ? 0n : 1n);
  return Number(withSticky) / 2 ** Number(k + 1n);
}

/** A finite double as an exact fraction `m / 2^k` (m a BigInt, k >= 0). */
function exactRatio(x: number): [bigint, number] {
  if (Number.isInteger(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER) return [BigInt(x), 0];
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  if (e >= 0) return [sign * (mant << BigInt(e)), 0];
  return [sign * mant, -e];
}

/**
 * Python's `statistics.stdev` of doubles (ints or floats): the sample variance computed exactly
 * on the values' exact binary fractions, then a correctly rounded square root. NaN below two.
 */
export function exactStdev(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return NaN;
  const parts = values.map(exactRatio);
  let k = 0;
  for (const [, d] of parts) if (d > k) k = d;
  let sx = 0n;
  let sxx = 0n;
  for (const [m, d] of parts) {
    const v = m << BigInt(k - d);
    sx += v;
    sxx += v * v;
  }
  const bn = BigInt(n);
  const num = bn * sxx - sx * sx;
  const den = (bn * (bn - 1n)) << BigInt(2 * k);
  return sqrtRatio(num, den);
}
