/**
 * Pieces every analysis report shares: the `Timerange:` line, absolute times for LAMI, `--limit`,
 * the per-container label and cell, the LAMI metadata, and grouping of result tables by
 * class the way lttng-analyses prints them.
 */
import type { TimeBase } from '../../ctf/event.js';
import { splitTs } from '../../ctf/event.js';
import type { Container } from '../../model/containers.js';
import type { AnalysisMeta, Cell, ResultTable, TableClass } from './lami.js';
import { cell } from './lami.js';
import { padLeftAlign } from './pyfmt.js';
import type { AbsTime } from './time.js';
import { absToBigInt, TimestampFormatter } from './time.js';
import { groupBy } from '../../util/group.js';

export interface ReportOptions {
  readonly base: TimeBase;
  /** Print times in UTC rather than local time (`--gmt`). */
  readonly gmt: boolean;
  /** Rows per top table; 0 or less for all (`--limit`, default 10). */
  readonly limit: number;
}

export function abs(base: TimeBase, ts: number): AbsTime {
  const [sec, ns] = splitTs(base, ts);
  return { sec, ns };
}

/** Per report options (one report, one time zone): its timestamp formatter. */
const formatters = new WeakMap<ReportOptions, TimestampFormatter>();

function formatter(o: ReportOptions): TimestampFormatter {
  let f = formatters.get(o);
  if (f === undefined || f.gmt !== o.gmt) {
    f = new TimestampFormatter(o.gmt);
    formatters.set(o, f);
  }
  return f;
}

export function timerangeLine(o: ReportOptions, begin: number, end: number): string {
  return `Timerange: ${formatter(o).range(abs(o.base, begin), abs(o.base, end), true)}`;
}

/** A timestamp as lttng-analyses' `_format_timestamp` (with the date for multi-day traces). */
export function tsText(o: ReportOptions, ts: number, date: boolean): string {
  return formatter(o).format(abs(o.base, ts), date);
}

/** `[begin, end]` as `format_time_range`. */
export function tsRangeText(o: ReportOptions, begin: number, end: number, date: boolean): string {
  return formatter(o).range(abs(o.base, begin), abs(o.base, end), date);
}

export function limited<T>(rows: readonly T[], limit: number): T[] {
  return limit > 0 ? rows.slice(0, limit) : rows.slice();
}

export function range(o: ReportOptions, begin: number, end: number): { begin: bigint; end: bigint } {
  return { begin: absToBigInt(abs(o.base, begin)), end: absToBigInt(abs(o.base, end)) };
}

/** Builds a result table of one period (and subtitle) from a class and its rows. */
export type TableMaker = (cls: TableClass, rows: Cell[][], subtitle?: string) => ResultTable;

/** The result tables of the period from `from` to `to`. */
export function tablesOf(o: ReportOptions, from: number, to: number): TableMaker {
  const { begin, end } = range(o, from, to);
  return (cls, rows, subtitle) =>
    subtitle === undefined ? { cls, begin, end, rows } : { cls, begin, end, rows, subtitle };
}

/** Absolute ns of a relative ts (LAMI timestamps). */
export function absNs(o: ReportOptions, ts: number): bigint {
  return absToBigInt(abs(o.base, ts));
}

export const CONTAINER_ROW = (label: string, type: string): string =>
  `  ${padLeftAlign(label, 45)} ${padLeftAlign(type, 10)}`;

export function containerLabel(c: Container): string {
  return c.label;
}

export function containerCell(c: Container): Cell {
  return cell.container({ pidNs: c.pidNs, name: c.name, type: c.type, id: c.id });
}

/** The pseudo-container of an idle CPU (`[IDLE]`), where a table needs one. */
const IDLE_LABEL = '[IDLE]';
const IDLE_CELL: Cell = { class: 'container', name: IDLE_LABEL, type: 'idle', id: 'idle' };

/** A container's label, or the idle CPU's where there is none. */
export function labelOrIdle(c: Container | undefined): string {
  return c === undefined ? IDLE_LABEL : containerLabel(c);
}

/** A container's cell, or the idle CPU's where there is none. */
export function cellOrIdle(c: Container | undefined): Cell {
  return c === undefined ? IDLE_CELL : containerCell(c);
}

const VERSION_FIELDS = (v: string): AnalysisMeta['version'] => {
  const m = /^(\d+)\.(\d+)\.(\d+)(.*)$/.exec(v);
  return m === null
    ? { major: 0, minor: 0, patch: 0, extra: v }
    : { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), extra: m[4]! };
};

/** An analysis's LAMI metadata (`--mi --metadata`) for nstrace's version. */
export function analysisMeta(
  title: string,
  description: string,
  tags: readonly string[],
  tableClasses: readonly TableClass[],
): (version: string) => AnalysisMeta {
  return (version) => ({ title, description, tags, tableClasses, version: VERSION_FIELDS(version) });
}

/**
 * Tables grouped by class in order of first appearance, as lttng-analyses prints its results
 * (a dict of lists keyed by class name; inline classes share the key `None`).
 */
export function groupByClass(tables: readonly ResultTable[]): ResultTable[] {
  const shown = tables.filter((t) => t.rows.length > 0);
  return [...groupBy(shown, (t) => (t.inline === true ? null : t.cls.name)).values()].flat();
}

/**
 * A report's text: one string, or its lines (elements may be `LineBlocks` blocks, several lines
 * joined by `\n`), each to be followed by a newline. A log of a long trace is tens of megabytes:
 * joined into one string it is copied twice more before it is written, and stays in memory whole
 * (`writeReportText` writes the lines in pieces).
 */
export type ReportText = string | { readonly lines: readonly string[] };

/** The text of a report as one string (tests, and callers that need it whole). */
export function reportString(t: ReportText): string {
  return typeof t === 'string' ? t : t.lines.join('\n') + '\n';
}

/**
 * The lines of a long table (the logs: tens of thousands of lines), kept as blocks of lines
 * joined by `\n`: what `toArray()` returns joins with `\n` into the same text as the lines.
 * A line built by concatenation is a tree of small strings; thousands of them alive until the
 * end cost every young-generation GC a copy of each (a quarter of schedlog's time). A joined
 * block is one flat string, and its lines die young.
 */
export class LineBlocks {
  private readonly blocks: string[] = [];
  private cur: string[] = [];

  constructor(first: readonly string[] = []) {
    for (const l of first) this.push(l);
  }

  push(line: string): void {
    this.cur.push(line);
    if (this.cur.length >= 1024) this.flush();
  }

  /** The lines so far as blocks (see the class comment). */
  toArray(): string[] {
    this.flush();
    return this.blocks;
  }

  private flush(): void {
    if (this.cur.length === 0) return;
    this.blocks.push(this.cur.join('\n'));
    this.cur = [];
  }
}
