/**
 * Per-stream packet builder: events are encoded straight into a chunk buffer that holds one or
 * more packets; packets are closed when the next event does not fit (or on demand), their
 * header and context written in place, and whole chunks go to the sink in one write.
 *
 * Event headers are written the way lttng-modules/lttng-ust 2.13 write them: the compact form
 * (or the large one) unless the event id does not fit it (> 30, > 65534) or the bits of the
 * timestamp above the low 27 differ from those of the previous event of the stream
 * (`last_tsc_overflow()` of the ring buffer, with `tsc_bits` = 27 for both header kinds); then
 * the extended form with the full 64-bit timestamp.
 */
import type { IndexEntry } from '../index-file.js';
import { WriterError } from '../../util/errors.js';
import type { EncodeFn } from './encoder.js';
import type { Values } from './encode-helpers.js';
import type { StreamSink } from './sink.js';
import type { EventClassWriter, PacketPlan, StreamWriterInit } from './stream-plan.js';

const TWO32 = 4294967296;
const PAGE = 4096;
export const CTF_MAGIC = 0xc1fc1fc1;

/** Marks a context taken from `beginRawFrom()`'s source. */
const FROM_SRC = new Uint8Array(0);

function alignUp(v: number, a: number): number {
  return a <= 1 ? v : Math.ceil(v / a) * a;
}

export class StreamWriter {
  readonly name: string;
  readonly streamClassId: number;
  readonly instanceId: number;

  private readonly sink: StreamSink;
  private readonly le: boolean;
  private readonly large: boolean;
  private readonly maxCompactId: number;
  private readonly hAlign: number;
  private readonly u32Align: number;
  private readonly u64Align: number;
  private readonly extAlign: number;
  private readonly packet: PacketPlan;
  private readonly ctxEncode: EncodeFn;
  /** Bytes of a verbatim stream event context (-1: not possible), and its alignment (bits). */
  private readonly ctxBytes: number;
  private readonly ctxAlign: number;
  private readonly capacity: number;
  private readonly fixed: boolean;
  private readonly baseHi: number;
  private readonly baseLo: number;
  private readonly base: bigint;
  private readonly slackBits: () => number;
  private readonly beforeFlush: () => void;

  private chunk: Uint8Array;
  private dv: DataView;
  private chunkPos = 0;
  private flushed = 0;
  private entries: IndexEntry[] = [];

  private open = false;
  private pktStart = 0;
  /** Bit position of the end of the content. */
  private pos = 0;
  /** Bit position events must not pass. */
  private lim = 0;
  private slackBytes = 0;
  private beginTs = 0;
  private inPacket = 0;

  private lastTs = 0;
  /** `timestamp >> 27` of the previous event (LTTng's `last_tsc`, 0 at the start like the ring buffer's). */
  private lastKey = 0;
  private seq = 0;
  private discardedTotal = 0;
  private discardedWritten = 0;
  private closed = false;

  /** Events written. */
  events = 0;
  /** Packets closed. */
  packets = 0;
  /** Events dropped because they do not fit in an empty packet (counted as discarded too). */
  droppedTooBig = 0;

  constructor(o: StreamWriterInit) {
    this.name = o.name;
    this.streamClassId = o.streamClassId;
    this.instanceId = o.instanceId;
    this.sink = o.sink;
    this.le = o.byteOrder === 'le';
    this.large = o.header === 'large';
    this.maxCompactId = this.large ? 65534 : 30;
    this.hAlign = Math.max(8, o.align.header);
    this.u32Align = Math.max(8, o.align.u32);
    this.u64Align = Math.max(8, o.align.u64);
    this.extAlign = Math.max(this.u32Align, this.u64Align);
    this.packet = o.packet;
    this.ctxEncode = o.contextEncode;
    this.ctxBytes = o.contextBytes?.bytes ?? -1;
    this.ctxAlign = o.contextBytes?.align ?? 8;
    this.capacity = o.capacity;
    this.fixed = o.fixedPacketSize;
    this.base = o.cyclesBase;
    this.baseHi = Number(o.cyclesBase >> 32n);
    this.baseLo = Number(o.cyclesBase & 0xffffffffn);
    this.slackBits = o.slackBits;
    this.beforeFlush = o.beforeFlush;
    if (o.packet.bits + 224 > o.capacity * 8) {
      throw new WriterError(`packet size ${o.capacity} is too small for the packet header and context`);
    }
    this.chunk = new Uint8Array(Math.max(o.chunkSize, o.capacity + this.currentSlackBytes()));
    this.dv = new DataView(this.chunk.buffer);
  }

  private currentSlackBytes(): number {
    // Event encoders' slack, plus the largest event header (with alignment), plus margin.
    return Math.ceil(this.slackBits() / 8) + 64;
  }

  /** Cumulative count of events reported lost on this stream. */
  get discarded(): number {
    return this.discardedTotal;
  }

  /**
   * Appends one event at `ts` (clock cycles relative to the trace writer's `cyclesBase`;
   * non-decreasing within a stream). Values are arrays in field order (see `encoder.ts`): the
   * payload, then the stream event context (the channel contexts) and the event context.
   * Returns false when the event is larger than an empty packet: it is dropped and counted as
   * discarded, as LTTng does.
   */
  write(
    ec: EventClassWriter,
    ts: number,
    payload?: Values,
    streamContext?: Values,
    eventContext?: Values,
  ): boolean {
    if (ec.streamClassId !== this.streamClassId) {
      throw new WriterError(
        `event class '${ec.name}' belongs to stream class ${ec.streamClassId}, not ${this.streamClassId}`,
      );
    }
    if (!(ts >= this.lastTs) || ts !== Math.floor(ts) || ts > Number.MAX_SAFE_INTEGER) {
      if (this.closed) throw new WriterError(`stream ${this.name} is closed`);
      throw new WriterError(
        `stream ${this.name}: timestamp ${ts} is not an integer >= the previous one (${this.lastTs})`,
      );
    }
    if (this.closed) throw new WriterError(`stream ${this.name} is closed`);
    if (this.rawPending) throw new WriterError(`stream ${this.name}: beginRaw() without commitRaw()`);
    if (!this.open) this.openPacket(ts);
    else if (ec.slackBits > this.slackBytes * 8 - 256) this.regrow(ts);
    let hi: number;
    let lo: number;
    if (ts < TWO32) {
      hi = this.baseHi;
      lo = this.baseLo + ts;
    } else {
      const th = Math.floor(ts / TWO32);
      hi = this.baseHi + th;
      lo = this.baseLo + (ts - th * TWO32);
    }
    if (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
    }
    const key = hi * 32 + (lo >>> 27);
    const ext = ec.id > this.maxCompactId || key !== this.lastKey;
    // No room left in the packet: once more in a new one; too big for an empty packet: dropped.
    let r: number;
    for (let retried = false; ; retried = true) {
      r = ec.encode(
        this.chunk,
        this.dv,
        this.header(ec.id, ext, hi, lo),
        this.lim,
        streamContext,
        eventContext,
        payload,
      );
      if (r >= 0) break;
      this.wipeAfterContent();
      if (retried || this.inPacket === 0) return this.tooBig();
      this.closePacket(ts);
      this.openPacket(ts);
    }
    this.pos = r;
    this.lastKey = key;
    this.lastTs = ts;
    this.inPacket++;
    this.events++;
    return true;
  }

  /**
   * Low-level path for converters that produce the payload bytes themselves (e.g. copying
   * fields out of ftrace records): writes the event header and the stream event context, and
   * returns the byte offset in `bytes` where the caller writes at most `maxPayloadBytes` bytes
   * of payload (byte-aligned; larger alignments are the caller's), then calls
   * `commitRaw(endByte)`. Returns -1 when the event cannot fit an empty packet (dropped and
   * counted as discarded, like `write()`). Read `bytes`/`view` after this call: opening a
   * packet may replace the buffer. The bytes past the offset are zero.
   */
  beginRaw(ec: EventClassWriter, ts: number, maxPayloadBytes: number, streamContext?: Values): number {
    return this.rawBegin(ec, ts, maxPayloadBytes, streamContext, undefined);
  }

  /**
   * `beginRaw()` with the stream event context given as its encoded bytes, copied verbatim
   * (the caller builds them once per context value, e.g. per thread, in the layout the
   * metadata declares): no context encoding per event. The stream class's context must have a
   * fixed byte layout (`hasContextBytes`) and `context` exactly its size.
   */
  beginRawBytes(ec: EventClassWriter, ts: number, maxPayloadBytes: number, context: Uint8Array): number {
    if (context.length !== this.ctxBytes) {
      throw new WriterError(
        this.ctxBytes < 0
          ? `stream ${this.name}: its event context has no fixed byte layout (use beginRaw())`
          : `stream ${this.name}: event context of ${context.length} bytes, expected ${this.ctxBytes}`,
      );
    }
    return this.rawBegin(ec, ts, maxPayloadBytes, undefined, context);
  }

  /**
   * `beginRawBytes()` with the context bytes taken from `src[srcOff..]` (a ring buffer record
   * whose producer wrote the stream event context in the stream's layout): no copy of its own.
   */
  beginRawFrom(
    ec: EventClassWriter,
    ts: number,
    maxPayloadBytes: number,
    src: Uint8Array,
    srcOff: number,
  ): number {
    if (this.ctxBytes < 0) {
      throw new WriterError(
        `stream ${this.name}: its event context has no fixed byte layout (use beginRaw())`,
      );
    }
    this.fromSrc = src;
    this.fromView =
      src === this.fromSrcSeen ? this.fromView : new DataView(src.buffer, src.byteOffset, src.byteLength);
    this.fromSrcSeen = src;
    this.fromOff = srcOff;
    return this.rawBegin(ec, ts, maxPayloadBytes, undefined, FROM_SRC);
  }

  /** beginRawFrom's source (its DataView is kept while the source stays the same). */
  private fromSrc: Uint8Array | undefined;
  private fromSrcSeen: Uint8Array | undefined;
  private fromView: DataView | undefined;
  private fromOff = 0;

  /** Whether `beginRawBytes()` can be used (the stream event context has a fixed byte layout). */
  get hasContextBytes(): boolean {
    return this.ctxBytes >= 0;
  }

  /**
   * An event placed by `rawBegin()` and not committed yet; its `lastKey` and `lastTs` once
   * `commitRaw()` ends it.
   */
  private rawPending = false;
  private rawKey = 0;
  private rawTs = 0;

  private rawBegin(
    ec: EventClassWriter,
    ts: number,
    maxPayloadBytes: number,
    streamContext: Values | undefined,
    context: Uint8Array | undefined,
  ): number {
    if (ec.streamClassId !== this.streamClassId) {
      throw new WriterError(
        `event class '${ec.name}' belongs to stream class ${ec.streamClassId}, not ${this.streamClassId}`,
      );
    }
    if (!(ts >= this.lastTs) || ts !== Math.floor(ts) || ts > Number.MAX_SAFE_INTEGER) {
      throw new WriterError(
        `stream ${this.name}: timestamp ${ts} is not an integer >= the previous one (${this.lastTs})`,
      );
    }
    if (this.closed) throw new WriterError(`stream ${this.name} is closed`);
    if (this.rawPending) throw new WriterError(`stream ${this.name}: beginRaw() without commitRaw()`);
    if (!this.open) this.openPacket(ts);
    const th = Math.floor(ts / TWO32);
    let hi = this.baseHi + th;
    let lo = this.baseLo + (ts - th * TWO32);
    if (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
    }
    const key = hi * 32 + (lo >>> 27);
    const ext = ec.id > this.maxCompactId || key !== this.lastKey;
    let at = this.rawPlace(ec.id, ext, hi, lo, maxPayloadBytes, streamContext, context);
    if (at < 0) {
      this.wipeAfterContent();
      if (this.inPacket === 0) {
        this.tooBig();
        return -1;
      }
      this.closePacket(ts);
      this.openPacket(ts);
      at = this.rawPlace(ec.id, ext, hi, lo, maxPayloadBytes, streamContext, context);
      if (at < 0) {
        this.wipeAfterContent();
        this.tooBig();
        return -1;
      }
    }
    this.rawPending = true;
    this.rawKey = key;
    this.rawTs = ts;
    return at;
  }

  /** Header and context at the current position; the payload's byte offset, or -1 if no room. */
  private rawPlace(
    id: number,
    ext: boolean,
    hi: number,
    lo: number,
    maxPayloadBytes: number,
    streamContext: Values | undefined,
    context: Uint8Array | undefined,
  ): number {
    const h = this.header(id, ext, hi, lo);
    let at: number;
    if (context !== undefined) {
      const a = this.ctxAlign;
      const c = ((h + a - 1) & -a) >>> 3;
      if (context === FROM_SRC) {
        // Copied word by word (no subarray per event): the context is a few dozen bytes.
        const n = this.ctxBytes;
        at = c + n;
        if (at + maxPayloadBytes > this.lim >>> 3) return -1;
        const sv = this.fromView!;
        const dv = this.dv;
        const so = this.fromOff;
        let i = 0;
        for (; i + 4 <= n; i += 4) dv.setUint32(c + i, sv.getUint32(so + i, true), true);
        for (; i < n; i++) dv.setUint8(c + i, sv.getUint8(so + i));
        return at;
      }
      at = c + context.length;
      if (at + maxPayloadBytes > this.lim >>> 3) return -1;
      this.chunk.set(context, c);
      return at;
    }
    const r = this.ctxEncode(this.chunk, this.dv, h, this.lim, streamContext);
    if (r < 0) return -1;
    at = Math.ceil(r / 8);
    return at + maxPayloadBytes <= this.lim >>> 3 ? at : -1;
  }

  /** Ends the event begun by `beginRaw()`: `endByte` is the offset after its last byte. */
  commitRaw(endByte: number): void {
    if (!this.rawPending) throw new WriterError(`stream ${this.name}: commitRaw() without beginRaw()`);
    if (endByte * 8 > this.lim)
      throw new WriterError(`stream ${this.name}: raw event past the room it asked for`);
    this.rawPending = false;
    this.pos = endByte * 8;
    this.lastKey = this.rawKey;
    this.lastTs = this.rawTs;
    this.inPacket++;
    this.events++;
  }

  /** The buffer `beginRaw()` offsets point into (valid until the next call on this stream). */
  get bytes(): Uint8Array {
    return this.chunk;
  }

  /** A DataView over `bytes`. */
  get view(): DataView {
    return this.dv;
  }

  /** Writes the event header at the current position; returns the bit position after it. */
  private header(id: number, ext: boolean, hi: number, lo: number): number {
    const dv = this.dv;
    const le = this.le;
    let p = this.pos;
    if ((p & (this.hAlign - 1)) !== 0) p = (p + this.hAlign - 1) & -this.hAlign;
    const b = p >>> 3;
    if (!this.large) {
      if (!ext) {
        const t = lo & 0x7ffffff;
        dv.setUint32(b, le ? (id | (t << 5)) >>> 0 : ((id << 27) | t) >>> 0, le);
        return p + 32;
      }
      this.chunk[b] = le ? 31 : 0xf8;
      p += 5;
    } else {
      if (!ext) {
        dv.setUint16(b, id, le);
        p = alignUp(p + 16, this.u32Align);
        dv.setUint32(p >>> 3, lo, le);
        return p + 32;
      }
      dv.setUint16(b, 65535, le);
      p += 16;
    }
    p = alignUp(p, this.extAlign);
    dv.setUint32(p >>> 3, id, le);
    p = alignUp(p + 32, this.u64Align);
    const tb = p >>> 3;
    dv.setUint32(tb + (le ? 0 : 4), lo, le);
    dv.setUint32(tb + (le ? 4 : 0), hi, le);
    return p + 64;
  }

  /** An event class added while the packet was open needs more room past the limit. */
  private regrow(ts: number): void {
    if (this.inPacket > 0) this.closePacket(ts);
    else this.open = false;
    this.openPacket(ts);
  }

  private tooBig(): boolean {
    this.droppedTooBig++;
    this.discardedTotal++;
    return false;
  }

  /** Zeroes what a failed encode may have written past the content. */
  private wipeAfterContent(): void {
    const from = Math.ceil(this.pos / 8);
    this.chunk.fill(0, from, Math.min(this.chunk.length, (this.lim >>> 3) + this.slackBytes));
  }

  /** Reports `count` events lost (e.g. ftrace overruns); written in the next packet context. */
  discard(count: number): void {
    if (!(count >= 0) || !Number.isSafeInteger(count)) throw new WriterError(`bad discarded count ${count}`);
    this.discardedTotal += count;
  }

  private openPacket(ts: number): void {
    const slack = this.currentSlackBytes();
    if (this.chunkPos + this.capacity + slack > this.chunk.length) this.flushChunk();
    if (this.capacity + slack > this.chunk.length) {
      this.chunk = new Uint8Array(this.capacity + slack);
      this.dv = new DataView(this.chunk.buffer);
    }
    this.slackBytes = slack;
    this.pktStart = this.chunkPos;
    this.chunk.fill(0, this.pktStart, this.pktStart + this.capacity + slack);
    this.pos = this.pktStart * 8 + this.packet.bits;
    this.lim = (this.pktStart + this.capacity) * 8;
    this.beginTs = ts;
    this.inPacket = 0;
    this.open = true;
  }

  private abs(ts: number): number | bigint {
    if (this.base === 0n) return ts;
    const v = this.base + BigInt(ts);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private closePacket(endTs: number): void {
    const startBit = this.pktStart * 8;
    const contentBits = this.pos - startBit;
    const contentBytes = Math.ceil(contentBits / 8);
    const packetBytes = this.fixed ? this.capacity : Math.min(this.capacity, alignUp(contentBytes, PAGE));
    const pk = this.packet;
    const cv = pk.contextValues;
    const end = endTs > this.lastTs ? endTs : this.lastTs;
    const tsBegin = this.abs(this.beginTs);
    const tsEnd = this.abs(end);
    if (pk.idx.tsBegin >= 0) cv[pk.idx.tsBegin] = tsBegin;
    if (pk.idx.tsEnd >= 0) cv[pk.idx.tsEnd] = tsEnd;
    if (pk.idx.contentSize >= 0) cv[pk.idx.contentSize] = contentBits;
    if (pk.idx.packetSize >= 0) cv[pk.idx.packetSize] = packetBytes * 8;
    if (pk.idx.seqNum >= 0) cv[pk.idx.seqNum] = this.seq;
    if (pk.idx.discarded >= 0) cv[pk.idx.discarded] = this.discardedTotal;
    pk.encode(this.chunk, this.dv, startBit, startBit + pk.bits, pk.headerValues, cv);
    this.entries.push({
      offset: this.flushed + this.pktStart,
      packetSize: packetBytes * 8,
      contentSize: contentBits,
      timestampBegin: BigInt(tsBegin),
      timestampEnd: BigInt(tsEnd),
      eventsDiscarded: BigInt(this.discardedTotal),
      streamId: BigInt(this.streamClassId),
      streamInstanceId: BigInt(this.instanceId),
      packetSeqNum: BigInt(this.seq),
    });
    this.discardedWritten = this.discardedTotal;
    this.chunkPos = this.pktStart + packetBytes;
    this.seq++;
    this.packets++;
    this.open = false;
  }

  /**
   * Closes the current packet now (LTTng's switch timer / `lttng stop`), its end at `ts`
   * (default: the last event's time). With `empty`, writes a packet even if no event came since
   * the last one.
   */
  switchPacket(ts?: number, empty = false): void {
    if (this.closed) return;
    const t = ts === undefined || ts < this.lastTs ? this.lastTs : ts;
    if (this.open) {
      this.closePacket(t);
    } else if (empty) {
      this.openPacket(t);
      this.closePacket(t);
    }
  }

  private flushChunk(): void {
    if (this.chunkPos === 0 && this.entries.length === 0) return;
    this.beforeFlush();
    this.sink.writePackets(this.chunk.subarray(0, this.chunkPos), this.flushed, this.entries);
    this.flushed += this.chunkPos;
    this.chunkPos = 0;
    this.entries = [];
  }

  /** Sends the closed packets to the sink (the open one stays open). */
  flush(): void {
    if (this.closed) return;
    if (!this.open) {
      this.flushChunk();
      return;
    }
    if (this.pktStart === 0) return;
    const start = this.pktStart;
    this.chunkPos = start;
    this.flushChunk();
    const room = this.capacity + this.slackBytes;
    this.chunk.copyWithin(0, start, start + room);
    this.chunk.fill(0, room, start + room);
    this.pos -= start * 8;
    this.lim -= start * 8;
    this.pktStart = 0;
  }

  /**
   * Closes the open packet (end at `endTs`, default the last event's time), writes an empty
   * packet if the stream has none yet or if lost events were reported after the last packet,
   * flushes, and closes the sink. Synchronous.
   */
  close(endTs?: number): void {
    if (this.closed) return;
    const t = endTs === undefined || endTs < this.lastTs ? this.lastTs : endTs;
    if (this.open) this.closePacket(t);
    else if (this.packets === 0 || this.discardedTotal !== this.discardedWritten) this.switchPacket(t, true);
    this.flushChunk();
    this.closed = true;
    this.sink.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Time (cycles, relative) of the last event written. */
  get lastTimestamp(): number {
    return this.lastTs;
  }
}
