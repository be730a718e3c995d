/**
 * The LAMI table classes of the I/O analysis (lttng-analyses 0.6.1's `cli/io.py`), the shape of
 * its table maker and the size cell, shared by its report sections (src/analyses/io-report.ts,
 * src/analyses/io-usage.ts).
 */
import type { Cell, ResultTable, TableClass } from './format/lami.js';
import { col } from './format/lami.js';

/** Builds a result table of one period (and subtitle) from a class and its rows. */
export type TableMaker = (cls: TableClass, rows: Cell[][], subtitle?: string) => ResultTable;

export const size = (v: number): Cell => ({ class: 'size', value: v });

const LOG_COLUMNS = [
  col('time_range', 'Call time range', 'time-range'),
  col('out_of_range', 'System call out of range?', 'bool'),
  col('duration', 'Call duration', 'duration'),
  col('syscall', 'System call', 'syscall'),
  col('size', 'Read/write size', 'size'),
  col('process', 'Process', 'process'),
  col('path', 'File path', 'path'),
  col('fd', 'File descriptor', 'fd'),
];
const LATENCY_COLUMNS = (obj: [string, string], count: [string, string]): ReturnType<typeof col>[] => [
  col('obj', obj[0], obj[1]),
  col('count', count[0], 'number', count[1]),
];

export const IO_CLASSES = {
  syscallStats: {
    name: 'syscall-latency-stats',
    title: 'System call latency statistics',
    columns: [
      ...LATENCY_COLUMNS(['System call category', 'string'], ['Call count', 'calls']),
      col('min_latency', 'Minimum call latency', 'duration'),
      col('avg_latency', 'Average call latency', 'duration'),
      col('max_latency', 'Maximum call latency', 'duration'),
      col('stdev_latency', 'System call latency standard deviation', 'duration'),
    ],
  },
  diskStats: {
    name: 'disk-latency-stats',
    title: 'Partition latency statistics',
    columns: [
      ...LATENCY_COLUMNS(['Partition', 'disk'], ['Access count', 'accesses']),
      col('min_latency', 'Minimum access latency', 'duration'),
      col('avg_latency', 'Average access latency', 'duration'),
      col('max_latency', 'Maximum access latency', 'duration'),
      col('stdev_latency', 'System access latency standard deviation', 'duration'),
    ],
  },
  freq: {
    name: 'freq',
    title: 'I/O request latency distribution',
    columns: [
      col('latency_lower', 'Latency (lower bound)', 'duration'),
      col('latency_upper', 'Latency (upper bound)', 'duration'),
      col('count', 'Request count', 'number', 'requests'),
    ],
  },
  top: { name: 'top-syscall', title: 'Top system call latencies', columns: LOG_COLUMNS },
  log: { name: 'log', title: 'I/O operations log', columns: LOG_COLUMNS },
  perProcess: {
    name: 'per-process-top',
    title: 'Per-process top I/O operations',
    columns: [
      col('process', 'Process', 'process'),
      col('size', 'Total operations size', 'size'),
      col('disk_size', 'Disk operations size', 'size'),
      col('net_size', 'Network operations size', 'size'),
      col('unknown_size', 'Unknown operations size', 'size'),
    ],
  },
  perFile: {
    name: 'per-file-top',
    title: 'Per-file top I/O operations',
    columns: [
      col('path', 'File path/info', 'path'),
      col('size', 'Operations size', 'size'),
      col('fd_owners', 'File descriptor owners', 'string'),
    ],
  },
  perProcessBlock: {
    name: 'per-process-top-block',
    title: 'Per-process top block I/O operations',
    columns: [col('process', 'Process', 'process'), col('size', 'Operations size', 'size')],
  },
  perDiskSector: {
    name: 'per-disk-top-sector',
    title: 'Per-disk top sector I/O operations',
    columns: [col('disk', 'Disk', 'disk'), col('count', 'Sector count', 'number', 'sectors')],
  },
  perDiskRequest: {
    name: 'per-disk-top-request',
    title: 'Per-disk top I/O requests',
    columns: [col('disk', 'Disk', 'disk'), col('count', 'Request count', 'number', 'I/O requests')],
  },
  perDiskRtps: {
    name: 'per-disk-top-rps',
    title: 'Per-disk top I/O request time/sector',
    columns: [col('disk', 'Disk', 'disk'), col('rtps', 'Request time/sector', 'duration')],
  },
  perNetif: {
    name: 'per-netif-top',
    title: 'Per-network interface top I/O operations',
    columns: [col('netif', 'Network interface', 'netif'), col('size', 'Operations size', 'size')],
  },
} satisfies Record<string, TableClass>;
