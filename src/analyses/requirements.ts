/**
 * What each analysis needs from a trace, checked against the event classes of the metadata
 * before reading any event, so that a trace without them gets a message naming the missing
 * events and how to record them, not empty tables.
 */
import type { EventClass, StreamClass } from '../ctf/ir.js';
import { findField } from '../model/fields.js';
import { isSyscallExit, syscallEntryName } from '../model/model.js';

export type AnalysisName = 'cputop' | 'memtop' | 'syscallstats';

export interface ClassDesc {
  readonly eventClass: EventClass;
  readonly streamClass: StreamClass;
}

export interface Coverage {
  readonly names: ReadonlySet<string>;
  readonly schedSwitch: boolean;
  readonly pageAlloc: boolean;
  readonly syscallEntry: boolean;
  readonly syscallExit: boolean;
  /** Some source of pid namespaces: context, statedump or fork fields. */
  readonly pidNs: boolean;
  readonly containerEvents: boolean;
}

export function coverageOf(classes: readonly ClassDesc[]): Coverage {
  const names = new Set<string>();
  let pidNs = false;
  let containerEvents = false;
  let syscallEntry = false;
  let syscallExit = false;
  for (const { eventClass: ec, streamClass: sc } of classes) {
    names.add(ec.name);
    if (syscallEntryName(ec.name) !== undefined) syscallEntry = true;
    if (isSyscallExit(ec.name)) syscallExit = true;
    if (findField(sc.eventContext, 'pid_ns') >= 0) pidNs = true;
    if (ec.name === 'lttng_statedump_process_pid_ns') pidNs = true;
    if (ec.name === 'lttng_statedump_process_state' && findField(ec.fields, 'ns_inum') >= 0) pidNs = true;
    if (ec.name === 'sched_process_fork' && findField(ec.fields, 'child_ns_inum') >= 0) pidNs = true;
    const base = ec.name.slice(ec.name.lastIndexOf(':') + 1);
    if (base.startsWith('nstrace_container_') || base === 'lttng_statedump_container') containerEvents = true;
  }
  return {
    names,
    schedSwitch: names.has('sched_switch'),
    pageAlloc: names.has('kmem_mm_page_alloc') || names.has('mm_page_alloc'),
    syscallEntry,
    syscallExit,
    pidNs,
    containerEvents,
  };
}

const SCHED =
  'lttng enable-event --kernel sched_switch,sched_process_fork,sched_process_exec,sched_process_exit';
const CONTEXTS = 'lttng add-context --kernel --type=pid_ns --type=tid';

/** Problems that make an analysis meaningless on this trace (empty when it can run). */
export function missingFor(name: AnalysisName, c: Coverage): string[] {
  const out: string[] = [];
  if (!c.schedSwitch) {
    out.push(`sched_switch events (${name} needs them to know which thread runs on each CPU): ${SCHED}`);
  }
  if (name === 'memtop' && !c.pageAlloc) {
    out.push(
      'kmem_mm_page_alloc/kmem_mm_page_free events (page allocations): ' +
        'lttng enable-event --kernel kmem_mm_page_alloc,kmem_mm_page_free',
    );
  }
  if (name === 'syscallstats' && !(c.syscallEntry && c.syscallExit)) {
    out.push('system call entry and exit events: lttng enable-event --kernel --syscall --all');
  }
  return out;
}

/** A warning when per-container tables can only show the host. */
export function containerWarning(c: Coverage): string | undefined {
  if (c.pidNs || c.containerEvents) return undefined;
  return (
    'the trace has no pid namespace information (no pid_ns context, no lttng_statedump_process_pid_ns ' +
    'events, no namespace fields in sched_process_fork) and no container events: every task is counted ' +
    `in [HOST]. To see containers, record with: ${CONTEXTS}, and lttng enable-event --kernel ` +
    "'lttng_statedump_*' (LTTng >= 2.12), or record with nstrace, which adds container events"
  );
}

export function missingMessage(what: string, problems: readonly string[]): string {
  return `${what}: the trace lacks ${problems.join('; and ')}`;
}
