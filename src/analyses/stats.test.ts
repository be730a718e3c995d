import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DurationStats, isqrt } from './stats.js';

describe('DurationStats', () => {
  it('computes isqrt exactly', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 10n ** 40n, 10n ** 40n - 1n, (1n << 140n) + 12345n]) {
      const r = isqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
    }
  });

  it('matches statistics.stdev of python3 exactly, also past 2^53 sums of squares', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const sets: number[][] = [
      [100, 200, 300],
      [5, 5, 5, 5],
      [1, 2],
    ];
    for (let s = 0; s < 40; s++) {
      const n = 3 + Math.floor(rnd() * 200);
      const scale = 10 ** Math.floor(rnd() * 9);
      sets.push(Array.from({ length: n }, () => Math.floor(rnd() * scale) + 1));
    }
    sets.push(Array.from({ length: 3000 }, (_, i) => 90_000_000 + i * 7919)); // squares near 2^53
    sets.push([3_000_000_000, 1, 7_000_000_000]); // squares beyond the exact double range
    const script = [
      'import sys, json, statistics',
      'sets = json.loads(sys.stdin.read())',
      'print(json.dumps([[statistics.stdev(s), sum(s) / len(s)] for s in sets]))',
    ].join('\n');
    const py = JSON.parse(
      execFileSync('python3', ['-c', script], { input: JSON.stringify(sets) }).toString(),
    ) as number[][];
    const mine = sets.map((set) => {
      const st = new DurationStats();
      for (const d of set) st.add(d);
      return [st.stdev, st.mean];
    });
    expect(mine).toEqual(py);
  });

  it('merges', () => {
    const a = new DurationStats();
    const b = new DurationStats();
    const all = new DurationStats();
    for (const d of [1, 5, 9]) {
      a.add(d);
      all.add(d);
    }
    for (const d of [100, 2]) {
      b.add(d);
      all.add(d);
    }
    a.merge(b);
    expect([a.count, a.min, a.max, a.sum, a.stdev]).toEqual([
      all.count,
      all.min,
      all.max,
      all.sum,
      all.stdev,
    ]);
  });
});
