/**
 * Which ftrace events a recording enables: the event-name patterns of `-e` (LTTng names,
 * globs, or raw `system:event`), `--syscalls`, the default set, and the internal events the
 * thread table needs (written only when asked for).
 */
import { UsageError } from '../util/errors.js';
import { LTTNG_EVENTS } from './lttng-events.js';

/** The set lttng-analyses' recording recipe asks for (plus the statedump, always on). */
export const DEFAULT_EVENTS: readonly string[] = [
  'sched_switch',
  'sched_wakeup',
  'sched_waking',
  'sched_wakeup_new',
  'sched_process_fork',
  'sched_process_exec',
  'sched_process_exit',
  'sched_process_free',
  'sched_process_wait',
  'sched_migrate_task',
  'sched_pi_setprio',
  'irq_handler_entry',
  'irq_handler_exit',
  'irq_softirq_entry',
  'irq_softirq_exit',
  'irq_softirq_raise',
  'kmem_mm_page_alloc',
  'kmem_mm_page_free',
  'block_rq_insert',
  'block_rq_issue',
  'block_rq_complete',
  'block_rq_requeue',
  'block_bio_queue',
  'block_bio_backmerge',
  'block_bio_frontmerge',
  'block_bio_complete',
  'block_bio_remap',
  'block_getrq',
  'net_dev_xmit',
  'net_dev_queue',
  'net_if_receive_skb',
  'net_if_rx',
];

/** ftrace events the thread table always needs (written only if also selected). */
export const INTERNAL_FTRACE: readonly string[] = [
  'task:task_newtask',
  'task:task_rename',
  'sched:sched_process_fork',
  'sched:sched_process_exec',
  'sched:sched_process_exit',
  'sched:sched_process_free',
  'cgroup:cgroup_mkdir',
  'cgroup:cgroup_rmdir',
];
/** Syscalls whose entry/exit the thread table always needs. */
export const INTERNAL_SYSCALLS: readonly string[] = ['clone', 'clone3', 'fork', 'vfork', 'unshare', 'setns'];

export function globToRegExp(glob: string): RegExp {
  const esc = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

export interface EventSelection {
  /** ftrace `system:event` names to write (mapped or generic). */
  written: Set<string>;
  /** Write every syscall entry/exit. */
  allSyscalls: boolean;
  /** Syscall names to write (when not all). */
  syscalls: Set<string>;
}

/**
 * Resolves `-e` patterns. Tokens: LTTng event names or globs (`sched_*`), `syscall_entry_read`
 * style names (both entry and exit are enabled), or `system:event` for any ftrace event
 * (`timer:hrtimer_*`). `available(system)` lists the events of a system on this kernel.
 */
export function selectEvents(
  patterns: readonly string[] | undefined,
  syscalls: boolean | undefined,
  available: (system: string) => readonly string[],
  systems: () => readonly string[],
): EventSelection {
  const written = new Set<string>();
  const sys = new Set<string>();
  let allSyscalls = false;
  const hasFtrace = (s: string, e: string): boolean => available(s).includes(e);
  const addLttng = (name: string): boolean => {
    const spec = LTTNG_EVENTS.find((x) => x.name === name);
    if (!spec) return false;
    const [s, e] = spec.ftrace.split(':') as [string, string];
    if (hasFtrace(s, e)) written.add(spec.ftrace);
    return true;
  };
  if (patterns === undefined) {
    for (const n of DEFAULT_EVENTS) addLttng(n);
    allSyscalls = syscalls !== false;
    return { written, allSyscalls, syscalls: sys };
  }
  for (const raw of patterns) {
    const tok = raw.trim();
    if (!tok) continue;
    if (tok === 'all' || tok === '*') {
      for (const n of DEFAULT_EVENTS) addLttng(n);
      continue;
    }
    const colon = tok.indexOf(':');
    if (colon > 0) {
      const sre = globToRegExp(tok.slice(0, colon));
      const ere = globToRegExp(tok.slice(colon + 1));
      let n = 0;
      for (const s of systems()) {
        if (!sre.test(s)) continue;
        for (const e of available(s)) {
          if (!ere.test(e)) continue;
          if (s === 'syscalls') {
            const m = /^sys_(?:enter|exit)_(.+)$/.exec(e);
            if (m) sys.add(m[1]!);
          } else written.add(`${s}:${e}`);
          n++;
        }
      }
      if (n === 0) throw new UsageError(`no ftrace event matches '${tok}'`);
      continue;
    }
    const sm = /^syscall_(?:entry|exit)_(.+)$/.exec(tok);
    if (sm) {
      const re = globToRegExp(sm[1]!);
      const names = available('syscalls')
        .map((e) => /^sys_enter_(.+)$/.exec(e)?.[1])
        .filter((x): x is string => x !== undefined && re.test(x));
      if (names.length === 0) throw new UsageError(`no syscall matches '${tok}'`);
      for (const n of names) sys.add(n);
      continue;
    }
    const re = globToRegExp(tok);
    const matches = LTTNG_EVENTS.filter((x) => re.test(x.name));
    if (matches.length === 0) {
      throw new UsageError(
        `unknown event '${tok}' (use LTTng names like sched_switch, sched_*, syscall_entry_openat, or system:event for other ftrace events)`,
      );
    }
    for (const m of matches) addLttng(m.name);
  }
  if (syscalls) allSyscalls = true;
  return { written, allSyscalls, syscalls: sys };
}

/**
 * Events recorded for every task, the recorder's own included: they describe the CPUs
 * (who runs, who wakes whom, interrupts) rather than what a task does, and lose their meaning
 * with holes (a CPU's switch chain must be whole for CPU accounting). The recorder adds a
 * bounded number of them (its own sleeps and wakeups), never in proportion to what it records.
 */
export function isCompleteSetEvent(ftrace: string): boolean {
  return ftrace.startsWith('sched:') || ftrace.startsWith('task:') || ftrace.startsWith('irq:');
}
