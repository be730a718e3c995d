/**
 * What `nstrace record` takes and returns, whichever capture backend runs it: the options,
 * the progress reports and the summary (shared by tracefs/recorder.ts and bpf/recorder.ts).
 */
import type { TraceSink } from '../ctf/writer/index.js';
import type { WatchOptions } from '../containers/index.js';
import type { ContextName } from './contexts.js';
import type { StringStats } from './tracefs/strings.js';
import type { RecordSelection } from './bpf/select.js';

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
        /** Diagnostics: see Watcher.stats. */
        outsideWindow?: number;
        pruned?: number;
        starved?: number;
      }
    | undefined;
  /**
   * Context values written before they were known: patched in place, left unknown because the
   * packet was already out (`tooLate`) or because they were never learnt (`unresolved`).
   */
  patches: { patched: number; tooLate: number; unresolved: number };
  /** `sched_switch` events the kernel did not report, inferred from the next task's events. */
  inferredSwitches: number;
  /**
   * Those of the switches with a priority no event had shown for the task: read from /proc at
   * that moment (or 20, nice 0, when /proc no longer has it), not observed at the switch, and
   * marked in the event (`nstrace_prio_unobserved`).
   */
  inferredPrioUnobserved: number;
  unknownFtraceEvents: number;
  cpuUserMs: number;
  cpuSystemMs: number;
}
