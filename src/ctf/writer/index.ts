/**
 * CTF 1.8 trace writer: LTTng-style traces that babeltrace2 and Trace Compass read.
 *
 * ```ts
 * import { TraceWriter, lttngLayout, lttngField, lttngSequence, u32, s32, s64, charArray, string } from '../ctf/writer/index.js';
 *
 * const tw = TraceWriter.create({
 *   dir: '/tmp/trace/kernel',                                // or `sink:` (relay, memory)
 *   layout: lttngLayout({ domain: 'kernel', hostname: 'box' }), // env, clock, headers, uuid
 *   packetSize: 1 << 20,                                      // LTTng sub-buffer size
 * });
 * // A channel: per-CPU streams `channel0_<cpu>`, with namespace contexts on every event.
 * tw.addStreamClass({ header: 'compact', context: [lttngField('pid_ns', u32()), lttngField('vtid', s32())] });
 * const sw = tw.addEventClass({ name: 'sched_switch', fields: [
 *   lttngField('prev_comm', charArray(16)), lttngField('prev_tid', s32()), lttngField('prev_state', s64()),
 * ]});
 * const cpu0 = tw.stream(0, 0);
 * const payload = ['bash', 1234, 0];          // reuse the arrays: no allocation per event
 * const ctx = [4026531836, 1234];
 * cpu0.write(sw, 1_000_000, payload, ctx);     // ts: clock cycles (ns) relative to `cyclesBase`
 * cpu0.discard(3);                             // lost events, reported in the packet context
 * tw.addEventClass({ name: 'late_event' });    // fine after packets were written (metadata appended)
 * tw.close();                                  // sync; flushes everything
 * ```
 *
 * Values (per field, in order): integers and enums as `number` (or `bigint` for 64-bit values
 * beyond 2^53; enums also take a label string), floats as `number`, strings and char arrays as
 * JS strings (UTF-8 encoded, or latin1 byte strings with `strings: 'latin1'`), byte arrays and
 * sequences as `Uint8Array` or `number[]`, structs/arrays/sequences as arrays, variants as
 * `{ option: index | name, value }`. Sequence length fields and variant tags are filled in by
 * the writer (the values given for them are ignored / kept only if consistent). Missing values
 * encode as 0 / empty.
 *
 * Names are TSDL identifiers used verbatim (LTTng's are `_`-prefixed: use `lttngField()`).
 *
 * Modules: `types.ts` (field-class helpers), `layout.ts` (LTTng layouts), `metadata.ts` (TSDL
 * emitter, packetized metadata), `encoder.ts` (compiled encoders), `stream.ts` (packet
 * builder), `trace.ts` (trace writer), `sink.ts` (directory / memory / custom output).
 */
export { TraceWriter } from './trace.js';
export type { TraceWriterOptions, StreamClassSpec, EventClassSpec, StreamOptions } from './trace.js';
export { StreamWriter, CTF_MAGIC } from './stream.js';
export type { EventClassWriter } from './stream-plan.js';
export { lttngLayout, lttngDatetime, parseUuid, randomUuid, monotonicOffsetNs } from './layout.js';
export type { TraceLayout, LttngLayoutOptions, ClockOptions, HeaderKind } from './layout.js';
export { DirectorySink, MemorySink } from './sink.js';
export type { TraceSink, StreamSink, StreamSinkInfo } from './sink.js';
export {
  emitTsdl,
  packetizeMetadata,
  TsdlPrinter,
  tsdlString,
  uuidString,
  METADATA_PACKET_MAGIC,
  METADATA_PACKET_HEADER_SIZE,
  METADATA_PACKET_SIZE,
  METADATA_SIGNATURE,
} from './metadata.js';
export type { EmitStyle, TypeAlias, NamedStruct } from './metadata.js';
export { compileEncoder, fixedSize } from './encoder.js';
export type { CompiledEncoder, EncodeFn, ScopeInput, CompileOptions } from './encoder.js';
export type { WValue, WVariant, Values } from './encode-helpers.js';
// Every field-class helper (int, u32, string, struct, sequence, lttngField, ...).
export * from './types.js';
