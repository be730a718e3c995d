/**
 * What the trackers publish besides their tables: the per-event outputs the analyses read while
 * an event is dispatched (the `SystemModel` holds them, the trackers write them), and which kinds
 * of information the trace turned out to have.
 */
import type { Thread } from './entities.js';

/** Per-event outputs for analyses: valid while the event is being dispatched. */
export interface EventOutputs {
  /** CPU of the event being handled (sched_switch, migrate, syscall exit, page events). */
  cpuId: number;
  /** `sched_switch`: the previous and next threads. */
  switchPrev: Thread | undefined;
  switchNext: Thread | undefined;
  /** `sched_switch`: `prev_comm` and `next_comm` as in the event (byte strings: see `byteStringToText`). */
  switchPrevComm: string;
  switchNextComm: string;
  /** `sched_migrate_task`: the migrated thread. */
  migrated: Thread | undefined;
  /** Page alloc/free: the thread to charge, or undefined when lttng-analyses would not. */
  memThread: Thread | undefined;
  /** Syscall entry: the thread whose syscall starts, or undefined when none is known. */
  entryThread: Thread | undefined;
  /** Syscall exit: the thread whose syscall ends (its `sysName`/`sysEntry` are still set), or undefined. */
  exitThread: Thread | undefined;
  /** Syscall exit: the return value (NaN when the event has none). */
  exitRet: number;
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
