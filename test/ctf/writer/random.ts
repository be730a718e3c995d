/** Deterministic random values and a schema with every field type, for the writer tests. */
import type { FieldClass, NamedField } from '../../../src/ctf/ir.js';
import {
  array,
  char,
  charArray,
  enumeration,
  field,
  float32,
  float64,
  hex,
  int,
  lttngField,
  lttngSequence,
  oct,
  s32,
  sint,
  string,
  struct,
  u16,
  u32,
  u8,
  uint,
  variant,
} from '../../../src/ctf/writer/index.js';
import type { WValue } from '../../../src/ctf/writer/index.js';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer value of `size` bits, as number when exact else bigint, edges included. */
export function randInt(r: () => number, size: number, signed: boolean): number | bigint {
  const pick = r();
  const lo = signed ? -(1n << BigInt(size - 1)) : 0n;
  const hi = signed ? (1n << BigInt(size - 1)) - 1n : (1n << BigInt(size)) - 1n;
  let x: bigint;
  if (pick < 0.1) x = lo;
  else if (pick < 0.2) x = hi;
  else if (pick < 0.3) x = 0n;
  else {
    let u = 0n;
    for (let i = 0; i < size; i += 16) u = (u << 16n) | BigInt(Math.floor(r() * 65536));
    x = BigInt.asUintN(size, u);
    if (signed) x = BigInt.asIntN(size, x);
  }
  return x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x;
}

/**
 * Texts to write. No empty string: babeltrace2 2.0.4 shows an empty `string` field with the
 * value of an earlier one (fixed upstream, review.lttng.org/c/babeltrace/+/4528); empty strings
 * are checked separately against babeltrace 1.5.
 */
export const TEXTS = [
  'a',
  'bash',
  'héllo wörld',
  '日本語テキスト',
  'emoji 🙂 here',
  'x'.repeat(40),
  'tab\tand\nnewline',
];

export function allIntFields(bitfields: boolean): NamedField[] {
  const out: NamedField[] = [];
  for (let size = 1; size <= 64; size++) {
    if (!bitfields && size % 8 !== 0) continue;
    const align = bitfields ? 1 : 8;
    out.push(lttngField(`u${size}${bitfields ? 'b' : ''}`, uint(size, { align })));
    out.push(lttngField(`s${size}${bitfields ? 'b' : ''}`, sint(size, { align })));
  }
  return out;
}

export function randomValue(r: () => number, fc: FieldClass): WValue {
  switch (fc.kind) {
    case 'int':
      return randInt(r, fc.size, fc.signed);
    case 'enum': {
      const m = fc.mappings[Math.floor(r() * fc.mappings.length)]!;
      const x = m.ranges[0]![1];
      return r() < 0.3 ? m.label : x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x;
    }
    case 'float':
      return r() < 0.2 ? 0 : (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
    case 'string':
      return TEXTS[Math.floor(r() * TEXTS.length)]!;
    case 'array':
    case 'sequence': {
      const el = fc.element;
      if (el.kind === 'int' && el.size === 8 && el.encoding !== 'none') {
        // Empty char arrays and text sequences hit the same babeltrace2 bug as strings.
        return TEXTS[Math.floor(r() * TEXTS.length)]!;
      }
      const n = fc.kind === 'array' ? fc.length : Math.floor(r() * 5);
      return Array.from({ length: n }, () => randomValue(r, el));
    }
    case 'struct':
      return fc.fields.map((f) => randomValue(r, f.type));
    case 'variant': {
      const i = Math.floor(r() * fc.options.length);
      return { option: r() < 0.5 ? i : fc.options[i]!.name, value: randomValue(r, fc.options[i]!.type) };
    }
  }
}

export function kitchenSink(): NamedField[] {
  const tag = enumeration(u8(), { small: 0, medium: [1, 9], big: 10, text: 11 });
  const point = struct([lttngField('x', s32()), lttngField('y', s32()), lttngField('label', string())]);
  return [
    ...allIntFields(true),
    ...allIntFields(false),
    lttngField('hex32', hex(32)),
    lttngField('hex64', hex(64)),
    lttngField('hexs16', int(16, { signed: true, base: 16 })),
    lttngField('oct16', oct(16)),
    lttngField('bin8', int(8, { base: 2 })),
    lttngField('be32', int(32, { signed: true, byteOrder: 'be' })),
    lttngField('le64', int(64, { byteOrder: 'le' })),
    lttngField('f32', float32()),
    lttngField('f64', float64()),
    lttngField('bit3', uint(3)),
    lttngField('f32u', float32({ align: 1 })),
    lttngField('f64u', float64({ align: 1 })),
    lttngField('str', string()),
    lttngField('ascii', string('ascii')),
    lttngField('en_u', enumeration(u16(), { A: 0, B: [1, 100], C: 65535 })),
    lttngField('en_s', enumeration(sint(32), { NEG: [-100, -1], ZERO: 0, POS: [1, 2147483647] })),
    lttngField('en_64', enumeration(uint(64), { LOW: 0, HIGH: [1n << 62n, (1n << 64n) - 1n] })),
    lttngField('comm', charArray(16)),
    lttngField('comm_u', charArray(16, { signed: false })),
    lttngField('bytes', array(uint(8), 6)),
    lttngField('arr_s32', array(s32(), 4)),
    lttngField('arr_bits', array(uint(3), 5)),
    lttngField('arr_arr', array(array(u16(), 2), 3)),
    lttngField('arr_pt', array(point, 2)),
    ...lttngSequence('msg', char(), u32()),
    ...lttngSequence('seq_u16', u16(), u8()),
    ...lttngSequence('seq_pt', point),
    ...lttngSequence('seq_str', string(), u8()),
    lttngField(
      'nested',
      struct([
        lttngField('a', u8()),
        lttngField('inner', struct([lttngField('b', uint(5)), lttngField('c', string())])),
      ]),
    ),
    lttngField('tag', tag),
    lttngField(
      'var',
      variant('_tag', [
        field('small', u8()),
        field('medium', struct([lttngField('m', u32()), lttngField('n', string())])),
        field('big', float64()),
        field('text', string()),
      ]),
    ),
    lttngField('after_var', uint(7)),
    // A variant whose options hold their own tag, variant and sequence (paths through options).
    lttngField('kind', enumeration(u8(), { num: 0, rec: 1 })),
    lttngField(
      'deep',
      variant('_kind', [
        field('num', s32()),
        field(
          'rec',
          struct([
            lttngField('sub', enumeration(uint(4), { p: 0, q: [1, 15] })),
            lttngField('sv', variant('_sub', [field('p', string()), field('q', array(u8(), 2))])),
            ...lttngSequence('items', struct([lttngField('k', u16()), lttngField('t', string())]), u8()),
          ]),
        ),
      ]),
    ),
    lttngField('nested_seq', struct([...lttngSequence('v', s32(), u8())])),
  ];
}
