/**
 * TSDL (CTF 1.8 metadata) emitter from the IR of `../ir.ts`, and the packetized metadata form.
 *
 * The IR has no type names; an `EmitStyle` brings them back: integer type aliases and named
 * structures recognised by object identity, so that a trace built by the LTTng layouts
 * (`layout.ts`) prints the way lttng-modules/lttng-sessiond print it (`uint32_t magic;`,
 * `event.header := struct event_header_compact;`). Everything else is printed inline, in the
 * format LTTng uses for event fields (`integer { size = 32; align = 8; signed = 1; encoding =
 * none; base = 10; } _prev_tid;`).
 *
 * Parsing what this emits gives back an equal IR (same classes, same names; FieldRef `text` is
 * printed as it is in the IR).
 */
import { KEYWORDS } from '../metadata/parser.js';
import type {
  ByteOrder,
  Callsite,
  ClockClass,
  EnumFC,
  EnvValue,
  EventClass,
  FieldClass,
  FieldRef,
  IntegerFC,
  Scope,
  StreamClass,
  StructFC,
  TraceClass,
} from '../ir.js';
import { WriterError } from '../../util/errors.js';

export interface TypeAlias {
  readonly name: string;
  readonly type: IntegerFC;
  /** `top` (default): before the `trace` block. `after-clocks`: after the clocks (for clock-mapped integers). */
  readonly placement?: 'top' | 'after-clocks';
}

export interface NamedStruct {
  readonly name: string;
  readonly type: StructFC;
}

export interface EmitStyle {
  /** Integer aliases, used wherever the very same `IntegerFC` object appears. */
  readonly aliases?: readonly TypeAlias[];
  /** Structures declared once before the streams and referred to by name (same object). */
  readonly structs?: readonly NamedStruct[];
  /** Begin with the `/* CTF 1.8 *\/` signature (always done for plain-text metadata). Default true. */
  readonly signature?: boolean;
  /** Print clock offsets as a single `offset = cycles` (LTTng) rather than `offset_s` + `offset`. */
  readonly clockOffsetAsCycles?: boolean;
}

export const METADATA_SIGNATURE = '/* CTF 1.8 */\n\n';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws unless `name` can be written as a TSDL identifier. */
export function checkIdentifier(name: string, what: string): void {
  if (!IDENT.test(name) || KEYWORDS.has(name)) {
    throw new WriterError(`${what} '${name}' is not a valid TSDL identifier (LTTng prefixes names with '_')`);
  }
}

/** A TSDL string literal. */
export function tsdlString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '\r') out += '\\r';
    else if (c < ' ') out += `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

export function uuidString(u: Uint8Array): string {
  if (u.length !== 16) throw new WriterError(`a UUID has 16 bytes, not ${u.length}`);
  const h = Array.from(u, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function tabs(n: number): string {
  return '\t'.repeat(n);
}

/** Prints TSDL for one trace class; keeps the style tables. */
export class TsdlPrinter {
  readonly #aliases = new Map<IntegerFC, string>();
  readonly #structs = new Map<StructFC, string>();
  readonly #style: EmitStyle;
  readonly #bo: ByteOrder;

  constructor(byteOrder: ByteOrder, style: EmitStyle = {}) {
    this.#style = style;
    this.#bo = byteOrder;
    for (const a of style.aliases ?? []) this.#aliases.set(a.type, a.name);
    for (const s of style.structs ?? []) this.#structs.set(s.type, s.name);
  }

  /** Everything before the stream and event blocks. */
  preamble(tc: TraceClass, signature: boolean): string {
    const style = this.#style;
    let out = signature ? METADATA_SIGNATURE : '';
    const top = (style.aliases ?? []).filter((a) => (a.placement ?? 'top') === 'top');
    const late = (style.aliases ?? []).filter((a) => a.placement === 'after-clocks');
    for (const a of top) out += `typealias ${this.#aliasBody(a.type, false)} := ${a.name};\n`;
    if (top.length > 0) out += '\n';
    out += this.traceBlock(tc);
    if (tc.env.size > 0) out += this.envBlock(tc.env);
    for (const c of tc.clocks.values()) out += this.clockBlock(c);
    for (const a of late) out += `typealias ${this.#aliasBody(a.type, true)} := ${a.name};\n\n`;
    for (const s of style.structs ?? []) {
      out += `struct ${s.name} {\n${this.#fields(s.type, 1)}}${s.type.minAlign > 1 ? ` align(${s.type.minAlign})` : ''};\n\n`;
    }
    for (const cs of tc.callsites) out += this.callsiteBlock(cs);
    return out;
  }

  traceBlock(tc: TraceClass): string {
    let out = `trace {\n\tmajor = ${tc.major};\n\tminor = ${tc.minor};\n`;
    if (tc.uuid !== undefined) out += `\tuuid = "${uuidString(tc.uuid)}";\n`;
    out += `\tbyte_order = ${tc.byteOrder};\n`;
    if (tc.packetHeader !== undefined) out += this.#scope('packet.header', tc.packetHeader);
    return `${out}};\n\n`;
  }

  envBlock(env: ReadonlyMap<string, EnvValue>): string {
    let out = 'env {\n';
    for (const [k, v] of env) {
      checkIdentifier(k, 'env key');
      out += `\t${k} = ${typeof v === 'string' ? tsdlString(v) : intLiteral(v)};\n`;
    }
    return `${out}};\n\n`;
  }

  clockBlock(c: ClockClass): string {
    checkIdentifier(c.name, 'clock name');
    let out = `clock {\n\tname = ${tsdlString(c.name)};\n`;
    if (c.uuid !== undefined) out += `\tuuid = "${uuidString(c.uuid)}";\n`;
    if (c.description !== undefined) out += `\tdescription = ${tsdlString(c.description)};\n`;
    out += `\tfreq = ${intLiteral(c.freq)}; /* Frequency, in Hz */\n`;
    if (c.precision !== 0) out += `\tprecision = ${intLiteral(c.precision)};\n`;
    if (this.#style.clockOffsetAsCycles === true) {
      const cycles = BigInt(c.offsetSeconds) * BigInt(c.freq) + BigInt(c.offsetCycles);
      out += `\t/* clock value offset from Epoch is: offset * (1/freq) */\n\toffset = ${cycles};\n`;
    } else {
      if (c.offsetSeconds !== 0) out += `\toffset_s = ${intLiteral(c.offsetSeconds)};\n`;
      if (c.offsetCycles !== 0 || c.offsetSeconds === 0) out += `\toffset = ${intLiteral(c.offsetCycles)};\n`;
    }
    if (c.absolute) out += '\tabsolute = true;\n';
    return `${out}};\n\n`;
  }

  callsiteBlock(cs: Callsite): string {
    return (
      `callsite {\n\tname = ${tsdlString(cs.name)};\n\tfunc = ${tsdlString(cs.func)};\n` +
      `\tfile = ${tsdlString(cs.file)};\n\tline = ${cs.line};\n\tip = 0x${cs.ip.toString(16)};\n};\n\n`
    );
  }

  streamBlock(sc: StreamClass): string {
    let out = `stream {\n\tid = ${sc.id};\n`;
    if (sc.eventHeader !== undefined) out += this.#scope('event.header', sc.eventHeader);
    if (sc.packetContext !== undefined) out += this.#scope('packet.context', sc.packetContext);
    if (sc.eventContext !== undefined) out += this.#scope('event.context', sc.eventContext);
    return `${out}};\n\n`;
  }

  eventBlock(ec: EventClass): string {
    let out = `event {\n\tname = ${tsdlString(ec.name)};\n\tid = ${ec.id};\n\tstream_id = ${ec.streamClassId};\n`;
    if (ec.logLevel !== undefined) out += `\tloglevel = ${ec.logLevel};\n`;
    if (ec.emfUri !== undefined) out += `\tmodel.emf.uri = ${tsdlString(ec.emfUri)};\n`;
    if (ec.context !== undefined) out += this.#scope('context', ec.context);
    if (ec.fields !== undefined) out += this.#scope('fields', ec.fields);
    return `${out}};\n\n`;
  }

  /** `\tNAME := struct ...;` inside a block. */
  #scope(name: string, s: StructFC): string {
    const named = this.#structs.get(s);
    if (named !== undefined) return `\t${name} := struct ${named};\n`;
    this.#scopeName = SCOPE_OF_BLOCK_ENTRY[name];
    this.#chain = [];
    const body = this.#fields(s, 2, []);
    this.#scopeName = undefined;
    return `\t${name} := struct {\n${body}\t}${s.minAlign > 1 ? ` align(${s.minAlign})` : ''};\n`;
  }

  /** Dynamic scope being printed (undefined for named structures printed at top level). */
  #scopeName: Scope | undefined;
  /** Enclosing structures being printed: the names declared so far in each, and their paths. */
  #chain: Array<{ names: Set<string>; path: readonly string[] }> = [];

  #fields(s: StructFC, indent: number, path: readonly string[] = []): string {
    let out = '';
    const entry = { names: new Set<string>(), path };
    this.#chain.push(entry);
    for (const f of s.fields) {
      out += this.#decl(f.name, f.type, indent, [...path, f.name]);
      entry.names.add(f.name);
    }
    this.#chain.pop();
    return out;
  }

  /**
   * How to print a reference: as written when a relative lookup from here (enclosing structures,
   * innermost first) finds that very field or nothing (then it is in an earlier scope);
   * otherwise (a type declared in one place and used in another) as an absolute path.
   */
  #ref(r: FieldRef): string {
    const text = refText(r);
    if (this.#scopeName === undefined || SCOPE_PREFIX.test(text)) return text;
    const parts = text.split('.');
    for (let i = this.#chain.length - 1; i >= 0; i--) {
      const c = this.#chain[i]!;
      if (c.names.has(parts[0]!)) {
        const path = [...c.path, ...parts];
        const same =
          r.scope === this.#scopeName &&
          path.length === r.path.length &&
          path.every((x, j) => x === r.path[j]);
        return same ? text : `${r.scope}.${r.path.join('.')}`;
      }
    }
    return r.scope === this.#scopeName ? `${r.scope}.${r.path.join('.')}` : text;
  }

  #decl(name: string, fc: FieldClass, indent: number, path: readonly string[] = []): string {
    checkIdentifier(name, 'field name');
    let suffix = '';
    let base = fc;
    while (base.kind === 'array' || base.kind === 'sequence') {
      suffix += base.kind === 'array' ? `[${base.length}]` : `[ ${this.#ref(base.length)} ]`;
      base = base.element;
    }
    return `${tabs(indent)}${this.#type(base, indent, path)} ${name}${suffix};\n`;
  }

  /** Type specifier text; multi-line types start at the current position and end at `indent`. */
  #type(fc: FieldClass, indent: number, path: readonly string[] = []): string {
    switch (fc.kind) {
      case 'int': {
        const alias = this.#aliases.get(fc);
        if (alias !== undefined) return alias;
        return this.#intInline(fc);
      }
      case 'float': {
        if (fc.expDig + fc.mantDig !== 32 && fc.expDig + fc.mantDig !== 64) {
          throw new WriterError(
            `floating point exp_dig=${fc.expDig} mant_dig=${fc.mantDig} is not binary32/64`,
          );
        }
        const bo = fc.byteOrder !== this.#bo ? ` byte_order = ${fc.byteOrder};` : '';
        return `floating_point { exp_dig = ${fc.expDig}; mant_dig = ${fc.mantDig}; align = ${fc.align};${bo} }`;
      }
      case 'string':
        return fc.encoding === 'ascii' ? 'string { encoding = ASCII; }' : 'string';
      case 'enum':
        return this.#enum(fc, indent);
      case 'struct': {
        const named = this.#structs.get(fc);
        if (named !== undefined) return `struct ${named}`;
        return `struct {\n${this.#fields(fc, indent + 1, path)}${tabs(indent)}}${fc.minAlign > 1 ? ` align(${fc.minAlign})` : ''}`;
      }
      case 'variant': {
        let out = `variant <${this.#ref(fc.tag)}> {\n`;
        for (const o of fc.options) out += this.#decl(o.name, o.type, indent + 1, [...path, o.name]);
        return `${out}${tabs(indent)}}`;
      }
      case 'array':
      case 'sequence':
        // Nested inside a variant option or struct, arrays are declared through #decl; an array
        // as the element of a declarator is handled there too. Reaching here means an array type
        // in a position without a declarator (enum container etc.), which TSDL cannot express.
        throw new WriterError('array/sequence type without a declarator');
    }
  }

  #intInline(fc: IntegerFC): string {
    checkInt(fc);
    const enc = fc.encoding === 'none' ? 'none' : fc.encoding === 'utf8' ? 'UTF8' : 'ASCII';
    const bo = fc.byteOrder !== this.#bo ? ` byte_order = ${fc.byteOrder};` : '';
    const map = fc.mappedClock !== undefined ? ` map = clock.${fc.mappedClock}.value;` : '';
    return `integer { size = ${fc.size}; align = ${fc.align}; signed = ${fc.signed ? 1 : 0}; encoding = ${enc}; base = ${fc.base};${bo}${map} }`;
  }

  #aliasBody(fc: IntegerFC, multiline: boolean): string {
    checkInt(fc);
    let attrs = `size = ${fc.size}; align = ${fc.align}; signed = ${fc.signed ? 'true' : 'false'};`;
    if (fc.encoding !== 'none') attrs += ` encoding = ${fc.encoding === 'utf8' ? 'UTF8' : 'ASCII'};`;
    if (fc.base !== 10) attrs += ` base = ${fc.base};`;
    if (fc.byteOrder !== this.#bo) attrs += ` byte_order = ${fc.byteOrder};`;
    if (multiline || fc.mappedClock !== undefined) {
      const map = fc.mappedClock !== undefined ? `\tmap = clock.${fc.mappedClock}.value;\n` : '';
      return `integer {\n\t${attrs}\n${map}}`;
    }
    return `integer { ${attrs} }`;
  }

  #enum(fc: EnumFC, indent: number): string {
    const container = this.#type(fc.container, indent);
    const simple =
      this.#aliases.has(fc.container) &&
      fc.mappings.every((m) => IDENT.test(m.label) && !KEYWORDS.has(m.label) && m.ranges.length === 1);
    const item = (label: string, lo: bigint, hi: bigint): string =>
      `${label} = ${lo === hi ? `${lo}` : `${lo} ... ${hi}`}`;
    if (simple) {
      const items = fc.mappings.map((m) => item(m.label, m.ranges[0]![0], m.ranges[0]![1]));
      return `enum : ${container} { ${items.join(', ')} }`;
    }
    let out = `enum : ${container} {\n`;
    for (const m of fc.mappings) {
      if (m.ranges.length === 0) throw new WriterError(`enum label '${m.label}' has no value`);
      for (const [lo, hi] of m.ranges) out += `${tabs(indent + 1)}${item(tsdlString(m.label), lo, hi)},\n`;
    }
    return `${out}${tabs(indent)}}`;
  }
}

function checkInt(fc: IntegerFC): void {
  if (fc.size < 1 || fc.size > 64) throw new WriterError(`integer size ${fc.size} not in 1..64`);
  if (fc.align < 1 || (fc.align & (fc.align - 1)) !== 0)
    throw new WriterError(`integer alignment ${fc.align}`);
}

const SCOPE_OF_BLOCK_ENTRY: Record<string, Scope> = {
  'packet.header': 'trace.packet.header',
  'packet.context': 'stream.packet.context',
  'event.header': 'stream.event.header',
  'event.context': 'stream.event.context',
  context: 'event.context',
  fields: 'event.fields',
};

const SCOPE_PREFIX =
  /^(trace\.packet\.header|stream\.packet\.context|stream\.event\.header|stream\.event\.context|event\.context|event\.fields)\./;

function refText(r: FieldRef): string {
  return r.text !== '' ? r.text : `${r.scope}.${r.path.join('.')}`;
}

function intLiteral(v: number | bigint): string {
  if (typeof v === 'number' && !Number.isInteger(v)) throw new WriterError(`${v} is not an integer`);
  return typeof v === 'bigint' ? v.toString() : Number.isSafeInteger(v) ? v.toString() : BigInt(v).toString();
}

/** The whole TSDL text of a trace class: preamble, streams, then events (by stream, by id order of the maps). */
export function emitTsdl(tc: TraceClass, style: EmitStyle = {}, signature = true): string {
  const p = new TsdlPrinter(tc.byteOrder, style);
  let out = p.preamble(tc, signature);
  for (const sc of tc.streamClasses.values()) out += p.streamBlock(sc);
  for (const sc of tc.streamClasses.values())
    for (const ec of sc.eventClasses.values()) out += p.eventBlock(ec);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Packetized metadata

export const METADATA_PACKET_MAGIC = 0x75d11d57;
/** Bytes of a metadata packet header. */
export const METADATA_PACKET_HEADER_SIZE = 37;
/** LTTng writes metadata packets of one page. */
export const METADATA_PACKET_SIZE = 4096;

const utf8 = new TextEncoder();

/**
 * Splits TSDL text into metadata packets of `packetSize` bytes (the last one zero-padded), each
 * with the 37-byte header `{ magic, uuid[16], checksum = 0, content_size, packet_size (bits),
 * compression = 0, encryption = 0, checksum_scheme = 0, major = 1, minor = 8 }` in the trace
 * byte order, as LTTng writes them. Never splits a UTF-8 sequence across packets.
 */
export function packetizeMetadata(
  text: string | Uint8Array,
  uuid: Uint8Array,
  byteOrder: ByteOrder,
  packetSize = METADATA_PACKET_SIZE,
): Uint8Array {
  if (packetSize <= METADATA_PACKET_HEADER_SIZE + 4 || packetSize > 1 << 28) {
    throw new WriterError(`bad metadata packet size ${packetSize}`);
  }
  if (uuid.length !== 16) throw new WriterError('metadata packets need a 16-byte UUID');
  const bytes = typeof text === 'string' ? utf8.encode(text) : text;
  const room = packetSize - METADATA_PACKET_HEADER_SIZE;
  const chunks: Array<[number, number]> = [];
  for (let o = 0; o < bytes.length;) {
    let end = Math.min(bytes.length, o + room);
    if (end < bytes.length) {
      while (end > o && (bytes[end]! & 0xc0) === 0x80) end--;
      if (end === o) end = Math.min(bytes.length, o + room);
    }
    chunks.push([o, end]);
    o = end;
  }
  const out = new Uint8Array(chunks.length * packetSize);
  const dv = new DataView(out.buffer);
  const le = byteOrder === 'le';
  chunks.forEach(([a, b], i) => {
    const base = i * packetSize;
    dv.setUint32(base, METADATA_PACKET_MAGIC, le);
    out.set(uuid, base + 4);
    dv.setUint32(base + 20, 0, le);
    dv.setUint32(base + 24, (METADATA_PACKET_HEADER_SIZE + (b - a)) * 8, le);
    dv.setUint32(base + 28, packetSize * 8, le);
    out[base + 32] = 0;
    out[base + 33] = 0;
    out[base + 34] = 0;
    out[base + 35] = 1;
    out[base + 36] = 8;
    out.set(bytes.subarray(a, b), base + METADATA_PACKET_HEADER_SIZE);
  });
  return out;
}
