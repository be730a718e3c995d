/**
 * Pre-aggregation of the timelines to screen resolution: for a window [t0, t1] drawn over
 * `width` columns, what the page needs to draw it, and nothing more. Intervals at least a column
 * wide are sent one by one (the page shows their details on hover); shorter ones are merged per
 * column, keeping what dominates it (the container with the most CPU time, the state a thread
 * spent the most time in), how busy it was and how many were merged. So an answer is O(width)
 * per lane, whatever the number of slices: nothing sends every event to the page.
 *
 * Runs in the server, and in the page of a static export (no Node or DOM types).
 */
import type { ViewStore } from './store.js';
import { lowerBound, upperBound } from './store.js';
import type {
  GroupRowData,
  LaneData,
  LanesResponse,
  RowsQuery,
  RowsResponse,
  SeriesResponse,
  SpanRowData,
  ThreadRowData,
  WindowQuery,
} from './types.js';
import { ThreadState } from './types.js';

/** Widths beyond this are clamped (a screen is not wider). */
const MAX_WIDTH = 8192;
const MAX_BUCKETS = 4096;
/** Adjacent merged columns of the same colour whose busy fractions differ less than this are one item. */
const MERGE_TOLERANCE = 0.08;

/** Thread membership, for group rows. */
export interface ThreadRef {
  readonly uid: number;
  readonly pid: number | null;
  readonly tid: number;
  readonly container: number;
}

function checkWindow(q: WindowQuery): { t0: number; t1: number; width: number } {
  const t0 = Number(q.t0);
  const t1 = Number(q.t1);
  const width = Math.floor(Number(q.width));
  if (!Number.isFinite(t0) || !Number.isFinite(t1) || !(t1 > t0)) {
    throw new RangeError(`invalid window [${q.t0}, ${q.t1}]`);
  }
  if (!(width >= 1)) throw new RangeError(`invalid width ${q.width}`);
  return { t0, t1, width: Math.min(width, MAX_WIDTH) };
}

/** Emits items and merges adjacent merged columns of the same key and about the same fill. */
class Items {
  readonly s: number[] = [];
  readonly e: number[] = [];
  readonly k: number[] = [];
  readonly f: number[] = [];
  readonly n: number[] = [];
  /** Whether the last item is a merged column (mergeable). */
  private lastMerged = false;

  one(s: number, e: number, k: number): void {
    this.s.push(Math.round(s));
    this.e.push(Math.round(e));
    this.k.push(k);
    this.f.push(1);
    this.n.push(1);
    this.lastMerged = false;
  }

  merged(s0: number, e0: number, k: number, f: number, n: number): void {
    const s = Math.round(s0);
    const e = Math.round(e0);
    const i = this.s.length - 1;
    if (
      this.lastMerged &&
      this.k[i] === k &&
      Math.abs(this.e[i]! - s) <= 1 &&
      Math.abs(this.f[i]! - f) < MERGE_TOLERANCE
    ) {
      const w0 = this.e[i]! - this.s[i]!;
      const w1 = e - s;
      this.f[i] = round3((this.f[i]! * w0 + f * w1) / (w0 + w1));
      this.e[i] = e;
      this.n[i]! += n;
      return;
    }
    this.s.push(s);
    this.e.push(e);
    this.k.push(k);
    this.f.push(round3(f));
    this.n.push(n);
    this.lastMerged = true;
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export class Aggregator {
  private readonly ckeyCount: number;
  private readonly groups = new Map<string, number[]>();

  constructor(
    private readonly store: ViewStore,
    threads: readonly ThreadRef[],
  ) {
    let max = 0;
    for (let i = 0; i < store.uidCkey.length; i++) max = Math.max(max, store.uidCkey[i]!);
    for (const t of threads) max = Math.max(max, t.container);
    this.ckeyCount = max + 1;
    for (const t of threads) {
      this.member(`c:${t.container}`, t.uid);
      this.member(`p:${t.container}:${t.pid ?? t.tid}`, t.uid);
    }
  }

  private member(id: string, uid: number): void {
    let l = this.groups.get(id);
    if (l === undefined) {
      l = [];
      this.groups.set(id, l);
    }
    l.push(uid);
  }

  private ckey(uid: number): number {
    return uid >= 0 && uid < this.store.uidCkey.length ? this.store.uidCkey[uid]! : 0;
  }

  /** The CPU lanes of a window. */
  lanes(q: WindowQuery): LanesResponse {
    const { t0, t1, width } = checkWindow(q);
    const px = (t1 - t0) / width;
    const nc = this.ckeyCount;
    // Per column: busy ns of the short slices, how many start there, the one that does (when
    // alone), and busy ns per container (cleared after each lane, column by column).
    const busy = new Float64Array(width);
    const count = new Int32Array(width);
    const only = new Int32Array(width);
    const acc = new Float64Array(width * nc);
    const cols: number[] = [];
    const lanes: LaneData[] = this.store.lanes.map((l) => {
      const out = new Items();
      const n = l.start.length;
      const long: number[] = [];
      cols.length = 0;
      for (let i = upperBound(l.end, t0); i < n; i++) {
        const s = l.start[i]!;
        if (s >= t1) break;
        const e = l.end[i]!;
        if (e - s >= px) {
          long.push(i);
          continue;
        }
        const a = s < t0 ? t0 : s;
        const b = e > t1 ? t1 : e;
        const ca = Math.min(Math.floor((a - t0) / px), width - 1);
        const cb = Math.min(Math.floor((b - t0) / px), width - 1);
        const c = this.ckey(l.uid[i]!);
        if (count[ca] === 0) cols.push(ca);
        count[ca]!++;
        only[ca] = ca === cb && s >= t0 ? i : -1;
        if (ca === cb) {
          busy[ca]! += b - a;
          acc[ca * nc + c]! += b - a + 1e-9;
        } else {
          // Shorter than a column: it straddles two at most.
          const edge = t0 + (ca + 1) * px;
          busy[ca]! += edge - a;
          acc[ca * nc + c]! += edge - a + 1e-9;
          if (count[cb] === 0) {
            cols.push(cb);
            only[cb] = -1;
          }
          count[cb] = Math.max(count[cb]!, 1);
          if (count[cb] === 1) only[cb] = -1;
          busy[cb]! += b - edge;
          acc[cb * nc + c]! += b - edge + 1e-9;
        }
      }
      cols.sort((x, y) => x - y);
      // Emit columns and long slices in time order.
      let li = 0;
      const emitLongBefore = (t: number): void => {
        while (li < long.length && l.start[long[li]!]! < t) {
          const i = long[li++]!;
          out.one(l.start[i]!, l.end[i]!, l.uid[i]!);
        }
      };
      for (const col of cols) {
        const bs = t0 + col * px;
        emitLongBefore(bs);
        const o = only[col]!;
        if (count[col] === 1 && o >= 0) {
          out.one(l.start[o]!, l.end[o]!, l.uid[o]!);
        } else {
          let best = 0;
          let bestNs = -1;
          const base = col * nc;
          for (let c = 0; c < nc; c++) {
            const v = acc[base + c]!;
            if (v > bestNs) {
              bestNs = v;
              best = c;
            }
          }
          out.merged(bs, bs + px, -(best + 1), Math.min(1, busy[col]! / px), Math.max(1, count[col]!));
        }
        busy[col] = 0;
        count[col] = 0;
        acc.fill(0, col * nc, col * nc + nc);
      }
      emitLongBefore(Infinity);
      return { cpu: l.cpu, s: out.s, e: out.e, k: out.k, f: out.f, n: out.n };
    });
    return { t0, t1, width, lanes };
  }

  /** Thread rows (states), group rows (running threads per column) and app spans of a window. */
  rows(q: RowsQuery): RowsResponse {
    const { t0, t1, width } = checkWindow(q);
    const st = this.store;
    const px = (t1 - t0) / width;
    const rows: ThreadRowData[] = [];
    const stateNs = new Float64Array(8);
    for (const uid of q.uids ?? []) {
      if (!(uid >= 0 && uid + 1 < st.stOff.length)) continue;
      const lo = st.stOff[uid]!;
      const hi = st.stOff[uid + 1]!;
      const s: number[] = [];
      const e: number[] = [];
      const sts: number[] = [];
      const a: number[] = [];
      const ns: number[] = [];
      let bin = -1;
      let count = 0;
      let arg = -1;
      let lastI = -1;
      const flush = (): void => {
        if (count === 0) return;
        if (count === 1) {
          s.push(st.stStart[lastI]!);
          e.push(st.stEnd[lastI]!);
          sts.push(st.stState[lastI]!);
          a.push(st.stArg[lastI]!);
          ns.push(1);
        } else {
          let best = 0;
          for (let k = 1; k < stateNs.length; k++) if (stateNs[k]! > stateNs[best]!) best = k;
          const bs = Math.round(t0 + bin * px);
          const be = Math.round(t0 + (bin + 1) * px);
          const li = s.length - 1;
          if (li >= 0 && ns[li]! > 1 && sts[li] === best && Math.abs(e[li]! - bs) <= 1 && a[li] === arg) {
            e[li] = be;
            ns[li]! += count;
          } else {
            s.push(bs);
            e.push(be);
            sts.push(best);
            a.push(arg);
            ns.push(count);
          }
        }
        stateNs.fill(0);
        count = 0;
      };
      for (let i = upperBound(st.stEnd, t0, lo, hi); i < hi; i++) {
        const s0 = st.stStart[i]!;
        if (s0 >= t1) break;
        const e0 = st.stEnd[i]!;
        if (e0 - s0 >= px) {
          flush();
          s.push(s0);
          e.push(e0);
          sts.push(st.stState[i]!);
          a.push(st.stArg[i]!);
          ns.push(1);
          continue;
        }
        const x = s0 < t0 ? t0 : s0;
        const b = Math.min(Math.floor((x - t0) / px), width - 1);
        if (b !== bin) {
          flush();
          bin = b;
          arg = st.stArg[i]!;
        } else if (arg !== st.stArg[i]) arg = -2;
        stateNs[st.stState[i]!]! += Math.max(Math.min(e0, t1) - x, 1e-9);
        count++;
        lastI = i;
      }
      flush();
      rows.push({ uid, s, e, st: sts, a, n: ns });
    }

    const groups: GroupRowData[] = [];
    // Container rows come from the CPU lanes (one pass for all of them); process rows from
    // their threads' running intervals.
    const byContainer = new Map<number, Float64Array>();
    for (const id of q.groups ?? []) {
      const m = /^c:(\d+)$/.exec(id);
      if (m !== null) byContainer.set(Number(m[1]), new Float64Array(width));
    }
    if (byContainer.size > 0) {
      for (const l of st.lanes) {
        const n = l.start.length;
        for (let i = upperBound(l.end, t0); i < n; i++) {
          const s0 = l.start[i]!;
          if (s0 >= t1) break;
          const v = byContainer.get(this.ckey(l.uid[i]!));
          if (v !== undefined) addSpan(v, s0, l.end[i]!, t0, t1, px);
        }
      }
    }
    for (const id of q.groups ?? []) {
      let v = byContainer.get(Number(/^c:(\d+)$/.exec(id)?.[1] ?? NaN));
      if (v === undefined) {
        v = new Float64Array(width);
        for (const uid of this.groups.get(id) ?? []) {
          if (!(uid >= 0 && uid + 1 < st.stOff.length)) continue;
          const hi = st.stOff[uid + 1]!;
          for (let i = upperBound(st.stEnd, t0, st.stOff[uid]!, hi); i < hi; i++) {
            const s0 = st.stStart[i]!;
            if (s0 >= t1) break;
            if (st.stState[i] === ThreadState.running) addSpan(v, s0, st.stEnd[i]!, t0, t1, px);
          }
        }
      }
      const vv = v;
      groups.push({ id, v: Array.from(vv, (x) => round3(x / px)) });
    }

    const spans: SpanRowData[] = [];
    for (const uid of q.uids ?? []) {
      if (!(uid >= 0 && uid + 1 < st.spOff.length)) continue;
      const lo = st.spOff[uid]!;
      const hi = st.spOff[uid + 1]!;
      if (lo === hi) continue;
      const row: SpanRowData = { uid, s: [], e: [], depth: [], name: [] };
      // Spans nest, so their ends are not sorted: scan from the first one (sorted by start).
      for (let i = lo; i < hi; i++) {
        const s0 = st.spStart[i]!;
        if (s0 >= t1) break;
        const e0 = st.spEnd[i]!;
        if (e0 <= t0 || e0 - s0 < px) continue;
        row.s.push(s0);
        row.e.push(e0);
        row.depth.push(st.spDepth[i]!);
        row.name.push(st.spName[i]!);
      }
      spans.push(row);
    }
    return { t0, t1, width, rows, groups, spans, spanNames: spans.length > 0 ? st.spanNames : [] };
  }

  /** Per-container CPU, page allocation and syscall series over `n` buckets of [t0, t1]. */
  series(t0In: number, t1In: number, nIn: number, keys: readonly number[]): SeriesResponse {
    const { t0, t1, width: n0 } = checkWindow({ t0: t0In, t1: t1In, width: nIn });
    const n = Math.min(n0, MAX_BUCKETS);
    const step = (t1 - t0) / n;
    const st = this.store;
    const idx = new Int32Array(this.ckeyCount).fill(-1);
    keys.forEach((k, i) => {
      if (k >= 0 && k < idx.length) idx[k] = i;
    });
    const mk = (): Float64Array[] => keys.map(() => new Float64Array(n));
    const cpu = mk();
    const alloc = mk();
    const sys = mk();
    const err = mk();
    for (const l of st.lanes) {
      const len = l.start.length;
      for (let i = upperBound(l.end, t0); i < len; i++) {
        const s = l.start[i]!;
        if (s >= t1) break;
        const j = idx[this.ckey(l.uid[i]!)]!;
        if (j >= 0) addSpan(cpu[j]!, s, l.end[i]!, t0, t1, step);
      }
    }
    const count = (ts: Float64Array, uids: Int32Array, out: Float64Array[], only?: Uint8Array): void => {
      const hi = lowerBound(ts, t1);
      for (let i = lowerBound(ts, t0); i < hi; i++) {
        if (only !== undefined && only[i] === 0) continue;
        const j = idx[this.ckey(uids[i]!)]!;
        if (j < 0) continue;
        const b = Math.min(Math.floor((ts[i]! - t0) / step), n - 1);
        out[j]![b]! += 1;
      }
    };
    count(st.allocTs, st.allocUid, alloc);
    count(st.sysTs, st.sysUid, sys);
    count(st.sysTs, st.sysUid, err, st.sysErr);
    const perSec = 1e9 / step;
    const x = Array.from({ length: n }, (_, i) => t0 + i * step);
    return {
      t0,
      t1,
      step,
      x,
      keys: [...keys],
      cpu: cpu.map((a) => Array.from(a, (v) => round3(v / step))),
      alloc: alloc.map((a) => Array.from(a, (v) => round3(v * perSec))),
      sys: sys.map((a) => Array.from(a, (v) => round3(v * perSec))),
      err: err.map((a) => Array.from(a, (v) => round3(v * perSec))),
    };
  }
}

/** Adds the part of [s, e] inside [t0, t1] to the columns of width `w` it covers. */
export function addSpan(out: Float64Array, s: number, e: number, t0: number, t1: number, w: number): void {
  const a = s < t0 ? t0 : s;
  const b = e > t1 ? t1 : e;
  if (!(b > a)) return;
  const last = out.length - 1;
  const i = Math.min(Math.floor((a - t0) / w), last);
  const j = Math.min(Math.floor((b - t0) / w), last);
  if (i === j) {
    out[i]! += b - a;
    return;
  }
  out[i]! += t0 + (i + 1) * w - a;
  for (let k = i + 1; k < j; k++) out[k]! += w;
  out[j]! += b - (t0 + j * w);
}
