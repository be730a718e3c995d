/**
 * Event values as lttng-analyses 0.6.1's period engine sees them (`core/period.py`): a field
 * looked up like babeltrace 1's `event[name]` (or in the scope named), converted to the Python
 * value it compares and captures; cached readers per event class and reference.
 */
import type { EventRecord, FieldValue } from '../../ctf/event.js';
import type { FieldClass, StructFC } from '../../ctf/ir.js';
import { findField, surrogateEscapeDecode } from '../../model/fields.js';
import { pyStrRepr } from '../format/pyfmt.js';
import type { DynScope } from './parse.js';

/** A Python value: int (number or bigint), float, str, or something else (lists, dicts). */
export type PyVal =
  | { readonly t: 'int'; readonly v: number | bigint }
  | { readonly t: 'float'; readonly v: number }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'other'; readonly repr: string };

/**
 * The scopes of an event in lookup order (`$payload` first), each with its field classes and its
 * values in a record.
 */
const SCOPES: ReadonlyArray<{
  readonly name: Exclude<DynScope, 'auto'>;
  readonly fields: (ev: EventRecord) => StructFC | undefined;
  readonly values: (ev: EventRecord) => FieldValue[] | undefined;
}> = [
  { name: '$payload', fields: (ev) => ev.eventClass.fields, values: (ev) => ev.payload },
  { name: '$ctx', fields: (ev) => ev.eventClass.context, values: (ev) => ev.context },
  {
    name: '$stream_ctx',
    fields: (ev) => ev.stream.streamClass.eventContext,
    values: (ev) => ev.streamContext,
  },
  { name: '$header', fields: (ev) => ev.stream.streamClass.eventHeader, values: (ev) => ev.header },
  {
    name: '$pkt_ctx',
    fields: (ev) => ev.stream.streamClass.packetContext,
    values: (ev) => ev.packet.context,
  },
  { name: '$pkt_header', fields: (ev) => ev.stream.trace.cls.packetHeader, values: (ev) => ev.packet.header },
];

/** Python's repr of a value of a field class (for captures of lists and dicts). */
function toPy(fc: FieldClass | undefined, v: FieldValue | undefined): PyVal | undefined {
  if (v === undefined || fc === undefined) return undefined;
  switch (fc.kind) {
    case 'int': {
      const n = v as number | bigint;
      const safe = typeof n === 'bigint' && n >= -(2n ** 53n) && n <= 2n ** 53n;
      return { t: 'int', v: safe ? Number(n) : n };
    }
    case 'float':
      return { t: 'float', v: v as number };
    case 'enum': {
      const n = typeof v === 'bigint' ? v : BigInt(v as number);
      for (const m of fc.mappings)
        for (const [lo, hi] of m.ranges) if (n >= lo && n <= hi) return { t: 'str', v: m.label };
      return undefined;
    }
    case 'string':
      return { t: 'str', v: surrogateEscapeDecode(v as string) };
    case 'array':
    case 'sequence':
      if (typeof v === 'string') return { t: 'str', v: surrogateEscapeDecode(v) };
      return {
        t: 'other',
        repr: '[' + (v as FieldValue[]).map((x) => reprOf(toPy(fc.element, x))).join(', ') + ']',
      };
    case 'struct':
      return {
        t: 'other',
        repr:
          '{' +
          fc.fields
            .map((f, i) => `'${f.name.replace(/^_/, '')}': ${reprOf(toPy(f.type, (v as FieldValue[])[i]))}`)
            .join(', ') +
          '}',
      };
    default:
      return { t: 'other', repr: 'None' };
  }
}

/** Python's `repr` of a value (None when undefined). */
export function reprOf(v: PyVal | undefined): string {
  if (v === undefined) return 'None';
  switch (v.t) {
    case 'int':
      return String(v.v);
    case 'float':
      return pyFloat(v.v);
    case 'str':
      return pyStrRepr(v.v);
    default:
      return v.repr;
  }
}

function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const s = String(x);
  return s.includes('e') ? s.replace(/e([+-])(\d)$/, 'e$10$2') : s;
}

export type Reader = (ev: EventRecord) => PyVal | undefined;

/** Field readers per event class (key) and reference (`name@scope`). */
export class Readers {
  private readonly cache = new Map<string, Reader>();

  reader(ev: EventRecord, field: string, scope: DynScope): Reader {
    const key = `${ev.classKey}\u0000${field}\u0000${scope}`;
    let r = this.cache.get(key);
    if (r === undefined) {
      r = this.make(ev, field, scope);
      this.cache.set(key, r);
    }
    return r;
  }

  private make(ev: EventRecord, field: string, scope: DynScope): Reader {
    for (const s of scope === 'auto' ? SCOPES : SCOPES.filter((x) => x.name === scope)) {
      const st = s.fields(ev);
      const i = findField(st, field);
      if (i >= 0) {
        const fc = st!.fields[i]!.type;
        const values = s.values;
        return (e) => toPy(fc, values(e)?.[i]);
      }
    }
    return () => undefined;
  }
}
