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
  const d = new Date(t.sec * 1000);
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
  const time = `${p2(h)}:${p2(mi)}:${p2(s)}.${String(t.ns).padStart(9, '0')}`;
  return printDate ? `${String(y).padStart(4, '0')}-${p2(mo)}-${p2(da)} ${time}` : time;
}

export function formatTimeRange(begin: AbsTime, end: AbsTime, printDate: boolean, gmt: boolean): string {
  return `[${formatTimestamp(begin, printDate, gmt)}, ${formatTimestamp(end, printDate, gmt)}]`;
}

/** Exact ns since the epoch (for JSON output). */
export function absToBigInt(t: AbsTime): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.ns);
}
