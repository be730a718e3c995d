/**
 * Field access resolved once per event class, for the model and the analyses.
 *
 * CTF 1.8 metadata written by LTTng prefixes every field name with `_` (`_prev_tid`), and
 * readers show it without (`prev_tid`). Lookups here accept both spellings, so they work whether
 * or not the reader strips the underscore. Each lookup returns a small getter closure that
 * reads one scope of the record by index: no name is compared per event.
 */
import { byteStringToText } from '../ctf/event.js';
import type { EventRecord, FieldValue } from '../ctf/event.js';
import type { EventClass, FieldClass, StreamClass, StructFC } from '../ctf/ir.js';

/** Index of `name` (or `_name`) in `struct`, or -1. */
export function findField(struct: StructFC | undefined, name: string): number {
  if (struct === undefined) return -1;
  const alt = '_' + name;
  let altIdx = -1;
  const fields = struct.fields;
  for (let i = 0; i < fields.length; i++) {
    const n = fields[i]!.name;
    if (n === name) return i;
    if (n === alt && altIdx < 0) altIdx = i;
  }
  return altIdx;
}

/** Reads one field of a record; `undefined` when the record lacks the scope. */
export type Getter = (ev: EventRecord) => FieldValue | undefined;

/** Where a field lives, for messages and tests. */
export type FieldScope = 'payload' | 'context' | 'streamContext' | 'header' | 'packet';

export interface FieldLocation {
  readonly scope: FieldScope;
  readonly index: number;
  readonly get: Getter;
}

function getterFor(scope: FieldScope, i: number): Getter {
  switch (scope) {
    case 'payload':
      return (ev) => ev.payload?.[i];
    case 'context':
      return (ev) => ev.context?.[i];
    case 'streamContext':
      return (ev) => ev.streamContext?.[i];
    case 'header':
      return (ev) => ev.header?.[i];
    case 'packet':
      return (ev) => ev.packet.context?.[i];
  }
}

/** Looks up a payload field only. */
export function payloadField(ec: EventClass, name: string): FieldLocation | undefined {
  const i = findField(ec.fields, name);
  return i < 0 ? undefined : { scope: 'payload', index: i, get: getterFor('payload', i) };
}

/** Looks up a stream event context field only (`_pid_ns`, `_vtid`, ...). */
export function streamContextField(sc: StreamClass, name: string): FieldLocation | undefined {
  const i = findField(sc.eventContext, name);
  return i < 0 ? undefined : { scope: 'streamContext', index: i, get: getterFor('streamContext', i) };
}

/**
 * Looks up a field the way babeltrace 1 (and so lttng-analyses) does for `event[name]`: the
 * payload first, then the event context, the stream event context, the event header and the
 * packet context.
 */
export function anyField(sc: StreamClass, ec: EventClass, name: string): FieldLocation | undefined {
  const order: Array<[FieldScope, StructFC | undefined]> = [
    ['payload', ec.fields],
    ['context', ec.context],
    ['streamContext', sc.eventContext],
    ['header', sc.eventHeader],
    ['packet', sc.packetContext],
  ];
  for (const [scope, struct] of order) {
    const i = findField(struct, name);
    if (i >= 0) return { scope, index: i, get: getterFor(scope, i) };
  }
  return undefined;
}

/** `anyField` of each name, in order (bound once per event class). */
export function anyFields(
  info: { readonly streamClass: StreamClass; readonly eventClass: EventClass },
  ...names: string[]
): Array<FieldLocation | undefined> {
  return names.map((n) => anyField(info.streamClass, info.eventClass, n));
}

/** `payloadField` of each name, in order (bound once per event class). */
export function payloadFields(
  info: { readonly eventClass: EventClass },
  ...names: string[]
): Array<FieldLocation | undefined> {
  return names.map((n) => payloadField(info.eventClass, n));
}

/** The class of a field found by the lookups above. */
export function classAt(sc: StreamClass, ec: EventClass, loc: FieldLocation): FieldClass | undefined {
  const struct =
    loc.scope === 'payload'
      ? ec.fields
      : loc.scope === 'context'
        ? ec.context
        : loc.scope === 'streamContext'
          ? sc.eventContext
          : loc.scope === 'header'
            ? sc.eventHeader
            : sc.packetContext;
  return struct?.fields[loc.index]?.type;
}

/** The value of a field of this class is a number or a bigint (an integer or an enumeration). */
export function isIntegerClass(fc: FieldClass | undefined): boolean {
  return fc !== undefined && (fc.kind === 'int' || fc.kind === 'enum');
}

/** The value of a field of this class is a byte string (a string, or an array or sequence of text bytes). */
export function isTextClass(fc: FieldClass | undefined): boolean {
  if (fc === undefined) return false;
  if (fc.kind === 'string') return true;
  if (fc.kind !== 'array' && fc.kind !== 'sequence') return false;
  const e = fc.element;
  return e.kind === 'int' && e.size === 8 && e.encoding !== 'none';
}

/** An integer field value as a number (bigint converted, anything else NaN). */
export function toNum(v: FieldValue | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return NaN;
}

/** A text field value as text (byte strings decoded as UTF-8; numbers printed; anything else empty). */
export function toStr(v: FieldValue | undefined): string {
  if (typeof v === 'string') return byteStringToText(v);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return '';
}

/** A sequence/array of integers as numbers (empty when not an array). */
export function toNumArray(v: FieldValue | undefined): number[] {
  if (!Array.isArray(v)) return [];
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = toNum(v[i]);
  return out;
}

/** Reads an integer through an optional getter; NaN when absent. */
export function readNum(loc: FieldLocation | undefined, ev: EventRecord): number {
  return loc === undefined ? NaN : toNum(loc.get(ev));
}

/** `readNum`, undefined when the field is absent or not a finite number. */
export function optNum(loc: FieldLocation | undefined, ev: EventRecord): number | undefined {
  const v = readNum(loc, ev);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * A text field value as Python reads it through babeltrace 1 (lttng-analyses): UTF-8 with the
 * `surrogateescape` error handler, each byte of an invalid sequence becoming U+DC80..U+DCFF, so
 * that the bytes survive to the output (see `pyTextBytes`). Other values as `toStr`.
 */
export function toPyStr(v: FieldValue | undefined): string {
  if (typeof v !== 'string') return toStr(v);
  let ascii = true;
  for (let i = 0; i < v.length; i++) {
    if (v.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? v : surrogateEscapeDecode(v);
}

/** Continuation ranges of the first continuation byte after a lead byte (Unicode table 3-7). */
function firstRange(b: number): [number, number, number] | undefined {
  if (b >= 0xc2 && b <= 0xdf) return [1, 0x80, 0xbf];
  if (b === 0xe0) return [2, 0xa0, 0xbf];
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return [2, 0x80, 0xbf];
  if (b === 0xed) return [2, 0x80, 0x9f];
  if (b === 0xf0) return [3, 0x90, 0xbf];
  if (b >= 0xf1 && b <= 0xf3) return [3, 0x80, 0xbf];
  if (b === 0xf4) return [3, 0x80, 0x8f];
  return undefined;
}

/** `bytes.decode('utf-8', 'surrogateescape')` of a byte string (one char per byte). */
export function surrogateEscapeDecode(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const b = s.charCodeAt(i);
    if (b < 0x80) {
      out += s[i];
      i++;
      continue;
    }
    const r = firstRange(b);
    let ok = r !== undefined;
    if (ok) {
      const n = r![0];
      if (i + n >= s.length) ok = false;
      for (let k = 1; ok && k <= n; k++) {
        const c = s.charCodeAt(i + k);
        const lo = k === 1 ? r![1] : 0x80;
        const hi = k === 1 ? r![2] : 0xbf;
        if (!(c >= lo && c <= hi)) ok = false;
      }
    }
    if (!ok) {
      out += String.fromCharCode(0xdc00 + b);
      i++;
      continue;
    }
    const n = r![0];
    let cp = b & (n === 1 ? 0x1f : n === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= n; k++) cp = (cp << 6) | (s.charCodeAt(i + k) & 0x3f);
    out += String.fromCodePoint(cp);
    i += n + 1;
  }
  return out;
}

/**
 * Text as bytes the way Python writes it with `surrogateescape`: UTF-8, except U+DC80..U+DCFF,
 * which stand for the raw bytes 0x80..0xFF (other lone surrogates become U+FFFD).
 */
export function pyTextBytes(text: string): Buffer {
  // Without surrogates, plain UTF-8. (A regular expression: V8 answers at once for a string
  // it stores one byte per character, where a loop over 28 M characters took 0.16 s.)
  if (!/[\ud800-\udfff]/.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        run += text[i]! + text[i + 1]!;
        i++;
        continue;
      }
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      parts.push(Buffer.from(run, 'utf8'), Buffer.from([c - 0xdc00]));
      run = '';
    } else if (c >= 0xd800 && c <= 0xdfff) run += '\ufffd';
    else run += text[i]!;
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}
