/**
 * What the sections of the period report share (src/analyses/periods/report.ts,
 * stats-tables.ts, freq-tables.ts): its options, the LAMI table classes of lttng-analyses 0.6.1's
 * `cli/periods.py`, the run's filters and the text columns' helpers.
 */
import type { FamilyReportOptions } from '../family-report.js';
import type { ColumnDesc } from '../format/lami.js';
import { col, tableClass } from '../format/lami.js';
import { padLeftAlign, padRightAlign } from '../format/pyfmt.js';
import { boundCols, countCol, durationCol, statsCols } from '../table-columns.js';
import type { PeriodResult } from './analysis.js';

/** `--min`/`--max` (ns) are the bounds of the distributions. */
export interface PeriodReportOptions extends FamilyReportOptions {
  /** `--min-duration`/`--max-duration` (µs): the periods counted. */
  readonly minDuration: number | undefined;
  readonly maxDuration: number | undefined;
  /**
   * `--select` as given: lttng-analyses tests `name in args.select` on the string, so a name is
   * selected when it occurs anywhere in it (kept).
   */
  readonly select: string | undefined;
  readonly orderByHierarchy: boolean;
  /** First event of the run (the tables' range begins there). */
  readonly firstTs: number;
}

const NAME = col('name', 'Period name', 'string');
const EVENT_COLUMNS = [
  col('begin_ts', 'Period begin timestamp', 'timestamp'),
  col('end_ts', 'Period end timestamp', 'timestamp'),
  durationCol('Period duration'),
  NAME,
  col('begin_captures', 'Begin captures', 'string'),
  col('end_captures', 'End captures', 'string'),
];
const DURATION_STATS = statsCols('duration', 'duration', 'Period duration standard deviation');
const PARENT_COLUMNS = (what: 'duration' | 'count' | 'pc'): ColumnDesc[] => {
  const base = [NAME, col('parent', 'Parent', 'string')];
  if (what === 'duration') return [...base, ...DURATION_STATS];
  return [
    ...base,
    col('min', 'Minimum', 'number', 'occurences'),
    col('avg', 'Average', 'number', 'occurences'),
    col('max', 'Maximum', 'number', 'occurences'),
    col('stdev', 'Standard deviation', 'duration'),
  ];
};

export const PERIOD_CLASSES = {
  log: tableClass('log', 'Period log', EVENT_COLUMNS),
  top: tableClass('top', 'Period top', EVENT_COLUMNS),
  stats: tableClass('per_period_stats', 'Period statistics', [
    NAME,
    countCol('Period count', 'occurences'),
    ...DURATION_STATS,
    col('runtime', 'Total runtime', 'duration'),
  ]),
  freqDuration: tableClass('freq_duration', 'Period duration frequency distribution', [
    ...boundCols('', 'Duration'),
    countCol('Period duration', 'us'),
  ]),
  freqCount: tableClass('freq_count', 'Period count frequency distribution', [
    ...boundCols('', 'Count', 'number'),
    countCol('Period count', 'count'),
  ]),
  freqPc: tableClass('freq_ratio', 'Period usage ratio frequency distribution', [
    ...boundCols('', 'Ratio', 'number'),
    countCol('Period usage ratio', '%'),
  ]),
  parentStats: tableClass(
    'per_parent_stats',
    'Per-parent period duration statistics',
    PARENT_COLUMNS('duration'),
  ),
  parentCount: tableClass('per_parent_count', 'Per-parent period count statistics', PARENT_COLUMNS('count')),
  parentPc: tableClass('per_parent_percentage', 'Per-parent duration ratio', PARENT_COLUMNS('pc')),
};

export interface Ctx {
  readonly o: PeriodReportOptions;
  readonly r: PeriodResult;
  readonly keep: (d: number) => boolean;
  readonly selected: (name: string) => boolean;
  readonly path: (name: string) => string;
}

export function context(r: PeriodResult, o: PeriodReportOptions): Ctx {
  const keep = (d: number): boolean =>
    !(o.minDuration !== undefined && d < o.minDuration * 1000) &&
    !(o.maxDuration !== undefined && d > o.maxDuration * 1000);
  const selected = (name: string): boolean => o.select === undefined || o.select.includes(name);
  const path = (name: string): string => (name === '' ? '' : r.defs.fullPath(name));
  return { o, r, keep, selected, path };
}

export const L = padLeftAlign;
export const R = padRightAlign;
