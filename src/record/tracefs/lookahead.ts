/**
 * A look at what the ring buffers already hold before converting anything: the times at which
 * tasks changed what /proc shows of them (comm, namespaces). The statedump's /proc walk runs
 * with tracing on, each read at its own time; a task's read holds for its events since its
 * last change before the read, not only from the read on. Without this, the events of the
 * first moments of a recording (before each task's read) would carry unknown values until
 * patched, and patches cannot reach packets already written.
 */
import type { EventHeaderLayout, PageHeaderLayout } from '../format.js';
import { PageCursor } from './ringbuf.js';

/** Where, in a record, the event says which task changed (per ftrace event id). */
export interface ChangeEvent {
  id: number;
  /** Offsets of i32 tid fields (task_rename's `pid`, exec's `pid` and `old_pid`); none: common_pid. */
  tidOffsets: number[];
}

/** The pages a CPU reader has queued (slots `head`..`head+count-1` of `pool`, `pageSize` each). */
export interface QueuedPages {
  pv: DataView;
  head: number;
  count: number;
  slots: number;
  pageSize: number;
}

/** Times of the changes of each tid in the queued pages (unsorted). */
export function changeTimes(
  readers: readonly QueuedPages[],
  layouts: { page: PageHeaderLayout; event: EventHeaderLayout },
  baseHi: number,
  events: readonly ChangeEvent[],
): Map<number, number[]> {
  const byId = new Map<number, ChangeEvent>();
  for (const e of events) byId.set(e.id, e);
  const out = new Map<number, number[]>();
  const note = (tid: number, ts: number): void => {
    let l = out.get(tid);
    if (!l) out.set(tid, (l = []));
    l.push(ts);
  };
  for (const r of readers) {
    const c = new PageCursor(layouts.page, layouts.event, baseHi, 0, 'lookahead');
    for (let k = 0; k < r.count; k++) {
      const slot = (r.head + k) % r.slots;
      c.reset(r.pv, slot * r.pageSize, r.pageSize);
      while (c.next()) {
        const s = c.dataOffset;
        const e = byId.get(r.pv.getUint16(s, true));
        if (e === undefined) continue;
        if (e.tidOffsets.length === 0) note(r.pv.getInt32(s + 4, true), c.ts);
        else for (const o of e.tidOffsets) note(r.pv.getInt32(s + o, true), c.ts);
      }
    }
  }
  return out;
}

/**
 * From when a read of `tid` at `at` holds: just after its last change before `at` (the change
 * event itself is converted first), or `from` (the start of the trace) when none; `at` itself
 * when the pages do not reach it (`complete`).
 */
export function holdsFrom(
  changes: Map<number, number[]>,
  tid: number,
  at: number,
  from: number,
  complete: number,
): number {
  if (at > complete) return at;
  let last = from;
  for (const ts of changes.get(tid) ?? []) if (ts < at && ts + 1 > last) last = ts + 1;
  return last;
}
