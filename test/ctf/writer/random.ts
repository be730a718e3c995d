/** Deterministic random values for the writer tests. */

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer value of `size` bits, as number when exact else bigint, edges included. */
export function randInt(r: () => number, size: number, signed: boolean): number | bigint {
  const pick = r();
  const lo = signed ? -(1n << BigInt(size - 1)) : 0n;
  const hi = signed ? (1n << BigInt(size - 1)) - 1n : (1n << BigInt(size)) - 1n;
  let x: bigint;
  if (pick < 0.1) x = lo;
  else if (pick < 0.2) x = hi;
  else if (pick < 0.3) x = 0n;
  else {
    let u = 0n;
    for (let i = 0; i < size; i += 16) u = (u << 16n) | BigInt(Math.floor(r() * 65536));
    x = BigInt.asUintN(size, u);
    if (signed) x = BigInt.asIntN(size, x);
  }
  return x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x;
}

/**
 * Texts to write. No empty string: babeltrace2 2.0.4 shows an empty `string` field with the
 * value of an earlier one (fixed upstream, review.lttng.org/c/babeltrace/+/4528); empty strings
 * are checked separately against babeltrace 1.5.
 */
export const TEXTS = [
  'a',
  'bash',
  'héllo wörld',
  '日本語テキスト',
  'emoji 🙂 here',
  'x'.repeat(40),
  'tab\tand\nnewline',
];
