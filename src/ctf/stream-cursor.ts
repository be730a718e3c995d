/**
 * Reads one data stream (one or more stream files) packet by packet and event by event, with
 * the semantics of babeltrace2's CTF message iterator: clock values rebuilt from partial
 * timestamps, packet and content sizes, padding, discarded events and packets.
 *
 * Memory stays bounded: the stream's bytes go through one window buffer that holds part of the
 * current packet (it grows only when a single event does not fit). The window always starts at
 * a packet offset that is a multiple of the largest alignment of the trace, so alignments
 * computed on window positions equal those on packet positions.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { TraceFormatError } from '../util/errors.js';
import {
  blankEventRecord,
  type DiscardedRecord,
  type EventRecord,
  type FieldValue,
  type PacketInfo,
  type StreamInstance,
} from './event.js';
import { DecodeFault, type DecodeFn, DecodeState, NEED_MORE } from './decode/state.js';
import type { EventPlan, SplitPlan, StreamClassPlan, TracePlan } from './decode/plan.js';
import { CTF_MAGIC, MAX_PACKET_BYTES, SLACK, lossesBetween, packetSizes } from './packet.js';
import type { Snapshots, TracerQuirks } from './packet.js';
import { ContextCache } from './context-cache.js';
import { skipQuietRun } from './quiet-run.js';

/** Payload wanted for every class (cursors made outside a TraceSet). */
const ALL_WANTED = new Uint8Array(0);

export const HEAD_NONE = 0;
export const HEAD_EVENT = 1;
export const HEAD_DISCARD = 2;
export const HEAD_END = 3;

export class StreamCursor {
  readonly stream: StreamInstance;
  readonly plan: TracePlan;
  readonly sp: StreamClassPlan;
  /** ns from the time base at clock value 0. */
  readonly clockRel: number;
  readonly freq: number;
  readonly clockless: boolean;
  readonly st = new DecodeState();

  headKind = HEAD_NONE;
  headTs = 0;
  headPlan: EventPlan | undefined;
  headDiscard: DiscardedRecord | undefined;
  /** Bytes of all files before the current one plus the current packet offset. */
  doneBytes = 0;

  private readonly files: ReadonlyArray<{ path: string; size: number }>;
  private readonly quirks: TracerQuirks;
  private readonly alignBytes: number;
  private readonly minWindow: number;
  /** Refill ahead when less than this is left in the window (and the packet goes on). */
  readonly marginBits: number;
  private fileIdx = -1;
  private fd = -1;
  private path = '';
  private fileSize = 0;
  private filesBefore = 0;

  private buf: Buffer;
  u8: Uint8Array;
  dv: DataView;
  private winFile = 0;
  private winLen = 0;

  private packet: PacketInfo | undefined;
  private pktOff = 0;
  private pktBytes = 0;
  contentBits = 0;
  /** Packet-relative bit position of the next event. */
  ppos = 0;
  private evStart = 0;
  private bodyPos = 0;
  queue: DiscardedRecord[] = [];
  private prev: Snapshots = { discarded: -1, seq: -1, beginClk: -1, endClk: -1 };

  constructor(
    stream: StreamInstance,
    plan: TracePlan,
    sp: StreamClassPlan,
    files: ReadonlyArray<{ path: string; size: number }>,
    clockRel: number,
    quirks: TracerQuirks,
    windowBytes: number,
    /** By event-class key: 0 when only the stream event context is wanted (see TraceSet). */
    readonly payloadWanted: Uint8Array = ALL_WANTED,
  ) {
    this.stream = stream;
    this.plan = plan;
    this.sp = sp;
    this.files = files;
    this.clockRel = clockRel;
    this.freq = sp.clock?.freq ?? 1e9;
    this.clockless = sp.clock === undefined;
    this.quirks = quirks;
    this.alignBytes = Math.max(8, plan.maxAlignBits / 8);
    this.minWindow = Math.max(4096, Math.ceil(windowBytes / this.alignBytes) * this.alignBytes);
    this.marginBits = Math.min(this.minWindow / 4, 64 * 1024) * 8;
    this.buf = Buffer.alloc(this.minWindow + SLACK);
    this.u8 = this.buf;
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Nanoseconds from the time base for a clock value of this stream. */
  toTs(clk: number): number {
    if (this.freq === 1e9) return this.clockRel + clk;
    return this.clockRel + Math.floor((1e9 * clk) / this.freq);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  // ---- window -------------------------------------------------------------------------------

  /** Makes the window start at packet byte `relStart` (rounded down to the alignment) and hold
   * at least `want` bytes (or up to the end of the file). */
  private fill(relStart: number, want: number): void {
    const aligned = relStart - (relStart % this.alignBytes);
    const fileStart = this.pktOff + aligned;
    const avail = this.fileSize - fileStart;
    const len = Math.min(avail, Math.max(want + (relStart - aligned), this.minWindow));
    if (len + SLACK > this.buf.length) {
      this.buf = Buffer.alloc(len + SLACK);
      this.u8 = this.buf;
      this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, this.buf, got, len - got, fileStart + got);
      if (n === 0) break;
      got += n;
    }
    this.winFile = fileStart;
    this.winLen = got;
    this.windowChanged();
  }

  /** Window start and content end, in bits relative to the packet and to the window. */
  wBase = 0;
  wEnd = 0;

  /** The window starts at a multiple of the trace's largest alignment from the packet start. */
  wAligned = false;

  private windowChanged(): void {
    this.wBase = (this.winFile - this.pktOff) * 8;
    this.wAligned = (this.winFile - this.pktOff) % this.alignBytes === 0;
    const winEnd = this.wBase + this.winLen * 8;
    this.wEnd = Math.min(this.contentBits, winEnd) - this.wBase;
    this.st.endIsContent = winEnd >= this.contentBits || this.winFile + this.winLen >= this.fileSize;
  }

  /** Runs a decoder from packet bit `start`, refilling the window as needed; returns the end. */
  private run(
    fn: DecodeFn,
    start: number,
    o0: FieldValue[] | null,
    o1?: FieldValue[],
    o2?: FieldValue[],
  ): number {
    for (;;) {
      const base = this.wBase;
      if (start < base || start - base > this.winLen * 8 || !this.wAligned) {
        this.fill(start >>> 3, 64);
        continue;
      }
      if (this.wEnd - (start - base) < this.marginBits && !this.st.endIsContent) {
        // Close to the end of the window: move it now rather than let the decoder run out and
        // throw (an exception out of generated code costs a deoptimisation).
        this.fill(start >>> 3, this.minWindow);
        continue;
      }
      try {
        return fn(this.u8, this.dv, start - base, this.wEnd, this.st, o0, o1, o2) + base;
      } catch (e) {
        if (e === NEED_MORE) {
          const have = this.winFile + this.winLen - (this.pktOff + (start >>> 3));
          this.fill(start >>> 3, Math.max(have * 2, this.minWindow));
          continue;
        }
        if (e instanceof DecodeFault) throw this.error(e.pos + base, e.message);
        throw e;
      }
    }
  }

  private error(bitPos: number, reason: string): TraceFormatError {
    return new TraceFormatError(this.path, this.pktOff + Math.floor(bitPos / 8), reason);
  }

  // ---- packets ------------------------------------------------------------------------------

  private openFile(i: number): void {
    this.close();
    if (this.fileIdx >= 0) this.filesBefore += this.fileSize;
    this.fileIdx = i;
    const f = this.files[i]!;
    this.path = f.path;
    this.fileSize = f.size;
    try {
      this.fd = openSync(f.path, 'r');
    } catch (e) {
      throw new TraceFormatError(f.path, undefined, `cannot open stream file: ${(e as Error).message}`);
    }
    this.packet = undefined;
    this.pktOff = 0;
    this.pktBytes = 0;
    this.winLen = 0;
    this.winFile = 0;
  }

  /** Moves to the next packet; false at the end of the stream. */
  private nextPacket(): boolean {
    if (this.packet !== undefined) this.finishPacket();
    let off = this.packet === undefined && this.fileIdx >= 0 ? this.pktOff : this.pktOff + this.pktBytes;
    if (this.fileIdx < 0) {
      this.openFile(0);
      off = 0;
    }
    while (off >= this.fileSize) {
      if (this.fileIdx + 1 >= this.files.length) {
        this.doneBytes = this.filesBefore + this.fileSize;
        return false;
      }
      this.openFile(this.fileIdx + 1);
      off = 0;
    }
    this.pktOff = off;
    this.doneBytes = this.filesBefore + off;
    this.pktBytes = this.fileSize - off;
    this.contentBits = Math.min(this.pktBytes, MAX_PACKET_BYTES) * 8;
    this.windowChanged();
    this.readPacketHeader();
    return true;
  }

  private readPacketHeader(): void {
    const st = this.st;
    const sp = this.sp;
    st.resetPacket();
    let p = 0;
    const plan = this.plan;
    let header: FieldValue[] | undefined;
    if (plan.packetHeaderFn) {
      header = new Array<FieldValue>(plan.cls.packetHeader!.fields.length);
      p = this.run(plan.packetHeaderFn, p, header);
    }
    if (st.magic !== -1 && st.magic !== CTF_MAGIC) {
      throw this.error(0, `bad packet magic 0x${st.magic.toString(16)} (expected 0xc1fc1fc1)`);
    }
    if (st.streamClassId !== -1 && st.streamClassId !== sp.sc.id) {
      throw this.error(0, `packet of stream class ${st.streamClassId} in a stream of class ${sp.sc.id}`);
    }
    let context: FieldValue[] | undefined;
    if (sp.packetContextFn) {
      context = new Array<FieldValue>(sp.sc.packetContext!.fields.length);
      p = this.run(sp.packetContextFn, p, context);
    }
    const sizes = packetSizes(st.packetSize, st.contentSize, p, this.fileSize - this.pktOff);
    if (typeof sizes === 'string') throw this.error(0, sizes);
    const { packetBits, contentBits } = sizes;
    this.pktBytes = packetBits / 8;
    this.contentBits = contentBits;
    this.windowChanged();
    this.ppos = p;

    const cur: Snapshots = {
      discarded: sp.hasDiscardedEvents ? st.discarded : -1,
      seq: sp.hasSeqNum ? st.seqNum : -1,
      beginClk: st.tsBegin,
      endClk: st.tsEnd,
    };
    const packet: PacketInfo = {
      stream: this.stream,
      file: this.path,
      offset: this.pktOff,
      packetSize: packetBits,
      contentSize: contentBits,
      header,
      context,
      beginCycles: cur.beginClk >= 0 ? cur.beginClk : undefined,
      endCycles: cur.endClk >= 0 ? cur.endClk : undefined,
      beginTs: cur.beginClk >= 0 && !this.clockless ? this.toTs(cur.beginClk) : undefined,
      endTs: cur.endClk >= 0 && !this.clockless ? this.toTs(cur.endClk) : undefined,
      discardedEventsCounter: cur.discarded >= 0 ? cur.discarded : undefined,
      seqNum: cur.seq >= 0 ? cur.seq : undefined,
    };
    this.packet = packet;

    const withClock = sp.hasTsBegin && sp.hasTsEnd && !this.clockless;
    for (const l of lossesBetween(this.prev, cur, sp.hasDiscardedEvents, sp.hasSeqNum)) {
      this.queue.push(this.discardRecord(l.kind, l.count, withClock ? l.b : -1, withClock ? l.e : -1));
    }
    this.prev = cur;
  }

  private discardRecord(
    kind: 'discarded-events' | 'discarded-packets',
    count: number | undefined,
    b: number,
    e: number,
  ): DiscardedRecord {
    const beginTs = b >= 0 ? this.toTs(b) : undefined;
    const endTs = e >= 0 ? this.toTs(e) : undefined;
    return {
      kind,
      stream: this.stream,
      packet: this.packet!,
      count,
      beginTs,
      endTs,
      beginCycles: b >= 0 ? b : undefined,
      endCycles: e >= 0 ? e : undefined,
      ts: beginTs ?? Number.NaN,
    };
  }

  /** Packet end: the clock moves to timestamp_end (with babeltrace2's quirk exceptions). */
  private finishPacket(): void {
    const st = this.st;
    const end = this.prev.endClk;
    if (end < 0) return;
    if (this.quirks.lttngCrash && this.prev.beginClk !== 0 && end === 0) return;
    if (this.quirks.lttngEventAfterPacket && end < st.clk) return;
    st.clk = end;
  }

  /**
   * Time range of the stream from its packets alone (first `timestamp_begin`, last
   * `timestamp_end`), reading only packet headers and contexts; null when the packets have no
   * timestamps. Use on a fresh cursor: it consumes the stream.
   */
  scanPacketRange(): { begin: number; end: number } | null {
    let begin: number | undefined;
    let end: number | undefined;
    while (this.nextPacket()) {
      const p = this.packet!;
      if (begin === undefined && p.beginTs !== undefined) begin = p.beginTs;
      if (p.endTs !== undefined) end = p.endTs;
      this.ppos = this.contentBits;
      this.queue.length = 0;
    }
    this.close();
    return begin === undefined || end === undefined ? null : { begin, end };
  }

  // ---- events -------------------------------------------------------------------------------

  /** Computes the next head (event or discarded record) of the stream. */
  advance(): void {
    this.headPlan = undefined;
    this.headDiscard = undefined;
    for (;;) {
      const d = this.queue.length === 0 ? undefined : this.queue.shift();
      if (d !== undefined) {
        this.headKind = HEAD_DISCARD;
        this.headDiscard = d;
        this.headTs = d.ts;
        return;
      }
      if (this.packet === undefined || this.ppos >= this.contentBits) {
        if (!this.nextPacket()) {
          this.headKind = HEAD_END;
          return;
        }
        continue;
      }
      this.readEventHeader();
      return;
    }
  }

  private readEventHeader(): void {
    const st = this.st;
    const sp = this.sp;
    this.evStart = this.ppos;
    st.id = -1;
    let p = this.ppos;
    if (sp.eventHeaderFn) p = this.run(sp.eventHeaderFn, p, null);
    let plan: EventPlan | undefined;
    if (st.id >= 0) {
      plan = this.byId[st.id] ?? this.planOf(st.id);
      if (plan === undefined)
        throw this.error(this.evStart, `unknown event class id ${st.id} in stream class ${sp.sc.id}`);
    } else {
      if (sp.onlyEvent === undefined) {
        throw this.error(
          this.evStart,
          `event without an id in a stream class with ${sp.sc.eventClasses.size} event classes`,
        );
      }
      plan = this.plan.eventPlan(sp, sp.onlyEvent.id)!;
    }
    this.headPlan = plan;
    this.bodyPos = p;
    this.headKind = HEAD_EVENT;
    this.headTs = this.clockless ? Number.NaN : this.toTs(st.clk);
  }

  /** Event plans by id, a dense cache in front of `TracePlan.eventPlan`. */
  readonly byId: Array<EventPlan | undefined> = [];

  private planOf(id: number): EventPlan | undefined {
    const plan = this.plan.eventPlan(this.sp, id);
    if (plan !== undefined && id < 65536) this.byId[id] = plan;
    return plan;
  }

  /** This stream's last event context (see `takeSplit`). */
  readonly ctx = new ContextCache();

  /**
   * Window byte offset of packet bit `start` with `bits` following in the window, or -1 when
   * the packet content does not hold them (the caller then takes the usual path and its errors).
   */
  private ensure(start: number, bits: number): number {
    if ((start & 7) !== 0 || start + bits > this.contentBits) return -1;
    for (let tries = 0; tries < 2; tries++) {
      const rel = start - this.wBase;
      if (start >= this.wBase && this.wAligned && rel + bits <= this.winLen * 8) return rel >>> 3;
      this.fill(start >>> 3, Math.max(bits >>> 3, this.minWindow));
    }
    return -1;
  }

  /** Skips the event context and payload (after the stream event context at `p`) without values. */
  private skipRest(split: SplitPlan, p: number): number {
    if (split.restBits >= 0) {
      const ra = split.restAlign;
      p = Math.ceil(p / ra) * ra + split.restBits;
      if (p > this.contentBits) throw this.error(p, 'event goes past the end of the packet content');
    } else if (split.restSkipFn !== undefined) {
      const fn = split.restSkipFn === null ? split.compileRestSkip() : split.restSkipFn;
      p = this.run(fn!, p, null);
    }
    return p;
  }

  /**
   * The body in two steps (`EventPlan.split`): the stream event context is compared by bytes with
   * the previous one of this stream and decoded only when it differs; the rest is decoded with
   * values only when wanted. Returns the end position, or -1 to take the usual path.
   */
  private takeSplit(plan: EventPlan, full: boolean): number {
    const split = plan.split === undefined ? this.plan.splitPlan(this.sp, plan) : plan.split;
    if (split === null) return -1;
    const a = split.ctxAlign;
    let p = Math.ceil(this.bodyPos / a) * a;
    const bits = split.ctxBits;
    const off = this.ensure(p, bits);
    if (off < 0) return -1;
    const n = bits >>> 3;
    const ctx = this.ctx;
    if (ctx.same(this.u8, this.dv, off, n)) p += bits;
    else {
      ctx.store(this.u8, off, n, plan.streamCtx!.length);
      try {
        p = this.run(split.ctxFn, p, ctx.vals!);
      } catch (e) {
        ctx.invalidate();
        throw e;
      }
      ctx.version++;
    }
    if (full) {
      const fn = split.restFn === null ? split.compileRest() : split.restFn;
      if (fn !== undefined) p = this.run(fn, p, split.restOuts[0]!, split.restOuts[1]);
      return p;
    }
    return this.skipRest(split, p);
  }

  /**
   * Consumes the head event without giving it out when nobody would see anything of it: its
   * payload is not wanted and its stream event context has the same bytes as that of the last
   * event given out by `takeEvent` (same `streamContextVersion`). Returns false, having
   * consumed nothing, otherwise. The caller advances the cursor after a skip.
   */
  skipSameContext(): boolean {
    const plan = this.headPlan!;
    const ctx = this.ctx;
    if (this.payloadWanted[plan.key] !== 0 || ctx.version !== ctx.given) return false;
    const split = plan.split;
    if (split === undefined || split === null) return false;
    const a = split.ctxAlign;
    const p = Math.ceil(this.bodyPos / a) * a;
    const bits = split.ctxBits;
    const off = this.ensure(p, bits);
    if (off < 0 || !ctx.same(this.u8, this.dv, off, bits >>> 3)) return false;
    this.ppos = this.skipRest(split, p + bits);
    this.quietTs = this.headTs;
    return true;
  }

  /** Time of the last event consumed by `skipQuietRun`. */
  lastSkipTs = Number.NaN;

  /**
   * Time of the last event skipped (`skipSameContext`, `skipQuietRun`) since the last one given
   * out by `takeEvent`, NaN when none: given out as the next record's `quietBefore`.
   */
  quietTs = Number.NaN;

  /** See `skipQuietRun` in quiet-run.ts. */
  skipQuietRun(quiet: Uint8Array, limit: number, end: number): number {
    const n = skipQuietRun(this, quiet, limit, end);
    if (n > 0) this.quietTs = this.lastSkipTs;
    return n;
  }

  /** Decodes the body of the head event into `rec` (`values` false: no payload values). */
  takeEvent(rec: EventRecord, values = true): void {
    const plan = this.headPlan!;
    let p = this.bodyPos;
    const full = values && this.payloadWanted[plan.key] !== 0;
    const q = plan.streamCtx !== undefined ? this.takeSplit(plan, full) : -1;
    if (q >= 0) {
      if (q === this.evStart) throw this.error(q, 'event of size 0 (corrupt metadata or stream)');
      this.ppos = q;
      this.fillRecord(rec, plan, full, this.ctx.vals, (this.ctx.given = this.ctx.version));
      return;
    }
    // The usual path decodes the context into the class's arrays: compare afresh next time.
    this.ctx.invalidate();
    this.ctx.version++;
    if (full) {
      const fn = plan.bodyFn === null ? plan.compileBody() : plan.bodyFn;
      if (fn) p = this.run(fn, p, plan.outs[0]!, plan.outs[1], plan.outs[2]);
    } else {
      const fn = plan.contextOnlyFn ?? (plan.contextOnlyFn = plan.compileContextOnly());
      if (fn) p = this.run(fn, p, plan.outs[0]!, plan.outs[1], plan.outs[2]);
    }
    if (p === this.evStart) throw this.error(p, 'event of size 0 (corrupt metadata or stream)');
    this.ppos = p;
    this.fillRecord(rec, plan, full, plan.streamCtx, undefined);
    this.ctx.given = -1;
  }

  /** Fills `rec` with the head event (`full`: with its context and payload values). */
  private fillRecord(
    rec: EventRecord,
    plan: EventPlan,
    full: boolean,
    streamContext: EventRecord['streamContext'],
    streamContextVersion: number | undefined,
  ): void {
    rec.eventClass = plan.ec;
    rec.classKey = plan.key;
    rec.stream = this.stream;
    rec.packet = this.packet!;
    rec.cycles = this.st.clk;
    rec.ts = this.headTs;
    rec.header = undefined;
    rec.streamContext = streamContext;
    rec.streamContextVersion = streamContextVersion;
    rec.quietBefore = this.quietTs;
    this.quietTs = Number.NaN;
    rec.context = full ? plan.ctx : undefined;
    rec.payload = full ? plan.payload : undefined;
  }

  /** Skips the body of the head event without producing values (nor giving out its context). */
  skipEvent(): void {
    const q = this.quietTs;
    this.takeEvent(SCRATCH, false);
    this.ctx.given = -1;
    this.quietTs = q;
  }
}

const SCRATCH = blankEventRecord();
