/**
 * Event values as lttng-analyses 0.6.1's period engine sees them (`core/period.py`): a field
 * looked up like babeltrace 1's `event[name]` (or in the scope named), converted to the Python
 * value it compares and captures; cached readers per event class and reference.
 */
import type { EventRecord, FieldValue } from '../../ctf/event.js';
import type { FieldClass, StructFC } from '../../ctf/ir.js';
import { findField, surrogateEscapeDecode } from '../../model/fields.js';
import type { DynScope } from './parse.js';

/** A Python value: int (number or bigint), float, str, or something else (lists, dicts). */
export type PyVal =
  | { readonly t: 'int'; readonly v: number | bigint }
  | { readonly t: 'float'; readonly v: number }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'other'; readonly repr: string };

const SCOPE_OF: Record<Exclude<DynScope, 'auto'>, number> = {
  $payload: 0,
  $ctx: 1,
  $stream_ctx: 2,
  $header: 3,
  $pkt_ctx: 4,
  $pkt_header: 5,
};

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
      return pyStr(v.v);
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

function pyStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else {
      const c = ch.codePointAt(0)!;
      out += c < 0x20 || c === 0x7f ? '\\x' + c.toString(16).padStart(2, '0') : ch;
    }
  }
  return out + q;
}

export type Reader = (ev: EventRecord) => PyVal | undefined;

function scopeStruct(ev: EventRecord, i: number): StructFC | undefined {
  const sc = ev.stream.streamClass;
  switch (i) {
    case 0:
      return ev.eventClass.fields;
    case 1:
      return ev.eventClass.context;
    case 2:
      return sc.eventContext;
    case 3:
      return sc.eventHeader;
    case 4:
      return sc.packetContext;
    default:
      return ev.stream.trace.cls.packetHeader;
  }
}

function scopeValues(ev: EventRecord, i: number): FieldValue[] | undefined {
  switch (i) {
    case 0:
      return ev.payload;
    case 1:
      return ev.context;
    case 2:
      return ev.streamContext;
    case 3:
      return ev.header;
    case 4:
      return ev.packet.context;
    default:
      return ev.packet.header;
  }
}

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
    const order = scope === 'auto' ? [0, 1, 2, 3, 4, 5] : [SCOPE_OF[scope]];
    for (const s of order) {
      const st = scopeStruct(ev, s);
      const i = findField(st, field);
      if (i >= 0) {
        const fc = st!.fields[i]!.type;
        return (e) => toPy(fc, scopeValues(e, s)?.[i]);
      }
    }
    return () => undefined;
  }
}
