/**
 * The reader's quiet skipping in one loop (see `TraceSet.setQuiet`): after the cursor consumed
 * a quiet head event, the events that follow in the same packet and window are read and
 * consumed here, in place, while each is quiet, without the per-event calls of the cursor's
 * usual path (`advance`, `readEventHeader`, `run`, `skipSameContext`, `skipRest`). Most events
 * of a kernel trace take this path when an analysis reads few event classes.
 */
import type { ContextCache } from './context-cache.js';
import type { EventPlan, StreamClassPlan } from './decode/plan.js';
import type { DecodeState } from './decode/state.js';

/** What the loop reads of a stream cursor (`StreamCursor`'s fields of the same names). */
export interface QuietRunCursor {
  readonly st: DecodeState;
  readonly sp: StreamClassPlan;
  readonly ctx: ContextCache;
  readonly queue: readonly unknown[];
  readonly clockless: boolean;
  readonly clockRel: number;
  readonly freq: number;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** Window start and content end, in bits (packet-relative, window-relative). */
  readonly wBase: number;
  readonly wEnd: number;
  readonly wAligned: boolean;
  readonly marginBits: number;
  readonly contentBits: number;
  readonly payloadWanted: Uint8Array;
  readonly byId: ReadonlyArray<EventPlan | undefined>;
  /** Packet-relative bit position of the next event: moved past the events consumed. */
  ppos: number;
  /** Set to the time of the last event consumed. */
  lastSkipTs: number;
  toTs(clk: number): number;
}

/**
 * Consumes the events at `c.ppos` while each is quiet (`quiet[key]`, payload not wanted, stream
 * event context bytes equal to those of the last event given out) and earlier than `limit` and
 * not after `end`. Stops before the first other event, with the stream clock as before its
 * header: the cursor's `advance` reads that header again, and any error is reported there.
 * Returns how many events it consumed.
 *
 * `limit` (the earliest head of the other streams) keeps the reader's heap operations those of
 * a full read: babeltrace 1's order of simultaneous events of several streams depends on them,
 * so consuming later events here, unseen as they are, could reorder events that are given out.
 */
export function skipQuietRun(c: QuietRunCursor, quiet: Uint8Array, limit: number, end: number): number {
  const st = c.st;
  const hdr = c.sp.eventHeaderFn;
  const ctx = c.ctx;
  if (hdr === undefined || c.queue.length !== 0 || c.clockless || ctx.version !== ctx.given) return 0;
  if (!c.wAligned) return 0;
  const u8 = c.u8;
  const dv = c.dv;
  const base = c.wBase;
  const wEnd = c.wEnd;
  // The cursor moves its window when less than the margin is left (see `StreamCursor.run`).
  const startMax = st.endIsContent ? wEnd : wEnd - c.marginBits;
  const content = c.contentBits;
  const wanted = c.payloadWanted;
  const byId = c.byId;
  const rel0 = c.clockRel;
  const ghz = c.freq === 1e9;
  let ppos = c.ppos;
  let n = 0;
  let last = Number.NaN;
  while (ppos < content && ppos >= base && ppos - base <= startMax) {
    const clk = st.clk;
    st.id = -1;
    let q: number;
    try {
      q = hdr(u8, dv, ppos - base, wEnd, st, null) + base;
    } catch {
      st.clk = clk;
      break;
    }
    const id = st.id;
    const plan = id >= 0 ? byId[id] : undefined;
    const split = plan?.split;
    const t = ghz ? rel0 + st.clk : c.toTs(st.clk);
    if (
      plan === undefined ||
      split === undefined ||
      split === null ||
      !(t < limit && t <= end) ||
      quiet[plan.key] !== 1 ||
      wanted[plan.key] !== 0
    ) {
      st.clk = clk;
      break;
    }
    const ca = split.ctxAlign;
    let p = Math.ceil(q / ca) * ca;
    const off = p - base;
    const bits = split.ctxBits;
    if (
      (off & 7) !== 0 ||
      p + bits > content ||
      off + bits > wEnd ||
      !ctx.same(u8, dv, off >>> 3, bits >>> 3)
    ) {
      st.clk = clk;
      break;
    }
    p += bits;
    if (split.restBits >= 0) {
      const ra = split.restAlign;
      p = Math.ceil(p / ra) * ra + split.restBits;
    } else {
      // A rest of variable size (strings, sequences): its skipping decoder, which stops (and the
      // loop with it) at the end of the window or on a fault that the usual path reports.
      const fn = split.restSkipFn === null ? split.compileRestSkip() : split.restSkipFn;
      if (fn === undefined) {
        st.clk = clk;
        break;
      }
      try {
        p = fn(u8, dv, p - base, wEnd, st, null) + base;
      } catch {
        st.clk = clk;
        break;
      }
    }
    if (p > content || p - base > wEnd || p === ppos) {
      st.clk = clk;
      break;
    }
    ppos = p;
    last = t;
    n++;
  }
  if (n > 0) {
    c.ppos = ppos;
    c.lastSkipTs = last;
  }
  return n;
}
