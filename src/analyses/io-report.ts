/**
 * Text and LAMI of `iousagetop`, `iolatencytop`, `iolatencystats`, `iolatencyfreq` and `iolog`:
 * lttng-analyses 0.6.1's tables (`cli/io.py`) per period, byte for byte, then ours per container
 * (src/analyses/io-containers.ts).
 */
import type { IoRequest } from '../model/lttng-io.js';
import { IoOp, opMatches } from '../model/lttng-io.js';
import type { ReportOptions } from './format/common.js';
import { absNs, groupByClass, range, timerangeLine, tsRangeText, VERSION_FIELDS } from './format/common.js';
import type { AnalysisMeta, Cell, ResultTable, TableClass } from './format/lami.js';
import { cell, col } from './format/lami.js';
import { formatFixed, formatSize, padLeftAlign, padRightAlign } from './format/pyfmt.js';
import { barGraphLines, freqGraphLines } from './format/termgraph.js';
import type { FreqRow } from './freq.js';
import { ioFreqRows } from './freq.js';
import type { IoPeriodResult, IoResult, ProcIo } from './io.js';
import { GENERIC_FILES, getFd, ioRequestFilter, totalRead, totalWrite } from './io.js';
import { containerIoLines, containerIoTables, IO_CONTAINER_CLASSES } from './io-containers.js';
import { DurationStats } from './stats.js';

export interface IoReportOptions extends ReportOptions {
  readonly usage: boolean;
  readonly stats: boolean;
  readonly top: boolean;
  readonly log: boolean;
  readonly freq: boolean;
  readonly freqResolution: number;
  /** `--min`/`--max` (ns), `--minsize`/`--maxsize` (bytes). */
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly minSize: number | undefined;
  readonly maxSize: number | undefined;
  /** `--begin`/`--end` as given (ts relative to the base), for "out of range" marks. */
  readonly begin: number | undefined;
  readonly end: number | undefined;
  readonly multiDay: boolean;
}

const LOG_COLUMNS = [
  col('time_range', 'Call time range', 'time-range'),
  col('out_of_range', 'System call out of range?', 'bool'),
  col('duration', 'Call duration', 'duration'),
  col('syscall', 'System call', 'syscall'),
  col('size', 'Read/write size', 'size'),
  col('process', 'Process', 'process'),
  col('path', 'File path', 'path'),
  col('fd', 'File descriptor', 'fd'),
];
const LATENCY_COLUMNS = (obj: [string, string], count: [string, string]): ReturnType<typeof col>[] => [
  col('obj', obj[0], obj[1]),
  col('count', count[0], 'number', count[1]),
];

export const IO_CLASSES = {
  syscallStats: {
    name: 'syscall-latency-stats',
    title: 'System call latency statistics',
    columns: [
      ...LATENCY_COLUMNS(['System call category', 'string'], ['Call count', 'calls']),
      col('min_latency', 'Minimum call latency', 'duration'),
      col('avg_latency', 'Average call latency', 'duration'),
      col('max_latency', 'Maximum call latency', 'duration'),
      col('stdev_latency', 'System call latency standard deviation', 'duration'),
    ],
  },
  diskStats: {
    name: 'disk-latency-stats',
    title: 'Partition latency statistics',
    columns: [
      ...LATENCY_COLUMNS(['Partition', 'disk'], ['Access count', 'accesses']),
      col('min_latency', 'Minimum access latency', 'duration'),
      col('avg_latency', 'Average access latency', 'duration'),
      col('max_latency', 'Maximum access latency', 'duration'),
      col('stdev_latency', 'System access latency standard deviation', 'duration'),
    ],
  },
  freq: {
    name: 'freq',
    title: 'I/O request latency distribution',
    columns: [
      col('latency_lower', 'Latency (lower bound)', 'duration'),
      col('latency_upper', 'Latency (upper bound)', 'duration'),
      col('count', 'Request count', 'number', 'requests'),
    ],
  },
  top: { name: 'top-syscall', title: 'Top system call latencies', columns: LOG_COLUMNS },
  log: { name: 'log', title: 'I/O operations log', columns: LOG_COLUMNS },
  perProcess: {
    name: 'per-process-top',
    title: 'Per-process top I/O operations',
    columns: [
      col('process', 'Process', 'process'),
      col('size', 'Total operations size', 'size'),
      col('disk_size', 'Disk operations size', 'size'),
      col('net_size', 'Network operations size', 'size'),
      col('unknown_size', 'Unknown operations size', 'size'),
    ],
  },
  perFile: {
    name: 'per-file-top',
    title: 'Per-file top I/O operations',
    columns: [
      col('path', 'File path/info', 'path'),
      col('size', 'Operations size', 'size'),
      col('fd_owners', 'File descriptor owners', 'string'),
    ],
  },
  perProcessBlock: {
    name: 'per-process-top-block',
    title: 'Per-process top block I/O operations',
    columns: [col('process', 'Process', 'process'), col('size', 'Operations size', 'size')],
  },
  perDiskSector: {
    name: 'per-disk-top-sector',
    title: 'Per-disk top sector I/O operations',
    columns: [col('disk', 'Disk', 'disk'), col('count', 'Sector count', 'number', 'sectors')],
  },
  perDiskRequest: {
    name: 'per-disk-top-request',
    title: 'Per-disk top I/O requests',
    columns: [col('disk', 'Disk', 'disk'), col('count', 'Request count', 'number', 'I/O requests')],
  },
  perDiskRtps: {
    name: 'per-disk-top-rps',
    title: 'Per-disk top I/O request time/sector',
    columns: [col('disk', 'Disk', 'disk'), col('rtps', 'Request time/sector', 'duration')],
  },
  perNetif: {
    name: 'per-netif-top',
    title: 'Per-network interface top I/O operations',
    columns: [col('netif', 'Network interface', 'netif'), col('size', 'Operations size', 'size')],
  },
} satisfies Record<string, TableClass>;

export function ioMeta(version: string): AnalysisMeta {
  return {
    title: 'I/O analysis',
    description:
      'System call/disk latency statistics, system call latency distribution, system call top latencies, ' +
      'I/O usage top, I/O operations log, and per container',
    tags: ['io', 'syscall', 'stats', 'freq', 'log', 'top'],
    tableClasses: [...Object.values(IO_CLASSES), ...Object.values(IO_CONTAINER_CLASSES)],
    version: VERSION_FIELDS(version),
  };
}

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

// --- usage -------------------------------------------------------------------------------------

interface Usage {
  readonly procRead: ProcIo[];
  readonly procWrite: ProcIo[];
  readonly fileRead: FileRow[];
  readonly fileWrite: FileRow[];
  readonly blockRead: ProcIo[];
  readonly blockWrite: ProcIo[];
  readonly sectors: IoPeriodResult['disks'] extends Map<number, infer D> ? D[] : never;
  readonly requests: Usage['sectors'];
  readonly rtps: Usage['sectors'];
  readonly recv: Array<{ name: string; size: number }>;
  readonly sent: Array<{ name: string; size: number }>;
}

interface FileRow {
  readonly name: string;
  read: number;
  write: number;
  /** pid → fd, first seen. */
  readonly owners: Map<number, number>;
}

function desc<T>(xs: Iterable<T>, key: (x: T) => number): T[] {
  return [...xs].sort((a, b) => key(b) - key(a));
}

/** `_fill_usage_result_table`: rows that `keep` accepts, up to the limit. */
function take<T>(xs: readonly T[], keep: (x: T) => boolean, limit: number): T[] {
  const out: T[] = [];
  for (const x of xs) {
    if (!keep(x)) continue;
    out.push(x);
    if (limit > 0 && out.length >= limit) break;
  }
  return out;
}

/** `get_files_stats`. */
function files(r: IoPeriodResult): Map<string, FileRow> {
  const m = new Map<string, FileRow>();
  for (const p of r.tids.values()) {
    for (const l of p.fds.values()) {
      for (const f of l) {
        const name = GENERIC_FILES.some((g) => f.filename.startsWith(g))
          ? `${f.filename} (${p.comm})`
          : f.filename;
        let row = m.get(name);
        if (row === undefined) {
          row = { name, read: 0, write: 0, owners: new Map() };
          m.set(name, row);
        }
        row.read += f.io.read;
        row.write += f.io.write;
        const pid = p.pid ?? p.tid;
        if (!row.owners.has(pid)) row.owners.set(pid, f.fd);
      }
    }
  }
  return m;
}

function usage(r: IoPeriodResult, limit: number): Usage {
  const procs = [...r.tids.values()];
  const fm = [...files(r).values()];
  const disks = [...r.disks.values()];
  const ifaces = [...r.ifaces.values()];
  const all = (): boolean => true;
  return {
    procRead: take(desc(procs, totalRead), all, limit),
    procWrite: take(desc(procs, totalWrite), all, limit),
    fileRead: take(
      desc(fm, (f) => f.read),
      (f) => f.read !== 0,
      limit,
    ),
    fileWrite: take(
      desc(fm, (f) => f.write),
      (f) => f.write !== 0,
      limit,
    ),
    blockRead: take(
      desc(procs, (p) => p.block.read),
      (p) => p.block.read !== 0,
      limit,
    ),
    blockWrite: take(
      desc(procs, (p) => p.block.write),
      (p) => p.block.write !== 0,
      limit,
    ),
    sectors: take(
      desc(disks, (d) => d.totalSectors),
      (d) => d.totalSectors !== 0,
      limit,
    ),
    requests: take(
      desc(disks, (d) => d.rqs.length),
      (d) => d.rqs.length !== 0,
      limit,
    ),
    rtps: take(disks, (d) => d.rqs.length !== 0, limit),
    recv: take(
      desc(ifaces, (i) => i.recvBytes),
      all,
      limit,
    ).map((i) => ({ name: i.name, size: i.recvBytes })),
    sent: take(
      desc(ifaces, (i) => i.sentBytes),
      all,
      limit,
    ).map((i) => ({ name: i.name, size: i.sentBytes })),
  };
}

function ownersText(r: IoPeriodResult, f: FileRow): string {
  let s = '';
  for (const [pid, fd] of f.owners) s += `fd ${fd} in ${r.tids.get(pid)?.comm ?? '?'} (${pid}) `;
  return s;
}

function pidText(p: ProcIo): string {
  return p.pid === undefined ? `unknown (tid=${p.tid})` : String(p.pid);
}

function usageLines(r: IoPeriodResult, u: Usage): string[] {
  const lines: string[] = [];
  const proc = (rows: ProcIo[], title: string, kind: 'read' | 'write'): void => {
    const h = `${padLeftAlign('Process', 25)} ${padLeftAlign('Disk', 10)} ${padLeftAlign('Net', 10)} ${padLeftAlign('Unknown', 10)}`;
    lines.push(
      ...barGraphLines({
        title: `Per-process I/O ${title}`,
        labelHeader: h,
        rows: rows.map((p) => {
          const v = kind === 'read' ? totalRead(p) : totalWrite(p);
          return {
            value: v,
            isFloat: false,
            text: formatSize(v),
            label:
              `${padLeftAlign(`${p.comm} (${pidText(p)})`, 25)} ${padRightAlign(formatSize(p.disk[kind]), 10)} ` +
              `${padRightAlign(formatSize(p.net[kind]), 10)} ${padRightAlign(formatSize(p.unk[kind]), 10)}`,
          };
        }),
      }),
    );
  };
  proc(u.procRead, 'Read', 'read');
  proc(u.procWrite, 'Write', 'write');
  const file = (rows: FileRow[], title: string, kind: 'read' | 'write'): void => {
    lines.push(
      ...barGraphLines({
        title: `Per-file I/O ${title}`,
        labelHeader: 'Path',
        rows: rows.map((f) => ({ value: f[kind], isFloat: false, text: formatSize(f[kind]), label: f.name })),
      }),
    );
  };
  file(u.fileRead, 'Read', 'read');
  file(u.fileWrite, 'Write', 'write');
  const block = (rows: ProcIo[], title: string, kind: 'read' | 'write'): void => {
    lines.push(
      ...barGraphLines({
        title: `Block I/O ${title}`,
        labelHeader: 'Process',
        rows: rows.map((p) => ({
          value: p.block[kind],
          isFloat: false,
          text: formatSize(p.block[kind]),
          label: `${p.comm === '' ? 'unknown' : p.comm} (pid=${p.pid === undefined ? `unknown (tid=${p.tid})` : p.pid})`,
        })),
      }),
    );
  };
  block(u.blockRead, 'Read', 'read');
  block(u.blockWrite, 'Write', 'write');
  lines.push(
    ...barGraphLines({
      title: 'Disk Requests Sector Count',
      labelHeader: 'Disk',
      unit: 'sectors',
      rows: u.sectors.map((d) => ({ value: d.totalSectors, isFloat: false, label: d.diskname })),
    }),
    ...barGraphLines({
      title: 'Disk Request Count',
      labelHeader: 'Disk',
      unit: 'requests',
      rows: u.requests.map((d) => ({ value: d.rqs.length, isFloat: false, label: d.diskname })),
    }),
    ...barGraphLines({
      title: 'Disk Request Average Latency',
      labelHeader: 'Disk',
      unit: 'ms',
      rows: u.rtps.map((d) => ({
        value: d.totalDuration / d.rqs.length / 1000000,
        isFloat: true,
        label: d.diskname,
      })),
    }),
  );
  const net = (rows: Array<{ name: string; size: number }>, title: string): void => {
    lines.push(
      ...barGraphLines({
        title: `Network ${title} Bytes`,
        labelHeader: 'Interface',
        rows: rows.map((i) => ({ value: i.size, isFloat: false, text: formatSize(i.size), label: i.name })),
      }),
    );
  };
  net(u.recv, 'Received');
  net(u.sent, 'Sent');
  void r;
  return lines;
}

function usageTables(r: IoPeriodResult, u: Usage, t: TableMaker): ResultTable[] {
  const proc = (rows: ProcIo[], kind: 'read' | 'write', sub: string): ResultTable =>
    t(
      IO_CLASSES.perProcess,
      rows.map((p) => [
        cell.process(p.comm, p.pid, p.tid),
        size(kind === 'read' ? totalRead(p) : totalWrite(p)),
        size(p.disk[kind]),
        size(p.net[kind]),
        size(p.unk[kind]),
      ]),
      sub,
    );
  const file = (rows: FileRow[], kind: 'read' | 'write', sub: string): ResultTable =>
    t(
      IO_CLASSES.perFile,
      rows.map((f) => [{ class: 'path', path: f.name }, size(f[kind]), cell.string(ownersText(r, f))]),
      sub,
    );
  const block = (rows: ProcIo[], kind: 'read' | 'write', sub: string): ResultTable =>
    t(
      IO_CLASSES.perProcessBlock,
      rows.map((p) => [cell.process(p.comm === '' ? undefined : p.comm, p.pid, p.tid), size(p.block[kind])]),
      sub,
    );
  const disk = (name: string): Cell => ({ class: 'disk', name });
  return [
    proc(u.procRead, 'read', 'read'),
    proc(u.procWrite, 'write', 'written'),
    file(u.fileRead, 'read', 'read'),
    file(u.fileWrite, 'write', 'written'),
    block(u.blockRead, 'read', 'read'),
    block(u.blockWrite, 'write', 'written'),
    t(
      IO_CLASSES.perDiskSector,
      u.sectors.map((d) => [disk(d.diskname), cell.number(d.totalSectors)]),
    ),
    t(
      IO_CLASSES.perDiskRequest,
      u.requests.map((d) => [disk(d.diskname), cell.number(d.rqs.length)]),
    ),
    t(
      IO_CLASSES.perDiskRtps,
      u.rtps.map((d) => [disk(d.diskname), cell.duration(d.totalDuration / d.rqs.length, true)]),
    ),
    t(
      IO_CLASSES.perNetif,
      u.recv.map((i) => [{ class: 'netif', name: i.name }, size(i.size)]),
      'received',
    ),
    t(
      IO_CLASSES.perNetif,
      u.sent.map((i) => [{ class: 'netif', name: i.name }, size(i.size)]),
      'sent',
    ),
  ];
}

const size = (v: number): Cell => ({ class: 'size', value: v });

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

const us3 = (ns: number): string => formatFixed(ns / 1000, 3);
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
  const lines = [
    '',
    `${title} (usec)`,
    `${padLeftAlign('Begin', 20)} ${padLeftAlign('End', 20)} ${padLeftAlign('Name', 16)} ${padLeftAlign('Duration (usec)', 23)} ` +
      `${padLeftAlign('Size', 5)} ${padLeftAlign('Proc', 24)} ${padLeftAlign('PID', 8)} ${padLeftAlign('Filename', 14)}`,
  ];
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
  return lines;
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

type TableMaker = (cls: TableClass, rows: Cell[][], subtitle?: string) => ResultTable;

export function ioText(res: IoResult, o: IoReportOptions): string {
  const c = context(o);
  const lines: string[] = [];
  for (const tk of res) {
    const r = tk.result;
    lines.push(timerangeLine(o, tk.begin, tk.end));
    if (o.usage) lines.push(...usageLines(r, usage(r, o.limit)));
    if (o.stats) lines.push(...latencyLines(latencyRows(r, c)));
    if (o.top) {
      for (const [, op, sub] of SYSCALL_KINDS)
        lines.push(...logLines(`${IO_CLASSES.top.title} ${sub}`, topRows(r, c, op), o));
    }
    if (o.freq) {
      for (const f of freqTables(r, c)) {
        lines.push(
          ...freqGraphLines(
            `${IO_CLASSES.freq.title} ${f.subtitle}`,
            'µs',
            f.rows.map((x) => ({ lower: x.lowerNs / 1000, count: x.count })),
          ),
        );
      }
    }
    if (o.log) lines.push(...logLines(`${IO_CLASSES.log.title} None`, logRows(r, c), o));
  }
  const ours: string[] = [];
  for (const tk of res) {
    const x = containerIoLines(tk.result, o, o.usage);
    if (x.length === 0) continue;
    if (res.length > 1) ours.push('', timerangeLine(o, tk.begin, tk.end));
    ours.push(...x);
  }
  return [...lines, ...ours].join('\n') + '\n';
}

export function ioMi(res: IoResult, o: IoReportOptions): ResultTable[] {
  const c = context(o);
  const lttng: ResultTable[] = [];
  const ours: ResultTable[] = [];
  for (const tk of res) {
    const r = tk.result;
    const { begin, end } = range(o, tk.begin, tk.end);
    const t: TableMaker = (cls, rows, subtitle) =>
      subtitle === undefined ? { cls, begin, end, rows } : { cls, begin, end, rows, subtitle };
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
      for (const f of freqTables(r, c)) {
        lttng.push(
          t(
            IO_CLASSES.freq,
            f.rows.map((x) => [
              cell.duration(x.lowerNs, true),
              cell.duration(x.upperNs, true),
              cell.number(x.count),
            ]),
            f.subtitle,
          ),
        );
      }
    }
    ours.push(...containerIoTables(r, o.usage, t));
  }
  // With several periods lttng-analyses replaces every table with its (empty) summary.
  return [...(res.length > 1 ? [] : groupByClass(lttng)), ...groupByClass(ours)];
}
