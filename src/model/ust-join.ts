/**
 * The join of userspace events to host threads: a UST event carries the thread's id as seen in
 * its own pid namespace (`vtid` context) and that namespace (`pid_ns` context); the kernel trace
 * tells which host thread had that vtid in that namespace, and when (statedump, fork events with
 * their per-level `vtids`, the `_vtid`/`_pid_ns` contexts of kernel events).
 *
 * Tids are reused: the same (pid_ns, vtid) names different host threads over time. Each thread
 * lifetime the model knows under a key is kept with its validity interval: from its fork (or
 * forever before, for a thread that existed when the trace started) to its exit (or forever
 * after). A lookup at time `ts` returns the latest lifetime valid at `ts`. Timestamps of the
 * userspace and kernel traces of one machine are readings of one clock (src/model/machines.ts),
 * so the bounds are exact; a userspace event can only come from a running thread, so no slack
 * is needed at either end.
 */
import type { Thread } from './entities.js';

/** Where the join failed, for messages (counted by the callers). */
export type JoinMiss = 'no-contexts' | 'unknown-thread';

export class VtidJoin {
  /** pid namespace inode → vtid → lifetimes in the order the model met them. */
  private readonly byNs = new Map<number, Map<number, Thread[]>>();

  /** The key each thread is filed under (a thread has one vtid in its own namespace). */
  private readonly keyOf = new Map<Thread, readonly [number, number]>();

  /**
   * Records that `t` has `vtid` in pid namespace `pidNs` (idempotent; a thread filed under
   * another key before, a guess the trace corrected, moves).
   */
  note(pidNs: number, vtid: number, t: Thread): void {
    const old = this.keyOf.get(t);
    if (old !== undefined) {
      if (old[0] === pidNs && old[1] === vtid) return;
      this.forget(old[0], old[1], t);
    }
    this.keyOf.set(t, [pidNs, vtid]);
    let m = this.byNs.get(pidNs);
    if (m === undefined) {
      m = new Map();
      this.byNs.set(pidNs, m);
    }
    const list = m.get(vtid);
    if (list === undefined) m.set(vtid, [t]);
    else if (!list.includes(t)) list.push(t);
  }

  /** Forgets `t` under a key (its namespace or vtid turned out to be another). */
  forget(pidNs: number, vtid: number, t: Thread): void {
    const list = this.byNs.get(pidNs)?.get(vtid);
    if (list === undefined) return;
    const i = list.indexOf(t);
    if (i >= 0) list.splice(i, 1);
  }

  /**
   * The host thread that had `vtid` in `pidNs` at `ts` (relative ns), or undefined. Without
   * `ts`, the latest one met.
   */
  lookup(pidNs: number, vtid: number, ts?: number): Thread | undefined {
    const list = this.byNs.get(pidNs)?.get(vtid);
    if (list === undefined || list.length === 0) return undefined;
    if (ts === undefined) return list[list.length - 1];
    for (let i = list.length - 1; i >= 0; i--) {
      const t = list[i]!;
      if (t.born !== undefined && t.born > ts) continue;
      const end = t.exited ?? t.freed;
      if (end !== undefined && end < ts) continue;
      return t;
    }
    return undefined;
  }

  /** Every lifetime known under a key (tests, diagnostics). */
  lifetimes(pidNs: number, vtid: number): readonly Thread[] {
    return this.byNs.get(pidNs)?.get(vtid) ?? [];
  }
}

/** The `lttng add-context` line that gives UST events what the join needs. */
export function ustJoinAdvice(missing: readonly string[]): string {
  return `lttng add-context --userspace ${missing.map((c) => `--type=${c}`).join(' ')}`;
}
