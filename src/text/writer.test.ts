import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatHex, quoteString } from './format.js';
import { ByteWriter, putDec, putHex, putPadded } from './writer.js';

const text = (b: Uint8Array, n: number): string => Buffer.from(b.subarray(0, n)).toString('latin1');

describe('byte writer helpers agree with the string formatters', () => {
  const b = new Uint8Array(64);
  it('putDec', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })),
        (v) => {
          expect(text(b, putDec(b, 0, v))).toBe(String(v));
        },
      ),
      { numRuns: 5000 },
    );
    for (const v of [0, 9, 10, 99, 100, 4294967295, 4294967296, -1, -4294967295, 2 ** 53 - 1]) {
      expect(text(b, putDec(b, 0, v))).toBe(String(v));
    }
  });
  it('putHex', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.nat(), fc.maxSafeNat(), fc.integer({ min: -1000, max: -1 })),
        fc.constantFrom(8, 16, 32, 64),
        (v, size) => {
          expect(text(b, putHex(b, 0, v, size))).toBe(formatHex(v, size));
        },
      ),
      { numRuns: 5000 },
    );
    for (const v of [0, 15, 16, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 0x55bf39b70000, 2 ** 53 - 1]) {
      expect(text(b, putHex(b, 0, v, 64))).toBe(formatHex(v, 64));
    }
    expect(text(b, putHex(b, 0, 18446744073709551615n, 64))).toBe('0xFFFFFFFFFFFFFFFF');
  });
  it('putPadded', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), (v) => {
        expect(text(b, putPadded(b, 0, v, 9))).toBe(String(v).padStart(9, '0'));
      }),
    );
    expect(text(b, putPadded(b, 0, 123456789012, 20))).toBe('00000000123456789012');
    expect(text(b, putPadded(b, 0, 5, 12))).toBe('000000000005');
  });
  it('quoted', () => {
    const w = new ByteWriter(16);
    const s = 'a"b\\c?\x01\n\xe9\xff' + 'x'.repeat(100);
    w.quoted(s);
    expect(w.view().toString('latin1')).toBe(quoteString(s));
  });
});
