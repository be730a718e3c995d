import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readSbe, readSle, readUbe, readUle, updateClock } from './bits.js';

/** Reference: value of `size` bits at bit `pos`, computed bit by bit with BigInt. */
function refRead(bytes: Uint8Array, pos: number, size: number, le: boolean, signed: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < size; i++) {
    const bit = pos + i;
    const byte = bytes[bit >>> 3]!;
    if (le) {
      const b = (byte >>> (bit & 7)) & 1;
      v |= BigInt(b) << BigInt(i);
    } else {
      const b = (byte >>> (7 - (bit & 7))) & 1;
      v = (v << 1n) | BigInt(b);
    }
  }
  if (signed && size > 0 && v >= 1n << BigInt(size - 1)) v -= 1n << BigInt(size);
  return v;
}

describe('bit readers', () => {
  it('agree with a bit-by-bit reference for every size, offset and byte order', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        fc.integer({ min: 0, max: 63 }),
        fc.integer({ min: 1, max: 64 }),
        (bytes, pos, size) => {
          const buf = new Uint8Array(40);
          buf.set(bytes);
          expect(BigInt(readUle(buf, pos, size))).toBe(refRead(buf, pos, size, true, false));
          expect(BigInt(readUbe(buf, pos, size))).toBe(refRead(buf, pos, size, false, false));
          expect(BigInt(readSle(buf, pos, size))).toBe(refRead(buf, pos, size, true, true));
          expect(BigInt(readSbe(buf, pos, size))).toBe(refRead(buf, pos, size, false, true));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('returns numbers below 2^53 and bigints above', () => {
    const buf = new Uint8Array(16).fill(0xff);
    expect(typeof readUle(buf, 0, 53)).toBe('number');
    expect(readUle(buf, 0, 64)).toBe(2n ** 64n - 1n);
    expect(readSle(buf, 0, 64)).toBe(-1);
  });

  it('updates a clock from partial values, wrapping once like babeltrace2', () => {
    expect(updateClock(0, 5, 27)).toBe(5);
    const m = 2 ** 27;
    expect(updateClock(3 * m + 100, 50, 27)).toBe(4 * m + 50);
    expect(updateClock(3 * m + 100, 200, 27)).toBe(3 * m + 200);
    expect(updateClock(123456789012, 7, 64)).toBe(7);
  });
});
