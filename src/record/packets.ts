/**
 * Per-CPU CTF packet streams in the layout lttng-modules writes for a kernel channel:
 * trace packet header `{ magic, uuid, stream_id, stream_instance_id }`, packet context
 * `{ timestamp_begin, timestamp_end, content_size, packet_size, packet_seq_num,
 * events_discarded, cpu_id }`, compact event headers (5-bit id + 27-bit timestamp, or id 31
 * followed by a 32-bit id and a 64-bit timestamp), fixed-size packets padded with zeros, and
 * an LTTng index entry per packet.
 *
 * The recorder's converters write events straight into the current packet buffer (`buf`,
 * `view`, `pos`): no per-event allocation, one write(2) per packet. Where packets go is a
 * {@link PacketSink}: files by default; a relay client can provide its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { encodeIndexEntry, encodeIndexHeader } from '../ctf/index-file.js';

export const CTF_MAGIC = 0xc1fc1fc1;
/** Bytes of packet header (32) + packet context (52) in the LTTng kernel layout. */
export const PACKET_PREAMBLE = 84;
const TWO32 = 4294967296;
const TWO27 = 134217728;

/** Where finished packets go. */
export interface PacketSink {
  /** A whole packet (`bytes.length` = packet size) and its index entry fields. */
  packet(stream: PacketStream, bytes: Uint8Array, info: PacketInfoOut): void;
  close(stream: PacketStream): void;
}

export interface PacketInfoOut {
  offset: number;
  packetSizeBits: number;
  contentSizeBits: number;
  beginHi: number;
  beginLo: number;
  endHi: number;
  endLo: number;
  discarded: number;
  seq: number;
}

/** Writes `channel0_<cpu>` files and `index/channel0_<cpu>.idx` like lttng-consumerd. */
export class FileSink implements PacketSink {
  private readonly fds = new Map<PacketStream, { data: number; idx: number; off: number }>();

  constructor(readonly dir: string) {
    fs.mkdirSync(path.join(dir, 'index'), { recursive: true });
  }

  private open(s: PacketStream): { data: number; idx: number; off: number } {
    let f = this.fds.get(s);
    if (!f) {
      const data = fs.openSync(path.join(this.dir, s.name), 'w');
      const idx = fs.openSync(path.join(this.dir, 'index', `${s.name}.idx`), 'w');
      fs.writeSync(idx, encodeIndexHeader(1));
      f = { data, idx, off: 0 };
      this.fds.set(s, f);
    }
    return f;
  }

  /** Creates the (empty) files of a stream that may never get a packet. */
  touch(s: PacketStream): void {
    this.open(s);
  }

  packet(s: PacketStream, bytes: Uint8Array, info: PacketInfoOut): void {
    const f = this.open(s);
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(f.data, bytes, done, bytes.length - done);
    const e = encodeIndexEntry(
      {
        offset: f.off,
        packetSize: info.packetSizeBits,
        contentSize: info.contentSizeBits,
        timestampBegin: (BigInt(info.beginHi) << 32n) | BigInt(info.beginLo),
        timestampEnd: (BigInt(info.endHi) << 32n) | BigInt(info.endLo),
        eventsDiscarded: BigInt(info.discarded),
        streamId: BigInt(s.streamId),
        streamInstanceId: BigInt(s.instanceId),
        packetSeqNum: BigInt(info.seq),
      },
      1,
    );
    fs.writeSync(f.idx, e);
    f.off += bytes.length;
  }

  close(s: PacketStream): void {
    const f = this.fds.get(s);
    if (!f) return;
    fs.closeSync(f.data);
    fs.closeSync(f.idx);
    this.fds.delete(s);
  }
}

export interface PacketStreamOptions {
  name: string;
  streamId: number;
  instanceId: number;
  cpuId: number;
  packetSize: number;
  uuid: Uint8Array;
  /** High 32 bits of the clock base; relative timestamps are added to baseHi * 2^32. */
  baseHi: number;
  sink: PacketSink;
}

export class PacketStream {
  readonly name: string;
  readonly streamId: number;
  readonly instanceId: number;
  readonly cpuId: number;
  readonly packetSize: number;
  buf: Uint8Array;
  view: DataView;
  /** Next write position. */
  pos = PACKET_PREAMBLE;
  /** Last position an event may end at. */
  readonly limit: number;
  /** Timestamp (relative ns) of the previous event, for compact headers. */
  lastTs = 0;
  /** Packet open and at least one event in it. */
  private open = false;
  private beginTs = 0;
  /** Sequence number of the open packet (incremented when it closes). */
  seq = 0;
  /** Cumulative lost events (written in every packet context). */
  discarded = 0;
  private discardedWritten = 0;
  events = 0;
  packets = 0;
  bytes = 0;
  private readonly baseHi: number;
  private readonly sink: PacketSink;
  private readonly uuid: Uint8Array;

  constructor(o: PacketStreamOptions) {
    this.name = o.name;
    this.streamId = o.streamId;
    this.instanceId = o.instanceId;
    this.cpuId = o.cpuId;
    this.packetSize = o.packetSize;
    this.buf = new Uint8Array(o.packetSize);
    this.view = new DataView(this.buf.buffer);
    this.limit = o.packetSize;
    this.baseHi = o.baseHi;
    this.sink = o.sink;
    this.uuid = o.uuid;
  }

  private writeAbs(off: number, rel: number): void {
    const v = this.view;
    v.setUint32(off, rel % TWO32, true);
    v.setUint32(off + 4, this.baseHi + Math.floor(rel / TWO32), true);
  }

  private openPacket(ts: number): void {
    const b = this.buf;
    b.fill(0);
    const v = this.view;
    v.setUint32(0, CTF_MAGIC, true);
    b.set(this.uuid, 4);
    v.setUint32(20, this.streamId, true);
    v.setUint32(24, this.instanceId % TWO32, true);
    v.setUint32(28, Math.floor(this.instanceId / TWO32), true);
    this.pos = PACKET_PREAMBLE;
    this.beginTs = ts;
    this.lastTs = ts;
    this.open = true;
  }

  /**
   * Makes room for an event of at most `maxLen` bytes (header included) at time `ts`; returns
   * the position to write at (closing the current packet and opening a new one if needed).
   */
  reserve(ts: number, maxLen: number): number {
    if (!this.open) this.openPacket(ts);
    else if (this.pos + maxLen > this.limit) {
      this.closePacket(this.lastTs);
      this.openPacket(ts);
    }
    if (maxLen > this.limit - PACKET_PREAMBLE) {
      throw new RangeError(`event of up to ${maxLen} bytes does not fit a ${this.packetSize}-byte packet`);
    }
    return this.pos;
  }

  /** Writes an event header at `o` for class `id` at `ts`; returns the position after it. */
  header(o: number, id: number, ts: number): number {
    const v = this.view;
    if (id < 31 && ts - this.lastTs < TWO27 && ts >= this.lastTs) {
      v.setUint32(o, (id | ((ts % TWO27) << 5)) >>> 0, true);
      this.lastTs = ts;
      return o + 4;
    }
    this.buf[o] = 31;
    v.setUint32(o + 1, id, true);
    this.writeAbs(o + 5, ts);
    this.lastTs = ts;
    return o + 13;
  }

  /** Closes the current packet (if any event is in it) with `timestamp_end` = `endTs`. */
  closePacket(endTs: number): void {
    if (!this.open) return;
    const v = this.view;
    const end = Math.max(endTs, this.lastTs);
    this.writeAbs(32, this.beginTs);
    this.writeAbs(40, end);
    const contentBits = this.pos * 8;
    v.setUint32(48, contentBits % TWO32, true);
    v.setUint32(52, Math.floor(contentBits / TWO32), true);
    const packetBits = this.packetSize * 8;
    v.setUint32(56, packetBits % TWO32, true);
    v.setUint32(60, Math.floor(packetBits / TWO32), true);
    v.setUint32(64, this.seq % TWO32, true);
    v.setUint32(68, Math.floor(this.seq / TWO32), true);
    v.setUint32(72, this.discarded % TWO32, true);
    v.setUint32(76, Math.floor(this.discarded / TWO32), true);
    v.setUint32(80, this.cpuId, true);
    // Zero the unused tail (the buffer was cleared at open; events never write past pos).
    this.sink.packet(this, this.buf, {
      offset: 0,
      packetSizeBits: packetBits,
      contentSizeBits: contentBits,
      beginHi: this.baseHi + Math.floor(this.beginTs / TWO32),
      beginLo: this.beginTs % TWO32,
      endHi: this.baseHi + Math.floor(end / TWO32),
      endLo: end % TWO32,
      discarded: this.discarded,
      seq: this.seq,
    });
    this.discardedWritten = this.discarded;
    this.seq++;
    this.packets++;
    this.bytes += this.packetSize;
    this.open = false;
  }

  /** True when a packet is open with events in it. */
  get hasOpenPacket(): boolean {
    return this.open;
  }

  /**
   * Ends the stream. LTTng writes at least one packet per stream; a stream that never got an
   * event gets an empty packet so that readers see its lost-event counter and time range.
   */
  finish(endTs: number, startTs: number): void {
    if (!this.open && (this.packets === 0 || this.discarded !== this.discardedWritten)) {
      this.openPacket(this.packets === 0 ? startTs : Math.max(endTs, this.lastTs));
    }
    this.closePacket(endTs);
    this.sink.close(this);
  }
}
