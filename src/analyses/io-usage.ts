/**
 * The usage tables of `iousagetop` (lttng-analyses 0.6.1's `cli/io.py`): per-process, per-file,
 * block, disk and network I/O tops, as text bar graphs and as LAMI tables.
 */
import type { Cell, ResultTable } from './format/lami.js';
import { cell } from './format/lami.js';
import { formatSize, padLeftAlign, padRightAlign } from './format/pyfmt.js';
import { barGraphLines } from './format/termgraph.js';
import type { IoPeriodResult, ProcIo } from './io.js';
import { GENERIC_FILES, totalRead, totalWrite } from './io.js';
import type { TableMaker } from './format/common.js';
import { IO_CLASSES, size } from './io-classes.js';

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

/** The rows by decreasing `key` (stable), up to the limit; those where it is 0 left out unless `zeros`. */
function top<T>(xs: Iterable<T>, key: (x: T) => number, limit: number, zeros = false): T[] {
  return take(desc(xs, key), zeros ? () => true : (x) => key(x) !== 0, limit);
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

export function usage(r: IoPeriodResult, limit: number): Usage {
  const procs = [...r.tids.values()];
  const fm = [...files(r).values()];
  const disks = [...r.disks.values()];
  const ifaces = [...r.ifaces.values()];
  return {
    procRead: top(procs, totalRead, limit, true),
    procWrite: top(procs, totalWrite, limit, true),
    fileRead: top(fm, (f) => f.read, limit),
    fileWrite: top(fm, (f) => f.write, limit),
    blockRead: top(procs, (p) => p.block.read, limit),
    blockWrite: top(procs, (p) => p.block.write, limit),
    sectors: top(disks, (d) => d.totalSectors, limit),
    requests: top(disks, (d) => d.rqs.length, limit),
    rtps: take(disks, (d) => d.rqs.length !== 0, limit),
    recv: top(ifaces, (i) => i.recvBytes, limit, true).map((i) => ({ name: i.name, size: i.recvBytes })),
    sent: top(ifaces, (i) => i.sentBytes, limit, true).map((i) => ({ name: i.name, size: i.sentBytes })),
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

export function usageLines(r: IoPeriodResult, u: Usage): string[] {
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

export function usageTables(r: IoPeriodResult, u: Usage, t: TableMaker): ResultTable[] {
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
