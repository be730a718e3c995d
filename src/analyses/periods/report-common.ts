/**
 * What the sections of the period report share (src/analyses/periods/report.ts,
 * stats-tables.ts, freq-tables.ts): its options, the LAMI table classes of lttng-analyses 0.6.1's
 * `cli/periods.py`, the run's filters and the text columns' helpers.
 */
import type { FamilyReportOptions } from '../family-report.js';
import type { TableClass } from '../format/lami.js';
import { col } from '../format/lami.js';
import { formatFixed, padLeftAlign, padRightAlign } from '../format/pyfmt.js';
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

const EVENT_COLUMNS = [
  col('begin_ts', 'Period begin timestamp', 'timestamp'),
  col('end_ts', 'Period end timestamp', 'timestamp'),
  col('duration', 'Period duration', 'duration'),
  col('name', 'Period name', 'string'),
  col('begin_captures', 'Begin captures', 'string'),
  col('end_captures', 'End captures', 'string'),
];
const PARENT_COLUMNS = (what: 'duration' | 'count' | 'pc'): ReturnType<typeof col>[] => {
  const base = [col('name', 'Period name', 'string'), col('parent', 'Parent', 'string')];
  if (what === 'duration') {
    return [
      ...base,
      col('min_duration', 'Minimum duration', 'duration'),
      col('avg_duration', 'Average duration', 'duration'),
      col('max_duration', 'Maximum duration', 'duration'),
      col('stdev_duration', 'Period duration standard deviation', 'duration'),
    ];
  }
  return [
    ...base,
    col('min', 'Minimum', 'number', 'occurences'),
    col('avg', 'Average', 'number', 'occurences'),
    col('max', 'Maximum', 'number', 'occurences'),
    col('stdev', 'Standard deviation', 'duration'),
  ];
};

export const PERIOD_CLASSES = {
  log: { name: 'log', title: 'Period log', columns: EVENT_COLUMNS },
  top: { name: 'top', title: 'Period top', columns: EVENT_COLUMNS },
  stats: {
    name: 'per_period_stats',
    title: 'Period statistics',
    columns: [
      col('name', 'Period name', 'string'),
      col('count', 'Period count', 'number', 'occurences'),
      col('min_duration', 'Minimum duration', 'duration'),
      col('avg_duration', 'Average duration', 'duration'),
      col('max_duration', 'Maximum duration', 'duration'),
      col('stdev_duration', 'Period duration standard deviation', 'duration'),
      col('runtime', 'Total runtime', 'duration'),
    ],
  },
  freqDuration: {
    name: 'freq_duration',
    title: 'Period duration frequency distribution',
    columns: [
      col('lower', 'Duration (lower bound)', 'duration'),
      col('upper', 'Duration (upper bound)', 'duration'),
      col('count', 'Period duration', 'number', 'us'),
    ],
  },
  freqCount: {
    name: 'freq_count',
    title: 'Period count frequency distribution',
    columns: [
      col('lower', 'Count (lower bound)', 'number'),
      col('upper', 'Count (upper bound)', 'number'),
      col('count', 'Period count', 'number', 'count'),
    ],
  },
  freqPc: {
    name: 'freq_ratio',
    title: 'Period usage ratio frequency distribution',
    columns: [
      col('lower', 'Ratio (lower bound)', 'number'),
      col('upper', 'Ratio (upper bound)', 'number'),
      col('count', 'Period usage ratio', 'number', '%'),
    ],
  },
  parentStats: {
    name: 'per_parent_stats',
    title: 'Per-parent period duration statistics',
    columns: PARENT_COLUMNS('duration'),
  },
  parentCount: {
    name: 'per_parent_count',
    title: 'Per-parent period count statistics',
    columns: PARENT_COLUMNS('count'),
  },
  parentPc: {
    name: 'per_parent_percentage',
    title: 'Per-parent duration ratio',
    columns: PARENT_COLUMNS('pc'),
  },
} satisfies Record<string, TableClass>;

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

export const us3 = (ns: number): string => formatFixed(ns / 1000, 3);
export const L = padLeftAlign;
export const R = padRightAlign;
