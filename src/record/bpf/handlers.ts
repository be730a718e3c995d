/**
 * The per-event handlers of the bpf recorder, one per ftrace event id (what to write, and the
 * container watcher's side), and the capture specs of the tracepoints and syscalls to attach:
 * built once at setup from the selection and the kernel's event formats.
 */
import path from 'node:path';
import { NstraceError, UsageError } from '../../util/errors.js';
import { findField, type FtraceEventFormat } from '../format.js';
import { cgroupPathHandler } from '../cgroup-state.js';
import { listSystemEvents, readEventFormat, selectKernelEvents } from '../tracefs.js';
import { planSyscall } from '../convert.js';
import { isCompleteSetEvent } from '../events.js';
import { type ContainerWatcher } from '../../containers/index.js';
import type { RecordOptions } from '../options.js';
import { tracepointId, type SyscallSpec, type TracepointSpec } from './capture.js';
import { syscallNumber } from './syscalls.js';
import { hasRecordSelection } from './select.js';
import { REREAD_SYSCALLS } from './hold.js';
import { tracepointPayload, type PayloadHandler } from '../session-base.js';

/** Bytes copied from a record with `__data_loc` fields (fixed part + this much of the rest). */
const DYNAMIC_COPY = 512;

/** The wakeup events captured by raw tracepoint programs (ADR 0166). */
const WAKEUPS = new Set(['sched:sched_waking', 'sched:sched_wakeup', 'sched:sched_wakeup_new']);

/**
 * The record layout wakeupProgram writes (comm[16] at 8, pid at 24, prio at 28, target_cpu
 * at 32): any other layout keeps the tracepoint program, which copies what the kernel wrote.
 */
function hasWakeupLayout(fmt: FtraceEventFormat): boolean {
  const at = (name: string, offset: number, size: number): boolean => {
    const f = findField(fmt, name);
    return f !== undefined && f.offset === offset && f.size === size;
  };
  return (
    at('comm', 8, 16) &&
    at('pid', 24, 4) &&
    at('prio', 28, 4) &&
    at('target_cpu', 32, 4) &&
    fmt.fields.every((f) => f.offset + f.size <= 36)
  );
}

export interface Handler extends PayloadHandler {
  /** A syscall entry or exit (entryFmt set: an exit). */
  sys?: boolean;
  /** State side (container watcher): sched_process_exit, cgroup_mkdir/rmdir. */
  state: ((v: DataView, u: Uint8Array, s: number, tgid: number, tid: number) => void) | undefined;
}

/** What the state handlers use on the recorder. */
export interface BpfStateHost {
  containerWatcher: ContainerWatcher | undefined;
}

export function setupHandlers(
  eventsDir: string,
  o: RecordOptions,
  handlers: Array<Handler | undefined>,
  host: BpfStateHost,
  warn: (m: string) => void,
): {
  tracepoints: TracepointSpec[];
  syscalls: SyscallSpec[];
  fork: boolean;
  /** sched_process_fork is written (not only captured for the state). */
  forkWritten: boolean;
} {
  const sel = selectKernelEvents(eventsDir, o);
  const tracepoints: TracepointSpec[] = [];
  const root = path.dirname(eventsDir);
  const wanted = new Map<string, boolean>();
  for (const f of sel.written) wanted.set(f, true);
  // State only (the container watcher; sched_process_exit also saves the namespaces of the
  // exiting task for its last events): written when selected.
  if (!wanted.has('sched:sched_process_exit')) wanted.set('sched:sched_process_exit', false);
  for (const f of ['cgroup:cgroup_mkdir', 'cgroup:cgroup_rmdir']) {
    if (!wanted.has(f) && o.containers !== false) wanted.set(f, false);
  }
  let fork = false;
  for (const [ftrace, write] of wanted) {
    const [s, e] = ftrace.split(':') as [string, string];
    const fmt = readEventFormat(eventsDir, s, e);
    if (!fmt) continue;
    if (ftrace === 'sched:sched_process_fork') {
      fork = true;
      continue;
    }
    handlers[fmt.id] = {
      ...tracepointPayload(ftrace, fmt, write),
      state: stateFor(ftrace, fmt, host),
    };
    const fixed = fmt.fields.reduce((m, f) => Math.max(m, f.offset + f.size), 8);
    const dynamic = fmt.fields.some((f) => f.dataLoc);
    const other =
      ftrace === 'sched:sched_switch'
        ? findField(fmt, 'next_pid')?.offset
        : /^sched:sched_(wakeup|waking|wakeup_new|migrate_task|pi_setprio|process_free)$/.test(ftrace)
          ? findField(fmt, 'pid')?.offset
          : undefined;
    tracepoints.push({
      ftrace,
      id: fmt.id,
      copy: ((fixed + 7) & ~7) + (dynamic ? DYNAMIC_COPY : 0),
      dynamic,
      exclude: !isCompleteSetEvent(ftrace),
      ...(other !== undefined ? { otherTidAt: other } : {}),
      ...(WAKEUPS.has(ftrace) && hasWakeupLayout(fmt) ? { wakeup: true } : {}),
    });
  }
  // The fork program also selects children and forgets reused tids (selection, exclusion).
  if (!fork && (o.containers !== false || hasRecordSelection(o.select) || o.excludeChildren !== false))
    fork = tracepointId(root, 'sched:sched_process_fork') !== undefined;
  const forkWritten = sel.written.has('sched:sched_process_fork');
  // Syscalls (by number: the bpf programs attach to raw_syscalls).
  const syscalls: SyscallSpec[] = [];
  const unnumbered: string[] = [];
  const names = listSystemEvents(eventsDir, 'syscalls')
    .map((e) => /^sys_enter_(.+)$/.exec(e)?.[1])
    .filter((x): x is string => x !== undefined);
  for (const name of names) {
    if (!sel.allSyscalls && !sel.syscalls.has(name)) continue;
    const entryFmt = readEventFormat(eventsDir, 'syscalls', `sys_enter_${name}`);
    const exitFmt = readEventFormat(eventsDir, 'syscalls', `sys_exit_${name}`);
    if (!entryFmt || !exitFmt) continue;
    const nr = syscallNumber(name);
    if (nr === undefined) {
      unnumbered.push(name);
      continue;
    }
    const plan = planSyscall(name, entryFmt, exitFmt);
    const argNames = entryFmt.fields
      .filter((f) => !f.name.startsWith('common_') && f.name !== '__syscall_nr')
      .map((f) => f.name);
    const strings: number[] = [];
    for (const f of plan.entryFields) {
      if ('user' in f.src) {
        const i = argNames.indexOf(f.src.user);
        if (i >= 0) strings.push(i);
      }
    }
    if (strings.length > 3) continue; // no such syscall today; never write a guessed layout
    const exitUsesStrings = plan.exitFields.some((f) => 'entryUser' in f.src);
    handlers[entryFmt.id] = {
      lttngName: `syscall_entry_${name}`,
      sys: true,
      fmt: entryFmt,
      plan: plan.entryFields,
      entryFmt: undefined,
      ec: undefined,
      payload: undefined,
      maxLen: 0,
      recordVar: false,
      state: undefined,
    };
    handlers[exitFmt.id] = {
      lttngName: `syscall_exit_${name}`,
      sys: true,
      fmt: exitFmt,
      // Exit strings at entry pointers (none in lttng-modules' x86-64 table today): empty.
      plan: exitUsesStrings
        ? plan.exitFields.map((f) => ('entryUser' in f.src ? { ...f, src: { constant: 0 } } : f))
        : plan.exitFields,
      entryFmt,
      ec: undefined,
      payload: undefined,
      maxLen: 0,
      recordVar: false,
      state: undefined,
    };
    syscalls.push({
      nr,
      enterId: entryFmt.id,
      exitId: exitFmt.id,
      strings,
      saveArgs: plan.exitFields.some((f) => 'entryArg' in f.src),
      exitArgs: Math.max(0, ...plan.exitFields.map((f) => ('entryArg' in f.src ? f.src.entryArg + 1 : 0))),
      entryArgs: argNames.length,
      reread: strings.length > 0 && REREAD_SYSCALLS.has(name),
    });
  }
  if (unnumbered.length > 0) {
    warn(
      `the bpf backend does not know the number of ${unnumbered.length} syscalls of this kernel ` +
        `(not recorded: ${unnumbered.join(', ')}; --backend tracefs records them)`,
    );
  }
  if (tracepoints.length === 0 && syscalls.length === 0 && !fork) throw new UsageError('no event to record');
  const rawEnter = tracepointId(root, 'raw_syscalls:sys_enter');
  const rawExit = tracepointId(root, 'raw_syscalls:sys_exit');
  if (syscalls.length > 0 && (rawEnter === undefined || rawExit === undefined))
    throw new NstraceError('this kernel has no raw_syscalls tracepoints');
  return { tracepoints, syscalls, fork, forkWritten };
}

function stateFor(ftrace: string, fmt: FtraceEventFormat, host: BpfStateHost): Handler['state'] {
  switch (ftrace) {
    case 'sched:sched_process_exit': {
      const gd = findField(fmt, 'group_dead');
      return (v, _u, s, tgid, tid) => {
        const groupDead = gd ? v.getUint8(s + gd.offset) !== 0 : tid === tgid;
        if (groupDead) host.containerWatcher?.noteExit(tgid);
      };
    }
    case 'cgroup:cgroup_mkdir':
    case 'cgroup:cgroup_rmdir':
      return cgroupPathHandler(fmt, ftrace === 'cgroup:cgroup_mkdir', host);
    default:
      return undefined;
  }
}
