/**
 * The system model: state replayed from kernel events (threads, CPUs, namespaces, containers).
 *
 * The model is a tracker layer (perfetto style): it owns identity (which thread runs on which
 * CPU, which container a thread belongs to) and the analyses read it. It subscribes to event
 * classes through two phases so that analyses see the state exactly when lttng-analyses'
 * notifications would: `pre` runs before the analyses for an event, `post` after. For example a
 * syscall exit is matched to its thread in `pre` and the thread's syscall is cleared in `post`;
 * the priority carried by `sched_migrate_task` is applied in `post`, after cputop counted the
 * migration.
 *
 * What the model reads:
 * - `sched_switch`, `sched_migrate_task`, `sched_wakeup`/`_new`/`sched_waking`,
 *   `sched_pi_setprio`, `sched_process_fork`/`exec`/`exit`/`free`;
 * - `syscall_entry_*`/`sys_*` and `syscall_exit_*`/`exit_syscall`; `[kmem_]mm_page_alloc`/`free`;
 * - hard and soft IRQ events (only to learn CPUs, as lttng-analyses does);
 * - `lttng_statedump_process_state` in both layouts (before LTTng 2.12 it carried
 *   `vtid/vpid/vppid/ns_level/ns_inum`, one event per pid-namespace level) and
 *   `lttng_statedump_process_{pid,user,mnt,net,uts,ipc,cgroup,time}_ns`;
 * - container events (docs/container-events.md and the 2018 `lttng_statedump_container`);
 * - the stream event context fields `_tid _pid _ppid _vtid _vpid _procname` and `_<type>_ns`.
 */
import type { EventRecord } from '../ctf/event.js';
import type { EventClass, FieldClass } from '../ctf/ir.js';
import { ContainerRegistry } from './containers.js';
import type { Container, ContainerDecl } from './containers.js';
import type { ClassInfo, EventFn, Subscriber } from './dispatch.js';
import { compose } from './dispatch.js';
import type { FieldLocation } from './fields.js';
import {
  anyField,
  classAt,
  isIntegerClass,
  isTextClass,
  payloadField,
  readNum,
  streamContextField,
  toNum,
  toNumArray,
  toStr,
} from './fields.js';
import { TraceFormatError } from '../util/errors.js';
import { FLAT_NS_TYPES, NamespaceRegistry } from './namespaces.js';
import type { FlatNsType, PidLevel, UserLevel } from './namespaces.js';
import { CpuState, Thread } from './threads.js';
import { VtidJoin } from './ust-join.js';

export type PrioListener = (thread: Thread, prio: number, ts: number) => void;

/** Optional parts of the state, tracked only when an analysis needs them (they cost per event). */
export interface ModelOptions {
  /** The syscall in flight per thread (`syscallstats`). Default true. */
  syscalls?: boolean;
  /** Page allocation accounting (`memtop`). Default true. */
  memory?: boolean;
}

/** Which kinds of information the trace turned out to have (for diagnostics). */
export interface ModelCoverage {
  schedSwitch: boolean;
  pidNsStatedump: boolean;
  legacyNsStatedump: boolean;
  forkNs: boolean;
  pidNsContext: boolean;
  containerEvents: boolean;
}

const SOFT_HARD_IRQ_EVENTS = new Set([
  'irq_handler_entry',
  'irq_handler_exit',
  'softirq_raise',
  'softirq_entry',
  'softirq_exit',
]);

const CONTAINER_EVENTS = {
  nstrace_container_statedump: 'statedump',
  nstrace_container_start: 'start',
  nstrace_container_stop: 'stop',
  lttng_statedump_container: 'legacy',
} as const;

/** `lttng-modules` fixed the priority offset of `sched_wak*` events in 2.7.1. */
function wakeupPrioOffset(info: ClassInfo): number {
  const env = info.trace.cls.env;
  const major = Number(env.get('tracer_major'));
  const minor = Number(env.get('tracer_minor'));
  const patch = Number(env.get('tracer_patchlevel'));
  if (!Number.isFinite(major) || !Number.isFinite(minor) || !Number.isFinite(patch)) return 0;
  if (major !== 2) return major < 2 ? -100 : 0;
  if (minor !== 7) return minor < 7 ? -100 : 0;
  return patch < 1 ? -100 : 0;
}

/** `syscall_entry_open` → `open`; undefined for other events (compat syscalls are ignored, as lttng-analyses does). */
export function syscallEntryName(name: string): string | undefined {
  if (name.startsWith('syscall_entry_')) return name.slice(14);
  if (name.startsWith('sys_')) return name.slice(4);
  return undefined;
}

export function isSyscallExit(name: string): boolean {
  return name.startsWith('syscall_exit_') || name.startsWith('exit_syscall');
}

/** Whether an event is a container event the model reads (nstrace's or the 2018 proposal's). */
export function isContainerEvent(name: string): boolean {
  return containerEventKind(name) !== undefined;
}

function containerEventKind(
  name: string,
): (typeof CONTAINER_EVENTS)[keyof typeof CONTAINER_EVENTS] | undefined {
  const colon = name.lastIndexOf(':');
  const base = colon >= 0 ? name.slice(colon + 1) : name;
  return Object.prototype.hasOwnProperty.call(CONTAINER_EVENTS, base)
    ? CONTAINER_EVENTS[base as keyof typeof CONTAINER_EVENTS]
    : undefined;
}

const KIND_TEXT: Record<FieldClass['kind'], string> = {
  int: 'an integer',
  enum: 'an enumeration',
  float: 'a floating point number',
  string: 'a string',
  struct: 'a structure',
  variant: 'a variant',
  array: 'an array',
  sequence: 'a sequence',
};

export class SystemModel {
  /** Current thread per host tid. */
  readonly threads = new Map<number, Thread>();
  /** Every thread lifetime ever created, in creation order (index = uid). */
  readonly allThreads: Thread[] = [];
  /** CPU state by id (sparse). */
  readonly cpus: CpuState[] = [];
  readonly namespaces = new NamespaceRegistry();
  readonly containers: ContainerRegistry;
  readonly coverage: ModelCoverage = {
    schedSwitch: false,
    pidNsStatedump: false,
    legacyNsStatedump: false,
    forkNs: false,
    pidNsContext: false,
    containerEvents: false,
  };
  /** Pages allocated minus freed since the start (lttng-analyses ignores frees when it is 0). */
  pageCount = 0;
  private knownCpus = 0;

  // Per-event outputs for analyses: valid while the event is being dispatched.
  /** CPU of the event being handled (sched_switch, migrate, syscall exit, page events). */
  cpuId = -1;
  /** `sched_switch`: the previous and next threads. */
  switchPrev: Thread | undefined;
  switchNext: Thread | undefined;
  /** `sched_switch`: `prev_comm` and `next_comm` as in the event (byte strings: see `byteStringToText`). */
  switchPrevComm = '';
  switchNextComm = '';
  /** `sched_migrate_task`: the migrated thread. */
  migrated: Thread | undefined;
  /** Page alloc/free: the thread to charge, or undefined when lttng-analyses would not. */
  memThread: Thread | undefined;
  /** Syscall entry: the thread whose syscall starts, or undefined when none is known. */
  entryThread: Thread | undefined;
  /** Syscall exit: the thread whose syscall ends (its `sysName`/`sysEntry` are still set), or undefined. */
  exitThread: Thread | undefined;
  /** Syscall exit: the return value (NaN when the event has none). */
  exitRet = NaN;

  private readonly prioListeners: PrioListener[] = [];
  /** Host thread of each (pid namespace, vtid), with validity intervals (the UST join). */
  readonly vtids = new VtidJoin();
  private pidGroupTid = -1;
  private userGroupTid = -1;
  private legacyGroupTid = -1;

  /** Subscriber for the phase before the analyses. */
  readonly pre: Subscriber = {
    bind: (info) => this.bindPre(info),
    // The context tracker reads only the stream event context.
    needsPayload: (info) => this.specificClasses.has(info.eventClass),
  };
  /** Event classes with a model callback beyond the context tracker (they read payloads). */
  private readonly specificClasses = new Set<EventClass>();
  /** Subscriber for the phase after the analyses. */
  readonly post: Subscriber = { bind: (info) => this.bindPost(info) };

  private readonly trackSyscalls: boolean;
  private readonly trackMemory: boolean;

  constructor(opts: ModelOptions = {}) {
    this.trackSyscalls = opts.syscalls ?? true;
    this.trackMemory = opts.memory ?? true;
    this.containers = new ContainerRegistry(
      (inum) => this.namespaces.isHostPidNs(inum),
      (inum) => this.namespaces.pid.get(inum)?.parent,
    );
  }

  /** Calls `fn` whenever a thread's priority changes (lttng-analyses' `prio_changed`). */
  onPrioChanged(fn: PrioListener): void {
    this.prioListeners.push(fn);
  }

  /** Number of CPUs lttng-analyses would know at this point. */
  get knownCpuCount(): number {
    return this.knownCpus;
  }

  cpu(id: number): CpuState {
    let c = this.cpus[id];
    if (c === undefined) {
      c = new CpuState(id);
      this.cpus[id] = c;
    }
    return c;
  }

  private markCpu(id: number): CpuState | undefined {
    let c = this.cpus[id];
    if (c === undefined) {
      if (!(id >= 0) || !Number.isInteger(id) || id > 1 << 20) return undefined;
      c = this.cpu(id);
    }
    if (!c.known) {
      c.known = true;
      this.knownCpus++;
    }
    return c;
  }

  /** The current thread of a tid, created if needed. */
  thread(tid: number, ts: number): Thread {
    let t = this.threads.get(tid);
    if (t === undefined) {
      t = this.newThread(tid, ts);
    }
    return t;
  }

  /** Starts a new lifetime for `tid` (fork). */
  private newThread(tid: number, ts: number): Thread {
    const t = new Thread(this.allThreads.length, tid, ts);
    if (tid === 0) t.pid = 0;
    this.allThreads.push(t);
    this.threads.set(tid, t);
    return t;
  }

  /**
   * The thread whose tid in pid namespace `pidNs` is `vtid` at `ts` (without `ts`: the latest
   * one known), when known.
   */
  threadByVtid(pidNs: number, vtid: number, ts?: number): Thread | undefined {
    return this.vtids.lookup(pidNs, vtid, ts);
  }

  /** Thread lifetimes grouped by process (host pid; a thread whose pid is unknown is its own). */
  processes(): Map<number, Thread[]> {
    const m = new Map<number, Thread[]>();
    for (const t of this.allThreads) {
      const pid = t.pid ?? t.tid;
      let l = m.get(pid);
      if (l === undefined) {
        l = [];
        m.set(pid, l);
      }
      l.push(t);
    }
    return m;
  }

  /** The container of a thread (the host until its pid namespace is known). */
  containerOf(t: Thread): Container {
    return t.container ?? this.containers.host;
  }

  /**
   * Ends the replay: binds threads whose pid namespace stayed unknown to the host and widens
   * container lifetimes to their threads'. Call once, after the last event.
   */
  finish(): void {
    const reg = this.containers;
    for (const t of this.allThreads) {
      if (t.container === undefined && t.forkParent !== undefined) {
        // Forked without namespace information and never seen with any: its parent's (a fork
        // without CLONE_NEWPID, the common case).
        let p: Thread | undefined = t.forkParent;
        while (p !== undefined && p.pidNs === undefined) p = p.forkParent;
        if (p?.pidNs !== undefined) this.setPidNs(t, p.pidNs, t.firstSeen);
      }
      if (t.container === undefined) reg.bind(t, reg.host);
      t.container!.seen(t.firstSeen);
      t.container!.seen(t.lastSeen);
    }
    reg.linkParents();
  }

  // --- namespace bookkeeping -------------------------------------------------------------

  private setPidNs(t: Thread, inum: number, ts: number): void {
    if (!(inum > 0) || t.pidNs === inum) return;
    t.pidNs = inum;
    const c = this.containers.forPidNs(inum, ts);
    this.containers.bind(t, c);
    c.seen(ts);
    this.indexVtid(t);
  }

  private indexVtid(t: Thread): void {
    const ns = t.pidNs;
    const v = t.vtid;
    if (ns === undefined || v === undefined) return;
    this.vtids.note(ns, v, t);
  }

  private setPidLevel(t: Thread, level: number, entry: PidLevel, ts: number, group: 'pid' | 'legacy'): void {
    if (!(level >= 0) || level > 64) return;
    const groupTid = group === 'pid' ? this.pidGroupTid : this.legacyGroupTid;
    let lv = t.pidLevels;
    if (groupTid !== t.tid || lv === undefined) {
      // First (deepest) event of this task's group: its level is the active one.
      lv = new Array<PidLevel>(level + 1);
      for (let i = 0; i <= level; i++)
        lv[i] = { inum: undefined, vtid: undefined, vpid: undefined, vppid: undefined };
      t.pidLevels = lv;
      if (group === 'pid') this.pidGroupTid = t.tid;
      else this.legacyGroupTid = t.tid;
    }
    while (lv.length <= level)
      lv.push({ inum: undefined, vtid: undefined, vpid: undefined, vppid: undefined });
    lv[level] = entry;
    const reg = this.namespaces;
    if (entry.inum !== undefined) {
      const parent = level > 0 ? lv[level - 1]!.inum : undefined;
      reg.note('pid', entry.inum, level, parent);
      const child = lv[level + 1]?.inum;
      if (child !== undefined) reg.note('pid', child, level + 1, entry.inum);
      if (level === lv.length - 1) this.setPidNs(t, entry.inum, ts);
    }
    if (level === lv.length - 1) this.indexVtid(t);
  }

  private setUserLevel(t: Thread, level: number, entry: UserLevel): void {
    if (!(level >= 0) || level > 64) return;
    let lv = t.userLevels;
    if (this.userGroupTid !== t.tid || lv === undefined) {
      lv = new Array<UserLevel>(level + 1);
      for (let i = 0; i <= level; i++) lv[i] = { inum: undefined, vuid: undefined, vgid: undefined };
      t.userLevels = lv;
      this.userGroupTid = t.tid;
    }
    while (lv.length <= level) lv.push({ inum: undefined, vuid: undefined, vgid: undefined });
    lv[level] = entry;
    if (entry.inum !== undefined) {
      this.namespaces.note('user', entry.inum, level, level > 0 ? lv[level - 1]!.inum : undefined);
      if (level === lv.length - 1) {
        t.ns.user = entry.inum;
        this.namespaces.seen.user.add(entry.inum);
      }
    }
  }

  private setFlatNs(t: Thread, type: FlatNsType, inum: number): void {
    if (!(inum > 0) || t.ns[type] === inum) return;
    t.ns[type] = inum;
    this.namespaces.seen[type].add(inum);
  }

  private prioCheck(t: Thread, prio: number, ts: number): void {
    if (t.tid === 0 || Number.isNaN(prio)) return;
    if (t.prio !== prio) {
      t.prio = prio;
      const ls = this.prioListeners;
      for (let i = 0; i < ls.length; i++) ls[i]!(t, prio, ts);
    }
  }

  // --- binding -----------------------------------------------------------------------------

  private bindPre(info: ClassInfo): EventFn | undefined {
    const ctx = this.bindContext(info);
    const specific = this.bindSpecific(info);
    if (specific !== undefined) this.specificClasses.add(info.eventClass);
    const fns: EventFn[] = [];
    if (ctx !== undefined) fns.push(ctx);
    if (specific !== undefined) fns.push(specific);
    return compose(fns) ?? undefined;
  }

  private bindPost(info: ClassInfo): EventFn | undefined {
    const { name, streamClass: sc, eventClass: ec } = info;
    if (name === 'sched_migrate_task') {
      const prio = anyField(sc, ec, 'prio');
      return (ev) => {
        const t = this.migrated;
        if (t !== undefined) this.prioCheck(t, readNum(prio, ev), ev.ts);
      };
    }
    if (this.trackSyscalls && isSyscallExit(name)) {
      return () => {
        const t = this.exitThread;
        if (t !== undefined) t.sysName = undefined;
      };
    }
    return undefined;
  }

  /**
   * Stream event context fields: namespaces and ids of the current task. Runs on every event of
   * a stream with such contexts, so the common case (same task, same values as the previous
   * event of that stream) is a few comparisons of raw values.
   */
  private bindContext(info: ClassInfo): EventFn | undefined {
    const sc = info.streamClass;
    if (sc.eventContext === undefined) return undefined;
    const tidF = streamContextField(sc, 'tid');
    const pidF = streamContextField(sc, 'pid');
    const ppidF = streamContextField(sc, 'ppid');
    const vtidF = streamContextField(sc, 'vtid');
    const vpidF = streamContextField(sc, 'vpid');
    const procnameF = streamContextField(sc, 'procname');
    const pidNsF = streamContextField(sc, 'pid_ns');
    const flat: Array<[FlatNsType, number]> = [];
    for (const type of FLAT_NS_TYPES) {
      const f = streamContextField(sc, `${type}_ns`);
      if (f !== undefined) flat.push([type, f.index]);
    }
    const useful = pidNsF !== undefined || flat.length > 0 || vtidF !== undefined || vpidF !== undefined;
    const ids = tidF !== undefined || pidF !== undefined || ppidF !== undefined || procnameF !== undefined;
    if (!useful && !ids) return undefined;
    if (pidNsF !== undefined) this.coverage.pidNsContext = true;
    const cpuF = anyField(sc, info.eventClass, 'cpu_id');
    const isUst = info.trace.cls.env.get('domain') === 'ust';
    // Watched raw values: the tid (or, without it, the CPU's current tid), then every context.
    const watched: number[] = [];
    for (const f of [tidF, pidF, ppidF, vtidF, vpidF, procnameF, pidNsF])
      if (f !== undefined) watched.push(f.index);
    for (const [, i] of flat) watched.push(i);
    const n = watched.length;
    const useCpu = tidF === undefined && !isUst;
    // Per stream index: the raw values of the previous event (and its CPU's current tid).
    const last: Array<unknown[] | undefined> = [];
    const iTid = tidF?.index ?? -1;
    const iPidNs = pidNsF?.index ?? -1;
    const iVtid = vtidF?.index ?? -1;
    // Per stream index: the reader's context version of the previous event (see EventRecord).
    const lastVersion: Array<number | undefined> = [];
    return (ev) => {
      const ctx = ev.streamContext;
      if (ctx === undefined) return;
      const si = ev.stream.index;
      const ver = ev.streamContextVersion;
      if (ver !== undefined && !useCpu) {
        if (lastVersion[si] === ver) return;
        lastVersion[si] = ver;
      }
      let prev = last[si];
      if (prev === undefined) {
        prev = new Array<unknown>(n + 1).fill(undefined);
        last[si] = prev;
      }
      let changed = false;
      for (let i = 0; i < n; i++) {
        const v = ctx[watched[i]!];
        if (prev[i] !== v) {
          prev[i] = v;
          changed = true;
        }
      }
      let cpuTid = -1;
      if (useCpu) {
        const cpu = this.cpus[readNum(cpuF, ev)];
        cpuTid = cpu === undefined ? -1 : cpu.currentTid;
        if (prev[n] !== cpuTid) {
          prev[n] = cpuTid;
          changed = true;
        }
      }
      if (!changed) return;
      let t: Thread | undefined;
      if (iTid >= 0) {
        const tid = toNum(ctx[iTid]);
        if (!(tid >= 0)) return;
        t = this.thread(tid, ev.ts);
      } else if (isUst) {
        if (iPidNs < 0 || iVtid < 0) return;
        t = this.threadByVtid(toNum(ctx[iPidNs]), toNum(ctx[iVtid]), ev.ts);
        if (t === undefined) return;
      } else {
        if (cpuTid < 0) return;
        t = this.thread(cpuTid, ev.ts);
      }
      t.lastSeen = ev.ts;
      // The same values as this thread's last event (threads taking turns on a CPU): nothing new.
      const seen = t.ctxSeen;
      if (seen !== undefined && seen.length === n + 1) {
        let same = true;
        for (let i = 0; i < n; i++) {
          if (seen[i] !== prev[i]) {
            same = false;
            break;
          }
        }
        if (same) return;
        for (let i = 0; i < n; i++) seen[i] = prev[i];
      } else t.ctxSeen = prev.slice();
      if (pidF !== undefined && t.pid === undefined) t.pid = toNum(ctx[pidF.index]);
      if (ppidF !== undefined && t.ppid === undefined) t.ppid = toNum(ctx[ppidF.index]);
      if (procnameF !== undefined && t.comm === '') t.comm = toStr(ctx[procnameF.index]);
      if (iVtid >= 0) {
        const v = toNum(ctx[iVtid]);
        if (v >= 0) t.vtidCtx = v;
      }
      if (vpidF !== undefined) {
        const v = toNum(ctx[vpidF.index]);
        if (v >= 0) t.vpidCtx = v;
      }
      for (let i = 0; i < flat.length; i++) this.setFlatNs(t, flat[i]![0], toNum(ctx[flat[i]![1]]));
      const pidNs = iPidNs >= 0 ? toNum(ctx[iPidNs]) : NaN;
      if (pidNs > 0 && (t.pidNs === undefined || (t.pidNsInherited && t.pidNs !== pidNs))) {
        if (t.pidNsInherited) {
          // Its own context says otherwise: a fork into a new pid namespace (clone with
          // CLONE_NEWPID) whose event had no namespace fields.
          t.pidNsInherited = false;
          t.pidLevels = undefined;
        }
        this.setPidNs(t, pidNs, ev.ts);
      } else this.indexVtid(t);
    };
  }

  private bindSpecific(info: ClassInfo): EventFn | undefined {
    const { name, streamClass: sc, eventClass: ec } = info;
    const f = (n: string): FieldLocation | undefined => anyField(sc, ec, n);
    const p = (n: string): FieldLocation | undefined => payloadField(ec, n);

    switch (name) {
      case 'sched_switch': {
        this.coverage.schedSwitch = true;
        // The hot path reads values by index without looking at them: each field must have the
        // class its use needs (a corrupt or foreign trace may say otherwise). The tids must be
        // there: the analyses read the threads of every switch.
        const typed = (
          loc: FieldLocation | undefined,
          n: string,
          text: boolean,
          required = false,
        ): FieldLocation | undefined => {
          if (loc === undefined) {
            if (!required) return undefined;
            // Skipping the event instead left the analyses reading the threads of a switch the
            // model never saw (cputop crashed on it; fuzz case tc-flipping-endianness-s3003-460).
            throw new TraceFormatError(
              info.trace.metadataPath,
              undefined,
              `event 'sched_switch' has no field '${n}': the analyses need the threads of every switch`,
            );
          }
          const fc = classAt(sc, ec, loc);
          if (text ? isTextClass(fc) : isIntegerClass(fc)) return loc;
          throw new TraceFormatError(
            info.trace.metadataPath,
            undefined,
            `event 'sched_switch': field '${n}' is ${fc === undefined ? 'absent' : KIND_TEXT[fc.kind]}, not ${text ? 'text' : 'an integer'}`,
          );
        };
        const cpuF = typed(f('cpu_id'), 'cpu_id', false);
        const prevTidF = typed(p('prev_tid'), 'prev_tid', false, true)!;
        const nextTidF = typed(p('next_tid'), 'next_tid', false, true)!;
        // Hot path: payload fields read by index (LTTng has them all); optional ones as -1.
        const iPrevTid = prevTidF.index;
        const iNextTid = nextTidF.index;
        const iPrevComm = typed(p('prev_comm'), 'prev_comm', true)?.index ?? -1;
        const iNextComm = typed(p('next_comm'), 'next_comm', true)?.index ?? -1;
        const iPrevPrio = typed(p('prev_prio'), 'prev_prio', false)?.index ?? -1;
        const iNextPrio = typed(p('next_prio'), 'next_prio', false)?.index ?? -1;
        const cpuGet = cpuF?.get;
        return (ev) => {
          const ts = ev.ts;
          const pl = ev.payload!;
          const cpuId = cpuGet === undefined ? NaN : (cpuGet(ev) as number);
          this.cpuId = cpuId;
          const cpu = this.markCpu(cpuId);
          const prevTid = pl[iPrevTid] as number;
          const nextTid = pl[iNextTid] as number;
          const prev = this.thread(prevTid, ts);
          const next = this.thread(nextTid, ts);
          const prevComm = iPrevComm < 0 ? '' : (pl[iPrevComm] as string);
          const nextComm = iNextComm < 0 ? '' : (pl[iNextComm] as string);
          if (iNextComm >= 0) next.setRawComm(nextComm);
          if (prev.comm === '') prev.setRawComm(prevComm);
          this.switchPrevComm = prevComm;
          this.switchNextComm = nextComm;
          if (cpu !== undefined) {
            cpu.current = nextTid === 0 ? undefined : next;
            cpu.currentTid = nextTid;
          }
          prev.lastSeen = ts;
          next.lastSeen = ts;
          if (iPrevPrio >= 0) this.prioCheck(prev, pl[iPrevPrio] as number, ts);
          if (iNextPrio >= 0) this.prioCheck(next, pl[iNextPrio] as number, ts);
          this.switchPrev = prev;
          this.switchNext = next;
        };
      }
      case 'sched_migrate_task': {
        const cpuF = f('cpu_id');
        const tidF = p('tid');
        const commF = p('comm');
        return (ev) => {
          this.cpuId = readNum(cpuF, ev);
          const tid = readNum(tidF, ev);
          let t = this.threads.get(tid);
          if (t === undefined) {
            t = this.newThread(tid, ev.ts);
            if (commF !== undefined) t.comm = toStr(commF.get(ev));
          }
          this.migrated = t;
        };
      }
      case 'sched_wakeup':
      case 'sched_wakeup_new':
      case 'sched_waking': {
        const cpuF = f('cpu_id');
        const targetF = f('target_cpu');
        const tidF = p('tid');
        const prioF = p('prio');
        const offset = wakeupPrioOffset(info);
        return (ev) => {
          this.markCpu(readNum(targetF, ev));
          this.markCpu(readNum(cpuF, ev));
          const tid = readNum(tidF, ev);
          const cpus = this.cpus;
          for (let i = 0; i < cpus.length; i++) {
            const c = cpus[i];
            if (c !== undefined && c.known && c.current !== undefined && c.current.tid === tid) return;
          }
          const t = this.thread(tid, ev.ts);
          this.prioCheck(t, readNum(prioF, ev) + offset, ev.ts);
        };
      }
      case 'sched_pi_setprio': {
        const tidF = p('tid');
        const prioF = p('newprio');
        return (ev) => {
          const t = this.thread(readNum(tidF, ev), ev.ts);
          this.prioCheck(t, readNum(prioF, ev), ev.ts);
        };
      }
      case 'sched_process_fork':
        return this.bindFork(info);
      case 'sched_process_exec': {
        const tidF = p('tid');
        const fileF = p('filename');
        const procnameF = f('procname');
        return (ev) => {
          const t = this.thread(readNum(tidF, ev), ev.ts);
          if (procnameF !== undefined) t.comm = toStr(procnameF.get(ev));
          else if (fileF !== undefined) {
            const file = toStr(fileF.get(ev));
            t.comm = file.slice(file.lastIndexOf('/') + 1).slice(0, 15);
          }
          t.execed = ev.ts;
          t.lastSeen = ev.ts;
        };
      }
      case 'sched_process_exit':
      case 'sched_process_free': {
        const tidF = p('tid');
        const exit = name === 'sched_process_exit';
        return (ev) => {
          const t = this.threads.get(readNum(tidF, ev));
          if (t === undefined) return;
          if (exit) t.exited = ev.ts;
          else t.freed = ev.ts;
          t.lastSeen = ev.ts;
        };
      }
      case 'mm_page_alloc':
      case 'kmem_mm_page_alloc': {
        if (!this.trackMemory) return undefined;
        const cpuF = f('cpu_id');
        return (ev) => {
          this.pageCount++;
          const cpuId = readNum(cpuF, ev);
          this.cpuId = cpuId;
          const c = this.cpus[cpuId];
          this.memThread = c !== undefined && c.known ? c.current : undefined;
        };
      }
      case 'mm_page_free':
      case 'kmem_mm_page_free': {
        if (!this.trackMemory) return undefined;
        const cpuF = f('cpu_id');
        return (ev) => {
          if (this.pageCount === 0) {
            this.memThread = undefined;
            return;
          }
          this.pageCount--;
          const cpuId = readNum(cpuF, ev);
          this.cpuId = cpuId;
          const c = this.cpus[cpuId];
          this.memThread = c !== undefined && c.known ? c.current : undefined;
        };
      }
      case 'lttng_statedump_process_state':
        return this.bindStatedumpProcess(info);
      case 'lttng_statedump_process_pid_ns': {
        this.coverage.pidNsStatedump = true;
        const tidF = p('tid');
        const vtidF = p('vtid');
        const vpidF = p('vpid');
        const vppidF = p('vppid');
        const levelF = p('ns_level');
        const inumF = p('ns_inum');
        return (ev) => {
          const t = this.thread(readNum(tidF, ev), ev.ts);
          const inum = readNum(inumF, ev);
          this.setPidLevel(
            t,
            readNum(levelF, ev),
            {
              inum: inum > 0 ? inum : undefined,
              vtid: optNum(vtidF, ev),
              vpid: optNum(vpidF, ev),
              vppid: optNum(vppidF, ev),
            },
            ev.ts,
            'pid',
          );
        };
      }
      case 'lttng_statedump_process_user_ns': {
        const tidF = p('tid');
        const vuidF = p('vuid');
        const vgidF = p('vgid');
        const levelF = p('ns_level');
        const inumF = p('ns_inum');
        return (ev) => {
          const t = this.thread(readNum(tidF, ev), ev.ts);
          const inum = readNum(inumF, ev);
          this.setUserLevel(t, readNum(levelF, ev), {
            inum: inum > 0 ? inum : undefined,
            vuid: optNum(vuidF, ev),
            vgid: optNum(vgidF, ev),
          });
        };
      }
      default:
        break;
    }
    const m = /^lttng_statedump_process_(mnt|net|uts|ipc|cgroup|time)_ns$/.exec(name);
    if (m !== null) {
      const type = m[1] as FlatNsType;
      const tidF = p('tid');
      const inumF = p('ns_inum');
      return (ev) => {
        const t = this.thread(readNum(tidF, ev), ev.ts);
        this.setFlatNs(t, type, readNum(inumF, ev));
      };
    }
    const sysName = this.trackSyscalls ? syscallEntryName(name) : undefined;
    if (sysName !== undefined) {
      const cpuF = f('cpu_id');
      return (ev) => {
        this.entryThread = undefined;
        const c = this.cpus[readNum(cpuF, ev)];
        if (c === undefined || !c.known) return;
        const t = c.current;
        if (t === undefined) return;
        t.sysName = sysName;
        t.sysEntry = ev.ts;
        this.entryThread = t;
      };
    }
    if (this.trackSyscalls && isSyscallExit(name)) {
      const cpuF = f('cpu_id');
      const retF = f('ret');
      return (ev) => {
        this.exitThread = undefined;
        const cpuId = readNum(cpuF, ev);
        this.cpuId = cpuId;
        const c = this.cpus[cpuId];
        if (c === undefined || !c.known) return;
        const t = c.current;
        if (t === undefined || t.sysName === undefined) return;
        this.exitRet = readNum(retF, ev);
        this.exitThread = t;
        t.lastSeen = ev.ts;
      };
    }
    if (SOFT_HARD_IRQ_EVENTS.has(name)) {
      const cpuF = f('cpu_id');
      return (ev) => {
        this.markCpu(readNum(cpuF, ev));
      };
    }
    const kind = containerEventKind(name);
    if (kind !== undefined) return this.bindContainerEvent(info, kind);
    return undefined;
  }

  private bindFork(info: ClassInfo): EventFn {
    const ec = info.eventClass;
    const p = (n: string): FieldLocation | undefined => payloadField(ec, n);
    const parentTidF = p('parent_tid');
    const parentPidF = p('parent_pid');
    const parentCommF = p('parent_comm');
    const parentNsF = p('parent_ns_inum');
    const childTidF = p('child_tid');
    const childPidF = p('child_pid');
    const childCommF = p('child_comm');
    const childNsF = p('child_ns_inum');
    const vtidsF = p('vtids');
    if (childNsF !== undefined || vtidsF !== undefined) this.coverage.forkNs = true;
    return (ev) => {
      const ts = ev.ts;
      const parentTid = readNum(parentTidF, ev);
      const parentPid = readNum(parentPidF, ev);
      const parent = this.thread(parentTid, ts);
      parent.pid = parentPid;
      if (parentCommF !== undefined) parent.comm = toStr(parentCommF.get(ev));
      parent.lastSeen = ts;
      if (parentPid !== parentTid && !this.threads.has(parentPid)) {
        const leader = this.newThread(parentPid, ts);
        leader.pid = parentPid;
        leader.comm = parent.comm;
      }
      const parentNs = readNum(parentNsF, ev);
      if (parentNs > 0 && parent.pidNs === undefined) this.setPidNs(parent, parentNs, ts);

      const childTid = readNum(childTidF, ev);
      const childPid = readNum(childPidF, ev);
      const child = this.newThread(childTid, ts);
      child.pid = childPid;
      if (childCommF !== undefined) child.comm = toStr(childCommF.get(ev));
      child.born = ts;
      child.prio = undefined;
      const isProcess = childPid === childTid;
      child.ppid = isProcess ? parentPid : parent.ppid;

      const vtids = vtidsF === undefined ? [] : toNumArray(vtidsF.get(ev));
      const childNs = readNum(childNsF, ev);
      const pl = parent.pidLevels;
      if (vtids.length > 0) {
        const n = vtids.length;
        let inums: Array<number | undefined>;
        if (pl !== undefined && pl.length === n && (childNs === parentNs || !(childNs > 0))) {
          inums = pl.map((l) => l.inum);
        } else if (pl !== undefined && pl.length === n - 1) {
          inums = [...pl.map((l) => l.inum), childNs > 0 ? childNs : undefined];
        } else {
          inums =
            (childNs > 0 ? this.namespaces.pidChainOf(childNs) : undefined) ?? new Array(n).fill(undefined);
          if (inums.length !== n) inums = new Array(n).fill(undefined);
          if (childNs > 0) inums[n - 1] = childNs;
        }
        const levels: PidLevel[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const pli = pl !== undefined && pl.length > i && pl[i]!.inum === inums[i] ? pl[i] : undefined;
          levels[i] = {
            inum: inums[i],
            vtid: vtids[i],
            vpid: isProcess ? vtids[i] : pli?.vpid,
            vppid: isProcess ? pli?.vpid : pli?.vppid,
          };
        }
        child.pidLevels = levels;
        this.namespaces.noteChain('pid', inums);
        const leaf = inums[n - 1];
        if (leaf !== undefined) this.setPidNs(child, leaf, ts);
      } else if (childNs > 0) {
        this.setPidNs(child, childNs, ts);
      } else if (childNsF === undefined) {
        // No namespace information in this trace's fork events: same namespace as the parent.
        if (parent.pidNs !== undefined) {
          // The namespaces are the parent's; the ids at each level are the child's own (unknown),
          // but for the process ids of a thread of the same process.
          if (pl !== undefined)
            child.pidLevels = pl.map((l) => ({
              inum: l.inum,
              vtid: undefined,
              vpid: isProcess ? undefined : l.vpid,
              vppid: isProcess ? l.vpid : l.vppid,
            }));
          this.setPidNs(child, parent.pidNs, ts);
          child.pidNsInherited = true;
        } else {
          child.forkParent = parent;
        }
      }
      if (child.pidNs !== undefined && child.pidNs === parent.pidNs) {
        for (const type of FLAT_NS_TYPES) child.ns[type] = parent.ns[type];
      }
      // Its next context event is read again in full (see the stream-context handler).
      child.ctxSeen = undefined;
      this.indexVtid(child);
    };
  }

  private bindStatedumpProcess(info: ClassInfo): EventFn {
    const ec = info.eventClass;
    const p = (n: string): FieldLocation | undefined => payloadField(ec, n);
    const tidF = p('tid');
    const pidF = p('pid');
    const ppidF = p('ppid');
    const nameF = p('name');
    const prioF = p('prio');
    const levelF = p('ns_level');
    const inumF = p('ns_inum');
    const vtidF = p('vtid');
    const vpidF = p('vpid');
    const vppidF = p('vppid');
    if (levelF !== undefined && inumF !== undefined) this.coverage.legacyNsStatedump = true;
    return (ev) => {
      const ts = ev.ts;
      const tid = readNum(tidF, ev);
      const pid = readNum(pidF, ev);
      const name = nameF === undefined ? '' : toStr(nameF.get(ev));
      const t = this.thread(tid, ts);
      t.pid = pid;
      t.comm = name;
      if (t.prio === undefined && prioF !== undefined) t.prio = readNum(prioF, ev);
      const ppid = readNum(ppidF, ev);
      if (ppid >= 0) t.ppid = ppid;
      if (pid !== tid && !this.threads.has(pid)) {
        const leader = this.newThread(pid, ts);
        leader.pid = pid;
        leader.comm = name;
      }
      if (levelF !== undefined) {
        const inum = readNum(inumF, ev);
        this.setPidLevel(
          t,
          readNum(levelF, ev),
          {
            inum: inum > 0 ? inum : undefined,
            vtid: optNum(vtidF, ev),
            vpid: optNum(vpidF, ev),
            vppid: optNum(vppidF, ev),
          },
          ts,
          'legacy',
        );
      }
    };
  }

  private bindContainerEvent(info: ClassInfo, kind: 'statedump' | 'start' | 'stop' | 'legacy'): EventFn {
    this.coverage.containerEvents = true;
    const ec = info.eventClass;
    const p = (n: string): FieldLocation | undefined => payloadField(ec, n);
    const s = (loc: FieldLocation | undefined, ev: EventRecord): string =>
      loc === undefined ? '' : toStr(loc.get(ev));
    const n = (loc: FieldLocation | undefined, ev: EventRecord): number => {
      const v = readNum(loc, ev);
      return Number.isFinite(v) ? v : 0;
    };
    if (kind === 'legacy') {
      const nameF = p('container_name');
      const typeF = p('container_type');
      const nsF = p('pid_ns');
      return (ev) => {
        const name = s(nameF, ev);
        if (name === '') return;
        this.containers.declare(
          { ...emptyDecl(), id: name, name, type: s(typeF, ev), pidNs: n(nsF, ev) },
          ev.ts,
          'legacy',
        );
      };
    }
    const idF = p('id');
    const nameF = p('name');
    const typeF = p('type');
    const imageF = p('image');
    const initF = p('init_pid');
    const pidNsF = p('pid_ns');
    const nsF = FLAT_NS_TYPES.map((t) => [t, p(`${t}_ns`)] as const);
    const cgF = p('cgroup_path');
    const podNameF = p('pod_name');
    const podNsF = p('pod_namespace');
    const podUidF = p('pod_uid');
    const startedF = p('started_at');
    return (ev) => {
      const id = s(idF, ev);
      if (id === '') return;
      if (kind === 'stop') {
        this.containers.stop(id, ev.ts);
        return;
      }
      const ns: Partial<Record<FlatNsType, number>> = {};
      for (const [t, loc] of nsF) {
        const v = n(loc, ev);
        if (v > 0) ns[t] = v;
      }
      const started = startedF === undefined ? undefined : startedF.get(ev);
      this.containers.declare(
        {
          id,
          name: s(nameF, ev),
          type: s(typeF, ev),
          image: s(imageF, ev),
          initPid: n(initF, ev),
          pidNs: n(pidNsF, ev),
          ns,
          cgroupPath: s(cgF, ev),
          podName: s(podNameF, ev),
          podNamespace: s(podNsF, ev),
          podUid: s(podUidF, ev),
          startedAt:
            typeof started === 'bigint' ? started : typeof started === 'number' ? BigInt(started) : 0n,
        },
        ev.ts,
        kind,
      );
    };
  }
}

function optNum(loc: FieldLocation | undefined, ev: EventRecord): number | undefined {
  const v = readNum(loc, ev);
  return Number.isFinite(v) ? v : undefined;
}

function emptyDecl(): ContainerDecl {
  return {
    id: '',
    name: '',
    type: '',
    image: '',
    initPid: 0,
    pidNs: 0,
    ns: {},
    cgroupPath: '',
    podName: '',
    podNamespace: '',
    podUid: '',
    startedAt: 0n,
  };
}
