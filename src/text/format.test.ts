import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { requireCapability } from '../../test/helpers/require.js';
import { formatBinary, formatG, formatHex, formatOctal, formatUuid, quoteString } from './format.js';

const HAVE_GCC = requireCapability('gcc', () =>
  spawnSync('gcc', ['--version']).status === 0 ? undefined : 'gcc is not installed',
);

/** Runs C printf on each value (given as exact bit patterns) with `fmt`. */
function cPrintf(fmt: string, values: number[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'nstrace-printf-'));
  try {
    const src = join(dir, 'p.c');
    const bin = join(dir, 'p');
    writeFileSync(
      src,
      `#include <stdio.h>
#include <stdint.h>
#include <string.h>
int main(void) {
  unsigned long long bits;
  while (scanf("%llx", &bits) == 1) { double d; memcpy(&d, &bits, 8); printf("${fmt}\\n", d); }
  return 0;
}
`,
    );
    execFileSync('gcc', ['-O0', '-o', bin, src]);
    const dv = new DataView(new ArrayBuffer(8));
    const input = values
      .map((v) => {
        dv.setFloat64(0, v);
        return dv.getBigUint64(0).toString(16);
      })
      .join('\n');
    return execFileSync(bin, { input, maxBuffer: 1 << 26 })
      .toString()
      .split('\n')
      .slice(0, values.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('formatG (C %g)', () => {
  it('known values', () => {
    expect(formatG(0)).toBe('0');
    expect(formatG(-0)).toBe('-0');
    expect(formatG(123456.5)).toBe('123456');
    expect(formatG(1234565)).toBe('1.23456e+06');
    expect(formatG(1e-5)).toBe('1e-05');
    expect(formatG(0.0001)).toBe('0.0001');
    expect(formatG(1 / 3)).toBe('0.333333');
    expect(formatG(Infinity)).toBe('inf');
    expect(formatG(NaN)).toBe('nan');
    expect(formatG(1e100)).toBe('1e+100');
  });

  it.skipIf(!HAVE_GCC)('matches glibc printf on random doubles, ties and small integers', () => {
    const values: number[] = [];
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (d) => {
        values.push(d);
      }),
      { numRuns: 20000, seed: 42 },
    );
    // Exact ties of the 7th significant digit and their neighbours, integers, powers.
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(Math.random() * 9_000_000) + 1_000_000;
      const tie = n * 10 + 5;
      for (const e of [-12, -7, -3, -1, 0, 2, 5, 9]) values.push(tie * 10 ** e, Math.fround(tie * 10 ** e));
      values.push(n / 2, n / 4, n / 8, n / 1024, n, -n / 2);
    }
    for (let e = -1074; e <= 1023; e += 7) values.push(2 ** e, -(2 ** e) * 3);
    // The fixed-notation range, densely (ratios, decimals, decade boundaries).
    for (let i = 0; i < 20000; i++)
      values.push(i / 7, i / 3, i * 0.1, i / 1e4 + 1e-4, 1e6 - i / 16, (i % 97) * 10 ** ((i % 11) - 5));
    for (const b of [1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1e3, 1e4, 1e5, 1e6]) {
      values.push(b, b * (1 - 1e-7), b * (1 + 1e-7), b * 0.9999995, b * 0.99999949, b * 0.99999951);
    }
    const expected = cPrintf('%g', values);
    const bad: string[] = [];
    values.forEach((v, i) => {
      if (formatG(v) !== expected[i]) bad.push(`${v}: ${formatG(v)} vs ${expected[i]}`);
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

describe('integers', () => {
  it('hex masks negative values to the size rounded to a nibble', () => {
    expect(formatHex(0, 32)).toBe('0x0');
    expect(formatHex(255, 8)).toBe('0xFF');
    expect(formatHex(-2, 16)).toBe('0xFFFE');
    expect(formatHex(-1, 13)).toBe('0xFFFF');
    expect(formatHex(-1, 64)).toBe('0xFFFFFFFFFFFFFFFF');
    expect(formatHex(-1n, 64)).toBe('0xFFFFFFFFFFFFFFFF');
    expect(formatHex(18446744073709551615n, 64)).toBe('0xFFFFFFFFFFFFFFFF');
    expect(formatHex(2 ** 40, 64)).toBe('0x10000000000');
  });
  it('octal: leading 0, signed masked to a multiple of 3 bits', () => {
    expect(formatOctal(0, 8, false)).toBe('00');
    expect(formatOctal(8, 8, false)).toBe('010');
    expect(formatOctal(-3, 13, true)).toBe('077775');
    expect(formatOctal(-1, 64, true)).toBe('01777777777777777777777');
  });
  it('binary: exactly size digits', () => {
    expect(formatBinary(0, 3)).toBe('0b000');
    expect(formatBinary(-2, 5)).toBe('0b11110');
    expect(formatBinary(5n, 64)).toBe('0b' + '0'.repeat(61) + '101');
  });
});

describe('quoteString', () => {
  it('escapes like babeltrace2', () => {
    expect(quoteString('a')).toBe('"a"');
    expect(quoteString('\\\'"?')).toBe('"\\\\\\\'\\"\\?"');
    expect(quoteString('\x00\x07\x08\x1b\x0c\n\r\t\x0b\x01\x7f')).toBe(
      '"\\0\\a\\b\\e\\f\\n\\r\\t\\v\\x01\\x7f"',
    );
    // Bytes >= 0x80 are written as they are.
    expect(quoteString('\xc3\xa9\xff')).toBe('"\xc3\xa9\xff"');
  });
});

describe('formatUuid', () => {
  it('lowercase 8-4-4-4-12', () => {
    const u = Uint8Array.from([
      0x2a, 0x64, 0x22, 0xd0, 0x6c, 0xee, 0x11, 0xe0, 0x8c, 0x08, 0xcb, 0x07, 0xd7, 0xb3, 0xa5, 0x64,
    ]);
    expect(formatUuid(u)).toBe('2a6422d0-6cee-11e0-8c08-cb07d7b3a564');
  });
});
