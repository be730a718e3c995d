/** pushAll appends arrays of any length (a spread call overflows the stack past ~100 k items). */
import { describe, expect, it } from 'vitest';
import { pushAll } from '../../src/util/push-all.js';

describe('pushAll', () => {
  it('appends in order', () => {
    const a = [1, 2];
    pushAll(a, [3, 4]);
    expect(a).toEqual([1, 2, 3, 4]);
  });

  it('appends two million items, where push(...items) throws', () => {
    const big = Array.from({ length: 2_000_000 }, (_, i) => i);
    expect(() => [].push(...(big as never[]))).toThrow(RangeError);
    const a: number[] = [];
    pushAll(a, big);
    expect(a.length).toBe(2_000_000);
    expect(a[1_999_999]).toBe(1_999_999);
  });
});
