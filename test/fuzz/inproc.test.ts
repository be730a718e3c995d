/**
 * In-process fuzzing of the pure parsers, thousands of cases in seconds (fast-check, random
 * seed printed on failure): the TSDL parser on mutated metadata of every seed, the metadata
 * packet reader on mutated packet framing, and the `.idx` reader on mutated index files. Each
 * must return or throw one typed, one-line `NstraceError`; nothing else.
 *
 * The child-process campaign (fuzz.test.ts) covers decoding, the analyses, hangs and memory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIndexFile } from '../../src/ctf/index-file.js';
import { parseMetadata } from '../../src/ctf/metadata/index.js';
import { readMetadataBytes } from '../../src/ctf/metadata/packetized.js';
import { NstraceError } from '../../src/util/errors.js';
import { EDGE_INTS, mutantArbitrary, mutateText } from './mutate.js';
import { loadSeeds } from './seeds.js';

const seeds = loadSeeds(false);
const texts = seeds.map((s) => {
  const path = join(s.dir, 'metadata');
  return readMetadataBytes(readFileSync(path), path).text;
});
const RUNS = Number(process.env.NSTRACE_FUZZ_INPROC_RUNS ?? 1500);

/** Runs `fn`; true when it returned or threw one typed one-line error. */
function clean(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (!(e instanceof NstraceError)) throw e;
    if (e.message.includes('\n'))
      throw new Error(`error message over several lines: ${JSON.stringify(e.message)}`);
    return true;
  }
}

describe('in-process fuzzing of the parsers', () => {
  it('TSDL parser: mutated metadata of every seed', () => {
    const arb = mutantArbitrary(seeds)
      .filter((m) => m.cls === 'tsdl')
      .map((m) => ({ seed: m.seed, ops: m.ops }));
    fc.assert(
      fc.property(arb, ({ seed, ops }) =>
        clean(() => parseMetadata(mutateText(texts[seed]!, ops), 'metadata')),
      ),
      { numRuns: RUNS },
    );
  });

  it('metadata packet reader: mutated packet headers and cuts', () => {
    const packetized = seeds.filter((s) => s.packetized).map((s) => readFileSync(join(s.dir, 'metadata')));
    expect(packetized.length).toBeGreaterThan(0);
    const arb = fc.record({
      file: fc.nat({ max: packetized.length - 1 }),
      edits: fc.array(
        fc.record({
          at: fc.nat({ max: 1 << 20 }),
          width: fc.constantFrom(1, 4),
          v: fc.constantFrom(...EDGE_INTS),
          le: fc.boolean(),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      cut: fc.option(fc.nat({ max: 1 << 20 })),
    });
    fc.assert(
      fc.property(arb, ({ file, edits, cut }) => {
        const src = packetized[file]!;
        const b = Buffer.from(src);
        for (const e of edits) {
          // Mostly inside a packet header (first 37 bytes of a 4 KiB packet).
          const off =
            e.at % 2 === 0 ? (Math.floor(e.at / 64) * 4096 + (e.at % 37)) % b.length : e.at % b.length;
          const v = BigInt(e.v) & ((1n << BigInt(8 * e.width)) - 1n);
          if (e.width === 1) b[off] = Number(v);
          else if (off + 4 <= b.length && e.le) b.writeUInt32LE(Number(v), off);
          else if (off + 4 <= b.length) b.writeUInt32BE(Number(v), off);
        }
        const bytes = cut === null ? b : b.subarray(0, cut % (b.length + 1));
        return clean(() => {
          const m = readMetadataBytes(bytes, 'metadata');
          parseMetadata(
            m.text,
            'metadata',
            m.byteOrder === undefined ? {} : { packetByteOrder: m.byteOrder },
          );
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('index reader: mutated .idx headers and entries', () => {
    const indexes = seeds.flatMap((s) => s.indexes.map((f) => readFileSync(join(s.dir, f))));
    expect(indexes.length).toBeGreaterThan(0);
    const arb = fc.record({
      file: fc.nat({ max: indexes.length - 1 }),
      edits: fc.array(
        fc.record({ at: fc.nat({ max: 1 << 16 }), v: fc.constantFrom(...EDGE_INTS), word: fc.boolean() }),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      cut: fc.option(fc.nat({ max: 1 << 16 })),
    });
    fc.assert(
      fc.property(arb, ({ file, edits, cut }) => {
        const b = Buffer.from(indexes[file]!);
        for (const e of edits) {
          const v = BigInt(e.v);
          if (e.word) {
            const off = (e.at * 4) % 16;
            b.writeUInt32BE(Number(v & 0xffffffffn), off);
          } else if (b.length >= 24) {
            const off = 16 + ((e.at * 8) % (b.length - 16 - 7));
            b.writeBigUInt64BE(v & ((1n << 64n) - 1n), off);
          }
        }
        const bytes = cut === null ? b : b.subarray(0, cut % (b.length + 1));
        return clean(() => {
          const idx = parseIndexFile(bytes, 'index/x.idx');
          for (const e of idx.entries) {
            // What the reader hands on is what the file says, as exact numbers.
            if (!Number.isSafeInteger(e.offset) || !Number.isSafeInteger(e.packetSize))
              throw new Error('unsafe number');
          }
        });
      }),
      { numRuns: RUNS },
    );
  });
});
