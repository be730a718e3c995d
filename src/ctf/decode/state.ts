/**
 * What generated decoders share with the reader at run time: the per-stream decode state, the
 * decoder signature, the "need more data" signal and the decoding fault (see compile.ts).
 */
import type { FieldValue } from '../event.js';

/** Thrown by a decoder that reached the end of its window before the end of the content. */
export const NEED_MORE: { readonly needMore: true } = Object.freeze({ needMore: true as const });

/** A decoding failure at bit `pos` of the current window. */
export class DecodeFault extends Error {
  readonly pos: number;
  constructor(pos: number, reason: string) {
    super(reason);
    this.pos = pos;
  }
}

/** Per-stream mutable state shared by all decoders of a stream. */
export class DecodeState {
  /** Current value of the stream's default clock, in cycles. */
  clk = 0;
  /** Event class id from the event header (-1: none in this header). */
  id = -1;
  /** Stored values: sequence lengths and variant tags, by slot. */
  sv: Array<number | bigint> = [];
  /**
   * Elements without data (of zero bits: empty structures, ...) decoded so far by the running
   * decoder: their number is bounded per call, nested arrays of them included.
   */
  zb = 0;
  /** True when the window end is the end of the packet content (no more data to ask for). */
  endIsContent = true;
  /** Packet-level meanings, -1 when absent (the reader resets them per packet). */
  magic = -1;
  streamClassId = -1;
  instanceId = -1;
  packetSize = -1;
  contentSize = -1;
  tsBegin = -1;
  tsEnd = -1;
  discarded = -1;
  seqNum = -1;

  resetPacket(): void {
    this.magic = -1;
    this.streamClassId = -1;
    this.instanceId = -1;
    this.packetSize = -1;
    this.contentSize = -1;
    this.tsBegin = -1;
    this.tsEnd = -1;
    this.discarded = -1;
    this.seqNum = -1;
  }
}

export type DecodeFn = (
  u8: Uint8Array,
  dv: DataView,
  pos: number,
  end: number,
  st: DecodeState,
  o0: FieldValue[] | null,
  o1?: FieldValue[] | null,
  o2?: FieldValue[] | null,
) => number;
