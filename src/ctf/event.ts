/**
 * What the CTF reader hands to its consumers (text printer, filter, model, analyses).
 *
 * Records are reused: an `EventRecord` and the value arrays it points to are valid until the
 * next call to the iterator that produced it. Copy what you keep. Strings are immutable and can
 * be kept.
 */
import type { ClockClass, EventClass, StreamClass, TraceClass } from './ir.js';

/**
 * A decoded field value:
 * - integer and enum: `number`, or `bigint` when the value does not fit in a double exactly
 *   (|v| > Number.MAX_SAFE_INTEGER); enums carry their integer value, labels come from the class
 * - float: `number`
 * - string, and arrays/sequences of 8-bit integers with a text encoding: `string` (up to the
 *   first NUL, as babeltrace2 shows them). These are *byte strings*: one char per byte
 *   (latin1), so that any bytes, valid UTF-8 or not, survive to the output exactly as
 *   babeltrace2 writes them. Write them out with the 'latin1' encoding; turn them into text with
 *   `byteStringToText()` (UTF-8 decoding) before showing them in JSON or comparing them with
 *   user text (`textToByteString()` goes the other way).
 * - struct, array, sequence: `FieldValue[]` (struct values in field order)
 * - variant: `VariantValue`
 */
export type FieldValue = number | bigint | string | FieldValue[] | VariantValue;

export interface VariantValue {
  /** Index of the selected option in the variant class's `options`. */
  readonly option: number;
  readonly value: FieldValue;
}

/** One trace: a directory with a `metadata` file and its stream files. */
export interface Trace {
  /** Directory of the trace. */
  readonly path: string;
  /**
   * Trace name as babeltrace2 shows it (the path relative to the common input directory, or
   * `hostname/path` style names for LTTng traces; see the reader).
   */
  readonly name: string;
  readonly cls: TraceClass;
  /** Path of the metadata file. */
  readonly metadataPath: string;
  /** ns added to the clock offset by the reader (`OpenOptions.clockShiftNs`), when not 0. */
  readonly clockShiftNs?: bigint;
}

/** One data stream (one or more files for the same stream, e.g. with tracefile rotation). */
export interface StreamInstance {
  readonly trace: Trace;
  readonly streamClass: StreamClass;
  /** `stream_instance_id` from the packet header, if any. */
  readonly instanceId: number | undefined;
  /**
   * babeltrace2's stream id: `instanceId` when the packets have one (and timestamps), else a
   * counter per trace in the order the stream files were found.
   */
  readonly id: number;
  /** Stream files in reading order. */
  readonly files: readonly string[];
  /** Default clock class of the stream class (the one the event timestamps map to). */
  readonly clock: ClockClass | undefined;
  /** Unique small integer over the whole trace set (for tables indexed by stream). */
  readonly index: number;
}

export interface PacketInfo {
  readonly stream: StreamInstance;
  readonly file: string;
  /** Byte offset of the packet in `file`. */
  readonly offset: number;
  /** Bits. */
  readonly packetSize: number;
  /** Bits. */
  readonly contentSize: number;
  readonly header: FieldValue[] | undefined;
  readonly context: FieldValue[] | undefined;
  /** `timestamp_begin` / `timestamp_end`, clock cycles, when the packet context has them. */
  readonly beginCycles: number | undefined;
  readonly endCycles: number | undefined;
  /** Same in ns relative to the trace set's time base. */
  readonly beginTs: number | undefined;
  readonly endTs: number | undefined;
  /** `events_discarded` counter snapshot (cumulative per stream, as LTTng writes it). */
  readonly discardedEventsCounter: number | undefined;
  readonly seqNum: number | undefined;
}

export interface EventRecord {
  readonly kind: 'event';
  eventClass: EventClass;
  /**
   * Dense index of this event class over the whole trace set (0..TraceSet.eventClassCount-1),
   * for dispatch tables: `handlers[rec.classKey]`.
   */
  classKey: number;
  stream: StreamInstance;
  packet: PacketInfo;
  /** Value of the stream's default clock, in cycles (exact below 2^53). */
  cycles: number;
  /** Nanoseconds relative to the trace set's `TimeBase`. */
  ts: number;
  header: FieldValue[] | undefined;
  streamContext: FieldValue[] | undefined;
  /**
   * Changes whenever the stream event context of this record's stream differs from the previous
   * record's of the same stream (when the reader knows; undefined otherwise): consumers that
   * only react to context changes can skip records with the version they last saw.
   */
  streamContextVersion?: number;
  /**
   * When the reader skipped events of this record's stream since the previous record it gave
   * out of that stream (quiet skipping: `TraceSet.setQuiet`), the time of the last of them;
   * NaN or undefined otherwise. They had the stream event context of that previous record.
   */
  quietBefore?: number;
  context: FieldValue[] | undefined;
  payload: FieldValue[] | undefined;
}

/**
 * A record to fill in place, before its first event (the reader reuses one per trace set): one
 * literal, so every such record has the same shape.
 */
export function blankEventRecord(): EventRecord {
  return {
    kind: 'event',
    eventClass: undefined as unknown as EventClass,
    classKey: 0,
    stream: undefined as unknown as StreamInstance,
    packet: undefined as unknown as EventRecord['packet'],
    cycles: 0,
    ts: 0,
    header: undefined,
    streamContext: undefined,
    streamContextVersion: undefined,
    quietBefore: Number.NaN,
    context: undefined,
    payload: undefined,
  };
}

/**
 * Events or packets the tracer reported lost, placed in time order between the events, the way
 * babeltrace2 reports them: from the end of the previous packet to the end of this one.
 */
export interface DiscardedRecord {
  readonly kind: 'discarded-events' | 'discarded-packets';
  readonly stream: StreamInstance;
  /** The packet the loss was noticed at. */
  readonly packet: PacketInfo;
  /** Undefined when unknown (the first packet of a stream already reports losses). */
  readonly count: number | undefined;
  /** Time range (ns relative to the time base), when the packets have timestamps. */
  readonly beginTs: number | undefined;
  readonly endTs: number | undefined;
  readonly beginCycles: number | undefined;
  readonly endCycles: number | undefined;
  /** Time the muxer orders this record by. */
  readonly ts: number;
}

export type TraceRecord = EventRecord | DiscardedRecord;

/**
 * Absolute time of ts = 0 for a trace set, as whole `seconds` since the clock origin plus `ns`
 * (0 <= ns < 1e9). Absolute ns = seconds * 1e9 + ns + ts; use `absoluteNs()` at the edges.
 */
export interface TimeBase {
  readonly seconds: number;
  readonly ns: number;
}

/** Exact absolute nanoseconds from origin of a relative `ts` (edge use only: allocates a BigInt). */
export function absoluteNs(base: TimeBase, ts: number): bigint {
  return BigInt(base.seconds) * 1_000_000_000n + BigInt(base.ns) + BigInt(ts);
}

/**
 * Splits a relative `ts` into whole seconds and nanoseconds from origin without BigInt:
 * returns [seconds, ns] with 0 <= ns < 1e9.
 */
export function splitTs(base: TimeBase, ts: number): [number, number] {
  const total = base.ns + ts;
  let sec = Math.floor(total / 1e9);
  let ns = total - sec * 1e9;
  if (ns < 0) {
    ns += 1e9;
    sec -= 1;
  } else if (ns >= 1e9) {
    ns -= 1e9;
    sec += 1;
  }
  return [base.seconds + sec, ns];
}

/** UTF-8 text of a byte string (see `FieldValue`). */
export function byteStringToText(s: string): string {
  // Fast path: pure ASCII is the same in both.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'latin1').toString('utf8');
  }
  return s;
}

/** Byte string (see `FieldValue`) of a text: its UTF-8 bytes, one char per byte. */
export function textToByteString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}
