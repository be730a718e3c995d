/**
 * The low-latency watcher: what ftrace cannot record (namespace inodes of new tasks, the
 * strings syscalls point to) must be read from /proc while it is still true. The main
 * converter runs tens of milliseconds behind the kernel; by then a short-lived task is gone,
 * a path buffer reused, an exec'd process has another address space.
 *
 * So a second, tiny tracefs instance carries only the events that need it (task_newtask,
 * unshare/setns exits, syscall entries with string arguments), and a worker thread polls it
 * every millisecond: for each event it snapshots `/proc/<tid>` (namespaces, NSpid) or copies
 * the user string from `/proc/<tid>/mem` at once, and sends the result to the main thread,
 * which matches it with the same event of the main instance (same tid, same timestamp within
 * a microsecond or so, the two instances being written by the same tracepoint call).
 *
 * Still best effort (a task can change between the event and the watcher's read, ~1 ms),
 * but exact in every case the tests exercise. docs/record.md lists what is inferred.
 */
import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import fs from 'node:fs';
import type { EventHeaderLayout, PageHeaderLayout } from './format.js';
import { clockTicksPerSec } from './proc.js';
import type * as WorkerThreadsNs from 'node:worker_threads';
import type * as FsNs from 'node:fs';
import type * as OsNs from 'node:os';

type WorkerThreadsModule = typeof WorkerThreadsNs;
type FsModule = typeof FsNs;
type OsModule = typeof OsNs;

export type WatchKind = 'newtask' | 'nschange' | 'str' | 'exec' | 'exit';

export interface WatchSpec {
  /** ftrace event id (the same in every instance). */
  id: number;
  kind: WatchKind;
  /** newtask: offset of the `pid` field (the child). */
  pidOffset?: number;
  /** str: offsets of the 8-byte pointer arguments. */
  ptrOffsets?: number[];
}

export interface NsSnapshot {
  kind: 'ns';
  tid: number;
  ts: number;
  /** Inodes in NS_TYPES order (0 when unreadable). */
  ns: number[];
  pidForChildren: number;
  timeForChildren: number;
  nsTids: number[];
  nsPids: number[];
  pid: number;
  ppid: number;
  comm: string;
}

export interface StrCapture {
  kind: 'str';
  tid: number;
  ts: number;
  ptr: number;
  bytes: Uint8Array;
  ok: boolean;
}

type Msg = {
  results: Array<NsSnapshot | StrCapture>;
  progress: number;
  stats: { reads: number; fail: number; late: number; lost: number };
};

interface WorkerInit {
  cpuFiles: string[];
  /** per_cpu/cpuN/stats of the watcher instance: lost events there invalidate the fd cache. */
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
 * The worker body. Self-contained (it is serialised with toString and run with `eval`), so it
 * imports nothing and re-implements the small page walk it needs.
 */
function workerMain(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wt = require('node:worker_threads') as WorkerThreadsModule;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fsm = require('node:fs') as FsModule;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const osm = require('node:os') as OsModule;
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
  const stats = { reads: 0, fail: 0, late: 0, lost: 0 };
  // The task at /proc/<tid> now is the one of an event at `ts` only if it started before: a
  // later task may have got the tid after the first one was freed.
  const sameTask = (tid: number, ts: number): boolean => {
    try {
      const st = fsm.readFileSync(`/proc/${tid}/stat`, 'latin1');
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const startNs = ((Number(rest[19] ?? 0) || 0) * 1e9) / d.clkTck;
      return startNs - d.startShift <= ts + d.startSlackNs;
    } catch {
      return false;
    }
  };
  const rl = (p: string): number => {
    try {
      const m = /\[(\d+)\]$/.exec(fsm.readlinkSync(p));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  const snapshot = (tid: number, ts: number): NsSnapshot | undefined => {
    let status: string;
    try {
      status = fsm.readFileSync(`/proc/${tid}/status`, 'latin1');
    } catch {
      return undefined;
    }
    if (!sameTask(tid, ts)) return undefined;
    const get = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    const ids = (k: string): number[] =>
      get(k)
        .trim()
        .split(/\s+/)
        .filter((x) => x.length > 0)
        .map(Number);
    return {
      kind: 'ns',
      tid,
      ts,
      ns: NS.map((t) => rl(`/proc/${tid}/ns/${t}`)),
      pidForChildren: rl(`/proc/${tid}/ns/pid_for_children`),
      timeForChildren: rl(`/proc/${tid}/ns/time_for_children`),
      nsTids: ids('NSpid'),
      nsPids: ids('NStgid'),
      pid: Number(get('Tgid')),
      ppid: Number(get('PPid')),
      comm: get('Name'),
    };
  };
  // /proc/<tid>/mem fds, kept for the life of the task (closed on its exec and free, which the
  // watcher also traces, in order: a cached fd never belongs to a later task with the same tid).
  const memFds = new Map<number, number>();
  const dropFd = (tid: number): void => {
    const fd = memFds.get(tid);
    if (fd === undefined) return;
    if (fd >= 0) fsm.closeSync(fd);
    memFds.delete(tid);
  };
  const strBuf = Buffer.alloc(4096);
  const copyStr = (tid: number, ptr: number, ts: number): { bytes: Uint8Array; ok: boolean } => {
    stats.reads++;
    let fd = memFds.get(tid);
    if (fd === undefined) {
      try {
        fd = fsm.openSync(`/proc/${tid}/mem`, 'r');
        if (!sameTask(tid, ts)) {
          fsm.closeSync(fd);
          fd = -1;
        }
      } catch {
        fd = -1;
      }
      if (memFds.size >= 1024) {
        for (const f of memFds.values()) if (f >= 0) fsm.closeSync(f);
        memFds.clear();
      }
      memFds.set(tid, fd);
    }
    if (fd < 0 || ptr === 0) {
      stats.fail++;
      return { bytes: new Uint8Array(0), ok: false };
    }
    let len = 0;
    let pos = ptr;
    while (len < 4095) {
      const want = Math.min(256, 4096 - (pos % 4096), 4095 - len);
      let n = 0;
      try {
        n = fsm.readSync(fd, strBuf, len, want, pos);
      } catch {
        n = 0;
      }
      if (n <= 0) break;
      const z = strBuf.indexOf(0, len);
      if (z >= 0 && z < len + n) return { bytes: Uint8Array.prototype.slice.call(strBuf, 0, z), ok: true };
      len += n;
      pos += n;
    }
    if (len === 0) {
      stats.fail++;
      return { bytes: new Uint8Array(0), ok: false };
    }
    return { bytes: Uint8Array.prototype.slice.call(strBuf, 0, len), ok: true };
  };

  const fds = d.cpuFiles.map((f) => fsm.openSync(f, fsm.constants.O_RDONLY | fsm.constants.O_NONBLOCK));
  const pg = d.page;
  const hd = d.header;
  // Pages read in one pass, all CPUs; their events are then handled in time order, so that a
  // task's free (on one CPU) is seen before a later task with the same tid (on another CPU).
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
  // If the watcher's own buffer lost events, a free or exec may be among them: cached
  // /proc/<tid>/mem fds can no longer be trusted to belong to the current task of that tid.
  let lostSeen = 0;
  const checkLost = (): void => {
    let lost = 0;
    for (const f of d.statFiles) {
      try {
        const t = fsm.readFileSync(f, 'latin1');
        lost +=
          Number(/^overrun:\s*(\d+)/m.exec(t)?.[1] ?? 0) +
          Number(/^dropped events:\s*(\d+)/m.exec(t)?.[1] ?? 0);
      } catch {
        // ignore
      }
    }
    if (lost !== lostSeen) {
      lostSeen = lost;
      stats.lost = lost;
      for (const f of memFds.values()) if (f >= 0) fsm.closeSync(f);
      memFds.clear();
    }
  };
  const pass = (out: Array<NsSnapshot | StrCapture>): void => {
    const now = hrNow();
    pages = [];
    readPages();
    checkLost();
    indexEvents();
    for (const i of order) {
      const buf = pages[evPage[i]!]!;
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      const s = evOff[i]!;
      const ts = evTs[i]!;
      const spec = specs.get(view.getUint16(s, true))!;
      const tid = view.getInt32(s + 4, true);
      // A task that execs or exits no longer has the address space a cached fd points to, and
      // its tid may be reused after it exits. (sched_process_free would be later, but it fires
      // in whatever context frees the task, which may be one we do not trace: exit is in the
      // task's own.)
      if (spec.kind === 'exec' || spec.kind === 'exit') {
        dropFd(tid);
        continue;
      }
      if (now - ts > d.maxAgeNs) {
        stats.late++;
        continue;
      }
      if (out.length >= 128) {
        // Results go out as they come: the converter may be waiting for them.
        d.port.postMessage({ results: out.splice(0), progress: -Infinity, stats } satisfies Msg);
      }
      if (spec.kind === 'newtask') {
        const snap = snapshot(view.getInt32(s + spec.pidOffset!, true), ts);
        if (snap) out.push(snap);
      } else if (spec.kind === 'nschange') {
        const snap = snapshot(tid, ts);
        if (snap) out.push(snap);
      } else {
        for (const po of spec.ptrOffsets ?? []) {
          const ptr = view.getUint32(s + po + 4, true) * TWO32 + view.getUint32(s + po, true);
          const r = copyStr(tid, ptr, ts);
          out.push({ kind: 'str', tid, ts, ptr, bytes: r.bytes, ok: r.ok });
        }
      }
    }
    pages = [];
  };
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (true) {
    const stopping = Atomics.load(stop, 0) !== 0;
    const before = hrNow();
    const out: Array<NsSnapshot | StrCapture> = [];
    pass(out);
    // Everything committed before the pass started has been read (minus commit latency).
    d.port.postMessage({
      results: out,
      progress: stopping ? Infinity : before - 1_000_000,
      stats,
    } satisfies Msg);
    if (stopping) break;
    Atomics.wait(sleeper, 0, 0, d.pollMs);
  }
  for (const fd of fds) fsm.closeSync(fd);
  for (const f of memFds.values()) if (f >= 0) fsm.closeSync(f);
  d.port.close();
}

export interface WatcherOptions {
  cpuFiles: string[];
  statFiles: string[];
  pageSize: number;
  page: PageHeaderLayout;
  header: EventHeaderLayout;
  baseHi: number;
  specs: WatchSpec[];
  pollMs?: number;
  maxAgeNs?: number;
  startShift: number;
  startSlackNs: number;
  /** Called if the worker dies (the recorder then goes on without it). */
  onError?: (err: unknown) => void;
}

/** Timestamps of the same tracepoint hit in two instances differ by the two clock reads. */
const MATCH_WINDOW_NS = 200_000;

export class Watcher {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly shared = new SharedArrayBuffer(8);
  /** Everything known up to this time (relative ns) has been received. */
  progress = -Infinity;
  private readonly ns = new Map<number, NsSnapshot[]>();
  private readonly strs = new Map<number, StrCapture[]>();
  stats = { reads: 0, fail: 0, late: 0, lost: 0, matched: 0, unmatched: 0 };
  private exited = false;
  private error: unknown;

  constructor(o: WatcherOptions) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const init: WorkerInit = {
      cpuFiles: o.cpuFiles,
      statFiles: o.statFiles,
      pageSize: o.pageSize,
      page: o.page,
      header: o.header,
      baseHi: o.baseHi,
      specs: o.specs,
      port: port2,
      shared: this.shared,
      pollMs: o.pollMs ?? 2,
      maxAgeNs: o.maxAgeNs ?? 2_000_000_000,
      startShift: o.startShift,
      startSlackNs: o.startSlackNs,
      clkTck: clockTicksPerSec(),
    };
    this.worker = new Worker(`(${workerMain.toString()})()`, {
      eval: true,
      workerData: init,
      transferList: [port2],
    });
    this.worker.on('error', (e) => {
      this.error = e;
      this.exited = true;
      o.onError?.(e);
    });
    this.worker.on('exit', () => {
      this.exited = true;
    });
  }

  /**
   * Pulls every pending message (synchronously) and returns the time up to which every
   * watched event has been handled: the converter waits for it.
   */
  drain(): number {
    this.receive();
    if (this.exited) this.progress = Infinity;
    // A worker that stopped making progress (starved for seconds) must not stall the converter.
    if (Date.now() - this.progressAt > 3000) return Infinity;
    return this.progress;
  }

  private progressAt = Date.now();

  private receive(): void {
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const msg = m.message as Msg;
      for (const r of msg.results) {
        const map = r.kind === 'ns' ? this.ns : this.strs;
        let l = map.get(r.tid);
        if (!l) map.set(r.tid, (l = []));
        (l as Array<typeof r>).push(r);
      }
      if (msg.progress > this.progress) {
        this.progress = msg.progress;
        this.progressAt = Date.now();
      }
      this.stats.reads = msg.stats.reads;
      this.stats.fail = msg.stats.fail;
      this.stats.late = msg.stats.late;
      this.stats.lost = msg.stats.lost;
    }
  }

  get failed(): unknown {
    return this.error;
  }

  private take<T extends { ts: number }>(
    map: Map<number, T[]>,
    tid: number,
    ts: number,
    ok: (x: T) => boolean,
  ): T | undefined {
    const l = map.get(tid);
    if (!l) return undefined;
    // Drop what is too old to match anything from now on (events come in time order per tid).
    let i = 0;
    while (i < l.length && l[i]!.ts < ts - MATCH_WINDOW_NS) i++;
    if (i > 0) l.splice(0, i);
    // The same tracepoint hit gives (almost) the same timestamp in both instances: take the
    // closest result, not the first in the window (a task's earlier syscall may be close too).
    let best = -1;
    let bestD = Infinity;
    for (let k = 0; k < l.length; k++) {
      const x = l[k]!;
      if (x.ts > ts + MATCH_WINDOW_NS) break;
      const dist = Math.abs(x.ts - ts);
      if (ok(x) && dist < bestD) {
        best = k;
        bestD = dist;
      }
    }
    if (best < 0) return undefined;
    const x = l[best]!;
    l.splice(best, 1);
    if (l.length === 0) map.delete(tid);
    return x;
  }

  /** The /proc snapshot taken for an event of `tid` at `ts` (child of a newtask, or unshare/setns). */
  snapshot(tid: number, ts: number): NsSnapshot | undefined {
    const r = this.take(this.ns, tid, ts, () => true);
    if (r) this.stats.matched++;
    else this.stats.unmatched++;
    return r;
  }

  /** The string the syscall of `tid` at `ts` pointed to at `ptr`. */
  string(tid: number, ts: number, ptr: number): StrCapture | undefined {
    const r = this.take(this.strs, tid, ts, (x) => x.ptr === ptr);
    if (r) this.stats.matched++;
    else this.stats.unmatched++;
    return r;
  }

  /** Forgets results older than `ts` that nothing claimed (tasks whose events were not written). */
  prune(ts: number): void {
    for (const map of [this.ns, this.strs] as Array<Map<number, Array<{ ts: number }>>>) {
      for (const [tid, l] of map) {
        while (l.length > 0 && l[0]!.ts < ts) l.shift();
        if (l.length === 0) map.delete(tid);
      }
    }
  }

  /** Asks the worker to make one last pass and stop. */
  requestStop(): void {
    Atomics.store(new Int32Array(this.shared, 0, 1), 0, 1);
  }

  /** Waits for the worker's last pass (after requestStop) and takes its results. */
  async stop(): Promise<void> {
    this.requestStop();
    if (!this.exited) {
      await new Promise<void>((res) => {
        const t = setTimeout(() => {
          void this.worker.terminate().then(() => res());
        }, 5000);
        this.worker.once('exit', () => {
          clearTimeout(t);
          res();
        });
      });
    }
    this.drain();
  }
}

/** True when `file` can be opened (per-CPU files of offline CPUs may be missing). */
export function readable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
