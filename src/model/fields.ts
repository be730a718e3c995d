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
