import type { AnalyseResult } from '../../analyses/session.js';
import { splitTs } from '../../ctf/event.js';

/**
 * Whether the analysed events span several days (lttng-analyses then prints dates with the
 * times of log rows): local dates of the first and last event, as `datetime.date.fromtimestamp`.
 */
export function multiDay(r: AnalyseResult): boolean {
  const { periodBegin, lastTs } = r.summary;
  if (periodBegin === undefined || lastTs === undefined) return false;
  const day = (ts: number): string => new Date(splitTs(r.base, ts)[0] * 1000).toDateString();
  return day(periodBegin) !== day(lastTs);
}
