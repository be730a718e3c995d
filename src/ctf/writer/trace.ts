/**
 * `TraceWriter`: one CTF 1.8 trace (an LTTng-style trace directory, or any `TraceSink`).
 *
 * It owns the trace class (IR), prints its metadata (appending stream and event classes added
 * later, as LTTng does, and handing the new bytes to the sink), compiles one encoder per event
 * class, and creates the per-stream packet builders (`StreamWriter`).
 */
import type { ClockClass, EventClass, NamedField, StreamClass, StructFC, TraceClass } from '../ir.js';
import { WriterError } from '../../util/errors.js';
import { compileEncoder, fixedSize } from './encoder.js';
import type { EncodeFn } from './encoder.js';
import type { WValue } from './encode-helpers.js';
import type { HeaderKind, TraceLayout } from './layout.js';
import { packetizeMetadata, TsdlPrinter, METADATA_SIGNATURE, METADATA_PACKET_SIZE } from './metadata.js';
import { DirectorySink } from './sink.js';
import type { TraceSink } from './sink.js';
import { CTF_MAGIC, StreamWriter } from './stream.js';
import type { EventClassWriter, PacketPlan } from './stream-plan.js';
import { resolveNativeByteOrder, resolveRefs, struct } from './types.js';

export interface TraceWriterOptions {
  /** LTTng layout (`lttngLayout()`): byte order, uuid, env, clock, headers. */
  readonly layout: TraceLayout;
  /** Output directory (created; must be empty or absent unless `overwrite`). Either this or `sink`. */
  readonly dir?: string;
  /** Remove an existing non-empty output directory first. */
  readonly overwrite?: boolean;
  readonly sink?: TraceSink;
  /**
   * Room of a packet in bytes (LTTng's sub-buffer size), multiple of 8; default 1 MiB. Packets
   * are written with `packet_size` rounded up to a page (4096) past their content, as LTTng
   * does, unless `fixedPacketSize`.
   */
  readonly packetSize?: number;
  readonly fixedPacketSize?: boolean;
  /** `packetized` (default, like LTTng) or `text` metadata. */
  readonly metadata?: 'packetized' | 'text';
  /** Write `index/<stream>.idx` files (default true; directory output only). */
  readonly index?: boolean;
  /** How JS strings become bytes: `utf8` (default) or `latin1` byte strings (the reader's form). */
  readonly strings?: 'utf8' | 'latin1';
  /** Event timestamps are cycles relative to this (default 0). Lets callers keep small numbers. */
  readonly cyclesBase?: bigint;
  /** Output buffer per stream in bytes (default max(2 MiB, 2 x packet size)). */
  readonly chunkSize?: number;
}

export interface StreamClassSpec {
  /** Default: the next free id. */
  readonly id?: number;
  /** Stream file prefix; files are `<channel>_<instance>` (default `channel<id>`, LTTng's `channel0`). */
  readonly channel?: string;
  /** Event header (default compact, LTTng's default for kernel and UST channels... large for UST per-uid). */
  readonly header?: HeaderKind;
  /** Channel contexts: the stream event context fields, e.g. `lttngField('pid_ns', u32())`. */
  readonly context?: readonly NamedField[] | StructFC;
}

export interface EventClassSpec {
  readonly name: string;
  /** Default: the first stream class. */
  readonly streamClassId?: number;
  /** Default: the next free id in the stream class. */
  readonly id?: number;
  readonly fields?: readonly NamedField[] | StructFC;
  readonly context?: readonly NamedField[] | StructFC;
  readonly logLevel?: number;
  readonly emfUri?: string;
}

export interface StreamOptions {
  /** File name; default `<channel>_<instance>`. */
  readonly name?: string;
  /** `cpu_id` in the packet context (default: the instance id, as for LTTng per-CPU buffers). */
  readonly cpuId?: number;
  /** Values of packet-context fields the writer does not fill itself, by name. */
  readonly packetContext?: Readonly<Record<string, WValue>>;
}

interface StreamClassState {
  cls: StreamClass;
  contextEncode: EncodeFn;
  /** Byte layout of the stream event context for `beginRawBytes()`, when it has a fixed one. */
  contextBytes: { bytes: number; align: number } | undefined;
  events: Map<number, EventClass>;
  header: HeaderKind;
  channel: string;
  nextId: number;
}

/**
 * Size in bytes and alignment in bits of a stream event context whose encoding is the same
 * wherever it starts (fixed-size fields, whole bytes, no byte-order dependent packing beyond
 * the struct's own alignment); undefined otherwise. No context is 0 bytes.
 */
function fixedByteLayout(ctx: StructFC | undefined): { bytes: number; align: number } | undefined {
  if (ctx === undefined) return { bytes: 0, align: 8 };
  const bits = fixedSize(ctx);
  if (bits < 0 || bits % 8 !== 0 || ctx.align % 8 !== 0) return undefined;
  return { bytes: bits / 8, align: Math.max(8, ctx.align) };
}

function toStruct(x: readonly NamedField[] | StructFC | undefined): StructFC | undefined {
  if (x === undefined) return undefined;
  if (!Array.isArray(x) && (x as StructFC).kind === 'struct') return x as StructFC;
  return struct(x as readonly NamedField[]);
}

function maxAlign(fc: StructFC | undefined): number {
  return fc === undefined ? 1 : fc.align;
}

export class TraceWriter {
  readonly layout: TraceLayout;
  readonly sink: TraceSink;
  readonly packetized: boolean;

  readonly #opts: TraceWriterOptions;
  readonly #printer: TsdlPrinter;
  readonly #streamClasses = new Map<number, StreamClass>();
  readonly #state = new Map<number, StreamClassState>();
  readonly #streams = new Map<string, StreamWriter>();
  readonly #writers: EventClassWriter[] = [];
  readonly #cls: TraceClass;
  readonly #capacity: number;
  #slackBits = 0;
  #metaText = '';
  #pending = '';
  #closed = false;

  private constructor(o: TraceWriterOptions) {
    this.#opts = o;
    this.layout = o.layout;
    this.packetized = (o.metadata ?? 'packetized') === 'packetized';
    this.#capacity = o.packetSize ?? 1 << 20;
    if (
      !Number.isInteger(this.#capacity) ||
      this.#capacity % 8 !== 0 ||
      this.#capacity < 512 ||
      this.#capacity > 1 << 26
    ) {
      throw new WriterError(`packet size ${this.#capacity} must be a multiple of 8 between 512 and 64 MiB`);
    }
    if (o.sink !== undefined) this.sink = o.sink;
    else if (o.dir !== undefined)
      this.sink = new DirectorySink(o.dir, { index: o.index ?? true, overwrite: o.overwrite ?? false });
    else throw new WriterError('give an output directory or a sink');
    const L = o.layout;
    const clocks = new Map<string, ClockClass>([[L.clock.name, L.clock]]);
    this.#cls = {
      major: 1,
      minor: 8,
      byteOrder: L.byteOrder,
      uuid: L.uuid,
      packetHeader: L.packetHeader,
      env: L.env,
      clocks,
      streamClasses: this.#streamClasses,
      callsites: [],
    };
    this.#printer = new TsdlPrinter(L.byteOrder, L.style);
    const signature = !this.packetized || L.signatureWhenPacketized;
    this.#pending = this.#printer.preamble(this.#cls, false);
    if (signature) this.#pending = METADATA_SIGNATURE + this.#pending;
  }

  /** Creates a trace writer (and its output directory). */
  static create(o: TraceWriterOptions): TraceWriter {
    return new TraceWriter(o);
  }

  /** The trace class as it stands (live: grows with added classes). */
  get traceClass(): TraceClass {
    return this.#cls;
  }

  /** All metadata text so far, including what is not yet flushed to the sink. */
  get metadataText(): string {
    return this.#metaText + this.#pending;
  }

  /** Adds a stream class (an LTTng channel). */
  addStreamClass(spec: StreamClassSpec = {}): StreamClass {
    this.#checkOpen();
    const L = this.layout;
    const id = spec.id ?? (this.#streamClasses.size === 0 ? 0 : Math.max(...this.#streamClasses.keys()) + 1);
    if (this.#streamClasses.has(id)) throw new WriterError(`stream class ${id} already exists`);
    const header = spec.header ?? 'compact';
    let ctx = toStruct(spec.context);
    if (ctx !== undefined) {
      ctx = resolveNativeByteOrder(ctx, L.byteOrder);
      ctx = resolveRefs(ctx, 'stream.event.context', {
        'trace.packet.header': L.packetHeader,
        'stream.packet.context': L.packetContext,
        'stream.event.header': L.eventHeaders[header],
      });
      if (ctx.fields.length === 0) ctx = undefined;
    }
    this.#checkAlign(ctx);
    const events = new Map<number, EventClass>();
    const cls: StreamClass = {
      id,
      packetContext: L.packetContext,
      eventHeader: L.eventHeaders[header],
      ...(ctx !== undefined ? { eventContext: ctx } : {}),
      eventClasses: events,
    };
    this.#streamClasses.set(id, cls);
    const contextEncode = compileEncoder([{ scope: 'stream.event.context', struct: ctx }], {
      strings: this.#opts.strings ?? 'utf8',
      name: `stream${id}_context`,
      zeroed: true,
    });
    this.#slackBits = Math.max(this.#slackBits, contextEncode.slackBits);
    this.#state.set(id, {
      cls,
      contextEncode: contextEncode.fn,
      contextBytes: fixedByteLayout(ctx),
      events,
      header,
      channel: spec.channel ?? `channel${id}`,
      nextId: 0,
    });
    this.#pending += this.#printer.streamBlock(cls);
    return cls;
  }

  /** Adds an event class and compiles its encoder. May be called after packets were written. */
  addEventClass(spec: EventClassSpec): EventClassWriter {
    this.#checkOpen();
    const L = this.layout;
    const scId =
      spec.streamClassId ?? (this.#streamClasses.size > 0 ? this.#streamClasses.keys().next().value! : -1);
    const st = this.#state.get(scId);
    if (st === undefined) throw new WriterError(`no stream class ${scId} (add one with addStreamClass())`);
    const id = spec.id ?? st.nextId;
    if (!Number.isSafeInteger(id) || id < 0 || id > 0xffffffff) throw new WriterError(`bad event id ${id}`);
    if (st.events.has(id)) throw new WriterError(`event id ${id} already used in stream class ${scId}`);
    const roots = {
      'trace.packet.header': L.packetHeader,
      'stream.packet.context': L.packetContext,
      'stream.event.header': L.eventHeaders[st.header],
      ...(st.cls.eventContext !== undefined ? { 'stream.event.context': st.cls.eventContext } : {}),
    };
    let ctx = toStruct(spec.context);
    if (ctx !== undefined)
      ctx = resolveRefs(resolveNativeByteOrder(ctx, L.byteOrder), 'event.context', roots);
    let fields = toStruct(spec.fields) ?? struct([]);
    fields = resolveRefs(resolveNativeByteOrder(fields, L.byteOrder), 'event.fields', {
      ...roots,
      ...(ctx !== undefined ? { 'event.context': ctx } : {}),
    });
    this.#checkAlign(ctx);
    this.#checkAlign(fields);
    const cls: EventClass = {
      id,
      name: spec.name,
      streamClassId: scId,
      ...(ctx !== undefined ? { context: ctx } : {}),
      fields,
      ...(spec.logLevel !== undefined ? { logLevel: spec.logLevel } : {}),
      ...(spec.emfUri !== undefined ? { emfUri: spec.emfUri } : {}),
    };
    const text = this.#printer.eventBlock(cls);
    const enc = compileEncoder(
      [
        { scope: 'stream.event.context', struct: st.cls.eventContext },
        { scope: 'event.context', struct: ctx },
        { scope: 'event.fields', struct: fields },
      ],
      { strings: this.#opts.strings ?? 'utf8', name: spec.name, zeroed: true },
    );
    st.events.set(id, cls);
    st.nextId = Math.max(st.nextId, id + 1);
    this.#pending += text;
    this.#slackBits = Math.max(this.#slackBits, enc.slackBits);
    const w: EventClassWriter = {
      id,
      name: spec.name,
      streamClassId: scId,
      cls,
      encode: enc.fn,
      slackBits: enc.slackBits,
    };
    this.#writers.push(w);
    return w;
  }

  #checkAlign(s: StructFC | undefined): void {
    const a = maxAlign(s);
    if (
      a > 64 &&
      ((this.#capacity * 8) % a !== 0 || (PAGE_BITS % a !== 0 && this.#opts.fixedPacketSize !== true))
    ) {
      throw new WriterError(`alignment ${a} bits does not divide the packet size`);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new WriterError('trace writer is closed');
  }

  /**
   * The stream of stream class `streamClassId` for `instance` (the CPU for per-CPU channels),
   * created on first use: file `<channel>_<instance>`, `stream_instance_id` = `instance`.
   */
  stream(streamClassId: number, instance: number, o: StreamOptions = {}): StreamWriter {
    this.#checkOpen();
    const st = this.#state.get(streamClassId);
    if (st === undefined) throw new WriterError(`no stream class ${streamClassId}`);
    const name = o.name ?? `${st.channel}_${instance}`;
    const existing = this.#streams.get(name);
    if (existing !== undefined) return existing;
    const L = this.layout;
    const plan = this.#packetPlan(streamClassId, instance, o);
    const sw = new StreamWriter({
      name,
      streamClassId,
      instanceId: instance,
      sink: this.sink.openStream({ name, streamClassId, instanceId: instance }),
      header: st.header,
      byteOrder: L.byteOrder,
      align: { u16: L.align.u16, u32: L.align.u32, u64: L.align.u64, header: L.align.header[st.header] },
      packet: plan,
      contextEncode: st.contextEncode,
      contextBytes: st.contextBytes,
      capacity: this.#capacity,
      fixedPacketSize: this.#opts.fixedPacketSize ?? false,
      chunkSize: this.#opts.chunkSize ?? Math.max(2 << 20, 2 * this.#capacity),
      cyclesBase: this.#opts.cyclesBase ?? 0n,
      slackBits: () => this.#slackBits,
      beforeFlush: () => this.flushMetadata(),
    });
    this.#streams.set(name, sw);
    return sw;
  }

  /** Every stream created so far. */
  get streams(): readonly StreamWriter[] {
    return [...this.#streams.values()];
  }

  /** Event classes added so far, in order. */
  get eventClasses(): readonly EventClassWriter[] {
    return this.#writers;
  }

  #packetPlan(streamClassId: number, instance: number, o: StreamOptions): PacketPlan {
    const L = this.layout;
    const ph = L.packetHeader;
    const pc = L.packetContext;
    const enc = compileEncoder(
      [
        { scope: 'trace.packet.header', struct: ph },
        { scope: 'stream.packet.context', struct: pc },
      ],
      { name: 'packet' },
    );
    if (enc.fixedBits < 0) throw new WriterError('packet header and context must have a fixed size');
    const hv: WValue[] = ph.fields.map((f) => {
      switch (f.name) {
        case 'magic':
          return CTF_MAGIC;
        case 'uuid':
          return L.uuid;
        case 'stream_id':
          return streamClassId;
        case 'stream_instance_id':
          return instance;
        default:
          return 0;
      }
    });
    const extra = o.packetContext ?? {};
    const cv: WValue[] = pc.fields.map((f) =>
      f.name === 'cpu_id' ? (o.cpuId ?? instance) : (extra[f.name] ?? 0),
    );
    const ix = (n: string): number => pc.fields.findIndex((f) => f.name === n);
    return {
      encode: enc.fn,
      bits: enc.fixedBits,
      headerValues: hv,
      contextValues: cv,
      idx: {
        tsBegin: ix('timestamp_begin'),
        tsEnd: ix('timestamp_end'),
        contentSize: ix('content_size'),
        packetSize: ix('packet_size'),
        seqNum: ix('packet_seq_num'),
        discarded: ix('events_discarded'),
      },
    };
  }

  /**
   * Sends metadata added since the last call to the sink (new packets when packetized). Done
   * automatically before stream data reaches the sink and on close; call it to publish new
   * event classes early (relay/live).
   */
  flushMetadata(): void {
    if (this.#pending === '') return;
    const text = this.#pending;
    const bytes = this.packetized
      ? packetizeMetadata(text, this.layout.uuid, this.layout.byteOrder, METADATA_PACKET_SIZE)
      : new TextEncoder().encode(text);
    this.sink.writeMetadata(bytes);
    this.#metaText += text;
    this.#pending = '';
  }

  /** Closes every open packet (LTTng's periodic switch) and sends everything to the sink. */
  flush(ts?: number): void {
    this.#checkOpen();
    this.flushMetadata();
    for (const s of this.#streams.values()) {
      s.switchPacket(ts);
      s.flush();
    }
  }

  /**
   * Finishes the trace: closes every stream's open packet with its end at `endTs` (default: the
   * latest event time over all streams, so that streams end together as with `lttng stop`),
   * writes an empty packet for streams that have none, flushes metadata and data, closes the
   * sink. Synchronous (safe in a signal handler); calling it again does nothing.
   */
  close(endTs?: number): void {
    if (this.#closed) return;
    let end = endTs;
    if (end === undefined) {
      end = 0;
      for (const s of this.#streams.values()) end = Math.max(end, s.lastTimestamp);
    }
    this.flushMetadata();
    for (const s of this.#streams.values()) s.close(end);
    this.flushMetadata();
    this.sink.close();
    this.#closed = true;
  }

  get closed(): boolean {
    return this.#closed;
  }
}

const PAGE_BITS = 4096 * 8;
