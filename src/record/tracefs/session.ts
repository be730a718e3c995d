/**
 * The tracefs recorder's state and setup (recorder.ts runs it): the tracefs instances, the
 * CTF writer and its event classes, the per-CPU readers, the thread table from the /proc walk,
 * the statedump and the container events, the watcher; the summary; cleanup.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NstraceError, UsageError } from '../../util/errors.js';
import { runAll } from '../../util/run-all.js';
import type { NamedField } from '../../ctf/ir.js';
import { findField } from '../format.js';
import { PageCursor } from './ringbuf.js';
import {
  locateTracefs,
  readHeaderLayouts,
  tracefsCpus,
  TraceInstance,
  unmountTracefs,
  type TracefsMount,
} from '../tracefs.js';
import { boottimeMinusMonoNs, readNsHierarchy, walkThreads, type ProcThread } from '../proc.js';
import { CONTEXT_FIELDS, DEFAULT_CONTEXTS } from '../contexts.js';
import type { Thread } from '../thread.js';
import { ThreadTable } from '../threads.js';
import { rwbsFromBytes, type ConvHelpers } from '../convert.js';
import type { EventClassWriter, StreamWriter } from '../../ctf/writer/index.js';
import { fieldsForCode } from '../types.js';
import { buildStatedump, statedumpEnd, type InjectedEvent } from '../statedump.js';
import { isCompleteSetEvent } from '../events.js';
import { Watcher } from './watcher.js';
import { StringArgs } from './strings.js';
import { changeTimes, holdsFrom, type ChangeEvent } from './lookahead.js';
import type { RecordSummary } from '../options.js';
import { dirBytes } from '../util.js';
import { makeHandler, setupHandlers, type Handler, type StateHost } from './handlers.js';
import { CpuReader, CpuSched, TWO32 } from './readers.js';
import { watchSpecs } from './watch-specs.js';
import { createKernelTraceWriter } from '../writer.js';
import { SessionBase } from '../session-base.js';

/** Tolerance when comparing a task's start (10 ms ticks, /proc/uptime) with an event time. */
const START_SLACK_NS = 30_000_000;

export abstract class RecorderSession extends SessionBase implements StateHost {
  protected mount: TracefsMount | undefined;
  /** Everything but the complete set, with the recorder's own tasks excluded. */
  protected instance: TraceInstance | undefined;
  /** The complete set (scheduling, task, interrupt events) of every task, the recorder's too. */
  protected schedInstance: TraceInstance | undefined;
  /** One per CPU and instance; several readers feed each CPU's stream. */
  protected readers: CpuReader[] = [];
  /** Per CPU (index in `cpus`). */
  protected cpus: number[] = [];
  protected handlers: Array<Handler | undefined> = [];
  protected table!: ThreadTable;
  protected baseHi = 0;
  protected injected: InjectedEvent[] = [];
  protected injectedPos = 0;
  protected injectStream!: StreamWriter;
  protected unknownIds = 0;
  protected helpers!: ConvHelpers;
  forkParent: Thread | undefined;
  forkChild: Thread | undefined;
  protected strings!: StringArgs;
  protected selfThread: Thread | undefined;
  protected startTs = 0;
  protected stopTs = 0;
  protected statedumpCount = 0;
  protected finished = false;
  protected watcher: Watcher | undefined;
  protected watchInstance: TraceInstance | undefined;
  /** Timestamp of the event being converted (for the watcher's string captures). */
  /** Stream being written (for patch entries made by special fields). */
  protected curStream: StreamWriter | undefined;
  /** Threads with values written before they were known. */
  protected readonly pendingPatch = new Set<Thread>();
  protected learnedSeen = 0;
  protected patchStats = { patched: 0, tooLate: 0, unresolved: 0 };
  /** Per CPU (index in `cpus`): the switch chain, shared by that CPU's readers. */
  protected cpuSched: CpuSched[] = [];
  /** Last priority seen per tid (LTTng's value, prio - 100). */
  protected readonly prios = new Map<number, number>();
  protected inferredEc: EventClassWriter | undefined;
  protected inferredCodes: string[] = [];
  protected inferredCount = 0;
  /** Inferred switches' priorities no event had shown (from /proc): counted, never cached. */
  protected prioUnobserved = 0;
  protected inferOn = true;
  protected startShift = 0;
  /** A state handler is running (container changes it causes take the event's time). */

  // ------------------------------------------------------------------------------------------
  // Setup

  protected createWriter(traceDir: string, packetSize: number): void {
    const ctxFields: NamedField[] = [];
    for (const c of this.table.contexts) ctxFields.push(...fieldsForCode(c, CONTEXT_FIELDS[c]));
    this.tw = createKernelTraceWriter(this.opts, traceDir, ctxFields, packetSize, this.baseBig, 'ftrace');
  }

  protected async start(): Promise<void> {
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
    const sel = setupHandlers(path.join(this.mount.root, 'events'), o, this.handlers, (f, fmt, write) =>
      makeHandler(f, fmt, write, this.table, this),
    );

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
  protected lookahead(): void {
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
  protected startWatcher(
    notrace: string,
    layouts: ReturnType<typeof readHeaderLayouts>,
    cpus: number[],
  ): void {
    const { specs, enable } = watchSpecs(this.handlers);
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
  protected walkForTable(): ProcThread[] {
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

  protected async statedump(): Promise<void> {
    const begin = this.now();
    const threads = this.walkForTable();
    const evs = buildStatedump(threads, this.table, { now: () => this.now(), begin });
    await this.watchContainers(evs);
    evs.push(statedumpEnd(this.now()));
    this.statedumpCount = evs.length;
    this.injectEvents(evs);
  }

  protected injectEvents(evs: InjectedEvent[]): void {
    // Keep the queue sorted by time (statedump events are built in time order).
    this.injected = this.injected.slice(this.injectedPos).concat(evs);
    this.injected.sort((a, b) => a.ts - b.ts);
    this.injectedPos = 0;
  }

  /** The summary of a finished recording (`t0`: its start, Date.now(); `cpu`: CPU time used). */
  protected summary(t0: number, cpu: NodeJS.CpuUsage): RecordSummary {
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
            outsideWindow: this.watcher.stats.outsideWindow,
            pruned: this.watcher.stats.pruned,
            starved: this.watcher.stats.starved,
          }
        : undefined,
      patches: { ...this.patchStats },
      inferredSwitches: this.inferredCount,
      inferredPrioUnobserved: this.prioUnobserved,
      unknownFtraceEvents: this.unknownIds,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
    };
  }

  protected cleanup(): void {
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
    runAll([
      () => this.instance?.remove(),
      () => this.schedInstance?.remove(),
      () => this.watchInstance?.remove(),
      () => this.mount && unmountTracefs(this.mount),
    ]);
  }

  /** Reads every available page of every CPU (recorder.ts); returns the number read. */
  protected abstract readAll(final: boolean): number;

  /** Writes a field computed by the recorder (convert.ts `special`); returns the new offset. */
  protected abstract special(name: string, dv: DataView, du: Uint8Array, o: number): number;
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
