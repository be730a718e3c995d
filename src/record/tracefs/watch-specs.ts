/**
 * What the tracefs recorder asks its watcher to watch (watcher.ts): one spec per ftrace event
 * the watcher's instance enables, built from the recorder's handlers.
 */
import { findField } from '../format.js';
import { argFields } from '../convert.js';
import type { WatchSpec } from './watch-worker.js';
import type { Handler } from './handlers.js';

/** The watcher's specs and the ftrace events (`system:event`) its instance enables. */
export function watchSpecs(handlers: ReadonlyArray<Handler | undefined>): {
  specs: WatchSpec[];
  enable: Set<string>;
} {
  const specs: WatchSpec[] = [];
  const enable = new Set<string>();
  const byFtrace = new Map<string, Handler>();
  for (const h of handlers) if (h) byFtrace.set(h.ftrace, h);
  const add = (h: Handler | undefined, spec: Omit<WatchSpec, 'id'>): void => {
    if (!h) return;
    specs.push({ id: h.fmt.id, ...spec });
    enable.add(h.ftrace);
  };
  for (const h of handlers) {
    if (!h) continue;
    if (h.ftrace === 'task:task_newtask') {
      add(h, { kind: 'newtask', pidOffset: findField(h.fmt, 'pid')!.offset });
    } else if (h.ftrace === 'syscalls:sys_exit_unshare' || h.ftrace === 'syscalls:sys_exit_setns') {
      add(h, { kind: 'nschange' });
    } else if (h.entry && h.plan) {
      const ptrOffsets: number[] = [];
      for (const f of h.plan) {
        if (!('user' in f.src)) continue;
        const ff = findField(h.fmt, f.src.user);
        if (ff) ptrOffsets.push(ff.offset);
      }
      if (ptrOffsets.length === 0) continue;
      add(h, {
        kind: 'str',
        ptrOffsets,
        argOffsets: argFields(h.fmt).map((f) => f.offset),
        nrOffset: findField(h.fmt, '__syscall_nr')?.offset ?? 8,
        // The address space may be replaced while the thread is still in the syscall.
        untilExit: h.scName === 'execve' || h.scName === 'execveat',
      });
      // Its exit ends the window in which the thread can be found inside it.
      add(byFtrace.get(`syscalls:sys_exit_${h.scName}`), { kind: 'sysexit' });
    }
  }
  // Exec replaces the address space (and the time namespace), exit frees the tid.
  const exec = byFtrace.get('sched:sched_process_exec');
  if (exec) {
    add(exec, {
      kind: 'exec',
      pidOffset: findField(exec.fmt, 'pid')!.offset,
      oldPidOffset: findField(exec.fmt, 'old_pid')!.offset,
    });
  }
  add(byFtrace.get('sched:sched_process_exit'), { kind: 'exit' });
  return { specs, enable };
}
