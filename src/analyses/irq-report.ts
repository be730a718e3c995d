/**
 * Text and LAMI of `irqstats`, `irqfreq` and `irqlog`: lttng-analyses 0.6.1's tables
 * (`cli/irq.py`) per period, byte for byte, then ours per container interrupted.
 */
import { pushAll } from '../util/push-all.js';
import type { Irq } from '../model/irqs.js';
import type { FamilyReportOptions } from './family-report.js';
import {
  containerSections,
  durationCells,
  familyTables,
  freqCells,
  freqLines,
  freqSeries,
  us3,
} from './family-report.js';
import {
  absNs,
  analysisMeta,
  cellOrIdle,
  labelOrIdle,
  tablesOf,
  timerangeLine,
  tsText,
} from './format/common.js';
import { LineBlocks, type ReportText } from './format/common.js';
import type { Cell, ResultTable } from './format/lami.js';
import { cell, col, tableClass } from './format/lami.js';
import { padLeftAlign, padRightAlign } from './format/pyfmt.js';
import type { FreqRow } from './freq.js';
import { freqBounds, freqRows, UniformFreq } from './freq.js';
import type { IrqPeriodResult, IrqResult, IrqStats } from './irq.js';
import { DurationStats } from './stats.js';
import { boundCols, CONTAINER_COL, countCol, statsCols, TIME_RANGE_COL } from './table-columns.js';

export interface IrqReportOptions extends FamilyReportOptions {
  /** `--irq`, `--softirq` (as given: compared with the numbers as text). */
  readonly irqList: readonly string[] | undefined;
  readonly softirqList: readonly string[] | undefined;
}

const IRQ = col('irq', 'Interrupt', 'irq');
const COUNT = countCol('Interrupt count', 'interrupts');
const STATS = [IRQ, COUNT, ...statsCols('duration', 'duration', 'Interrupt duration standard deviation')];

export const IRQ_CLASSES = {
  log: tableClass('log', 'Interrupt log', [
    TIME_RANGE_COL,
    col('raised_ts', 'Raised timestamp', 'timestamp'),
    col('cpu', 'CPU', 'cpu'),
    IRQ,
  ]),
  hard: tableClass('hard-stats', 'Hardware interrupt statistics', STATS),
  soft: tableClass('soft-stats', 'Software interrupt statistics', [
    ...STATS,
    col('raise_count', 'Interrupt raise count', 'number', 'interrupt raises'),
    ...statsCols('latency', 'raise latency', 'Interrupt raise latency standard deviation'),
  ]),
  freq: tableClass('freq', 'Interrupt handler duration frequency distribution', [
    ...boundCols('duration_', 'Duration'),
    COUNT,
  ]),
  summary: tableClass('summary', 'Interrupt statistics - summary', [
    TIME_RANGE_COL,
    countCol('Total interrupt count', 'interrupts'),
  ]),
  perContainer: tableClass('per-container', 'Per-container interrupt time (interrupted tasks)', [
    CONTAINER_COL,
    col('hard_count', 'Hard IRQ count', 'number', 'interrupts'),
    col('hard_duration', 'Hard IRQ time', 'duration'),
    col('soft_count', 'Softirq count', 'number', 'interrupts'),
    col('soft_duration', 'Softirq time', 'duration'),
  ]),
};

export const irqMeta = analysisMeta(
  'System interrupt analysis',
  'Interrupt frequency distribution, statistics, log, and per container interrupted',
  ['interrupt', 'stats', 'freq', 'log'],
  Object.values(IRQ_CLASSES),
);

const nameOf = (s: IrqStats): string => s.names.join(', ');

interface StatsRow {
  readonly hard: boolean;
  readonly id: number;
  readonly s: IrqStats;
  readonly d: DurationStats;
  readonly raise: DurationStats;
}

function statsRow(hard: boolean, id: number, s: IrqStats): StatsRow {
  const d = new DurationStats();
  const raise = new DurationStats();
  for (const irq of s.irqs) {
    d.add(irq.endTs! - irq.beginTs!);
    if (irq.raiseTs !== undefined) raise.add(irq.beginTs! - irq.raiseTs);
  }
  return { hard, id, s, d, raise };
}

interface PeriodTables {
  readonly rows: StatsRow[];
  readonly freq: Array<{ subtitle: string; rows: FreqRow[] }>;
}

function periodTables(r: IrqPeriodResult, o: IrqReportOptions, uniform: UniformFreq): PeriodTables {
  const rows: StatsRow[] = [];
  const freq: Array<{ subtitle: string; rows: FreqRow[] }> = [];
  if (!o.stats && !o.freq) return { rows, freq };
  const fill = (
    hard: boolean,
    stats: ReadonlyMap<number, IrqStats>,
    list: readonly string[] | undefined,
  ): void => {
    for (const id of [...stats.keys()].sort((a, b) => a - b)) {
      if (list !== undefined && list.length > 0 && !list.includes(String(id))) continue;
      const s = stats.get(id)!;
      if (s.irqs.length === 0) continue;
      const row = statsRow(hard, id, s);
      if (o.stats) rows.push(row);
      if (o.freq) {
        let lo: number;
        let hi: number;
        let step: number;
        if (o.freqUniform) [lo, hi, step] = uniform.values(r.irqs.map((i) => i.duration!));
        else [lo, hi, step] = freqBounds(row.d.min, row.d.max, o.min, o.max, o.freqResolution);
        freq.push({
          subtitle: `${nameOf(s)} (${id})`,
          rows: freqRows(
            s.irqs.map((i) => i.duration!),
            lo,
            hi,
            step,
            o.freqResolution,
          ),
        });
      }
    }
  };
  if (o.irqList !== undefined || o.softirqList === undefined) fill(true, r.hard, o.irqList);
  if (o.softirqList !== undefined || o.irqList === undefined) fill(false, r.soft, o.softirqList);
  return { rows, freq };
}

/** `_filter_irq` of the log. */
function logged(o: IrqReportOptions, irq: Irq): boolean {
  const mine = irq.hard ? o.irqList : o.softirqList;
  const other = irq.hard ? o.softirqList : o.irqList;
  if (mine !== undefined && mine.length > 0) return mine.includes(String(irq.id));
  if (other !== undefined && other.length > 0) return false;
  return true;
}

function logName(r: IrqPeriodResult, irq: Irq): string {
  const s = (irq.hard ? r.hard : r.soft).get(irq.id);
  return s === undefined ? '' : nameOf(s);
}

// --- text --------------------------------------------------------------------------------------

const L = padLeftAlign;
const R = padRightAlign;

const HARD_HEADER = [
  `${L('Hard IRQ', 52)} ${L('Duration (us)', 12)}`,
  `${L('', 22)} ${L('count', 14)} ${L('min', 12)} ${L('avg', 12)} ${L('max', 10)} ${L('stdev', 12)}`,
  '-'.repeat(82) + '|',
];
const SOFT_HEADER = [
  `${L('Soft IRQ', 52)} ${L('Duration (us)', 52)} ${L('Raise latency (us)', 12)}`,
  `${L('', 22)} ${L('count', 14)} ${L('min', 12)} ${L('avg', 12)} ${L('max', 10)} ${L('stdev', 4)} ${L(' |', 3)} ` +
    `${L('count', 14)} ${L('min', 12)} ${L('avg', 12)} ${L('max', 10)} ${L('stdev', 12)}`,
  '-'.repeat(82) + '|' + '-'.repeat(60),
];

/** Count (right-aligned in `countWidth`), min, avg, max, stdev. */
function statsText(d: DurationStats, countWidth: number): string {
  return (
    `${R(String(d.count), countWidth)} ${R(us3(d.min), 12)} ${R(us3(d.mean), 12)} ${R(us3(d.max), 12)} ` +
    R(d.count < 2 ? '?' : us3(d.stdev), 12)
  );
}

function rowText(x: StatsRow): string {
  const s = `${L(`${x.id}:`, 3)} ${L(`<${nameOf(x.s)}>`, 18)} ${statsText(x.d, 5)} ${L(' |', 2)}`;
  return !x.hard && x.raise.count !== 0 ? `${s} ${statsText(x.raise, 6)}` : s;
}

function freqText(f: { subtitle: string; rows: FreqRow[] }): string[] {
  return freqLines(`Handler duration frequency distribution ${f.subtitle}`, 'µs', f.rows);
}

function statsFreqLines(t: PeriodTables, o: IrqReportOptions): string[] {
  const lines: string[] = [];
  if (t.rows.length > 0) {
    if (o.freq) {
      t.rows.forEach((row, i) => {
        const f = t.freq[i];
        if (f === undefined) return;
        lines.push(...(row.hard ? HARD_HEADER : SOFT_HEADER), rowText(row));
        if (f.rows.length > 0) lines.push('', ...freqText(f));
        lines.push('');
      });
    } else {
      let hardDone = false;
      let softDone = false;
      for (const row of t.rows) {
        if (row.hard) {
          if (!hardDone) lines.push(...HARD_HEADER);
          hardDone = true;
        } else if (!softDone) {
          if (hardDone) lines.push('');
          lines.push(...SOFT_HEADER);
          softDone = true;
        }
        lines.push(rowText(row));
      }
    }
    return lines;
  }
  for (const f of t.freq) if (f.rows.length > 0) lines.push('', ...freqText(f));
  return lines;
}

function logLines(r: IrqPeriodResult, o: IrqReportOptions): string[] {
  const lines = new LineBlocks([
    `${L('Begin', 20)} ${L('End', 19)} ${R('Duration (us)', 15)} ${R('CPU', 4)}  ${L('Type', 9)} ${R('#', 4)}  ${L('Name', 22)}`,
  ]);
  for (const irq of r.irqs) {
    if (!logged(o, irq)) continue;
    const raised =
      !irq.hard && irq.raiseTs !== undefined ? ` (raised at ${tsText(o, irq.raiseTs, o.multiDay)})` : '';
    lines.push(
      `[${L(tsText(o, irq.beginTs!, o.multiDay), 18)}, ${L(tsText(o, irq.endTs!, o.multiDay), 18)}] ` +
        `${R(us3(irq.endTs! - irq.beginTs!), 15)} ${R(String(irq.cpuId), 4)}  ${L(irq.hard ? 'IRQ' : 'SoftIRQ', 9)} ` +
        `${R(String(irq.id), 4)}  ${L(logName(r, irq) + raised, 22)}`,
    );
  }
  return lines.toArray();
}

function containerLines(r: IrqPeriodResult): string[] {
  if (r.containers.length === 0) return [];
  const lines = [
    '',
    'Per-Container Interrupt Time (the task a handler interrupted)',
    `${L('Container', 45)} ${L('Type', 10)} ${R('Hard IRQs', 10)} ${R('Time (us)', 14)} ${R('Softirqs', 10)} ${R('Time (us)', 14)}`,
  ];
  for (const c of r.containers) {
    lines.push(
      `${L(labelOrIdle(c.container), 45)} ` +
        `${L(c.container === undefined ? 'idle' : c.container.type, 10)} ${R(String(c.hardCount), 10)} ` +
        `${R(us3(c.hardNs), 14)} ${R(String(c.softCount), 10)} ${R(us3(c.softNs), 14)}`,
    );
  }
  return lines;
}

export function irqText(res: IrqResult, o: IrqReportOptions): ReportText {
  const uniform = new UniformFreq(o.freqResolution, o.min, o.max);
  const lines: string[] = [];
  for (const tk of res) {
    const r = tk.result;
    lines.push(timerangeLine(o, tk.begin, tk.end));
    if (o.stats || o.freq) {
      pushAll(lines, statsFreqLines(periodTables(r, o, uniform), o));
      if (o.log) lines.push('');
    }
    if (o.log) pushAll(lines, logLines(r, o));
  }
  const ours = containerSections(res, o, (tk) => containerLines(tk.result));
  return { lines: [...lines, ...ours] };
}

// --- LAMI --------------------------------------------------------------------------------------

function irqCell(hard: boolean, id: number, name: string): Cell {
  return { class: 'irq', hard, nr: id, name };
}

function statsCells(x: StatsRow): Cell[] {
  const common = [irqCell(x.hard, x.id, nameOf(x.s)), ...durationCells(x.d)];
  return x.hard ? common : [...common, ...durationCells(x.raise)];
}

export function irqMi(res: IrqResult, o: IrqReportOptions): ResultTable[] {
  const uniform = new UniformFreq(o.freqResolution, o.min, o.max);
  const lttng: ResultTable[] = [];
  const ours: ResultTable[] = [];
  const hardTables: ResultTable[] = [];
  const softTables: ResultTable[] = [];
  for (const tk of res) {
    const r = tk.result;
    const t = tablesOf(o, tk.begin, tk.end);
    if (o.log) {
      lttng.push(
        t(
          IRQ_CLASSES.log,
          r.irqs
            .filter((irq) => logged(o, irq))
            .map((irq) => [
              cell.timeRange(absNs(o, irq.beginTs!), absNs(o, irq.endTs!)),
              irq.hard
                ? cell.empty()
                : irq.raiseTs === undefined
                  ? cell.unknown()
                  : cell.timestamp(absNs(o, irq.raiseTs)),
              cell.cpu(irq.cpuId),
              irqCell(irq.hard, irq.id, logName(r, irq)),
            ]),
        ),
      );
    }
    const p = periodTables(r, o, uniform);
    if (o.stats || o.freq) {
      const hard = t(IRQ_CLASSES.hard, p.rows.filter((x) => x.hard).map(statsCells));
      const soft = t(IRQ_CLASSES.soft, p.rows.filter((x) => !x.hard).map(statsCells));
      lttng.push(hard, soft);
      if (hard.rows.length > 0) hardTables.push(hard);
      if (soft.rows.length > 0) softTables.push(soft);
      const freq = p.freq.map((f) => t(IRQ_CLASSES.freq, freqCells(f.rows), f.subtitle));
      const series = o.freqSeries
        ? freqSeries('Interrupt handlers duration frequency distributions', freq, 'irq', 'interrupts')
        : undefined;
      if (series !== undefined) lttng.push(series);
      else lttng.push(...freq);
    }
    ours.push(
      t(
        IRQ_CLASSES.perContainer,
        r.containers.map((c) => [
          cellOrIdle(c.container),
          cell.number(c.hardCount),
          cell.duration(c.hardNs, false),
          cell.number(c.softCount),
          cell.duration(c.softNs, false),
        ]),
      ),
    );
  }
  // lttng-analyses replaces the tables of several periods with their summary.
  return familyTables(res.length > 1 ? summaryTables(o, hardTables, softTables) : lttng, ours);
}

/** The summary of several periods: the interrupt counts of each period (with --stats only). */
function summaryTables(
  o: IrqReportOptions,
  hardTables: readonly ResultTable[],
  softTables: readonly ResultTable[],
): ResultTable[] {
  if (!o.stats || hardTables.length === 0) return [];
  const rows: Cell[][] = [];
  // zip() of the periods' hard and soft tables (those with rows), each row under the hard one's range.
  for (let i = 0; i < Math.min(hardTables.length, softTables.length); i++) {
    const hs = hardTables[i]!;
    for (const row of [...hs.rows, ...softTables[i]!.rows])
      rows.push([cell.timeRange(hs.begin, hs.end), row[1]!]);
  }
  const begin = hardTables[0]!.begin;
  return [{ cls: IRQ_CLASSES.summary, begin, end: hardTables[hardTables.length - 1]!.end, rows }];
}
