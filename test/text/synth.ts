/**
 * Test helper: builds small synthetic CTF 1.8 traces from an IR `TraceClass` plus values, writes
 * them to disk (TSDL metadata + binary streams) for babeltrace2 to read, and builds the matching
 * `EventRecord`s for the printer. This lets the printer be compared with babeltrace2 on every
 * formatting rule without depending on our own reader.
 *
 * Limits (enough for printer tests): one byte order per trace, floats byte-aligned, clocks of
 * 1 GHz, one packet per `SynthPacket`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import type {
  ArrayFC,
  ByteOrder,
  ClockClass,
  EventClass,
  FieldClass,
  IntegerFC,
  NamedField,
  StreamClass,
  StructFC,
  TraceClass,
} from '../../src/ctf/ir.js';
import type {
  DiscardedRecord,
  FieldValue,
  PacketInfo,
  StreamInstance,
  TimeBase,
  Trace,
  TraceRecord,
  VariantValue,
} from '../../src/ctf/event.js';

// ---------------------------------------------------------------------------------------------
// Field-class constructors

export function int(size: number, opts: Partial<Omit<IntegerFC, 'kind' | 'size'>> = {}): IntegerFC {
  return {
    kind: 'int',
    size,
    align: opts.align ?? (size % 8 === 0 ? 8 : 1),
    signed: opts.signed ?? false,
    byteOrder: opts.byteOrder ?? 'le',
    base: opts.base ?? 10,
    encoding: opts.encoding ?? 'none',
    ...(opts.mappedClock !== undefined ? { mappedClock: opts.mappedClock } : {}),
  };
}
export const u8 = int(8);
export const u16 = int(16);
export const u32 = int(32);
export const u64 = int(64);
export const s32 = int(32, { signed: true });
export const s64 = int(64, { signed: true });
export const x64 = int(64, { base: 16 });
export const char8 = int(8, { encoding: 'utf8' });

export function float(expDig: number, mantDig: number, byteOrder: ByteOrder = 'le'): FieldClass {
  return { kind: 'float', expDig, mantDig, align: expDig + mantDig === 32 ? 32 : 64, byteOrder };
}
export const f32 = float(8, 24);
export const f64 = float(11, 53);
export const str: FieldClass = { kind: 'string', encoding: 'utf8', align: 8 };

export function struct(fields: Record<string, FieldClass> | NamedField[], minAlign = 1): StructFC {
  const list: NamedField[] = Array.isArray(fields)
    ? fields
    : Object.entries(fields).map(([name, type]) => ({ name, type }));
  let align = minAlign;
  for (const f of list) align = Math.max(align, f.type.align);
  return { kind: 'struct', fields: list, minAlign, align };
}

export function enumOf(
  container: IntegerFC,
  mappings: Array<[string, ...Array<number | [number, number]>]>,
): FieldClass {
  return {
    kind: 'enum',
    container,
    align: container.align,
    mappings: mappings.map(([label, ...ranges]) => ({
      label,
      ranges: ranges.map((r) =>
        typeof r === 'number' ? ([BigInt(r), BigInt(r)] as const) : ([BigInt(r[0]), BigInt(r[1])] as const),
      ),
    })),
  };
}

export function array(element: FieldClass, length: number): ArrayFC {
  return { kind: 'array', element, length, align: element.align };
}

/** `ref` is the TSDL path text, e.g. `__x_length` or `event.fields.len`. */
export function sequence(element: FieldClass, ref: string): FieldClass {
  return { kind: 'sequence', element, length: refOf(ref), align: element.align };
}

export function variant(ref: string, options: Record<string, FieldClass>): FieldClass {
  return {
    kind: 'variant',
    tag: refOf(ref),
    options: Object.entries(options).map(([name, type]) => ({ name, type })),
    align: 1,
  };
}

function refOf(text: string): { scope: 'event.fields'; path: string[]; text: string } {
  // The printer never follows refs; the scope here is only nominal.
  return { scope: 'event.fields', path: text.split('.'), text };
}

// ---------------------------------------------------------------------------------------------
// Trace description

export interface SynthEvent {
  /** Event-class id in the stream's class. */
  id: number;
  /** Clock value (cycles = ns for our 1 GHz clocks). */
  ts: number;
  /** Extra event-header values by field name (besides `id` and `timestamp`). */
  header?: Record<string, FieldValue>;
  streamContext?: FieldValue[];
  context?: FieldValue[];
  payload?: FieldValue[];
}

export interface SynthPacket {
  /** Packet-context values by name; `timestamp_begin/end`, sizes, `packet_seq_num` are filled. */
  context?: Record<string, FieldValue>;
  events: SynthEvent[];
  /** Overrides of the filled timestamps. */
  beginTs?: number;
  endTs?: number;
}

export interface SynthStream {
  streamClassId: number;
  instanceId?: number;
  fileName?: string;
  packets: SynthPacket[];
}

export interface SynthTrace {
  cls: TraceClass;
  streams: SynthStream[];
}

export interface TraceClassSpec {
  byteOrder?: ByteOrder;
  uuid?: string;
  env?: Record<string, string | number>;
  clock?: Partial<ClockClass> | null;
  packetContext?: Record<string, FieldClass> | null;
  eventContext?: Record<string, FieldClass>;
  /** Extra packet-header fields. */
  streamInstanceId?: boolean;
  events: Array<Omit<EventClass, 'streamClassId' | 'id'> & { id?: number }>;
}

export const UUID = '2a6422d0-6cee-11e0-8c08-cb07d7b3a564';

/** A one-stream-class trace class in LTTng's layout (packet header, large event header, clock). */
export function traceClass(spec: TraceClassSpec): TraceClass {
  const bo = spec.byteOrder ?? 'le';
  const clock: ClockClass | undefined =
    spec.clock === null
      ? undefined
      : {
          name: 'monotonic',
          freq: 1e9,
          offsetSeconds: 1_600_000_000,
          offsetCycles: 0,
          precision: 0,
          absolute: false,
          ...spec.clock,
        };
  const ts = (o: Partial<IntegerFC> = {}): IntegerFC =>
    int(64, { byteOrder: bo, ...(clock ? { mappedClock: clock.name } : {}), ...o });
  const u = (size: number): IntegerFC => int(size, { byteOrder: bo });
  const uuidText = spec.uuid === undefined ? UUID : spec.uuid;
  const header: Record<string, FieldClass> = { magic: u(32) };
  if (uuidText !== '') header['uuid'] = array(u(8), 16);
  header['stream_id'] = u(32);
  if (spec.streamInstanceId !== false) header['stream_instance_id'] = u(64);
  const pc =
    spec.packetContext === null
      ? undefined
      : struct({
          ...(clock ? { timestamp_begin: ts(), timestamp_end: ts() } : {}),
          content_size: u(64),
          packet_size: u(64),
          packet_seq_num: u(64),
          events_discarded: u(64),
          ...(spec.packetContext ?? { cpu_id: u(32) }),
        });
  const eventClasses = new Map<number, EventClass>();
  spec.events.forEach((e, i) => {
    const id = e.id ?? i;
    eventClasses.set(id, { ...e, id, streamClassId: 0 });
  });
  const sc: StreamClass = {
    id: 0,
    ...(pc ? { packetContext: pc } : {}),
    eventHeader: struct({ id: u(32), ...(clock ? { timestamp: ts() } : {}) }),
    ...(spec.eventContext ? { eventContext: struct(spec.eventContext) } : {}),
    eventClasses,
  };
  return {
    major: 1,
    minor: 8,
    byteOrder: bo,
    ...(uuidText !== '' ? { uuid: uuidBytes(uuidText) } : {}),
    packetHeader: struct(header),
    env: new Map(Object.entries(spec.env ?? { hostname: 'synth-host', domain: 'ust' })),
    clocks: clock ? new Map([[clock.name, clock]]) : new Map(),
    streamClasses: new Map([[0, sc]]),
    callsites: [],
  };
}

function uuidBytes(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function uuidText(u: Uint8Array): string {
  const h = [...u].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// TSDL emission

function tsdlString(s: string): string {
  return (
    '"' +
    s.replace(
      /[\\"\n\t\r]/g,
      (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t', '\r': '\\r' })[c]!,
    ) +
    '"'
  );
}

function intTsdl(fc: IntegerFC): string {
  const base = { 2: 'b', 8: 'o', 10: 'd', 16: 'x' }[fc.base];
  const enc = { none: 'none', utf8: 'UTF8', ascii: 'ASCII' }[fc.encoding];
  let s = `integer { size = ${fc.size}; align = ${fc.align}; signed = ${fc.signed}; byte_order = ${fc.byteOrder}; base = ${base}; encoding = ${enc};`;
  if (fc.mappedClock !== undefined) s += ` map = clock.${fc.mappedClock}.value;`;
  return s + ' }';
}

/** Type specifier text (without declarator) and the array/sequence dimensions to append. */
function typeTsdl(fc: FieldClass, indent: string): { spec: string; dims: string } {
  switch (fc.kind) {
    case 'int':
      return { spec: intTsdl(fc), dims: '' };
    case 'float':
      return {
        spec: `floating_point { exp_dig = ${fc.expDig}; mant_dig = ${fc.mantDig}; byte_order = ${fc.byteOrder}; align = ${fc.align}; }`,
        dims: '',
      };
    case 'string':
      return { spec: fc.encoding === 'ascii' ? 'string { encoding = ASCII; }' : 'string', dims: '' };
    case 'enum': {
      const items: string[] = [];
      for (const m of fc.mappings) {
        for (const [lo, hi] of m.ranges) {
          items.push(`${tsdlString(m.label)} = ${lo === hi ? `${lo}` : `${lo} ... ${hi}`}`);
        }
      }
      return { spec: `enum : ${intTsdl(fc.container)} { ${items.join(', ')} }`, dims: '' };
    }
    case 'struct':
      return {
        spec: `struct {\n${membersTsdl(fc.fields, indent + '\t')}${indent}}${fc.minAlign > 1 ? ` align(${fc.minAlign})` : ''}`,
        dims: '',
      };
    case 'variant':
      return {
        spec: `variant <${fc.tag.text}> {\n${membersTsdl(fc.options, indent + '\t')}${indent}}`,
        dims: '',
      };
    case 'array': {
      const inner = typeTsdl(fc.element, indent);
      return { spec: inner.spec, dims: `[${fc.length}]${inner.dims}` };
    }
    case 'sequence': {
      const inner = typeTsdl(fc.element, indent);
      return { spec: inner.spec, dims: `[${fc.length.text}]${inner.dims}` };
    }
  }
}

function membersTsdl(fields: readonly NamedField[], indent: string): string {
  let s = '';
  for (const f of fields) {
    const t = typeTsdl(f.type, indent);
    s += `${indent}${t.spec} ${f.name}${t.dims};\n`;
  }
  return s;
}

function scopeTsdl(name: string, fc: StructFC | undefined, indent: string): string {
  if (!fc) return '';
  return `${indent}${name} := ${typeTsdl(fc, indent).spec};\n`;
}

export function metadataText(cls: TraceClass): string {
  let s = '/* CTF 1.8 */\n\n';
  s += 'trace {\n\tmajor = 1;\n\tminor = 8;\n';
  s += `\tbyte_order = ${cls.byteOrder};\n`;
  if (cls.uuid) s += `\tuuid = "${uuidText(cls.uuid)}";\n`;
  s += scopeTsdl('packet.header', cls.packetHeader, '\t');
  s += '};\n\n';
  if (cls.env.size > 0) {
    s += 'env {\n';
    for (const [k, v] of cls.env) s += `\t${k} = ${typeof v === 'string' ? tsdlString(v) : String(v)};\n`;
    s += '};\n\n';
  }
  for (const c of cls.clocks.values()) {
    s += `clock {\n\tname = ${c.name};\n\tfreq = ${c.freq};\n\toffset_s = ${c.offsetSeconds};\n\toffset = ${c.offsetCycles};\n\tprecision = ${c.precision};\n\tabsolute = ${c.absolute ? 'TRUE' : 'FALSE'};\n`;
    if (c.uuid) s += `\tuuid = "${uuidText(c.uuid)}";\n`;
    if (c.description !== undefined) s += `\tdescription = ${tsdlString(c.description)};\n`;
    s += '};\n\n';
  }
  for (const sc of cls.streamClasses.values()) {
    s += `stream {\n\tid = ${sc.id};\n`;
    s += scopeTsdl('packet.context', sc.packetContext, '\t');
    s += scopeTsdl('event.header', sc.eventHeader, '\t');
    s += scopeTsdl('event.context', sc.eventContext, '\t');
    s += '};\n\n';
    for (const ec of sc.eventClasses.values()) {
      s += `event {\n\tname = ${tsdlString(ec.name)};\n\tid = ${ec.id};\n\tstream_id = ${sc.id};\n`;
      if (ec.logLevel !== undefined) s += `\tloglevel = ${ec.logLevel};\n`;
      if (ec.emfUri !== undefined) s += `\tmodel.emf.uri = ${tsdlString(ec.emfUri)};\n`;
      s += scopeTsdl('context', ec.context, '\t');
      s += scopeTsdl('fields', ec.fields, '\t');
      s += '};\n\n';
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Binary encoding

class BitWriter {
  bytes: number[] = [];
  pos = 0; // bits

  align(bits: number): void {
    if (bits > 1) this.skip((bits - (this.pos % bits)) % bits);
  }
  skip(bits: number): void {
    this.writeBits(0n, bits, 'le');
  }
  writeBits(value: bigint, size: number, bo: ByteOrder): void {
    const v = BigInt.asUintN(size, value);
    for (let i = 0; i < size; i++) {
      const p = this.pos + i;
      const byte = p >> 3;
      while (this.bytes.length <= byte) this.bytes.push(0);
      if (bo === 'le') {
        if ((v >> BigInt(i)) & 1n) this.bytes[byte]! |= 1 << (p & 7);
      } else {
        if ((v >> BigInt(size - 1 - i)) & 1n) this.bytes[byte]! |= 1 << (7 - (p & 7));
      }
    }
    this.pos += size;
  }
  writeBytes(b: Uint8Array): void {
    for (const x of b) this.writeBits(BigInt(x), 8, 'le');
  }
}

function asBig(v: FieldValue): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  throw new Error(`integer value expected, got ${JSON.stringify(v)}`);
}

function isTextElem(fc: FieldClass): boolean {
  return fc.kind === 'int' && fc.size === 8 && fc.encoding !== 'none';
}

function encode(w: BitWriter, fc: FieldClass, v: FieldValue): void {
  switch (fc.kind) {
    case 'int':
      w.align(fc.align);
      w.writeBits(asBig(v), fc.size, fc.byteOrder);
      return;
    case 'enum':
      w.align(fc.align);
      w.writeBits(asBig(v), fc.container.size, fc.container.byteOrder);
      return;
    case 'float': {
      w.align(fc.align);
      const size = fc.expDig + fc.mantDig;
      const dv = new DataView(new ArrayBuffer(8));
      if (size === 32) dv.setFloat32(0, v as number, fc.byteOrder === 'le');
      else dv.setFloat64(0, v as number, fc.byteOrder === 'le');
      w.writeBytes(new Uint8Array(dv.buffer, 0, size / 8));
      return;
    }
    case 'string':
      w.align(8);
      w.writeBytes(Buffer.from(`${v as string}\0`, 'utf8'));
      return;
    case 'struct': {
      w.align(fc.align);
      const vals = v as FieldValue[];
      fc.fields.forEach((f, i) => encode(w, f.type, vals[i]!));
      return;
    }
    case 'variant': {
      const vv = v as VariantValue;
      encode(w, fc.options[vv.option]!.type, vv.value);
      return;
    }
    case 'array':
    case 'sequence': {
      w.align(fc.align);
      if (typeof v === 'string' && isTextElem(fc.element)) {
        let b = Buffer.from(v, 'utf8');
        if (fc.kind === 'array') {
          const padded = Buffer.alloc(fc.length);
          b.copy(padded, 0, 0, Math.min(b.length, fc.length));
          b = padded;
        }
        for (const x of b) encode(w, fc.element, x);
        return;
      }
      for (const e of v as FieldValue[]) encode(w, fc.element, e);
      return;
    }
  }
}

/** Value of the special packet-context and header fields, or the user's value. */
function structValues(fc: StructFC | undefined, given: Record<string, FieldValue>): FieldValue[] {
  if (!fc) return [];
  return fc.fields.map((f) => {
    const v = given[f.name];
    if (v !== undefined) return v;
    return 0;
  });
}

export interface WrittenTrace {
  dir: string;
  /** Per stream: file path and per packet the byte offset. */
  files: string[];
}

const MAGIC = 0xc1fc1fc1;

function encodePacket(
  cls: TraceClass,
  stream: SynthStream,
  sc: StreamClass,
  packet: SynthPacket,
  seq: number,
): { bytes: Uint8Array; ctx: FieldValue[] } {
  const build = (contentBits: number, packetBits: number): { w: BitWriter; ctx: FieldValue[] } => {
    const w = new BitWriter();
    const hdr = structValues(cls.packetHeader, {
      magic: MAGIC,
      uuid: cls.uuid ? [...cls.uuid] : [],
      stream_id: sc.id,
      stream_instance_id: stream.instanceId ?? 0,
    });
    if (cls.packetHeader) encode(w, cls.packetHeader, hdr);
    const first = packet.events[0]?.ts ?? 0;
    const last = packet.events[packet.events.length - 1]?.ts ?? first;
    const ctx = structValues(sc.packetContext, {
      timestamp_begin: packet.beginTs ?? first,
      timestamp_end: packet.endTs ?? last,
      content_size: contentBits,
      packet_size: packetBits,
      packet_seq_num: seq,
      events_discarded: 0,
      ...packet.context,
    });
    if (sc.packetContext) encode(w, sc.packetContext, ctx);
    for (const e of packet.events) {
      const ec = sc.eventClasses.get(e.id);
      if (!ec) throw new Error(`no event class ${e.id}`);
      if (sc.eventHeader)
        encode(w, sc.eventHeader, structValues(sc.eventHeader, { id: e.id, timestamp: e.ts, ...e.header }));
      if (sc.eventContext) encode(w, sc.eventContext, e.streamContext ?? []);
      if (ec.context) encode(w, ec.context, e.context ?? []);
      if (ec.fields) encode(w, ec.fields, e.payload ?? []);
    }
    return { w, ctx };
  };
  // Two passes: sizes are known only after encoding.
  const first = build(0, 0);
  const content = first.w.pos;
  const total = Math.ceil(content / 8) * 8;
  const second = build(content, total);
  const bytes = new Uint8Array(total / 8);
  bytes.set(second.w.bytes.slice(0, total / 8));
  return { bytes, ctx: second.ctx };
}

/** Writes the trace into `dir` (created). Returns the stream file paths. */
export function writeTrace(dir: string, t: SynthTrace): WrittenTrace {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'metadata'), metadataText(t.cls));
  const files: string[] = [];
  t.streams.forEach((s, i) => {
    const sc = t.cls.streamClasses.get(s.streamClassId)!;
    const parts = s.packets.map((p, seq) => encodePacket(t.cls, s, sc, p, seq).bytes);
    const file = join(dir, s.fileName ?? `stream_${i}`);
    writeFileSync(file, Buffer.concat(parts));
    files.push(file);
  });
  return { dir, files };
}

// ---------------------------------------------------------------------------------------------
// Records for the printer

/** A value as the reader hands it: text arrays/sequences become strings up to the first NUL. */
export function readerValue(fc: FieldClass | undefined, v: FieldValue): FieldValue {
  if (fc === undefined) return v;
  switch (fc.kind) {
    case 'struct':
      return (v as FieldValue[]).map((x, i) => readerValue(fc.fields[i]?.type, x));
    case 'variant': {
      const vv = v as VariantValue;
      return { option: vv.option, value: readerValue(fc.options[vv.option]?.type, vv.value) };
    }
    case 'array':
    case 'sequence':
      if (isTextElem(fc.element) && fc.element.align === 8) {
        const bytes =
          typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from((v as number[]).map(Number));
        const nul = bytes.indexOf(0);
        return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString('utf8');
      }
      if (typeof v === 'string') return [...Buffer.from(v, 'utf8')];
      return (v as FieldValue[]).map((x) => readerValue(fc.element, x));
    case 'string': {
      const t = Buffer.from(v as string, 'utf8').toString('latin1');
      const nul = t.indexOf('\0');
      return nul < 0 ? t : t.slice(0, nul);
    }
    default:
      return v;
  }
}

export interface SynthRecords {
  trace: Trace;
  base: TimeBase;
  records: TraceRecord[];
}

/**
 * Builds the records the reader would produce for `t` written at `dir`, muxed by time (stable
 * by stream order for equal times), with discarded-events records where a packet's
 * `events_discarded` counter grows (from the previous packet's end to this packet's end) and
 * discarded-packets records where `packet_seq_num` jumps (from the previous packet's end to this
 * packet's beginning), ordered by their beginning.
 */
export function toRecords(dir: string, t: SynthTrace): SynthRecords {
  const abs = resolve(dir);
  const clock = [...t.cls.clocks.values()][0];
  const hostname = t.cls.env.get('hostname');
  const trace: Trace = {
    path: abs,
    name: typeof hostname === 'string' ? hostname : '',
    cls: t.cls,
    metadataPath: join(abs, 'metadata'),
  };
  const base: TimeBase = clock
    ? { seconds: clock.offsetSeconds + Math.floor(clock.offsetCycles / 1e9), ns: clock.offsetCycles % 1e9 }
    : { seconds: 0, ns: 0 };
  const out: TraceRecord[] = [];
  const keys = new Map<EventClass, number>();
  for (const sc of t.cls.streamClasses.values())
    for (const ec of sc.eventClasses.values()) keys.set(ec, keys.size);
  t.streams.forEach((s, i) => {
    const sc = t.cls.streamClasses.get(s.streamClassId)!;
    const stream: StreamInstance = {
      trace,
      streamClass: sc,
      instanceId: s.instanceId,
      id: s.instanceId ?? i,
      files: [join(abs, s.fileName ?? `stream_${i}`)],
      clock,
      index: i,
    };
    let offset = 0;
    let prevEnd: number | undefined;
    let prevDiscarded = 0;
    s.packets.forEach((p, seq) => {
      const enc = encodePacket(t.cls, s, sc, p, seq);
      const first = p.events[0]?.ts ?? 0;
      const last = p.events[p.events.length - 1]?.ts ?? first;
      const discarded = Number(p.context?.['events_discarded'] ?? 0);
      const packet: PacketInfo = {
        stream,
        file: stream.files[0]!,
        offset,
        packetSize: enc.bytes.length * 8,
        contentSize: enc.bytes.length * 8,
        header: undefined,
        context: readerValue(sc.packetContext, enc.ctx) as FieldValue[],
        beginCycles: p.beginTs ?? first,
        endCycles: p.endTs ?? last,
        beginTs: p.beginTs ?? first,
        endTs: p.endTs ?? last,
        discardedEventsCounter: discarded,
        seqNum: Number(p.context?.['packet_seq_num'] ?? seq),
      };
      offset += enc.bytes.length;
      const seqNum = Number(p.context?.['packet_seq_num'] ?? seq);
      const prevSeq =
        seq === 0 ? undefined : Number(s.packets[seq - 1]!.context?.['packet_seq_num'] ?? seq - 1);
      // babeltrace2 reports lost events before lost packets; lost packets end where this one begins.
      if (prevEnd !== undefined && discarded > prevDiscarded) {
        out.push(
          discardedRecord('discarded-events', packet, discarded - prevDiscarded, prevEnd, packet.endTs!),
        );
      }
      if (prevEnd !== undefined && prevSeq !== undefined && seqNum > prevSeq + 1) {
        out.push(
          discardedRecord('discarded-packets', packet, seqNum - prevSeq - 1, prevEnd, packet.beginTs!),
        );
      }
      prevDiscarded = discarded;
      prevEnd = packet.endTs;
      for (const e of p.events) {
        const ec = sc.eventClasses.get(e.id)!;
        out.push({
          kind: 'event',
          eventClass: ec,
          classKey: keys.get(ec)!,
          stream,
          packet,
          cycles: e.ts,
          ts: e.ts,
          header: undefined,
          streamContext: e.streamContext && (readerValue(sc.eventContext, e.streamContext) as FieldValue[]),
          context: e.context && (readerValue(ec.context, e.context) as FieldValue[]),
          payload: e.payload && (readerValue(ec.fields, e.payload) as FieldValue[]),
        });
      }
    });
  });
  const order = new Map(out.map((r, i) => [r, i]));
  out.sort((a, b) => a.ts - b.ts || order.get(a)! - order.get(b)!);
  return { trace, base, records: out };
}

function discardedRecord(
  kind: DiscardedRecord['kind'],
  packet: PacketInfo,
  count: number,
  beginTs: number,
  endTs: number,
): DiscardedRecord {
  return {
    kind,
    stream: packet.stream,
    packet,
    count,
    beginTs,
    endTs,
    beginCycles: beginTs,
    endCycles: endTs,
    ts: beginTs,
  };
}

// ---------------------------------------------------------------------------------------------
// babeltrace2

export interface Bt2Result {
  status: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** Environment for differential runs: fixed time zone, no colours. */
export const BT2_ENV: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', LC_ALL: 'C', TERM: 'dumb' };

export function babeltrace2(args: string[], env: NodeJS.ProcessEnv = BT2_ENV): Bt2Result {
  const r = spawnSync('babeltrace2', args, { env, timeout: 60_000, maxBuffer: 1 << 30 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function hasBabeltrace2(): boolean {
  const r = spawnSync('babeltrace2', ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /2\.0\./.test(r.stdout);
}
