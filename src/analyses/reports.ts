/**
 * Text and LAMI renderings of the analyses.
 *
 * Text: the per-TID, per-CPU and total parts are laid out byte for byte as lttng-analyses 0.6.1
 * prints them (`cli/cputop.py`, `cli/memtop.py`, `cli/syscallstats.py`); the per-container
 * parts of the 2018 proposal follow them (`Per-Container Usage`, `name (pid_ns)`, a type column,
 * `[HOST]` for the host). LAMI: lttng-analyses' table classes, then ours for containers.
 * `nstrace top` (src/analyses/top-report.ts) puts their per-container sections together.
 */
import { pushAll } from '../util/push-all.js';
import type { Container } from '../model/containers.js';
import type { CputopResult } from './cputop.js';
import { formatPrioList } from './cputop.js';
import type { ReportOptions } from './format/common.js';
import {
  analysisMeta,
  CONTAINER_ROW,
  containerCell,
  containerLabel,
  limited,
  tablesOf,
  timerangeLine,
} from './format/common.js';
import type { Cell, ResultTable } from './format/lami.js';
import { cell, col, tableClass } from './format/lami.js';
import { formatFixed, padLeftAlign, padRightAlign, pyDictStr, pyFloatRepr, pyRound } from './format/pyfmt.js';
import { barGraphLines } from './format/termgraph.js';
import type { MemtopResult } from './memtop.js';
import { sortedDesc } from './memtop.js';
import type { SyscallStats, SyscallstatsResult } from './syscallstats.js';
import {
  CONTAINER_COL,
  countCol,
  PRIO_LIST_COL,
  PROCESS_COL,
  statsCols,
  SYSCALL_COL,
  TIME_RANGE_COL,
} from './table-columns.js';

export type { ReportOptions } from './format/common.js';

/** `Ratio.from_percentage(p).to_percentage()`: what lttng-analyses prints for a percentage. */
export const shownPct = (p: number): number => (p / 100) * 100;

// --- cputop ------------------------------------------------------------------------------------

const USAGE = col('usage', 'CPU usage', 'ratio');

export const CPUTOP_CLASSES = {
  perProcess: tableClass('per-process', 'Per-TID top CPU usage', [
    PROCESS_COL,
    col('migrations', 'Migration count', 'number', 'migrations'),
    PRIO_LIST_COL,
    USAGE,
  ]),
  perCpu: tableClass('per-cpu', 'Per-CPU top CPU usage', [col('cpu', 'CPU', 'cpu'), USAGE]),
  total: tableClass('total', 'Total CPU usage', [USAGE]),
  summary: tableClass('summary', 'CPU usage - summary', [
    TIME_RANGE_COL,
    col('usage', 'Total CPU usage', 'ratio'),
  ]),
  perContainer: tableClass('per-container', 'Per-Container top CPU usage', [CONTAINER_COL, USAGE]),
};

export const cputopMeta = analysisMeta(
  'Top CPU usage',
  'Per-TID, per-CPU, total and per-container top CPU usage',
  ['cpu', 'top'],
  Object.values(CPUTOP_CLASSES),
);

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
  lines.push(...cpuContainerGraph(r, o));
  return lines.join('\n') + '\n';
}

/** The per-container CPU usage graph (also in `top`). */
export function cpuContainerGraph(r: CputopResult, o: ReportOptions): string[] {
  return barGraphLines({
    title: 'Per-Container Usage',
    unit: '%',
    labelHeader: CONTAINER_ROW('Container', 'Type'),
    rows: limited(r.containers, o.limit).map((c) => ({
      value: shownPct(c.usage),
      isFloat: true,
      label: CONTAINER_ROW(containerLabel(c.container), c.container.type),
    })),
  });
}

/** The per-container CPU usage rows (also in `top`). */
export function cpuContainerCells(r: CputopResult, o: ReportOptions): Cell[][] {
  return limited(r.containers, o.limit).map((c) => [containerCell(c.container), cell.ratio(c.usage / 100)]);
}

export function cputopMi(r: CputopResult, o: ReportOptions): ResultTable[] {
  const t = tablesOf(o, r.begin, r.end);
  const tables: ResultTable[] = [
    t(
      CPUTOP_CLASSES.perProcess,
      limited(r.tids, o.limit).map((x) => [
        cell.process(x.comm, undefined, x.tid),
        cell.number(x.migrations),
        cell.string(formatPrioList(x.prios)),
        cell.ratio(x.usage / 100),
      ]),
    ),
    t(
      CPUTOP_CLASSES.perCpu,
      r.cpus.map((c) => [cell.cpu(c.cpu), cell.ratio(c.usage / 100)]),
    ),
  ];
  if (r.total !== undefined) tables.push(t(CPUTOP_CLASSES.total, [[cell.ratio(r.total / 100)]]));
  tables.push(t(CPUTOP_CLASSES.perContainer, cpuContainerCells(r, o)));
  return tables;
}

// --- memtop ------------------------------------------------------------------------------------

const ALLOCATED = col('pages', 'Allocated pages', 'number', 'pages');
const FREED = col('pages', 'Freed pages', 'number', 'pages');
const TOTALS = [
  col('allocd', 'Total allocated pages', 'number', 'pages'),
  col('freed', 'Total freed pages', 'number', 'pages'),
];

export const MEMTOP_CLASSES = {
  allocd: tableClass('allocd', 'Per-TID top allocated memory', [PROCESS_COL, ALLOCATED]),
  freed: tableClass('freed', 'Per-TID top freed memory', [PROCESS_COL, FREED]),
  total: tableClass('total', 'Total allocated/freed memory', TOTALS),
  summary: tableClass('summary', 'Memory usage - summary', [TIME_RANGE_COL, ...TOTALS]),
  perContainerAllocd: tableClass('per-container-allocd', 'Per-Container top allocated memory', [
    CONTAINER_COL,
    ALLOCATED,
  ]),
  perContainerFreed: tableClass('per-container-freed', 'Per-Container top freed memory', [
    CONTAINER_COL,
    FREED,
  ]),
};

export const memtopMeta = analysisMeta(
  'Top memory usage',
  'Per-TID and per-container top allocated/freed memory',
  ['memory', 'top'],
  Object.values(MEMTOP_CLASSES),
);

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
  const t = tablesOf(o, r.begin, r.end);
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
    t(MEMTOP_CLASSES.allocd, perTid('allocated')),
    t(MEMTOP_CLASSES.freed, perTid('freed')),
    t(MEMTOP_CLASSES.total, [[cell.number(r.totalAllocated), cell.number(r.totalFreed)]]),
    t(MEMTOP_CLASSES.perContainerAllocd, perContainer('allocated')),
    t(MEMTOP_CLASSES.perContainerFreed, perContainer('freed')),
  ];
}

// --- syscallstats ------------------------------------------------------------------------------

/** The count, errors and duration statistics of system calls (also `top`'s per-container table). */
export const CALLS_COL = countCol('Call count', 'calls');
export const ERRORS_COL = col('errors', 'Calls that returned an error', 'number', 'calls');
export const CALL_STATS_COLS = statsCols('duration', 'call duration', 'Call duration standard deviation');
const SYSCALL_COLUMNS = [
  SYSCALL_COL,
  CALLS_COL,
  ...CALL_STATS_COLS,
  col('return_values', 'Return values count', 'string'),
];
const TOTAL = countCol('Total system call count', 'calls');

export const SYSCALLSTATS_CLASSES = {
  perTid: tableClass('per-tid', 'System call statistics', SYSCALL_COLUMNS),
  total: tableClass('total', 'Per-TID system call statistics', [PROCESS_COL, TOTAL]),
  summary: tableClass('summary', 'System call statistics - summary', [TIME_RANGE_COL, PROCESS_COL, TOTAL]),
  perContainer: tableClass('per-container', 'Per-container system call statistics', SYSCALL_COLUMNS),
  perContainerTotal: tableClass('per-container-total', 'Per-container total system calls', [
    CONTAINER_COL,
    TOTAL,
    ERRORS_COL,
  ]),
};

export const syscallstatsMeta = analysisMeta(
  'System call statistics',
  'Per-TID, per-container and global system call statistics',
  ['syscall', 'stats'],
  Object.values(SYSCALLSTATS_CLASSES),
);

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
    pushAll(lines, syscallBlock(tidSubtitle(t), syscallRows(t.syscalls.values(), true), t.total));
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
  const t = tablesOf(o, r.begin, r.end);
  const tables: ResultTable[] = [];
  const totalRows: Cell[][] = [];
  for (const x of limited(
    sortedDesc(r.tids, (y) => y.total),
    o.limit,
  )) {
    if (x.total === 0) continue;
    const rows = syscallMiRows(syscallRows(x.syscalls.values(), true));
    tables.push(t(SYSCALLSTATS_CLASSES.perTid, rows, tidSubtitle(x)));
    totalRows.push([cell.process(x.comm, x.pid, x.tid), cell.number(x.total)]);
  }
  tables.push(t(SYSCALLSTATS_CLASSES.total, totalRows));
  const containers = limited(
    sortedDesc(r.containers, (c) => c.total).filter((c) => c.total > 0),
    o.limit,
  );
  for (const c of containers) {
    const rows = syscallMiRows(syscallRows(c.syscalls.values(), false));
    tables.push(t(SYSCALLSTATS_CLASSES.perContainer, rows, containerSubtitle(c.container)));
  }
  tables.push(
    t(
      SYSCALLSTATS_CLASSES.perContainerTotal,
      containers.map((c) => [containerCell(c.container), cell.number(c.total), cell.number(c.errors)]),
    ),
  );
  return tables;
}

// --- per container, in `top` -------------------------------------------------------------------

const CONTAINER_LINE = (
  a: string,
  b: string,
  c: string,
  d: string,
  e: string,
  f: string,
  g: string,
  h: string,
): string =>
  `  ${padLeftAlign(a, 45)} ${padLeftAlign(b, 10)} ${padRightAlign(c, 10)} ${padRightAlign(d, 8)} ` +
  `${padRightAlign(e, 12)} ${padRightAlign(f, 12)} ${padRightAlign(g, 12)} ${padRightAlign(h, 10)}`;

/** The per-container system call counts and durations of `top`. */
export function syscallContainerLines(r: SyscallstatsResult, o: ReportOptions): string[] {
  const lines = [
    'Per-Container System Calls (usec)',
    '#'.repeat(80),
    CONTAINER_LINE('Container', 'Type', 'Count', 'Errors', 'Min', 'Average', 'Max', 'Stdev'),
  ];
  for (const c of limited(
    sortedDesc(r.containers, (x) => x.total),
    o.limit,
  )) {
    const d = c.all;
    const has = d.count > 0;
    lines.push(
      CONTAINER_LINE(
        containerLabel(c.container),
        c.container.type,
        String(c.total),
        String(c.errors),
        has ? us(d.min) : '-',
        has ? us(d.mean) : '-',
        has ? us(d.max) : '-',
        d.count > 2 ? us(d.stdev) : '?',
      ),
    );
  }
  lines.push('');
  return lines;
}

/** The rows of `syscallContainerLines` in LAMI. */
export function syscallContainerCells(r: SyscallstatsResult, o: ReportOptions): Cell[][] {
  return limited(
    sortedDesc(r.containers, (c) => c.total),
    o.limit,
  ).map((c) => {
    const d = c.all;
    const has = d.count > 0;
    return [
      containerCell(c.container),
      cell.number(c.total),
      cell.number(c.errors),
      has ? cell.duration(d.min, false) : cell.unknown(),
      has ? cell.duration(d.mean, true) : cell.unknown(),
      has ? cell.duration(d.max, false) : cell.unknown(),
      d.count > 2 ? cell.duration(d.stdev, true) : cell.unknown(),
    ];
  });
}
