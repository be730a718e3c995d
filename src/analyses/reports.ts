/**
 * Text and LAMI renderings of the analyses.
 *
 * Text: the per-TID, per-CPU and total parts are laid out byte for byte as lttng-analyses 0.6.1
 * prints them (`cli/cputop.py`, `cli/memtop.py`, `cli/syscallstats.py`); the per-container
 * parts of the 2018 proposal follow them (`Per-Container Usage`, `name (pid_ns)`, a type column,
 * `[HOST]` for the host). LAMI: lttng-analyses' table classes, then ours for containers.
 * `nstrace top` (all of them per container) is in src/analyses/top-report.ts.
 */
import type { Container } from '../model/containers.js';
import type { CputopResult } from './cputop.js';
import { formatPrioList } from './cputop.js';
import type { AnalysisMeta, Cell, ResultTable, TableClass } from './format/lami.js';
import { cell, col } from './format/lami.js';
import { formatFixed, padLeftAlign, padRightAlign, pyDictStr, pyFloatRepr, pyRound } from './format/pyfmt.js';
import { barGraphLines } from './format/termgraph.js';
import type { ReportOptions } from './format/common.js';
import {
  CONTAINER_ROW,
  containerCell,
  containerLabel,
  limited,
  range,
  timerangeLine,
  VERSION_FIELDS,
} from './format/common.js';
import type { MemtopResult } from './memtop.js';
import { sortedDesc } from './memtop.js';
import type { SyscallStats, SyscallstatsResult } from './syscallstats.js';

export type { ReportOptions } from './format/common.js';

/** `Ratio.from_percentage(p).to_percentage()`: what lttng-analyses prints for a percentage. */
export const shownPct = (p: number): number => (p / 100) * 100;

// --- cputop ------------------------------------------------------------------------------------

export const CPUTOP_CLASSES = {
  perProcess: {
    name: 'per-process',
    title: 'Per-TID top CPU usage',
    columns: [
      col('process', 'Process', 'process'),
      col('migrations', 'Migration count', 'number', 'migrations'),
      col('prio_list', 'Chronological priorities', 'string'),
      col('usage', 'CPU usage', 'ratio'),
    ],
  },
  perCpu: {
    name: 'per-cpu',
    title: 'Per-CPU top CPU usage',
    columns: [col('cpu', 'CPU', 'cpu'), col('usage', 'CPU usage', 'ratio')],
  },
  total: { name: 'total', title: 'Total CPU usage', columns: [col('usage', 'CPU usage', 'ratio')] },
  summary: {
    name: 'summary',
    title: 'CPU usage - summary',
    columns: [col('time_range', 'Time range', 'time-range'), col('usage', 'Total CPU usage', 'ratio')],
  },
  perContainer: {
    name: 'per-container',
    title: 'Per-Container top CPU usage',
    columns: [col('container', 'Container', 'container'), col('usage', 'CPU usage', 'ratio')],
  },
} satisfies Record<string, TableClass>;

export function cputopMeta(version: string): AnalysisMeta {
  return {
    title: 'Top CPU usage',
    description: 'Per-TID, per-CPU, total and per-container top CPU usage',
    tags: ['cpu', 'top'],
    tableClasses: Object.values(CPUTOP_CLASSES),
    version: VERSION_FIELDS(version),
  };
}

export function cputopText(r: CputopResult, o: ReportOptions): string {
  const lines: string[] = [timerangeLine(o, r.begin, r.end)];
  const rowFmt = (a: string, b: string, c: string): string =>
    `  ${padLeftAlign(a, 25)} ${padRightAlign(b, 10)}   ${c}`;
  lines.push(
    ...barGraphLines({
      title: 'Per-TID Usage',
      unit: '%',
      labelHeader: rowFmt('Process', 'Migrations', 'Priorities'),
      rows: limited(r.tids, o.limit).map((t) => ({
        value: shownPct(t.usage),
        isFloat: true,
        label: rowFmt(`${t.comm} (${t.tid})`, String(t.migrations), formatPrioList(t.prios)),
      })),
    }),
  );
  lines.push(
    ...barGraphLines({
      title: 'Per-CPU Usage',
      unit: '%',
      rows: r.cpus.map((c) => ({ value: shownPct(c.usage), isFloat: true, label: `CPU ${c.cpu}` })),
    }),
  );
  if (r.total !== undefined) lines.push('', `Total CPU Usage: ${formatFixed(shownPct(r.total), 2)}%`, '');
  lines.push(
    ...barGraphLines({
      title: 'Per-Container Usage',
      unit: '%',
      labelHeader: CONTAINER_ROW('Container', 'Type'),
      rows: limited(r.containers, o.limit).map((c) => ({
        value: shownPct(c.usage),
        isFloat: true,
        label: CONTAINER_ROW(containerLabel(c.container), c.container.type),
      })),
    }),
  );
  return lines.join('\n') + '\n';
}

export function cputopMi(r: CputopResult, o: ReportOptions): ResultTable[] {
  const { begin, end } = range(o, r.begin, r.end);
  const tables: ResultTable[] = [
    {
      cls: CPUTOP_CLASSES.perProcess,
      begin,
      end,
      rows: limited(r.tids, o.limit).map((t) => [
        cell.process(t.comm, undefined, t.tid),
        cell.number(t.migrations),
        cell.string(formatPrioList(t.prios)),
        cell.ratio(t.usage / 100),
      ]),
    },
    {
      cls: CPUTOP_CLASSES.perCpu,
      begin,
      end,
      rows: r.cpus.map((c) => [cell.cpu(c.cpu), cell.ratio(c.usage / 100)]),
    },
  ];
  if (r.total !== undefined) {
    tables.push({ cls: CPUTOP_CLASSES.total, begin, end, rows: [[cell.ratio(r.total / 100)]] });
  }
  tables.push({
    cls: CPUTOP_CLASSES.perContainer,
    begin,
    end,
    rows: limited(r.containers, o.limit).map((c) => [containerCell(c.container), cell.ratio(c.usage / 100)]),
  });
  return tables;
}

// --- memtop ------------------------------------------------------------------------------------

export const MEMTOP_CLASSES = {
  allocd: {
    name: 'allocd',
    title: 'Per-TID top allocated memory',
    columns: [col('process', 'Process', 'process'), col('pages', 'Allocated pages', 'number', 'pages')],
  },
  freed: {
    name: 'freed',
    title: 'Per-TID top freed memory',
    columns: [col('process', 'Process', 'process'), col('pages', 'Freed pages', 'number', 'pages')],
  },
  total: {
    name: 'total',
    title: 'Total allocated/freed memory',
    columns: [
      col('allocd', 'Total allocated pages', 'number', 'pages'),
      col('freed', 'Total freed pages', 'number', 'pages'),
    ],
  },
  summary: {
    name: 'summary',
    title: 'Memory usage - summary',
    columns: [
      col('time_range', 'Time range', 'time-range'),
      col('allocd', 'Total allocated pages', 'number', 'pages'),
      col('freed', 'Total freed pages', 'number', 'pages'),
    ],
  },
  perContainerAllocd: {
    name: 'per-container-allocd',
    title: 'Per-Container top allocated memory',
    columns: [col('container', 'Container', 'container'), col('pages', 'Allocated pages', 'number', 'pages')],
  },
  perContainerFreed: {
    name: 'per-container-freed',
    title: 'Per-Container top freed memory',
    columns: [col('container', 'Container', 'container'), col('pages', 'Freed pages', 'number', 'pages')],
  },
} satisfies Record<string, TableClass>;

export function memtopMeta(version: string): AnalysisMeta {
  return {
    title: 'Top memory usage',
    description: 'Per-TID and per-container top allocated/freed memory',
    tags: ['memory', 'top'],
    tableClasses: Object.values(MEMTOP_CLASSES),
    version: VERSION_FIELDS(version),
  };
}

export function memContainerGraphs(r: MemtopResult, o: ReportOptions): string[] {
  const graph = (title: string, key: 'allocated' | 'freed'): string[] =>
    barGraphLines({
      title,
      unit: 'pages',
      labelHeader: CONTAINER_ROW('Container', 'Type'),
      rows: limited(
        sortedDesc(r.containers, (c) => c[key]),
        o.limit,
      ).map((c) => ({
        value: c[key],
        isFloat: false,
        label: CONTAINER_ROW(containerLabel(c.container), c.container.type),
      })),
    });
  return [
    ...graph('Per-Container Memory Allocations', 'allocated'),
    ...graph('Per-Container Memory Deallocations', 'freed'),
  ];
}

export function memtopText(r: MemtopResult, o: ReportOptions): string {
  const lines: string[] = [timerangeLine(o, r.begin, r.end)];
  const graph = (title: string, key: 'allocated' | 'freed'): string[] =>
    barGraphLines({
      title,
      unit: 'pages',
      labelHeader: 'Process',
      rows: limited(
        sortedDesc(r.tids, (t) => t[key]),
        o.limit,
      ).map((t) => ({ value: t[key], isFloat: false, label: `${t.comm} (${t.tid})` })),
    });
  lines.push(...graph('Per-TID Memory Allocations', 'allocated'));
  lines.push(...graph('Per-TID Memory Deallocations', 'freed'));
  lines.push(
    '',
    'Total memory usage:',
    `- ${r.totalAllocated} pages allocated`,
    `- ${r.totalFreed} pages freed`,
    '',
  );
  lines.push(...memContainerGraphs(r, o));
  return lines.join('\n') + '\n';
}

export function memtopMi(r: MemtopResult, o: ReportOptions): ResultTable[] {
  const { begin, end } = range(o, r.begin, r.end);
  const perTid = (key: 'allocated' | 'freed'): Cell[][] =>
    limited(
      sortedDesc(r.tids, (t) => t[key]),
      o.limit,
    ).map((t) => [cell.process(t.comm, undefined, t.tid), cell.number(t[key])]);
  const perContainer = (key: 'allocated' | 'freed'): Cell[][] =>
    limited(
      sortedDesc(r.containers, (c) => c[key]),
      o.limit,
    ).map((c) => [containerCell(c.container), cell.number(c[key])]);
  return [
    { cls: MEMTOP_CLASSES.allocd, begin, end, rows: perTid('allocated') },
    { cls: MEMTOP_CLASSES.freed, begin, end, rows: perTid('freed') },
    {
      cls: MEMTOP_CLASSES.total,
      begin,
      end,
      rows: [[cell.number(r.totalAllocated), cell.number(r.totalFreed)]],
    },
    { cls: MEMTOP_CLASSES.perContainerAllocd, begin, end, rows: perContainer('allocated') },
    { cls: MEMTOP_CLASSES.perContainerFreed, begin, end, rows: perContainer('freed') },
  ];
}

// --- syscallstats ------------------------------------------------------------------------------

const SYSCALL_COLUMNS = [
  col('syscall', 'System call', 'syscall'),
  col('count', 'Call count', 'number', 'calls'),
  col('min_duration', 'Minimum call duration', 'duration'),
  col('avg_duration', 'Average call duration', 'duration'),
  col('max_duration', 'Maximum call duration', 'duration'),
  col('stdev_duration', 'Call duration standard deviation', 'duration'),
  col('return_values', 'Return values count', 'string'),
];

export const SYSCALLSTATS_CLASSES = {
  perTid: { name: 'per-tid', title: 'System call statistics', columns: SYSCALL_COLUMNS },
  total: {
    name: 'total',
    title: 'Per-TID system call statistics',
    columns: [
      col('process', 'Process', 'process'),
      col('count', 'Total system call count', 'number', 'calls'),
    ],
  },
  summary: {
    name: 'summary',
    title: 'System call statistics - summary',
    columns: [
      col('time_range', 'Time range', 'time-range'),
      col('process', 'Process', 'process'),
      col('count', 'Total system call count', 'number', 'calls'),
    ],
  },
  perContainer: {
    name: 'per-container',
    title: 'Per-container system call statistics',
    columns: SYSCALL_COLUMNS,
  },
  perContainerTotal: {
    name: 'per-container-total',
    title: 'Per-container total system calls',
    columns: [
      col('container', 'Container', 'container'),
      col('count', 'Total system call count', 'number', 'calls'),
      col('errors', 'Calls that returned an error', 'number', 'calls'),
    ],
  },
} satisfies Record<string, TableClass>;

export function syscallstatsMeta(version: string): AnalysisMeta {
  return {
    title: 'System call statistics',
    description: 'Per-TID, per-container and global system call statistics',
    tags: ['syscall', 'stats'],
    tableClasses: Object.values(SYSCALLSTATS_CLASSES),
    version: VERSION_FIELDS(version),
  };
}

/** lttng-analyses' per-syscall row values (durations in ns as Python holds them). */
interface SyscallRow {
  readonly name: string;
  readonly count: number;
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  /** NaN when lttng-analyses prints `?` (two calls or fewer). */
  readonly stdev: number;
  /** `str(return_count)`. */
  readonly returns: string;
}

/**
 * Rows sorted by count. lttng-analyses counts every return value once too many (it starts each
 * count at 1, then adds); `lttngCompat` keeps that in the per-TID tables so they match it, and
 * the per-container tables, which are ours, show the true counts.
 */
function syscallRows(syscalls: Iterable<SyscallStats>, lttngCompat: boolean): SyscallRow[] {
  const extra = lttngCompat ? 1 : 0;
  return sortedDesc([...syscalls], (s) => s.count).map((s) => {
    const d = s.durations;
    const rets: Array<[string, number]> = [...s.returns].map(([k, v]) => [k, v + extra]);
    return {
      name: s.name,
      count: s.count,
      min: d.min,
      avg: d.mean,
      max: d.max,
      stdev: d.count > 2 ? d.stdev : NaN,
      returns: pyDictStr(rets),
    };
  });
}

const LINE = (a: string, b: string, c: string, d: string, e: string, f: string, g: string): string =>
  `${padLeftAlign(a, 38)} ${padRightAlign(b, 14)} ${padRightAlign(c, 14)} ${padRightAlign(d, 14)} ` +
  `${padRightAlign(e, 12)} ${padRightAlign(f, 10)}  ${padLeftAlign(g, 14)}`;

export const us = (ns: number): string => pyFloatRepr(pyRound(ns / 1000, 3));

function syscallBlock(subtitle: string, rows: SyscallRow[], total: number): string[] {
  const lines = [LINE(subtitle, 'Count', 'Min', 'Average', 'Max', 'Stdev', 'Return values')];
  for (const r of rows) {
    lines.push(
      LINE(
        ' - ' + r.name,
        String(r.count),
        us(r.min),
        us(r.avg),
        us(r.max),
        Number.isNaN(r.stdev) ? '?' : us(r.stdev),
        r.returns,
      ),
    );
  }
  lines.push(LINE('Total:', String(total), '', '', '', '', ''));
  lines.push('-'.repeat(113));
  return lines;
}

function tidSubtitle(t: { comm: string; pid: number | undefined; tid: number }): string {
  return `${t.comm} (${t.pid === undefined ? '?' : t.pid}, TID: ${t.tid})`;
}

function containerSubtitle(c: Container): string {
  return `${containerLabel(c)} [${c.type}]`;
}

export function syscallstatsText(r: SyscallstatsResult, o: ReportOptions): string {
  const lines: string[] = [timerangeLine(o, r.begin, r.end), 'Per-TID syscalls statistics (usec)'];
  let total = 0;
  for (const t of limited(
    sortedDesc(r.tids, (x) => x.total),
    o.limit,
  )) {
    if (t.total === 0) continue;
    lines.push(...syscallBlock(tidSubtitle(t), syscallRows(t.syscalls.values(), true), t.total));
    total += t.total;
  }
  lines.push('', `Total syscalls: ${total}`);
  const containers = limited(
    sortedDesc(r.containers, (c) => c.total).filter((c) => c.total > 0),
    o.limit,
  );
  if (containers.length > 0) {
    lines.push('', 'Per-container syscalls statistics (usec)');
    for (const c of containers) {
      lines.push(
        ...syscallBlock(containerSubtitle(c.container), syscallRows(c.syscalls.values(), false), c.total),
      );
    }
  }
  return lines.join('\n') + '\n';
}

function syscallMiRows(rows: SyscallRow[]): Cell[][] {
  return rows.map((s) => [
    cell.syscall(s.name),
    cell.number(s.count),
    cell.duration(s.min, false),
    cell.duration(s.avg, true),
    cell.duration(s.max, false),
    Number.isNaN(s.stdev) ? cell.unknown() : cell.duration(s.stdev, true),
    cell.string(s.returns),
  ]);
}

export function syscallstatsMi(r: SyscallstatsResult, o: ReportOptions): ResultTable[] {
  const { begin, end } = range(o, r.begin, r.end);
  const tables: ResultTable[] = [];
  const totalRows: Cell[][] = [];
  for (const t of limited(
    sortedDesc(r.tids, (x) => x.total),
    o.limit,
  )) {
    if (t.total === 0) continue;
    tables.push({
      cls: SYSCALLSTATS_CLASSES.perTid,
      begin,
      end,
      subtitle: tidSubtitle(t),
      rows: syscallMiRows(syscallRows(t.syscalls.values(), true)),
    });
    totalRows.push([cell.process(t.comm, t.pid, t.tid), cell.number(t.total)]);
  }
  tables.push({ cls: SYSCALLSTATS_CLASSES.total, begin, end, rows: totalRows });
  const containers = limited(
    sortedDesc(r.containers, (c) => c.total).filter((c) => c.total > 0),
    o.limit,
  );
  for (const c of containers) {
    tables.push({
      cls: SYSCALLSTATS_CLASSES.perContainer,
      begin,
      end,
      subtitle: containerSubtitle(c.container),
      rows: syscallMiRows(syscallRows(c.syscalls.values(), false)),
    });
  }
  tables.push({
    cls: SYSCALLSTATS_CLASSES.perContainerTotal,
    begin,
    end,
    rows: containers.map((c) => [containerCell(c.container), cell.number(c.total), cell.number(c.errors)]),
  });
  return tables;
}
