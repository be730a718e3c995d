/**
 * The system model: state replayed from kernel events (threads, CPUs, namespaces, containers).
 *
 * The model is a tracker layer (perfetto style): it owns identity (which thread runs on which
 * CPU, which container a thread belongs to) and the analyses read it. Each identity has its
 * tracker, which owns its tables and binds its handful of event handlers: threads.ts (threads,
 * processes, pid-namespace levels), namespace-tracker.ts (other namespaces, stream contexts),
 * cpus.ts (CPUs and scheduling), syscalls.ts, memory.ts, containers.ts. This file only wires
 * them: it picks the tracker's handler per event class once, and the dispatcher calls it. It subscribes to event
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
import type { EventClass } from '../ctf/ir.js';
import { ContainerRegistry, containerEventKind } from './containers.js';
import type { Container } from './containers.js';
import { CpuTracker } from './cpus.js';
import type { CpuState, PrioListener } from './cpus.js';
import type { EventOutputs, ModelCoverage } from './current.js';
import type { ClassInfo, EventFn, Subscriber } from './dispatch.js';
import { compose } from './dispatch.js';
import type { Thread } from './entities.js';
import { MemoryTracker } from './memory.js';
import { NamespaceTracker } from './namespace-tracker.js';
import { NamespaceRegistry } from './namespaces.js';
import type { FlatNsType } from './namespaces.js';
import { SyscallTracker, isSyscallExit, syscallEntryName } from './syscalls.js';
import { ThreadTracker } from './threads.js';
import type { VtidJoin } from './ust-join.js';

export type { PrioListener } from './cpus.js';
export type { ModelCoverage } from './current.js';
export { isContainerEvent } from './containers.js';
export { isSyscallExit, syscallEntryName } from './syscalls.js';

/** Optional parts of the state, tracked only when an analysis needs them (they cost per event). */
export interface ModelOptions {
  /** The syscall in flight per thread (`syscallstats`). Default true. */
  syscalls?: boolean;
  /** Page allocation accounting (`memtop`). Default true. */
  memory?: boolean;
}

export class SystemModel implements EventOutputs {
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

  // The trackers, and their tables as the analyses read them.
  private readonly threadTracker: ThreadTracker;
  private readonly cpuTracker: CpuTracker;
  private readonly nsTracker: NamespaceTracker;
  private readonly syscallTracker: SyscallTracker;
  private readonly memoryTracker: MemoryTracker;
  /** Current thread per host tid. */
  readonly threads: Map<number, Thread>;
  /** Every thread lifetime ever created, in creation order (index = uid). */
  readonly allThreads: Thread[];
  /** CPU state by id (sparse). */
  readonly cpus: CpuState[];
  /** Host thread of each (pid namespace, vtid), with validity intervals (the UST join). */
  readonly vtids: VtidJoin;

  // Per-event outputs for analyses (written by the trackers): see `EventOutputs`.
  cpuId = -1;
  switchPrev: Thread | undefined;
  switchNext: Thread | undefined;
  switchPrevComm = '';
  switchNextComm = '';
  migrated: Thread | undefined;
  memThread: Thread | undefined;
  entryThread: Thread | undefined;
  exitThread: Thread | undefined;
  exitRet = NaN;

  /** Subscriber for the phase before the analyses. */
  readonly pre: Subscriber = {
    bind: (info) => this.bindPre(info),
    // The context tracker reads only the stream event context.
    needsPayload: (info) => this.specificClasses.has(info.eventClass),
    // And does nothing when it did not change (unless it follows the CPUs' current tids).
    idleOnSameContext: (info) =>
      !this.specificClasses.has(info.eventClass) && this.nsTracker.idleOnSameContext(info),
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
    const threads = new ThreadTracker(this.namespaces, this.containers, this.coverage);
    const cpus = new CpuTracker(threads, this, this.coverage);
    this.threadTracker = threads;
    this.cpuTracker = cpus;
    this.nsTracker = new NamespaceTracker(this.namespaces, threads, cpus.cpus, this.coverage);
    this.syscallTracker = new SyscallTracker(cpus.cpus, this);
    this.memoryTracker = new MemoryTracker(cpus.cpus, this);
    this.threads = threads.threads;
    this.allThreads = threads.allThreads;
    this.cpus = cpus.cpus;
    this.vtids = threads.vtids;
  }

  /** Pages allocated minus freed since the start (lttng-analyses ignores frees when it is 0). */
  get pageCount(): number {
    return this.memoryTracker.pageCount;
  }

  /** Calls `fn` whenever a thread's priority changes (lttng-analyses' `prio_changed`). */
  onPrioChanged(fn: PrioListener): void {
    this.cpuTracker.onPrioChanged(fn);
  }

  /** Number of CPUs lttng-analyses would know at this point. */
  get knownCpuCount(): number {
    return this.cpuTracker.knownCpuCount;
  }

  cpu(id: number): CpuState {
    return this.cpuTracker.cpu(id);
  }

  /** The current thread of a tid, created if needed. */
  thread(tid: number, ts: number): Thread {
    return this.threadTracker.thread(tid, ts);
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
    return this.threadTracker.processes();
  }

  /**
   * This model's thread for the same lifetime as `t` of another model fed the same trace (same
   * tid, same `lifetime`), when it has one.
   */
  sameThread(t: Thread): Thread | undefined {
    return this.threadTracker.lifetimes.get(t.tid)?.[t.lifetime];
  }

  /** The container of a thread (the host until its pid namespace is known). */
  containerOf(t: Thread): Container {
    return t.container ?? this.containers.host;
  }

  /**
   * The reader skipped events at the end of streams (quiet skipping), with the context of the
   * last record of their stream: their times, by stream index (NaN: none). Before `finish`.
   */
  quietTails(tails: readonly number[]): void {
    this.nsTracker.quietTails(tails);
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
        if (p?.pidNs !== undefined) this.threadTracker.setPidNs(t, p.pidNs, t.firstSeen);
      }
      if (t.container === undefined) reg.bind(t, reg.host);
      t.container!.seen(t.firstSeen);
      t.container!.seen(t.lastSeen);
    }
    reg.linkParents();
  }

  // --- binding: one tracker handler per event class, picked once -------------------------

  private bindPre(info: ClassInfo): EventFn | undefined {
    const ctx = this.nsTracker.bindContext(info);
    const specific = this.bindSpecific(info);
    if (specific !== undefined) this.specificClasses.add(info.eventClass);
    const fns: EventFn[] = [];
    if (ctx !== undefined) fns.push(ctx);
    if (specific !== undefined) fns.push(specific);
    return compose(fns) ?? undefined;
  }

  private bindPost(info: ClassInfo): EventFn | undefined {
    const name = info.name;
    if (name === 'sched_migrate_task') return this.cpuTracker.bindMigratePost(info);
    if (this.trackSyscalls && isSyscallExit(name)) return this.syscallTracker.bindExitPost();
    return undefined;
  }

  private bindSpecific(info: ClassInfo): EventFn | undefined {
    const name = info.name;
    const threads = this.threadTracker;
    const cpus = this.cpuTracker;
    switch (name) {
      case 'sched_switch':
        return cpus.bindSwitch(info);
      case 'sched_migrate_task':
        return cpus.bindMigrate(info);
      case 'sched_wakeup':
      case 'sched_wakeup_new':
      case 'sched_waking':
        return cpus.bindWakeup(info);
      case 'sched_pi_setprio':
        return cpus.bindPiSetprio(info);
      case 'sched_process_fork':
        return threads.bindFork(info);
      case 'sched_process_exec':
        return threads.bindExec(info);
      case 'sched_process_exit':
      case 'sched_process_free':
        return threads.bindExit(info);
      case 'mm_page_alloc':
      case 'kmem_mm_page_alloc':
        return this.trackMemory ? this.memoryTracker.bindAlloc(info) : undefined;
      case 'mm_page_free':
      case 'kmem_mm_page_free':
        return this.trackMemory ? this.memoryTracker.bindFree(info) : undefined;
      case 'lttng_statedump_process_state':
        return threads.bindStatedumpProcess(info);
      case 'lttng_statedump_process_pid_ns':
        return threads.bindPidNsStatedump(info);
      case 'lttng_statedump_process_user_ns':
        return this.nsTracker.bindUserNsStatedump(info);
      default:
        break;
    }
    const m = /^lttng_statedump_process_(mnt|net|uts|ipc|cgroup|time)_ns$/.exec(name);
    if (m !== null) return this.nsTracker.bindFlatNsStatedump(info, m[1] as FlatNsType);
    const sysName = this.trackSyscalls ? syscallEntryName(name) : undefined;
    if (sysName !== undefined) return this.syscallTracker.bindEntry(info, sysName);
    if (this.trackSyscalls && isSyscallExit(name)) return this.syscallTracker.bindExit(info);
    const irq = cpus.bindIrq(info);
    if (irq !== undefined) return irq;
    const kind = containerEventKind(name);
    if (kind !== undefined) {
      this.coverage.containerEvents = true;
      return this.containers.bindEvent(info, kind);
    }
    return undefined;
  }
}
