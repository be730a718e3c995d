/**
 * The LAMI table classes of the I/O analysis (lttng-analyses 0.6.1's `cli/io.py`) and the size
 * cell, shared by its report sections (src/analyses/io-report.ts,
 * src/analyses/io-usage.ts).
 */
import type { Cell, ColumnDesc } from './format/lami.js';
import { col, tableClass } from './format/lami.js';
import {
  boundCols,
  countCol,
  DISK_COL,
  durationCol,
  PATH_COL,
  PROCESS_COL,
  statsCols,
  SYSCALL_COL,
} from './table-columns.js';

export const size = (v: number): Cell => ({ class: 'size', value: v });
/** `size`: bytes of a request or of operations (`Read/write size`, `Operations size`). */
const sizeCol = (title: string): ColumnDesc => col('size', title, 'size');

const LOG_COLUMNS = [
  col('time_range', 'Call time range', 'time-range'),
  col('out_of_range', 'System call out of range?', 'bool'),
  durationCol('Call duration'),
  SYSCALL_COL,
  sizeCol('Read/write size'),
  PROCESS_COL,
  col('path', 'File path', 'path'),
  col('fd', 'File descriptor', 'fd'),
];
/** The statistics of a kind of request: what (`obj`), count, latencies. */
const LATENCY_COLUMNS = (
  obj: readonly [title: string, cls: string],
  count: readonly [title: string, unit: string],
  what: string,
  stdevTitle: string,
): ColumnDesc[] => [col('obj', ...obj), countCol(...count), ...statsCols('latency', what, stdevTitle)];

export const IO_CLASSES = {
  syscallStats: tableClass(
    'syscall-latency-stats',
    'System call latency statistics',
    LATENCY_COLUMNS(
      ['System call category', 'string'],
      ['Call count', 'calls'],
      'call latency',
      'System call latency standard deviation',
    ),
  ),
  diskStats: tableClass(
    'disk-latency-stats',
    'Partition latency statistics',
    LATENCY_COLUMNS(
      ['Partition', 'disk'],
      ['Access count', 'accesses'],
      'access latency',
      'System access latency standard deviation',
    ),
  ),
  freq: tableClass('freq', 'I/O request latency distribution', [
    ...boundCols('latency_', 'Latency'),
    countCol('Request count', 'requests'),
  ]),
  top: tableClass('top-syscall', 'Top system call latencies', LOG_COLUMNS),
  log: tableClass('log', 'I/O operations log', LOG_COLUMNS),
  perProcess: tableClass('per-process-top', 'Per-process top I/O operations', [
    PROCESS_COL,
    sizeCol('Total operations size'),
    col('disk_size', 'Disk operations size', 'size'),
    col('net_size', 'Network operations size', 'size'),
    col('unknown_size', 'Unknown operations size', 'size'),
  ]),
  perFile: tableClass('per-file-top', 'Per-file top I/O operations', [
    PATH_COL,
    sizeCol('Operations size'),
    col('fd_owners', 'File descriptor owners', 'string'),
  ]),
  perProcessBlock: tableClass('per-process-top-block', 'Per-process top block I/O operations', [
    PROCESS_COL,
    sizeCol('Operations size'),
  ]),
  perDiskSector: tableClass('per-disk-top-sector', 'Per-disk top sector I/O operations', [
    DISK_COL,
    countCol('Sector count', 'sectors'),
  ]),
  perDiskRequest: tableClass('per-disk-top-request', 'Per-disk top I/O requests', [
    DISK_COL,
    countCol('Request count', 'I/O requests'),
  ]),
  perDiskRtps: tableClass('per-disk-top-rps', 'Per-disk top I/O request time/sector', [
    DISK_COL,
    col('rtps', 'Request time/sector', 'duration'),
  ]),
  perNetif: tableClass('per-netif-top', 'Per-network interface top I/O operations', [
    col('netif', 'Network interface', 'netif'),
    sizeCol('Operations size'),
  ]),
};
