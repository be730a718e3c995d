/**
 * `--begin`, `--end` and `--timerange` values, in the formats lttng-analyses accepts
 * (`common/parse_utils.py`):
 * - `YYYY-MM-DD hh:mm:ss.nnnnnnnnn` (or with `T` between date and time), `YYYY-MM-DD hh:mm:ss`
 * - `hh:mm:ss.nnnnnnnnn`, `hh:mm:ss`: on the trace's day (an error if the trace spans several)
 * - a bare integer: ns since the Unix epoch
 * Dates are local time unless `gmt`. The nanoseconds part must have 9 digits, as there.
 * (lttng-analyses also shifts bare integers by the time zone under `--gmt`; we don't: an epoch
 * timestamp has no zone.)
 */
import { UsageError } from '../util/errors.js';
import type { AbsTime } from './format/time.js';

export interface DateContext {
  /** Interpret dates in UTC. */
  readonly gmt: boolean;
  /** First and last time of the trace (to give a date to `hh:mm:ss` values). */
  readonly traceBegin: AbsTime;
  readonly traceEnd: AbsTime;
}

const NS = 1_000_000_000n;

function dayOf(t: AbsTime, gmt: boolean): [number, number, number] {
  const d = new Date(t.sec * 1000);
  return gmt
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate()];
}

function epochSeconds(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  gmt: boolean,
): number {
  const ms = gmt ? Date.UTC(y, mo - 1, d, h, mi, s) : new Date(y, mo - 1, d, h, mi, s).getTime();
  return Math.floor(ms / 1000);
}

/** Parses one date; returns ns since the epoch. */
export function parseDate(text: string, ctx: DateContext): bigint {
  const s = text.trim();
  let m = /^(\d{4})-([01]\d)-([0-3]\d)[\sTt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{9}))?$/.exec(s);
  if (m !== null) {
    const [, y, mo, d, h, mi, sec, ns] = m;
    const e = epochSeconds(+y!, +mo!, +d!, +h!, +mi!, +sec!, ctx.gmt);
    return BigInt(e) * NS + BigInt(ns ?? 0);
  }
  m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{9}))?$/.exec(s);
  if (m !== null) {
    const [, h, mi, sec, ns] = m;
    const a = dayOf(ctx.traceBegin, ctx.gmt);
    const b = dayOf(ctx.traceEnd, ctx.gmt);
    if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2]) {
      throw new UsageError(
        `invalid date format for a trace spanning several days: ${text} (give the date too)`,
      );
    }
    const e = epochSeconds(a[0], a[1], a[2], +h!, +mi!, +sec!, ctx.gmt);
    return BigInt(e) * NS + BigInt(ns ?? 0);
  }
  if (/^\d+$/.test(s)) return BigInt(s);
  throw new UsageError(
    `unrecognised date format: ${text} (use YYYY-MM-DD hh:mm:ss[.nnnnnnnnn], hh:mm:ss[.nnnnnnnnn] or ns since the epoch)`,
  );
}

/** Parses `[begin,end]`. */
export function parseTimeRange(text: string, ctx: DateContext): [bigint, bigint] {
  const m = /^\[(.*),(.*)\]$/.exec(text.trim());
  if (m === null) throw new UsageError(`invalid time range format: ${text} (use [begin,end])`);
  return [parseDate(m[1]!, ctx), parseDate(m[2]!, ctx)];
}
