/**
 * The per-event handlers of the tracefs recorder, one per ftrace event id: what to write (the
 * LTTng event and its compiled payload) and what the event changes in the thread table. Built
 * once at setup from the selection and the kernel's event formats.
 */
import { NstraceError } from '../../util/errors.js';
import type { ContainerWatcher } from '../../containers/index.js';
import { findField, type FtraceEventFormat } from '../format.js';
import { cgroupPathHandler } from '../cgroup-state.js';
import { listSystemEvents, readEventFormat, selectKernelEvents } from '../tracefs.js';
import type { Thread } from '../thread.js';
import type { ThreadTable } from '../threads.js';
import { argFields, planSyscall } from '../convert.js';
import { INTERNAL_FTRACE, INTERNAL_SYSCALLS } from '../events.js';
import type { RecordOptions } from '../options.js';
import { tracepointPayload, type PayloadHandler } from '../session-base.js';

export interface Handler extends PayloadHandler {
  ftrace: string;
  state: ((pv: DataView, pu: Uint8Array, s: number, th: Thread, ts: number, cpu: number) => void) | undefined;
  /** Syscall entry: remember the thread's syscall and (when needed) its arguments. */
  entry: { saveBytes: number } | undefined;
  scName?: string;
  /** sched_switch: offsets of next_pid, prev_prio and next_prio in the record. */
  sw?: { next: number; prevPrio: number; nextPrio: number; prev: number };
}

/** What the state handlers read and set on the recorder besides the thread table. */
export interface StateHost {
  /** The last fork's tasks (for the special fields of `sched_process_fork`). */
  forkParent: Thread | undefined;
  forkChild: Thread | undefined;
  containerWatcher: ContainerWatcher | undefined;
}

export function makeHandler(
  ftrace: string,
  fmt: FtraceEventFormat,
  write: boolean,
  table: ThreadTable,
  host: StateHost,
): Handler {
  return {
    ...tracepointPayload(ftrace, fmt, write),
    ftrace,
    state: stateFor(ftrace, fmt, table, host),
    entry: undefined,
    scName: undefined,
    ...(ftrace === 'sched:sched_switch' ? { sw: switchOffsets(fmt) } : {}),
  };
}

/** Handler for the thread-table side of an event (undefined if it has none). */
function stateFor(ftrace: string, fmt: FtraceEventFormat, t: ThreadTable, host: StateHost): Handler['state'] {
  const off = (n: string): number => {
    const f = findField(fmt, n);
    if (!f) throw new NstraceError(`${ftrace}: field ${n} missing in its format`);
    return f.offset;
  };
  switch (ftrace) {
    case 'task:task_newtask': {
      const pid = off('pid');
      const comm = off('comm');
      const flags = off('clone_flags');
      return (pv, pu, s, th, ts) => {
        const child = pv.getInt32(s + pid, true);
        const fl = pv.getUint32(s + flags, true);
        t.onNewTask(th, child, pu.subarray(s + comm, s + comm + 16), fl, ts);
      };
    }
    case 'task:task_rename': {
      const pid = off('pid');
      const comm = off('newcomm');
      return (pv, pu, s, _th, ts, cpu) => {
        const who = t.get(pv.getInt32(s + pid, true), cpu, ts);
        t.onRename(who, pu.subarray(s + comm, s + comm + 16), ts);
      };
    }
    case 'sched:sched_process_fork': {
      const parent = off('parent_pid');
      const child = off('child_pid');
      return (pv, _pu, s, th, ts, cpu) => {
        const p = t.get(pv.getInt32(s + parent, true), cpu, ts);
        const ctid = pv.getInt32(s + child, true);
        let c = t.byTid.get(ctid);
        if (!c) c = t.onNewTask(p, ctid, p.comm, 0, ts);
        host.forkParent = p;
        host.forkChild = c;
        void th;
        if (c.pid === c.tid) host.containerWatcher?.noteFork(p.pid, c.tid, c.ns[0]!.inum || undefined);
      };
    }
    case 'sched:sched_process_exec': {
      const pid = off('pid');
      const old = off('old_pid');
      return (pv, _pu, s, _th, ts) => {
        t.onExec(pv.getInt32(s + pid, true), pv.getInt32(s + old, true), ts);
      };
    }
    case 'sched:sched_process_exit':
      return (_pv, _pu, _s, th, ts) => {
        t.onExit(th, ts);
        if (th.tid === th.pid) host.containerWatcher?.noteExit(th.pid);
      };
    case 'cgroup:cgroup_mkdir':
    case 'cgroup:cgroup_rmdir':
      return cgroupPathHandler(fmt, ftrace === 'cgroup:cgroup_mkdir', host);
    case 'sched:sched_process_free': {
      const pid = off('pid');
      return (pv, _pu, s, _th, ts) => {
        t.onFree(pv.getInt32(s + pid, true), ts);
      };
    }
    case 'syscalls:sys_exit_clone':
    case 'syscalls:sys_exit_clone3':
    case 'syscalls:sys_exit_fork':
    case 'syscalls:sys_exit_vfork': {
      const ret = off('ret');
      return (pv, _pu, s, th) => {
        t.onCloneReturn(th, pv.getInt32(s + ret, true));
      };
    }
    case 'syscalls:sys_exit_unshare': {
      const ret = off('ret');
      return (pv, _pu, s, th, ts) => {
        if (pv.getInt32(s + ret, true) !== 0 || th.scArgs === undefined || th.scName !== 'unshare') return;
        t.onUnshare(th, th.scView!.getUint32(0, true), ts);
      };
    }
    case 'syscalls:sys_exit_setns': {
      const ret = off('ret');
      return (pv, _pu, s, th, ts) => {
        if (pv.getInt32(s + ret, true) !== 0) return;
        const nstype = th.scArgs !== undefined && th.scName === 'setns' ? th.scView!.getUint32(8, true) : 0;
        t.onSetns(th, nstype, ts);
      };
    }
    default:
      return undefined;
  }
}

/** Resolves the selection into handlers; returns the ftrace events to enable (`system:event`). */
export function setupHandlers(
  eventsDir: string,
  o: RecordOptions,
  handlers: Array<Handler | undefined>,
  make: (ftrace: string, fmt: FtraceEventFormat, write: boolean) => Handler,
): { events: string[]; allSyscalls: boolean } {
  const sel = selectKernelEvents(eventsDir, o);
  const enable: string[] = [];
  const add = (ftrace: string, write: boolean): Handler | undefined => {
    const [s, e] = ftrace.split(':') as [string, string];
    const fmt = readEventFormat(eventsDir, s, e);
    if (!fmt) return undefined;
    const prev = handlers[fmt.id];
    if (prev) {
      if (write && !prev.plan) {
        const h = make(ftrace, fmt, true);
        h.entry = prev.entry;
        h.entryFmt = prev.entryFmt;
        handlers[fmt.id] = h;
        return h;
      }
      return prev;
    }
    const h = make(ftrace, fmt, write);
    handlers[fmt.id] = h;
    enable.push(ftrace);
    return h;
  };
  for (const f of sel.written) add(f, true);
  for (const f of INTERNAL_FTRACE) add(f, sel.written.has(f));
  // Syscalls.
  const sysEvents = listSystemEvents(eventsDir, 'syscalls');
  const names = sysEvents
    .map((e) => /^sys_enter_(.+)$/.exec(e)?.[1])
    .filter((x): x is string => x !== undefined);
  for (const name of names) {
    const write = sel.allSyscalls || sel.syscalls.has(name);
    const internal = INTERNAL_SYSCALLS.includes(name);
    if (!write && !internal) continue;
    const entryFmt = readEventFormat(eventsDir, 'syscalls', `sys_enter_${name}`);
    const exitFmt = readEventFormat(eventsDir, 'syscalls', `sys_exit_${name}`);
    if (!entryFmt || !exitFmt) continue;
    const plan = planSyscall(name, entryFmt, exitFmt);
    const nargs = argFields(entryFmt).length;
    const en = make(`syscalls:sys_enter_${name}`, entryFmt, false);
    en.lttngName = `syscall_entry_${name}`;
    en.plan = write ? plan.entryFields : undefined;
    en.entry = { saveBytes: plan.needsArgs ? nargs * 8 : 0 };
    en.scName = name;
    const ex = make(`syscalls:sys_exit_${name}`, exitFmt, false);
    ex.lttngName = `syscall_exit_${name}`;
    ex.plan = write ? plan.exitFields : undefined;
    ex.entryFmt = entryFmt;
    handlers[entryFmt.id] = en;
    handlers[exitFmt.id] = ex;
    enable.push(`syscalls:sys_enter_${name}`, `syscalls:sys_exit_${name}`);
  }
  return { events: enable, allSyscalls: sel.allSyscalls };
}

/** Offsets in an ftrace sched_switch record of the fields the switch chain needs. */
function switchOffsets(fmt: FtraceEventFormat): NonNullable<Handler['sw']> {
  const off = (n: string): number => {
    const f = findField(fmt, n);
    if (!f) throw new NstraceError(`sched:sched_switch: field ${n} missing in its format`);
    return f.offset;
  };
  return {
    next: off('next_pid'),
    prev: off('prev_pid'),
    prevPrio: off('prev_prio'),
    nextPrio: off('next_prio'),
  };
}
