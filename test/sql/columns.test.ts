/** The typed column buffers: values across blocks, and unknown numbers stored as NULL. */
import { describe, expect, it } from 'vitest';
import { BLOCK, F64Column, I32Column, NULL_I32 } from '../../src/sql/columns.js';

describe('column buffers', () => {
  it('an unknown (NaN) id or CPU is NULL in an int32 column, not 0', () => {
    const c = new I32Column();
    c.push(3);
    c.push(NaN);
    c.push(0);
    expect([...c.array()]).toEqual([3, NULL_I32, 0]);
    const only = new I32Column();
    only.push(NaN);
    expect(only.values().allNull()).toBe(true);
  });

  it('keeps every value across blocks', () => {
    const c = new I32Column();
    const f = new F64Column();
    const n = BLOCK * 2 + 5;
    for (let i = 0; i < n; i++) {
      c.push(i);
      f.push(i / 2);
    }
    const a = c.array();
    expect(a.length).toBe(n);
    expect(a[BLOCK]).toBe(BLOCK);
    expect(a[n - 1]).toBe(n - 1);
    expect(c.values().blocks.length).toBe(3);
    expect(f.array()[n - 1]).toBe((n - 1) / 2);
  });
});
