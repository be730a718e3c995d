/**
 * The columns that the reports' LAMI table classes share (src/analyses/reports.ts, top-report.ts,
 * sched-report.ts, irq-report.ts, io-classes.ts, io-containers.ts, spans-report.ts,
 * periods/report-common.ts): written once, with their lttng-analyses titles.
 */
import type { ColumnDesc } from './format/lami.js';
import { col } from './format/lami.js';

export const CONTAINER_COL = col('container', 'Container', 'container');
export const PROCESS_COL = col('process', 'Process', 'process');
export const TIME_RANGE_COL = col('time_range', 'Time range', 'time-range');
export const SYSCALL_COL = col('syscall', 'System call', 'syscall');
export const DISK_COL = col('disk', 'Disk', 'disk');
export const PATH_COL = col('path', 'File path/info', 'path');
export const PRIO_LIST_COL = col('prio_list', 'Chronological priorities', 'string');

/** `duration`: of a call, a period, a span (`Call duration`, `Period duration`, `Duration`). */
export function durationCol(title: string): ColumnDesc {
  return col('duration', title, 'duration');
}

/** `count`: how many of `unit` (`Call count`, `calls`). */
export function countCol(title: string, unit: string): ColumnDesc {
  return col('count', title, 'number', unit);
}

/**
 * `min_KEY`, `avg_KEY`, `max_KEY` (`Minimum WHAT`, ...) and `stdev_KEY` (its title as
 * lttng-analyses words it): the statistics of a duration.
 */
export function statsCols(
  key: 'duration' | 'latency',
  what: string,
  stdevTitle: string,
): [min: ColumnDesc, avg: ColumnDesc, max: ColumnDesc, stdev: ColumnDesc] {
  return [
    col(`min_${key}`, `Minimum ${what}`, 'duration'),
    col(`avg_${key}`, `Average ${what}`, 'duration'),
    col(`max_${key}`, `Maximum ${what}`, 'duration'),
    col(`stdev_${key}`, stdevTitle, 'duration'),
  ];
}

/** The bounds of a frequency distribution's buckets: `PREFIXlower` (`WHAT (lower bound)`), `PREFIXupper`. */
export function boundCols(prefix: string, what: string, cls = 'duration'): ColumnDesc[] {
  return [
    col(`${prefix}lower`, `${what} (lower bound)`, cls),
    col(`${prefix}upper`, `${what} (upper bound)`, cls),
  ];
}

/** Bytes read and written (`Bytes read`, `Bytes written`, or with a prefix: `Block bytes read`). */
export function bytesCols(prefix = '', what = 'Bytes'): ColumnDesc[] {
  return [col(`${prefix}read`, `${what} read`, 'size'), col(`${prefix}written`, `${what} written`, 'size')];
}
