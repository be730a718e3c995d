/**
 * What the reports of lttng-analyses' families (sched, I/O, IRQ, period: src/analyses/*-report.ts,
 * src/analyses/periods/report.ts) share: the options every family command sets alike, the
 * frequency distributions (text, LAMI rows, `--freq-series`), the LAMI results, and our
 * per-container sections after lttng-analyses' tables.
 */
import { pushAll } from '../util/push-all.js';
import type { ReportOptions } from './format/common.js';
import { groupByClass, timerangeLine } from './format/common.js';
import type { Cell, ResultTable, TableClass } from './format/lami.js';
import { cell, col } from './format/lami.js';
import { formatFixed } from './format/pyfmt.js';
import { freqGraphLines } from './format/termgraph.js';
import type { FreqRow } from './freq.js';
import type { DurationStats } from './stats.js';
import { boundCols } from './table-columns.js';

/**
 * The tables asked for (each command shows one, `--top`, `--log`, `--stats`, `--freq` add the
 * others), the frequency distributions' options, `--min`/`--max`, and the dates of log rows.
 */
export interface FamilyReportOptions extends ReportOptions {
  readonly log: boolean;
  readonly top: boolean;
  readonly stats: boolean;
  readonly freq: boolean;
  readonly freqResolution: number;
  readonly freqUniform: boolean;
  /** `--freq-series` (LAMI: the distributions as one table). */
  readonly freqSeries: boolean;
  /** `--min`/`--max` in ns. */
  readonly min: number | undefined;
  readonly max: number | undefined;
  /** Timestamps of log rows with their date (the trace spans several days). */
  readonly multiDay: boolean;
}

/** A duration in µs with three decimals (`'{:.3f}'.format(ns / 1000)`). */
export const us3 = (ns: number): string => formatFixed(ns / 1000, 3);

/**
 * A duration's count, min, average, max (unknown without values) and standard deviation
 * (unknown below two values), as lttng-analyses' stats tables hold them.
 */
export function durationCells(d: DurationStats): Cell[] {
  const n = d.count;
  if (n === 0) return [cell.number(0), cell.unknown(), cell.unknown(), cell.unknown(), cell.unknown()];
  return [
    cell.number(n),
    cell.duration(d.min, false),
    cell.duration(d.mean, true),
    cell.duration(d.max, false),
    n < 2 ? cell.unknown() : cell.duration(d.stdev, true),
  ];
}

/** A frequency distribution as lttng-analyses draws it, its bounds in µs. */
export function freqLines(title: string, unit: string, rows: readonly FreqRow[]): string[] {
  return freqGraphLines(
    title,
    unit,
    rows.map((x) => ({ lower: x.lowerNs / 1000, count: x.count })),
  );
}

/** A frequency distribution's LAMI rows: each bucket's bounds (Python floats) and count. */
export function freqCells(rows: readonly FreqRow[]): Cell[][] {
  return rows.map((x) => [
    cell.duration(x.lowerNs, true),
    cell.duration(x.upperNs, true),
    cell.number(x.count),
  ]);
}

/**
 * `--freq-series`: a period's distributions (tables of `freqCells` rows) as one inline table,
 * the bounds of the first then one count column each (`KEYi`, titled by its subtitle).
 */
export function freqSeries(
  title: string,
  tables: readonly ResultTable[],
  key: string,
  unit: string,
): ResultTable | undefined {
  const first = tables[0];
  if (first === undefined) return undefined;
  const cls: TableClass = {
    name: '',
    title,
    columns: [
      ...boundCols('duration_', 'Duration'),
      ...tables.map((t, i) => col(`${key}${i}`, t.subtitle ?? 'None', 'number', unit)),
    ],
  };
  const rows = first.rows.map((r0, i) => [
    r0[0]!,
    r0[1]!,
    ...tables.map((t) => t.rows[i]?.[2] ?? cell.unknown()),
  ]);
  return { cls, begin: first.begin, end: first.end, rows, inline: true };
}

/** A family's LAMI results: lttng-analyses' tables grouped by class as it prints them, then ours. */
export function familyTables(lttng: readonly ResultTable[], ours: readonly ResultTable[]): ResultTable[] {
  return [...groupByClass(lttng), ...groupByClass(ours)];
}

/**
 * Our per-container sections, after lttng-analyses' tables: each period's (`lines`), under its
 * time range when there are several.
 */
export function containerSections<P extends { readonly begin: number; readonly end: number }>(
  periods: readonly P[],
  o: ReportOptions,
  lines: (p: P) => string[],
): string[] {
  const out: string[] = [];
  for (const p of periods) {
    const x = lines(p);
    if (x.length === 0) continue;
    if (periods.length > 1) out.push('', timerangeLine(o, p.begin, p.end));
    pushAll(out, x);
  }
  return out;
}
