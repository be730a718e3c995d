/**
 * lttng-analyses' process table, kept the way its state providers keep it (0.6.1,
 * `linuxautomaton/{sched,statedump,syscalls}.py`), for the analyses whose tables must equal its
 * own (sched, I/O): one `LttProc` per tid, replaced on fork; its pid, comm and priority follow
 * lttng-analyses' update rules, which differ from the model's `Thread` in places (the model
 * learns a pid from any `_pid` context, lttng-analyses only at an I/O syscall entry; a fork
 * renames the process leader, not the forking thread; an exec renames only with a `_procname`
 * context). Each entry links to the model's thread of that tid, for per-container tables.
 *
 * The tracker is a model-level subscriber (it sees every event, before and during the analysed
 * period) and tells its listeners, synchronously and at the same points, what lttng-analyses'
 * state providers notify (`sched_switch_per_tid`, `prio_changed`, ...). Listeners filter by
 * period and event themselves.
 */
import type { EventRecord } from '../ctf/event.js';
import type { ClassInfo, EventFn, Subscriber } from './dispatch.js';
import { IdleSwitch } from './dispatch.js';
import type { FieldLocation } from './fields.js';
import { anyField, anyFields, findField, readNum, toPyStr } from './fields.js';
import { wakeupPrioOffset } from './cpus.js';
import type { SystemModel } from './model.js';
import { IO_SYSCALLS } from './lttng-syscall-sets.js';
import { syscallEntryName, isSyscallExit } from './syscalls.js';
import type { Thread } from './threads.js';
import { forkSide } from './threads.js';

/** lttng-analyses' `sv.Process`. */
export class LttProc {
  readonly tid: number;
  pid: number | undefined;
  comm: string;
  prio: number | undefined;
  /** The model's thread of this tid when the entry was made (per-container attribution). */
  readonly thread: Thread;
  /** The tid switched out when this one was switched in (`prev_tid`). */
  prevTid: number | undefined;
  /** First wakeup since the last switch-in (ns), and the tid running on the waker's CPU then. */
  lastWakeup: number | undefined;
  lastWaker: number | undefined;
  /**
   * `lastWakeup` as it happened: unlike lttng-analyses' own, it survives the replacement of
   * the entry by `_fix_context_pid` (see `LttProcs.bind`), for nstrace's per-container tables.
   */
  wakeup: number | undefined;
  /** Syscall in flight (entry name and time), or undefined. */
  sysName: string | undefined;
  sysBegin = 0;
  /** Open file descriptors (I/O tracking only), by fd. */
  fds: Map<number, LttFd> | undefined;
  /** The I/O request of the syscall in flight (I/O tracking only). */
  ioRq: unknown;

  constructor(tid: number, pid: number | undefined, comm: string, prio: number | undefined, thread: Thread) {
    this.tid = tid;
    this.pid = pid;
    this.comm = comm;
    this.prio = prio;
    this.thread = thread;
  }
}

/** lttng-analyses' `sv.FDType`. */
export const enum FdType {
  Unknown = 0,
  Disk = 1,
  Net = 2,
  MaybeNet = 3,
}

/** lttng-analyses' `sv.FD`. */
export interface LttFd {
  fd: number;
  filename: string;
  fdType: FdType;
  cloexec: boolean;
  family: number | undefined;
}

export interface SchedSwitchInfo {
  readonly ev: EventRecord;
  readonly ts: number;
  readonly cpuId: number;
  readonly prevTid: number;
  readonly nextTid: number;
  /** The process switched in, with its `lastWakeup` still set. */
  readonly wakee: LttProc;
  /** The process that woke it (by tid at the time of the switch), if known. */
  readonly waker: LttProc | undefined;
}

/** Notifications of the process table (lttng-analyses' names in comments). */
export interface ProcListener {
  /** `sched_switch_per_tid` */
  schedSwitch?(s: SchedSwitchInfo): void;
  /** `prio_changed` */
  prioChanged?(ev: EventRecord, tid: number, prio: number, ts: number): void;
}

/** Hooks the I/O tracker installs (it runs inside the process table's callbacks, in order). */
export interface ProcHooks {
  /** A fork: the child (not yet in the table) and the process whose fds it inherits. */
  fork?(ev: EventRecord, child: LttProc, parent: LttProc, cpuId: number): void;
  /** An exec, after the rename. */
  exec?(ev: EventRecord, proc: LttProc, cpuId: number): void;
  /** `lttng_statedump_process_state` of a thread whose pid differs from its tid, after the parent was made. */
  statedumpThread?(ev: EventRecord, proc: LttProc, parent: LttProc): void;
}

/**
 * lttng-analyses' `state.tids`: a model-level subscriber. Create it with the model, add it to the
 * runner's trackers, and register listeners.
 */
export class LttProcs implements Subscriber {
  readonly procs = new Map<number, LttProc>();
  private readonly listeners: ProcListener[] = [];
  readonly hooks: ProcHooks = {};
  /**
   * Syscall entry/exit hooks of the I/O tracker (after the process table's own update), set
   * before the run: without them syscall events are not bound.
   */
  sysEntryHook: ((ev: EventRecord, name: string, proc: LttProc, cpuId: number) => void) | undefined;
  sysExitHook: ((ev: EventRecord, proc: LttProc, cpuId: number) => void) | undefined;
  /**
   * Whether `sysEntryHook` reads anything of the entry of this system call beyond its stream
   * event context (absent: always). Entries it ignores are then read without their payload. An
   * exit's payload stays wanted: the hook reads the return value of whatever exit follows an
   * entry it watches, whichever call the exit's class names (after lost events they differ).
   */
  sysEntryPayload: ((name: string) => boolean) | undefined;

  /**
   * Entries whose pid is unknown (`_fix_context_pid` sets it at their thread's next I/O system
   * call): while there are none, the entries of I/O system calls change nothing, and readers may
   * skip them (`idleOnSameContext`). Kept by `put` and `setPid`.
   */
  private unknownPids = 0;
  private readonly pidsKnown = new IdleSwitch(true);

  constructor(readonly model: SystemModel) {}

  /** `state.tids[tid] = p`. */
  private put(tid: number, p: LttProc): void {
    const old = this.procs.get(tid);
    if (old !== undefined && old.pid === undefined) this.unknownPids--;
    this.procs.set(tid, p);
    if (p.pid === undefined) this.unknownPids++;
    this.pidsKnown.set(this.unknownPids === 0);
  }

  /** `proc.pid = pid` for an entry of the table. */
  private setPid(p: LttProc, pid: number): void {
    if (p.pid === undefined && this.procs.get(p.tid) === p) {
      this.unknownPids--;
      this.pidsKnown.set(this.unknownPids === 0);
    }
    p.pid = pid;
  }

  listen(l: ProcListener): void {
    this.listeners.push(l);
  }

  /** The model's thread of `tid` now (created if the model has none). */
  private threadOf(tid: number, ts: number): Thread {
    return this.model.thread(tid, ts);
  }

  /** `state.tids[tid]`, created as `sv.Process(tid=tid)` when missing (pid 0 for the swapper). */
  get(tid: number, ts: number): LttProc {
    let p = this.procs.get(tid);
    if (p === undefined) {
      p = new LttProc(tid, tid === 0 ? 0 : undefined, '', undefined, this.threadOf(tid, ts));
      this.put(tid, p);
    }
    return p;
  }

  /** Replaces `state.tids[tid]` with a new entry. */
  make(tid: number, pid: number | undefined, comm: string, prio: number | undefined, ts: number): LttProc {
    const p = new LttProc(tid, pid, comm, prio, this.threadOf(tid, ts));
    this.put(tid, p);
    return p;
  }

  /** The tid running on a CPU as lttng-analyses knows it (undefined: idle, unknown CPU). */
  currentTid(cpuId: number): number | undefined {
    const c = this.model.cpus[cpuId];
    if (c === undefined || !c.known) return undefined;
    return c.currentTid > 0 ? c.currentTid : undefined;
  }

  /** Whether lttng-analyses knows the CPU (`cpu_id in state.cpus`). */
  knowsCpu(cpuId: number): boolean {
    const c = this.model.cpus[cpuId];
    return c !== undefined && c.known;
  }

  private prioCheck(ev: EventRecord, tid: number, prio: number, ts: number): void {
    if (tid === 0) return;
    const p = this.procs.get(tid);
    if (p === undefined || p.prio === prio) return;
    p.prio = prio;
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i]!.prioChanged?.(ev, tid, prio, ts);
  }

  needsPayload(info: ClassInfo): boolean {
    const sys = syscallEntryName(info.name);
    if (sys === undefined) return true;
    if (
      this.sysEntryHook !== undefined &&
      (this.sysEntryPayload === undefined || this.sysEntryPayload(sys))
    ) {
      return true;
    }
    // An entry that only makes the call current and fixes the pid: its CPU, from the packet
    // context (see `bindOnCurrent`), and the `_pid` stream event context (`contextPid`).
    const [cpuF] = anyFields(info, 'cpu_id');
    const pidF = IO_SYSCALLS.has(sys) ? contextPid(info) : undefined;
    return inEvent(cpuF) || inEvent(pidF);
  }

  /**
   * The entry of an I/O system call bound only for `_fix_context_pid` (no I/O tracker) does
   * nothing while every entry's pid is known, whatever its context.
   */
  idleOnSameContext(info: ClassInfo): boolean | IdleSwitch {
    if (this.sysEntryHook !== undefined || this.sysExitHook !== undefined) return false;
    const sys = syscallEntryName(info.name);
    return sys !== undefined && IO_SYSCALLS.has(sys) ? this.pidsKnown : false;
  }

  bind(info: ClassInfo): EventFn | undefined {
    const name = info.name;
    switch (name) {
      case 'sched_switch': {
        const [cpuF, nextTidF, nextCommF, prevTidF, nextPrioF, prevPrioF] = anyFields(
          info,
          'cpu_id',
          'next_tid',
          'next_comm',
          'prev_tid',
          'next_prio',
          'prev_prio',
        );
        return (ev) => {
          const ts = ev.ts;
          const cpuId = readNum(cpuF, ev);
          const nextTid = readNum(nextTidF, ev);
          const prevTid = readNum(prevTidF, ev);
          this.get(prevTid, ts);
          const next = this.get(nextTid, ts);
          next.comm = nextCommF === undefined ? '' : toPyStr(nextCommF.get(ev));
          next.prevTid = prevTid;
          this.prioCheck(ev, prevTid, readNum(prevPrioF, ev), ts);
          this.prioCheck(ev, nextTid, readNum(nextPrioF, ev), ts);
          const wakee = this.procs.get(nextTid)!;
          const waker = wakee.lastWaker === undefined ? undefined : this.procs.get(wakee.lastWaker);
          const ls = this.listeners;
          if (ls.length > 0) {
            const s: SchedSwitchInfo = {
              ev,
              ts,
              cpuId,
              prevTid,
              nextTid,
              wakee,
              waker,
            };
            for (let i = 0; i < ls.length; i++) ls[i]!.schedSwitch?.(s);
          }
          wakee.lastWakeup = undefined;
          wakee.lastWaker = undefined;
          wakee.wakeup = undefined;
        };
      }
      case 'sched_migrate_task': {
        const [tidF, commF, prioF] = anyFields(info, 'tid', 'comm', 'prio');
        return (ev) => {
          const tid = readNum(tidF, ev);
          if (!this.procs.has(tid)) {
            this.make(tid, undefined, commF === undefined ? '' : toPyStr(commF.get(ev)), undefined, ev.ts);
          }
          this.prioCheck(ev, tid, readNum(prioF, ev), ev.ts);
        };
      }
      case 'sched_wakeup':
      case 'sched_wakeup_new':
      case 'sched_waking': {
        const [cpuF, tidF, prioF] = anyFields(info, 'cpu_id', 'tid', 'prio');
        const offset = wakeupPrioOffset(info);
        return (ev) => {
          const tid = readNum(tidF, ev);
          // A task already running on a CPU: ignored (the model marked both CPUs known).
          const cpus = this.model.cpus;
          for (let i = 0; i < cpus.length; i++) {
            const c = cpus[i];
            if (c !== undefined && c.known && c.currentTid > 0 && c.currentTid === tid) return;
          }
          const p = this.get(tid, ev.ts);
          this.prioCheck(ev, tid, readNum(prioF, ev) + offset, ev.ts);
          if (p.lastWakeup === undefined) {
            p.lastWakeup = ev.ts;
            const waker = this.currentTid(readNum(cpuF, ev));
            if (waker !== undefined) p.lastWaker = waker;
          }
          p.wakeup ??= ev.ts;
        };
      }
      case 'sched_pi_setprio': {
        const [tidF, prioF] = anyFields(info, 'tid', 'newprio');
        return (ev) => this.prioCheck(ev, readNum(tidF, ev), readNum(prioF, ev), ev.ts);
      }
      case 'sched_process_fork':
        return this.bindFork(info);
      case 'sched_process_exec': {
        const [tidF, procnameF, cpuF] = anyFields(info, 'tid', 'procname', 'cpu_id');
        return (ev) => {
          const p = this.get(readNum(tidF, ev), ev.ts);
          if (procnameF !== undefined) p.comm = toPyStr(procnameF.get(ev));
          this.hooks.exec?.(ev, p, readNum(cpuF, ev));
        };
      }
      case 'lttng_statedump_process_state': {
        const [tidF, pidF, nameF, prioF] = anyFields(info, 'tid', 'pid', 'name', 'prio');
        return (ev) => {
          const ts = ev.ts;
          const tid = readNum(tidF, ev);
          const pid = readNum(pidF, ev);
          const p = this.get(tid, ts);
          this.setPid(p, pid);
          p.comm = nameF === undefined ? '' : toPyStr(nameF.get(ev));
          if (p.prio === undefined && prioF !== undefined) p.prio = readNum(prioF, ev);
          if (pid !== tid) {
            let parent = this.procs.get(pid);
            if (parent === undefined) parent = this.make(pid, pid, p.comm, undefined, ts);
            this.hooks.statedumpThread?.(ev, p, parent);
          }
        };
      }
      default:
        break;
    }
    const sys = syscallEntryName(name);
    if (sys !== undefined) {
      // lttng-analyses' I/O state provider runs for every analysis, and the first I/O system
      // call of a thread whose pid it does not know yet replaces its process leader's entry
      // (`_fix_context_pid`): the leader's pending wakeup, waker and descriptors are lost.
      const pidF = IO_SYSCALLS.has(sys) ? contextPid(info) : undefined;
      // The syscall in flight is the I/O tracker's business: without it, nobody reads it (the
      // process of the CPU's current tid exists since the sched_switch that made it current).
      if (pidF === undefined && this.sysEntryHook === undefined && this.sysExitHook === undefined) {
        return undefined;
      }
      if (this.sysEntryHook === undefined && this.sysExitHook === undefined) {
        // Only the fix: nothing to do while every pid is known (see `idleOnSameContext`).
        return this.bindOnCurrent(info, (ev, p) => {
          if (p.pid === undefined) this.fixContextPid(ev, p, pidF!);
        });
      }
      return this.bindOnCurrent(info, (ev, p, cpuId) => {
        p.sysName = sys;
        p.sysBegin = ev.ts;
        p.ioRq = undefined;
        if (pidF !== undefined && p.pid === undefined) this.fixContextPid(ev, p, pidF);
        this.sysEntryHook?.(ev, sys, p, cpuId);
      });
    }
    if (this.sysEntryHook === undefined && this.sysExitHook === undefined) return undefined;
    if (isSyscallExit(name)) {
      return this.bindOnCurrent(info, (ev, p, cpuId) => {
        if (p.sysName === undefined) return;
        this.sysExitHook?.(ev, p, cpuId);
        p.sysName = undefined;
        p.ioRq = undefined;
      });
    }
    return undefined;
  }

  /** `_fix_context_pid`: the thread's pid from the `_pid` context, and a new entry for its leader. */
  private fixContextPid(ev: EventRecord, proc: LttProc, pidF: FieldLocation): void {
    const pid = readNum(pidF, ev);
    if (Number.isNaN(pid)) return;
    this.setPid(proc, pid);
    if (pid === proc.tid) return;
    const old = this.procs.get(pid);
    this.make(pid, pid, proc.comm, proc.prio, ev.ts).wakeup = old?.wakeup;
  }

  /** An event of the task running on its CPU: `fn` gets its process (an idle or unknown CPU: ignored). */
  private bindOnCurrent(info: ClassInfo, fn: (ev: EventRecord, p: LttProc, cpuId: number) => void): EventFn {
    const [cpuF] = anyFields(info, 'cpu_id');
    return (ev) => {
      const cpuId = readNum(cpuF, ev);
      const tid = this.currentTid(cpuId);
      if (tid !== undefined) fn(ev, this.get(tid, ev.ts), cpuId);
    };
  }

  private bindFork(info: ClassInfo): EventFn {
    const childF = forkSide(info, 'child', anyFields);
    const parentF = forkSide(info, 'parent', anyFields);
    const [cpuF] = anyFields(info, 'cpu_id');
    return (ev) => {
      const ts = ev.ts;
      // lttng-analyses reads the parent's *pid* as its tid: the process leader is updated.
      const parentPid = readNum(parentF.pid, ev);
      const parentComm = parentF.comm === undefined ? '' : toPyStr(parentF.comm.get(ev));
      let parent = this.procs.get(parentPid);
      if (parent === undefined) parent = this.make(parentPid, parentPid, parentComm, undefined, ts);
      else {
        this.setPid(parent, parentPid);
        parent.comm = parentComm;
      }
      const childTid = readNum(childF.tid, ev);
      const child = new LttProc(
        childTid,
        readNum(childF.pid, ev),
        childF.comm === undefined ? '' : toPyStr(childF.comm.get(ev)),
        undefined,
        this.threadOf(childTid, ts),
      );
      this.hooks.fork?.(ev, child, parent, readNum(cpuF, ev));
      this.put(childTid, child);
    };
  }
}

/**
 * Where `_fix_context_pid` reads a pid in events of this class: `event['pid']` when the stream
 * event context has a `_pid` field and the payload none (else undefined: no fix).
 */
function contextPid(info: ClassInfo): FieldLocation | undefined {
  const sc = info.streamClass;
  if (findField(sc.eventContext, 'pid') < 0 || findField(info.eventClass.fields, 'pid') >= 0)
    return undefined;
  return anyField(sc, info.eventClass, 'pid');
}

/** Whether a field is read from the event's own context or payload (not from the stream's). */
function inEvent(f: FieldLocation | undefined): boolean {
  return f !== undefined && (f.scope === 'payload' || f.scope === 'context');
}

/** `event['pid']`-style optional read: undefined when the field is absent or not a number. */
export function optField(loc: FieldLocation | undefined, ev: EventRecord): number | undefined {
  const v = readNum(loc, ev);
  return Number.isNaN(v) ? undefined : v;
}
