import { describe, expect, it } from 'vitest';
import type { EnumFC, FieldClass, IntegerFC, NamedField, StructFC, VariantFC } from '../ir.js';
import { type CompileEnv, collectClasses, collectRefs, refKey } from './classes.js';
import { compileScope } from './compile.js';
import { DecodeFault, DecodeState, NEED_MORE } from './state.js';
import type { FieldValue } from '../event.js';

const int = (size: number, o: Partial<IntegerFC> = {}): IntegerFC => ({
  kind: 'int',
  size,
  align: o.align ?? (size % 8 === 0 ? 8 : 1),
  signed: false,
  byteOrder: 'le',
  base: 10,
  encoding: 'none',
  ...o,
});
const struct = (fields: NamedField[], minAlign = 1): StructFC => ({
  kind: 'struct',
  fields,
  minAlign,
  align: Math.max(minAlign, ...fields.map((f) => f.type.align)),
});
const f = (name: string, type: FieldClass): NamedField => ({ name, type });
/** A sequence `name` of event.fields and its length field `_<name>_length` before it. */
const sequence = (name: string, length: IntegerFC, element: FieldClass): NamedField[] => [
  f(`_${name}_length`, length),
  f(name, {
    kind: 'sequence',
    length: { scope: 'event.fields', path: [`_${name}_length`], text: `_${name}_length` },
    element,
    align: 8,
  }),
];
/** An enumeration of one range per label, aligned as its container. */
const enumOf = (container: IntegerFC, ...labels: Array<[string, bigint, bigint]>): EnumFC => ({
  kind: 'enum',
  container,
  mappings: labels.map(([label, lo, hi]) => ({ label, ranges: [[lo, hi]] })),
  align: container.align,
});

function env(roots: Array<[Parameters<typeof collectClasses>[0], StructFC]>): CompileEnv {
  const classes = new Map<string, FieldClass>();
  const refs: Parameters<typeof collectRefs>[1] = [];
  for (const [scope, root] of roots) {
    collectClasses(scope, root, classes);
    collectRefs(root, refs);
  }
  const slots = new Map<string, number>();
  for (const r of refs)
    if (!slots.has(refKey(r.scope, r.path))) slots.set(refKey(r.scope, r.path), slots.size);
  return { slots, classes, clocks: new Map(), implicitClock: () => undefined };
}

function run(
  root: StructFC,
  scope: Parameters<typeof compileScope>[1],
  bytes: number[],
  e?: CompileEnv,
  st = new DecodeState(),
) {
  const fn = compileScope(root, scope, e ?? env([[scope, root]]), true);
  const buf = new Uint8Array(bytes.length + 16);
  buf.set(bytes);
  const out: FieldValue[] = new Array(root.fields.length);
  const end = fn(buf, new DataView(buf.buffer), 0, bytes.length * 8, st, out);
  return { out, end, st };
}

describe('compiled decoders', () => {
  it('decodes aligned integers of every size and sign, both byte orders', () => {
    const root = struct([
      f('a', int(8)),
      f('b', int(16, { signed: true })),
      f('c', int(32, { byteOrder: 'be' })),
      f('d', int(64)),
      f('e', int(64, { signed: true })),
    ]);
    const bytes = [
      0xff,
      0xfe,
      0xff,
      0x12,
      0x34,
      0x56,
      0x78,
      ...[1, 0, 0, 0, 0, 0, 0, 0],
      ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ];
    const { out, end } = run(root, 'event.fields', bytes);
    expect(out).toEqual([255, -2, 0x12345678, 1, -1]);
    expect(end).toBe(bytes.length * 8);
  });

  it('applies alignment relative to the start of the buffer', () => {
    const root = struct([f('a', int(8)), f('b', int(32, { align: 32 }))]);
    const { out, end } = run(root, 'event.fields', [7, 0, 0, 0, 9, 0, 0, 0]);
    expect(out).toEqual([7, 9]);
    expect(end).toBe(64);
  });

  it('decodes the LTTng compact event header: id and 27-bit timestamp, extended variant', () => {
    const idEnum = enumOf(int(5), ['compact', 0n, 30n], ['extended', 31n, 31n]);
    const tsMapped = (size: number) => int(size, { mappedClock: 'monotonic', align: size === 27 ? 1 : 8 });
    const v: VariantFC = {
      kind: 'variant',
      tag: { scope: 'stream.event.header', path: ['id'], text: 'id' },
      options: [
        f('compact', struct([f('timestamp', tsMapped(27))])),
        f('extended', struct([f('id', int(32)), f('timestamp', tsMapped(64))])),
      ],
      align: 1,
    };
    const header = struct([f('id', idEnum), f('v', v)], 8);
    const e = env([['stream.event.header', header]]);
    const st = new DecodeState();
    // compact: id 3, timestamp 0x1234567 -> bits: id in low 5 bits, ts in the next 27
    const word = (3 | (0x1234567 << 5)) >>> 0;
    const b = [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24];
    st.clk = 5 * 2 ** 27 + 0x2000000;
    run(header, 'stream.event.header', b, e, st);
    expect(st.id).toBe(3);
    // 0x1234567 < 0x2000000: the 27-bit timestamp wrapped once
    expect(st.clk).toBe(6 * 2 ** 27 + 0x1234567);
    // extended: id 31 then 32-bit id 4242 and a 64-bit timestamp
    // 5-bit id, then the extended struct aligned to 8 bits: 32-bit id at byte 1, timestamp at 5
    const ext = [31, 0x92, 0x10, 0, 0, 0, 0, 0, 0, 0x10, 0x32, 0x54, 0x76];
    st.id = -1;
    run(header, 'stream.event.header', ext, e, st);
    expect(st.id).toBe(0x1092);
    expect(st.clk).toBe(0x76543210 * 2 ** 32);
  });

  it('decodes strings, text arrays and sequences as byte strings', () => {
    const text = int(8, { encoding: 'utf8' });
    const root = struct([
      f('s', { kind: 'string', encoding: 'utf8', align: 8 }),
      f('comm', { kind: 'array', length: 8, element: text, align: 8 }),
      ...sequence('n', int(8), int(16)),
      ...sequence('t', int(8), text),
    ]);
    const bytes = [
      ...Buffer.from('h\xe9llo\0', 'latin1'),
      ...Buffer.from('bash\0xyz', 'latin1'),
      2,
      1,
      0,
      2,
      0,
      0,
    ];
    const { out } = run(root, 'event.fields', bytes);
    expect(out).toEqual(['h\xe9llo', 'bash', 2, [1, 2], 0, '']);
  });

  it('refuses a sequence length the packet cannot hold, without allocating', () => {
    const root = struct([...sequence('n', int(32), int(32))]);
    expect(() => run(root, 'event.fields', [0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4])).toThrow(DecodeFault);
    expect(() => run(root, 'event.fields', [0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4])).toThrow(
      /length 4294967295 does not fit/,
    );
  });

  it('asks for more data when the window ends before the content', () => {
    const root = struct([f('a', int(32)), f('b', int(32))]);
    const fn = compileScope(root, 'event.fields', env([['event.fields', root]]), true);
    const st = new DecodeState();
    st.endIsContent = false;
    const buf = new Uint8Array(32);
    expect(() => fn(buf, new DataView(buf.buffer), 0, 40, st, [])).toThrow(
      expect.objectContaining(NEED_MORE),
    );
    st.endIsContent = true;
    expect(() => fn(buf, new DataView(buf.buffer), 0, 40, st, [])).toThrow(
      /event\.fields field `b` goes past the end/,
    );
  });

  it('selects variant options by tag label ranges and rejects unknown tags', () => {
    const tag = enumOf(int(8), ['a', 0n, 0n], ['b', 1n, 5n]);
    const root = struct([
      f('tag', tag),
      f('v', {
        kind: 'variant',
        tag: { scope: 'event.fields', path: ['tag'], text: 'tag' },
        options: [f('a', int(8)), f('b', int(16))],
        align: 1,
      }),
    ]);
    expect(run(root, 'event.fields', [0, 7]).out).toEqual([0, { option: 0, value: 7 }]);
    expect(run(root, 'event.fields', [3, 1, 1]).out).toEqual([3, { option: 1, value: 257 }]);
    expect(() => run(root, 'event.fields', [9, 1, 1])).toThrow(/tag value 9 of `tag` selects no option/);
  });
});

describe('inline bitfields at known bit phases', () => {
  it('agree with the generic bit readers for random runs of bitfields, both byte orders', async () => {
    const fcheck = (await import('fast-check')).default;
    const { readSbe, readSle, readUbe, readUle } = await import('./bits.js');
    fcheck.assert(
      fcheck.property(
        fcheck.array(fcheck.record({ size: fcheck.integer({ min: 1, max: 32 }), signed: fcheck.boolean() }), {
          minLength: 1,
          maxLength: 12,
        }),
        fcheck.boolean(),
        fcheck.uint8Array({ minLength: 64, maxLength: 64 }),
        (specs, le, bytes) => {
          const fields = specs.map((sp, i) =>
            f(`b${i}`, int(sp.size, { align: 1, signed: sp.signed, byteOrder: le ? 'le' : 'be' })),
          );
          const root = struct(fields, 8);
          const buf = new Uint8Array(80);
          buf.set(bytes);
          const fn = compileScope(root, 'event.fields', env([['event.fields', root]]), true);
          const out: FieldValue[] = new Array(fields.length);
          fn(buf, new DataView(buf.buffer), 0, 64 * 8, new DecodeState(), out);
          let pos = 0;
          specs.forEach((sp, i) => {
            const r = le ? (sp.signed ? readSle : readUle) : sp.signed ? readSbe : readUbe;
            expect(out[i]).toBe(r(buf, pos, sp.size));
            pos += sp.size;
          });
        },
      ),
      { numRuns: 3000 },
    );
  });
});
