/**
 * Timestamps as lttng-analyses prints them: `YYYY-MM-DD hh:mm:ss.nnnnnnnnn`, in local time
 * unless `gmt`. Absolute times are passed as whole seconds since the epoch plus nanoseconds.
 */

export interface AbsTime {
  /** Whole seconds since the Unix epoch. */
  readonly sec: number;
  /** 0 <= ns < 1e9 */
  readonly ns: number;
}

const p2 = (n: number): string => String(n).padStart(2, '0');

export function formatTimestamp(t: AbsTime, printDate: boolean, gmt: boolean): string {
  return new TimestampFormatter(gmt).format(t, printDate);
}

/**
 * `formatTimestamp` for many times in a row (a log's rows, two times each): the text of the last
 * whole second is kept, with and without the date. Made per report: the local time zone is read
 * when a second is first met, and does not change during a report.
 */
export class TimestampFormatter {
  private readonly sec = [Number.NaN, Number.NaN];
  private readonly text = ['', ''];

  constructor(readonly gmt: boolean) {}

  format(t: AbsTime, printDate: boolean): string {
    const k = printDate ? 1 : 0;
    let head = this.text[k]!;
    if (this.sec[k] !== t.sec) {
      head = secondText(t.sec, printDate, this.gmt);
      this.sec[k] = t.sec;
      this.text[k] = head;
    }
    return `${head}.${String(t.ns).padStart(9, '0')}`;
  }

  /** `[begin, end]`, as lttng-analyses' `format_time_range`. */
  range(begin: AbsTime, end: AbsTime, printDate: boolean): string {
    return `[${this.format(begin, printDate)}, ${this.format(end, printDate)}]`;
  }
}

/** `YYYY-MM-DD hh:mm:ss` of a whole second (without the date unless `printDate`). */
function secondText(sec: number, printDate: boolean, gmt: boolean): string {
  const d = new Date(sec * 1000);
  const [y, mo, da, h, mi, s] = gmt
    ? [
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      ]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  const time = `${p2(h)}:${p2(mi)}:${p2(s)}`;
  return printDate ? `${String(y).padStart(4, '0')}-${p2(mo)}-${p2(da)} ${time}` : time;
}

/** Exact ns since the epoch (for JSON output). */
export function absToBigInt(t: AbsTime): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.ns);
}
