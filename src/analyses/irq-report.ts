/**
 * Text and LAMI of `irqstats`, `irqfreq` and `irqlog`: lttng-analyses 0.6.1's tables
 * (`cli/irq.py`) per period, byte for byte, then ours per container interrupted.
 */
import type { Irq } from '../model/irqs.js';
import type { FamilyReportOptions } from './family-report.js';
import {
  absNs,
  containerCell,
  containerLabel,
  groupByClass,
  IDLE_CELL,
  IDLE_LABEL,
  range,
  timerangeLine,
  tsText,
  VERSION_FIELDS,
} from './format/common.js';
import type { AnalysisMeta, Cell, ResultTable, TableClass } from './format/lami.js';
import { cell, col } from './format/lami.js';
import { formatFixed, padLeftAlign, padRightAlign } from './format/pyfmt.js';
import { freqGraphLines } from './format/termgraph.js';
import type { FreqRow } from './freq.js';
import { freqBounds, freqRows, UniformFreq } from './freq.js';
import type { IrqPeriodResult, IrqResult, IrqStats } from './irq.js';
import { DurationStats } from './stats.js';

export interface IrqReportOptions extends FamilyReportOptions {
  /** `--irq`, `--softirq` (as given: compared with the numbers as text). */
  readonly irqList: readonly string[] | undefined;
  readonly softirqList: readonly string[] | undefined;
}

const STATS = [
  col('irq', 'Interrupt', 'irq'),
  col('count', 'Interrupt count', 'number', 'interrupts'),
  col('min_duration', 'Minimum duration', 'duration'),
  col('avg_duration', 'Average duration', 'duration'),
  col('max_duration', 'Maximum duration', 'duration'),
  col('stdev_duration', 'Interrupt duration standard deviation', 'duration'),
];

export const IRQ_CLASSES = {
  log: {
    name: 'log',
    title: 'Interrupt log',
    columns: [
      col('time_range', 'Time range', 'time-range'),
      col('raised_ts', 'Raised timestamp', 'timestamp'),
      col('cpu', 'CPU', 'cpu'),
      col('irq', 'Interrupt', 'irq'),
    ],
  },
  hard: { name: 'hard-stats', title: 'Hardware interrupt statistics', columns: STATS },
  soft: {
    name: 'soft-stats',
    title: 'Software interrupt statistics',
    columns: [
      ...STATS,
      col('raise_count', 'Interrupt raise count', 'number', 'interrupt raises'),
      col('min_latency', 'Minimum raise latency', 'duration'),
      col('avg_latency', 'Average raise latency', 'duration'),
      col('max_latency', 'Maximum raise latency', 'duration'),
      col('stdev_latency', 'Interrupt raise latency standard deviation', 'duration'),
    ],
  },
  freq: {
    name: 'freq',
    title: 'Interrupt handler duration frequency distribution',
    columns: [
      col('duration_lower', 'Duration (lower bound)', 'duration'),
      col('duration_upper', 'Duration (upper bound)', 'duration'),
      col('count', 'Interrupt count', 'number', 'interrupts'),
    ],
  },
  summary: {
    name: 'summary',
    title: 'Interrupt statistics - summary',
    columns: [
      col('time_range', 'Time range', 'time-range'),
      col('count', 'Total interrupt count', 'number', 'interrupts'),
    ],
  },
  perContainer: {
    name: 'per-container',
    title: 'Per-container interrupt time (interrupted tasks)',
    columns: [
      col('container', 'Container', 'container'),
      col('hard_count', 'Hard IRQ count', 'number', 'interrupts'),
      col('hard_duration', 'Hard IRQ time', 'duration'),
      col('soft_count', 'Softirq count', 'number', 'interrupts'),
      col('soft_duration', 'Softirq time', 'duration'),
    ],
  },
} satisfies Record<string, TableClass>;

export function irqMeta(version: string): AnalysisMeta {
  return {
    title: 'System interrupt analysis',
    description: 'Interrupt frequency distribution, statistics, log, and per container interrupted',
    tags: ['interrupt', 'stats', 'freq', 'log'],
    tableClasses: Object.values(IRQ_CLASSES),
    version: VERSION_FIELDS(version),
  };
}

const us3 = (ns: number): string => formatFixed(ns / 1000, 3);
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

function rowText(x: StatsRow): string {
  const d = x.d;
  let s =
    `${L(`${x.id}:`, 3)} ${L(`<${nameOf(x.s)}>`, 18)} ${R(String(d.count), 5)} ${R(us3(d.min), 12)} ` +
    `${R(us3(d.sum / d.count), 12)} ${R(us3(d.max), 12)} ${R(d.count < 2 ? '?' : us3(d.stdev), 12)} ${L(' |', 2)}`;
  if (!x.hard && x.raise.count !== 0) {
    const r = x.raise;
    s +=
      ` ${R(String(r.count), 6)} ${R(us3(r.min), 12)} ${R(us3(r.sum / r.count), 12)} ${R(us3(r.max), 12)} ` +
      `${R(r.count < 2 ? '?' : us3(r.stdev), 12)}`;
  }
  return s;
}

function freqText(f: { subtitle: string; rows: FreqRow[] }): string[] {
  return freqGraphLines(
    `Handler duration frequency distribution ${f.subtitle}`,
    'µs',
    f.rows.map((x) => ({ lower: x.lowerNs / 1000, count: x.count })),
  );
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
  const lines = [
    `${L('Begin', 20)} ${L('End', 19)} ${R('Duration (us)', 15)} ${R('CPU', 4)}  ${L('Type', 9)} ${R('#', 4)}  ${L('Name', 22)}`,
  ];
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
  return lines;
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
      `${L(c.container === undefined ? IDLE_LABEL : containerLabel(c.container), 45)} ` +
        `${L(c.container === undefined ? 'idle' : c.container.type, 10)} ${R(String(c.hardCount), 10)} ` +
        `${R(us3(c.hardNs), 14)} ${R(String(c.softCount), 10)} ${R(us3(c.softNs), 14)}`,
    );
  }
  return lines;
}

export function irqText(res: IrqResult, o: IrqReportOptions): string {
  const uniform = new UniformFreq(o.freqResolution, o.min, o.max);
  const lines: string[] = [];
  for (const tk of res) {
    const r = tk.result;
    lines.push(timerangeLine(o, tk.begin, tk.end));
    if (o.stats || o.freq) {
      lines.push(...statsFreqLines(periodTables(r, o, uniform), o));
      if (o.log) lines.push('');
    }
    if (o.log) lines.push(...logLines(r, o));
  }
  const ours: string[] = [];
  for (const tk of res) {
    const x = containerLines(tk.result);
    if (x.length === 0) continue;
    if (res.length > 1) ours.push('', timerangeLine(o, tk.begin, tk.end));
    ours.push(...x);
  }
  return [...lines, ...ours].join('\n') + '\n';
}

// --- LAMI --------------------------------------------------------------------------------------

function irqCell(hard: boolean, id: number, name: string): Cell {
  return { class: 'irq', hard, nr: id, name };
}

function statsCells(x: StatsRow): Cell[] {
  const d = x.d;
  const common = [
    irqCell(x.hard, x.id, nameOf(x.s)),
    cell.number(d.count),
    cell.duration(d.min, false),
    cell.duration(d.sum / d.count, true),
    cell.duration(d.max, false),
    d.count < 2 ? cell.unknown() : cell.duration(d.stdev, true),
  ];
  if (x.hard) return common;
  const r = x.raise;
  if (r.count === 0)
    return [...common, cell.number(0), cell.unknown(), cell.unknown(), cell.unknown(), cell.unknown()];
  return [
    ...common,
    cell.number(r.count),
    cell.duration(r.min, false),
    cell.duration(r.sum / r.count, true),
    cell.duration(r.max, false),
    r.count < 2 ? cell.unknown() : cell.duration(r.stdev, true),
  ];
}

export function irqMi(res: IrqResult, o: IrqReportOptions): ResultTable[] {
  const uniform = new UniformFreq(o.freqResolution, o.min, o.max);
  const lttng: ResultTable[] = [];
  const ours: ResultTable[] = [];
  const hardTables: ResultTable[] = [];
  const softTables: ResultTable[] = [];
  for (const tk of res) {
    const r = tk.result;
    const { begin, end } = range(o, tk.begin, tk.end);
    const t = (cls: TableClass, rows: Cell[][], subtitle?: string): ResultTable =>
      subtitle === undefined ? { cls, begin, end, rows } : { cls, begin, end, rows, subtitle };
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
      const freq = p.freq.map((f) =>
        t(
          IRQ_CLASSES.freq,
          f.rows.map((x) => [
            cell.duration(x.lowerNs, true),
            cell.duration(x.upperNs, true),
            cell.number(x.count),
          ]),
          f.subtitle,
        ),
      );
      if (o.freqSeries && freq.length > 0) {
        const cls: TableClass = {
          name: '',
          title: 'Interrupt handlers duration frequency distributions',
          columns: [
            col('duration_lower', 'Duration (lower bound)', 'duration'),
            col('duration_upper', 'Duration (upper bound)', 'duration'),
            ...freq.map((f, i) => col(`irq${i}`, f.subtitle!, 'number', 'interrupts')),
          ],
        };
        const rows = freq[0]!.rows.map((r0, i) => [
          r0[0]!,
          r0[1]!,
          ...freq.map((f) => f.rows[i]?.[2] ?? cell.unknown()),
        ]);
        lttng.push({ cls, begin, end, rows, inline: true });
      } else lttng.push(...freq);
    }
    ours.push(
      t(
        IRQ_CLASSES.perContainer,
        r.containers.map((c) => [
          c.container === undefined ? IDLE_CELL : containerCell(c.container),
          cell.number(c.hardCount),
          cell.duration(c.hardNs, false),
          cell.number(c.softCount),
          cell.duration(c.softNs, false),
        ]),
      ),
    );
  }
  let out = groupByClass(lttng);
  if (res.length > 1) {
    // lttng-analyses' summary of several periods: the interrupt counts of each period (with --stats only).
    out = [];
    if (o.stats && hardTables.length > 0) {
      const rows: Cell[][] = [];
      // zip() of the periods' hard and soft tables (those with rows), each row under the hard one's range.
      for (let i = 0; i < Math.min(hardTables.length, softTables.length); i++) {
        const hs = hardTables[i]!;
        for (const row of [...hs.rows, ...softTables[i]!.rows])
          rows.push([cell.timeRange(hs.begin, hs.end), row[1]!]);
      }
      out.push({
        cls: IRQ_CLASSES.summary,
        begin: hardTables[0]!.begin,
        end: hardTables[hardTables.length - 1]!.end,
        rows,
      });
    }
  }
  return [...out, ...groupByClass(ours)];
}
