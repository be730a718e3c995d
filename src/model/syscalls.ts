/**
 * The syscall tracker: the syscall in flight per thread (`Thread.sysName`/`sysEntry`, the way
 * lttng-analyses keeps it), from `syscall_entry_*`/`sys_*` and `syscall_exit_*`/`exit_syscall`
 * on the CPU's current thread.
 */
import type { CpuState } from './cpus.js';
import type { EventOutputs } from './current.js';
import type { ClassInfo, EventFn } from './dispatch.js';
import { anyField } from './fields.js';
import type { FieldLocation } from './fields.js';
import { readNum } from './fields.js';

/** `syscall_entry_open` → `open`; undefined for other events (compat syscalls are ignored, as lttng-analyses does). */
export function syscallEntryName(name: string): string | undefined {
  if (name.startsWith('syscall_entry_')) return name.slice(14);
  if (name.startsWith('sys_')) return name.slice(4);
  return undefined;
}

export function isSyscallExit(name: string): boolean {
  return name.startsWith('syscall_exit_') || name.startsWith('exit_syscall');
}

export class SyscallTracker {
  constructor(
    private readonly cpus: CpuState[],
    private readonly out: EventOutputs,
  ) {}

  /** A syscall entry event (`sysName` from `syscallEntryName`). */
  bindEntry(info: ClassInfo, sysName: string): EventFn {
    const f = (n: string): FieldLocation | undefined => anyField(info.streamClass, info.eventClass, n);
    const out = this.out;
    const cpuF = f('cpu_id');
    return (ev) => {
      out.entryThread = undefined;
      const c = this.cpus[readNum(cpuF, ev)];
      if (c === undefined || !c.known) return;
      const t = c.current;
      if (t === undefined) return;
      t.sysName = sysName;
      t.sysEntry = ev.ts;
      out.entryThread = t;
    };
  }

  /** A syscall exit event, before the analyses. */
  bindExit(info: ClassInfo): EventFn {
    const f = (n: string): FieldLocation | undefined => anyField(info.streamClass, info.eventClass, n);
    const out = this.out;
    const cpuF = f('cpu_id');
    const retF = f('ret');
    return (ev) => {
      out.exitThread = undefined;
      const cpuId = readNum(cpuF, ev);
      out.cpuId = cpuId;
      const c = this.cpus[cpuId];
      if (c === undefined || !c.known) return;
      const t = c.current;
      if (t === undefined || t.sysName === undefined) return;
      out.exitRet = readNum(retF, ev);
      out.exitThread = t;
      t.lastSeen = ev.ts;
    };
  }

  /** A syscall exit event, after the analyses: the syscall is over. */
  bindExitPost(): EventFn {
    const out = this.out;
    return () => {
      const t = out.exitThread;
      if (t !== undefined) t.sysName = undefined;
    };
  }
}
