/**
 * What a packet's header and context say, outside the per-event path: the packet and content
 * sizes (`packetSizes`, for the stream cursor) and the stream of the first packet of a stream
 * file (`firstPacketProps`, for grouping files when a trace is opened).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { TraceFormatError } from '../util/errors.js';
import type { FieldValue } from './event.js';
import { DecodeFault, type DecodeFn, DecodeState, NEED_MORE } from './decode/state.js';
import type { TracePlan } from './decode/plan.js';

/** Quirks of the tracer that wrote a trace, for the stream cursors (`StreamCursor`). */
export interface TracerQuirks {
  /** lttng-ust/modules: a packet whose timestamp_end is 0 does not move the clock. */
  lttngCrash: boolean;
  /** Old LTTng tracers wrote events after timestamp_end: such an end does not move the clock. */
  lttngEventAfterPacket: boolean;
}

/** A packet's counters and clock values, as a stream cursor compares them with the previous packet's. */
export interface Snapshots {
  discarded: number;
  seq: number;
  beginClk: number;
  endClk: number;
}

/** A loss between two packets of a stream, between two clock values (-1: unknown). */
export interface PacketLoss {
  readonly kind: 'discarded-events' | 'discarded-packets';
  /** Undefined when unknown. */
  readonly count: number | undefined;
  readonly b: number;
  readonly e: number;
}

/**
 * The losses a packet's counters (`cur`) report after the stream's previous packet (`prev`),
 * with babeltrace2's semantics. Discarded events: from the end of the previous packet to the
 * end of this one; for the first packet, only when its counter is already non-zero, over this
 * packet's own range and with an unknown count. Discarded packets: a gap in sequence numbers,
 * from the end of the previous packet to the beginning of this one.
 */
export function lossesBetween(
  prev: Snapshots,
  cur: Snapshots,
  hasDiscardedEvents: boolean,
  hasSeqNum: boolean,
): PacketLoss[] {
  const out: PacketLoss[] = [];
  if (hasDiscardedEvents && cur.discarded >= 0) {
    if (prev.discarded < 0) {
      if (cur.discarded !== 0) {
        out.push({ kind: 'discarded-events', count: undefined, b: cur.beginClk, e: cur.endClk });
      }
    } else if (cur.discarded !== prev.discarded) {
      let count = cur.discarded - prev.discarded;
      if (count < 0) count += 2 ** 64;
      out.push({ kind: 'discarded-events', count, b: prev.endClk, e: cur.endClk });
    }
  }
  if (hasSeqNum && prev.seq >= 0 && cur.seq >= 0 && cur.seq - prev.seq > 1) {
    out.push({ kind: 'discarded-packets', count: cur.seq - prev.seq - 1, b: prev.endClk, e: cur.beginClk });
  }
  return out;
}

export const CTF_MAGIC = 0xc1fc1fc1;
/** Packets larger than this are refused (positions are kept in 32-bit bit counts). */
export const MAX_PACKET_BYTES = 256 * 1024 * 1024 - 1;
/** Bytes past the end of a window buffer, for reads of a few bytes beyond the last field. */
export const SLACK = 16;

/**
 * Packet and content sizes in bits from the packet context's `packet_size` / `content_size`
 * (-1: absent), as babeltrace2 reads them, or why the packet is invalid. `headerBits`: end of
 * the header and context; `bytesLeft`: file bytes from the packet start.
 */
export function packetSizes(
  packetSize: number,
  contentSize: number,
  headerBits: number,
  bytesLeft: number,
): { packetBits: number; contentBits: number } | string {
  let packetBits = packetSize;
  let contentBits = contentSize;
  if (packetBits < 0 && contentBits >= 0) packetBits = contentBits;
  if (contentBits < 0 && packetBits >= 0) contentBits = packetBits;
  if (packetBits < 0) {
    packetBits = bytesLeft * 8;
    contentBits = packetBits;
  }
  if (contentBits > packetBits)
    return `content size (${contentBits} bits) is larger than packet size (${packetBits} bits)`;
  if (packetBits % 8 !== 0) return `packet size ${packetBits} bits is not a whole number of bytes`;
  if (packetBits / 8 > MAX_PACKET_BYTES) return `packet size ${packetBits / 8} bytes is too large`;
  if (packetBits / 8 > bytesLeft)
    return `truncated packet: packet size is ${packetBits / 8} bytes but the file has only ${bytesLeft} bytes left`;
  if (headerBits > contentBits)
    return `packet header and context (${headerBits} bits) exceed the content size (${contentBits} bits)`;
  if (packetBits === 0) return 'packet of size 0';
  return { packetBits, contentBits };
}

/** Reads the header and context of the first packet of a stream file (for grouping files). */
export function firstPacketProps(
  plan: TracePlan,
  path: string,
  size: number,
): { streamClassId: number; instanceId: number; beginClk: number } {
  // A throwaway cursor over a fake stream of the first matching class.
  const st = new DecodeState();
  const fd = openSync(path, 'r');
  try {
    const want = Math.min(size, 65536);
    const buf = Buffer.alloc(want + SLACK);
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, got);
      if (n === 0) break;
      got += n;
    }
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    st.endIsContent = got >= size;
    const runOnce = (fn: DecodeFn, start: number, out: FieldValue[]): number => {
      try {
        return fn(buf, dv, start, got * 8, st, out);
      } catch (e) {
        if (e === NEED_MORE)
          throw new TraceFormatError(path, 0, 'packet header and context do not fit in 64 KiB');
        if (e instanceof DecodeFault) throw new TraceFormatError(path, Math.floor(e.pos / 8), e.message);
        throw e;
      }
    };
    let p = 0;
    if (plan.packetHeaderFn)
      p = runOnce(plan.packetHeaderFn, p, new Array<FieldValue>(plan.cls.packetHeader!.fields.length));
    if (st.magic !== -1 && st.magic !== CTF_MAGIC) {
      throw new TraceFormatError(
        path,
        0,
        `bad packet magic 0x${st.magic.toString(16)} (expected 0xc1fc1fc1)`,
      );
    }
    let scId = st.streamClassId;
    if (scId === -1) {
      if (plan.streams.size !== 1) {
        throw new TraceFormatError(
          path,
          0,
          'packet header has no stream_id but the trace has several stream classes',
        );
      }
      scId = [...plan.streams.keys()][0]!;
    }
    const sp = plan.streams.get(scId);
    if (sp === undefined) throw new TraceFormatError(path, 0, `unknown stream class id ${scId}`);
    if (sp.packetContextFn)
      runOnce(sp.packetContextFn, p, new Array<FieldValue>(sp.sc.packetContext!.fields.length));
    return { streamClassId: scId, instanceId: st.instanceId, beginClk: st.tsBegin };
  } finally {
    closeSync(fd);
  }
}
