/**
 * Text and LAMI of `nstrace top`: one per-container report of every analysis the trace has events
 * for (CPU usage, memory, system calls, scheduling latency, I/O), over the whole run.
 */
import type { CputopResult } from './cputop.js';
import type { ReportOptions } from './format/common.js';
import { analysisMeta, tablesOf, timerangeLine } from './format/common.js';
import { tableClass } from './format/lami.js';
import type { ResultTable } from './format/lami.js';
import type { IoResult } from './io.js';
import { containerIoLines, containerIoTables, IO_CONTAINER_CLASSES } from './io-containers.js';
import type { MemtopResult } from './memtop.js';
import {
  CALL_STATS_COLS,
  CALLS_COL,
  cpuContainerCells,
  cpuContainerGraph,
  CPUTOP_CLASSES,
  ERRORS_COL,
  MEMTOP_CLASSES,
  memContainerGraphs,
  memtopMi,
  syscallContainerCells,
  syscallContainerLines,
} from './reports.js';
import type { SchedResult } from './sched.js';
import { SCHED_CLASSES, schedContainerLines, schedContainerTables } from './sched-report.js';
import type { SyscallstatsResult } from './syscallstats.js';
import { CONTAINER_COL } from './table-columns.js';

export const TOP_CLASSES = {
  cpu: { ...CPUTOP_CLASSES.perContainer, name: 'per-container-cpu' },
  allocd: MEMTOP_CLASSES.perContainerAllocd,
  freed: MEMTOP_CLASSES.perContainerFreed,
  syscalls: tableClass('per-container-syscalls', 'Per-container system calls', [
    CONTAINER_COL,
    CALLS_COL,
    ERRORS_COL,
    ...CALL_STATS_COLS,
  ]),
};

export const topMeta = analysisMeta(
  'Per-container top',
  'Per-container CPU usage, memory allocations, system calls, scheduling latency and I/O',
  ['cpu', 'memory', 'syscall', 'sched', 'io', 'top'],
  [
    ...Object.values(TOP_CLASSES),
    SCHED_CLASSES.perContainer,
    SCHED_CLASSES.perContainerHolder,
    IO_CONTAINER_CLASSES.usage,
    IO_CONTAINER_CLASSES.disk,
    IO_CONTAINER_CLASSES.file,
  ],
);

export interface TopResults {
  /** Each part is absent when the trace lacks its events. */
  readonly cputop?: CputopResult;
  readonly memtop?: MemtopResult;
  readonly syscallstats?: SyscallstatsResult;
  /** Scheduling latency and I/O: one period (the whole run), its per-container tables only. */
  readonly sched?: SchedResult;
  readonly io?: IoResult;
}

function topPeriod(r: TopResults): { begin: number; end: number } | undefined {
  return r.cputop ?? r.memtop ?? r.syscallstats ?? r.sched?.[0] ?? r.io?.[0];
}

export function topText(r: TopResults, o: ReportOptions): string {
  const p = topPeriod(r);
  if (p === undefined) return '';
  const lines: string[] = [timerangeLine(o, p.begin, p.end)];
  if (r.cputop !== undefined) lines.push(...cpuContainerGraph(r.cputop, o));
  if (r.memtop !== undefined) lines.push(...memContainerGraphs(r.memtop, o));
  if (r.syscallstats !== undefined) lines.push(...syscallContainerLines(r.syscallstats, o));
  const sched = r.sched?.[0]?.result;
  if (sched !== undefined && sched.containers.length > 0) {
    const c = schedContainerLines(sched);
    lines.push(...c.slice(1), '');
  }
  const io = r.io?.[0]?.result;
  if (io !== undefined) {
    const c = containerIoLines(io, o, true);
    if (c.length > 0) lines.push(...c.slice(1), '');
  }
  return lines.join('\n') + '\n';
}

export function topMi(r: TopResults, o: ReportOptions): ResultTable[] {
  const p = topPeriod(r);
  if (p === undefined) return [];
  const t = tablesOf(o, p.begin, p.end);
  const tables: ResultTable[] = [];
  if (r.cputop !== undefined) tables.push(t(TOP_CLASSES.cpu, cpuContainerCells(r.cputop, o)));
  if (r.memtop !== undefined) {
    tables.push(
      ...memtopMi(r.memtop, o).filter(
        (t) => t.cls === MEMTOP_CLASSES.perContainerAllocd || t.cls === MEMTOP_CLASSES.perContainerFreed,
      ),
    );
  }
  if (r.syscallstats !== undefined)
    tables.push(t(TOP_CLASSES.syscalls, syscallContainerCells(r.syscallstats, o)));
  const sched = r.sched?.[0]?.result;
  if (sched !== undefined) tables.push(...schedContainerTables(sched, t));
  const io = r.io?.[0]?.result;
  if (io !== undefined) tables.push(...containerIoTables(io, true, t));
  return tables;
}
