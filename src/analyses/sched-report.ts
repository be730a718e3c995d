/**
 * Text and LAMI of `schedtop`, `schedstats`, `schedlog` and `schedfreq`: lttng-analyses 0.6.1's
 * tables (`cli/sched.py`) per period, byte for byte, then ours per container.
 */
import { pushAll } from '../util/push-all.js';
import { formatPrioList } from './cputop.js';
import type { FamilyReportOptions } from './family-report.js';
import { containerSections, familyTables, freqCells, freqLines, freqSeries, us3 } from './family-report.js';
import type { ReportOptions, ReportText } from './format/common.js';
import {
  absNs,
  analysisMeta,
  cellOrIdle,
  containerCell,
  containerLabel,
  labelOrIdle,
  LineBlocks,
  tablesOf,
  timerangeLine,
  tsText,
} from './format/common.js';
import type { Cell, ResultTable, TableClass } from './format/lami.js';
import { cell, col, tableClass } from './format/lami.js';
import { padLeftAlign, padRightAlign } from './format/pyfmt.js';
import type { FreqRow } from './freq.js';
import { freqBounds, freqRows, UniformFreq } from './freq.js';
import type { SchedEvent, SchedPeriodResult, SchedResult, TidSched } from './sched.js';
import { DurationStats } from './stats.js';
import { groupBy } from '../util/group.js';
import { boundCols, CONTAINER_COL, countCol, PRIO_LIST_COL, statsCols } from './table-columns.js';

export interface SchedReportOptions extends FamilyReportOptions {
  readonly total: boolean;
  readonly perTid: boolean;
  readonly perPrio: boolean;
}

const EVENT_COLUMNS = [
  col('wakeup_ts', 'Wakeup timestamp', 'timestamp'),
  col('switch_ts', 'Switch timestamp', 'timestamp'),
  col('latency', 'Scheduling latency', 'duration'),
  col('prio', 'Priority', 'number'),
  col('target_cpu', 'Target CPU', 'cpu'),
  col('wakee_proc', 'Wakee process', 'process'),
  col('waker_proc', 'Waker process', 'process'),
];
const COUNT = countCol('Scheduling count', 'schedulings');
const [MIN, AVG, MAX, STDEV] = statsCols('latency', 'latency', 'Scheduling latency standard deviation');
const STATS_COLUMNS = [COUNT, MIN, AVG, MAX, STDEV];
/** The container whose task ran on the CPU while a latency elapsed (`[IDLE]`: none). */
const HOLDER = col('holder', 'Container that held the CPU', 'container');

export const SCHED_CLASSES = {
  log: tableClass('log', 'Scheduling log', EVENT_COLUMNS),
  top: tableClass('top', 'Scheduling top', EVENT_COLUMNS),
  total: tableClass('total_stats', 'Scheduling latency stats (total)', STATS_COLUMNS),
  perTid: tableClass('per_tid_stats', 'Scheduling latency stats (per-TID)', [
    col('process', 'Wakee process', 'process'),
    ...STATS_COLUMNS,
    PRIO_LIST_COL,
  ]),
  perPrio: tableClass('per_prio_stats', 'Scheduling latency stats (per-prio)', [
    col('prio', 'Priority', 'number'),
    ...STATS_COLUMNS,
  ]),
  freq: tableClass('freq', 'Scheduling latency frequency distribution', [
    ...boundCols('duration_', 'Duration'),
    COUNT,
  ]),
  perContainer: tableClass('per-container-stats', 'Per-container scheduling latency stats', [
    CONTAINER_COL,
    ...STATS_COLUMNS,
  ]),
  perContainerHolder: tableClass(
    'per-container-holder',
    'Per-container scheduling latency by the container that held the CPU',
    [CONTAINER_COL, HOLDER, COUNT, AVG, MAX, col('total_latency', 'Total latency', 'duration')],
  ),
};

export const schedMeta = analysisMeta(
  'Scheduling latencies analysis',
  'Scheduling latencies frequency distribution, statistics, top, log and per container',
  ['sched', 'stats', 'freq', 'top', 'log'],
  Object.values(SCHED_CLASSES),
);

/** The numbers of a stats row as lttng-analyses holds them (None as undefined). */
interface StatsRow {
  readonly count: number;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly total: number;
  /** NaN below two values. */
  readonly stdev: number;
}

function statsOf(events: readonly SchedEvent[]): StatsRow {
  const d = new DurationStats();
  for (const e of events) d.add(e.latency);
  return {
    count: d.count,
    min: d.count === 0 ? undefined : d.min,
    max: d.count === 0 ? undefined : d.max,
    total: d.sum,
    stdev: d.stdev,
  };
}

/** Per-prio lists in order of first appearance (Python dict), then sorted keys. */
function byPrio(events: readonly SchedEvent[]): Map<number | undefined, SchedEvent[]> {
  return groupBy(events, (e) => e.prio);
}

function sortedNums<T>(m: Map<number | undefined, T>): Array<[number | undefined, T]> {
  return [...m.entries()].sort((a, b) => (a[0] ?? -Infinity) - (b[0] ?? -Infinity));
}

/** Per-TID lists by wakee tid (from the whole list, as `_get_tid_sched_lists_stats`). */
function byTid(events: readonly SchedEvent[]): Map<number, SchedEvent[]> {
  return groupBy(events, (e) => e.wakee.tid);
}

/** Per-TID stats rows: threads with latencies, by name (case-insensitive, stable). */
function tidRows(tids: readonly TidSched[]): TidSched[] {
  const rows = tids.filter((t) => t.events.length > 0);
  // Python's str.lower() and a stable sort.
  return rows
    .map((t, i) => ({ t, i, k: t.comm.toLowerCase() }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i))
    .map((x) => x.t);
}

function procCell(p: { comm: string; pid: number | undefined; tid: number } | undefined): Cell {
  return p === undefined ? cell.empty() : cell.process(p.comm, p.pid, p.tid);
}

function eventCells(o: ReportOptions, e: SchedEvent): Cell[] {
  return [
    cell.timestamp(absNs(o, e.wakeupTs)),
    cell.timestamp(absNs(o, e.switchTs)),
    cell.duration(e.latency, false),
    e.prio === undefined ? { class: 'number' } : cell.number(e.prio),
    cell.cpu(e.cpu),
    procCell(e.wakee),
    procCell(e.waker),
  ];
}

function statsCells(s: StatsRow, zeroForNone: boolean): Cell[] {
  const dur = (v: number | undefined): Cell =>
    v === undefined ? (zeroForNone ? cell.duration(0, false) : cell.unknown()) : cell.duration(v, false);
  return [
    cell.number(s.count),
    dur(s.min),
    s.count === 0 ? cell.duration(0, false) : cell.duration(s.total / s.count, true),
    dur(s.max),
    Number.isNaN(s.stdev) ? cell.unknown() : cell.duration(s.stdev, true),
  ];
}

interface FreqTable {
  readonly subtitle: string | undefined;
  readonly rows: FreqRow[];
}

/** One period's lttng-analyses tables. */
interface PeriodTables {
  readonly begin: number;
  readonly end: number;
  readonly r: SchedPeriodResult;
  readonly totalFreq: FreqTable[];
  readonly tidFreq: FreqTable[];
  readonly prioFreq: FreqTable[];
}

function periodTables(
  begin: number,
  end: number,
  r: SchedPeriodResult,
  o: SchedReportOptions,
  uniform: UniformFreq,
): PeriodTables {
  const totalFreq: FreqTable[] = [];
  const tidFreq: FreqTable[] = [];
  const prioFreq: FreqTable[] = [];
  if (o.freq) {
    const res = o.freqResolution;
    const fill = (lists: Array<[string | undefined, SchedEvent[]]>, out: FreqTable[]): void => {
      let u: [number, number, number] | undefined;
      if (o.freqUniform) u = uniform.values(lists.flatMap(([, l]) => l.map((e) => e.latency)));
      for (const [subtitle, l] of lists) {
        const s = statsOf(l);
        const [lo, hi, step] = u ?? freqBounds(s.min, s.max, o.min, o.max, res);
        out.push({
          subtitle,
          rows: freqRows(
            l.map((e) => e.latency),
            lo,
            hi,
            step,
            res,
          ),
        });
      }
    };
    if (o.total) fill([[undefined, r.events]], totalFreq);
    if (o.perTid) {
      const m = byTid(r.events);
      const keys = [...m.keys()].sort((a, b) => a - b);
      fill(
        keys.map((k) => [`TID: ${k}`, m.get(k)!]),
        tidFreq,
      );
    }
    if (o.perPrio) {
      fill(
        sortedNums(byPrio(r.events)).map(([k, l]) => [`Priority: ${k === undefined ? 'None' : k}`, l]),
        prioFreq,
      );
    }
  }
  return { begin, end, r, totalFreq, tidFreq, prioFreq };
}

function allPeriodTables(res: SchedResult, o: SchedReportOptions): PeriodTables[] {
  const uniform = new UniformFreq(o.freqResolution, o.min, o.max);
  return res.map((t) => periodTables(t.begin, t.end, t.result, o, uniform));
}

// --- text --------------------------------------------------------------------------------------

const LOG_FMT = (a: string, b: string, c: string, d: string, e: string, f: string, g: string): string =>
  `[${padLeftAlign(a, 18)}, ${padLeftAlign(b, 18)}] ${padRightAlign(c, 15)} ${padRightAlign(d, 10)}  ` +
  `${padRightAlign(e, 3)}   ${padLeftAlign(f, 25)}  ${padLeftAlign(g, 25)}`;

function eventLines(title: string, events: readonly SchedEvent[], o: SchedReportOptions): string[] {
  const lines = new LineBlocks([
    '',
    title,
    `${padLeftAlign('Wakeup', 20)} ${padLeftAlign('Switch', 19)} ${padRightAlign('Latency (us)', 15)} ` +
      `${padRightAlign('Priority', 10)}  ${padRightAlign('CPU', 3)}   ${padLeftAlign('Wakee', 25)}  ${padLeftAlign('Waker', 25)}`,
  ]);
  for (const e of events) {
    lines.push(
      LOG_FMT(
        tsText(o, e.wakeupTs, o.multiDay),
        tsText(o, e.switchTs, o.multiDay),
        us3(e.latency),
        e.prio === undefined ? 'None' : String(e.prio),
        String(e.cpu),
        `${e.wakee.comm} (${e.wakee.tid})`,
        e.waker === undefined ? 'Unknown (N/A)' : `${e.waker.comm} (${e.waker.tid})`,
      ),
    );
  }
  return lines.toArray();
}

function stdevText(s: StatsRow): string {
  return Number.isNaN(s.stdev) ? '?' : us3(s.stdev);
}

function statsLines(p: PeriodTables, o: SchedReportOptions): string[] {
  const lines: string[] = [];
  const r = p.r;
  if (o.total) {
    const s = statsOf(r.events);
    const f = (...c: string[]): string => c.map((x) => padLeftAlign(x, 12)).join(' ');
    lines.push('', `${SCHED_CLASSES.total.title} (us)`, f('Count', 'Min', 'Avg', 'Max', 'Stdev'));
    lines.push(
      f(
        String(s.count),
        us3(s.min ?? 0),
        us3(s.count === 0 ? 0 : s.total / s.count),
        us3(s.max ?? 0),
        stdevText(s),
      ),
    );
  }
  if (o.perTid) {
    const rows = tidRows(r.tids);
    if (rows.length > 0) {
      const f = (a: string, b: string, c: string, d: string, e: string, g: string, h: string): string =>
        `${padLeftAlign(a, 25)} ${padRightAlign(b, 8)}  ${padRightAlign(c, 12)}  ${padRightAlign(d, 12)}  ` +
        `${padRightAlign(e, 12)}  ${padRightAlign(g, 12)}   ${h}`;
      lines.push(
        '',
        `${SCHED_CLASSES.perTid.title} (us)`,
        f('Process', 'Count', 'Min', 'Avg', 'Max', 'Stdev', 'Priorities'),
      );
      for (const t of rows) {
        const s = statsOf(t.events);
        lines.push(
          f(
            `${t.comm} (${t.tid})`,
            String(s.count),
            us3(s.min!),
            us3(s.total / s.count),
            us3(s.max!),
            stdevText(s),
            formatPrioList(t.prios.map((x) => x ?? NaN)),
          ),
        );
      }
    }
  }
  if (o.perPrio) {
    const prios = sortedNums(byPrio(r.events));
    if (prios.length > 0) {
      const f = (a: string, b: string, c: string, d: string, e: string, g: string): string =>
        `${padRightAlign(a, 4)} ${padRightAlign(b, 8)}  ${padRightAlign(c, 12)}  ${padRightAlign(d, 12)}  ` +
        `${padRightAlign(e, 12)}  ${padRightAlign(g, 12)}`;
      lines.push('', `${SCHED_CLASSES.perPrio.title} (us)`, f('Prio', 'Count', 'Min', 'Avg', 'Max', 'Stdev'));
      for (const [prio, l] of prios) {
        const s = statsOf(l);
        lines.push(
          f(
            prio === undefined ? 'None' : String(prio),
            String(s.count),
            us3(s.min!),
            us3(s.total / s.count),
            us3(s.max!),
            stdevText(s),
          ),
        );
      }
    }
  }
  return lines;
}

function freqTablesLines(tables: readonly FreqTable[]): string[] {
  return tables.flatMap((t) =>
    freqLines(`Scheduling latency frequency distribution - ${t.subtitle ?? 'None'}`, 'µs', t.rows),
  );
}

function topEvents(events: readonly SchedEvent[], limit: number): SchedEvent[] {
  const sorted = [...events].sort((a, b) => b.latency - a.latency);
  return limit > 0 ? sorted.slice(0, limit) : sorted;
}

/** Per-container tables of one period (ours; also in `top`). */
export function schedContainerLines(r: SchedPeriodResult): string[] {
  if (r.containers.length === 0) return [];
  const f = (a: string, b: string, c: string, d: string, e: string, g: string, h: string): string =>
    `${padLeftAlign(a, 45)} ${padLeftAlign(b, 10)} ${padRightAlign(c, 8)}  ${padRightAlign(d, 12)}  ` +
    `${padRightAlign(e, 12)}  ${padRightAlign(g, 12)}  ${padRightAlign(h, 12)}`;
  const lines = [
    '',
    'Per-Container Scheduling Latency (us)',
    f('Container', 'Type', 'Count', 'Min', 'Avg', 'Max', 'Stdev'),
  ];
  for (const c of r.containers) {
    const d = c.stats;
    lines.push(
      f(
        containerLabel(c.container),
        c.container.type,
        String(d.count),
        us3(d.min),
        us3(d.mean),
        us3(d.max),
        d.count < 2 ? '?' : us3(d.stdev),
      ),
    );
  }
  const g = (a: string, b: string, c: string, d: string, e: string, h: string): string =>
    `${padLeftAlign(a, 45)} ${padLeftAlign(b, 45)} ${padRightAlign(c, 8)}  ${padRightAlign(d, 12)}  ` +
    `${padRightAlign(e, 12)}  ${padRightAlign(h, 14)}`;
  lines.push('', 'Scheduling Latency by the Container that Held the CPU (us)');
  lines.push(g('Container (waiting)', 'CPU held by', 'Count', 'Avg', 'Max', 'Total'));
  for (const h of r.holders) {
    const d = h.stats;
    lines.push(
      g(
        containerLabel(h.container),
        labelOrIdle(h.holder),
        String(d.count),
        us3(d.mean),
        us3(d.max),
        us3(d.sum),
      ),
    );
  }
  return lines;
}

export function schedText(res: SchedResult, o: SchedReportOptions): ReportText {
  const lines: string[] = [];
  const periods = allPeriodTables(res, o);
  for (const p of periods) {
    lines.push(timerangeLine(o, p.begin, p.end));
    if (o.stats) pushAll(lines, statsLines(p, o));
    if (o.freq) {
      lines.push(
        ...freqTablesLines(p.totalFreq),
        ...freqTablesLines(p.tidFreq),
        ...freqTablesLines(p.prioFreq),
      );
    }
    if (o.log) pushAll(lines, eventLines(SCHED_CLASSES.log.title, p.r.events, o));
    if (o.top) pushAll(lines, eventLines(SCHED_CLASSES.top.title, topEvents(p.r.events, o.limit), o));
  }
  const ours = containerSections(periods, o, (p) => schedContainerLines(p.r));
  return { lines: [...lines, ...ours] };
}

// --- LAMI --------------------------------------------------------------------------------------

function seriesTable(tables: readonly ResultTable[], key: string): ResultTable | undefined {
  return freqSeries('Scheduling latencies frequency distributions', tables, key, 'schedulings');
}

export function schedMi(res: SchedResult, o: SchedReportOptions): ResultTable[] {
  const lttng: ResultTable[] = [];
  const ours: ResultTable[] = [];
  for (const p of allPeriodTables(res, o)) {
    const r = p.r;
    const t = tablesOf(o, p.begin, p.end);
    if (o.log)
      lttng.push(
        t(
          SCHED_CLASSES.log,
          r.events.map((e) => eventCells(o, e)),
        ),
      );
    if (o.top)
      lttng.push(
        t(
          SCHED_CLASSES.top,
          topEvents(r.events, o.limit).map((e) => eventCells(o, e)),
        ),
      );
    if (o.stats) {
      if (o.total) lttng.push(t(SCHED_CLASSES.total, [statsCells(statsOf(r.events), true)]));
      if (o.perTid) {
        lttng.push(
          t(
            SCHED_CLASSES.perTid,
            tidRows(r.tids).map((x) => [
              cell.process(x.comm, undefined, x.tid),
              ...statsCells(statsOf(x.events), false),
              cell.string(formatPrioList(x.prios.map((v) => v ?? NaN))),
            ]),
          ),
        );
      }
      if (o.perPrio) {
        lttng.push(
          t(
            SCHED_CLASSES.perPrio,
            sortedNums(byPrio(r.events)).map(([prio, l]) => [
              prio === undefined ? { class: 'number' } : cell.number(prio),
              ...statsCells(statsOf(l), false),
            ]),
          ),
        );
      }
    }
    if (o.freq) {
      const ft = (f: FreqTable): ResultTable => t(SCHED_CLASSES.freq, freqCells(f.rows), f.subtitle);
      lttng.push(...p.totalFreq.map(ft));
      const tid = p.tidFreq.map(ft);
      const prio = p.prioFreq.map(ft);
      if (o.freqSeries) {
        const st = seriesTable(tid, 'tid');
        const sp = seriesTable(prio, 'prio');
        if (st !== undefined) lttng.push(st);
        if (sp !== undefined) lttng.push(sp);
      } else lttng.push(...tid, ...prio);
    }
    ours.push(...schedContainerTables(r, t));
  }
  return familyTables(lttng, ours);
}

/** The per-container LAMI tables of one period (ours; also in `top`). */
export function schedContainerTables(
  r: SchedPeriodResult,
  t: (cls: TableClass, rows: Cell[][]) => ResultTable,
): ResultTable[] {
  return [
    t(
      SCHED_CLASSES.perContainer,
      r.containers.map((c) => [containerCell(c.container), ...statsCells(statsOfDuration(c.stats), false)]),
    ),
    t(
      SCHED_CLASSES.perContainerHolder,
      r.holders.map((h) => [
        containerCell(h.container),
        cellOrIdle(h.holder),
        cell.number(h.stats.count),
        cell.duration(h.stats.mean, true),
        cell.duration(h.stats.max, false),
        cell.duration(h.stats.sum, false),
      ]),
    ),
  ];
}

function statsOfDuration(d: DurationStats): StatsRow {
  return { count: d.count, min: d.min, max: d.max, total: d.sum, stdev: d.stdev };
}
