/**
 * Text and LAMI of `iousagetop`, `iolatencytop`, `iolatencystats`, `iolatencyfreq` and `iolog`:
 * lttng-analyses 0.6.1's tables (`cli/io.py`) per period, byte for byte, then ours per container
 * (src/analyses/io-containers.ts). The usage tables are in src/analyses/io-usage.ts, the table
 * classes in src/analyses/io-classes.ts.
 */
import { pushAll } from '../util/push-all.js';
import type { IoRequest } from '../model/lttng-io.js';
import { IoOp, opMatches } from '../model/lttng-io.js';
import type { FamilyReportOptions } from './family-report.js';
import { containerSections, familyTables, freqCells, freqLines, us3 } from './family-report.js';
import { absNs, analysisMeta, LineBlocks, tablesOf, timerangeLine, tsRangeText } from './format/common.js';
import type { ReportText } from './format/common.js';
import type { Cell, ResultTable } from './format/lami.js';
import { cell } from './format/lami.js';
import { formatSize, padLeftAlign, padRightAlign } from './format/pyfmt.js';
import type { FreqRow } from './freq.js';
import { ioFreqRows } from './freq.js';
import type { IoPeriodResult, IoResult } from './io.js';
import { getFd, ioRequestFilter } from './io.js';
import { IO_CLASSES, size } from './io-classes.js';
import { containerIoLines, containerIoTables, IO_CONTAINER_CLASSES } from './io-containers.js';
import { usage, usageLines, usageTables } from './io-usage.js';
import { DurationStats } from './stats.js';

export interface IoReportOptions extends FamilyReportOptions {
  readonly usage: boolean;
  /** `--minsize`/`--maxsize` (bytes). */
  readonly minSize: number | undefined;
  readonly maxSize: number | undefined;
  /** `--begin`/`--end` as given (ts relative to the base), for "out of range" marks. */
  readonly begin: number | undefined;
  readonly end: number | undefined;
}

export const ioMeta = analysisMeta(
  'I/O analysis',
  'System call/disk latency statistics, system call latency distribution, system call top latencies, ' +
    'I/O usage top, I/O operations log, and per container',
  ['io', 'syscall', 'stats', 'freq', 'log', 'top'],
  [...Object.values(IO_CLASSES), ...Object.values(IO_CONTAINER_CLASSES)],
);

// --- requests ----------------------------------------------------------------------------------

/** `_get_io_requests`: syscall requests of every thread, by operation. */
function requests(r: IoPeriodResult, op?: IoOp): IoRequest[] {
  const out: IoRequest[] = [];
  for (const p of r.tids.values()) {
    for (const rq of p.rqs) {
      if (rq.kind === 'block') continue;
      if (op === undefined || opMatches(op, rq.operation)) out.push(rq);
    }
  }
  return out;
}

interface Ctx {
  readonly o: IoReportOptions;
  readonly keep: (rq: IoRequest) => boolean;
}

function context(o: IoReportOptions): Ctx {
  const sizeLat = ioRequestFilter(o);
  // `_filter_time_range`: a request that began after --end (only with both bounds).
  const keep = (rq: IoRequest): boolean =>
    sizeLat(rq) &&
    !(o.begin !== undefined && o.end !== undefined && rq.endTs !== undefined && rq.beginTs > o.end);
  return { o, keep };
}

/** `_is_io_rq_out_of_range`: Python's `A and B or C and D` (None when neither bound applies). */
function outOfRange(o: IoReportOptions, rq: IoRequest): boolean | null {
  if (o.begin !== undefined && rq.beginTs < o.begin) return true;
  if (o.end === undefined) return null;
  return rq.endTs! > o.end;
}

const SYSCALL_KINDS: Array<[string, IoOp, string]> = [
  ['Open', IoOp.Open, 'open'],
  ['Read', IoOp.Read, 'read'],
  ['Write', IoOp.Write, 'write'],
  ['Sync', IoOp.Sync, 'sync'],
];

// --- latency statistics ------------------------------------------------------------------------

interface LatencyRow {
  readonly name: string;
  readonly d: DurationStats;
}

function latencyRows(r: IoPeriodResult, c: Ctx): { syscalls: LatencyRow[]; disks: LatencyRow[] | undefined } {
  const syscalls = SYSCALL_KINDS.map(([name, op]) => {
    const d = new DurationStats();
    for (const rq of requests(r, op)) if (c.keep(rq)) d.add(rq.duration!);
    return { name, d };
  });
  let disks: LatencyRow[] | undefined;
  if (r.disks.size > 0) {
    disks = [];
    for (const disk of r.disks.values()) {
      if (disk.rqs.length === 0) continue;
      const d = new DurationStats();
      for (const rq of disk.rqs) if (c.keep(rq)) d.add(rq.duration!);
      disks.push({ name: disk.diskname, d });
    }
  }
  return { syscalls, disks };
}

const STATS_FMT = (...c: string[]): string =>
  `${padLeftAlign(c[0]!, 14)} ${c
    .slice(1)
    .map((x) => padRightAlign(x, 14))
    .join(' ')}`;

function latencyLines(rows: ReturnType<typeof latencyRows>): string[] {
  const row = (x: LatencyRow): string => {
    const n = x.d.count;
    return STATS_FMT(
      x.name,
      String(n),
      us3(n > 0 ? x.d.min : 0),
      us3(n > 0 ? x.d.mean : 0),
      us3(n > 0 ? x.d.max : 0),
      n < 2 ? '?' : us3(x.d.stdev),
    );
  };
  const lines = [
    '',
    'Syscalls latency statistics (usec):',
    STATS_FMT('Type', 'Count', 'Min', 'Average', 'Max', 'Stdev'),
  ];
  lines.push('-'.repeat(89), ...rows.syscalls.map(row));
  if (rows.disks !== undefined && rows.disks.length > 0) {
    lines.push(
      '',
      'Disk latency statistics (usec):',
      STATS_FMT('Name', 'Count', 'Min', 'Average', 'Max', 'Stdev'),
    );
    lines.push('-'.repeat(89), ...rows.disks.map(row));
  }
  return lines;
}

function latencyCells(obj: Cell, d: DurationStats): Cell[] {
  const n = d.count;
  return [
    obj,
    cell.number(n),
    cell.duration(n > 0 ? d.min : 0, false),
    n > 0 ? cell.duration(d.mean, true) : cell.duration(0, false),
    cell.duration(n > 0 ? d.max : 0, false),
    n < 2 ? cell.unknown() : cell.duration(d.stdev, true),
  ];
}

// --- top and log -------------------------------------------------------------------------------

interface LogRow {
  readonly rq: IoRequest;
  readonly proc: string;
  /** undefined: no fd; null: fd unknown at the time; else the path. */
  readonly path: string | null | undefined;
  readonly outOfRange: boolean | null;
}

function logRow(r: IoPeriodResult, c: Ctx, rq: IoRequest): LogRow {
  const p = r.tids.get(rq.tid);
  let path: string | null | undefined;
  if (rq.fd !== undefined) {
    let parent = p;
    if (parent?.pid !== undefined) parent = r.tids.get(parent.pid);
    const f = parent === undefined ? undefined : getFd(parent, rq.fd, rq.endTs);
    path = f === undefined ? null : f.filename;
  }
  return { rq, proc: p?.comm ?? '', path, outOfRange: outOfRange(c.o, rq) };
}

function topRows(r: IoPeriodResult, c: Ctx, op: IoOp): LogRow[] {
  const rqs = requests(r, op)
    .filter(c.keep)
    .sort((a, b) => b.duration! - a.duration!);
  const n = c.o.limit > 0 ? c.o.limit + 1 : rqs.length;
  return rqs.slice(0, n).map((rq) => logRow(r, c, rq));
}

function logRows(r: IoPeriodResult, c: Ctx): LogRow[] {
  return requests(r)
    .filter(c.keep)
    .sort((a, b) => a.beginTs - b.beginTs)
    .map((rq) => logRow(r, c, rq));
}

function logLines(title: string, rows: readonly LogRow[], o: IoReportOptions): string[] {
  if (rows.length === 0) return [];
  const lines = new LineBlocks([
    '',
    `${title} (usec)`,
    `${padLeftAlign('Begin', 20)} ${padLeftAlign('End', 20)} ${padLeftAlign('Name', 16)} ${padLeftAlign('Duration (usec)', 23)} ` +
      `${padLeftAlign('Size', 5)} ${padLeftAlign('Proc', 24)} ${padLeftAlign('PID', 8)} ${padLeftAlign('Filename', 14)}`,
  ]);
  let out = false;
  for (const x of rows) {
    const mark = x.outOfRange === true ? '*' : ' ';
    out ||= x.outOfRange === true;
    const rq = x.rq;
    const file = x.path === undefined ? 'N/A' : `${x.path ?? 'unknown'} (fd=${rq.fd})`;
    lines.push(
      `${padLeftAlign(tsRangeText(o, rq.beginTs, rq.endTs!, o.multiDay) + mark, 40)} ${padLeftAlign(rq.syscallName, 16)} ` +
        `${padRightAlign(us3(rq.duration!) + mark, 16)} ${padRightAlign(rq.size === undefined ? 'N/A' : formatSize(rq.size), 11)}  ` +
        `${padLeftAlign(x.proc, 24)} ${padLeftAlign(String(rq.tid), 8)} ${padLeftAlign(file, 14)}`,
    );
  }
  if (out) lines.push('*: Syscalls started and/or completed outside of the range specified');
  return lines.toArray();
}

function logCells(o: IoReportOptions, x: LogRow): Cell[] {
  const rq = x.rq;
  return [
    cell.timeRange(absNs(o, rq.beginTs), absNs(o, rq.endTs!)),
    { class: 'bool', value: x.outOfRange },
    cell.duration(rq.duration!, false),
    cell.syscall(rq.syscallName),
    rq.size === undefined ? cell.empty() : size(rq.size),
    cell.process(x.proc, undefined, rq.tid),
    x.path === undefined ? cell.empty() : x.path === null ? cell.unknown() : { class: 'path', path: x.path },
    rq.fd === undefined ? cell.empty() : { class: 'fd', fd: rq.fd },
  ];
}

// --- frequency distributions -------------------------------------------------------------------

function freqTables(r: IoPeriodResult, c: Ctx): Array<{ subtitle: string; rows: FreqRow[] }> {
  const res = c.o.freqResolution;
  const out = SYSCALL_KINDS.map(([, op, sub]) => ({
    subtitle: sub,
    rows: ioFreqRows(
      requests(r, op)
        .filter(c.keep)
        .map((rq) => rq.duration!),
      res,
    ),
  }));
  for (const d of r.disks.values()) {
    out.push({
      subtitle: `disk: ${d.diskname}`,
      rows: ioFreqRows(
        d.rqs.filter(c.keep).map((rq) => rq.duration!),
        res,
      ),
    });
  }
  return out;
}

// --- rendering ---------------------------------------------------------------------------------

export function ioText(res: IoResult, o: IoReportOptions): ReportText {
  const c = context(o);
  const lines: string[] = [];
  for (const tk of res) {
    const r = tk.result;
    lines.push(timerangeLine(o, tk.begin, tk.end));
    if (o.usage) pushAll(lines, usageLines(r, usage(r, o.limit)));
    if (o.stats) pushAll(lines, latencyLines(latencyRows(r, c)));
    if (o.top) {
      for (const [, op, sub] of SYSCALL_KINDS)
        pushAll(lines, logLines(`${IO_CLASSES.top.title} ${sub}`, topRows(r, c, op), o));
    }
    if (o.freq) {
      for (const f of freqTables(r, c))
        pushAll(lines, freqLines(`${IO_CLASSES.freq.title} ${f.subtitle}`, 'µs', f.rows));
    }
    if (o.log) pushAll(lines, logLines(`${IO_CLASSES.log.title} None`, logRows(r, c), o));
  }
  const ours = containerSections(res, o, (tk) => containerIoLines(tk.result, o, o.usage));
  return { lines: [...lines, ...ours] };
}

export function ioMi(res: IoResult, o: IoReportOptions): ResultTable[] {
  const c = context(o);
  const lttng: ResultTable[] = [];
  const ours: ResultTable[] = [];
  for (const tk of res) {
    const r = tk.result;
    const t = tablesOf(o, tk.begin, tk.end);
    if (o.log)
      lttng.push(
        t(
          IO_CLASSES.log,
          logRows(r, c).map((x) => logCells(o, x)),
        ),
      );
    if (o.stats) {
      const l = latencyRows(r, c);
      lttng.push(
        t(
          IO_CLASSES.syscallStats,
          l.syscalls.map((x) => latencyCells(cell.string(x.name), x.d)),
        ),
      );
      if (l.disks !== undefined) {
        lttng.push(
          t(
            IO_CLASSES.diskStats,
            l.disks.map((x) => latencyCells({ class: 'disk', name: x.name }, x.d)),
          ),
        );
      }
    }
    if (o.top) {
      for (const [, op, sub] of SYSCALL_KINDS) {
        lttng.push(
          t(
            IO_CLASSES.top,
            topRows(r, c, op).map((x) => logCells(o, x)),
            sub,
          ),
        );
      }
    }
    if (o.usage) lttng.push(...usageTables(r, usage(r, o.limit), t));
    if (o.freq) {
      for (const f of freqTables(r, c)) lttng.push(t(IO_CLASSES.freq, freqCells(f.rows), f.subtitle));
    }
    ours.push(...containerIoTables(r, o.usage, t));
  }
  // With several periods lttng-analyses replaces every table with its (empty) summary.
  return familyTables(res.length > 1 ? [] : lttng, ours);
}
