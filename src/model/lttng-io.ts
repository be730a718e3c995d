/**
 * I/O state as lttng-analyses 0.6.1 keeps it (`linuxautomaton/{io,block,net,statedump}.py`), on
 * top of its process table (`LttProcs`): file descriptors per process, the I/O request of each
 * I/O syscall in flight, pending block requests per disk (with bio remaps), and the
 * notifications its I/O analysis consumes (`io_rq_exit`, `create_fd`, `close_fd`, `update_fd`,
 * `create_parent_proc`, `block_rq_complete`, `net_dev_xmit`, `netif_receive_skb`,
 * `lttng_statedump_block_device`), at the same points and in the same order.
 *
 * Its quirks are kept where they change its tables: a read or write on an unknown fd creates an
 * `unknown` fd; a thread's first I/O syscall with a `_pid` context replaces the entry of its
 * process leader; `splice`/`sendfile64` make no request; `event['pid']` of the 2.11+ fd
 * statedump, which has no `pid` field, is the `_pid` context (the statedump's writer).
 *
 * Where it misses events because their names changed in lttng-modules (`net_if_receive_skb`
 * for `netif_receive_skb`), both names are read (docs/analyses.md).
 */
import type { EventRecord } from '../ctf/event.js';
import type { ClassInfo, EventFn, Subscriber } from './dispatch.js';
import type { FieldLocation } from './fields.js';
import { anyField, readNum, toPyStr } from './fields.js';
import type { LttFd, LttProc, LttProcs } from './lttng-procs.js';
import { FdType } from './lttng-procs.js';
import { DISK_OPEN, IO_SYSCALLS, OPEN, READ, SYNC, WRITE } from './lttng-syscall-sets.js';
import type { Thread } from './threads.js';

export const enum IoOp {
  Open = 1,
  Read = 2,
  Write = 3,
  Close = 4,
  Sync = 5,
  ReadWrite = 6,
}

/** `IORequest.is_equivalent_operation(want, op)`. */
export function opMatches(want: IoOp, op: IoOp): boolean {
  if (want === IoOp.ReadWrite) return op === IoOp.Read || op === IoOp.Write || op === IoOp.ReadWrite;
  if (want === IoOp.Read) return op === IoOp.Read || op === IoOp.ReadWrite;
  if (want === IoOp.Write) return op === IoOp.Write || op === IoOp.ReadWrite;
  return want === op;
}

export type IoRqKind = 'open' | 'close' | 'rw' | 'sync' | 'block';

/** lttng-analyses' I/O requests (syscall ones and block ones) in one shape. */
export class IoRequest {
  readonly kind: IoRqKind;
  readonly beginTs: number;
  endTs: number | undefined;
  duration: number | undefined;
  /** Bytes: a read's or write's return value; a block request's sectors x 512; else undefined. */
  size: number | undefined;
  readonly operation: IoOp;
  readonly tid: number;
  errno: number | undefined;
  /** The model's thread that made the request (per-container tables). */
  readonly thread: Thread | undefined;
  // Syscall requests.
  syscallName = '';
  fd: number | undefined;
  // Open requests.
  filename = '';
  fdType: FdType = FdType.Unknown;
  cloexec = false;
  family: number | undefined;
  // Read/write requests.
  returnedSize: number | undefined;
  // Block requests.
  dev = 0;
  sector = 0;
  nrSector = 0;

  constructor(
    kind: IoRqKind,
    beginTs: number,
    size: number | undefined,
    tid: number,
    op: IoOp,
    thread: Thread | undefined,
  ) {
    this.kind = kind;
    this.beginTs = beginTs;
    this.size = size;
    this.tid = tid;
    this.operation = op;
    this.thread = thread;
  }
}

export interface IoListener {
  ioRqExit?(ev: EventRecord, rq: IoRequest, proc: LttProc, parent: LttProc): void;
  createFd?(ev: EventRecord, fd: number, parent: LttProc, ts: number): void;
  closeFd?(ev: EventRecord, fd: number, parent: LttProc, ts: number): void;
  updateFd?(ev: EventRecord, fd: number, parent: LttProc, ts: number): void;
  createParentProc?(ev: EventRecord, proc: LttProc, parent: LttProc): void;
  statedumpBlock?(ev: EventRecord, dev: number, diskname: string): void;
  blockRqComplete?(ev: EventRecord, rq: IoRequest, proc: LttProc | undefined, disk: LttDisk): void;
  netDevXmit?(ev: EventRecord, iface: string, bytes: number): void;
  netifReceiveSkb?(ev: EventRecord, iface: string, bytes: number): void;
}

/** lttng-analyses' `sv.Disk`. */
export interface LttDisk {
  readonly dev: number;
  diskname: string | undefined;
  readonly pending: Map<number, IoRequest>;
}

interface Remap {
  dev: number;
  sector: number;
  readonly oldDev: number;
  readonly oldSector: number;
}

const O_CLOEXEC = 0o2000000;
const AF_INET = 2;

/** lttng-analyses' `format_ipv4`: an integer (lttng-modules < 2.6) or a sequence of 4 bytes. */
export function formatIpv4(ip: unknown, port: number | undefined): string {
  let s: string;
  if (Array.isArray(ip)) s = ip.slice(0, 4).map(String).join('.');
  else {
    const n = typeof ip === 'bigint' ? Number(ip) : Number(ip);
    s = [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  return port === undefined ? s : `${s}:${port}`;
}

/** Field accessors of one event class, resolved once. */
function fields(info: ClassInfo, ...names: string[]): Record<string, FieldLocation | undefined> {
  const out: Record<string, FieldLocation | undefined> = {};
  for (const n of names) out[n] = anyField(info.streamClass, info.eventClass, n);
  return out;
}

function num(loc: FieldLocation | undefined, ev: EventRecord): number {
  return readNum(loc, ev);
}

function opt(loc: FieldLocation | undefined, ev: EventRecord): number | undefined {
  if (loc === undefined) return undefined;
  const v = readNum(loc, ev);
  return Number.isNaN(v) ? undefined : v;
}

/** The I/O tracker: create it over the process table and add it to the runner's trackers after it. */
export class LttIo implements Subscriber {
  readonly disks = new Map<number, LttDisk>();
  private readonly remaps: Remap[] = [];
  private readonly listeners: IoListener[] = [];

  constructor(private readonly procs: LttProcs) {
    procs.hooks.fork = (ev, child, parent, cpuId) => this.onFork(ev, child, parent, cpuId);
    procs.hooks.exec = (ev, proc) => this.onExec(ev, proc);
    procs.hooks.statedumpThread = (ev, proc, parent) => this.onStatedumpThread(ev, proc, parent);
    procs.sysEntryHook = (ev, name, proc, cpuId) => this.onSysEntry(ev, name, proc, cpuId);
    procs.sysExitHook = (ev, proc, cpuId) => this.onSysExit(ev, proc, cpuId);
    procs.sysEntryPayload = (name) => IO_SYSCALLS.has(name);
  }

  listen(l: IoListener): void {
    this.listeners.push(l);
  }

  private fdsOf(p: LttProc): Map<number, LttFd> {
    let m = p.fds;
    if (m === undefined) {
      m = new Map();
      p.fds = m;
    }
    return m;
  }

  /** `_get_parent_proc`: the process leader's entry for a thread with a known pid. */
  parentOf(p: LttProc, ts: number): LttProc {
    if (p.pid !== undefined && p.tid !== p.pid) return this.procs.get(p.pid, ts);
    return p;
  }

  private disk(dev: number): LttDisk {
    let d = this.disks.get(dev);
    if (d === undefined) {
      d = { dev, diskname: undefined, pending: new Map() };
      this.disks.set(dev, d);
    }
    return d;
  }

  // --- process-table hooks ----------------------------------------------------------------

  private onFork(ev: EventRecord, child: LttProc, parent: LttProc, cpuId: number): void {
    void cpuId;
    const pf = parent.fds;
    if (pf === undefined || pf.size === 0) return;
    const cf = this.fdsOf(child);
    for (const [fd, old] of pf) {
      cf.set(fd, { ...old });
      for (const l of this.listeners) l.createFd?.(ev, fd, child, ev.ts);
    }
  }

  private onExec(ev: EventRecord, proc: LttProc): void {
    const fds = proc.fds;
    if (fds === undefined) return;
    const gone: number[] = [];
    for (const [fd, f] of fds) if (f.cloexec) gone.push(fd);
    for (const fd of gone) {
      for (const l of this.listeners) l.closeFd?.(ev, fd, proc, ev.ts);
      fds.delete(fd);
    }
  }

  private onStatedumpThread(ev: EventRecord, proc: LttProc, parent: LttProc): void {
    const fds = proc.fds;
    if (fds !== undefined && fds.size > 0) {
      const pf = this.fdsOf(parent);
      for (const [fd, f] of fds) {
        const have = pf.get(fd);
        if (have === undefined) pf.set(fd, f);
        else if (have.filename === '') have.filename = f.filename;
      }
      fds.clear();
    }
    for (const l of this.listeners) l.createParentProc?.(ev, proc, parent);
  }

  // --- syscalls ------------------------------------------------------------------------------

  private readonly entryFields = new Map<number, Record<string, FieldLocation | undefined>>();

  private entryF(ev: EventRecord): Record<string, FieldLocation | undefined> {
    let r = this.entryFields.get(ev.classKey);
    if (r === undefined) {
      r = fields(
        { trace: ev.stream.trace, streamClass: ev.stream.streamClass, eventClass: ev.eventClass, name: '' },
        'filename',
        'flags',
        'family',
        'fildes',
        'oldfd',
        'newfd',
        'cmd',
        'fd',
        'ret',
      );
      this.entryFields.set(ev.classKey, r);
    }
    return r;
  }

  private onSysEntry(ev: EventRecord, name: string, proc: LttProc, cpuId: number): void {
    // The process table fixed the pid already (`_fix_context_pid`: LttProcs).
    if (!IO_SYSCALLS.has(name)) return;
    const F = this.entryF(ev);
    const ts = ev.ts;
    const thread = this.procs.model.threads.get(proc.tid);
    if (OPEN.has(name)) {
      if (DISK_OPEN.has(name)) {
        const rq = new IoRequest('open', ts, undefined, proc.tid, IoOp.Open, thread);
        rq.syscallName = name;
        rq.filename = F['filename'] === undefined ? '' : toPyStr(F['filename'].get(ev));
        rq.fdType = FdType.Disk;
        rq.cloexec = (num(F['flags'], ev) & O_CLOEXEC) === O_CLOEXEC;
        proc.ioRq = rq;
      } else if (name === 'socket') {
        const rq = new IoRequest('open', ts, undefined, proc.tid, IoOp.Open, thread);
        rq.syscallName = 'socket';
        rq.filename = 'socket';
        rq.fdType = FdType.Net;
        rq.family = opt(F['family'], ev);
        proc.ioRq = rq;
      } else {
        this.trackDup(ev, name, proc, cpuId, F, thread);
      }
    } else if (name === 'close') {
      const rq = new IoRequest('close', ts, undefined, proc.tid, IoOp.Close, thread);
      rq.syscallName = 'close';
      rq.fd = opt(F['fd'], ev);
      proc.ioRq = rq;
    } else if (READ.has(name) || WRITE.has(name)) {
      // lttng-analyses reads the requested size (count, vlen, len, size) but its request
      // classes drop it: the size of a read or write is what the call returned.
      const rq = new IoRequest(
        'rw',
        ts,
        undefined,
        proc.tid,
        READ.has(name) ? IoOp.Read : IoOp.Write,
        thread,
      );
      rq.syscallName = name;
      rq.fd = opt(F['fd'], ev);
      proc.ioRq = rq;
    } else if (SYNC.has(name)) {
      const rq = new IoRequest('sync', ts, undefined, proc.tid, IoOp.Sync, thread);
      rq.syscallName = name;
      if (name !== 'sync') rq.fd = opt(F['fd'], ev);
      proc.ioRq = rq;
    }
  }

  private trackDup(
    ev: EventRecord,
    name: string,
    proc: LttProc,
    cpuId: number,
    F: Record<string, FieldLocation | undefined>,
    thread: Thread | undefined,
  ): void {
    const parent = this.parentOf(proc, ev.ts);
    const fds = this.fdsOf(parent);
    let oldfd: number | undefined;
    if (name === 'dup') oldfd = opt(F['fildes'], ev);
    else if (name === 'dup2' || name === 'dup3') {
      oldfd = opt(F['oldfd'], ev);
      const newfd = opt(F['newfd'], ev);
      if (newfd !== undefined && fds.has(newfd)) this.closeFd(ev, parent, newfd, ev.ts, cpuId);
    } else {
      // fcntl: only F_DUPFD (0) opens an fd.
      if (num(F['cmd'], ev) !== 0) return;
      oldfd = opt(F['fd'], ev);
    }
    const old = oldfd === undefined ? undefined : fds.get(oldfd);
    const rq = new IoRequest('open', ev.ts, undefined, proc.tid, IoOp.Open, thread);
    rq.syscallName = name;
    rq.filename = old === undefined ? 'unknown' : old.filename;
    rq.fdType = old === undefined ? FdType.Unknown : old.fdType;
    if (name === 'dup3') rq.cloexec = (num(F['flags'], ev) & O_CLOEXEC) === O_CLOEXEC;
    proc.ioRq = rq;
  }

  private onSysExit(ev: EventRecord, proc: LttProc, cpuId: number): void {
    if (!IO_SYSCALLS.has(proc.sysName!)) return;
    const rq = proc.ioRq as IoRequest | undefined;
    if (rq === undefined) return;
    const ret = readNum(this.entryF(ev)['ret'], ev);
    rq.endTs = ev.ts;
    rq.duration = ev.ts - rq.beginTs;
    if (ret < 0) rq.errno = -ret;
    if (rq.kind === 'open' && ret >= 0) rq.fd = ret;
    if (rq.kind === 'rw' && ret >= 0) {
      rq.returnedSize = ret;
      if (rq.size === undefined) rq.size = ret;
    }
    if (ret >= 0) this.createFd(ev, proc, rq);
    const parent = this.parentOf(proc, ev.ts);
    for (const l of this.listeners) l.ioRqExit?.(ev, rq, proc, parent);
    if (rq.kind === 'close' && ret === 0 && rq.fd !== undefined)
      this.closeFd(ev, proc, rq.fd, rq.endTs, cpuId);
  }

  private createFd(ev: EventRecord, proc: LttProc, rq: IoRequest): void {
    const parent = this.parentOf(proc, ev.ts);
    const fds = this.fdsOf(parent);
    if (rq.fd === undefined || fds.has(rq.fd)) return;
    const fd: LttFd =
      rq.kind === 'open'
        ? { fd: rq.fd, filename: rq.filename, fdType: rq.fdType, cloexec: rq.cloexec, family: rq.family }
        : { fd: rq.fd, filename: 'unknown', fdType: FdType.Unknown, cloexec: false, family: undefined };
    fds.set(rq.fd, fd);
    for (const l of this.listeners) l.createFd?.(ev, rq.fd, parent, rq.endTs!);
  }

  private closeFd(ev: EventRecord, proc: LttProc, fd: number, ts: number, cpuId: number): void {
    void cpuId;
    const parent = this.parentOf(proc, ev.ts);
    for (const l of this.listeners) l.closeFd?.(ev, fd, parent, ts);
    parent.fds?.delete(fd);
  }

  // --- other events ------------------------------------------------------------------------

  bind(info: ClassInfo): EventFn | undefined {
    switch (info.name) {
      case 'syscall_entry_connect':
        return this.bindConnect(info);
      case 'lttng_statedump_file_descriptor': {
        const F = fields(info, 'pid', 'fd', 'filename', 'flags');
        if (F['pid'] === undefined) return undefined;
        return (ev) => {
          const pid = num(F['pid'], ev);
          const fd = num(F['fd'], ev);
          const filename = F['filename'] === undefined ? '' : toPyStr(F['filename'].get(ev));
          const cloexec = (num(F['flags'], ev) & O_CLOEXEC) === O_CLOEXEC;
          let p = this.procs.procs.get(pid);
          if (p === undefined) p = this.procs.make(pid, pid, '', undefined, ev.ts);
          const fds = this.fdsOf(p);
          const have = fds.get(fd);
          if (have === undefined) {
            fds.set(fd, { fd, filename, fdType: FdType.Unknown, cloexec, family: undefined });
            for (const l of this.listeners) l.createFd?.(ev, fd, p, ev.ts);
          } else {
            have.filename = filename;
            for (const l of this.listeners) l.updateFd?.(ev, fd, p, ev.ts);
          }
        };
      }
      case 'lttng_statedump_block_device': {
        const F = fields(info, 'dev', 'diskname');
        return (ev) => {
          const dev = num(F['dev'], ev);
          const name = F['diskname'] === undefined ? '' : toPyStr(F['diskname'].get(ev));
          const d = this.disks.get(dev);
          if (d === undefined) this.disks.set(dev, { dev, diskname: name, pending: new Map() });
          else if (d.diskname === undefined) d.diskname = name;
          for (const l of this.listeners) l.statedumpBlock?.(ev, dev, name);
        };
      }
      case 'block_bio_remap': {
        const F = fields(info, 'dev', 'sector', 'old_dev', 'old_sector');
        return (ev) => {
          const dev = num(F['dev'], ev);
          const sector = num(F['sector'], ev);
          const oldDev = num(F['old_dev'], ev);
          const oldSector = num(F['old_sector'], ev);
          for (const r of this.remaps) {
            if (r.dev === oldDev && r.sector === oldSector) {
              r.dev = dev;
              r.sector = sector;
              return;
            }
          }
          this.remaps.push({ dev, sector, oldDev, oldSector });
        };
      }
      case 'block_bio_backmerge': {
        const F = fields(info, 'dev', 'sector');
        return (ev) => {
          const dev = num(F['dev'], ev);
          const sector = num(F['sector'], ev);
          // Python's list.remove() inside a for loop over the list skips the next element.
          const rs = this.remaps;
          for (let i = 0; i < rs.length; i++) {
            const r = rs[i]!;
            if (r.dev === dev && r.sector === sector) rs.splice(rs.indexOf(r), 1);
          }
        };
      }
      case 'block_rq_issue': {
        const F = fields(info, 'dev', 'sector', 'nr_sector', 'tid', 'rwbs');
        return (ev) => {
          let dev = num(F['dev'], ev);
          const sector = num(F['sector'], ev);
          const nr = num(F['nr_sector'], ev);
          if (nr === 0) return;
          const tid = num(F['tid'], ev);
          const op = num(F['rwbs'], ev) % 2 === 0 ? IoOp.Read : IoOp.Write;
          const rq = new IoRequest('block', ev.ts, nr * 512, tid, op, this.procs.model.threads.get(tid));
          rq.dev = dev;
          rq.sector = sector;
          rq.nrSector = nr;
          for (const r of this.remaps) {
            if (r.dev === dev && r.sector === sector) {
              dev = r.oldDev;
              break;
            }
          }
          this.disk(dev).pending.set(sector, rq);
        };
      }
      case 'block_rq_complete': {
        const F = fields(info, 'dev', 'sector', 'nr_sector');
        return (ev) => {
          let dev = num(F['dev'], ev);
          const sector = num(F['sector'], ev);
          const nr = num(F['nr_sector'], ev);
          if (nr === 0) return;
          const rs = this.remaps;
          for (let i = 0; i < rs.length; i++) {
            const r = rs[i]!;
            if (r.dev === dev && r.sector === sector) {
              dev = r.oldDev;
              rs.splice(i, 1);
              break;
            }
          }
          const disk = this.disk(dev);
          const rq = disk.pending.get(sector);
          if (rq === undefined || rq.nrSector !== nr) return;
          rq.endTs = ev.ts;
          rq.duration = ev.ts - rq.beginTs;
          const proc = this.procs.procs.get(rq.tid);
          for (const l of this.listeners) l.blockRqComplete?.(ev, rq, proc, disk);
          disk.pending.delete(sector);
        };
      }
      case 'net_dev_xmit':
        return this.bindXmit(info);
      case 'netif_receive_skb':
      case 'net_if_receive_skb': {
        const F = fields(info, 'name', 'len');
        return (ev) => {
          const iface = F['name'] === undefined ? '' : toPyStr(F['name'].get(ev));
          const len = num(F['len'], ev);
          for (const l of this.listeners) l.netifReceiveSkb?.(ev, iface, len);
        };
      }
      default:
        return undefined;
    }
  }

  private bindConnect(info: ClassInfo): EventFn {
    const F = fields(info, 'cpu_id', 'family', 'fd', 'v4addr', 'dport');
    return (ev) => {
      const cpuId = num(F['cpu_id'], ev);
      const tid = this.procs.currentTid(cpuId);
      if (tid === undefined) return;
      const proc = this.procs.get(tid, ev.ts);
      const parent = this.parentOf(proc, ev.ts);
      if (F['family'] === undefined || num(F['family'], ev) !== AF_INET) return;
      const fd = num(F['fd'], ev);
      const f = parent.fds?.get(fd);
      if (f !== undefined) f.filename = formatIpv4(F['v4addr']?.get(ev), opt(F['dport'], ev));
      // lttng-analyses passes the thread itself as the fd owner here.
      for (const l of this.listeners) l.updateFd?.(ev, fd, proc, ev.ts);
    };
  }

  private bindXmit(info: ClassInfo): EventFn {
    const F = fields(info, 'name', 'len', 'cpu_id');
    return (ev) => {
      const iface = F['name'] === undefined ? '' : toPyStr(F['name'].get(ev));
      const len = num(F['len'], ev);
      for (const l of this.listeners) l.netDevXmit?.(ev, iface, len);
      const tid = this.procs.currentTid(num(F['cpu_id'], ev));
      if (tid === undefined) return;
      let proc = this.procs.get(tid, ev.ts);
      const name = proc.sysName;
      if (name === undefined) return;
      const rq = proc.ioRq as IoRequest | undefined;
      if (proc.pid !== undefined && proc.pid !== proc.tid) proc = this.procs.get(proc.pid, ev.ts);
      if (WRITE.has(name) && rq !== undefined && rq.fd !== undefined) {
        const f = proc.fds?.get(rq.fd);
        if (f !== undefined && f.fdType === FdType.Unknown) f.fdType = FdType.MaybeNet;
      }
    };
  }
}
