/**
 * What babeltrace2 (through bt2dump.py) should show for a value written with a field class:
 * computed from the class and the value by the CTF rules (truncation to the integer size, float32
 * rounding, text up to the first NUL, one leading underscore dropped from names).
 */
import type { FieldClass, StructFC } from '../../../src/ctf/ir.js';
import type { WValue } from '../../../src/ctf/writer/index.js';
import type { DumpValue } from './peers.js';

export function bt2Name(name: string): string {
  return name.startsWith('_') ? name.slice(1) : name;
}

function intValue(size: number, signed: boolean, v: WValue): bigint {
  let x = typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(Math.trunc(v)) : 0n;
  x = BigInt.asUintN(size, x);
  if (signed) x = BigInt.asIntN(size, x);
  return x;
}

const utf8 = new TextEncoder();
const dec = new TextDecoder();

function cutAtNul(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

/** Text of n UTF-8 bytes at most, cut at a character boundary (as the writer does). */
function fitUtf8(s: string, n: number): string {
  const b = utf8.encode(s);
  if (b.length <= n) return s;
  let end = n;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return dec.decode(b.subarray(0, end));
}

export function expectedValue(fc: FieldClass, v: WValue): DumpValue {
  switch (fc.kind) {
    case 'int':
      return intValue(fc.size, fc.signed, v).toString();
    case 'enum': {
      const raw = typeof v === 'string' ? fc.mappings.find((m) => m.label === v)!.ranges[0]![0] : v;
      const x = intValue(fc.container.size, fc.container.signed, raw);
      const labels = fc.mappings
        .filter((m) => m.ranges.some(([lo, hi]) => x >= lo && x <= hi))
        .map((m) => m.label);
      return { enum: x.toString(), labels: [...new Set(labels)].sort() };
    }
    case 'float':
      return fc.mantDig === 24 ? Math.fround(Number(v ?? 0)) : Number(v ?? 0);
    case 'string':
      return cutAtNul(typeof v === 'string' ? v : '');
    case 'struct':
      return structValue(fc, v as WValue[] | undefined);
    case 'array':
    case 'sequence': {
      const el = fc.element;
      const text = el.kind === 'int' && el.size === 8 && el.encoding !== 'none';
      if (text && typeof v === 'string') {
        return fc.kind === 'array' ? cutAtNul(fitUtf8(cutAtNul(v), fc.length)) : cutAtNul(v);
      }
      const arr = (v ?? []) as WValue[];
      const n = fc.kind === 'array' ? fc.length : arr.length;
      const out: DumpValue[] = [];
      for (let i = 0; i < n; i++) out.push(expectedValue(el, arr[i]));
      return out;
    }
    case 'variant': {
      const vv = v as { option: number | string; value: WValue };
      const i = typeof vv.option === 'number' ? vv.option : fc.options.findIndex((o) => o.name === vv.option);
      const o = fc.options[i]!;
      return { option: bt2Name(o.name), value: expectedValue(o.type, vv.value) };
    }
  }
}

/**
 * Expected structure value. Sequence length fields get the length of their sequence; variant
 * tags the value selecting the written option (`fixups` maps field index to the value).
 */
export function structValue(s: StructFC, values: readonly WValue[] | undefined): DumpValue {
  const vals = [...(values ?? [])];
  // Lengths and tags referenced by siblings (the writer fills them in).
  s.fields.forEach((f, i) => {
    const t = f.type;
    if (t.kind === 'sequence' && t.length.path.length >= 1) {
      const li = s.fields.findIndex((g) => g.name === t.length.path[t.length.path.length - 1]);
      if (li >= 0) {
        const v = vals[i];
        const el = t.element;
        const isText = el.kind === 'int' && el.size === 8 && el.encoding !== 'none' && typeof v === 'string';
        vals[li] = isText
          ? utf8.encode(v).length
          : Array.isArray(v) || v instanceof Uint8Array
            ? v.length
            : 0;
      }
    }
    if (t.kind === 'variant') {
      const ti = s.fields.findIndex((g) => g.name === t.tag.path[t.tag.path.length - 1]);
      const tagFc = ti >= 0 ? s.fields[ti]!.type : undefined;
      if (tagFc !== undefined && tagFc.kind === 'enum') {
        const vv = vals[i] as { option: number | string } | undefined;
        const oi =
          typeof vv?.option === 'number' ? vv.option : t.options.findIndex((o) => o.name === vv?.option);
        const name = t.options[oi]!.name;
        const cur = vals[ti];
        const curX = typeof cur === 'number' || typeof cur === 'bigint' ? BigInt(cur) : undefined;
        const ok =
          curX !== undefined &&
          tagFc.mappings.some(
            (m) => m.label === name && m.ranges.some(([lo, hi]) => curX >= lo && curX <= hi),
          );
        if (!ok) vals[ti] = tagFc.mappings.find((m) => m.label === name)!.ranges[0]![0];
      }
    }
  });
  return s.fields.map((f, i) => [bt2Name(f.name), expectedValue(f.type, vals[i])]);
}
