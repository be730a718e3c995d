/**
 * Compact type codes for LTTng event fields, and their CTF IR field classes.
 *
 * Codes: `i8 i16 i32 i64 u8 u16 u32 u64` (integers, little-endian, byte-aligned as LTTng writes
 * them on x86), suffix `x` (hex display) or `o` (octal display), suffix `[N]` (fixed array of
 * that integer), `s` (NUL-terminated UTF-8 string), `c16` (char[16] text array, like `comm`),
 * `u8x[]` (a sequence of hex bytes whose u64 length field precedes it), `i32[u8]` (a sequence of
 * i32 whose u8 length field precedes it), suffix `be` on an integer (big-endian, network order).
 */
import type {
  ArrayFC,
  FieldClass,
  IntegerFC,
  NamedField,
  SequenceFC,
  StringFC,
  StructFC,
} from '../ctf/ir.js';

export interface IntCode {
  kind: 'int';
  size: 8 | 16 | 32 | 64;
  signed: boolean;
  base: 8 | 10 | 16;
  bigEndian: boolean;
}
export interface TypeCode {
  kind: 'int' | 'string' | 'text' | 'intarray' | 'seq';
  /** For int, intarray and seq: the element. */
  int?: IntCode;
  /** For seq: the length field's size in bits. */
  lengthBits?: number;
  /** Fixed array length (text, intarray). */
  length?: number;
  /** Encoded size in bytes when fixed, else -1. */
  fixedSize: number;
}

const cache = new Map<string, TypeCode>();

export function parseTypeCode(code: string): TypeCode {
  const hit = cache.get(code);
  if (hit) return hit;
  let t: TypeCode;
  if (code === 's') t = { kind: 'string', fixedSize: -1 };
  else if (/^c\d+$/.test(code)) {
    const n = Number(code.slice(1));
    t = { kind: 'text', length: n, fixedSize: n };
  } else {
    const m = /^([iu])(8|16|32|64)([xo]?)(be)?(?:\[(\d*|u8)\])?$/.exec(code);
    if (!m) throw new Error(`bad type code ${code}`);
    const int: IntCode = {
      kind: 'int',
      size: Number(m[2]) as 8 | 16 | 32 | 64,
      signed: m[1] === 'i',
      base: m[3] === 'x' ? 16 : m[3] === 'o' ? 8 : 10,
      bigEndian: m[4] === 'be',
    };
    if (m[5] === '') t = { kind: 'seq', int, lengthBits: 64, fixedSize: -1 };
    else if (m[5] === 'u8') t = { kind: 'seq', int, lengthBits: 8, fixedSize: -1 };
    else if (m[5] !== undefined) {
      const n = Number(m[5]);
      t = { kind: 'intarray', int, length: n, fixedSize: (n * int.size) / 8 };
    } else t = { kind: 'int', int, fixedSize: int.size / 8 };
  }
  cache.set(code, t);
  return t;
}

export function intFC(
  size: number,
  signed: boolean,
  base: 2 | 8 | 10 | 16 = 10,
  encoding: 'none' | 'utf8' = 'none',
  bigEndian = false,
): IntegerFC {
  return { kind: 'int', size, align: 8, signed, byteOrder: bigEndian ? 'be' : 'le', base, encoding };
}

function intOf(c: IntCode): IntegerFC {
  return intFC(c.size, c.signed, c.base, 'none', c.bigEndian);
}

export const STRING_FC: StringFC = { kind: 'string', encoding: 'utf8', align: 8 };

export function textFC(length: number): ArrayFC {
  return { kind: 'array', length, element: intFC(8, false, 10, 'utf8'), align: 8 };
}

/**
 * Name of a field in the CTF IR: as in the TSDL LTTng writes, with a leading `_` (babeltrace
 * shows it without).
 */
export function ctfName(name: string): string {
  return `_${name}`;
}

/** The field class(es) of one field: a sequence also needs its length field before it. */
export function fieldsForCode(plainName: string, code: string): NamedField[] {
  const t = parseTypeCode(code);
  const name = ctfName(plainName);
  switch (t.kind) {
    case 'string':
      return [{ name, type: STRING_FC }];
    case 'text':
      return [{ name, type: textFC(t.length!) }];
    case 'int':
      return [{ name, type: intOf(t.int!) }];
    case 'intarray': {
      const a: ArrayFC = { kind: 'array', length: t.length!, element: intOf(t.int!), align: 8 };
      return [{ name, type: a }];
    }
    case 'seq': {
      // LTTng names the length `__<name>_length`.
      const lenName = ctfName(`_${plainName}_length`);
      const s: SequenceFC = {
        kind: 'sequence',
        length: { scope: 'event.fields', path: [lenName], text: lenName },
        element: intOf(t.int!),
        align: 8,
      };
      return [
        { name: lenName, type: intFC(t.lengthBits!, false) },
        { name, type: s },
      ];
    }
  }
}

export function structFC(fields: readonly NamedField[]): StructFC {
  return { kind: 'struct', fields, minAlign: 1, align: fields.length > 0 ? 8 : 1 };
}

export function structFromCodes(spec: ReadonlyArray<readonly [string, string]>): StructFC {
  const fields: NamedField[] = [];
  for (const [n, c] of spec) fields.push(...fieldsForCode(n, c));
  return structFC(fields);
}

export type { FieldClass };
