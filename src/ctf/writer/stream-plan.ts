/**
 * What a `StreamWriter` (stream.ts) is built from and writes with: a compiled event class, the
 * plan of the packet header and context, and the stream's settings from the trace writer.
 */
import type { EventClass } from '../ir.js';
import type { EncodeFn } from './encoder.js';
import type { WValue } from './encode-helpers.js';
import type { HeaderKind } from './layout.js';
import type { StreamSink } from './sink.js';

/** A compiled event class, returned by `TraceWriter.addEventClass()`; pass it to `StreamWriter.write()`. */
export interface EventClassWriter {
  readonly id: number;
  readonly name: string;
  readonly streamClassId: number;
  readonly cls: EventClass;
  /** Generated encoder of the stream event context, event context and payload. */
  readonly encode: EncodeFn;
  /** Room (bits) its encoder may write past the packet limit before noticing. */
  readonly slackBits: number;
}

/** How the packet header/context values are filled, computed once per stream. */
export interface PacketPlan {
  /** Encoder of [trace.packet.header, stream.packet.context]. */
  readonly encode: EncodeFn;
  /** Size in bits of header + context (fixed). */
  readonly bits: number;
  readonly headerValues: WValue[];
  readonly contextValues: WValue[];
  /** Indexes into contextValues, -1 when absent. */
  readonly idx: {
    readonly tsBegin: number;
    readonly tsEnd: number;
    readonly contentSize: number;
    readonly packetSize: number;
    readonly seqNum: number;
    readonly discarded: number;
  };
}

export interface StreamWriterInit {
  readonly name: string;
  readonly streamClassId: number;
  readonly instanceId: number;
  readonly sink: StreamSink;
  readonly header: HeaderKind;
  readonly byteOrder: 'le' | 'be';
  readonly align: {
    readonly u16: number;
    readonly u32: number;
    readonly u64: number;
    readonly header: number;
  };
  readonly packet: PacketPlan;
  /** Encoder of the stream event context alone (for `beginRaw()`). */
  readonly contextEncode: EncodeFn;
  /**
   * Fixed byte layout of the stream event context (size, alignment in bits), for
   * `beginRawBytes()`; undefined when it has none (strings, sequences, bit fields).
   */
  readonly contextBytes?: { readonly bytes: number; readonly align: number } | undefined;
  /** Bytes of room for events per packet (header and context included). */
  readonly capacity: number;
  readonly fixedPacketSize: boolean;
  readonly chunkSize: number;
  /** Timestamps given to `write()` are cycles relative to this. */
  readonly cyclesBase: bigint;
  /** Current largest encoder slack in bits (grows when event classes are added). */
  readonly slackBits: () => number;
  /** Called before stream bytes go to the sink (the trace flushes pending metadata). */
  readonly beforeFlush: () => void;
}
