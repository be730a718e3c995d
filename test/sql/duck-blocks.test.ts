/**
 * Columns of more than one block (`BLOCK` rows) reach DuckDB whole, whether built block by block
 * (the collectors' columns) or as one array (`Typed.of`, as `concat` makes for thread_state):
 * every 2048-row chunk of the scan is found in its block.
 */
import { describe, expect, it } from 'vitest';
import { BLOCK, F64Column, I32Column, Typed } from '../../src/sql/columns.js';
import { SqlEngine } from '../../src/sql/duck.js';
import type { BuiltTable } from '../../src/sql/rows.js';

describe('staged columns of several blocks', () => {
  it.each([['built block by block'], ['one array (Typed.of)']])('%s', async (how) => {
    const n = 2 * BLOCK + 77;
    const cpu = new Int32Array(n);
    const ts = new Float64Array(n);
    const kind = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      cpu[i] = i % 7;
      ts[i] = i * 10;
      kind[i] = i % 3 === 0 ? 1 : 0;
    }
    const col = (a: Int32Array | Float64Array): Typed => {
      if (how !== 'built block by block') return Typed.of(a);
      if (a instanceof Float64Array) {
        const c = new F64Column();
        for (const v of a) c.push(v);
        return c.values();
      }
      const c = new I32Column();
      for (const v of a) c.push(v);
      return c.values();
    };
    const t: BuiltTable = {
      name: 'page_alloc',
      machine: 'm',
      base: 1_000_000_000n,
      rows: n,
      columns: [
        { values: col(cpu) },
        { values: col(ts) },
        { values: col(kind), dict: ['alloc', 'free'] },
        { values: col(new Int32Array(n)) },
      ],
      threads: { tid: Int32Array.of(42), key: Int32Array.of(-1), names: [] },
    };
    const e = await SqlEngine.open();
    try {
      await e.create(['page_alloc']);
      await e.append(t);
      const r = await e.query(
        "SELECT count(*), sum(cpu), min(ts), max(ts), count(*) FILTER (kind = 'free'), min(tid), max(tid) FROM page_alloc",
      );
      let sumCpu = 0;
      for (let i = 0; i < n; i++) sumCpu += i % 7;
      expect(r.rows[0]!.map(String)).toEqual([
        String(n),
        String(sumCpu),
        '1000000000',
        String(1_000_000_000 + (n - 1) * 10),
        String(Math.ceil(n / 3)),
        '42',
        '42',
      ]);
    } finally {
      e.close();
    }
  });
});
