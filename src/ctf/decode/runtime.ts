/**
 * The helpers generated decoders call at run time (passed to them by name as `RUNTIME`): byte
 * strings through a small cache, overflow and fault errors, and variant option selectors.
 */
import type { EnumFC, VariantFC } from '../ir.js';
import {
  combineS,
  combineU,
  readFloatBits,
  readSbe,
  readSle,
  readUbe,
  readUle,
  updateClock,
} from './bits.js';
import { DecodeFault, NEED_MORE, type DecodeState } from './state.js';

/** Most elements of zero bits one decoder call may produce (alone or nested). */
export const MAX_EMPTY_ELEMENTS = 1_000_000;

const CACHE_SIZE = 4096;
const cache: string[] = new Array<string>(CACHE_SIZE).fill('');

/**
 * Decodes bytes [b, e) of `u8` as a byte string (one char per byte). Short strings go through
 * a small direct-mapped cache: traces repeat the same comms, procnames and paths millions of
 * times, and comparing a few bytes is cheaper than allocating a new string each time.
 */
export function byteString(u8: Uint8Array, b: number, e: number): string {
  const n = e - b;
  if (n <= 0) return '';
  if (n > 48) return Buffer.from(u8.buffer, u8.byteOffset + b, n).toString('latin1');
  let h = n;
  for (let i = b; i < e; i++) h = Math.imul(h ^ u8[i]!, 0x01000193);
  const slot = (h ^ (h >>> 15)) & (CACHE_SIZE - 1);
  const c = cache[slot]!;
  if (c.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (c.charCodeAt(i) !== u8[b + i]) {
        same = false;
        break;
      }
    }
    if (same) return c;
  }
  const str = String.fromCharCode.apply(null, u8.subarray(b, e) as unknown as number[]);
  cache[slot] = str;
  return str;
}

/** Builds the overflow error for a field that does not fit in the window. */
export function overflow(st: DecodeState, pos: number, what: string): unknown {
  if (!st.endIsContent) return NEED_MORE;
  return new DecodeFault(pos, `${what} goes past the end of the packet content`);
}

function fault(pos: number, reason: string): DecodeFault {
  return new DecodeFault(pos, reason);
}

function toNum(v: number | bigint): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

/**
 * Option index for a variant tag value, following babeltrace2: options in declaration order,
 * each with the ranges of the tag enumeration's mappings labelled like the option.
 */
export function variantRanges(tag: EnumFC, v: VariantFC): Array<[bigint, bigint, number]> {
  const ranges: Array<[bigint, bigint, number]> = [];
  v.options.forEach((opt, i) => {
    for (const m of tag.mappings) {
      if (m.label === opt.name) for (const [lo, hi] of m.ranges) ranges.push([lo, hi, i]);
    }
  });
  return ranges;
}

export function variantSelector(tag: EnumFC, v: VariantFC): (t: number | bigint) => number {
  const ranges = variantRanges(tag, v);
  const safe = ranges.every(
    ([lo, hi]) => Number.isSafeInteger(Number(lo)) && Number.isSafeInteger(Number(hi)),
  );
  if (safe) {
    const flat = ranges.map(([lo, hi, i]) => [Number(lo), Number(hi), i] as const);
    return (t) => {
      const x = typeof t === 'bigint' ? Number(t) : t;
      for (const [lo, hi, i] of flat) if (x >= lo && x <= hi) return i;
      return -1;
    };
  }
  return (t) => {
    const x = BigInt(t);
    for (const [lo, hi, i] of ranges) if (x >= lo && x <= hi) return i;
    return -1;
  };
}

export const RUNTIME = {
  readFloatBits,
  combineS,
  combineU,
  readSbe,
  readSle,
  readUbe,
  readUle,
  updateClock,
  byteString,
  overflow,
  fault,
  toNum,
  NEED_MORE,
};
