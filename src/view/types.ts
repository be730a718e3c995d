/**
 * What the `nstrace view` page gets from its data source (the server's JSON answers, or the same
 * computations run in the page on the data embedded by `--html`). Shared by the server and the
 * page: no Node or DOM types here.
 *
 * Times are integer nanoseconds relative to the trace set's time base (`Summary.base`), as
 * everywhere in nstrace; the page turns them into clock times with `base`.
 */

/** Thread states of the threads timeline (`ThreadRow.st`). */
export const ThreadState = {
  /** On a CPU (`a`: the CPU). */
  running: 0,
  /** Switched out while runnable (preempted, yielded). */
  preempted: 1,
  /** Woken up, waiting for a CPU (`a`: the CPU it was woken on, -1 when unknown). */
  woken: 2,
  /** Switched out asleep, interruptible (`S`; `a`: the syscall in flight, -1 when none known). */
  sleeping: 3,
  /** Switched out asleep, uninterruptible (`D`; `a`: the syscall in flight, -1 when none known). */
  blocked: 4,
  /** Switched out in another state (stopped, traced, parked, idle kernel wait; `a`: the raw `prev_state`). */
  other: 5,
} as const;
export type ThreadStateCode = (typeof ThreadState)[keyof typeof ThreadState];

/** A container (or the host, key 0) as the page shows it. */
export interface ContainerSummary {
  /** The model's key: dense, the host is 0. Colours are assigned by position in `Summary.containers`. */
  readonly key: number;
  readonly name: string;
  readonly id: string;
  readonly type: string;
  readonly image: string;
  readonly isHost: boolean;
  /** Every pid namespace the container had during the trace, in order (a restart adds one). */
  readonly pidNs: number[];
  /** Restarts seen in the trace: pid namespaces beyond the first. */
  readonly restarts: number;
  /**
   * Each pid namespace's span of activity (first and last sight of its threads), in order: one
   * per incarnation of a restarted container.
   */
  readonly incarnations: Array<{ readonly pidNs: number; readonly first: number; readonly last: number }>;
  readonly firstSeen: number | null;
  readonly lastSeen: number | null;
  /** Time of its stop event, when the trace has one. */
  readonly stoppedAt: number | null;
  /** Key of the container whose pid namespace holds this one's (nested containers). */
  readonly parent: number | null;
  /** CPU time of its threads (`nstrace cputop`'s per-container time), ns; null when not analysed. */
  readonly cpuNs: number | null;
  /** Percent of the period, as `nstrace top` prints it (can exceed 100 on several CPUs). */
  readonly cpuPct: number | null;
  /** Pages allocated and freed by its threads (`nstrace memtop`); null when not analysed. */
  readonly pagesAlloc: number | null;
  readonly pagesFreed: number | null;
  /** System calls and failed ones (`nstrace syscallstats`); null when not analysed. */
  readonly syscalls: number | null;
  readonly syscallErrors: number | null;
  /** Threads of the container that the page lists (those with any activity). */
  readonly threads: number;
}

/** One thread lifetime (a host tid reused later is another thread). */
export interface ThreadSummary {
  /** The model's uid: dense, unique per thread lifetime. */
  readonly uid: number;
  readonly tid: number;
  /** Host pid (tgid), null when unknown. */
  readonly pid: number | null;
  /** tid and pid inside the thread's pid namespace, null when unknown. */
  readonly vtid: number | null;
  readonly vpid: number | null;
  readonly comm: string;
  /** Container key. */
  readonly container: number;
  readonly born: number | null;
  readonly exited: number | null;
  /** CPU time in the trace, ns (sum of its running intervals). */
  readonly cpuNs: number;
}

export interface Summary {
  readonly version: string;
  /** Trace directories, as given. */
  readonly traces: string[];
  readonly hostname: string;
  /** Time base: seconds and ns from the clock origin; `ts` values are relative to it. */
  readonly base: { readonly seconds: number; readonly ns: number };
  /** First and last event of the trace. */
  readonly begin: number;
  readonly end: number;
  readonly events: number;
  readonly discardedEvents: number;
  /** Events the kernel skipped (bpf recorder: `nstrace_kernel_skipped`), at no known time or CPU. */
  readonly kernelSkipped: number;
  /** CPU ids, in lane order. */
  readonly cpus: number[];
  /** The host first, then containers in order of discovery. */
  readonly containers: ContainerSummary[];
  /** Threads with any activity in the trace. */
  readonly threads: ThreadSummary[];
  /** Threads the model knows that did nothing in the trace (not listed). */
  readonly idleThreads: number;
  /** Syscall names, indexed by `ThreadRow.a` of sleeping/blocked states. */
  readonly syscallNames: string[];
  /** Things the user should know (no namespace information, lost events, analyses skipped). */
  readonly warnings: string[];
  /** Whether the data source answers `events` queries (false in a static export). */
  readonly live: boolean;
  /** App spans (`nstrace spans`) under the thread rows: whether the data has any, and why not. */
  readonly spans: { readonly available: boolean; readonly note: string };
  /** Local time zone offset used by `print` lines, minutes east of UTC at the trace start. */
  readonly utcOffsetMin: number;
}

/** A window of the timelines at a resolution: `width` columns over [t0, t1]. */
export interface WindowQuery {
  readonly t0: number;
  readonly t1: number;
  readonly width: number;
}

/**
 * One CPU lane at screen resolution: slices at least a column wide, one by one; shorter ones
 * merged per column. Parallel arrays.
 */
export interface LaneData {
  readonly cpu: number;
  readonly s: number[];
  readonly e: number[];
  /** A slice: the thread uid (>= 0). A merged column: -(container key + 1) of the container with the most time. */
  readonly k: number[];
  /** Fraction of [s, e] the CPU was busy (1 for a slice). */
  readonly f: number[];
  /** Slices merged (1 for a slice). */
  readonly n: number[];
}

export interface LanesResponse extends WindowQuery {
  readonly lanes: LaneData[];
}

/** One thread row at screen resolution (states; short intervals merged per column, the dominant state kept). */
export interface ThreadRowData {
  readonly uid: number;
  readonly s: number[];
  readonly e: number[];
  readonly st: number[];
  /** The state's argument (see `ThreadState`); -2 for a merged column of mixed arguments. */
  readonly a: number[];
  /** Intervals merged (1 for one). */
  readonly n: number[];
}

/** A process or container row: the number of its threads running, per column (0..CPUs). */
export interface GroupRowData {
  readonly id: string;
  readonly v: number[];
}

/**
 * App spans of a thread (`nstrace spans`, from UST traces): nested intervals under the thread's
 * row. Parallel arrays; `name` indexes `SpansData.names`.
 */
export interface SpanRowData {
  readonly uid: number;
  readonly s: number[];
  readonly e: number[];
  readonly depth: number[];
  readonly name: number[];
}

export interface RowsQuery extends WindowQuery {
  /** Thread uids of the thread rows to fill. */
  readonly uids: number[];
  /** Group rows: `c:KEY` (a container) or `p:KEY:PID` (a process of a container). */
  readonly groups: string[];
}

export interface RowsResponse extends WindowQuery {
  readonly rows: ThreadRowData[];
  readonly groups: GroupRowData[];
  readonly spans: SpanRowData[];
  readonly spanNames: string[];
}

/** Per-container time series over `n` buckets of [t0, t1]. */
export interface SeriesResponse {
  readonly t0: number;
  readonly t1: number;
  /** Bucket width, ns. */
  readonly step: number;
  /** Bucket starts. */
  readonly x: number[];
  /** Container keys, one per series below (every container, the host included). */
  readonly keys: number[];
  /** CPUs used (busy ns / bucket ns). */
  readonly cpu: number[][];
  /** Page allocations per second. */
  readonly alloc: number[][];
  /** System calls per second (completed calls). */
  readonly sys: number[][];
  /** Failed system calls per second (negative return value). */
  readonly err: number[][];
}

export interface EventsQuery {
  readonly t0: number;
  readonly t1: number;
  /** LTTng filter expression (`--filter`). */
  readonly filter?: string;
  /** `--container` globs (each may be a comma list). */
  readonly container?: string[];
  /** `--container-type` globs. */
  readonly containerType?: string[];
  /** `--host`. */
  readonly host?: boolean;
  /** Lines to return at most. */
  readonly limit?: number;
  /** Continue the previous answer (its `cursor`). */
  readonly cursor?: string | null;
}

export interface EventsResponse {
  /** `nstrace print`'s lines, byte for byte (as text). */
  readonly lines: string[];
  /** Container key of each line's event (the task that produced it, as print's selectors see it). */
  readonly containers: number[];
  /** Time of each line's event (ns, relative to the base). */
  readonly ts: number[];
  /** print's standard error (lost events, selector warnings). */
  readonly warnings: string[];
  /** Set when more lines follow: pass it back as `cursor`. */
  readonly cursor: string | null;
  /** The equivalent command line. */
  readonly command: string;
}

/** An error answer of the data source (a filter syntax error points at a column). */
export interface ErrorResponse {
  readonly error: string;
  /** Column (0-based) in the filter expression, for filter syntax errors. */
  readonly column?: number;
  readonly length?: number;
}
