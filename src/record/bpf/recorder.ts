/**
 * `nstrace record --backend bpf`: the same CTF kernel trace as the tracefs backend (event names,
 * layouts, statedump, packets), written from records the capture programs build in the kernel
 * (capture.ts, programs.ts). The context of every event was read from the current task at that
 * instant, syscall strings were copied at syscall entry: the user-space side only adds the event
 * header and converts the raw ftrace record into the LTTng payload (convert.ts, shared with the
 * tracefs backend).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NstraceError, UsageError } from '../../util/errors.js';
import type { NamedField, StructFC } from '../../ctf/ir.js';
import {
  TraceWriter,
  lttngLayout,
  type EventClassWriter,
  type StreamWriter,
} from '../../ctf/writer/index.js';
import { findField, type FtraceEventFormat } from '../format.js';
import {
  listSystemEvents,
  locateTracefs,
  readEventFormat,
  tracefsCpus,
  unmountTracefs,
  type TracefsMount,
} from '../tracefs.js';
import { CONTEXT_FIELDS, DEFAULT_CONTEXTS, ThreadTable, commBytes } from '../threads.js';
import { LTTNG_EVENT_BY_FTRACE, STATEDUMP_EVENTS } from '../lttng-events.js';
import {
  compilePayload,
  genericFields,
  genericName,
  planSyscall,
  rwbsFromBytes,
  type ConvHelpers,
  type PayloadFn,
  type PlanField,
} from '../convert.js';
import { fieldsForCode, structFC, structFromCodes } from '../types.js';
import { encodedSizeBound, encodeValues } from '../encode.js';
import { buildStatedump, statedumpEnd, type InjectedEvent } from '../statedump.js';
import { selectEvents } from '../events.js';
import { readNsHierarchy, walkThreads } from '../proc.js';
import { watchContainers, type ContainerInfo, type ContainerWatcher } from '../../containers/index.js';
import type { RecordOptions, RecordSummary } from '../recorder.js';
import { containerEvent, dirBytes, isCompleteSetEvent, sleep, withTimeout } from '../recorder.js';
import { Capture, tracepointId, type SyscallSpec, type TracepointSpec } from './capture.js';
import type { BpfContextName } from './kernel.js';
import {
  FLAG_ARGS,
  FLAG_CTX_UNKNOWN,
  FLAG_STR_EXIT,
  FLAG_STR_UNKNOWN,
  FORK_BYTES,
  HDR,
  HDR_STR_MASK,
  KIND_FORK,
  MAX_LEVELS,
  SYS_ENTER_BYTES,
  SYS_EXIT_BYTES,
} from './programs.js';
import { syscallNumber } from './syscalls.js';
import { cgroup2Root, cgroupStatedump, type CgroupEntry } from './cgroups.js';
import { Selection, hasRecordSelection } from './select.js';
import { REREAD_SYSCALLS, StringHold, patchEntry } from './hold.js';

/** The bpf backend's default contexts: the tracefs backend's, and the task's cgroup id. */
export const BPF_DEFAULT_CONTEXTS: readonly BpfContextName[] = [...DEFAULT_CONTEXTS, 'cgroup_id'];
/** Bytes copied from a record with `__data_loc` fields (fixed part + this much of the rest). */
const DYNAMIC_COPY = 512;
const TWO32 = 4294967296;

/** The wakeup events captured by raw tracepoint programs (ADR 0166). */
const WAKEUPS = new Set(['sched:sched_waking', 'sched:sched_wakeup', 'sched:sched_wakeup_new']);

/**
 * The record layout wakeupProgram writes (comm[16] at 8, pid at 24, prio at 28, target_cpu
 * at 32): any other layout keeps the tracepoint program, which copies what the kernel wrote.
 */
function hasWakeupLayout(fmt: FtraceEventFormat): boolean {
  const at = (name: string, offset: number, size: number): boolean => {
    const f = findField(fmt, name);
    return f !== undefined && f.offset === offset && f.size === size;
  };
  return (
    at('comm', 8, 16) &&
    at('pid', 24, 4) &&
    at('prio', 28, 4) &&
    at('target_cpu', 32, 4) &&
    fmt.fields.every((f) => f.offset + f.size <= 36)
  );
}

interface Handler {
  lttngName: string;
  fmt: FtraceEventFormat;
  plan: PlanField[] | undefined;
  entryFmt: FtraceEventFormat | undefined;
  ec: EventClassWriter | undefined;
  payload: PayloadFn | undefined;
  maxLen: number;
  recordVar: boolean;
  /** A syscall entry or exit (entryFmt set: an exit). */
  sys?: boolean;
  /** State side (container watcher): sched_process_exit, cgroup_mkdir/rmdir. */
  state: ((v: DataView, u: Uint8Array, s: number, tgid: number, tid: number) => void) | undefined;
}

/** What the payload converters take as the thread: the exit's saved entry arguments. */
interface ArgsHolder {
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
  /** Events dropped in the kernel because another BPF program ran on that CPU. */
  recursionMisses: number;
  /** The same, by what the skipped program captures. */
  recursionMissesBy: Record<string, number>;
  /** Records after the end (the syscall exits that run on for the strings): not written. */
  outsideRange: number;
  /** Records whose timestamp was below the previous one of their CPU (written at that time). */
  reordered: number;
  programs: number;
  attachments: number;
}

export class BpfRecorder {
  private readonly opts: RecordOptions;
  private mount: TracefsMount | undefined;
  private capture: Capture | undefined;
  private tw!: TraceWriter;
  private streams: StreamWriter[] = [];
  private streamOfCpu: StreamWriter[] = [];
  private cpus: number[] = [];
  private handlers: Array<Handler | undefined> = [];
  private readonly classByName = new Map<string, EventClassWriter>();
  private contexts: BpfContextName[] = [];
  private traceDir = '';
  private base = 0;
  private baseBig = 0n;
  private helpers!: ConvHelpers;
  private strBuf: Uint8Array = new Uint8Array(0);
  private readonly hold = new StringHold((rec) => this.writeHeld(rec));
  private strPos = 0;
  private strEnd = 0;
  private data!: Uint8Array;
  /** Offset of the raw record in a ring record. */
  private rawOff = 0;
  private view!: DataView;
  private readonly args: ArgsHolder;
  private forkEc: EventClassWriter | undefined;
  private readonly forkCodes = ['c16', 'i32', 'i32', 'u32', 'c16', 'i32', 'i32[u8]', 'i32', 'u32'];
  private injected: InjectedEvent[] = [];
  /** Time of the first injected event not written yet (Infinity: none). */
  private nextInjected = Infinity;
  private readonly onRecord = (off: number, len: number): void => this.record(off, len);
  private containerWatcher: ContainerWatcher | undefined;
  private containerCount = 0;
  private readonly containerEvents = { starts: 0, stops: 0 };
  private statedumpCount = 0;
  private lostTotal = 0;
  private readonly lostPerCpu = new Map<number, number>();
  private unknownIds = 0;
  private readonly extra: BpfRecordSummaryExtra = {
    backend: 'bpf',
    stringsUnknown: 0,
    stringsWritten: 0,
    stringsAtExit: 0,
    heldEntries: 0,
    heldGivenUp: 0,
    contextsUnknown: 0,
    recursionMisses: 0,
    recursionMissesBy: {},
    reordered: 0,
    outsideRange: 0,
    programs: 0,
    attachments: 0,
  };
  private curTs = 0;
  private inEvent = false;
  private selection: Selection | undefined;
  private finished = false;
  private startMs = Date.now();
  private stopTs = 0;
  /**
   * The recording's time range: from turning every program on to turning them off (attaching
   * or detaching them one by one takes tens of ms each: without the switch, a trace's edges
   * had some events and not others, a switch-in without its wakeup). The syscall exits run on
   * a little (their strings); what they record after the end is not written.
   */
  private whole = { from: 0, to: Infinity };
  private cgroups: CgroupEntry[] = [];

  constructor(opts: RecordOptions) {
    this.opts = opts;
    const a = new Uint8Array(48);
    this.args = { scId: -1, scArgs: a, scView: new DataView(a.buffer) };
  }

  now(): number {
    return Number(process.hrtime.bigint() - this.baseBig);
  }

  private warn(m: string): void {
    this.opts.onWarning?.(m);
  }

  private classFor(name: string, fields: StructFC): EventClassWriter {
    let c = this.classByName.get(name);
    if (!c) {
      c = this.tw.addEventClass({ name, fields });
      this.classByName.set(name, c);
    }
    return c;
  }

  async run(): Promise<RecordSummary & { bpf: BpfRecordSummaryExtra }> {
    if (process.getuid && process.getuid() !== 0) {
      throw new UsageError('nstrace record needs root (BPF programs and /proc of every process)');
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
    try {
      this.cleanup();
    } catch (err) {
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
    return {
      traceDir: this.traceDir,
      durationMs: Date.now() - t0,
      events,
      lost: this.lostTotal,
      bytes: this.opts.sink ? 0 : dirBytes(this.traceDir),
      packets,
      perCpu: this.streams.map((ps, i) => ({
        cpu: this.cpus[i]!,
        events: ps.events,
        lost: this.lostPerCpu.get(this.cpus[i]!) ?? 0,
        packets: ps.packets,
      })),
      eventClasses: this.classByName.size + (this.forkEc ? 1 : 0),
      statedumpEvents: this.statedumpCount,
      containers: this.containerCount,
      containerStarts: this.containerEvents.starts,
      containerStops: this.containerEvents.stops,
      threads: { lazyReads: 0, lazyMisses: 0, nsResolved: 0, nsUnresolved: 0, lateReads: 0, ppidUnknown: 0 },
      // Every string is the programs' copy at syscall entry, or at its exit where provably the
      // same bytes (ADR 0164); one read at neither is "" (the programs flag its event).
      userStrings: {
        known: this.extra.stringsWritten - this.extra.stringsUnknown,
        fromKernel: this.extra.stringsWritten - this.extra.stringsUnknown,
        unknown: this.extra.stringsUnknown,
        reasons: this.extra.stringsUnknown > 0 ? { kernelFault: this.extra.stringsUnknown } : {},
      },
      watcher: undefined,
      patches: { patched: 0, tooLate: 0, unresolved: 0 },
      inferredSwitches: 0,
      unknownFtraceEvents: this.unknownIds,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      bpf: { ...this.extra },
    };
  }

  // ------------------------------------------------------------------------------------------
  // Setup

  private async start(): Promise<void> {
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
    const { tracepoints, syscalls, fork } = this.setupHandlers(eventsDir);
    this.traceDir = path.join(o.outDir, 'kernel');
    if (!o.sink && fs.existsSync(this.traceDir) && fs.readdirSync(this.traceDir).length > 0) {
      throw new UsageError(`${this.traceDir} already holds a trace (choose another -o)`);
    }
    this.createWriter(o.packetSize ?? 256 * 1024);
    this.cpus = tracefsCpus(this.mount.root);
    this.streams = this.cpus.map((cpu) => this.tw.stream(0, cpu));
    for (let i = 0; i < this.cpus.length; i++) this.streamOfCpu[this.cpus[i]!] = this.streams[i]!;

    if (hasRecordSelection(o.select)) this.selection = new Selection(o.select!, (m) => this.warn(m));
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
    });
    // Every program attached: all start now (a record older than this is a syscall exit's).
    this.whole.from = this.now();
    this.capture.setOn(true);
    this.extra.attachments = this.capture.links;
    this.extra.programs = this.capture.programCount;
    this.data = this.capture.ring.data;
    this.rawOff = this.capture.rawOff;
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

  private createWriter(packetSize: number): void {
    const ctxFields: NamedField[] = [];
    for (const c of this.contexts) {
      const code = c === 'cgroup_id' ? 'u64' : CONTEXT_FIELDS[c];
      ctxFields.push(...fieldsForCode(c, code));
    }
    const realNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    const monoNs = process.hrtime.bigint();
    const o = this.opts;
    this.tw = TraceWriter.create({
      ...(o.sink ? { sink: o.sink } : { dir: this.traceDir }),
      layout: lttngLayout({
        domain: 'kernel',
        hostname: os.hostname(),
        clock: { offsetCycles: realNs - monoNs },
        traceName: o.traceName ?? path.basename(path.resolve(o.outDir)),
        env: {
          nstrace_recorder: `nstrace-record ${o.recorderVersion ?? ''}`.trim(),
          nstrace_source: 'bpf',
        },
      }),
      packetSize,
      cyclesBase: this.baseBig,
    });
    this.tw.addStreamClass({ header: 'compact', context: structFC(ctxFields) });
  }

  private setupHandlers(eventsDir: string): {
    tracepoints: TracepointSpec[];
    syscalls: SyscallSpec[];
    fork: boolean;
  } {
    const o = this.opts;
    const sel = selectEvents(
      o.events,
      o.syscalls,
      (s) => listSystemEvents(eventsDir, s),
      () => fs.readdirSync(eventsDir).filter((d) => fs.statSync(path.join(eventsDir, d)).isDirectory()),
    );
    const tracepoints: TracepointSpec[] = [];
    const root = path.dirname(eventsDir);
    const wanted = new Map<string, boolean>();
    for (const f of sel.written) wanted.set(f, true);
    // State only (the container watcher; sched_process_exit also saves the namespaces of the
    // exiting task for its last events): written when selected.
    if (!wanted.has('sched:sched_process_exit')) wanted.set('sched:sched_process_exit', false);
    for (const f of ['cgroup:cgroup_mkdir', 'cgroup:cgroup_rmdir']) {
      if (!wanted.has(f) && o.containers !== false) wanted.set(f, false);
    }
    let fork = false;
    for (const [ftrace, write] of wanted) {
      const [s, e] = ftrace.split(':') as [string, string];
      const fmt = readEventFormat(eventsDir, s, e);
      if (!fmt) continue;
      if (ftrace === 'sched:sched_process_fork') {
        fork = true;
        continue;
      }
      const spec = LTTNG_EVENT_BY_FTRACE.get(ftrace);
      const plan = write ? (spec ? spec.fields.map((f) => ({ ...f })) : genericFields(fmt)) : undefined;
      this.handlers[fmt.id] = {
        lttngName: spec ? spec.name : genericName(s, e),
        fmt,
        plan,
        entryFmt: undefined,
        ec: undefined,
        payload: undefined,
        maxLen: 0,
        recordVar: false,
        state: this.stateFor(ftrace, fmt),
      };
      const fixed = fmt.fields.reduce((m, f) => Math.max(m, f.offset + f.size), 8);
      const dynamic = fmt.fields.some((f) => f.dataLoc);
      const other =
        ftrace === 'sched:sched_switch'
          ? findField(fmt, 'next_pid')?.offset
          : /^sched:sched_(wakeup|waking|wakeup_new|migrate_task|pi_setprio|process_free)$/.test(ftrace)
            ? findField(fmt, 'pid')?.offset
            : undefined;
      tracepoints.push({
        ftrace,
        id: fmt.id,
        copy: ((fixed + 7) & ~7) + (dynamic ? DYNAMIC_COPY : 0),
        dynamic,
        exclude: !isCompleteSetEvent(ftrace),
        ...(other !== undefined ? { otherTidAt: other } : {}),
        ...(WAKEUPS.has(ftrace) && hasWakeupLayout(fmt) ? { wakeup: true } : {}),
      });
    }
    // The fork program also selects children and forgets reused tids (selection, exclusion).
    if (!fork && (o.containers !== false || hasRecordSelection(o.select) || o.excludeChildren !== false))
      fork = tracepointId(root, 'sched:sched_process_fork') !== undefined;
    this.forkWritten = sel.written.has('sched:sched_process_fork');
    // Syscalls (by number: the bpf programs attach to raw_syscalls).
    const syscalls: SyscallSpec[] = [];
    const unnumbered: string[] = [];
    const names = listSystemEvents(eventsDir, 'syscalls')
      .map((e) => /^sys_enter_(.+)$/.exec(e)?.[1])
      .filter((x): x is string => x !== undefined);
    for (const name of names) {
      if (!sel.allSyscalls && !sel.syscalls.has(name)) continue;
      const entryFmt = readEventFormat(eventsDir, 'syscalls', `sys_enter_${name}`);
      const exitFmt = readEventFormat(eventsDir, 'syscalls', `sys_exit_${name}`);
      if (!entryFmt || !exitFmt) continue;
      const nr = syscallNumber(name);
      if (nr === undefined) {
        unnumbered.push(name);
        continue;
      }
      const plan = planSyscall(name, entryFmt, exitFmt);
      const argNames = entryFmt.fields
        .filter((f) => !f.name.startsWith('common_') && f.name !== '__syscall_nr')
        .map((f) => f.name);
      const strings: number[] = [];
      for (const f of plan.entryFields) {
        if ('user' in f.src) {
          const i = argNames.indexOf(f.src.user);
          if (i >= 0) strings.push(i);
        }
      }
      if (strings.length > 3) continue; // no such syscall today; never write a guessed layout
      const exitUsesStrings = plan.exitFields.some((f) => 'entryUser' in f.src);
      this.handlers[entryFmt.id] = {
        lttngName: `syscall_entry_${name}`,
        sys: true,
        fmt: entryFmt,
        plan: plan.entryFields,
        entryFmt: undefined,
        ec: undefined,
        payload: undefined,
        maxLen: 0,
        recordVar: false,
        state: undefined,
      };
      this.handlers[exitFmt.id] = {
        lttngName: `syscall_exit_${name}`,
        sys: true,
        fmt: exitFmt,
        // Exit strings at entry pointers (none in lttng-modules' x86-64 table today): empty.
        plan: exitUsesStrings
          ? plan.exitFields.map((f) => ('entryUser' in f.src ? { ...f, src: { constant: 0 } } : f))
          : plan.exitFields,
        entryFmt,
        ec: undefined,
        payload: undefined,
        maxLen: 0,
        recordVar: false,
        state: undefined,
      };
      syscalls.push({
        nr,
        enterId: entryFmt.id,
        exitId: exitFmt.id,
        strings,
        saveArgs: plan.exitFields.some((f) => 'entryArg' in f.src),
        reread: strings.length > 0 && REREAD_SYSCALLS.has(name),
      });
    }
    if (unnumbered.length > 0) {
      this.warn(
        `the bpf backend does not know the number of ${unnumbered.length} syscalls of this kernel ` +
          `(not recorded: ${unnumbered.join(', ')}; --backend tracefs records them)`,
      );
    }
    if (tracepoints.length === 0 && syscalls.length === 0 && !fork)
      throw new UsageError('no event to record');
    const rawEnter = tracepointId(root, 'raw_syscalls:sys_enter');
    const rawExit = tracepointId(root, 'raw_syscalls:sys_exit');
    if (syscalls.length > 0 && (rawEnter === undefined || rawExit === undefined))
      throw new NstraceError('this kernel has no raw_syscalls tracepoints');
    return { tracepoints, syscalls, fork };
  }

  private forkWritten = false;

  private stateFor(ftrace: string, fmt: FtraceEventFormat): Handler['state'] {
    switch (ftrace) {
      case 'sched:sched_process_exit': {
        const gd = findField(fmt, 'group_dead');
        return (v, _u, s, tgid, tid) => {
          const groupDead = gd ? v.getUint8(s + gd.offset) !== 0 : tid === tgid;
          if (groupDead) this.containerWatcher?.noteExit(tgid);
        };
      }
      case 'cgroup:cgroup_mkdir':
      case 'cgroup:cgroup_rmdir': {
        const f = findField(fmt, 'path');
        if (!f || !f.dataLoc) return undefined;
        const mkdir = ftrace === 'cgroup:cgroup_mkdir';
        return (v, u, s) => {
          const cw = this.containerWatcher;
          if (!cw) return;
          const loc = v.getUint32(s + f.offset, true);
          const start = s + (loc & 0xffff);
          let end = start + (loc >>> 16);
          while (end > start && u[end - 1] === 0) end--;
          const p = Buffer.from(u.buffer, u.byteOffset + start, end - start).toString('utf8');
          if (mkdir) cw.noteCgroupMkdir(p);
          else cw.noteCgroupRmdir(p);
        };
      }
      default:
        return undefined;
    }
  }

  private compileHandler(h: Handler): void {
    const compiled = compilePayload(h.plan!, h.fmt, h.entryFmt);
    if (compiled.missing.length > 0) {
      this.warn(`${h.lttngName}: no ftrace source for ${compiled.missing.join(', ')} (written as 0/empty)`);
    }
    h.payload = compiled.fn;
    h.ec = this.classFor(h.lttngName, compiled.fields);
    h.maxLen = compiled.maxSize + 8;
    h.recordVar = compiled.recordVar;
  }

  // ------------------------------------------------------------------------------------------
  // Statedump and containers

  private async statedump(): Promise<void> {
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
          this.selection?.consider(c);
        }
      } catch (err) {
        this.warn(`container discovery failed: ${(err as Error).message}`);
      }
    }
    this.selection?.seed(threads);
    this.selection?.reportUnmatched();
    evs.push(statedumpEnd(this.now()));
    this.statedumpCount = evs.length;
    this.addInjected(evs);
  }

  private containerChange(name: string, c: ContainerInfo): void {
    const ts = this.inEvent ? this.curTs : Math.max(this.now(), this.curTs);
    if (name === 'nstrace_container_start') {
      this.containerEvents.starts++;
      this.selection?.consider(c);
    } else this.containerEvents.stops++;
    this.addInjected([containerEvent(name, c, ts)]);
  }

  /**
   * Writes the recorder's own events (statedump, containers) up to `limit` into the first
   * CPU's stream, in time order with that CPU's records (record() calls it before a record
   * past the next one).
   */
  private flushInjected(limit: number): void {
    if (this.injected.length === 0) return;
    // Not past a record of that CPU still held (hold.ts): it is written later, in time order.
    limit = Math.min(limit, this.hold.heldSince(this.cpus[0]!) - 1);
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

  private addInjected(evs: InjectedEvent[]): void {
    this.injected.push(...evs);
    for (const e of evs) if (e.ts < this.nextInjected) this.nextInjected = e.ts;
  }

  /** Reads the ring now (between the slow steps of the start: the ring keeps filling). */
  private pump(): void {
    this.capture?.ring.consume(this.onRecord);
  }

  private selfCtx: Uint8Array | undefined;
  /** The recorder's own context bytes (its events are made in user space, by this process). */
  private selfContext(): Uint8Array {
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

  // ------------------------------------------------------------------------------------------
  // The loop

  private async loop(): Promise<void> {
    const o = this.opts;
    const deadline = o.durationMs !== undefined ? Date.now() + o.durationMs : Infinity;
    const progressEvery = o.progressIntervalMs ?? 1000;
    let nextProgress = Date.now() + progressEvery;
    let nextStats = 0;
    let stopping = false;
    const onAbort = (): void => {
      stopping = true;
    };
    o.signal?.addEventListener('abort', onAbort);
    const ring = this.capture!.ring;
    const onRecord = this.onRecord;
    try {
      while (!stopping && !o.signal?.aborted) {
        const before = this.now();
        const n = ring.consume(onRecord);
        // Every record of an earlier time is written (but those still being written: margin).
        this.hold.expire();
        this.flushInjected(before - 5_000_000);
        const now = Date.now();
        if (now >= nextStats) {
          this.checkLost();
          nextStats = now + 200;
        }
        if (now >= nextProgress) {
          nextProgress = now + progressEvery;
          this.reportProgress();
        }
        if (now >= deadline) break;
        const behind = o.sinkReady?.();
        if (behind !== undefined) await behind;
        await sleep(n >= 4096 ? 0 : Math.min(n > 0 ? 5 : 20, Math.max(0, deadline - now)));
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
    // Everything stops at once, but the syscall exits, 50 ms later: the syscalls in flight
    // bring the strings they read at their exit (the exits themselves are after the end).
    this.capture!.setOn(false, true);
    this.stopTs = this.now();
    this.whole.to = this.stopTs;
    for (let i = 0; i < 10; i++) {
      ring.consume(onRecord);
      await sleep(5);
    }
    this.capture!.setOn(false, false);
    // Detach (no new records), then read what is left.
    this.capture!.detach(() => ring.consume(onRecord));
    const misses = this.capture!.recursionMisses();
    this.extra.recursionMisses = misses.total;
    this.extra.recursionMissesBy = misses.by;
    // Counted as lost (not per CPU: the kernel counts them per program).
    this.lostTotal += misses.total;
    ring.consume(onRecord);
    // Entries still waiting for their exit: written now, their strings unknown.
    this.hold.releaseAll();
    this.extra.heldEntries = this.hold.stats.held;
    this.extra.heldGivenUp = this.hold.stats.givenUp;
    this.flushInjected(Infinity);
    this.checkLost();
    for (const ps of this.streams) ps.close(Math.max(this.stopTs, ps.lastTimestamp));
    this.tw.close();
    this.finished = true;
    this.reportProgress();
  }

  /** One ring record: header, context block, raw record (see programs.ts). */
  private record(off: number, len: number): void {
    const u = this.data;
    // Fast path: nothing held, not an entry left for its exit, not an exit bringing strings.
    if (this.hold.active === 0 && u[off + HDR_STR_MASK] === 0 && (u[off + 12]! & FLAG_STR_EXIT) === 0) {
      this.write(u, this.view, off, len);
      return;
    }
    this.holdRecord(off, len);
  }

  /**
   * Records around a syscall entry whose strings its exit reads (ADR 0164): the entry waits
   * for its exit, with every later record of its CPU; the exit (or the task's next syscall
   * record) resolves it.
   */
  private holdRecord(off: number, len: number): void {
    const u = this.data;
    const v = this.view;
    const cpu = v.getUint32(off + 8, true);
    const tid = v.getInt32(off + 16, true);
    const flags = u[off + 12]!;
    const raw = u[off + 13] !== KIND_FORK;
    const ts = v.getUint32(off + 4, true) * TWO32 + v.getUint32(off, true) - this.base;
    const hd = raw ? this.handlers[v.getUint16(off + this.rawOff, true)] : undefined;
    if (hd?.sys === true && this.hold.isWaiting(tid)) {
      if ((flags & FLAG_STR_EXIT) !== 0 && hd.entryFmt !== undefined) {
        const at = off + this.rawOff + SYS_EXIT_BYTES + ((flags & FLAG_ARGS) !== 0 ? 48 : 0);
        const strs = u.slice(at, off + len);
        const ok = u[off + HDR_STR_MASK]!;
        this.hold.resolve(tid, (e) => {
          const r = patchEntry(e, this.rawOff + SYS_ENTER_BYTES, strs, ok);
          this.extra.stringsAtExit += r.recovered;
          return r.rec;
        });
      } else this.hold.resolve(tid, undefined);
    }
    if (raw && hd?.sys === true && hd.entryFmt === undefined && u[off + HDR_STR_MASK] !== 0) {
      this.hold.hold(cpu, tid, ts, u.slice(off, off + len));
    } else if (!this.hold.queue(cpu, ts, () => u.slice(off, off + len))) this.write(u, v, off, len);
  }

  private writeHeld(rec: Uint8Array): void {
    this.write(rec, new DataView(rec.buffer, rec.byteOffset, rec.byteLength), 0, rec.length);
  }

  /** Writes one record into its CPU's stream. */
  private write(u: Uint8Array, v: DataView, off: number, len: number): void {
    const ts0 = v.getUint32(off + 4, true) * TWO32 + v.getUint32(off, true) - this.base;
    const cpu = v.getUint32(off + 8, true);
    const flags = u[off + 12]!;
    const kind = u[off + 13]!;
    const ps = this.streamOfCpu[cpu];
    if (ps === undefined) {
      this.unknownIds++;
      return;
    }
    let ts = ts0;
    if (ts0 >= this.nextInjected && ps === this.streams[0]) this.flushInjected(ts0);
    if (ts < ps.lastTimestamp) {
      ts = ps.lastTimestamp;
      this.extra.reordered++;
    }
    if ((flags & FLAG_CTX_UNKNOWN) !== 0) this.extra.contextsUnknown++;
    const s = off + this.rawOff;
    if (kind === KIND_FORK) {
      this.fork(ps, ts, u, v, off, s);
      return;
    }
    const hd = this.handlers[v.getUint16(s, true)];
    if (hd === undefined) {
      this.unknownIds++;
      return;
    }
    this.curTs = ts;
    if (hd.state !== undefined) {
      this.inEvent = true;
      hd.state(v, u, s, v.getInt32(off + 20, true), v.getInt32(off + 16, true));
      this.inEvent = false;
    }
    if (hd.plan === undefined) return;
    if (ts0 < this.whole.from || ts0 > this.whole.to) {
      this.extra.outsideRange++;
      return;
    }
    if (hd.payload === undefined) this.compileHandler(hd);
    if ((flags & FLAG_STR_UNKNOWN) !== 0) this.extra.stringsUnknown++;
    const a = this.args;
    if ((flags & FLAG_ARGS) !== 0) {
      a.scId = hd.entryFmt ? hd.entryFmt.id : -1;
      const src = s + SYS_EXIT_BYTES;
      for (let k = 0; k < 48; k += 4) a.scView.setUint32(k, v.getUint32(src + k, true), true);
    } else a.scId = -1;
    this.strBuf = u;
    this.strPos = s + SYS_ENTER_BYTES;
    this.strEnd = off + len;
    let o = ps.beginRawFrom(hd.ec!, ts, hd.recordVar ? hd.maxLen + len : hd.maxLen, u, off + HDR);
    if (o < 0) return;
    o = hd.payload!(v, u, s, ps.view, ps.bytes, o, a as never, this.helpers);
    ps.commitRaw(o);
  }

  /** The next user string of the record (copied by the entry program), NUL-terminated. */
  private userString(du: Uint8Array, o: number): number {
    this.extra.stringsWritten++;
    const u = this.strBuf;
    let p = this.strPos;
    const end = this.strEnd;
    while (p < end) {
      const c = u[p++]!;
      if (c === 0) break;
      du[o++] = c;
    }
    du[o++] = 0;
    this.strPos = p;
    return o;
  }

  private fork(ps: StreamWriter, ts: number, u: Uint8Array, v: DataView, off: number, s: number): void {
    const parentTgid = v.getInt32(s + 20, true);
    const childTid = v.getInt32(s + 28, true);
    const childTgid = v.getInt32(s + 32, true);
    const childNs = v.getUint32(s + 36, true);
    this.curTs = ts;
    if (childTid === childTgid) {
      this.inEvent = true;
      this.containerWatcher?.noteFork(parentTgid, childTid, childNs || undefined);
      this.inEvent = false;
    }
    this.selection?.noteFork(childNs);
    if (!this.forkWritten) return;
    if (!this.forkEc) {
      const spec = LTTNG_EVENT_BY_FTRACE.get('sched:sched_process_fork')!;
      this.forkEc = this.classFor(
        'sched_process_fork',
        structFromCodes(spec.fields.map((f) => [f.name, f.code] as const)),
      );
    }
    const levels = Math.min(v.getUint32(s + 40, true), MAX_LEVELS);
    const vtids: number[] = [];
    for (let l = 0; l < levels; l++) vtids.push(v.getInt32(s + 60 + 4 * l, true));
    const text = (at: number): string => {
      let e = at;
      while (e < at + 16 && u[e] !== 0) e++;
      return Buffer.from(u.buffer, u.byteOffset + at, e - at).toString('utf8');
    };
    const values = [
      text(s),
      v.getInt32(s + 16, true),
      parentTgid,
      v.getUint32(s + 24, true),
      text(s + 44),
      childTid,
      vtids,
      childTgid,
      childNs,
    ];
    const at = ps.beginRawFrom(this.forkEc, ts, FORK_BYTES + 64, u, off + HDR);
    if (at < 0) return;
    ps.commitRaw(encodeValues(this.forkCodes, values, ps.view, ps.bytes, at));
  }

  /** Ring-buffer losses per CPU → events_discarded of that CPU's stream, summary, warning. */
  private checkLost(): void {
    const d = this.capture!.lostDelta();
    d.forEach((n, cpu) => {
      if (n <= 0) return;
      const ps = this.streamOfCpu[cpu];
      if (!ps) return;
      if (ps.packets === 0) ps.switchPacket(Math.max(ps.lastTimestamp, 0), true);
      ps.discard(n);
      this.lostTotal += n;
      this.lostPerCpu.set(cpu, (this.lostPerCpu.get(cpu) ?? 0) + n);
      this.warn(`lost ${n} events on CPU ${cpu} (ring buffer full; try a larger --buffer-size)`);
    });
  }

  private reportProgress(): void {
    if (!this.opts.onProgress) return;
    let events = 0;
    for (const ps of this.streams) events += ps.events;
    const elapsedMs = Date.now() - this.startMs;
    this.opts.onProgress({
      elapsedMs,
      events,
      bytes: this.opts.sink ? 0 : dirBytes(this.traceDir),
      lost: this.lostTotal,
      eventsPerSec: elapsedMs > 0 ? (events * 1000) / elapsedMs : 0,
    });
  }

  private cleanup(): void {
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
}

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
