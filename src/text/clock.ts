/**
 * babeltrace2's clock arithmetic and the fixed texts of the timestamp part: clock offsets,
 * cycles to ns, unsigned 64-bit deltas, zero-padded cycle counts.
 */
import type { ClockClass } from '../ctf/ir.js';
import { pad9 } from './format.js';

export function formatDelta(d: number | bigint): string {
  if (typeof d === 'bigint' || d < 0) {
    // babeltrace2 stores the delta in an unsigned 64-bit integer.
    const u = BigInt.asUintN(64, BigInt(d));
    return '+' + (u / NS).toString() + '.' + pad9(Number(u % NS));
  }
  const sec = Math.floor(d / 1e9);
  return '+' + sec + '.' + pad9(d - sec * 1e9);
}

export const NS = 1_000_000_000n;
export const PLUS = Buffer.from('+');
export const DOT = Buffer.from('.');
export const REAL_UNKNOWN = Buffer.from('+?.?????????');
export const CYCLES_UNKNOWN = Buffer.from('+????????????');
/** Relative times with an absolute value below this are exact doubles. */
export const SAFE = 2 ** 53;

/** `--clock-offset` (seconds) and `--clock-offset-ns`, as given. */
export interface ClockOffset {
  readonly seconds: number;
  readonly ns: number;
}

/** babeltrace2's ns conversion of a cycle count (exact for 1 GHz, double arithmetic else). */
export function cyclesToNs(cycles: number | bigint, freq: number): bigint {
  if (freq === 1e9) return BigInt(cycles);
  return BigInt(Math.trunc((1e9 * Number(cycles)) / freq));
}

/** ns to cycles like babeltrace2's `bt_util_ns_to_cycles`. */
function nsToCycles(ns: number, freq: number): number {
  return freq === 1e9 ? ns : Math.trunc((ns * freq) / 1e9);
}

/**
 * Offset from the origin of `clock` in ns, with babeltrace2's normalisation and its way of
 * applying `--clock-offset`/`--clock-offset-ns` to the clock class (ns part turned into cycles).
 */
export function clockOffsetNs(clock: ClockClass, user: ClockOffset): bigint {
  const freq = clock.freq;
  let s = Math.trunc(clock.offsetSeconds);
  let cyc = clock.offsetCycles;
  if (user.seconds !== 0 || user.ns !== 0) {
    let extraS: number;
    let extraNs: number;
    if (user.ns < 0) {
      extraS = -(Math.trunc(-user.ns / 1e9) + 1);
      extraNs = user.ns - extraS * 1e9;
    } else {
      extraS = Math.trunc(user.ns / 1e9);
      extraNs = user.ns - extraS * 1e9;
    }
    s += user.seconds + extraS;
    cyc += nsToCycles(extraNs, freq);
  }
  if (cyc >= freq) {
    const whole = Math.floor(cyc / freq);
    s += whole;
    cyc -= whole * freq;
  }
  return BigInt(s) * NS + cyclesToNs(cyc, freq);
}

export function pad20(v: number | bigint): string {
  return padN(typeof v === 'number' && v < 0 ? BigInt.asUintN(64, BigInt(v)) : v, 20);
}

export function padN(v: number | bigint, n: number): string {
  const s = '' + v;
  return s.length >= n ? s : '0'.repeat(n - s.length) + s;
}

export function isU64Max(v: number | bigint): boolean {
  return typeof v === 'bigint' && v === 0xffff_ffff_ffff_ffffn;
}

export function subU64(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number' && a >= b) return a - b;
  return BigInt.asUintN(64, BigInt(a) - BigInt(b));
}
