/**
 * Field values as the generated formatters receive them, turned into what they print: text,
 * array elements, integers, enumeration labels (helpers called by the code of codegen.ts).
 */
import type { FieldValue } from '../ctf/event.js';
import { textToByteString as bytes } from '../ctf/event.js';
import type { Colors } from './colors.js';
import { formatBinary, formatHex, formatOctal, quoteString } from './format.js';
import type { EnumPlan } from './plan.js';

/** A string value (a byte string, see `FieldValue`). */
export function asText(v: FieldValue): string {
  if (typeof v === 'string') return v;
  // A text array/sequence handed over as bytes: babeltrace2 shows it up to the first NUL.
  if (Array.isArray(v)) {
    let s = '';
    for (const b of v) {
      if (b === 0) break;
      s += String.fromCharCode(Number(b) & 0xff);
    }
    return s;
  }
  return String(v);
}

export function asArray(v: FieldValue): FieldValue[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') {
    // The bytes of a text value, shown as integers (not expected from the reader).
    const out: number[] = [];
    for (let i = 0; i < v.length; i++) out.push(v.charCodeAt(i));
    return out;
  }
  return [];
}

export function asIntegral(v: FieldValue): number | bigint {
  return typeof v === 'number' || typeof v === 'bigint' ? v : Number(v);
}

/** `( "A", "B" : container = N )`, with a small cache of the label part per value. */
export function enumFormatter(n: EnumPlan, c: Colors): (v: FieldValue) => string {
  const fc = n.container;
  const num = (v: number | bigint): string => {
    switch (fc.base) {
      case 16:
        return formatHex(v, fc.size);
      case 8:
        return formatOctal(v, fc.size, fc.signed);
      case 2:
        return formatBinary(v, fc.size);
      default:
        return '' + v;
    }
  };
  const labelsOf = (v: number | bigint): string => {
    const b = BigInt(v);
    let s = '';
    let count = 0;
    for (const m of n.mappings) {
      if (m.ranges.some(([lo, hi]) => lo <= b && b <= hi)) {
        s += (count > 0 ? ', ' : '') + c.enumLabel + quoteString(bytes(m.label)) + c.rst;
        count++;
      }
    }
    return count === 0 ? c.unknown + '<unknown>' + c.rst : s;
  };
  const cache = new Map<number | bigint, string>();
  return (raw: FieldValue): string => {
    const v = asIntegral(raw);
    let r = cache.get(v);
    if (r === undefined) {
      r = '( ' + labelsOf(v) + ' : container = ' + c.number + num(v) + c.rst + ' )';
      if (cache.size < 4096) cache.set(v, r);
    }
    return r;
  };
}
