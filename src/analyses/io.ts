/**
 * I/O: system call I/O requests (open, read, write, close, sync), block requests per disk,
 * network bytes per interface, bytes per process and per file: the data of `iousagetop`,
 * `iolatencytop`, `iolatencystats`, `iolatencyfreq` and `iolog`.
 *
 * Follows lttng-analyses 0.6.1 (`core/io.py` over `linuxautomaton/io.py`, via the I/O tracker
 * src/model/lttng-io.ts): per period, statistics per thread keyed by tid (made from the process
 * table's entry when first met), with the file descriptors of each process and their lifetimes,
 * and per disk. A read or write is counted only when its fd is known when it returns; bytes go to
 * disk, network or unknown by the fd's type.
 *
 * Per container (ours): the requests of each container's tasks (bytes, calls, latency by kind),
 * block requests by disk, and bytes per file of the container's processes.
 */
import type { EventRecord } from '../ctf/event.js';
import type { Container } from '../model/containers.js';
import type { IoRequest, LttDisk, LttIo } from '../model/lttng-io.js';
import { IoOp, opMatches } from '../model/lttng-io.js';
import type { LttProc, LttProcs } from '../model/lttng-procs.js';
import { FdType } from '../model/lttng-procs.js';
import type { Thread } from '../model/threads.js';
import { DurationStats } from './stats.js';
import type { PeriodicOptions } from './periodic.js';
import { PeriodicHandler } from './periodic.js';
import type { Tick } from './ticks.js';
import { getOrAdd } from '../util/map.js';

export interface RW {
  read: number;
  write: number;
}

/** lttng-analyses' `FDStats`. */
export interface FdStats {
  readonly fd: number;
  filename: string;
  readonly fdType: FdType;
  readonly openTs: number;
  closeTs: number | undefined;
  readonly io: RW;
  readonly rqs: IoRequest[];
}

/** lttng-analyses' `ProcessIOStats`. */
export interface ProcIo {
  pid: number | undefined;
  readonly tid: number;
  comm: string;
  readonly disk: RW;
  readonly net: RW;
  readonly unk: RW;
  readonly block: RW;
  /** By fd, in order of first use; each a list of lifetimes in opening order. */
  fds: Map<number, FdStats[]>;
  /** Syscall and block requests, in order. */
  readonly rqs: IoRequest[];
  readonly thread: Thread;
}

/** lttng-analyses' `DiskStats`. */
export interface DiskIo {
  readonly dev: number;
  diskname: string;
  totalSectors: number;
  totalDuration: number;
  readonly rqs: IoRequest[];
}

export interface IfaceIo {
  readonly name: string;
  recvBytes: number;
  recvPackets: number;
  sentBytes: number;
  sentPackets: number;
}

/** Latency kinds of the per-container tables (lttng-analyses' syscall latency rows). */
export const IO_KINDS = ['Open', 'Read', 'Write', 'Sync'] as const;
export type IoKind = (typeof IO_KINDS)[number];

const KIND_OPS: Record<IoKind, IoOp> = {
  Open: IoOp.Open,
  Read: IoOp.Read,
  Write: IoOp.Write,
  Sync: IoOp.Sync,
};

/** Per container (ours): the I/O of its tasks. */
export interface ContainerIo {
  readonly container: Container;
  /** Bytes read and written by system calls (as the per-process table counts them). */
  read: number;
  write: number;
  /** Bytes of block requests its tasks issued. */
  blockRead: number;
  blockWrite: number;
  /** I/O system calls, and those that failed. */
  calls: number;
  errors: number;
  readonly latency: Record<IoKind, DurationStats>;
}

export interface ContainerDiskIo {
  readonly container: Container;
  readonly disk: string;
  requests: number;
  sectors: number;
  read: number;
  write: number;
  readonly latency: DurationStats;
}

export interface ContainerFileIo {
  readonly container: Container;
  readonly file: string;
  read: number;
  write: number;
}

export interface IoPeriodResult {
  readonly tids: Map<number, ProcIo>;
  readonly disks: Map<number, DiskIo>;
  readonly ifaces: Map<string, IfaceIo>;
  readonly containers: ContainerIo[];
  readonly containerDisks: ContainerDiskIo[];
  readonly containerFiles: ContainerFileIo[];
}

export type IoResult = ReadonlyArray<Tick<IoPeriodResult>>;

export const totalRead = (p: ProcIo): number => p.disk.read + p.net.read + p.unk.read;
export const totalWrite = (p: ProcIo): number => p.disk.write + p.net.write + p.unk.write;

const rw = (): RW => ({ read: 0, write: 0 });

/** `FileStats.GENERIC_NAMES`: such files are told apart by their process's name. */
export const GENERIC_FILES = ['pipe', 'socket', 'anon_inode', 'unknown'];

/** `DiskStats._get_name_from_dev`: `(major,minor)`. */
export function devName(dev: number): string {
  return `(${Math.floor(dev / 2 ** 20)},${dev % 2 ** 20})`;
}

/** `ProcessIOStats._get_fd_by_timestamp` (its binary search, quirks included). */
function fdAt(list: readonly FdStats[], ts: number): FdStats | undefined {
  if (list.length === 0) return undefined;
  const mid = list.length >> 1;
  const f = list[mid]!;
  if (f.closeTs === undefined) return ts >= f.openTs ? f : undefined;
  if (f.openTs <= ts && ts <= f.closeTs) return f;
  return ts < f.openTs ? fdAt(list.slice(0, mid), ts) : fdAt(list.slice(mid + 1), ts);
}

/** `ProcessIOStats.get_fd(fd[, timestamp])`. */
export function getFd(p: ProcIo, fd: number, ts?: number): FdStats | undefined {
  const l = p.fds.get(fd);
  if (l === undefined || l.length === 0) return undefined;
  if (ts !== undefined) return fdAt(l, ts);
  const last = l[l.length - 1]!;
  return last.closeTs === undefined ? last : undefined;
}

class PeriodData {
  readonly tids = new Map<number, ProcIo>();
  readonly disks = new Map<number, DiskIo>();
  readonly ifaces = new Map<string, IfaceIo>();

  proc(p: LttProc): ProcIo {
    return getOrAdd(this.tids, p.tid, newProcIo, p);
  }
}

/** A process's statistics, made from its entry in the process table when first met. */
function newProcIo(tid: number, p: LttProc): ProcIo {
  return {
    pid: p.pid,
    tid,
    comm: p.comm,
    disk: rw(),
    net: rw(),
    unk: rw(),
    block: rw(),
    fds: new Map(),
    rqs: [],
    thread: p.thread,
  };
}

function newIface(name: string): IfaceIo {
  return { name, recvBytes: 0, recvPackets: 0, sentBytes: 0, sentPackets: 0 };
}

function newContainerIo(container: Container): ContainerIo {
  const latency = {
    Open: new DurationStats(),
    Read: new DurationStats(),
    Write: new DurationStats(),
    Sync: new DurationStats(),
  };
  return { container, read: 0, write: 0, blockRead: 0, blockWrite: 0, calls: 0, errors: 0, latency };
}

function fdStats(p: LttProc, fd: number, ts: number): FdStats {
  const f = p.fds?.get(fd);
  return {
    fd,
    filename: f?.filename ?? 'unknown',
    fdType: f?.fdType ?? FdType.Unknown,
    openTs: ts,
    closeTs: undefined,
    io: rw(),
    rqs: [],
  };
}

function addBytes(s: ProcIo, kind: 'read' | 'write', size: number, t: FdType): void {
  if (t === FdType.Disk) s.disk[kind] += size;
  else if (t === FdType.Net || t === FdType.MaybeNet) s.net[kind] += size;
  else s.unk[kind] += size;
}

/** `--min`/`--max` (ns) and `--minsize`/`--maxsize` (bytes): the requests the tables count. */
export interface IoOptions extends PeriodicOptions {
  readonly minSize?: number;
  readonly maxSize?: number;
}

/** `_filter_size` and `_filter_latency` of lttng-analyses' I/O command. */
export function ioRequestFilter(o: Omit<IoOptions, 'periods'>): (rq: IoRequest) => boolean {
  return (rq) => {
    const size = rq.size;
    if (size !== undefined) {
      if (o.maxSize !== undefined && size > o.maxSize) return false;
      if (o.minSize !== undefined && size < o.minSize) return false;
    }
    const d = rq.duration!;
    if (o.max !== undefined && d > o.max) return false;
    if (o.min !== undefined && d < o.min) return false;
    return true;
  };
}

export class IoHandler extends PeriodicHandler<LttIo, PeriodData, PeriodData, IoPeriodResult, IoOptions> {
  constructor(
    io: LttIo,
    private readonly procs: LttProcs,
    opts: IoOptions,
  ) {
    super('io', io, opts, () => new PeriodData());
  }

  protected listen(): void {
    const on = (ev: EventRecord): boolean => this.counts(ev);
    this.tracker.listen({
      ioRqExit: (ev, rq, proc, parent) => {
        if (on(ev)) for (const pd of this.open.values()) this.onRqExit(pd, rq, proc, parent);
      },
      createFd: (ev, fd, parent, ts) => {
        if (!on(ev)) return;
        for (const pd of this.open.values()) {
          const s = pd.proc(parent);
          let l = s.fds.get(fd);
          if (l === undefined) {
            l = [];
            s.fds.set(fd, l);
          }
          l.push(fdStats(parent, fd, ts));
        }
      },
      closeFd: (ev, fd, parent, ts) => {
        if (!on(ev)) return;
        for (const pd of this.open.values()) {
          const s = pd.tids.get(parent.tid);
          if (s === undefined) continue;
          const f = getFd(s, fd);
          if (f !== undefined) f.closeTs = ts;
        }
      },
      updateFd: (ev, fd, parent, ts) => {
        if (!on(ev)) return;
        const f = parent.fds?.get(fd);
        if (f === undefined) return;
        for (const pd of this.open.values()) {
          const s = pd.proc(parent);
          let l = s.fds.get(fd);
          if (l === undefined) {
            l = [fdStats(parent, fd, ts)];
            s.fds.set(fd, l);
          }
          l[l.length - 1]!.filename = f.filename;
        }
      },
      createParentProc: (ev, proc, parent) => {
        if (!on(ev)) return;
        for (const pd of this.open.values()) {
          const s = pd.proc(proc);
          const ps = pd.proc(parent);
          s.pid = ps.tid;
          for (const [fd, l] of s.fds) {
            if (!ps.fds.has(fd)) ps.fds.set(fd, l);
            else {
              const cur = getFd(ps, fd);
              if (cur !== undefined && cur.filename === '') cur.filename = getFd(s, fd)?.filename ?? '';
            }
          }
          s.fds = new Map();
        }
      },
      statedumpBlock: (ev, dev, name) => {
        if (!on(ev)) return;
        for (const pd of this.open.values()) {
          const d = pd.disks.get(dev);
          if (d === undefined)
            pd.disks.set(dev, {
              dev,
              diskname: name,
              totalSectors: 0,
              totalDuration: 0,
              rqs: [],
            });
          else d.diskname = name;
        }
      },
      blockRqComplete: (ev, rq, proc, disk) => {
        if (on(ev)) for (const pd of this.open.values()) this.onBlock(pd, rq, proc, disk);
      },
      netDevXmit: (ev, iface, bytes) => {
        if (on(ev)) this.onNet(iface, bytes, true);
      },
      netifReceiveSkb: (ev, iface, bytes) => {
        if (on(ev)) this.onNet(iface, bytes, false);
      },
    });
    void this.procs;
  }

  /** A packet sent or received on an interface. */
  private onNet(iface: string, bytes: number, sent: boolean): void {
    for (const pd of this.open.values()) {
      const i = getOrAdd(pd.ifaces, iface, newIface);
      if (sent) {
        i.sentPackets++;
        i.sentBytes += bytes;
      } else {
        i.recvPackets++;
        i.recvBytes += bytes;
      }
    }
  }

  private onRqExit(pd: PeriodData, rq: IoRequest, proc: LttProc, parent: LttProc): void {
    const s = pd.proc(proc);
    const ps = pd.proc(parent);
    let fdType: FdType = FdType.Unknown;
    if (rq.errno === undefined && (rq.operation === IoOp.Read || rq.operation === IoOp.Write)) {
      const f = rq.fd === undefined ? undefined : getFd(ps, rq.fd);
      if (f === undefined) return;
      fdType = f.fdType;
    }
    s.rqs.push(rq);
    if (rq.size !== undefined && rq.errno === undefined) {
      const size = rq.returnedSize ?? 0;
      if (rq.operation === IoOp.Read) addBytes(s, 'read', size, fdType);
      else if (rq.operation === IoOp.Write) addBytes(s, 'write', size, fdType);
    }
    // update_fd_stats on the process leader's stats.
    if (rq.errno === undefined && rq.fd !== undefined) {
      const f = getFd(ps, rq.fd);
      if (f !== undefined) {
        if (rq.operation === IoOp.Read) f.io.read += rq.returnedSize ?? 0;
        else if (rq.operation === IoOp.Write) f.io.write += rq.returnedSize ?? 0;
        f.rqs.push(rq);
      }
    }
    if (s.comm !== proc.comm) s.comm = proc.comm;
    if (ps.comm !== parent.comm) ps.comm = parent.comm;
  }

  private onBlock(pd: PeriodData, rq: IoRequest, proc: LttProc | undefined, disk: LttDisk): void {
    let d = pd.disks.get(disk.dev);
    if (d === undefined) {
      d = {
        dev: disk.dev,
        diskname: disk.diskname ?? devName(disk.dev),
        totalSectors: 0,
        totalDuration: 0,
        rqs: [],
      };
      pd.disks.set(disk.dev, d);
    }
    d.totalSectors += rq.nrSector;
    d.totalDuration += rq.duration!;
    d.rqs.push(rq);
    if (proc !== undefined) {
      const s = pd.proc(proc);
      s.rqs.push(rq);
      if (rq.operation === IoOp.Read) s.block.read += rq.size!;
      else if (rq.operation === IoOp.Write) s.block.write += rq.size!;
    }
  }

  protected closed(pd: PeriodData): PeriodData {
    return pd;
  }

  finalize(lastTs: number): void {
    this.closeAll(lastTs);
    this.result = this.ticks.map((t) => ({
      ...t,
      result: this.periodResult(t.result),
    }));
  }

  /** The period's tables, for the selected tasks, with the per-container ones. */
  private periodResult(pd: PeriodData): IoPeriodResult {
    const f = this.filter;
    const sel = (t: Thread | undefined): boolean =>
      !f.selectsContainers || (t !== undefined && f.threadSelected(t));
    let { tids, disks } = pd;
    if (f.selectsContainers) {
      tids = new Map();
      for (const [tid, s] of pd.tids) {
        if (sel(s.thread)) tids.set(tid, { ...s, rqs: s.rqs.filter((rq) => sel(rq.thread)) });
      }
      disks = new Map();
      for (const [dev, d] of pd.disks) {
        const rqs = d.rqs.filter((rq) => sel(rq.thread));
        disks.set(dev, {
          ...d,
          rqs,
          totalSectors: rqs.reduce((a, r) => a + r.nrSector, 0),
          totalDuration: rqs.reduce((a, r) => a + r.duration!, 0),
        });
      }
    }
    const keep = ioRequestFilter(this.opts);
    const m = this.model;
    const byC = new Map<Container, ContainerIo>();
    const row = (c: Container): ContainerIo => getOrAdd(byC, c, newContainerIo);
    for (const s of tids.values()) {
      for (const rq of s.rqs) {
        if (rq.kind === 'block' || rq.thread === undefined) continue;
        const r = row(m.containerOf(rq.thread));
        r.calls++;
        if (rq.errno !== undefined) r.errors++;
        else if (rq.size !== undefined) {
          if (rq.operation === IoOp.Read) r.read += rq.returnedSize ?? 0;
          else if (rq.operation === IoOp.Write) r.write += rq.returnedSize ?? 0;
        }
        if (keep(rq)) {
          for (const k of IO_KINDS) if (opMatches(KIND_OPS[k], rq.operation)) r.latency[k].add(rq.duration!);
        }
      }
    }
    const byDisk = new Map<string, ContainerDiskIo>();
    for (const d of disks.values()) {
      for (const rq of d.rqs) {
        if (rq.thread === undefined) continue;
        const c = m.containerOf(rq.thread);
        const r = row(c);
        if (rq.operation === IoOp.Read) r.blockRead += rq.size!;
        else if (rq.operation === IoOp.Write) r.blockWrite += rq.size!;
        const key = `${c.key}\u0000${d.dev}`;
        let x = byDisk.get(key);
        if (x === undefined) {
          x = {
            container: c,
            disk: d.diskname,
            requests: 0,
            sectors: 0,
            read: 0,
            write: 0,
            latency: new DurationStats(),
          };
          byDisk.set(key, x);
        }
        x.requests++;
        x.sectors += rq.nrSector;
        if (rq.operation === IoOp.Read) x.read += rq.size!;
        else if (rq.operation === IoOp.Write) x.write += rq.size!;
        if (keep(rq)) x.latency.add(rq.duration!);
      }
    }
    const byFile = new Map<string, ContainerFileIo>();
    for (const s of tids.values()) {
      const c = m.containerOf(s.thread);
      for (const l of s.fds.values()) {
        for (const fs of l) {
          if (fs.io.read === 0 && fs.io.write === 0) continue;
          const name = GENERIC_FILES.some((g) => fs.filename.startsWith(g))
            ? `${fs.filename} (${s.comm})`
            : fs.filename;
          const key = `${c.key}\u0000${name}`;
          let x = byFile.get(key);
          if (x === undefined) {
            x = { container: c, file: name, read: 0, write: 0 };
            byFile.set(key, x);
          }
          x.read += fs.io.read;
          x.write += fs.io.write;
        }
      }
    }
    const containers = [...byC.values()].filter((r) => f.container(r.container));
    containers.sort(
      (a, b) =>
        b.read + b.write + b.blockRead + b.blockWrite - (a.read + a.write + a.blockRead + a.blockWrite),
    );
    const containerDisks = [...byDisk.values()].filter((r) => f.container(r.container));
    containerDisks.sort((a, b) => b.sectors - a.sectors);
    const containerFiles = [...byFile.values()].filter((r) => f.container(r.container));
    containerFiles.sort((a, b) => b.read + b.write - (a.read + a.write));
    return {
      tids,
      disks,
      ifaces: pd.ifaces,
      containers,
      containerDisks,
      containerFiles,
    };
  }
}
