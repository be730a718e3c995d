/**
 * Threads (tasks) and CPUs of the replayed system.
 *
 * A `Thread` is one lifetime of a host tid: a fork of an existing tid starts a new `Thread`
 * object, so identity survives tid reuse (`uid` is unique per run, small, and dense: analyses
 * index typed arrays with it). The fields that lttng-analyses keeps per tid (`pid`, `comm`,
 * `prio`, the syscall in flight) follow its update rules, so that analyses built on this model
 * give the same numbers.
 */
import { byteStringToText } from '../ctf/event.js';
import type { Container } from './containers.js';
import type { FlatNsType, PidLevel, UserLevel } from './namespaces.js';

export class Thread {
  /** Unique per model, dense from 0: index for per-thread arrays in analyses. */
  readonly uid: number;
  /** Host tid. */
  readonly tid: number;
  /** Host pid (tgid), when known. */
  pid: number | undefined;
  /** Host pid of the parent process, when known. */
  ppid: number | undefined;
  /** Command name (16 bytes max in the kernel), updated on exec. Empty when unknown. */
  comm = '';
  /** Last byte string given to `setRawComm` and its decoding, to skip decoding repeats. */
  private rawComm = '';
  private rawText = '';
  /** Kernel priority as LTTng reports it (`prio - 100`, i.e. 20 for nice 0), when known. */
  prio: number | undefined;
  /** Time of the fork that created it (ns, relative to the trace set base); undefined if before the trace. */
  born: number | undefined;
  /** First and last time (ns) the model saw the thread. */
  firstSeen: number;
  lastSeen: number;
  /** `sched_process_exit` time, when seen. */
  exited: number | undefined;
  /** `sched_process_free` time, when seen. */
  freed: number | undefined;
  /** Time of the last exec, when seen. */
  execed: number | undefined;

  /** pid namespace chain, index = level (0 = root), when known from a statedump or a fork. */
  pidLevels: PidLevel[] | undefined;
  /** Inode of the active (deepest) pid namespace, when known. */
  pidNs: number | undefined;
  /** tid as seen from the active pid namespace (`_vtid`), when known. */
  vtidCtx: number | undefined;
  /** pid as seen from the active pid namespace (`_vpid`), when known. */
  vpidCtx: number | undefined;
  /** user namespace chain, index = level, when known from a statedump. */
  userLevels: UserLevel[] | undefined;
  /** Current inode of each other namespace type, when known. */
  readonly ns: Record<FlatNsType, number | undefined> = {
    user: undefined,
    mnt: undefined,
    net: undefined,
    uts: undefined,
    ipc: undefined,
    cgroup: undefined,
    time: undefined,
  };
  /**
   * The thread that forked this one when the fork event carried no namespace fields (to inherit
   * its pid namespace at the end if this thread's stays unknown).
   */
  forkParent: Thread | undefined;
  /**
   * The pid namespace was taken from the parent at a fork whose event had no namespace fields
   * (a guess: the `_pid_ns` context of the thread's own events overrides it).
   */
  pidNsInherited = false;
  /** Raw stream-context values of the thread's last event the model looked at (a cache). */
  ctxSeen: unknown[] | undefined;
  /** The container (or the host) the thread belongs to, resolved when its pid namespace became known. */
  container: Container | undefined;

  /** Name of the syscall in flight (lttng-analyses semantics), without `syscall_entry_`/`sys_`. */
  sysName: string | undefined;
  /** Entry time of the syscall in flight. */
  sysEntry = 0;

  constructor(uid: number, tid: number, ts: number) {
    this.uid = uid;
    this.tid = tid;
    this.firstSeen = ts;
    this.lastSeen = ts;
  }

  /** Sets `comm` from a trace byte string (UTF-8 bytes, one char per byte). */
  setRawComm(raw: string): void {
    if (raw === this.rawComm && this.comm === this.rawText) return;
    this.rawComm = raw;
    this.rawText = byteStringToText(raw);
    this.comm = this.rawText;
  }

  /** tid inside the thread's own pid namespace (equal to `tid` on the host), when known. */
  get vtid(): number | undefined {
    const lv = this.pidLevels;
    if (lv !== undefined && lv.length > 0) {
      const v = lv[lv.length - 1]?.vtid;
      if (v !== undefined) return v;
    }
    return this.vtidCtx;
  }

  /** pid inside the thread's own pid namespace, when known. */
  get vpid(): number | undefined {
    const lv = this.pidLevels;
    if (lv !== undefined && lv.length > 0) {
      const v = lv[lv.length - 1]?.vpid;
      if (v !== undefined) return v;
    }
    return this.vpidCtx;
  }

  /** Nesting level of the active pid namespace (0 = host), when known. */
  get pidNsLevel(): number | undefined {
    return this.pidLevels === undefined ? undefined : this.pidLevels.length - 1;
  }
}

/** Per-CPU state. */
export class CpuState {
  readonly id: number;
  /**
   * Whether lttng-analyses would know this CPU (it learns CPUs from `sched_switch`,
   * `sched_wakeup*`/`sched_waking` and hard/soft IRQ events; the total CPU usage divides by
   * their count).
   */
  known = false;
  /** Thread running on the CPU; undefined when idle (swapper) or unknown. */
  current: Thread | undefined;
  /** tid of the task running on the CPU (0 when idle), or -1 before the first `sched_switch`. */
  currentTid = -1;

  constructor(id: number) {
    this.id = id;
  }
}
