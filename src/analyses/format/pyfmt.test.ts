import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatFixed, pyDictStr, pyFloatRepr, pyRound } from './pyfmt.js';

/** Values that exercise ties, exponents, integral floats and the usual percentages. */
function sampleValues(): number[] {
  const v: number[] = [
    0, -0, 0.125, 0.375, 2.5, 3.5, -2.5, 0.005, 1.005, 1e-5, 1e-4, 0.0001234, 123.456, 1e15, 1e16,
  ];
  v.push(
    1.5e16,
    12345678901234568,
    0.1 + 0.2,
    100,
    29.695925615974197,
    54.18,
    1 / 3,
    2 / 3,
    62.333333333333336,
  );
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 0; i < 300; i++) {
    const mag = Math.floor(rnd() * 12) - 4;
    v.push(Math.round(rnd() * 1e6) / 10 ** (6 - mag));
    v.push((Math.floor(rnd() * 2000) + 0.5) / 1000); // many exact-ish ties at 3 places
    v.push(Math.floor(rnd() * 1e9) / 1000); // ns → us
  }
  return v;
}

/**
 * Expects `mine` to give, for every value (-0 as 0), the strings python3 gives with `rows` (an
 * expression over `vals`, the values as floats, that makes one list of strings per value).
 */
function expectSameAsPython(values: readonly number[], rows: string, mine: (y: number) => string[]): void {
  const ys = values.map((x) => (Object.is(x, -0) ? 0 : x));
  const script = [
    'import sys, json',
    'vals = [float(x) for x in json.loads(sys.stdin.read())]',
    `print(json.dumps(${rows}))`,
  ].join('\n');
  const py = JSON.parse(
    execFileSync('python3', ['-c', script], { input: JSON.stringify(ys) }).toString(),
  ) as string[][];
  expect(ys.map(mine)).toEqual(py);
}

describe('Python-compatible number formatting (differential against python3)', () => {
  it('matches %0.2f, round(x, 3) and repr for many values', () => {
    expectSameAsPython(sampleValues(), "[['%0.02f' % x, repr(round(x, 3)), repr(x)] for x in vals]", (y) => [
      formatFixed(y, 2),
      pyFloatRepr(pyRound(y, 3)),
      pyFloatRepr(y),
    ]);
  });

  it("matches '%.<n>f' for n from 0 to 8, ties to even included", () => {
    const values = sampleValues();
    // Exact binary ties at every place: k/2^j.
    for (let j = 1; j <= 9; j++) for (let k = 1; k < 40; k += 2) values.push(k / 2 ** j, -k / 2 ** j);
    expectSameAsPython(values, "[['%.*f' % (n, x) for n in range(9)] for x in vals]", (y) =>
      Array.from({ length: 9 }, (_, n) => formatFixed(y, n)),
    );
  });

  it('prints dicts like str(dict)', () => {
    expect(pyDictStr([['success', 8005]])).toBe("{'success': 8005}");
    expect(
      pyDictStr([
        ['ENOENT', 39],
        ['-512', 2],
      ]),
    ).toBe("{'ENOENT': 39, '-512': 2}");
    expect(pyDictStr([])).toBe('{}');
  });
});
