/** The typed column buffers: values across blocks, and unknown numbers stored as NULL. */
import { describe, expect, it } from 'vitest';
import { BLOCK, F64Column, I32Column, NULL_I32, TEXT_BLOCK, TextColumn } from '../../src/sql/columns.js';

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

  it('keeps text across row and byte blocks: nulls, multi-byte UTF-8, a string longer than a block', () => {
    const t = new TextColumn();
    expect(t.allNull()).toBe(true);
    const long = 'é'.repeat(TEXT_BLOCK); // 2 bytes each: twice a block
    const want: Array<string | null> = [];
    const n = BLOCK + 300;
    for (let i = 0; i < n; i++) {
      const v =
        i === 7
          ? long
          : i % 5 === 0
            ? null
            : i % 3 === 0
              ? `{"comm":"ƒ→${i}😀"}`
              : `{"ret":${i},"x":"${'a'.repeat(i % 97)}"}`;
      want.push(v);
      t.push(v);
    }
    t.push('');
    want.push('');
    expect(t.length).toBe(n + 1);
    expect(t.allNull()).toBe(false);
    for (let i = 0; i <= n; i++) if (t.at(i) !== want[i]) expect([i, t.at(i)]).toEqual([i, want[i]]);
    // A chunk as DuckDB takes it, across the boundary of two row blocks.
    expect(t.slice(BLOCK - 2, 300)).toEqual(want.slice(BLOCK - 2, BLOCK - 2 + 300));
    expect(t.slice(0, 3)).toEqual([null, '{"ret":1,"x":"a"}', '{"ret":2,"x":"aa"}']);
  });
});
