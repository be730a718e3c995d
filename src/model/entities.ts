/**
 * The model's two linked records: `Thread` (one lifetime of a host tid) and `Container` (a
 * container or the host, with the threads bound to it). They point at each other, so they live
 * in one file; the trackers that fill them are threads.ts and containers.ts.
 *
 * A `Thread` is one lifetime of a host tid: a fork of an existing tid starts a new `Thread`
 * object, so identity survives tid reuse (`uid` is unique per run, small, and dense: analyses
 * index typed arrays with it). The fields that lttng-analyses keeps per tid (`pid`, `comm`,
 * `prio`, the syscall in flight) follow its update rules, so that analyses built on this model
 * give the same numbers.
 */
import { byteStringToText } from '../ctf/event.js';
import type { FlatNsType, PidLevel, UserLevel } from './namespaces.js';

export class Thread {
  /** Unique per model, dense from 0: index for per-thread arrays in analyses. */
  readonly uid: number;
  /** Host tid. */
  readonly tid: number;
  /**
   * Which lifetime of its tid this is in its model, from 0 (set by the model's thread tracker).
   * Two models fed the same trace agree on it whatever the order of simultaneous events of
   * different CPUs, which may change `uid`.
   */
  lifetime = 0;
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

  /** The level of the active (deepest) pid namespace in `pidLevels`, when known. */
  private get activeLevel(): PidLevel | undefined {
    const lv = this.pidLevels;
    return lv !== undefined && lv.length > 0 ? lv[lv.length - 1] : undefined;
  }

  /** tid inside the thread's own pid namespace (equal to `tid` on the host), when known. */
  get vtid(): number | undefined {
    return this.activeLevel?.vtid ?? this.vtidCtx;
  }

  /** pid inside the thread's own pid namespace, when known. */
  get vpid(): number | undefined {
    return this.activeLevel?.vpid ?? this.vpidCtx;
  }

  /** Nesting level of the active pid namespace (0 = host), when known. */
  get pidNsLevel(): number | undefined {
    return this.pidLevels === undefined ? undefined : this.pidLevels.length - 1;
  }
}

/** Where the model learned about a container. */
export type ContainerSource = 'host' | 'event' | 'namespace';

export class Container {
  /** Small dense key (0 = host) for per-container arrays. */
  readonly key: number;
  id: string;
  name: string;
  type: string;
  image = '';
  readonly isHost: boolean;
  source: ContainerSource;
  /** Latest pid namespace inode of the container. */
  pidNs: number | undefined;
  /** Every pid namespace the container had during the trace, in order. */
  readonly pidNsList: number[] = [];
  /** Other namespaces of the container's init, when a container event gave them. */
  readonly ns: Partial<Record<FlatNsType, number>> = {};
  initPid = 0;
  cgroupPath = '';
  podName = '';
  podNamespace = '';
  podUid = '';
  startedAt = 0n;
  /** Times (ns relative to the trace set base) of the first and last sign of life. */
  firstSeen: number | undefined;
  lastSeen: number | undefined;
  /** Time of the stop event, when seen. */
  stoppedAt: number | undefined;
  /** Container of the parent pid namespace, for nested containers (undefined: child of the host). */
  parent: Container | undefined;
  /** Threads bound to this container. */
  readonly threads: Thread[] = [];
  /** Set when merged into another container (it is then no longer listed). */
  mergedInto: Container | undefined;

  constructor(key: number, id: string, name: string, type: string, isHost: boolean, source: ContainerSource) {
    this.key = key;
    this.id = id;
    this.name = name;
    this.type = type;
    this.isHost = isHost;
    this.source = source;
  }

  /**
   * `name (pid_ns)` as lttng-analyses' container branch labels it; just the name for the host and
   * for a container named by its pid namespace inode.
   */
  get label(): string {
    if (this.isHost || this.pidNs === undefined || this.name === String(this.pidNs)) return this.name;
    return `${this.name} (${this.pidNs})`;
  }

  /** Widens the lifetime to include `ts`. */
  seen(ts: number): void {
    if (this.firstSeen === undefined || ts < this.firstSeen) this.firstSeen = ts;
    if (this.lastSeen === undefined || ts > this.lastSeen) this.lastSeen = ts;
  }
}
