/**
 * The TSDL metadata of a recording, in the layout lttng-modules/lttng-sessiond write for a
 * kernel trace: LTTng's type aliases, trace block with the packet header, env, the `monotonic`
 * clock, the packet context and both event headers, one stream class (channel0) with the
 * stream event context, then the event classes.
 *
 * Event classes are added as they are first used (lowest ids for the first events seen, so
 * the most frequent events get compact headers) and the file is rewritten before any packet
 * that uses a new class reaches the disk.
 */
import fs from 'node:fs';
import type { FieldClass, IntegerFC, NamedField, StructFC } from '../ctf/ir.js';

export interface RecordedEventClass {
  readonly id: number;
  readonly name: string;
  readonly fields: StructFC;
}

export interface TraceSchema {
  uuid: Uint8Array;
  env: ReadonlyArray<readonly [string, string | number]>;
  /** Clock offset: realtime - monotonic at start, ns. */
  clockOffsetNs: bigint;
  clockUuid: Uint8Array;
  eventContext: StructFC | undefined;
  events: RecordedEventClass[];
}

export function uuidText(u: Uint8Array): string {
  const h = [...u].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function tsdlString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function intDecl(t: IntegerFC): string {
  const enc = t.encoding === 'none' ? 'none' : t.encoding === 'utf8' ? 'UTF8' : 'ASCII';
  const bo = t.byteOrder === 'be' ? ' byte_order = be;' : '';
  return `integer { size = ${t.size}; align = ${t.align}; signed = ${t.signed ? 1 : 0}; encoding = ${enc}; base = ${t.base};${bo} }`;
}

function fieldDecl(f: NamedField, indent: string): string {
  const t: FieldClass = f.type;
  switch (t.kind) {
    case 'int':
      return `${indent}${intDecl(t)} ${f.name};\n`;
    case 'string':
      return `${indent}string${t.encoding === 'ascii' ? ' { encoding = ASCII; }' : ''} ${f.name};\n`;
    case 'array':
      if (t.element.kind !== 'int') throw new Error(`unsupported array element in ${f.name}`);
      return `${indent}${intDecl(t.element)} ${f.name}[${t.length}];\n`;
    case 'sequence':
      if (t.element.kind !== 'int') throw new Error(`unsupported sequence element in ${f.name}`);
      return `${indent}${intDecl(t.element)} ${f.name}[ ${t.length.text} ];\n`;
    case 'struct': {
      let s = `${indent}struct {\n`;
      for (const g of t.fields) s += fieldDecl(g, indent + '\t');
      return `${s}${indent}} ${f.name};\n`;
    }
    default:
      throw new Error(`unsupported field class ${t.kind} in ${f.name}`);
  }
}

/** The whole metadata text. */
export function emitMetadata(s: TraceSchema): string {
  const out: string[] = [];
  out.push('/* CTF 1.8 */\n\n');
  out.push(
    'typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n' +
      'typealias integer { size = 16; align = 8; signed = false; } := uint16_t;\n' +
      'typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n' +
      'typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n' +
      'typealias integer { size = 64; align = 8; signed = false; } := unsigned long;\n' +
      'typealias integer { size = 5; align = 1; signed = false; } := uint5_t;\n' +
      'typealias integer { size = 27; align = 1; signed = false; } := uint27_t;\n\n',
  );
  out.push(
    'trace {\n' +
      '\tmajor = 1;\n\tminor = 8;\n' +
      `\tuuid = "${uuidText(s.uuid)}";\n` +
      '\tbyte_order = le;\n' +
      '\tpacket.header := struct {\n' +
      '\t\tuint32_t magic;\n\t\tuint8_t  uuid[16];\n\t\tuint32_t stream_id;\n\t\tuint64_t stream_instance_id;\n' +
      '\t};\n};\n\n',
  );
  out.push('env {\n');
  for (const [k, v] of s.env) out.push(`\t${k} = ${typeof v === 'number' ? String(v) : tsdlString(v)};\n`);
  out.push('};\n\n');
  out.push(
    'clock {\n' +
      '\tname = "monotonic";\n' +
      `\tuuid = "${uuidText(s.clockUuid)}";\n` +
      '\tdescription = "Monotonic Clock";\n' +
      '\tfreq = 1000000000; /* Frequency, in Hz */\n' +
      '\t/* clock value offset from Epoch is: offset * (1/freq) */\n' +
      `\toffset = ${s.clockOffsetNs};\n` +
      '};\n\n',
  );
  out.push(
    'typealias integer {\n\tsize = 27; align = 1; signed = false;\n\tmap = clock.monotonic.value;\n} := uint27_clock_monotonic_t;\n\n' +
      'typealias integer {\n\tsize = 32; align = 8; signed = false;\n\tmap = clock.monotonic.value;\n} := uint32_clock_monotonic_t;\n\n' +
      'typealias integer {\n\tsize = 64; align = 8; signed = false;\n\tmap = clock.monotonic.value;\n} := uint64_clock_monotonic_t;\n\n',
  );
  out.push(
    'struct packet_context {\n' +
      '\tuint64_clock_monotonic_t timestamp_begin;\n' +
      '\tuint64_clock_monotonic_t timestamp_end;\n' +
      '\tuint64_t content_size;\n' +
      '\tuint64_t packet_size;\n' +
      '\tuint64_t packet_seq_num;\n' +
      '\tunsigned long events_discarded;\n' +
      '\tuint32_t cpu_id;\n' +
      '};\n\n',
  );
  out.push(
    'struct event_header_compact {\n' +
      '\tenum : uint5_t { compact = 0 ... 30, extended = 31 } id;\n' +
      '\tvariant <id> {\n' +
      '\t\tstruct {\n\t\t\tuint27_clock_monotonic_t timestamp;\n\t\t} compact;\n' +
      '\t\tstruct {\n\t\t\tuint32_t id;\n\t\t\tuint64_clock_monotonic_t timestamp;\n\t\t} extended;\n' +
      '\t} v;\n} align(8);\n\n' +
      'struct event_header_large {\n' +
      '\tenum : uint16_t { compact = 0 ... 65534, extended = 65535 } id;\n' +
      '\tvariant <id> {\n' +
      '\t\tstruct {\n\t\t\tuint32_clock_monotonic_t timestamp;\n\t\t} compact;\n' +
      '\t\tstruct {\n\t\t\tuint32_t id;\n\t\t\tuint64_clock_monotonic_t timestamp;\n\t\t} extended;\n' +
      '\t} v;\n} align(8);\n\n',
  );
  out.push(
    'stream {\n\tid = 0;\n\tevent.header := struct event_header_compact;\n\tpacket.context := struct packet_context;\n',
  );
  if (s.eventContext && s.eventContext.fields.length > 0) {
    out.push('\tevent.context := struct {\n');
    for (const f of s.eventContext.fields) out.push(fieldDecl(f, '\t\t'));
    out.push('\t};\n');
  }
  out.push('};\n\n');
  for (const e of s.events) out.push(eventDecl(e));
  return out.join('');
}

export function eventDecl(e: RecordedEventClass): string {
  let s = `event {\n\tname = ${tsdlString(e.name)};\n\tid = ${e.id};\n\tstream_id = 0;\n\tfields := struct {\n`;
  for (const f of e.fields.fields) s += fieldDecl(f, '\t\t');
  return `${s}\t};\n};\n\n`;
}

/** Rewrites `file` atomically (write + rename), so a reader never sees half a metadata file. */
export function writeMetadataFile(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
