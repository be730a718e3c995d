/**
 * The bpf recorder's state and setup (recorder.ts runs it): the capture programs and their
 * maps, the CTF writer and its event classes, the statedump and the container events, the
 * recorder's own context; cleanup.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NstraceError, UsageError } from '../../util/errors.js';
import type { NamedField } from '../../ctf/ir.js';
import type { EventClassWriter, StreamWriter } from '../../ctf/writer/index.js';
import { locateTracefs, tracefsCpus, unmountTracefs, type TracefsMount } from '../tracefs.js';
import { CONTEXT_FIELDS, DEFAULT_CONTEXTS } from '../contexts.js';
import { commBytes } from '../thread.js';
import { ThreadTable } from '../threads.js';
import { inferredSwitchFields, STATEDUMP_EVENTS } from '../lttng-events.js';
import { rwbsFromBytes, type ConvHelpers } from '../convert.js';
import { fieldsForCode, structFromCodes } from '../types.js';
import { encodedSizeBound, encodeValues } from '../encode.js';
import { buildStatedump, statedumpEnd, type InjectedEvent } from '../statedump.js';
import { readNsHierarchy, walkThreads } from '../proc.js';
import type { ContainerInfo } from '../../containers/index.js';
import type { RecordOptions } from '../options.js';
import { Capture } from './capture.js';
import { ContextRefs } from './context-refs.js';
import { contextLayout, type BpfContextName } from './kernel.js';
import { cgroup2Root, cgroupStatedump, type CgroupEntry } from './cgroups.js';
import { Selection, hasRecordSelection } from './select.js';
import { StringHold } from './hold.js';
import { setupHandlers, type BpfStateHost, type Handler } from './handlers.js';
import { createKernelTraceWriter } from '../writer.js';
import { SessionBase } from '../session-base.js';
import { ReorderWindow, type EmitFn } from './order.js';
import { SwitchInference, type InferredSwitch } from './infer.js';
import { findField } from '../format.js';

/** The bpf backend's default contexts: the tracefs backend's, and the task's cgroup id. */
export const BPF_DEFAULT_CONTEXTS: readonly BpfContextName[] = [...DEFAULT_CONTEXTS, 'cgroup_id'];

/** What the payload converters take as the thread: the exit's saved entry arguments. */
export interface ArgsHolder {
  scId: number;
  scArgs: Uint8Array;
  scView: DataView;
}

export interface BpfRecordSummaryExtra {
  backend: 'bpf';
  /** Events with a user string read neither at syscall entry nor at its exit (written as ""). */
  stringsUnknown: number;
  /** Syscall string arguments written (known or not). */
  stringsWritten: number;
  /** Strings not readable at entry, read at the syscall's exit (ADR 0164). */
  stringsAtExit: number;
  /** Entries held for their exit, and those written without its strings (unknown). */
  heldEntries: number;
  heldGivenUp: number;
  /** Events of tasks nested deeper than the programs resolve (ids and pid ns 0). */
  contextsUnknown: number;
  /**
   * Syscall records whose context block the kernel left out of the ring (the CPU's reference
   * block, byte for byte) and the recorder put back; and those with no reference (never
   * expected: written with an unknown context).
   */
  contextsRestored: number;
  contextsUnresolved: number;
  /** Events dropped in the kernel because another BPF program ran on that CPU. */
  recursionMisses: number;
  /** The same, by what the skipped program captures. */
  recursionMissesBy: Record<string, number>;
  /** Records after the end (the syscall exits that run on for the strings): not written. */
  outsideRange: number;
  /**
   * Records that reached the ring behind a later record of their CPU (a program interrupted
   * between its clock read and its ring write) and were put back in place.
   */
  reordered: number;
  /**
   * Records that came too late even for that (after a later record of their CPU was written):
   * written at that later time, a timestamp not observed. Expected 0.
   */
  late: number;
  /** Records held at most by the reorder window (its memory bound: a few per CPU). */
  reorderHeldMax: number;
  /** Switches the kernel did not report, inferred (ADR 0167), and holes left (no context seen). */
  inferredSwitches: number;
  inferSkipped: number;
  /** Inferred switches with a priority the kernel never showed (read from /proc then). */
  inferPrioUnobserved: number;
  programs: number;
  attachments: number;
}

export abstract class BpfSession extends SessionBase implements BpfStateHost {
  protected mount: TracefsMount | undefined;
  protected capture: Capture | undefined;
  protected streamOfCpu: StreamWriter[] = [];
  protected cpus: number[] = [];
  protected handlers: Array<Handler | undefined> = [];
  protected contexts: BpfContextName[] = [];
  protected base = 0;
  protected helpers!: ConvHelpers;
  protected strBuf: Uint8Array = new Uint8Array(0);
  protected readonly hold = new StringHold((rec) => this.writeHeld(rec));
  protected strPos = 0;
  protected strEnd = 0;
  protected data!: Uint8Array;
  /** The ring's data as 32-bit words (ContextRefs copies by words). */
  protected words!: Uint32Array;
  /** Offset of the raw record in a ring record. */
  protected rawOff = 0;
  protected view!: DataView;
  protected readonly args: ArgsHolder;
  protected forkEc: EventClassWriter | undefined;
  protected readonly forkCodes = ['c16', 'i32', 'i32', 'u32', 'c16', 'i32', 'i32[u8]', 'i32', 'u32'];
  protected injected: InjectedEvent[] = [];
  /** Time of the first injected event not written yet (Infinity: none). */
  protected nextInjected = Infinity;
  protected readonly onRecord = (off: number, len: number): void => this.record(off, len);
  /** Before the ring space of a batch is released: what still points into it is copied. */
  protected readonly onSettle = (): void => {
    this.window?.settle();
    this.inference?.settle(this.data);
  };
  /** Each CPU's records, back in time order (order.ts), before they are written. */
  protected window: ReorderWindow | undefined;
  protected inference: SwitchInference | undefined;
  /** Context blocks the kernel left out of syscall records, put back (context-refs.ts). */
  protected contextRefs: ContextRefs | undefined;
  protected inferredEc: EventClassWriter | undefined;
  protected statedumpCount = 0;
  protected readonly lostPerCpu = new Map<number, number>();
  protected unknownIds = 0;
  protected readonly extra: BpfRecordSummaryExtra = {
    backend: 'bpf',
    stringsUnknown: 0,
    stringsWritten: 0,
    stringsAtExit: 0,
    heldEntries: 0,
    heldGivenUp: 0,
    contextsUnknown: 0,
    contextsRestored: 0,
    contextsUnresolved: 0,
    recursionMisses: 0,
    recursionMissesBy: {},
    reordered: 0,
    late: 0,
    reorderHeldMax: 0,
    inferredSwitches: 0,
    inferSkipped: 0,
    inferPrioUnobserved: 0,
    outsideRange: 0,
    programs: 0,
    attachments: 0,
  };
  protected selection: Selection | undefined;
  protected finished = false;
  protected stopTs = 0;
  /**
   * The recording's time range: from turning every program on to turning them off (attaching
   * or detaching them one by one takes tens of ms each: without the switch, a trace's edges
   * had some events and not others, a switch-in without its wakeup). The syscall exits run on
   * a little (their strings); what they record after the end is not written.
   */
  protected whole = { from: 0, to: Infinity };
  protected cgroups: CgroupEntry[] = [];
  /** sched_process_fork is written (not only captured for the state). */
  protected forkWritten = false;

  constructor(opts: RecordOptions) {
    super(opts);
    const a = new Uint8Array(48);
    this.args = { scId: -1, scArgs: a, scView: new DataView(a.buffer) };
  }

  // ------------------------------------------------------------------------------------------
  // Setup

  protected async start(): Promise<void> {
    const o = this.opts;
    this.contexts = [...((o.contexts as readonly BpfContextName[] | undefined) ?? BPF_DEFAULT_CONTEXTS)];
    const nowBig = process.hrtime.bigint();
    this.baseBig = (nowBig >> 32n) << 32n;
    this.base = Number(this.baseBig);
    this.helpers = {
      userString: (_th, _lo, _hi, du, off) => this.userString(du, off),
      // The programs copy strings themselves at entry: the next one of the record, whatever
      // ftrace's own copy would have been. Exit plans have no strings (made constants below).
      kernelString: (_th, _lo, _hi, _pu, _at, _len, du, off) => this.userString(du, off),
      exitString: () => {
        throw new NstraceError('exit strings are not part of the bpf records');
      },
      special: () => {
        throw new NstraceError('special fields are written by the fork record');
      },
      rwbs: rwbsFromBytes,
    };
    this.mount = locateTracefs({ mount: true });
    const eventsDir = path.join(this.mount.root, 'events');
    const { tracepoints, syscalls, fork, forkWritten } = setupHandlers(
      eventsDir,
      o,
      this.handlers,
      this,
      (m) => this.warn(m),
    );
    this.forkWritten = forkWritten;
    this.traceDir = path.join(o.outDir, 'kernel');
    if (!o.sink && fs.existsSync(this.traceDir) && fs.readdirSync(this.traceDir).length > 0) {
      throw new UsageError(`${this.traceDir} already holds a trace (choose another -o)`);
    }
    this.createWriter(o.packetSize ?? 256 * 1024);
    this.cpus = tracefsCpus(this.mount.root);
    this.streams = this.cpus.map((cpu) => this.tw.stream(0, cpu));
    for (let i = 0; i < this.cpus.length; i++) this.streamOfCpu[this.cpus[i]!] = this.streams[i]!;
    const cpuSlots = Math.max(0, ...this.cpus) + 1;
    this.window = new ReorderWindow(
      (b, v, off, len, ts, cpu) => this.emit(b, v, off, len, ts, cpu),
      cpuSlots,
    );

    if (hasRecordSelection(o.select)) this.selection = new Selection(o.select!, (m) => this.warn(m));
    this.setupInference(eventsDir, cpuSlots);
    // Ring: --buffer-size per CPU, as one ring shared by all CPUs (a power of two).
    const perCpuKb = o.bufferSizeKb ?? 16384;
    let ring = 1 << 16;
    while (ring < perCpuKb * 1024 * this.cpus.length && ring < 1 << 30) ring *= 2;
    const self = [process.pid, ...(o.excludePids ?? [])];
    this.capture = new Capture({
      contexts: this.contexts,
      tracepoints,
      syscalls,
      fork,
      ringBytes: ring,
      excludeTgids: self,
      excludeChildren: o.excludeChildren !== false,
      select: this.selection !== undefined,
      switchIn: this.inference !== undefined,
      elideContexts: true,
    });
    // Every program attached: all start now (a record older than this is a syscall exit's).
    this.whole.from = this.now();
    this.capture.setOn(true);
    this.extra.attachments = this.capture.links;
    this.extra.programs = this.capture.programCount;
    this.data = this.capture.ring.data;
    this.words = this.capture.ring.words;
    this.window!.ringView = this.capture.ring.view;
    this.rawOff = this.capture.rawOff;
    this.contextRefs = new ContextRefs(contextLayout(this.contexts).size, this.rawOff);
    this.view = this.capture.ring.view;
    this.selection?.attach(this.capture);
    this.tw.flushMetadata();
    // The statedump: once the programs run (like LTTng's, after tracing starts); the ring is
    // read meanwhile (container discovery waits on runtime APIs).
    const pumping = setInterval(() => this.pump(), 10);
    try {
      if (o.statedump !== false) await this.statedump();
    } finally {
      clearInterval(pumping);
    }
    o.onStarted?.();
  }

  /**
   * Switch inference (infer.ts): only where the trace has the real switches, and not under
   * record-time selection (the records of the tasks left out are missing on purpose).
   */
  private setupInference(eventsDir: string, cpuSlots: number): void {
    if (this.opts.inferSwitches === false || this.selection !== undefined) return;
    const fmt = this.handlers.find((h) => h?.lttngName === 'sched_switch' && h.plan !== undefined)?.fmt;
    if (fmt === undefined) return;
    const at = (n: string): number | undefined => findField(fmt, n)?.offset;
    const f = ['prev_comm', 'prev_pid', 'prev_prio', 'next_comm', 'next_pid', 'next_prio'].map(at);
    if (f.some((x) => x === undefined)) {
      this.warn(`${eventsDir}/sched/sched_switch: unexpected layout, no switch inference`);
      return;
    }
    const [prevComm, prevPid, prevPrio, nextComm, nextPid, nextPrio] = f as number[];
    const layout = contextLayout(this.contexts);
    this.inference = new SwitchInference(
      cpuSlots,
      layout.size,
      layout.offsets.get('procname'),
      {
        id: fmt.id,
        prevComm: prevComm!,
        prevPid: prevPid!,
        prevPrio: prevPrio!,
        nextComm: nextComm!,
        nextPid: nextPid!,
        nextPrio: nextPrio!,
      },
      (cpu, ts, sw, ctx) => this.writeInferred(cpu, ts, sw, ctx),
    );
  }

  /** Writes an inferred switch (lttng-events.ts `inferredSwitchFields`). */
  private writeInferred(cpu: number, ts: number, sw: InferredSwitch, ctx: Uint8Array): void {
    const ps = this.streamOfCpu[cpu];
    if (ps === undefined) return;
    const codes = INFERRED_CODES;
    if (this.inferredEc === undefined) {
      const named = inferredSwitchFields();
      if (named.map((c) => c[1]).join() !== codes.join())
        throw new NstraceError('sched_switch layout changed');
      this.inferredEc = this.tw.addEventClass({ name: 'sched_switch', fields: structFromCodes(named) });
    }
    const values = [
      sw.prevComm,
      sw.prevTid,
      sw.prevPrio,
      0,
      sw.nextComm,
      sw.nextTid,
      sw.nextPrio,
      1,
      sw.prioUnobserved,
    ];
    const at = ps.beginRawFrom(this.inferredEc, ts, 96, ctx, 0);
    if (at < 0) return;
    ps.commitRaw(encodeValues(codes, values, ps.view, ps.bytes, at));
  }

  protected createWriter(packetSize: number): void {
    const ctxFields: NamedField[] = [];
    for (const c of this.contexts) {
      const code = c === 'cgroup_id' ? 'u64' : CONTEXT_FIELDS[c];
      ctxFields.push(...fieldsForCode(c, code));
    }
    this.tw = createKernelTraceWriter(this.opts, this.traceDir, ctxFields, packetSize, this.baseBig, 'bpf');
  }

  // ------------------------------------------------------------------------------------------
  // Statedump and containers

  protected async statedump(): Promise<void> {
    this.pump();
    const threads = walkThreads();
    this.pump();
    const hierarchy = readNsHierarchy();
    const table = new ThreadTable({
      contexts: DEFAULT_CONTEXTS,
      nsParent: (inum) => hierarchy.parent.get(inum),
      now: () => this.now(),
    });
    const seen = this.now();
    for (const p of threads) table.addFromProc(p, seen);
    table.afterWalk();
    this.pump();
    const evs = buildStatedump(threads, table, { now: () => this.now() });
    this.pump();
    this.cgroups = cgroupStatedump();
    for (const c of this.cgroups) {
      evs.push({
        name: 'nstrace_statedump_cgroup',
        fields: STATEDUMP_EVENTS['nstrace_statedump_cgroup']!,
        values: [c.id, c.path],
        ts: this.now(),
      });
    }
    await this.watchContainers(evs);
    this.selection?.seed(threads);
    this.selection?.reportUnmatched();
    evs.push(statedumpEnd(this.now()));
    this.statedumpCount = evs.length;
    this.injectEvents(evs);
  }

  protected override containerSeen(c: ContainerInfo): void {
    this.selection?.consider(c);
  }

  /**
   * Writes the recorder's own events (statedump, containers) up to `limit` into the first
   * CPU's stream, in time order with that CPU's records (record() calls it before a record
   * past the next one).
   */
  protected flushInjected(limit: number): void {
    if (this.injected.length === 0) return;
    // Not past a record of that CPU still held (hold.ts, order.ts): it is written later, in
    // time order.
    const cpu0 = this.cpus[0]!;
    limit = Math.min(limit, this.hold.heldSince(cpu0) - 1, (this.window?.oldest(cpu0) ?? Infinity) - 1);
    const ps = this.streams[0]!;
    this.injected.sort((a, b) => a.ts - b.ts);
    const ctx = this.selfContext();
    let i = 0;
    for (; i < this.injected.length; i++) {
      const ev = this.injected[i]!;
      if (ev.ts > limit) break;
      const ec = this.classFor(ev.name, structFromCodes(ev.fields));
      const codes = ev.fields.map((f) => f[1]);
      const ts = Math.max(ev.ts, ps.lastTimestamp);
      const at = ps.beginRawBytes(ec, ts, encodedSizeBound(codes, ev.values) + 8, ctx);
      if (at < 0) continue;
      ps.commitRaw(encodeValues(codes, ev.values, ps.view, ps.bytes, at));
    }
    this.injected = this.injected.slice(i);
    this.nextInjected = this.injected.length > 0 ? this.injected[0]!.ts : Infinity;
  }

  protected injectEvents(evs: InjectedEvent[]): void {
    this.injected.push(...evs);
    for (const e of evs) if (e.ts < this.nextInjected) this.nextInjected = e.ts;
  }

  /** Reads the ring now (between the slow steps of the start: the ring keeps filling). */
  protected pump(): void {
    this.capture?.ring.consume(this.onRecord, Infinity, this.onSettle);
  }

  protected selfCtx: Uint8Array | undefined;
  /** The recorder's own context bytes (its events are made in user space, by this process). */
  protected selfContext(): Uint8Array {
    if (this.selfCtx) return this.selfCtx;
    const codes: string[] = [];
    const values: Array<number | bigint | string> = [];
    const ns = (t: string): number => {
      try {
        return fs.statSync(`/proc/self/ns/${t}`).ino;
      } catch {
        return 0;
      }
    };
    for (const c of this.contexts) {
      switch (c) {
        case 'procname':
          codes.push('c16');
          values.push(
            Buffer.from(commBytes(fs.readFileSync('/proc/self/comm', 'utf8').trim()))
              .toString('latin1')
              .replace(/\0+$/, ''),
          );
          continue;
        case 'cgroup_id':
          codes.push('u64');
          values.push(selfCgroupId());
          continue;
        case 'tid':
        case 'pid':
        case 'vtid':
        case 'vpid':
          codes.push('i32');
          values.push(process.pid);
          continue;
        case 'ppid':
        case 'vppid':
          codes.push('i32');
          values.push(process.ppid);
          continue;
        default:
          codes.push('u32');
          values.push(ns(c === 'pid_ns' ? 'pid' : c.replace(/_ns$/, '')));
      }
    }
    const buf = new Uint8Array(256);
    const n = encodeValues(codes, values, new DataView(buf.buffer), buf, 0);
    this.selfCtx = buf.slice(0, n);
    return this.selfCtx;
  }

  protected cleanup(): void {
    try {
      this.capture?.close();
    } finally {
      this.capture = undefined;
      if (!this.finished) {
        try {
          this.tw?.close();
        } catch {
          // best effort: the trace is readable up to here
        }
      }
      if (this.mount) unmountTracefs(this.mount);
    }
  }

  /** Writes a held syscall entry (recorder.ts). */
  protected abstract writeHeld(rec: Uint8Array): void;

  /** Writes one record, in its CPU's time order (recorder.ts; the reorder window calls it). */
  protected abstract emit(...record: Parameters<EmitFn>): void;

  /** Takes one ring-buffer record (recorder.ts: the per-record path). */
  protected abstract record(off: number, len: number): void;

  /** Writes the next user string of the record being written (recorder.ts); the new offset. */
  protected abstract userString(du: Uint8Array, o: number): number;
}

/** The inferred switch's payload codes (`inferredSwitchFields`), checked against it on first use. */
const INFERRED_CODES = ['c16', 'i32', 'i32', 'i64', 'c16', 'i32', 'i32', 'u8', 'u8'];

/** The cgroup (v2) id of this process (0 when not known). */
function selfCgroupId(): bigint {
  try {
    const line = /^0::(.*)$/m.exec(fs.readFileSync('/proc/self/cgroup', 'utf8'));
    const root = cgroup2Root();
    if (!line || !root) return 0n;
    return BigInt(fs.statSync(path.join(root, line[1]!)).ino);
  } catch {
    return 0n;
  }
}
