/**
 * `nstrace record`: a kernel recorder over tracefs that writes the CTF trace lttng-modules
 * would have written, with namespace contexts on every event and a statedump.
 *
 * Flow: a private tracefs instance is created and configured (mono clock, discard mode, our
 * own pids excluded), events are enabled, /proc is walked into the thread table and the
 * statedump is queued; then every CPU's `trace_pipe_raw` is read in whole pages, and the
 * records of all CPUs are merged by time (the thread table must see a fork before the child's
 * first event) and converted by per-event compiled converters straight into per-CPU packets.
 * On stop (duration, abort signal, error) the instance is removed, which restores tracefs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NstraceError, UsageError } from '../util/errors.js';
import type { NamedField, StructFC } from '../ctf/ir.js';
import { findField, type FtraceEventFormat } from './format.js';
import { PageCursor } from './ringbuf.js';
import {
  listSystemEvents,
  locateTracefs,
  readEventFormat,
  readHeaderLayouts,
  tracefsCpus,
  TraceInstance,
  unmountTracefs,
  type TracefsMount,
} from './tracefs.js';
import { boottimeMinusMonoNs, readNsHierarchy, walkThreads, type ProcThread } from './proc.js';
import {
  CONTEXT_FIELDS,
  DEFAULT_CONTEXTS,
  ThreadTable,
  type ContextName,
  type PatchEntry,
  type Thread,
} from './threads.js';
import { LTTNG_EVENT_BY_FTRACE, STATEDUMP_EVENTS } from './lttng-events.js';
import {
  argFields,
  compilePayload,
  genericFields,
  genericName,
  planSyscall,
  rwbsFromBytes,
  type ConvHelpers,
  type PayloadFn,
  type PlanField,
} from './convert.js';
import {
  TraceWriter,
  lttngLayout,
  type EventClassWriter,
  type StreamWriter,
  type TraceSink,
} from '../ctf/writer/index.js';
import { fieldsForCode, structFC, structFromCodes } from './types.js';
import { encodedSizeBound, encodeValues } from './encode.js';
import { buildStatedump, statedumpEnd, type InjectedEvent } from './statedump.js';
import { INTERNAL_FTRACE, INTERNAL_SYSCALLS, selectEvents } from './events.js';
import { Watcher, type WatchSpec } from './watcher.js';
import type { RecordSelection } from './bpf/select.js';
import { StringArgs, type StringStats } from './strings.js';
import { changeTimes, holdsFrom, type ChangeEvent } from './lookahead.js';
import {
  toContainerEventPayload,
  watchContainers,
  type ContainerInfo,
  type ContainerWatcher,
  type WatchOptions,
} from '../containers/index.js';

export interface RecordProgress {
  elapsedMs: number;
  events: number;
  bytes: number;
  lost: number;
  eventsPerSec: number;
}

export interface RecordOptions {
  /** Trace directory; the kernel trace goes to `<outDir>/kernel`. */
  outDir: string;
  /**
   * Capture backend (see src/record/backend.ts): `bpf` (contexts and syscall strings read in
   * the kernel at event time), `tracefs`, or `auto` (bpf where the kernel allows it).
   */
  backend?: 'auto' | 'bpf' | 'tracefs';
  /** Record-time selection (bpf: in the kernel; tracefs: set_event_pid where it can). */
  select?: RecordSelection;
  durationMs?: number;
  /** `-e` patterns; undefined for the default set. */
  events?: readonly string[];
  /** Record every syscall (default: yes with the default set, no with `-e`). */
  syscalls?: boolean;
  contexts?: readonly ContextName[];
  /** Ring buffer size per CPU, KiB. */
  bufferSizeKb?: number;
  /** CTF packet size, bytes. */
  packetSize?: number;
  statedump?: boolean;
  /** Container statedump and start/stop events (default true). */
  containers?: boolean;
  /** Options of the container watcher (poll period, runtime API timeouts, sockets...). */
  containerOptions?: WatchOptions;
  signal?: AbortSignal;
  onProgress?: (p: RecordProgress) => void;
  progressIntervalMs?: number;
  onWarning?: (message: string) => void;
  /** Trace name in the env block. */
  traceName?: string;
  /** Recorder version string for the env block. */
  recorderVersion?: string;
  /** Where the trace goes (default: files in `<outDir>/kernel`); a relay client passes its own. */
  sink?: TraceSink;
  /**
   * For a sink that can fall behind (a relay): asked after every read cycle. A promise makes
   * the recorder wait, reading nothing (the kernel ring buffer fills, then drops and counts
   * events: `lost`, `events_discarded`), until it resolves or the recording is stopped; a
   * rejection stops the recording with that error.
   */
  sinkReady?: () => Promise<void> | undefined;
  /** Extra pids whose events are not recorded (besides this process). */
  excludePids?: readonly number[];
  /**
   * Also exclude every process this one starts (tracefs `event-fork`). Default true; tests
   * that record their own children turn it off.
   */
  excludeChildren?: boolean;
  /** Ring-buffer sub-buffer size, KiB (kernels >= 6.8; default 64). */
  subbufKb?: number;
  /** Called once tracing is on and the statedump is queued. */
  onStarted?: () => void;
  /** Use the low-latency watcher for namespaces of new tasks and syscall strings (default true). */
  watcher?: boolean;
  /**
   * Write a `sched_switch` (marked `nstrace_inferred = 1`) where the kernel reported none but a
   * CPU's events show that another task runs (default true; see docs/record.md).
   */
  inferSwitches?: boolean;
}

export interface RecordSummary {
  traceDir: string;
  durationMs: number;
  events: number;
  lost: number;
  bytes: number;
  packets: number;
  perCpu: Array<{ cpu: number; events: number; lost: number; packets: number }>;
  eventClasses: number;
  statedumpEvents: number;
  containers: number;
  containerStarts: number;
  containerStops: number;
  threads: {
    lazyReads: number;
    lazyMisses: number;
    nsResolved: number;
    nsUnresolved: number;
    lateReads: number;
    ppidUnknown: number;
  };
  /**
   * Syscall string arguments: written with the value the syscall saw (`known`, `fromKernel` of
   * them from the kernel's own copy), or "" (`unknown`, by reason; docs/record.md).
   */
  userStrings: StringStats;
  /**
   * Low-latency watcher: results used, events it had no result for, events too old when it got
   * to them, events its own buffer lost; string events it handled and verified.
   */
  watcher:
    | {
        matched: number;
        unmatched: number;
        late: number;
        lost: number;
        failed: boolean;
        strEvents: number;
        strVerified: number;
      }
    | undefined;
  /**
   * Context values written before they were known: patched in place, left unknown because the
   * packet was already out (`tooLate`) or because they were never learnt (`unresolved`).
   */
  patches: { patched: number; tooLate: number; unresolved: number };
  /** `sched_switch` events the kernel did not report, inferred from the next task's events. */
  inferredSwitches: number;
  unknownFtraceEvents: number;
  cpuUserMs: number;
  cpuSystemMs: number;
}

const MERGE_MARGIN_NS = 5_000_000;
/** Tolerance when comparing a task's start (10 ms ticks, /proc/uptime) with an event time. */
const START_SLACK_NS = 30_000_000;
const TWO32 = 4294967296;

interface Handler {
  ftrace: string;
  lttngName: string;
  fmt: FtraceEventFormat;
  /** Fields to write; undefined when the event is only used for state. */
  plan: PlanField[] | undefined;
  entryFmt: FtraceEventFormat | undefined;
  ec: EventClassWriter | undefined;
  payload: PayloadFn | undefined;
  /** Largest payload in bytes (plus the record's length when `recordVar`). */
  maxLen: number;
  state: ((pv: DataView, pu: Uint8Array, s: number, th: Thread, ts: number, cpu: number) => void) | undefined;
  /** Syscall entry: remember the thread's syscall and (when needed) its arguments. */
  entry: { saveBytes: number } | undefined;
  scName?: string;
  /** The payload may copy up to the record's length (strings from the record). */
  recordVar?: boolean;
  /** sched_switch: offsets of next_pid, prev_prio and next_prio in the record. */
  sw?: { next: number; prevPrio: number; nextPrio: number; prev: number };
}

/** What the switch events of one CPU say runs on it. */
class CpuSched {
  /** Task running per the last sched_switch (its next_tid); -1 before the first one. */
  cur = -1;
  /** Events were lost on this CPU: no more inference (the chain may have lost a real switch). */
  lossy = false;
}

class CpuReader {
  readonly pool: Buffer;
  sched: CpuSched = new CpuSched();
  readonly pv: DataView;
  readonly queue: Int32Array;
  head = 0;
  count = 0;
  hasCur = false;
  curSlot = -1;
  readUntil = -Infinity;
  lost = 0;
  lastStatLost = 0;
  /** Last thread looked up on this CPU (valid while the table's version is `thVersion`). */
  lastTid = -2;
  lastTh: Thread | undefined = undefined;
  thVersion = -1;
  constructor(
    readonly inst: TraceInstance,
    readonly cpu: number,
    readonly fd: number,
    readonly pageSize: number,
    readonly slots: number,
    readonly cursor: PageCursor,
    readonly stream: StreamWriter,
  ) {
    this.pool = Buffer.alloc(pageSize * slots);
    this.pv = new DataView(this.pool.buffer, this.pool.byteOffset, this.pool.byteLength);
    this.queue = new Int32Array(slots);
  }
}

export class Recorder {
  private readonly opts: RecordOptions;
  private mount: TracefsMount | undefined;
  /** Everything but the complete set, with the recorder's own tasks excluded. */
  private instance: TraceInstance | undefined;
  /** The complete set (scheduling, task, interrupt events) of every task, the recorder's too. */
  private schedInstance: TraceInstance | undefined;
  /** One per CPU and instance; several readers feed each CPU's stream. */
  private readers: CpuReader[] = [];
  /** Per CPU (index in `cpus`). */
  private streams: StreamWriter[] = [];
  private cpus: number[] = [];
  private handlers: Array<Handler | undefined> = [];
  private table!: ThreadTable;
  private tw!: TraceWriter;
  private classByName = new Map<string, EventClassWriter>();
  private traceDir = '';
  private baseHi = 0;
  private baseBig = 0n;
  private injected: InjectedEvent[] = [];
  private injectedPos = 0;
  private injectStream!: StreamWriter;
  private unknownIds = 0;
  private helpers!: ConvHelpers;
  private forkParent: Thread | undefined;
  private forkChild: Thread | undefined;
  private strings!: StringArgs;
  private selfThread: Thread | undefined;
  private startTs = 0;
  private stopTs = 0;
  private statedumpCount = 0;
  private containerCount = 0;
  private containerWatcher: ContainerWatcher | undefined;
  private containerEvents = { starts: 0, stops: 0 };
  private stopping = false;
  private finished = false;
  private lostTotal = 0;
  private watcher: Watcher | undefined;
  private watchInstance: TraceInstance | undefined;
  /** Timestamp of the event being converted (for the watcher's string captures). */
  private curTs = 0;
  /** Stream being written (for patch entries made by special fields). */
  private curStream: StreamWriter | undefined;
  /** Threads with values written before they were known. */
  private readonly pendingPatch = new Set<Thread>();
  private learnedSeen = 0;
  private patchStats = { patched: 0, tooLate: 0, unresolved: 0 };
  /** Per CPU (index in `cpus`): the switch chain, shared by that CPU's readers. */
  private cpuSched: CpuSched[] = [];
  /** Last priority seen per tid (LTTng's value, prio - 100). */
  private readonly prios = new Map<number, number>();
  private inferredEc: EventClassWriter | undefined;
  private inferredCodes: string[] = [];
  private inferredCount = 0;
  private inferOn = true;
  private startShift = 0;
  /** A state handler is running (container changes it causes take the event's time). */
  private inEvent = false;

  constructor(opts: RecordOptions) {
    this.opts = opts;
  }

  /** ns relative to the base, on CLOCK_MONOTONIC (= ftrace's `mono`). */
  now(): number {
    return Number(process.hrtime.bigint() - this.baseBig);
  }

  private warn(msg: string): void {
    this.opts.onWarning?.(msg);
  }

  // ------------------------------------------------------------------------------------------
  // Setup

  /**
   * The writer's event class of an LTTng event, added on first use: the first events seen get
   * the lowest ids, hence compact headers for the frequent ones (the metadata grows as LTTng's
   * does; the writer publishes it before any packet that needs it).
   */
  private classFor(name: string, fields: StructFC): EventClassWriter {
    let c = this.classByName.get(name);
    if (!c) {
      c = this.tw.addEventClass({ name, fields });
      this.classByName.set(name, c);
    }
    return c;
  }

  private createWriter(traceDir: string, packetSize: number): void {
    const ctxFields: NamedField[] = [];
    for (const c of this.table.contexts) ctxFields.push(...fieldsForCode(c, CONTEXT_FIELDS[c]));
    // realtime - monotonic, measured the way LTTng does (as close together as possible).
    const realNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    const monoNs = process.hrtime.bigint();
    const o = this.opts;
    this.tw = TraceWriter.create({
      ...(o.sink ? { sink: o.sink } : { dir: traceDir }),
      layout: lttngLayout({
        domain: 'kernel',
        hostname: os.hostname(),
        clock: { offsetCycles: realNs - monoNs },
        traceName: o.traceName ?? path.basename(path.resolve(o.outDir)),
        env: {
          nstrace_recorder: `nstrace-record ${o.recorderVersion ?? ''}`.trim(),
          nstrace_source: 'ftrace',
        },
      }),
      packetSize,
      cyclesBase: this.baseBig,
    });
    this.tw.addStreamClass({ header: 'compact', context: structFC(ctxFields) });
  }

  private makeHandler(ftrace: string, fmt: FtraceEventFormat, write: boolean): Handler {
    const spec = LTTNG_EVENT_BY_FTRACE.get(ftrace);
    const [system, event] = ftrace.split(':') as [string, string];
    const lttngName = spec ? spec.name : genericName(system, event);
    const plan = write ? (spec ? spec.fields.map((f) => ({ ...f })) : genericFields(fmt)) : undefined;
    return {
      ftrace,
      lttngName,
      fmt,
      plan,
      entryFmt: undefined,
      ec: undefined,
      payload: undefined,
      maxLen: 0,
      state: this.stateFor(ftrace, fmt),
      entry: undefined,
      scName: undefined,
      recordVar: false,
      ...(ftrace === 'sched:sched_switch' ? { sw: switchOffsets(fmt) } : {}),
    };
  }

  /** Handler for the thread-table side of an event (undefined if it has none). */
  private stateFor(ftrace: string, fmt: FtraceEventFormat): Handler['state'] {
    const off = (n: string): number => {
      const f = findField(fmt, n);
      if (!f) throw new NstraceError(`${ftrace}: field ${n} missing in its format`);
      return f.offset;
    };
    const t = this.table;
    switch (ftrace) {
      case 'task:task_newtask': {
        const pid = off('pid');
        const comm = off('comm');
        const flags = off('clone_flags');
        return (pv, pu, s, th, ts) => {
          const child = pv.getInt32(s + pid, true);
          const fl = pv.getUint32(s + flags, true);
          t.onNewTask(th, child, pu.subarray(s + comm, s + comm + 16), fl, ts);
        };
      }
      case 'task:task_rename': {
        const pid = off('pid');
        const comm = off('newcomm');
        return (pv, pu, s, _th, ts, cpu) => {
          const who = t.get(pv.getInt32(s + pid, true), cpu, ts);
          t.onRename(who, pu.subarray(s + comm, s + comm + 16), ts);
        };
      }
      case 'sched:sched_process_fork': {
        const parent = off('parent_pid');
        const child = off('child_pid');
        return (pv, _pu, s, th, ts, cpu) => {
          const p = t.get(pv.getInt32(s + parent, true), cpu, ts);
          const ctid = pv.getInt32(s + child, true);
          let c = t.byTid.get(ctid);
          if (!c) c = t.onNewTask(p, ctid, p.comm, 0, ts);
          this.forkParent = p;
          this.forkChild = c;
          void th;
          if (c.pid === c.tid) this.containerWatcher?.noteFork(p.pid, c.tid, c.ns[0]!.inum || undefined);
        };
      }
      case 'sched:sched_process_exec': {
        const pid = off('pid');
        const old = off('old_pid');
        return (pv, _pu, s, _th, ts) => {
          t.onExec(pv.getInt32(s + pid, true), pv.getInt32(s + old, true), ts);
        };
      }
      case 'sched:sched_process_exit':
        return (_pv, _pu, _s, th, ts) => {
          t.onExit(th, ts);
          if (th.tid === th.pid) this.containerWatcher?.noteExit(th.pid);
        };
      case 'cgroup:cgroup_mkdir':
      case 'cgroup:cgroup_rmdir': {
        const f = findField(fmt, 'path');
        if (!f || !f.dataLoc) return undefined;
        const mkdir = ftrace === 'cgroup:cgroup_mkdir';
        return (pv, pu, s) => {
          const cw = this.containerWatcher;
          if (!cw) return;
          const loc = pv.getUint32(s + f.offset, true);
          const start = s + (loc & 0xffff);
          let end = start + (loc >>> 16);
          while (end > start && pu[end - 1] === 0) end--;
          const path = Buffer.from(pu.buffer, pu.byteOffset + start, end - start).toString('utf8');
          if (mkdir) cw.noteCgroupMkdir(path);
          else cw.noteCgroupRmdir(path);
        };
      }
      case 'sched:sched_process_free': {
        const pid = off('pid');
        return (pv, _pu, s, _th, ts) => {
          t.onFree(pv.getInt32(s + pid, true), ts);
        };
      }
      case 'syscalls:sys_exit_clone':
      case 'syscalls:sys_exit_clone3':
      case 'syscalls:sys_exit_fork':
      case 'syscalls:sys_exit_vfork': {
        const ret = off('ret');
        return (pv, _pu, s, th) => {
          t.onCloneReturn(th, pv.getInt32(s + ret, true));
        };
      }
      case 'syscalls:sys_exit_unshare': {
        const ret = off('ret');
        return (pv, _pu, s, th, ts) => {
          if (pv.getInt32(s + ret, true) !== 0 || th.scArgs === undefined || th.scName !== 'unshare') return;
          t.onUnshare(th, th.scView!.getUint32(0, true), ts);
        };
      }
      case 'syscalls:sys_exit_setns': {
        const ret = off('ret');
        return (pv, _pu, s, th, ts) => {
          if (pv.getInt32(s + ret, true) !== 0) return;
          const nstype = th.scArgs !== undefined && th.scName === 'setns' ? th.scView!.getUint32(8, true) : 0;
          t.onSetns(th, nstype, ts);
        };
      }
      default:
        return undefined;
    }
  }

  private compileHandler(h: Handler): void {
    if (!h.plan) return;
    const compiled = compilePayload(h.plan, h.fmt, h.entryFmt);
    if (compiled.missing.length > 0) {
      this.warn(`${h.lttngName}: no ftrace source for ${compiled.missing.join(', ')} (written as 0/empty)`);
    }
    h.payload = compiled.fn;
    h.ec = this.classFor(h.lttngName, compiled.fields);
    h.maxLen = compiled.maxSize + 8;
    h.recordVar = compiled.recordVar;
  }

  /** Resolves the selection into handlers; returns the ftrace events to enable (`system:event`). */
  private setupHandlers(eventsDir: string): { events: string[]; allSyscalls: boolean } {
    const o = this.opts;
    const sel = selectEvents(
      o.events,
      o.syscalls,
      (s) => listSystemEvents(eventsDir, s),
      () => fs.readdirSync(eventsDir).filter((d) => fs.statSync(path.join(eventsDir, d)).isDirectory()),
    );
    const enable: string[] = [];
    const add = (ftrace: string, write: boolean): Handler | undefined => {
      const [s, e] = ftrace.split(':') as [string, string];
      const fmt = readEventFormat(eventsDir, s, e);
      if (!fmt) return undefined;
      const prev = this.handlers[fmt.id];
      if (prev) {
        if (write && !prev.plan) {
          const h = this.makeHandler(ftrace, fmt, true);
          h.entry = prev.entry;
          h.entryFmt = prev.entryFmt;
          this.handlers[fmt.id] = h;
          return h;
        }
        return prev;
      }
      const h = this.makeHandler(ftrace, fmt, write);
      this.handlers[fmt.id] = h;
      enable.push(ftrace);
      return h;
    };
    for (const f of sel.written) add(f, true);
    for (const f of INTERNAL_FTRACE) add(f, sel.written.has(f));
    // Syscalls.
    const sysEvents = listSystemEvents(eventsDir, 'syscalls');
    const names = sysEvents
      .map((e) => /^sys_enter_(.+)$/.exec(e)?.[1])
      .filter((x): x is string => x !== undefined);
    for (const name of names) {
      const write = sel.allSyscalls || sel.syscalls.has(name);
      const internal = INTERNAL_SYSCALLS.includes(name);
      if (!write && !internal) continue;
      const entryFmt = readEventFormat(eventsDir, 'syscalls', `sys_enter_${name}`);
      const exitFmt = readEventFormat(eventsDir, 'syscalls', `sys_exit_${name}`);
      if (!entryFmt || !exitFmt) continue;
      const plan = planSyscall(name, entryFmt, exitFmt);
      const nargs = argFields(entryFmt).length;
      const en = this.makeHandler(`syscalls:sys_enter_${name}`, entryFmt, false);
      en.lttngName = `syscall_entry_${name}`;
      en.plan = write ? plan.entryFields : undefined;
      en.entry = { saveBytes: plan.needsArgs ? nargs * 8 : 0 };
      en.scName = name;
      const ex = this.makeHandler(`syscalls:sys_exit_${name}`, exitFmt, false);
      ex.lttngName = `syscall_exit_${name}`;
      ex.plan = write ? plan.exitFields : undefined;
      ex.entryFmt = entryFmt;
      this.handlers[entryFmt.id] = en;
      this.handlers[exitFmt.id] = ex;
      enable.push(`syscalls:sys_enter_${name}`, `syscalls:sys_exit_${name}`);
    }
    return { events: enable, allSyscalls: sel.allSyscalls };
  }

  // ------------------------------------------------------------------------------------------
  // Run

  async run(): Promise<RecordSummary> {
    if (process.getuid && process.getuid() !== 0) {
      throw new UsageError('nstrace record needs root (tracefs and /proc of every process)');
    }
    const cpuStart = process.cpuUsage();
    const t0 = Date.now();
    let failure: unknown;
    try {
      await this.start();
      await this.loop();
    } catch (err) {
      failure = err;
    }
    await this.containerWatcher?.close().catch(() => undefined);
    // On an error the worker may still run: its fds keep the watcher instance busy.
    await this.watcher?.stop().catch(() => undefined);
    try {
      this.cleanup();
    } catch (err) {
      // Never hide the error that stopped the recording behind a cleanup error.
      if (failure === undefined) failure = err;
      else this.warn(`while cleaning up: ${(err as Error).message}`);
    }
    if (failure !== undefined) throw failure;
    const cpu = process.cpuUsage(cpuStart);
    let events = 0;
    let packets = 0;
    for (const ps of this.streams) {
      events += ps.events;
      packets += ps.packets;
    }
    const bytes = this.opts.sink ? 0 : dirBytes(this.traceDir);
    return {
      traceDir: this.traceDir,
      durationMs: Date.now() - t0,
      events,
      lost: this.lostTotal,
      bytes,
      packets,
      perCpu: this.streams.map((ps, i) => ({
        cpu: this.cpus[i]!,
        events: ps.events,
        lost: this.readers.filter((r) => r.stream === ps).reduce((n, r) => n + r.lost, 0),
        packets: ps.packets,
      })),
      eventClasses: this.classByName.size + (this.inferredEc ? 1 : 0),
      statedumpEvents: this.statedumpCount,
      containers: this.containerCount,
      containerStarts: this.containerEvents.starts,
      containerStops: this.containerEvents.stops,
      threads: { ...this.table.stats },
      userStrings: this.strings.stats,
      watcher: this.watcher
        ? {
            matched: this.watcher.stats.matched,
            unmatched: this.watcher.stats.unmatched,
            late: this.watcher.stats.late,
            lost: this.watcher.stats.lost,
            failed: this.watcher.failed !== undefined,
            strEvents: this.watcher.stats.strEvents,
            strVerified: this.watcher.stats.strOk,
          }
        : undefined,
      patches: { ...this.patchStats },
      inferredSwitches: this.inferredCount,
      unknownFtraceEvents: this.unknownIds,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
    };
  }

  private async start(): Promise<void> {
    const o = this.opts;
    const contexts = o.contexts ?? DEFAULT_CONTEXTS;
    // Time base: a multiple of 2^32 ns below now, so low timestamp bits are plain remainders.
    const nowBig = process.hrtime.bigint();
    this.baseHi = Number(nowBig >> 32n);
    this.baseBig = BigInt(this.baseHi) << 32n;
    const hierarchy = readNsHierarchy();
    // A task's start time (boot clock) in our relative mono ns: startNs - startShift.
    this.startShift = boottimeMinusMonoNs() + Number(this.baseBig);
    this.table = new ThreadTable({
      startedBy: (startNs, ts) => startNs - this.startShift <= ts + START_SLACK_NS,
      contexts,
      nsParent: (inum) => hierarchy.parent.get(inum),
      now: () => this.now(),
      snapshot: (tid, ts) => this.watcher?.snapshot(tid, ts),
    });
    this.helpers = {
      userString: (th, lo, hi, du, off) => this.strings.user(th.tid, this.curTs, hi * TWO32 + lo, du, off),
      kernelString: (th, lo, hi, pu, at, len, du, off) =>
        this.strings.kernel(th.tid, this.curTs, hi * TWO32 + lo, pu, at, len, du, off),
      exitString: (du, off) => this.strings.exitArgument(du, off),
      special: (name, dv, du, off) => this.special(name, dv, du, off),
      rwbs: rwbsFromBytes,
    };

    this.mount = locateTracefs({ mount: true });
    TraceInstance.removeStale(this.mount);
    const self = [process.pid, ...(o.excludePids ?? [])];
    for (const tid of fs.readdirSync('/proc/self/task')) self.push(Number(tid));
    const notrace = [...new Set(self)].join(' ');
    const layouts = readHeaderLayouts(this.mount.root);
    const sel = this.setupHandlers(path.join(this.mount.root, 'events'));

    // Two instances (ADR 0161): the complete set (scheduling, task and interrupt events) for
    // every task, the recorder's own included, so that every CPU's switch chain is whole; and
    // everything else with the recorder's tasks excluded, so that its own syscalls, page
    // allocations, I/O... never feed back into the trace.
    const complete = sel.events.filter(isCompleteSetEvent);
    const filtered = sel.events.filter((f) => !isCompleteSetEvent(f));
    const hasFiltered = filtered.length > 0 || sel.allSyscalls;
    const totalKb = o.bufferSizeKb ?? 16384;
    // One --buffer-size per CPU for both: a third for the complete set when both are in use.
    const schedKb =
      complete.length === 0 ? 0 : hasFiltered ? Math.max(1024, Math.floor(totalKb / 3)) : totalKb;
    const mainKb = hasFiltered ? Math.max(1024, totalKb - schedKb) : 0;
    const created: TraceInstance[] = [];
    const make = (name: string, sizeKb: number, exclude: boolean): TraceInstance => {
      const inst = new TraceInstance(this.mount!, name);
      inst.create();
      created.push(inst);
      const clocks = inst.clocks();
      if (!clocks.available.includes('mono')) throw new NstraceError('tracefs has no "mono" trace clock');
      inst.write('trace_clock', 'mono');
      inst.write('tracing_on', '0');
      inst.write('options/overwrite', '0');
      if (exclude) {
        inst.write('options/event-fork', o.excludeChildren === false ? '0' : '1');
        inst.write('set_event_notrace_pid', notrace);
      }
      // Bigger sub-buffers: one read(2) returns up to one sub-buffer, so fewer reads.
      try {
        inst.write('buffer_subbuf_size_kb', String(o.subbufKb ?? 64));
      } catch {
        // older kernels: fixed page-sized sub-buffers
      }
      inst.write('buffer_size_kb', String(sizeKb));
      return inst;
    };
    let kernelMax: number | undefined;
    if (mainKb > 0) {
      const inst = make(`nstrace-${process.pid}`, mainKb, true);
      this.instance = inst;
      kernelMax = setKernelStringSize(inst);
      if (sel.allSyscalls) inst.enableEvent('syscalls', undefined, true);
      for (const f of filtered) {
        const [s, e] = f.split(':') as [string, string];
        if (sel.allSyscalls && s === 'syscalls') continue;
        inst.enableEvent(s, e, true);
      }
    }
    if (schedKb > 0) {
      const inst = make(`nstrace-${process.pid}-s`, schedKb, false);
      this.schedInstance = inst;
      for (const f of complete) {
        const [s, e] = f.split(':') as [string, string];
        inst.enableEvent(s, e, true);
      }
    }
    if (created.length === 0) throw new UsageError('no event to record');
    const watcher = (): Watcher | undefined => this.watcher;
    this.strings = new StringArgs(
      {
        capture: (tid, ts, ptr) => watcher()?.string(tid, ts, ptr),
        get noWatcher() {
          const w = watcher();
          return w === undefined || w.failed !== undefined;
        },
      },
      kernelMax,
    );

    // Output.
    this.traceDir = path.join(o.outDir, 'kernel');
    if (!o.sink && fs.existsSync(this.traceDir) && fs.readdirSync(this.traceDir).length > 0) {
      throw new UsageError(`${this.traceDir} already holds a trace (choose another -o)`);
    }
    this.createWriter(this.traceDir, o.packetSize ?? 256 * 1024);
    const first = created[0]!;
    const cpus = tracefsCpus(this.mount.root).filter((c) => fs.existsSync(first.file(`per_cpu/cpu${c}`)));
    this.cpus = cpus;
    this.streams = cpus.map((cpu) => this.tw.stream(0, cpu));
    this.cpuSched = cpus.map(() => new CpuSched());
    this.inferOn = o.inferSwitches !== false && this.schedInstance !== undefined;
    for (const inst of created) {
      const pageSize = Number(inst.read('buffer_subbuf_size_kb').trim() || '4') * 1024;
      cpus.forEach((cpu, i) => {
        const fd = fs.openSync(
          inst.file(`per_cpu/cpu${cpu}/trace_pipe_raw`),
          fs.constants.O_RDONLY | fs.constants.O_NONBLOCK,
        );
        const cursor = new PageCursor(
          layouts.page,
          layouts.event,
          this.baseHi,
          0,
          `${inst.name}/cpu${cpu}/trace_pipe_raw`,
        );
        // 8 MiB of pages per CPU and instance between reading and converting.
        const slots = Math.max(64, Math.floor((8 << 20) / pageSize));
        const rd = new CpuReader(inst, cpu, fd, pageSize, slots, cursor, this.streams[i]!);
        rd.sched = this.cpuSched[i]!;
        this.readers.push(rd);
      });
    }
    this.injectStream = this.streams[0]!;
    this.tw.flushMetadata();
    if (o.watcher !== false) this.startWatcher(notrace, layouts, cpus);
    // Threads the recorder started since the list was made (the watcher's worker): excluded
    // too, whether or not `event-fork` follows its children.
    const later: string[] = [];
    for (const tid of fs.readdirSync('/proc/self/task')) if (!self.includes(Number(tid))) later.push(tid);
    if (later.length > 0) {
      for (const inst of [this.instance, this.watchInstance])
        inst?.append('set_event_notrace_pid', later.join(' '));
    }

    // The thread table starts from a /proc walk right before tracing starts, so that a task
    // exiting before the statedump's slower walk (once tracing is on, like LTTng's; ~1 ms per
    // thread on a busy host) is still known. Read before tracing starts, what a task can change
    // (comm, namespaces other than pid, ppid) may have changed unseen by then: only what it
    // never changes (pid, ids, pid namespace) is taken from this walk, the rest from the
    // statedump's walk, with tracing on (ADR 0165). Tasks created from here on are seen forking.
    const seen0 = this.now();
    for (const p of walkThreads()) this.table.addFromWalk(p, seen0);
    // The walk takes a while (~1 ms per thread): the tasks created meanwhile, read quickly now
    // (a task created and gone before the statedump's walk reaches it would be unknown).
    for (const p of walkThreads('/proc', undefined, (tid) => !this.table.byTid.has(tid)))
      this.table.addFromWalk(p, this.now());
    this.table.afterWalk();
    this.selfThread = this.table.byTid.get(process.pid);

    // Go.
    this.startTs = this.now();
    this.watchInstance?.write('tracing_on', '1');
    this.schedInstance?.write('tracing_on', '1');
    this.instance?.write('tracing_on', '1');
    if (o.statedump !== false) await this.statedump();
    // Without a statedump, the same walk for the thread table alone.
    else this.walkForTable();
    this.lookahead();
    o.onStarted?.();
  }

  /**
   * Before converting anything: the statedump's reads hold from each task's last change before
   * its read (lookahead.ts), not only from the read on.
   */
  private lookahead(): void {
    this.readAll(false);
    let complete = Infinity;
    for (const r of this.readers) complete = Math.min(complete, r.readUntil);
    const events: ChangeEvent[] = [];
    for (const h of this.handlers) {
      if (!h) continue;
      const at = (n: string): number => findField(h.fmt, n)!.offset;
      if (h.ftrace === 'task:task_rename') events.push({ id: h.fmt.id, tidOffsets: [at('pid')] });
      else if (h.ftrace === 'sched:sched_process_exec')
        events.push({ id: h.fmt.id, tidOffsets: [at('pid'), at('old_pid')] });
      else if (h.ftrace === 'syscalls:sys_exit_unshare' || h.ftrace === 'syscalls:sys_exit_setns')
        events.push({ id: h.fmt.id, tidOffsets: [] });
    }
    const layouts = readHeaderLayouts(this.mount!.root);
    const changes = changeTimes(this.readers, layouts, this.baseHi, events);
    this.table.retimeDeferred((tid, at) => holdsFrom(changes, tid, at, this.startTs, complete));
  }

  /** The low-latency side instance and its worker (see watcher.ts). */
  private startWatcher(notrace: string, layouts: ReturnType<typeof readHeaderLayouts>, cpus: number[]): void {
    const specs: WatchSpec[] = [];
    const enable = new Set<string>();
    const byFtrace = new Map<string, Handler>();
    for (const h of this.handlers) if (h) byFtrace.set(h.ftrace, h);
    const add = (h: Handler | undefined, spec: Omit<WatchSpec, 'id'>): void => {
      if (!h) return;
      specs.push({ id: h.fmt.id, ...spec });
      enable.add(h.ftrace);
    };
    for (const h of this.handlers) {
      if (!h) continue;
      if (h.ftrace === 'task:task_newtask') {
        add(h, { kind: 'newtask', pidOffset: findField(h.fmt, 'pid')!.offset });
      } else if (h.ftrace === 'syscalls:sys_exit_unshare' || h.ftrace === 'syscalls:sys_exit_setns') {
        add(h, { kind: 'nschange' });
      } else if (h.entry && h.plan) {
        const ptrOffsets: number[] = [];
        for (const f of h.plan) {
          if (!('user' in f.src)) continue;
          const ff = findField(h.fmt, f.src.user);
          if (ff) ptrOffsets.push(ff.offset);
        }
        if (ptrOffsets.length === 0) continue;
        add(h, {
          kind: 'str',
          ptrOffsets,
          argOffsets: argFields(h.fmt).map((f) => f.offset),
          nrOffset: findField(h.fmt, '__syscall_nr')?.offset ?? 8,
          // The address space may be replaced while the thread is still in the syscall.
          untilExit: h.scName === 'execve' || h.scName === 'execveat',
        });
        // Its exit ends the window in which the thread can be found inside it.
        add(byFtrace.get(`syscalls:sys_exit_${h.scName}`), { kind: 'sysexit' });
      }
    }
    // Exec replaces the address space (and the time namespace), exit frees the tid.
    const exec = byFtrace.get('sched:sched_process_exec');
    if (exec) {
      add(exec, {
        kind: 'exec',
        pidOffset: findField(exec.fmt, 'pid')!.offset,
        oldPidOffset: findField(exec.fmt, 'old_pid')!.offset,
      });
    }
    add(byFtrace.get('sched:sched_process_exit'), { kind: 'exit' });
    const w = new TraceInstance(this.mount!, `nstrace-${process.pid}-w`);
    w.create();
    this.watchInstance = w;
    w.write('trace_clock', 'mono');
    w.write('tracing_on', '0');
    w.write('options/overwrite', '0');
    w.write('options/event-fork', this.opts.excludeChildren === false ? '0' : '1');
    w.write('buffer_size_kb', '8192');
    w.write('set_event_notrace_pid', notrace);
    for (const f of enable) {
      const [sys, ev] = f.split(':') as [string, string];
      w.enableEvent(sys, ev, true);
    }
    const pageSize = Number(w.read('buffer_subbuf_size_kb').trim() || '4') * 1024;
    this.watcher = new Watcher({
      cpuFiles: cpus.map((c) => w.file(`per_cpu/cpu${c}/trace_pipe_raw`)),
      statFiles: cpus.map((c) => w.file(`per_cpu/cpu${c}/stats`)),
      pageSize,
      page: layouts.page,
      header: layouts.event,
      baseHi: this.baseHi,
      startShift: this.startShift,
      startSlackNs: START_SLACK_NS,
      specs,
      onError: (e) =>
        this.warn(
          `watcher failed (${(e as Error).message}); syscall strings are written as unknown ("") ` +
            'and namespaces of new tasks may stay unknown (0)',
        ),
    });
  }

  /**
   * Walks /proc with tracing on: each read holds from its own time on, and every later change
   * is in the trace. The thread table takes the values when the converter reaches that time
   * (earlier events of the thread too, unless the trace shows a change in between).
   */
  private walkForTable(): ProcThread[] {
    const begin = this.now();
    const threads: ProcThread[] = walkThreads('/proc', () => this.now());
    for (const p of threads) {
      if (!this.table.byTid.has(p.tid)) this.table.addFromWalk(p, this.startTs);
      this.table.defer(p, p.readAt ?? begin);
    }
    this.table.afterWalk();
    this.selfThread = this.table.byTid.get(process.pid);
    return threads;
  }

  private async statedump(): Promise<void> {
    const begin = this.now();
    const threads = this.walkForTable();
    const evs = buildStatedump(threads, this.table, { now: () => this.now(), begin });
    if (this.opts.containers !== false) {
      try {
        const cw = await withTimeout(
          watchContainers(
            (c) => this.containerChange('nstrace_container_start', c),
            (c) => this.containerChange('nstrace_container_stop', c),
            { ...this.opts.containerOptions, onWarning: (m) => this.warn(m) },
          ),
          10_000,
        );
        this.containerWatcher = cw;
        for (const c of cw.initial) {
          evs.push(containerEvent('nstrace_container_statedump', c, this.now()));
          this.containerCount++;
        }
      } catch (err) {
        this.warn(`container discovery failed: ${(err as Error).message}`);
      }
    }
    evs.push(statedumpEnd(this.now()));
    this.statedumpCount = evs.length;
    this.inject(evs);
  }

  /**
   * A container started or stopped. Stops noticed from an event (the init's exit, its cgroup's
   * removal) come synchronously while that event is converted: they take its time; the others
   * (polls, runtime events) take the current time, which is after everything converted so far.
   */
  private containerChange(name: string, c: ContainerInfo): void {
    const ts = this.inEvent ? this.curTs : Math.max(this.now(), this.curTs);
    if (name === 'nstrace_container_start') this.containerEvents.starts++;
    else this.containerEvents.stops++;
    this.inject([containerEvent(name, c, ts)]);
  }

  private inject(evs: InjectedEvent[]): void {
    // Keep the queue sorted by time (statedump events are built in time order).
    this.injected = this.injected.slice(this.injectedPos).concat(evs);
    this.injected.sort((a, b) => a.ts - b.ts);
    this.injectedPos = 0;
  }

  private special(name: string, dv: DataView, du: Uint8Array, o: number): number {
    const p = this.forkParent;
    const c = this.forkChild;
    switch (name) {
      case 'parent_tgid':
        dv.setInt32(o, p ? p.pid : 0, true);
        return o + 4;
      case 'parent_ns_inum':
        dv.setUint32(o, p ? p.ns[0]!.inum : 0, true);
        if (p && p.ns[0]!.inum === 0) this.addPatch(p, this.curStream!, o, 2);
        return o + 4;
      case 'child_tgid':
        dv.setInt32(o, c ? c.pid : 0, true);
        return o + 4;
      case 'child_ns_inum':
        dv.setUint32(o, c ? c.ns[0]!.inum : 0, true);
        if (c && c.ns[0]!.inum === 0) this.addPatch(c, this.curStream!, o, 2);
        return o + 4;
      case 'vtids': {
        // Levels not known (a parent whose pid_for_children is not known yet): no ids at all.
        const ids = c && !c.idsUnknown ? c.nsTids : [];
        if (c && !c.idsUnknown && ids.includes(0)) this.addPatch(c, this.curStream!, o, 1);
        du[o++] = ids.length;
        for (const v of ids) {
          dv.setInt32(o, v, true);
          o += 4;
        }
        return o;
      }
      default:
        throw new Error(`unknown special field ${name}`);
    }
  }

  private addPatch(t: Thread, ps: StreamWriter, off: number, kind: 0 | 1 | 2): void {
    let l = t.patches;
    if (!l) t.patches = l = [];
    if (l.length >= 4096) {
      // Dropped: that event keeps its unknown values.
      l.shift();
      this.patchStats.tooLate++;
    }
    // Valid while no packet of the stream closes (the open packet's bytes stay where they are).
    l.push(
      kind === 0
        ? { stream: ps, seq: ps.packets, off, kind, ns: t.nsAtWrite, comm: t.commAtWrite }
        : { stream: ps, seq: ps.packets, off, kind },
    );
    this.pendingPatch.add(t);
  }

  /** Rewrites values that became known in packets that are still open. */
  private applyPatches(): void {
    this.learnedSeen = this.table.learned;
    for (const t of this.pendingPatch) {
      const l = t.patches!;
      this.table.rebuild(t);
      const keep: PatchEntry[] = [];
      for (const e of l) {
        const ps = e.stream as StreamWriter;
        if (ps.packets !== e.seq) {
          this.patchStats.tooLate++;
          continue;
        }
        const dv = ps.view;
        let open = t.incomplete;
        if (e.kind === 0) {
          open = this.table.patchContext(t, e.ns!, dv, e.off, e.comm);
        } else if (e.kind === 1) {
          const ids = t.nsTids;
          if (ps.bytes[e.off] === ids.length)
            for (let k = 0; k < ids.length; k++) dv.setInt32(e.off + 1 + 4 * k, ids[k]!, true);
        } else {
          dv.setUint32(e.off, t.ns[0]!.inum, true);
        }
        this.patchStats.patched++;
        if (open) keep.push(e);
      }
      if (keep.length > 0) t.patches = keep;
      else {
        t.patches = undefined;
        this.pendingPatch.delete(t);
      }
    }
  }

  private async loop(): Promise<void> {
    const o = this.opts;
    const deadline = o.durationMs !== undefined ? Date.now() + o.durationMs : Infinity;
    const progressEvery = o.progressIntervalMs ?? 1000;
    let nextProgress = Date.now() + progressEvery;
    let nextStats = 0;
    const onAbort = (): void => {
      this.stopping = true;
    };
    o.signal?.addEventListener('abort', onAbort);
    try {
      while (!this.stopping && !o.signal?.aborted) {
        const got = this.readAll(false);
        this.process(false);
        const now = Date.now();
        if (now >= nextStats) {
          this.checkLost();
          this.watcher?.prune(this.now() - 2e9);
          nextStats = now + 200;
        }
        if (now >= nextProgress) {
          nextProgress = now + progressEvery;
          this.reportProgress();
        }
        if (now >= deadline) break;
        const behind = o.sinkReady?.();
        if (behind !== undefined) await untilStopped(behind, o.signal, deadline - now);
        // Read again at once while data floods in; otherwise let it gather a little (larger
        // reads and merge runs are cheaper per event; the ring buffer holds far more).
        await sleep(got >= 8 ? 0 : Math.min(got > 0 ? 5 : 20, Math.max(0, deadline - now)));
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
    // Final drain: stop tracing, read what is left, write everything.
    this.stopTs = this.now();
    for (const inst of [this.instance, this.schedInstance, this.watchInstance]) {
      try {
        inst?.write('tracing_on', '0');
      } catch {
        // instance gone: nothing more to read
      }
    }
    await this.watcher?.stop();
    this.readAll(true);
    this.process(true);
    this.checkLost();
    // Values still unknown in written events stay so (0 / "").
    this.applyPatches();
    for (const t of this.pendingPatch) this.patchStats.unresolved += t.patches?.length ?? 0;
    for (const ps of this.streams) ps.close(this.stopTs);
    this.tw.close();
    this.finished = true;
    this.reportProgress();
  }

  private startMs = Date.now();
  private reportProgress(): void {
    if (!this.opts.onProgress) return;
    let events = 0;
    for (const ps of this.streams) events += ps.events;
    // Written so far (a relay sink has no directory: 0).
    const bytes = this.opts.sink ? 0 : dirBytes(this.traceDir);
    const elapsedMs = Date.now() - this.startMs;
    this.opts.onProgress({
      elapsedMs,
      events,
      bytes,
      lost: this.lostTotal,
      eventsPerSec: elapsedMs > 0 ? (events * 1000) / elapsedMs : 0,
    });
  }

  /** Adds ring-buffer losses (overrun + dropped, from per_cpu stats) to the streams. */
  private checkLost(): void {
    for (const r of this.readers) {
      if (!r.inst.exists) continue;
      const st = r.inst.cpuStats(r.cpu);
      const total = (st.get('overrun') ?? 0) + (st.get('dropped events') ?? 0);
      const delta = total - r.lastStatLost;
      if (delta > 0) {
        // babeltrace2 counts losses from one packet to the next: those in a stream's first
        // packet it reports without a number ("may have discarded"). Close that packet first.
        if (r.stream.packets === 0)
          r.stream.switchPacket(Math.max(r.stream.lastTimestamp, this.startTs), true);
        r.lastStatLost = total;
        r.lost += delta;
        r.sched.lossy = true;
        r.stream.discard(delta);
        this.lostTotal += delta;
        this.warn(`lost ${delta} events on CPU ${r.cpu} (ring buffer full; try a larger --buffer-size)`);
      }
    }
  }

  /** Reads every available page of every CPU. Returns the number of pages read. */
  private readAll(final: boolean): number {
    let pages = 0;
    for (const r of this.readers) {
      const before = this.now();
      let eagain = false;
      while (r.count < r.slots) {
        const slot = (r.head + r.count) % r.slots;
        let n: number;
        try {
          n = fs.readSync(r.fd, r.pool, slot * r.pageSize, r.pageSize, null);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
            eagain = true;
            break;
          }
          if (code === 'EINTR') continue;
          throw new NstraceError(`reading cpu${r.cpu}/trace_pipe_raw: ${(err as Error).message}`, 1, {
            cause: err,
          });
        }
        if (n <= 0) {
          eagain = true;
          break;
        }
        if (n < r.pageSize) r.pool.fill(0, slot * r.pageSize + n, (slot + 1) * r.pageSize);
        r.queue[slot] = slot;
        r.count++;
        pages++;
      }
      if (eagain || final) r.readUntil = Math.max(r.readUntil, before - MERGE_MARGIN_NS);
      else {
        // Queue full: only what is before the last queued page's start is surely complete.
        const last = (r.head + r.count - 1) % r.slots;
        const hi = r.pv.getUint32(last * r.pageSize + 4, true);
        const lo = r.pv.getUint32(last * r.pageSize, true);
        r.readUntil = Math.max(r.readUntil, (hi - this.baseHi) * TWO32 + lo - 1);
      }
    }
    return pages;
  }

  /** Positions `r` on its next event; false when its queue is exhausted. */
  private advance(r: CpuReader): boolean {
    const c = r.cursor;
    while (true) {
      if (r.curSlot >= 0) {
        if (c.next()) {
          r.hasCur = true;
          return true;
        }
        // Page done: release it.
        r.head = (r.head + 1) % r.slots;
        r.count--;
        r.curSlot = -1;
      }
      if (r.count === 0) return false;
      r.curSlot = r.head;
      c.reset(r.pv, r.curSlot * r.pageSize, r.pageSize);
      if (c.missed !== 0) r.sched.lossy = true;
    }
  }

  private peek(r: CpuReader): number {
    if (!r.hasCur && !this.advance(r)) return Infinity;
    return r.cursor.ts;
  }

  /** Merges all CPUs (and the injected events) by time, up to what is known complete. */
  private process(final: boolean): void {
    let W = Infinity;
    if (!final) for (const r of this.readers) W = Math.min(W, r.readUntil);
    if (this.watcher) {
      const wp = this.watcher.drain();
      if (!final) W = Math.min(W, wp);
    }
    const readers = this.readers;
    const n = readers.length;
    while (true) {
      let best = -2;
      let bestTs = Infinity;
      let second = Infinity;
      for (let i = 0; i < n; i++) {
        const ts = this.peek(readers[i]!);
        if (ts < bestTs) {
          second = bestTs;
          bestTs = ts;
          best = i;
        } else if (ts < second) second = ts;
      }
      const its = this.injectedPos < this.injected.length ? this.injected[this.injectedPos]!.ts : Infinity;
      if (its < bestTs) {
        second = bestTs;
        bestTs = its;
        best = -1;
      } else if (its < second) second = its;
      if (best === -2 || bestTs > W) break;
      const limit = Math.min(second, W);
      if (best === -1) this.drainInjected(limit);
      else this.drain(readers[best]!, limit);
    }
  }

  private drainInjected(limit: number): void {
    const ps = this.injectStream;
    const self = this.selfThread ?? this.table.get(process.pid, 0);
    while (this.injectedPos < this.injected.length) {
      const ev = this.injected[this.injectedPos]!;
      if (ev.ts > limit) return;
      this.injectedPos++;
      if (ev.ts >= this.table.nextDueAt) {
        this.table.resolveDue(ev.ts);
        if (this.table.learned !== this.learnedSeen) this.applyPatches();
      }
      const ec = this.classFor(ev.name, structFromCodes(ev.fields));
      const codes = ev.fields.map((f) => f[1]);
      // Never before what the stream already holds (the writer requires non-decreasing times).
      const ts = Math.max(ev.ts, ps.lastTimestamp);
      if (self.ctxEpoch !== this.table.epoch) this.table.rebuild(self);
      const at = ps.beginRawBytes(ec, ts, encodedSizeBound(codes, ev.values) + 8, self.ctxBytes);
      if (at < 0) continue;
      const du = ps.bytes;
      ps.commitRaw(encodeValues(codes, ev.values, ps.view, du, at));
    }
  }

  /** The hot loop: converts `r`'s events up to `limit` into its packet stream. */
  private drain(r: CpuReader, limit: number): void {
    const c = r.cursor;
    const pv = r.pv;
    const pu = r.pool;
    const ps = r.stream;
    const table = this.table;
    const handlers = this.handlers;
    const helpers = this.helpers;
    const cpu = r.cpu;
    let lastTid = r.thVersion === table.version ? r.lastTid : -2;
    let th: Thread | undefined = r.lastTh;
    while (r.hasCur || this.advance(r)) {
      const ts = c.ts;
      if (ts > limit) {
        r.lastTid = lastTid;
        r.lastTh = th;
        r.thVersion = table.version;
        return;
      }
      r.hasCur = false;
      const s = c.dataOffset;
      const hd = handlers[pv.getUint16(s, true)];
      if (hd === undefined) {
        this.unknownIds++;
        continue;
      }
      const tid = pv.getInt32(s + 4, true);
      this.curTs = ts;
      const cs = r.sched;
      if (tid !== cs.cur && cs.cur >= 0) {
        // Every event is in the context of the task running on its CPU: this one runs, though
        // the kernel reported no switch to it.
        if (this.inferOn && !cs.lossy) this.inferSwitch(r, cs.cur, tid, ts);
        cs.cur = tid;
      }
      if (ts >= table.nextDueAt) {
        // /proc reads whose time has come: their values hold from here (and patch back).
        table.resolveDue(ts);
        if (table.learned !== this.learnedSeen) this.applyPatches();
      }
      if (tid !== lastTid || th === undefined) {
        th = table.get(tid, cpu, ts);
        lastTid = tid;
      }
      if (hd.entry !== undefined) {
        th.scId = hd.fmt.id;
        th.scName = hd.scName;
        const nb = hd.entry.saveBytes;
        if (nb > 0) {
          if (th.scArgs === undefined) {
            th.scArgs = new Uint8Array(48);
            th.scView = new DataView(th.scArgs.buffer);
          }
          const a = th.scView!;
          for (let k = 0; k < nb; k += 8) {
            a.setUint32(k, pv.getUint32(s + 16 + k, true), true);
            a.setUint32(k + 4, pv.getUint32(s + 20 + k, true), true);
          }
        }
      }
      if (hd.state !== undefined) {
        this.inEvent = true;
        hd.state(pv, pu, s, th, ts, cpu);
        this.inEvent = false;
        lastTid = -2;
        th = table.get(tid, cpu, ts);
        if (table.learned !== this.learnedSeen) this.applyPatches();
      }
      const sw = hd.sw;
      if (sw !== undefined) {
        cs.cur = pv.getInt32(s + sw.next, true);
        this.prios.set(tid, pv.getInt32(s + sw.prevPrio, true) - 100);
        this.prios.set(cs.cur, pv.getInt32(s + sw.nextPrio, true) - 100);
      }
      if (hd.plan === undefined) continue;
      if (hd.payload === undefined) this.compileHandler(hd);
      // The writer writes the event header, opens packets and copies the thread's prebuilt
      // context bytes; the payload is converted in here.
      if (th.ctxEpoch !== table.epoch) table.rebuild(th);
      const cb = th.ctxBytes;
      let o = ps.beginRawBytes(hd.ec!, ts, hd.recordVar ? hd.maxLen + c.dataLength : hd.maxLen, cb);
      if (o < 0) continue;
      const du = ps.bytes;
      if (th.incomplete) this.addPatch(th, ps, o - cb.length, 0);
      this.curStream = ps;
      o = hd.payload!(pv, pu, s, ps.view, du, o, th, helpers);
      ps.commitRaw(o);
    }
    r.lastTid = lastTid;
    r.lastTh = th;
    r.thVersion = table.version;
  }

  /**
   * Writes the `sched_switch` from `prev` to `next` that the kernel did not report (ADR 0161):
   * at `ts`, the first event of `next` on this CPU (the switch happened before it), in `prev`'s
   * context like a real one, in its own event class with the extra field `nstrace_inferred`.
   */
  private inferSwitch(r: CpuReader, prev: number, next: number, ts: number): void {
    const ps = r.stream;
    let ec = this.inferredEc;
    if (ec === undefined) {
      const spec = LTTNG_EVENT_BY_FTRACE.get('sched:sched_switch')!;
      const codes: Array<readonly [string, string]> = spec.fields.map((f) => [f.name, f.code] as const);
      codes.push(['nstrace_inferred', 'u8']);
      this.inferredCodes = codes.map((c) => c[1]);
      ec = this.inferredEc = this.tw.addEventClass({ name: 'sched_switch', fields: structFromCodes(codes) });
    }
    const table = this.table;
    const pt = table.get(prev, r.cpu, ts);
    const nt = table.get(next, r.cpu, ts);
    const values = [
      commText(pt.comm),
      prev,
      this.prioOf(prev),
      0,
      commText(nt.comm),
      next,
      this.prioOf(next),
      1,
    ];
    if (pt.ctxEpoch !== table.epoch) table.rebuild(pt);
    const at = ps.beginRawBytes(ec, ts, 64, pt.ctxBytes);
    if (at < 0) return;
    const du = ps.bytes;
    if (pt.incomplete) this.addPatch(pt, ps, at - pt.ctxBytes.length, 0);
    ps.commitRaw(encodeValues(this.inferredCodes, values, ps.view, du, at));
    this.inferredCount++;
  }

  /** LTTng priority of a task: the last one the trace showed, else /proc's, else 20 (nice 0). */
  private prioOf(tid: number): number {
    if (tid === 0) return 20;
    const p = this.prios.get(tid);
    if (p !== undefined) return p;
    const v = readProcPrio(tid) ?? 20;
    this.prios.set(tid, v);
    return v;
  }

  private cleanup(): void {
    for (const r of this.readers) {
      try {
        fs.closeSync(r.fd);
      } catch {
        // already closed
      }
    }
    if (!this.finished) {
      // Error path: still close what was written so the trace is readable up to here.
      try {
        this.tw?.close();
      } catch {
        // best effort
      }
    }
    try {
      this.instance?.remove();
    } finally {
      try {
        this.schedInstance?.remove();
      } finally {
        try {
          this.watchInstance?.remove();
        } finally {
          if (this.mount) unmountTracefs(this.mount);
        }
      }
    }
  }
}

/**
 * Asks the kernel to copy user strings into syscall events at their longest (kernels whose
 * events carry them: `syscall_user_buf_size`, at most 165 bytes); returns the size in effect,
 * undefined when the instance has no such file.
 */
function setKernelStringSize(inst: TraceInstance): number | undefined {
  if (!fs.existsSync(inst.file('syscall_user_buf_size'))) return undefined;
  try {
    inst.write('syscall_user_buf_size', '165');
  } catch {
    // keep the default
  }
  const v = Number(inst.read('syscall_user_buf_size').trim());
  return Number.isInteger(v) && v >= 0 ? v : undefined;
}

/**
 * Events recorded for every task, the recorder's own included: they describe the CPUs
 * (who runs, who wakes whom, interrupts) rather than what a task does, and lose their meaning
 * with holes (a CPU's switch chain must be whole for CPU accounting). The recorder adds a
 * bounded number of them (its own sleeps and wakeups), never in proportion to what it records.
 */
export function isCompleteSetEvent(ftrace: string): boolean {
  return ftrace.startsWith('sched:') || ftrace.startsWith('task:') || ftrace.startsWith('irq:');
}

/** Offsets in an ftrace sched_switch record of the fields the switch chain needs. */
function switchOffsets(fmt: FtraceEventFormat): NonNullable<Handler['sw']> {
  const off = (n: string): number => {
    const f = findField(fmt, n);
    if (!f) throw new NstraceError(`sched:sched_switch: field ${n} missing in its format`);
    return f.offset;
  };
  return {
    next: off('next_pid'),
    prev: off('prev_pid'),
    prevPrio: off('prev_prio'),
    nextPrio: off('next_prio'),
  };
}

/** comm bytes (NUL padded) as text. */
function commText(b: Uint8Array): string {
  let n = b.indexOf(0);
  if (n < 0) n = b.length;
  return Buffer.from(b.buffer, b.byteOffset, n).toString('utf8');
}

/** `priority` of /proc/<tid>/stat (field 18: prio - 100, LTTng's value), if readable. */
function readProcPrio(tid: number): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${tid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field 18 is rest[15].
  const v = Number(rest[15]);
  return Number.isInteger(v) ? v : undefined;
}

export function containerEvent(name: string, c: ContainerInfo, ts: number): InjectedEvent {
  const fields = STATEDUMP_EVENTS[name]!;
  const p = toContainerEventPayload(c);
  return {
    name,
    fields,
    ts,
    values: fields.map(([f]) => {
      const v = (p as unknown as Record<string, string | number | bigint>)[f];
      return v === undefined ? 0 : v;
    }),
  };
}

/** Bytes of the files in a directory (the trace written so far). */
export function dirBytes(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    let es: fs.Dirent[];
    try {
      es = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of es) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        try {
          n += fs.statSync(p).size;
        } catch {
          // gone
        }
      }
    }
  };
  walk(dir);
  return n;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => (ms <= 0 ? setImmediate(res) : setTimeout(res, ms)));
}

/** Waits for `p`, or until the signal aborts or `ms` pass; rethrows `p`'s rejection. */
async function untilStopped(p: Promise<void>, signal: AbortSignal | undefined, ms: number): Promise<void> {
  if (signal?.aborted) return;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<void>((resolve) => {
    if (ms !== Infinity) timer = setTimeout(resolve, Math.max(0, ms));
    onAbort = resolve;
    signal?.addEventListener('abort', onAbort);
  });
  try {
    await Promise.race([p, stop]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort!);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Records until `durationMs`, the abort signal, or an error; always restores tracefs. */
export async function record(opts: RecordOptions): Promise<RecordSummary> {
  return new Recorder(opts).run();
}
