/**
 * Text and LAMI of `nstrace top`: one per-container report of every analysis the trace has events
 * for (CPU usage, memory, system calls, scheduling latency, I/O), over the whole run.
 */
import type { CputopResult } from './cputop.js';
import type { AnalysisMeta, Cell, ResultTable, TableClass } from './format/lami.js';
import { cell, col } from './format/lami.js';
import { padLeftAlign, padRightAlign } from './format/pyfmt.js';
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
import type { IoResult } from './io.js';
import { containerIoLines, containerIoTables, IO_CONTAINER_CLASSES } from './io-containers.js';
import type { MemtopResult } from './memtop.js';
import { sortedDesc } from './memtop.js';
import { CPUTOP_CLASSES, MEMTOP_CLASSES, memContainerGraphs, memtopMi, shownPct, us } from './reports.js';
import type { SchedResult } from './sched.js';
import { SCHED_CLASSES, schedContainerLines, schedContainerTables } from './sched-report.js';
import type { SyscallstatsResult } from './syscallstats.js';

export const TOP_CLASSES = {
  cpu: { ...CPUTOP_CLASSES.perContainer, name: 'per-container-cpu' },
  allocd: MEMTOP_CLASSES.perContainerAllocd,
  freed: MEMTOP_CLASSES.perContainerFreed,
  syscalls: {
    name: 'per-container-syscalls',
    title: 'Per-container system calls',
    columns: [
      col('container', 'Container', 'container'),
      col('count', 'Call count', 'number', 'calls'),
      col('errors', 'Calls that returned an error', 'number', 'calls'),
      col('min_duration', 'Minimum call duration', 'duration'),
      col('avg_duration', 'Average call duration', 'duration'),
      col('max_duration', 'Maximum call duration', 'duration'),
      col('stdev_duration', 'Call duration standard deviation', 'duration'),
    ],
  },
} satisfies Record<string, TableClass>;

export function topMeta(version: string): AnalysisMeta {
  return {
    title: 'Per-container top',
    description: 'Per-container CPU usage, memory allocations, system calls, scheduling latency and I/O',
    tags: ['cpu', 'memory', 'syscall', 'sched', 'io', 'top'],
    tableClasses: [
      ...Object.values(TOP_CLASSES),
      SCHED_CLASSES.perContainer,
      SCHED_CLASSES.perContainerHolder,
      IO_CONTAINER_CLASSES.usage,
      IO_CONTAINER_CLASSES.disk,
      IO_CONTAINER_CLASSES.file,
    ],
    version: VERSION_FIELDS(version),
  };
}

export interface TopResults {
  /** Each part is absent when the trace lacks its events. */
  readonly cputop?: CputopResult;
  readonly memtop?: MemtopResult;
  readonly syscallstats?: SyscallstatsResult;
  /** Scheduling latency and I/O: one period (the whole run), its per-container tables only. */
  readonly sched?: SchedResult;
  readonly io?: IoResult;
}

const TOP_LINE = (
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

function topPeriod(r: TopResults): { begin: number; end: number } | undefined {
  return r.cputop ?? r.memtop ?? r.syscallstats ?? r.sched?.[0] ?? r.io?.[0];
}

export function topText(r: TopResults, o: ReportOptions): string {
  const p = topPeriod(r);
  if (p === undefined) return '';
  const lines: string[] = [timerangeLine(o, p.begin, p.end)];
  if (r.cputop !== undefined) {
    lines.push(
      ...barGraphLines({
        title: 'Per-Container Usage',
        unit: '%',
        labelHeader: CONTAINER_ROW('Container', 'Type'),
        rows: limited(r.cputop.containers, o.limit).map((c) => ({
          value: shownPct(c.usage),
          isFloat: true,
          label: CONTAINER_ROW(containerLabel(c.container), c.container.type),
        })),
      }),
    );
  }
  if (r.memtop !== undefined) lines.push(...memContainerGraphs(r.memtop, o));
  if (r.syscallstats !== undefined) {
    const sys = limited(
      sortedDesc(r.syscallstats.containers, (c) => c.total),
      o.limit,
    );
    lines.push('Per-Container System Calls (usec)');
    lines.push('#'.repeat(80));
    lines.push(TOP_LINE('Container', 'Type', 'Count', 'Errors', 'Min', 'Average', 'Max', 'Stdev'));
    for (const c of sys) {
      const d = c.all;
      const has = d.count > 0;
      lines.push(
        TOP_LINE(
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
  }
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
  const { begin, end } = range(o, p.begin, p.end);
  const tables: ResultTable[] = [];
  if (r.cputop !== undefined) {
    tables.push({
      cls: TOP_CLASSES.cpu,
      begin,
      end,
      rows: limited(r.cputop.containers, o.limit).map((c) => [
        containerCell(c.container),
        cell.ratio(c.usage / 100),
      ]),
    });
  }
  if (r.memtop !== undefined) {
    tables.push(
      ...memtopMi(r.memtop, o).filter(
        (t) => t.cls === MEMTOP_CLASSES.perContainerAllocd || t.cls === MEMTOP_CLASSES.perContainerFreed,
      ),
    );
  }
  if (r.syscallstats !== undefined) {
    tables.push({
      cls: TOP_CLASSES.syscalls,
      begin,
      end,
      rows: limited(
        sortedDesc(r.syscallstats.containers, (c) => c.total),
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
      }),
    });
  }
  const t = (cls: TableClass, rows: Cell[][]): ResultTable => ({ cls, begin, end, rows });
  const sched = r.sched?.[0]?.result;
  if (sched !== undefined) tables.push(...schedContainerTables(sched, t));
  const io = r.io?.[0]?.result;
  if (io !== undefined) tables.push(...containerIoTables(io, true, t));
  return tables;
}
