/**
 * `--begin` / `--end`: babeltrace2's trimmer (`filter.utils.trimmer` 2.0.4) — how the bounds are
 * written and which records pass. See docs/text-format.md, "Trimming".
 */
import type { DiscardedRecord, TimeBase, TraceRecord } from '../ctf/event.js';
import { NstraceError, UsageError } from '../util/errors.js';

/** A trimming bound. */
export type TimeBound =
  /** Nanoseconds from the clock origin (a full date, or `[-]SEC[.NS]`). */
  | { readonly kind: 'ns'; readonly ns: bigint }
  /** A time of day; its date is the date of the first timed record (local time or UTC). */
  | {
      readonly kind: 'time';
      readonly hour: number;
      readonly minute: number;
      readonly second: number;
      readonly ns: number;
    };

const DATE = '([0-9]{4})-([0-9]{2})-([0-9]{2})';
const TIME = '([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.([0-9]{1,9}))?)?';
const RE_DATE_TIME = new RegExp(`^${DATE} ${TIME}$`);
const RE_DATE = new RegExp(`^${DATE}$`);
const RE_TIME = new RegExp(`^${TIME}$`);
const RE_SEC = /^(-?)([0-9]+)(?:\.([0-9]{1,9}))?$/;

/** `.5` means 500000000 ns. */
function fractionNs(digits: string | undefined): number {
  if (digits === undefined) return 0;
  return Number(digits) * 10 ** (9 - digits.length);
}

/**
 * Seconds from the epoch of a broken-down date/time, like C `mktime` (local, `TZ`) or `timegm`
 * (UTC); out-of-range fields roll over as in C.
 */
export function dateToSeconds(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  gmt: boolean,
): number {
  const d = new Date(0);
  if (gmt) {
    d.setUTCFullYear(year, month - 1, day);
    d.setUTCHours(hour, minute, second, 0);
  } else {
    d.setFullYear(year, month - 1, day);
    d.setHours(hour, minute, second, 0);
  }
  return Math.floor(d.getTime() / 1000);
}

/**
 * Parses a bound like babeltrace2's trimmer: `YYYY-MM-DD hh:mm[:ss[.ns]]`, `YYYY-MM-DD`,
 * `hh:mm[:ss[.ns]]` (date of the first record) or `[-]SEC[.NS]` (from the clock origin).
 */
export function parseTimeBound(text: string, gmt: boolean, option = '--begin/--end'): TimeBound {
  let m = RE_DATE_TIME.exec(text);
  if (m) {
    const s = dateToSeconds(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, m[6] === undefined ? 0 : +m[6], gmt);
    return dateBound(s, fractionNs(m[7]));
  }
  m = RE_DATE.exec(text);
  if (m) return dateBound(dateToSeconds(+m[1]!, +m[2]!, +m[3]!, 0, 0, 0, gmt), 0);
  m = RE_TIME.exec(text);
  if (m) {
    return {
      kind: 'time',
      hour: +m[1]!,
      minute: +m[2]!,
      second: m[3] === undefined ? 0 : +m[3],
      ns: fractionNs(m[4]),
    };
  }
  m = RE_SEC.exec(text);
  if (m) {
    // Unsigned 64-bit arithmetic as in babeltrace2, then the sign.
    let ns = BigInt.asUintN(64, BigInt(m[2]!) * 1_000_000_000n + BigInt(fractionNs(m[3])));
    ns = BigInt.asIntN(64, ns);
    return { kind: 'ns', ns: m[1] === '-' ? BigInt.asIntN(64, -ns) : ns };
  }
  throw new UsageError(
    `invalid time '${text}' for ${option} (expected YYYY-MM-DD hh:mm[:ss[.nnnnnnnnn]], YYYY-MM-DD, hh:mm[:ss[.nnnnnnnnn]] or [-]SEC[.nnnnnnnnn])`,
  );
}

/** The bound of a date (`s`: its seconds from the epoch, `dateToSeconds`) plus `ns`. */
function dateBound(s: number, ns: number): TimeBound {
  // babeltrace2 leaves the bound unset when mktime() gives a negative time; it then ends up
  // as midnight of the first record's date. Same here.
  if (s < 0) return { kind: 'time', hour: 0, minute: 0, second: 0, ns: 0 };
  return { kind: 'ns', ns: BigInt(s) * 1_000_000_000n + BigInt(ns) };
}

/** Absolute ns of a time-of-day bound on the date of `refNs` (absolute ns). */
function resolveTimeOfDay(b: Extract<TimeBound, { kind: 'time' }>, refNs: bigint, gmt: boolean): bigint {
  // babeltrace2 truncates toward zero when taking the seconds of the reference time.
  const refSec = Number(refNs / 1_000_000_000n);
  const d = new Date(refSec * 1000);
  const [y, mo, da] = gmt
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate()];
  const s = dateToSeconds(y, mo, da, b.hour, b.minute, b.second, gmt);
  return BigInt(s) * 1_000_000_000n + BigInt(b.ns);
}

/** What `Trimmer.filter()` says about a record. */
export const TRIM_END = Symbol('trim-end');

/**
 * Applies `--begin`/`--end` to the time-ordered records of a trace set, as babeltrace2 does
 * (the library's auto-seek for the beginning, then the trimmer):
 * - events pass when begin <= ts <= end; the first event after the end ends everything;
 * - a discarded-items record overlapping the beginning is cut to start at the beginning, one
 *   overlapping the end is cut to end at the end; a cut record's count becomes unknown;
 *   one starting after the end ends everything;
 * - once a first record at or after the beginning has passed (a cut record does not count),
 *   later records are not checked against the beginning.
 */
export class Trimmer {
  private beginRel: number | undefined;
  private endRel: number | undefined;
  private resolved = false;
  private seeking: boolean;
  private ended = false;

  constructor(
    private readonly begin: TimeBound | undefined,
    private readonly end: TimeBound | undefined,
    private readonly gmt: boolean,
    private readonly base: TimeBase,
  ) {
    this.seeking = begin !== undefined;
    if ((begin === undefined || begin.kind === 'ns') && (end === undefined || end.kind === 'ns')) {
      this.setBounds(begin?.kind === 'ns' ? begin.ns : undefined, end?.kind === 'ns' ? end.ns : undefined);
    }
  }

  private baseNs(): bigint {
    return BigInt(this.base.seconds) * 1_000_000_000n + BigInt(this.base.ns);
  }

  private setBounds(begin: bigint | undefined, end: bigint | undefined): void {
    if (begin !== undefined && end !== undefined && begin > end) {
      throw new UsageError(
        `the --begin time is after the --end time (begin: ${begin} ns, end: ${end} ns from the origin)`,
      );
    }
    const b = this.baseNs();
    this.beginRel = begin === undefined ? undefined : Number(begin - b);
    this.endRel = end === undefined ? undefined : Number(end - b);
    this.resolved = true;
  }

  /** Returns the record to print (maybe a cut copy), null to drop it, or TRIM_END to stop. */
  filter(rec: TraceRecord): TraceRecord | null | typeof TRIM_END {
    if (this.ended) return TRIM_END;
    const stream = rec.stream;
    if (stream.clock === undefined) {
      throw new NstraceError(
        `cannot apply --begin/--end: stream ${stream.files[0] ?? '?'} has no clock (its events have no time)`,
      );
    }
    if (rec.packet.beginTs === undefined || rec.packet.endTs === undefined) {
      throw new NstraceError(
        `cannot apply --begin/--end: the packets of stream ${stream.files[0] ?? '?'} have no beginning/end time`,
      );
    }
    if (!this.resolved) this.resolveAt(rec);
    if (rec.kind === 'event') {
      if (this.seeking) {
        if (rec.ts < this.beginRel!) return null;
        this.seeking = false;
      }
      if (this.endRel !== undefined && rec.ts > this.endRel) {
        this.ended = true;
        return TRIM_END;
      }
      return rec;
    }
    return this.discarded(rec);
  }

  private discarded(rec: DiscardedRecord): TraceRecord | null | typeof TRIM_END {
    if (rec.beginTs === undefined || rec.endTs === undefined) {
      throw new NstraceError(
        `cannot apply --begin/--end: the discarded-item reports of stream ${rec.stream.files[0] ?? '?'} have no time`,
      );
    }
    let r: DiscardedRecord = rec;
    if (this.seeking) {
      const b = this.beginRel!;
      if (r.beginTs! < b) {
        if (r.endTs! < b) return null;
        // Cut to start at the beginning; this does not end the seek (babeltrace2's auto-seek).
        r = { ...r, beginTs: b, count: undefined };
      } else {
        this.seeking = false;
      }
    }
    if (this.endRel !== undefined) {
      if (r.beginTs! > this.endRel) {
        this.ended = true;
        return TRIM_END;
      }
      if (r.endTs! > this.endRel) r = { ...r, endTs: this.endRel, count: undefined };
    }
    return r;
  }

  /** Resolves time-of-day bounds with the date of the first timed record. */
  private resolveAt(rec: TraceRecord): void {
    const refRel = rec.packet.beginTs ?? (rec.kind === 'event' ? rec.ts : (rec.beginTs ?? rec.ts));
    const refAbs = this.baseNs() + BigInt(refRel);
    const abs = (b: TimeBound | undefined): bigint | undefined =>
      b === undefined ? undefined : b.kind === 'ns' ? b.ns : resolveTimeOfDay(b, refAbs, this.gmt);
    this.setBounds(abs(this.begin), abs(this.end));
  }
}
