/**
 * Text and LAMI renderings of `nstrace spans` (src/analyses/spans.ts, spans-run.ts).
 *
 * LAMI: a per-span table (class `spans`: one row per span in begin order, the time range, then
 * `Duration`, `On CPU`, `Waiting for CPU`, `Blocked` as `duration` cells in ns, `Preempted by`
 * as the container that took most of the waiting time), then per-container summaries
 * (`per-container-spans`: latency statistics and the mean breakdown; `per-container-preemptors`:
 * who ran while the container's spans waited). A value the traces cannot tell is an `unknown`
 * cell. Text: the same per container, then the slowest spans.
 */
import type { ReportOptions } from './format/common.js';
import { absNs, analysisMeta, range, timerangeLine, tsText } from './format/common.js';
import type { Cell, ColumnDesc, ResultTable } from './format/lami.js';
import { cell, col, tableClass } from './format/lami.js';
import { padLeftAlign, padRightAlign } from './format/pyfmt.js';
import type { SpanOwner, SpanRow, SpansRun } from './spans-run.js';
import { NO_SYSCALL } from './spans.js';
import { groupBy } from '../util/group.js';
import { CONTAINER_COL, countCol, durationCol, PROCESS_COL, TIME_RANGE_COL } from './table-columns.js';

/** `limit`: rows of the slowest-spans text table (0: all). */
export interface SpansReportOptions extends ReportOptions {
  readonly begin: string;
  readonly end: string;
  readonly match?: string | undefined;
}

const PREEMPTED_BY = col('preempted_by', 'Preempted by', 'container');
const BLOCKED_IN = col('blocked_in', 'Blocked in', 'syscall');
/** Where a span's time went (`On CPU`, ...), or on average a container's spans' (`Average on CPU`, ...). */
const BREAKDOWN = [
  ['on_cpu', 'On CPU', 'Average on CPU'],
  ['waiting', 'Waiting for CPU', 'Average waiting for CPU'],
  ['blocked', 'Blocked', 'Average blocked'],
] as const;
const breakdownCols = (average: boolean): ColumnDesc[] =>
  BREAKDOWN.map(([key, one, mean]) => col(key, average ? mean : one, 'duration'));

export const SPANS_CLASSES = {
  spans: tableClass('spans', 'Spans', [
    TIME_RANGE_COL,
    durationCol('Duration'),
    ...breakdownCols(false),
    col('unknown', 'Unknown', 'duration'),
    PREEMPTED_BY,
    col('preempted_ns', 'Waiting for CPU behind it', 'duration'),
    BLOCKED_IN,
    PROCESS_COL,
    CONTAINER_COL,
    col('key', 'Match value', 'string'),
  ]),
  perContainer: tableClass('per-container-spans', 'Per-container span latency', [
    CONTAINER_COL,
    countCol('Span count', 'spans'),
    col('min', 'Minimum duration', 'duration'),
    col('avg', 'Average duration', 'duration'),
    col('p50', 'Median duration', 'duration'),
    col('p99', '99th percentile duration', 'duration'),
    col('max', 'Maximum duration', 'duration'),
    ...breakdownCols(true),
    PREEMPTED_BY,
    BLOCKED_IN,
  ]),
  preemptors: tableClass('per-container-preemptors', 'Per-container noisy neighbours', [
    CONTAINER_COL,
    col('preemptor', 'Ran while its spans waited', 'container'),
    col('waiting', 'Waiting for CPU', 'duration'),
    col('share', 'Share of the waiting time', 'ratio'),
  ]),
};

export const spansMeta = analysisMeta(
  'Application spans',
  'Spans between a begin and an end event of one thread, and where their time went: on CPU, ' +
    'waiting for a CPU (and behind which container), blocked (in which system call), per container',
  ['span', 'latency', 'sched'],
  Object.values(SPANS_CLASSES),
);

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Per span container: the statistics of its spans. */
export interface OwnerStats {
  readonly owner: SpanOwner;
  readonly rows: SpanRow[];
  readonly durations: number[];
  /** Spans with a breakdown. */
  readonly covered: SpanRow[];
  readonly preemptors: Array<{ owner: SpanOwner; ns: number }>;
  readonly waitingTotal: number;
  readonly blockedIn: Array<{ syscall: string; ns: number }>;
}

export function ownerStats(rows: readonly SpanRow[]): OwnerStats[] {
  const out: OwnerStats[] = [];
  for (const list of groupBy(rows, (r) => r.owner.id).values()) {
    const covered = list.filter((r) => r.span.covered);
    const pre = new Map<string, { owner: SpanOwner; ns: number }>();
    const sys = new Map<string, number>();
    let waitingTotal = 0;
    for (const r of covered) {
      waitingTotal += r.span.waiting;
      for (const p of r.preemptors) {
        const e = pre.get(p.owner.id);
        if (e === undefined) pre.set(p.owner.id, { owner: p.owner, ns: p.ns });
        else e.ns += p.ns;
      }
      for (const b of r.blockedIn) sys.set(b.syscall, (sys.get(b.syscall) ?? 0) + b.ns);
    }
    out.push({
      owner: list[0]!.owner,
      rows: list,
      durations: list.map((r) => r.span.end! - r.span.begin).sort((a, b) => a - b),
      covered,
      preemptors: [...pre.values()].sort((a, b) => b.ns - a.ns),
      waitingTotal,
      blockedIn: [...sys].map(([syscall, ns]) => ({ syscall, ns })).sort((a, b) => b.ns - a.ns),
    });
  }
  // Most spans first, then by name.
  return out.sort((a, b) => b.rows.length - a.rows.length || a.owner.label.localeCompare(b.owner.label));
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length === 0 ? NaN : s / values.length;
}

const ms = (ns: number): string => (Number.isNaN(ns) ? '?' : (ns / 1e6).toFixed(3));

function syscallName(s: string): string {
  return s === NO_SYSCALL ? '(no syscall)' : s;
}

function threadLabel(r: SpanRow): string {
  const t = r.span.thread;
  if (t === undefined || t.tid === 0) {
    return r.span.vtid === undefined ? '?' : `? (vtid ${r.span.vtid})`;
  }
  const v = r.span.vtid !== undefined && r.span.vtid !== t.tid ? `, vtid ${r.span.vtid}` : '';
  return `${t.comm === '' ? '?' : t.comm} (${t.tid}${v})`;
}

function spansTitle(o: SpansReportOptions, n: number): string {
  const how = o.match === undefined ? 'on the same thread' : `paired by ${o.match}`;
  return `Spans from ${o.begin} to ${o.end} (${how}): ${n} span${n === 1 ? '' : 's'}`;
}

export function spansText(run: SpansRun, o: SpansReportOptions): string {
  const res = run.result;
  if (res === undefined) return '';
  const lines: string[] = [timerangeLine(o, res.begin, res.end), spansTitle(o, run.rows.length), ''];
  const stats = ownerStats(run.rows);
  const L = (a: string, b: string, ...rest: string[]): string =>
    `  ${padLeftAlign(a, 40)} ${padLeftAlign(b, 10)}` + rest.map((x) => ` ${padRightAlign(x, 10)}`).join('');
  lines.push('Per-Container Span Latency (ms)');
  lines.push('#'.repeat(80));
  lines.push(L('Container', 'Type', 'Count', 'Min', 'Average', 'P50', 'P99', 'Max'));
  for (const s of stats) {
    const d = s.durations;
    lines.push(
      L(
        s.owner.label,
        s.owner.type,
        String(d.length),
        ms(d[0]!),
        ms(mean(d)),
        ms(percentile(d, 50)),
        ms(percentile(d, 99)),
        ms(d[d.length - 1]!),
      ),
    );
  }
  lines.push('');
  if (run.breakdown) {
    lines.push('Where the time went (ms per span, average over the spans the kernel trace covers)');
    lines.push('#'.repeat(80));
    lines.push(
      L('Container', 'Type', 'Spans', 'On CPU', 'Waiting', 'Blocked') +
        '   Preempted by (most waiting)              Blocked in (most)',
    );
    for (const s of stats) {
      const c = s.covered;
      const top = s.preemptors[0];
      const sys = s.blockedIn[0];
      lines.push(
        L(
          s.owner.label,
          s.owner.type,
          String(c.length),
          ms(mean(c.map((r) => r.span.onCpu))),
          ms(mean(c.map((r) => r.span.waiting))),
          ms(mean(c.map((r) => r.span.blocked))),
        ) +
          `   ${padLeftAlign(top === undefined ? '-' : top.owner.label, 40)} ${sys === undefined ? '-' : syscallName(sys.syscall)}`,
      );
    }
    lines.push('');
    lines.push('Noisy neighbours: who ran while the spans waited for a CPU');
    lines.push('#'.repeat(80));
    lines.push(
      `  ${padLeftAlign('Container', 40)} ${padLeftAlign('Ran meanwhile', 40)} ${padRightAlign('ms', 10)} ${padRightAlign('Share', 8)}`,
    );
    for (const s of stats) {
      for (const p of s.preemptors.slice(0, o.limit > 0 ? o.limit : undefined)) {
        const share = s.waitingTotal > 0 ? (100 * p.ns) / s.waitingTotal : 0;
        lines.push(
          `  ${padLeftAlign(s.owner.label, 40)} ${padLeftAlign(p.owner.label, 40)} ${padRightAlign(ms(p.ns), 10)} ${padRightAlign(share.toFixed(1) + ' %', 8)}`,
        );
      }
    }
    lines.push('');
  }
  const slowest = [...run.rows].sort((a, b) => b.span.end! - b.span.begin - (a.span.end! - a.span.begin));
  const shown = o.limit > 0 ? slowest.slice(0, o.limit) : slowest;
  lines.push('Slowest spans (ms)');
  lines.push('#'.repeat(80));
  const S = (...c: string[]): string =>
    `  ${padLeftAlign(c[0]!, 18)} ${padRightAlign(c[1]!, 10)} ${padRightAlign(c[2]!, 10)} ${padRightAlign(c[3]!, 10)} ${padRightAlign(c[4]!, 10)}   ${padLeftAlign(c[5]!, 28)} ${padLeftAlign(c[6]!, 16)} ${padLeftAlign(c[7]!, 28)} ${padLeftAlign(c[8]!, 28)} ${c[9]!}`.trimEnd();
  lines.push(
    S(
      'Begin',
      'Duration',
      'On CPU',
      'Waiting',
      'Blocked',
      'Preempted by',
      'Blocked in',
      'Thread',
      'Container',
      o.match ?? '',
    ),
  );
  for (const r of shown) {
    const s = r.span;
    const known = s.covered;
    lines.push(
      S(
        tsText(o, s.begin, false),
        ms(s.end! - s.begin),
        known ? ms(s.onCpu) : '?',
        known ? ms(s.waiting) : '?',
        known ? ms(s.blocked) : '?',
        known ? (r.preemptors[0]?.owner.label ?? '-') : '?',
        known ? (r.blockedIn[0] === undefined ? '-' : syscallName(r.blockedIn[0].syscall)) : '?',
        threadLabel(r),
        r.owner.label,
        s.key ?? '',
      ),
    );
  }
  return lines.join('\n') + '\n';
}

function ownerCell(o: SpanOwner): Cell {
  if (o.isHost) return cell.container({ pidNs: undefined, name: o.name, type: o.type, id: o.id });
  return cell.container({ pidNs: o.pidNs, name: o.name, type: o.type, id: o.id });
}

function dur(ns: number, known: boolean, float = false): Cell {
  return known && !Number.isNaN(ns) ? cell.duration(float ? ns : Math.round(ns), float) : cell.unknown();
}

export function spansMi(run: SpansRun, o: SpansReportOptions): ResultTable[] {
  const res = run.result;
  if (res === undefined) return [];
  const { begin, end } = range(o, res.begin, res.end);
  const rows: Cell[][] = run.rows.map((r) => {
    const s = r.span;
    const k = s.covered;
    const t = s.thread;
    const top = r.preemptors[0];
    return [
      cell.timeRange(absNs(o, s.begin), absNs(o, s.end!)),
      cell.duration(s.end! - s.begin, false),
      dur(s.onCpu, k),
      dur(s.waiting, k),
      dur(s.blocked, k),
      cell.duration(k ? s.unknown : s.end! - s.begin, false),
      k && top !== undefined ? ownerCell(top.owner) : cell.unknown(),
      k && top !== undefined ? cell.duration(top.ns, false) : cell.unknown(),
      k && r.blockedIn[0] !== undefined ? cell.syscall(syscallName(r.blockedIn[0].syscall)) : cell.unknown(),
      t === undefined || t.tid === 0
        ? cell.unknown()
        : cell.process(t.comm === '' ? undefined : t.comm, t.pid, t.tid),
      ownerCell(r.owner),
      s.key === undefined ? cell.empty() : cell.string(s.key),
    ];
  });
  const tables: ResultTable[] = [{ cls: SPANS_CLASSES.spans, begin, end, rows }];
  const stats = ownerStats(run.rows);
  tables.push({
    cls: SPANS_CLASSES.perContainer,
    begin,
    end,
    rows: stats.map((s) => {
      const d = s.durations;
      const c = s.covered;
      const has = c.length > 0;
      const top = s.preemptors[0];
      return [
        ownerCell(s.owner),
        cell.number(d.length),
        cell.duration(d[0]!, false),
        cell.duration(mean(d), true),
        cell.duration(percentile(d, 50), false),
        cell.duration(percentile(d, 99), false),
        cell.duration(d[d.length - 1]!, false),
        dur(mean(c.map((r) => r.span.onCpu)), has, true),
        dur(mean(c.map((r) => r.span.waiting)), has, true),
        dur(mean(c.map((r) => r.span.blocked)), has, true),
        top === undefined ? cell.unknown() : ownerCell(top.owner),
        s.blockedIn[0] === undefined ? cell.unknown() : cell.syscall(syscallName(s.blockedIn[0].syscall)),
      ];
    }),
  });
  tables.push({
    cls: SPANS_CLASSES.preemptors,
    begin,
    end,
    rows: stats.flatMap((s) =>
      s.preemptors.map((p) => [
        ownerCell(s.owner),
        ownerCell(p.owner),
        cell.duration(p.ns, false),
        cell.ratio(s.waitingTotal > 0 ? p.ns / s.waitingTotal : 0),
      ]),
    ),
  });
  return tables;
}
