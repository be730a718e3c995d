/**
 * Merges the streams of opened CTF traces (open.ts finds and loads them) by time, as
 * `babeltrace2 PATH...` does: stream files of the same stream (tracefile rotation) are chained;
 * events and lost-event reports come out in time order with babeltrace2's tie-breaking.
 */
import {
  blankEventRecord,
  type DiscardedRecord,
  type EventRecord,
  type StreamInstance,
  type TimeBase,
  type Trace,
  type TraceRecord,
} from './event.js';
import type { EventClass, StreamClass } from './ir.js';
import { HEAD_DISCARD, HEAD_END, HEAD_EVENT, StreamCursor } from './stream-cursor.js';
import { NS, clockBaseNs, loadTraces, uuidHex, type LoadedTrace, type OpenOptions } from './open.js';

/** Per event-class information, by dense key. */
export interface EventClassInfo {
  readonly key: number;
  readonly eventClass: EventClass;
  readonly streamClass: StreamClass;
  readonly trace: Trace;
}

/** Heap entry ordering: time, then babeltrace2's deterministic tie-break. */
function tieCompare(a: StreamCursor, b: StreamCursor): number {
  const ta = a.stream.trace;
  const tb = b.stream.trace;
  if (ta !== tb) {
    const ua = uuidHex(ta.cls.uuid);
    const ub = uuidHex(tb.cls.uuid);
    if (ua !== undefined && ub === undefined) return -1;
    if (ua === undefined && ub !== undefined) return 1;
    if (ua !== undefined && ub !== undefined && ua !== ub) return ua < ub ? -1 : 1;
    if (ta.name !== tb.name) return ta.name < tb.name ? -1 : 1;
  }
  const sa = a.stream.streamClass.id;
  const sb = b.stream.streamClass.id;
  if (sa !== sb) return sa < sb ? -1 : 1;
  const ia = a.stream.id;
  const ib = b.stream.id;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const wa = a.headKind === HEAD_EVENT ? 5 : a.headDiscard?.kind === 'discarded-events' ? 4 : 1;
  const wb = b.headKind === HEAD_EVENT ? 5 : b.headDiscard?.kind === 'discarded-events' ? 4 : 1;
  if (wa !== wb) return wb - wa;
  if (a.headKind === HEAD_EVENT && b.headKind === HEAD_EVENT) {
    const ea = a.headPlan!.ec;
    const eb = b.headPlan!.ec;
    if (ea.id !== eb.id) return ea.id < eb.id ? -1 : 1;
    if (ea.name !== eb.name) return ea.name < eb.name ? -1 : 1;
    if (ea.logLevel !== eb.logLevel) {
      if (ea.logLevel === undefined) return 1;
      if (eb.logLevel === undefined) return -1;
      return ea.logLevel - eb.logLevel;
    }
    if (ea.emfUri !== eb.emfUri) {
      if (ea.emfUri === undefined) return -1;
      if (eb.emfUri === undefined) return 1;
      return ea.emfUri < eb.emfUri ? -1 : 1;
    }
  }
  const na = a.stream.files[0] ?? '';
  const nb = b.stream.files[0] ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  return 0;
}

/** Largest window of a stream cursor (see the constructor of `TraceSet`). */
const WINDOW_MAX_BYTES = 1024 * 1024;

/** Window of the cursors that only scan packet headers (`streamRanges`). */
const SCAN_WINDOW_BYTES = 4096;

function before(a: StreamCursor, b: StreamCursor): boolean {
  if (a.headTs !== b.headTs) return a.headTs < b.headTs;
  return tieCompare(a, b) < 0;
}

export class TraceSet {
  readonly traces: readonly Trace[];
  readonly streams: readonly StreamInstance[];
  readonly base: TimeBase;
  /** Every event class of every trace, by dense key. */
  readonly eventClasses: readonly EventClassInfo[];
  /** Total bytes of all stream files. */
  readonly totalBytes: number;

  private readonly cursors: StreamCursor[];
  /** Makes a fresh cursor for stream `i` (for scans that must not disturb the iteration). */
  private readonly cursorFactory: Array<(windowBytes?: number) => StreamCursor> = [];
  private readonly heap: StreamCursor[] = [];
  private lastTs = Number.NEGATIVE_INFINITY;
  private started = false;
  private readonly bt1: boolean = false;
  private bt1Order: StreamCursor[] = [];
  /** babeltrace 1 order: discarded-events records met while moving a stream, to return first. */
  private readonly pending: DiscardedRecord[] = [];
  /** babeltrace 1 order: per stream index, events before `lo` are skipped, after `hi` end it. */
  private winLo: ArrayLike<number> | undefined;
  private winHi: ArrayLike<number> | undefined;
  private readonly rec: EventRecord;

  private constructor(loaded: LoadedTrace[], opts: OpenOptions) {
    this.traces = loaded.map((l) => l.trace);
    // Time base: the earliest clock offset of all traces.
    let baseNs: bigint | undefined;
    for (const l of loaded) {
      for (const c of l.plan.clocks.values()) {
        const b = clockBaseNs(c, opts) + (l.trace.clockShiftNs ?? 0n);
        if (baseNs === undefined || b < baseNs) baseNs = b;
      }
    }
    baseNs ??= 0n;
    let sec = baseNs / NS;
    let rem = baseNs - sec * NS;
    if (rem < 0n) {
      rem += NS;
      sec -= 1n;
    }
    this.base = { seconds: Number(sec), ns: Number(rem) };
    const baseAbs = baseNs;

    const infos: EventClassInfo[] = [];
    for (const l of loaded) {
      for (const sc of l.trace.cls.streamClasses.values()) {
        for (const ec of sc.eventClasses.values()) {
          infos.push({ key: l.plan.keys.get(ec)!, eventClass: ec, streamClass: sc, trace: l.trace });
        }
      }
    }
    infos.sort((a, b) => a.key - b.key);
    this.eventClasses = infos;

    infos.forEach((info, i) => {
      if (info.key !== i) throw new Error(`event-class keys are not dense (${info.key} at ${i})`);
    });
    this.payloadWanted = new Uint8Array(infos.length).fill(1);
    this.met = new Uint8Array(infos.length);
    this.quiet = new Uint8Array(infos.length);
    const groupCount = loaded.reduce((n, l) => n + l.groups.length, 0);
    const budget = opts.memoryBudget ?? 16 * 1024 * 1024;
    // At most 1 MiB per stream: a bigger window reads no faster (the same read(2) calls per
    // byte), and its first fill costs page faults on fresh memory (4 MiB: 14 ms here, 1 MiB:
    // 3 ms; cputop on a 2-stream recording ~3 % faster).
    const windowBytes =
      opts.windowBytes ??
      Math.min(WINDOW_MAX_BYTES, Math.max(64 * 1024, Math.floor(budget / Math.max(1, groupCount))));
    const streams: StreamInstance[] = [];
    this.cursors = [];
    let total = 0;
    for (const l of loaded) {
      let nextId = 0;
      for (const g of l.groups) {
        const sp = l.plan.streams.get(g.sc.id)!;
        const stream: StreamInstance = {
          trace: l.trace,
          streamClass: g.sc,
          instanceId: g.instanceId >= 0 ? g.instanceId : undefined,
          id: g.instanceId >= 0 ? g.instanceId : nextId++,
          files: g.files.map((f) => f.path),
          clock: sp.clock,
          index: streams.length,
        };
        streams.push(stream);
        const rel =
          sp.clock === undefined
            ? 0
            : Number(clockBaseNs(sp.clock, opts) + (l.trace.clockShiftNs ?? 0n) - baseAbs);
        const make = (win = windowBytes): StreamCursor =>
          new StreamCursor(stream, l.plan, sp, g.files, rel, l.quirks, win, this.payloadWanted);
        this.cursorFactory.push(make);
        this.cursors.push(make());
        for (const f of g.files) total += f.size;
      }
    }
    this.streams = streams;
    this.totalBytes = total;
    this.bt1 = opts.order === 'babeltrace1';
    if (this.bt1) {
      // babeltrace 1 inserts the streams per trace, per stream class id, in directory order.
      const key = new Map<StreamCursor, [number, number, number]>();
      let ci = 0;
      loaded.forEach((l, ti) => {
        for (const g of l.groups) key.set(this.cursors[ci++]!, [ti, g.sc.id, g.files[0]?.dirPos ?? 0]);
      });
      this.bt1Order = [...this.cursors].sort((a, b) => {
        const x = key.get(a)!;
        const y = key.get(b)!;
        return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
      });
    }
    this.rec = blankEventRecord();
  }

  /** Opens every trace found below `paths`. */
  static open(paths: readonly string[], opts: OpenOptions = {}): TraceSet {
    return new TraceSet(loadTraces(paths, opts), opts);
  }

  /** By event-class key: 1 when the payload and event context are decoded into values. */
  private readonly payloadWanted: Uint8Array;

  /** By event-class key: 1 once an event of the class was given out (see `onFirstOfClass`). */
  private readonly met: Uint8Array;
  private firstOfClass: ((info: EventClassInfo) => void) | undefined;

  /**
   * Calls `fn` with an event class before the first event of that class given out from now on
   * is decoded: the consumer can say then whether it wants the payload (`setPayloadWanted`)
   * and whether the class is quiet (`setQuiet`), before any value is decoded.
   */
  onFirstOfClass(fn: (info: EventClassInfo) => void): void {
    this.firstOfClass = fn;
    this.met.fill(0);
  }

  /** Gives out the head event of cursor `c` in the reader's record. */
  private take(c: StreamCursor): EventRecord {
    const key = c.headPlan!.key;
    if (this.met[key] === 0) {
      this.met[key] = 1;
      this.firstOfClass?.(this.eventClasses[key]!);
    }
    c.takeEvent(this.rec);
    return this.rec;
  }

  /**
   * Says whether records of event class `key` need their payload and event context. When not,
   * the reader still decodes the event (and its stream event context, which it returns) but
   * produces no payload values: `rec.payload` and `rec.context` are undefined. Consumers that
   * read only the stream contexts of most events (the system model) save the cost of values
   * they would never look at.
   */
  setPayloadWanted(key: number, wanted: boolean): void {
    if (key >= 0 && key < this.payloadWanted.length) this.payloadWanted[key] = wanted ? 1 : 0;
  }

  /** Number of dense event-class keys (see `EventRecord.classKey`). */
  get eventClassCount(): number {
    return this.eventClasses.length;
  }

  private push(c: StreamCursor): void {
    if (c.headKind === HEAD_END) {
      c.close();
      return;
    }
    if (Number.isNaN(c.headTs)) c.headTs = this.lastTs;
    const h = this.heap;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  /** Restores the heap order after the root's head changed (or removes an ended root). */
  private fixRoot(): void {
    const h = this.heap;
    const root = h[0]!;
    if (root.headKind === HEAD_END) {
      root.close();
      const last = h.pop()!;
      if (h.length === 0) return;
      h[0] = last;
    } else if (Number.isNaN(root.headTs)) {
      root.headTs = this.lastTs;
    }
    const n = h.length;
    let i = 0;
    const c = h[0]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[m]!, c)) break;
      h[i] = h[m]!;
      i = m;
    }
    h[i] = c;
  }

  /**
   * babeltrace 1 order with stream intersection: its iterator seeks every stream to the first
   * event of its window before filling the heap, and drops a stream when it moves past it.
   * Call before the first `next()`.
   */
  setWindows(lo: ArrayLike<number>, hi: ArrayLike<number>): void {
    this.winLo = lo;
    this.winHi = hi;
  }

  /** Moves a cursor to its next event, setting aside discarded-events heads (babeltrace 1 order). */
  private bt1Advance(c: StreamCursor): void {
    c.advance();
    while (c.headKind === HEAD_DISCARD) {
      const d: DiscardedRecord = c.headDiscard!;
      this.pending.push(Number.isNaN(d.ts) ? { ...d, ts: c.headTs } : d);
      c.advance();
    }
  }

  /** babeltrace 1's comparison: earlier first; equal times "greater" whenever the paths differ. */
  private static gt1(a: StreamCursor, b: StreamCursor): boolean {
    if (a.headTs < b.headTs) return true;
    if (a.headTs > b.headTs) return false;
    return a.stream.files[0] !== b.stream.files[0];
  }

  private heapify1(): void {
    const h = this.heap;
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = l < n && TraceSet.gt1(h[l]!, h[i]!) ? l : i;
      if (r < n && TraceSet.gt1(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }

  private next1(): TraceRecord | null {
    const h = this.heap;
    if (!this.started) {
      this.started = true;
      for (const c of this.bt1Order) {
        this.bt1Advance(c);
        const lo = this.winLo?.[c.stream.index];
        if (lo !== undefined) {
          while (c.headKind === HEAD_EVENT && c.headTs < lo) {
            c.skipEvent();
            this.bt1Advance(c);
          }
        }
        if (c.headKind === HEAD_END) {
          c.close();
          continue;
        }
        h.push(c);
        let pos = h.length - 1;
        while (pos > 0 && TraceSet.gt1(c, h[(pos - 1) >> 1]!)) {
          h[pos] = h[(pos - 1) >> 1]!;
          pos = (pos - 1) >> 1;
        }
        h[pos] = c;
      }
    } else if (h.length > 0) {
      let c = h[0]!;
      for (;;) {
        this.bt1Advance(c);
        if (this.quietOn) this.skipQuietHeads(c);
        const hi = this.winHi?.[c.stream.index];
        if (c.headKind === HEAD_END || (hi !== undefined && c.headTs > hi)) {
          c.close();
          const last = h.pop()!;
          if (h.length > 0) {
            h[0] = last;
            this.heapify1();
          }
        } else this.heapify1();
        // The new root's head comes out next: when nobody would see it, consume it here as
        // the next call would have given it out, and move that root on in turn.
        if (!this.quietOn || h.length === 0 || this.pending.length > 0) break;
        c = h[0]!;
        if (!this.skipQuietRoot(c)) break;
      }
    }
    const d = this.pending.shift();
    if (d !== undefined) {
      // Returned before the event at the top of the heap, which the next call returns (the
      // cursor does not move then).
      this.replay = true;
      return d;
    }
    const c = h[0];
    if (c === undefined) return null;
    if (c.headTs > this.lastTs || this.lastTs === Number.NEGATIVE_INFINITY) this.lastTs = c.headTs;
    return this.take(c);
  }

  private replay = false;

  /** By event-class key: 1 when an event of the class may be skipped (see `setQuiet`). */
  private readonly quiet: Uint8Array;
  private quietOn = false;
  private quietEnd = Number.POSITIVE_INFINITY;
  private quietCount = 0;
  private quietLastTs = Number.NEGATIVE_INFINITY;

  /**
   * Says whether the consumer does nothing with an event of class `key` whose payload is not
   * wanted (`setPayloadWanted`) and whose stream event context has the same bytes as that of
   * the last record given out of its stream (the same `streamContextVersion`). Once
   * `skipQuiet` is called, the reader (babeltrace 1 order) consumes such events without
   * giving them out, in time order exactly where they would have come out (they are counted:
   * `quietSkipped`).
   */
  setQuiet(key: number, quiet: boolean): void {
    if (key >= 0 && key < this.quiet.length) this.quiet[key] = quiet ? 1 : 0;
  }

  /** Starts skipping quiet events (see `setQuiet`), those of time `end` or before only. */
  skipQuiet(end: number = Number.POSITIVE_INFINITY): void {
    this.quietOn = this.bt1;
    this.quietEnd = end;
  }

  /**
   * By stream index: the time of the last event skipped as quiet after the last record given out
   * of that stream (NaN: none). Once the reading is over, these are the skipped events that no
   * record's `quietBefore` reported.
   */
  quietTails(): number[] {
    const out: number[] = [];
    for (const c of this.cursors) out[c.stream.index] = c.quietTs;
    return out;
  }

  /** Events skipped as quiet so far, and the time of the last of them. */
  quietSkipped(): { count: number; lastTs: number | undefined } {
    return {
      count: this.quietCount,
      lastTs: this.quietLastTs === Number.NEGATIVE_INFINITY ? undefined : this.quietLastTs,
    };
  }

  /**
   * Skips the quiet events at the head of the root cursor `c` while it stays the root: while
   * its head is earlier than the heads of the root's children (babeltrace 1 puts the other
   * stream first on a tie), within its window and `quietEnd`, with no discarded-events record
   * waiting.
   */
  private skipQuietHeads(c: StreamCursor): void {
    const h = this.heap;
    let limit = h.length > 1 ? h[1]!.headTs : Number.POSITIVE_INFINITY;
    if (h.length > 2 && h[2]!.headTs < limit) limit = h[2]!.headTs;
    const end = Math.min(this.quietEnd, this.winHi?.[c.stream.index] ?? Number.POSITIVE_INFINITY);
    const quiet = this.quiet;
    let n = 0;
    let last = this.quietLastTs;
    while (c.headKind === HEAD_EVENT && this.pending.length === 0) {
      const t = c.headTs;
      if (!(t < limit && t <= end) || quiet[c.headPlan!.key] !== 1 || !c.skipSameContext()) break;
      n++;
      last = t;
      const more = c.skipQuietRun(quiet, limit, end);
      if (more > 0) {
        n += more;
        last = c.lastSkipTs;
      }
      this.bt1Advance(c);
    }
    if (n > 0) {
      this.quietCount += n;
      this.quietLastTs = last;
      if (last > this.lastTs) this.lastTs = last;
    }
  }

  /** Consumes the head of the root `c` when it is quiet (see `setQuiet`) and not after `quietEnd`. */
  private skipQuietRoot(c: StreamCursor): boolean {
    const t = c.headTs;
    if (c.headKind !== HEAD_EVENT || !(t <= this.quietEnd)) return false;
    if (this.quiet[c.headPlan!.key] !== 1 || !c.skipSameContext()) return false;
    this.quietCount++;
    this.quietLastTs = t;
    if (t > this.lastTs) this.lastTs = t;
    return true;
  }

  /** The next record in time order, or null at the end. */
  next(): TraceRecord | null {
    if (this.bt1) {
      if (this.replay) {
        this.replay = false;
        const d = this.pending.shift();
        if (d !== undefined) {
          this.replay = true;
          return d;
        }
        const c = this.heap[0];
        if (c === undefined) return null;
        if (c.headTs > this.lastTs || this.lastTs === Number.NEGATIVE_INFINITY) this.lastTs = c.headTs;
        return this.take(c);
      }
      return this.next1();
    }
    if (!this.started) {
      this.started = true;
      for (const c of this.cursors) {
        c.advance();
        this.push(c);
      }
    } else if (this.heap.length > 0) {
      // The root produced the previous record: move it to its next head.
      this.heap[0]!.advance();
      this.fixRoot();
    }
    const c = this.heap[0];
    if (c === undefined) return null;
    if (c.headTs > this.lastTs || this.lastTs === Number.NEGATIVE_INFINITY) this.lastTs = c.headTs;
    if (c.headKind === HEAD_DISCARD) {
      const d: DiscardedRecord = c.headDiscard!;
      return Number.isNaN(d.ts) ? { ...d, ts: c.headTs } : d;
    }
    return this.take(c);
  }

  /**
   * Time range of every stream (by `StreamInstance.index`) from its packet timestamps: the
   * first packet's beginning and the last packet's end, or null without timestamps. Reads only
   * packet headers and contexts, independently of the iteration.
   */
  streamRanges(): Array<{ begin: number; end: number } | null> {
    // A small window: the scan reads packet headers and contexts only, not the events.
    return this.cursorFactory.map((make) => make(SCAN_WINDOW_BYTES).scanPacketRange());
  }

  /** Bytes of stream data consumed so far, and the total. */
  progress(): { done: number; total: number } {
    let done = 0;
    for (const c of this.cursors) done += c.doneBytes;
    return { done, total: this.totalBytes };
  }

  close(): void {
    for (const c of this.cursors) c.close();
    this.heap.length = 0;
  }
}
