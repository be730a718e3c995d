/**
 * Time namespaces of a machine's traces, read before the traces are merged (the merge needs
 * every trace on one clock: src/model/machines.ts).
 *
 * What the traces can tell:
 * - the CLOCK_MONOTONIC offset of each time namespace: nstrace's recorder dumps
 *   `/proc/PID/timens_offsets` once per time namespace during its statedump
 *   (`nstrace_statedump_timens { ns_inum, monotonic_sec, monotonic_nsec, boottime_sec,
 *   boottime_nsec }`; LTTng has no such event);
 * - which time namespace a pid namespace's tasks are in: the kernel statedump
 *   (`lttng_statedump_process_pid_ns` at the deepest level and `lttng_statedump_process_time_ns`
 *   of the same task), and container events (`pid_ns`, `time_ns`);
 * - which time namespace a userspace trace's events were written in: its `time_ns` context
 *   (`lttng add-context -u -t time_ns`, LTTng 2.13), else its `pid_ns` context through the
 *   above.
 *
 * Only the kernel traces' statedump is read (up to the first `lttng_statedump_end`) and the
 * first event of each userspace trace: this costs little whatever the traces' size. A
 * userspace trace whose events come from several time namespaces (per-user buffers shared by
 * applications of several containers) is read on the first one's.
 */
import { TraceSet } from '../ctf/reader.js';
import type { EventRecord } from '../ctf/event.js';
import { findField, toNum } from './fields.js';
import type { TraceMeta, TraceTimeNs } from './machines.js';
import { INIT_TIME_NS } from './machines.js';

export interface TimeNsFacts {
  /** CLOCK_MONOTONIC offset (ns) per time namespace inode. */
  readonly offsets: Map<number, bigint>;
  /** Time namespace of the tasks of a pid namespace. */
  readonly timeNsOfPidNs: Map<number, number>;
}

export const TIMENS_EVENT = 'nstrace_statedump_timens';

/** Whether some kernel trace of the list can tell time namespace offsets (saves the pre-pass otherwise). */
export function hasTimeNsEvents(traces: readonly TraceMeta[]): boolean {
  for (const t of traces) {
    for (const sc of t.cls.streamClasses.values()) {
      for (const ec of sc.eventClasses.values()) if (ec.name === TIMENS_EVENT) return true;
    }
  }
  return false;
}

function field(rec: EventRecord, name: string): number {
  const i = findField(rec.eventClass.fields, name);
  return i < 0 ? NaN : toNum(rec.payload?.[i]);
}

function bigField(rec: EventRecord, name: string): bigint | undefined {
  const i = findField(rec.eventClass.fields, name);
  const v = i < 0 ? undefined : rec.payload?.[i];
  return typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined;
}

/** Reads the statedumps of `kernelDirs` for time namespace offsets and memberships. */
export function readTimeNsFacts(kernelDirs: readonly string[]): TimeNsFacts {
  const facts: TimeNsFacts = { offsets: new Map(), timeNsOfPidNs: new Map() };
  if (kernelDirs.length === 0) return facts;
  const set = TraceSet.open(kernelDirs);
  const pidNsOfTid = new Map<number, number>();
  const timeNsOfTid = new Map<number, number>();
  try {
    const wanted = new Set([
      TIMENS_EVENT,
      'lttng_statedump_process_pid_ns',
      'lttng_statedump_process_time_ns',
      'lttng_statedump_end',
      'nstrace_container_statedump',
      'nstrace_container_start',
    ]);
    for (const c of set.eventClasses) set.setPayloadWanted(c.key, wanted.has(c.eventClass.name));
    if (!set.eventClasses.some((c) => c.eventClass.name === 'lttng_statedump_end')) return facts;
    for (let r = set.next(); r !== null; r = set.next()) {
      if (r.kind !== 'event') continue;
      const name = r.eventClass.name;
      if (name === 'lttng_statedump_end') break;
      if (name === TIMENS_EVENT) {
        const inum = field(r, 'ns_inum');
        const s = bigField(r, 'monotonic_sec');
        const ns = bigField(r, 'monotonic_nsec');
        if (inum > 0 && s !== undefined && ns !== undefined) facts.offsets.set(inum, s * 1_000_000_000n + ns);
      } else if (name === 'lttng_statedump_process_pid_ns') {
        // Deepest level first: the first event of a task is its own pid namespace.
        const tid = field(r, 'tid');
        if (!pidNsOfTid.has(tid)) pidNsOfTid.set(tid, field(r, 'ns_inum'));
      } else if (name === 'lttng_statedump_process_time_ns') {
        timeNsOfTid.set(field(r, 'tid'), field(r, 'ns_inum'));
      } else {
        const pidNs = field(r, 'pid_ns');
        const timeNs = field(r, 'time_ns');
        if (pidNs > 0 && timeNs > 0) facts.timeNsOfPidNs.set(pidNs, timeNs);
      }
    }
  } finally {
    set.close();
  }
  for (const [tid, pidNs] of pidNsOfTid) {
    const timeNs = timeNsOfTid.get(tid);
    if (pidNs > 0 && timeNs !== undefined && timeNs > 0 && !facts.timeNsOfPidNs.has(pidNs))
      facts.timeNsOfPidNs.set(pidNs, timeNs);
  }
  facts.offsets.set(INIT_TIME_NS, facts.offsets.get(INIT_TIME_NS) ?? 0n);
  return facts;
}

/** The `time_ns` and `pid_ns` contexts of the first event of a trace (undefined: not there). */
export function firstEventNamespaces(dir: string): { timeNs?: number; pidNs?: number } | undefined {
  const set = TraceSet.open([dir]);
  try {
    for (const c of set.eventClasses) set.setPayloadWanted(c.key, false);
    for (let r = set.next(); r !== null; r = set.next()) {
      if (r.kind !== 'event') continue;
      const ctx = r.streamContext;
      const ec = r.stream.streamClass.eventContext;
      const it = findField(ec, 'time_ns');
      const ip = findField(ec, 'pid_ns');
      const timeNs = it < 0 ? undefined : toNum(ctx?.[it]);
      const pidNs = ip < 0 ? undefined : toNum(ctx?.[ip]);
      return {
        ...(timeNs !== undefined && timeNs > 0 ? { timeNs } : {}),
        ...(pidNs !== undefined && pidNs > 0 ? { pidNs } : {}),
      };
    }
    return undefined;
  } finally {
    set.close();
  }
}

/**
 * The time namespace of each non-kernel trace of a machine, as far as `facts` and its first
 * event tell (for `clockPlan`).
 */
export function timeNsResolver(facts: TimeNsFacts | undefined): (t: TraceMeta) => TraceTimeNs | undefined {
  const cache = new Map<string, TraceTimeNs | undefined>();
  return (t) => {
    if (t.domain === 'kernel') return { inum: undefined, offsetNs: undefined };
    if (cache.has(t.dir)) return cache.get(t.dir);
    const first = firstEventNamespaces(t.dir);
    let inum = first?.timeNs;
    if (inum === undefined && first?.pidNs !== undefined) inum = facts?.timeNsOfPidNs.get(first.pidNs);
    const r: TraceTimeNs | undefined =
      inum === undefined ? undefined : { inum, offsetNs: facts?.offsets.get(inum) };
    cache.set(t.dir, r);
    return r;
  };
}
