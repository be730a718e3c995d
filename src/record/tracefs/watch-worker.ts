/**
 * The watcher's worker thread (watcher.ts starts it): it polls the watcher's tracefs instance,
 * reads /proc for each watched event under the rules of watch-logic.ts, and posts the results;
 * with the messages and options that cross between the two threads.
 */
import type { MessagePort } from 'node:worker_threads';
import type { EventHeaderLayout, PageHeaderLayout } from '../format.js';
import type { NsSnapshotLike } from '../thread-state.js';
import type { ChangeKind, MemReader, PendingItem, ProcIo, StrReason, WatchLogic } from './watch-logic.js';
import type * as WorkerThreadsNs from 'node:worker_threads';
import type * as FsNs from 'node:fs';
import type * as OsNs from 'node:os';

type WorkerThreadsModule = typeof WorkerThreadsNs;
type FsModule = typeof FsNs;
type OsModule = typeof OsNs;
export type WatchKind = 'newtask' | 'nschange' | 'str' | 'sysexit' | 'exec' | 'exit';

export interface WatchSpec {
  /** ftrace event id (the same in every instance). */
  id: number;
  kind: WatchKind;
  /** newtask: offset of the `pid` field (the child). exec: of `pid` (the tid after exec). */
  pidOffset?: number;
  /** exec: offset of `old_pid` (the tid before exec). */
  oldPidOffset?: number;
  /** str: offsets of the 8-byte pointer arguments to copy. */
  ptrOffsets?: number[];
  /** str: offsets of every 8-byte argument (compared with /proc/<tid>/syscall). */
  argOffsets?: number[];
  /** str: offset of `__syscall_nr`. */
  nrOffset?: number;
  /** str: the syscall may replace the address space (execve): the read waits for its exit. */
  untilExit?: boolean;
}

export interface NsSnapshot extends NsSnapshotLike {
  kind: 'ns';
  tid: number;
  ts: number;
  /** Which values hold for the event (SNAP_* bits of watch-logic.ts); ids always hold. */
  mask: number;
}

export interface StrCapture {
  kind: 'str';
  tid: number;
  ts: number;
  ptr: number;
  /** The string the syscall saw (without NUL) when `reason` is undefined. */
  bytes: Uint8Array;
  /** Why there is no string. */
  reason: StrReason | undefined;
}

export interface WorkerStats {
  /** String events handled, and how many gave a string. */
  strEvents: number;
  strOk: number;
  /** Events of the watcher instance lost (ring buffer full). */
  lost: number;
  /** Events too old when the worker got to them. */
  late: number;
}

export type Msg = {
  results: Array<NsSnapshot | StrCapture>;
  progress: number;
  stats: WorkerStats;
};

export interface WorkerInit {
  cpuFiles: string[];
  /** per_cpu/cpuN/stats of the watcher instance: lost events there void pending reads. */
  statFiles: string[];
  pageSize: number;
  page: PageHeaderLayout;
  header: EventHeaderLayout;
  baseHi: number;
  specs: WatchSpec[];
  port: MessagePort;
  /** Int32[0]: stop requested. */
  shared: SharedArrayBuffer;
  pollMs: number;
  /** Events older than this when the worker gets to them are not looked up. */
  maxAgeNs: number;
  /** A task's start (ns since boot) minus this is in relative mono ns. */
  startShift: number;
  startSlackNs: number;
  /** Ticks per second of /proc/<tid>/stat times. */
  clkTck: number;
}

/**
 * The worker body. Self-contained (it is serialised with toString and run with `eval`): it
 * imports nothing (built-in modules through process.getBuiltinModule, which bundlers leave
 * alone) and re-implements the small page walk it needs.
 */
export function workerMain(L: WatchLogic): void {
  const wt = process.getBuiltinModule('node:worker_threads') as WorkerThreadsModule;
  const fsm = process.getBuiltinModule('node:fs') as FsModule;
  const osm = process.getBuiltinModule('node:os') as OsModule;
  const d = wt.workerData as WorkerInit;
  try {
    // The watcher must run soon after each event, even on a busy machine: the highest nice
    // priority for this thread only (setpriority on a thread id affects that thread).
    osm.setPriority(0, -20);
  } catch {
    // not root: keep the default
  }
  const stop = new Int32Array(d.shared, 0, 1);
  const specs = new Map<number, WatchSpec>();
  for (const s of d.specs) specs.set(s.id, s);
  const TWO32 = 4294967296;
  const TWO27 = 134217728;
  const base = BigInt(d.baseHi) << 32n;
  const hrNow = (): number => Number(process.hrtime.bigint() - base);
  const NS = ['pid', 'user', 'net', 'mnt', 'uts', 'ipc', 'cgroup', 'time'];
  const stats: WorkerStats = { strEvents: 0, strOk: 0, lost: 0, late: 0 };
  // Commits of the last ~ms may not be visible yet when a buffer is read.
  const COMMIT_MARGIN_NS = 1_000_000;
  // How long an execve's read waits for the call's exit (the converter waits for it).
  const UNTIL_EXIT_NS = 200_000_000;

  // Small /proc files, read with one open/read/close into a reused buffer.
  const fileBuf = Buffer.alloc(8192);
  const readSmall = (p: string): string | undefined => {
    let fd: number;
    try {
      fd = fsm.openSync(p, 'r');
    } catch {
      return undefined;
    }
    try {
      const n = fsm.readSync(fd, fileBuf, 0, fileBuf.length, 0);
      return fileBuf.toString('latin1', 0, n);
    } catch {
      return undefined;
    } finally {
      fsm.closeSync(fd);
    }
  };
  const strBuf = Buffer.alloc(4096);
  const io: ProcIo = {
    startNs(tid) {
      const st = readSmall(`/proc/${tid}/stat`);
      if (st === undefined) return undefined;
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
      return ((Number(rest[19] ?? 0) || 0) * 1e9) / d.clkTck - d.startShift;
    },
    syscall(tid) {
      return readSmall(`/proc/${tid}/syscall`);
    },
    mem(tid): MemReader | undefined {
      let fd: number;
      try {
        fd = fsm.openSync(`/proc/${tid}/mem`, 'r');
      } catch {
        return undefined;
      }
      return {
        readString(ptr) {
          // PATH_MAX with its NUL; never across a page boundary in one read (the next page
          // may be unmapped).
          let len = 0;
          let pos = ptr;
          while (len < 4096) {
            const want = Math.min(256, 4096 - (pos % 4096), 4096 - len);
            let n = 0;
            try {
              n = fsm.readSync(fd, strBuf, len, want, pos);
            } catch {
              return undefined;
            }
            if (n <= 0) return undefined;
            const z = strBuf.subarray(len, len + n).indexOf(0);
            if (z >= 0) return Uint8Array.from(strBuf.subarray(0, len + z));
            len += n;
            pos += n;
          }
          return undefined; // no NUL within PATH_MAX: not what the syscall took
        },
        close() {
          fsm.closeSync(fd);
        },
      };
    },
    now: hrNow,
  };

  const linkInode = (p: string): number => {
    try {
      const m = /\[(\d+)\]$/.exec(fsm.readlinkSync(p));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  const SNAP_ALL_BITS = (1 << 10) - 1;
  /** /proc/<tid> now, if it is the task of the event at `ts` throughout the reads. */
  const snapshot = (tid: number, ts: number): { snap: NsSnapshot; t2: number } | undefined => {
    const st0 = io.startNs(tid);
    if (st0 === undefined || st0 > ts + d.startSlackNs) return undefined;
    const status = readSmall(`/proc/${tid}/status`);
    if (status === undefined) return undefined;
    const get = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    const ids = (k: string): number[] =>
      get(k)
        .trim()
        .split(/\s+/)
        .filter((x) => x.length > 0)
        .map(Number);
    const snap: NsSnapshot = {
      kind: 'ns',
      tid,
      ts,
      ns: NS.map((t) => linkInode(`/proc/${tid}/ns/${t}`)),
      pidForChildren: linkInode(`/proc/${tid}/ns/pid_for_children`),
      timeForChildren: linkInode(`/proc/${tid}/ns/time_for_children`),
      nsTids: ids('NSpid'),
      nsPids: ids('NStgid'),
      pid: Number(get('Tgid')),
      mask: SNAP_ALL_BITS,
    };
    if (io.startNs(tid) !== st0) return undefined;
    return { snap, t2: hrNow() };
  };

  const strPending = new L.Pending<StrCapture[]>(200_000_000);
  const nsPending = new L.Pending<NsSnapshot>(200_000_000);
  const note = (tid: number, ts: number, kind: ChangeKind): void => {
    strPending.note(tid, ts, kind);
    nsPending.note(tid, ts, kind);
  };
  const emitStr = (items: Array<PendingItem<StrCapture[]>>, out: Array<NsSnapshot | StrCapture>): void => {
    for (const p of items) {
      for (const c of p.value) {
        if (p.rejected !== undefined) {
          c.reason = p.rejected;
          c.bytes = new Uint8Array(0);
        } else stats.strOk++;
        out.push(c);
      }
    }
  };
  const emitNs = (items: Array<PendingItem<NsSnapshot>>, out: Array<NsSnapshot | StrCapture>): void => {
    for (const p of items) {
      p.value.mask = p.mask;
      out.push(p.value);
    }
  };

  const fds = d.cpuFiles.map((f) => fsm.openSync(f, fsm.constants.O_RDONLY | fsm.constants.O_NONBLOCK));
  const pg = d.page;
  const hd = d.header;
  // Pages read in one pass, all CPUs; their events are then handled in time order.
  let pages: Buffer[] = [];
  const evTs: number[] = [];
  const evPage: number[] = [];
  const evOff: number[] = [];
  const order: number[] = [];
  const readPages = (): void => {
    for (const fd of fds) {
      while (true) {
        const buf = Buffer.allocUnsafe(d.pageSize);
        let n = 0;
        try {
          n = fsm.readSync(fd, buf, 0, d.pageSize, null);
        } catch {
          break; // EAGAIN
        }
        if (n <= 0) break;
        if (n < d.pageSize) buf.fill(0, n);
        pages.push(buf);
      }
    }
  };
  const indexEvents = (): void => {
    evTs.length = evPage.length = evOff.length = 0;
    for (let p = 0; p < pages.length; p++) {
      const buf = pages[p]!;
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      let ts =
        (view.getUint32(pg.timestampOffset + 4, true) - d.baseHi) * TWO32 +
        view.getUint32(pg.timestampOffset, true);
      const size = view.getUint32(pg.commitOffset, true) & 0x3fffffff;
      let off = pg.dataOffset;
      const end = Math.min(pg.dataOffset + size, d.pageSize);
      while (off + 4 <= end) {
        const h = view.getUint32(off, true);
        const tl = h & 31;
        const delta = h >>> 5;
        let s: number;
        if (tl === 0) {
          const len = (view.getUint32(off + 4, true) - 4 + 3) & ~3;
          ts += delta;
          s = off + 8;
          off = s + len;
        } else if (tl <= hd.dataMaxTypeLen) {
          ts += delta;
          s = off + 4;
          off = s + tl * 4;
        } else if (tl === hd.padding) {
          if (delta === 0) break;
          ts += delta;
          off += 4 + view.getUint32(off + 4, true);
          continue;
        } else if (tl === hd.timeExtend) {
          ts += view.getUint32(off + 4, true) * TWO27 + delta;
          off += 8;
          continue;
        } else if (tl === hd.timeStamp) {
          const a0 = view.getUint32(off + 4, true);
          ts = (Math.floor(a0 / 32) - d.baseHi) * TWO32 + (((a0 % 32) * TWO27 + delta) >>> 0);
          off += 8;
          continue;
        } else break;
        if (!specs.has(view.getUint16(s, true))) continue;
        evTs.push(ts);
        evPage.push(p);
        evOff.push(s);
      }
    }
    order.length = evTs.length;
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => evTs[a]! - evTs[b]!);
  };
  // Lost events of the watcher's own buffer: an exit or exec among them could void any
  // pending read.
  let lostSeen = 0;
  const checkLost = (out: Array<NsSnapshot | StrCapture>): void => {
    let lost = 0;
    for (const f of d.statFiles) {
      const t = readSmall(f);
      if (t === undefined) continue;
      lost +=
        Number(/^overrun:\s*(\d+)/m.exec(t)?.[1] ?? 0) +
        Number(/^dropped events:\s*(\d+)/m.exec(t)?.[1] ?? 0);
    }
    if (lost !== lostSeen) {
      lostSeen = lost;
      stats.lost = lost;
      emitStr(strPending.voidAll('lost'), out);
      emitNs(nsPending.voidAll('lost'), out);
    }
  };
  const u64 = (view: DataView, at: number): [number, number] => [
    view.getUint32(at, true),
    view.getUint32(at + 4, true),
  ];
  const pass = (out: Array<NsSnapshot | StrCapture>, before: number): void => {
    pages = [];
    readPages();
    checkLost(out);
    indexEvents();
    for (const i of order) {
      const buf = pages[evPage[i]!]!;
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      const s = evOff[i]!;
      const ts = evTs[i]!;
      const spec = specs.get(view.getUint16(s, true))!;
      const tid = view.getInt32(s + 4, true);
      switch (spec.kind) {
        case 'sysexit':
        case 'exit':
          note(tid, ts, spec.kind);
          continue;
        case 'exec':
          note(view.getInt32(s + spec.pidOffset!, true), ts, 'exec');
          note(view.getInt32(s + spec.oldPidOffset!, true), ts, 'exec');
          continue;
        case 'nschange':
          note(tid, ts, 'nschange');
          break;
        default:
          break;
      }
      if (out.length >= 128) {
        // Results go out as they come: the converter may be waiting for them.
        d.port.postMessage({ results: out.splice(0), progress: -Infinity, stats } satisfies Msg);
      }
      if (spec.kind === 'newtask' || spec.kind === 'nschange') {
        if (hrNow() - ts > d.maxAgeNs) {
          stats.late++;
          continue;
        }
        const who = spec.kind === 'newtask' ? view.getInt32(s + spec.pidOffset!, true) : tid;
        const r = snapshot(who, ts);
        if (r)
          nsPending.add({
            tid: who,
            ts,
            t2: r.t2,
            value: r.snap,
            kind: 'ns',
            mask: SNAP_ALL_BITS,
            untilExit: false,
          });
        continue;
      }
      // A syscall entry with string arguments.
      stats.strEvents++;
      const ptrs = (spec.ptrOffsets ?? []).map((po) => {
        const [lo, hi] = u64(view, s + po);
        return hi * TWO32 + lo;
      });
      const caps: StrCapture[] = ptrs.map((ptr) => ({
        kind: 'str',
        tid,
        ts,
        ptr,
        bytes: new Uint8Array(0),
        reason: undefined,
      }));
      if (hrNow() - ts > d.maxAgeNs) {
        stats.late++;
        for (const c of caps) c.reason = 'late';
        out.push(...caps);
        continue;
      }
      const v = L.verifyString(
        io,
        {
          tid,
          ts,
          nr: view.getInt32(s + spec.nrOffset!, true),
          args: (spec.argOffsets ?? []).map((ao) => {
            const [lo, hi] = u64(view, s + ao);
            return L.hex64(lo, hi);
          }),
          ptrs,
        },
        d.startSlackNs,
      );
      if (!v.ok) {
        for (const c of caps) c.reason = v.reason;
        out.push(...caps);
        continue;
      }
      caps.forEach((c, k) => (c.bytes = v.strings[k]!));
      strPending.add({
        tid,
        ts,
        t2: v.t2,
        value: caps,
        kind: 'str',
        mask: 0,
        untilExit: spec.untilExit === true,
      });
    }
    pages = [];
    // Final: everything whose last check is before what this pass has surely read.
    const upTo = before - COMMIT_MARGIN_NS;
    emitStr(strPending.settle(upTo), out);
    emitNs(nsPending.settle(upTo), out);
    // An execve still blocked after this long holds the converter back no longer.
    emitStr(strPending.expire(upTo - UNTIL_EXIT_NS), out);
  };
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (true) {
    const stopping = Atomics.load(stop, 0) !== 0;
    const before = hrNow();
    const out: Array<NsSnapshot | StrCapture> = [];
    pass(out, before);
    if (stopping) {
      // Tracing is off: the trace is complete. What still waits for an exit gets none.
      emitStr(strPending.settle(Infinity), out);
      emitNs(nsPending.settle(Infinity), out);
      emitStr(strPending.expire(Infinity), out);
    }
    // Every event committed before the pass started has been handled, except reads still
    // waiting to be settled.
    const pendingFrom = Math.min(strPending.oldest(), nsPending.oldest());
    d.port.postMessage({
      results: out,
      progress: stopping ? Infinity : Math.min(before - COMMIT_MARGIN_NS, pendingFrom - 1),
      stats,
    } satisfies Msg);
    if (stopping) break;
    Atomics.wait(sleeper, 0, 0, d.pollMs);
  }
  for (const fd of fds) fsm.closeSync(fd);
  d.port.close();
}
