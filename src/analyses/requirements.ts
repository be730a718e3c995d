/**
 * What each analysis needs from a trace, checked against the event classes of the metadata
 * before reading any event, so that a trace without them gets a message naming the missing
 * events and how to record them, not empty tables.
 */
import type { EventClass, StreamClass } from '../ctf/ir.js';
import { findField } from '../model/fields.js';
import { isSyscallExit, syscallEntryName } from '../model/model.js';

export type AnalysisName =
  'cputop' | 'memtop' | 'syscallstats' | 'sched' | 'io' | 'iousage' | 'irq' | 'period';

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

const has = (c: Coverage, ...names: string[]): boolean => names.some((n) => c.names.has(n));
const WAKEUPS = ['sched_wakeup', 'sched_waking', 'sched_wakeup_new'];
const HARD_IRQ = ['irq_handler_entry', 'irq_handler_exit'];
const SOFT_IRQ = ['irq_softirq_entry', 'irq_softirq_exit', 'softirq_entry', 'softirq_exit'];
const BLOCK = ['block_rq_issue', 'block_rq_complete'];
const SYSCALLS = 'system call entry and exit events: lttng enable-event --kernel --syscall --all';

/** Problems that make an analysis meaningless on this trace (empty when it can run). */
export function missingFor(name: AnalysisName, c: Coverage): string[] {
  const out: string[] = [];
  if (name === 'period') return out;
  if (name === 'irq') {
    if (!has(c, ...HARD_IRQ, ...SOFT_IRQ)) {
      out.push(
        'interrupt events (irq_handler_entry/exit, irq_softirq_raise/entry/exit): ' +
          "lttng enable-event --kernel 'irq_*'",
      );
    }
    return out;
  }
  const label = name === 'iousage' ? 'io' : name;
  if (!c.schedSwitch) {
    out.push(`sched_switch events (${label} needs them to know which thread runs on each CPU): ${SCHED}`);
  }
  if (name === 'sched' && !has(c, ...WAKEUPS)) {
    out.push(
      `wakeup events (sched_waking/sched_wakeup/sched_wakeup_new): lttng enable-event --kernel ${WAKEUPS.join(',')}`,
    );
  }
  if (name === 'io' && !(c.syscallEntry && c.syscallExit)) out.push(SYSCALLS);
  if (name === 'iousage' && !(c.syscallEntry && c.syscallExit) && !has(c, ...BLOCK)) {
    out.push(`${SYSCALLS}, and block request events: lttng enable-event --kernel ${BLOCK.join(',')}`);
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

/**
 * What an analysis can run without but shows less (warnings naming the events and how to
 * record them).
 */
export function advisoryFor(name: AnalysisName, c: Coverage): string[] {
  const out: string[] = [];
  const ev = (what: string, names: readonly string[]): string =>
    `${what}: lttng enable-event --kernel ${names.join(',')}`;
  if (name === 'io' || name === 'iousage') {
    if (name === 'iousage' && !(c.syscallEntry && c.syscallExit))
      out.push(`no system call events, no per-process or per-file I/O (${SYSCALLS})`);
    if (!has(c, ...BLOCK)) out.push(ev('no block request events, no disk tables', BLOCK));
    else if (!has(c, 'lttng_statedump_block_device')) {
      out.push(ev('no block device statedump, disks are shown by number', ['lttng_statedump_block_device']));
    }
    if (!has(c, 'lttng_statedump_file_descriptor')) {
      out.push(
        ev('no file descriptor statedump, files opened before the trace are unknown', [
          'lttng_statedump_file_descriptor',
        ]),
      );
    }
    if (name === 'iousage' && !has(c, 'net_dev_xmit', 'netif_receive_skb', 'net_if_receive_skb')) {
      out.push(ev('no network events, no network interface tables', ['net_dev_xmit', 'net_if_receive_skb']));
    }
  }
  if (name === 'irq') {
    if (!has(c, ...HARD_IRQ)) out.push(ev('no hard IRQ events', HARD_IRQ));
    if (!has(c, ...SOFT_IRQ))
      out.push(ev('no softirq events', ['irq_softirq_raise', 'irq_softirq_entry', 'irq_softirq_exit']));
    else if (!has(c, 'irq_softirq_raise', 'softirq_raise'))
      out.push(ev('no softirq raise events, no raise latencies', ['irq_softirq_raise']));
    if (!c.schedSwitch)
      out.push(
        ev('no sched_switch events, interrupted tasks (per-container tables) unknown', ['sched_switch']),
      );
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
