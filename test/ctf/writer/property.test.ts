/**
 * Property test: random schemas (integers of any size, alignment and byte order, floats,
 * strings, enums, char arrays, nested structs, arrays, sequences, variants) and random values,
 * written by the writer, decoded by babeltrace2: the values must be those written.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import type { ByteOrder, FieldClass, NamedField } from '../../../src/ctf/ir.js';
import {
  TraceWriter,
  array,
  charArray,
  enumeration,
  field,
  float32,
  float64,
  int,
  lttngLayout,
  sequence,
  string,
  struct,
  uint,
  variant,
} from '../../../src/ctf/writer/index.js';
import type { WValue } from '../../../src/ctf/writer/index.js';
import { structValue } from './expected.js';
import { randomValue, rng } from './random.js';
import { bt2Events, tempDir } from './peers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const ALIGNS = [1, 8, 16, 32, 64] as const;

/** A random schema: a list of fields, with the length/tag fields sequences and variants need. */
function schemaArb(traceBo: ByteOrder): fc.Arbitrary<NamedField[]> {
  let n = 0;
  const name = (): string => `f${n++}`;
  const intArb = fc
    .record({
      size: fc.integer({ min: 1, max: 64 }),
      signed: fc.boolean(),
      align: fc.constantFrom(...ALIGNS),
      base: fc.constantFrom(2, 8, 10, 16),
      otherBo: fc.boolean(),
    })
    .map((r): FieldClass =>
      int(r.size, {
        signed: r.signed,
        align: r.align,
        base: r.base as 2 | 8 | 10 | 16,
        // Byte order may change only on byte boundaries.
        byteOrder: r.otherBo && r.align >= 8 && r.size % 8 === 0 ? (traceBo === 'le' ? 'be' : 'le') : traceBo,
      }),
    );
  const enumArb = fc
    .record({
      size: fc.integer({ min: 2, max: 64 }),
      signed: fc.boolean(),
      labels: fc.integer({ min: 1, max: 4 }),
    })
    .map(({ size, signed, labels }): FieldClass => {
      const lo = signed ? -(1n << BigInt(size - 1)) : 0n;
      const span = 1n << BigInt(size - (signed ? 1 : 0));
      const m: Record<string, [bigint, bigint]> = {};
      for (let i = 0; i < labels; i++) {
        const a = lo + (span * BigInt(i)) / BigInt(labels);
        m[`L${i}`] = [a, a + (span / BigInt(labels) > 1n ? 1n : 0n)];
      }
      return enumeration(int(size, { signed, byteOrder: traceBo }), m);
    });
  const leaf = fc.oneof(
    { weight: 5, arbitrary: intArb },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        float32({ byteOrder: traceBo }),
        float64({ byteOrder: traceBo }),
        float32({ align: 1, byteOrder: traceBo }),
      ),
    },
    { weight: 2, arbitrary: fc.constant(string()) },
    { weight: 1, arbitrary: enumArb },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }).map((len) => charArray(len)) },
  );
  // A field list at some depth: leaves, structs, arrays, sequences (+ length), variants (+ tag).
  const fields = (depth: number): fc.Arbitrary<NamedField[]> =>
    fc
      .array(
        fc.oneof(
          { weight: 6, arbitrary: leaf.map((t) => [field(name(), t)]) },
          ...(depth > 0
            ? [
                { weight: 1, arbitrary: fields(depth - 1).map((fs) => [field(name(), struct(fs, 1))]) },
                {
                  weight: 1,
                  arbitrary: fc
                    .tuple(fc.integer({ min: 0, max: 3 }), fields(depth - 1))
                    .map(([len, fs]) => [
                      field(
                        name(),
                        array(
                          fs.length === 1 && fs[0]!.type.kind !== 'sequence' && fs[0]!.type.kind !== 'variant'
                            ? fs[0]!.type
                            : struct(fs),
                          len,
                        ),
                      ),
                    ]),
                },
                {
                  weight: 1,
                  arbitrary: fc.tuple(fc.constantFrom(8, 16, 32), fields(depth - 1)).map(([lsize, fs]) => {
                    const ln = name();
                    return [
                      field(ln, uint(lsize, { byteOrder: traceBo })),
                      field(name(), sequence(struct(fs), ln)),
                    ];
                  }),
                },
                {
                  weight: 1,
                  arbitrary: fc.array(fields(depth - 1), { minLength: 1, maxLength: 3 }).map((opts) => {
                    const tn = name();
                    const labels = Object.fromEntries(
                      opts.map((_, i) => [`o${i}`, [i * 3, i * 3 + 2] as [number, number]]),
                    );
                    return [
                      field(tn, enumeration(uint(8, { byteOrder: traceBo }), labels)),
                      field(
                        name(),
                        variant(
                          tn,
                          opts.map((fs, i) => field(`o${i}`, struct(fs))),
                        ),
                      ),
                    ];
                  }),
                },
              ]
            : []),
        ),
        { minLength: 0, maxLength: 6 },
      )
      .map((groups) => groups.flat());
  return fields(2);
}

describe('random schemas and values', () => {
  it.each(['le', 'be'] as const)('babeltrace2 decodes what the writer wrote (%s)', (bo) => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(schemaArb(bo), { minLength: 1, maxLength: 4 }), fc.integer(), (schemas, seed) => {
        const dir = join(tmp.dir, `prop-${bo}-${run++}`);
        const tw = TraceWriter.create({
          dir,
          layout: lttngLayout({ domain: 'ust', byteOrder: bo, hostname: 'h', clock: { offsetCycles: 0n } }),
          packetSize: 4096,
        });
        tw.addStreamClass({ header: 'large' });
        const ecs = schemas.map((fs, i) => tw.addEventClass({ name: `ev${i}`, fields: fs }));
        const r = rng(seed);
        const written: Array<{ ec: number; v: WValue[] }> = [];
        const s = tw.stream(0, 0);
        for (let k = 0; k < 12; k++) {
          const i = k % ecs.length;
          const ec = ecs[i]!;
          const v = ec.cls.fields!.fields.map((f) => randomValue(r, f.type));
          if (s.write(ec, 100 + k, v)) written.push({ ec: i, v });
        }
        tw.close();
        const got = bt2Events(dir);
        expect(got.map((g) => g.name)).toEqual(written.map((w) => `ev${w.ec}`));
        got.forEach((g, k) =>
          expect(g.payload).toEqual(structValue(ecs[written[k]!.ec]!.cls.fields!, written[k]!.v)),
        );
      }),
      {
        numRuns: Number(process.env.PROP_RUNS ?? 15),
        ...(process.env.PROP_RUNS ? {} : { seed: bo === 'le' ? 1 : 2 }),
      },
    );
  });
});
