import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textToByteString } from '../../src/ctf/event.js';
import {
  globRegExp,
  isStarAtEndOnly,
  isStarGlob,
  normalizeStarGlob,
  starGlobMatch,
  strcmpLiteral,
} from '../../src/filter/strings.js';

/** Glob semantics by definition: `*` any sequence, `\X` the character X, lone `\` at the end nothing. */
function globByDefinition(p: string, s: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const m = memo.get(key);
    if (m !== undefined) return m;
    let r: boolean;
    if (i === p.length) r = j === s.length;
    else if (p[i] === '*') r = go(i + 1, j) || (j < s.length && go(i, j + 1));
    else if (p[i] === '\\') r = i + 1 < p.length && j < s.length && s[j] === p[i + 1] && go(i + 2, j + 1);
    else r = j < s.length && s[j] === p[i] && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

describe('star-glob matching', () => {
  it.each([
    ['hello', 'hello', true],
    ['h*', 'hello', true],
    ['h*', 'h', true],
    ['*llo', 'hello', true],
    ['h*l*o', 'hello', true],
    ['h*l*o', 'help', false],
    ['*', '', true],
    ['', '', true],
    ['', 'a', false],
    ['h\\*llo', 'h*llo', true],
    ['h\\*llo', 'hello', false],
    ['\\**', '*star', true],
    ['star\\*', 'star*', true],
    ['a\\\\b', 'a\\b', true],
    ['*\\', 'ab\\', false],
    ['192.168.*', '192.168.10.7', true],
    ['192.168.*', '10.0.0.1', false],
    ['hi*every*one', 'hi ev every onyx one', true],
  ])('%s ~ %s', (p, s, want) => {
    expect(starGlobMatch(p, s)).toBe(want);
    expect(globRegExp(p).test(s)).toBe(want);
  });

  it('matches the definition on normalized patterns, and the RegExp agrees', () => {
    const alpha = fc.stringMatching(/^[ab*\\]{0,7}$/);
    fc.assert(
      fc.property(alpha, fc.stringMatching(/^[ab*\\]{0,7}$/), (p0, s) => {
        const p = normalizeStarGlob(p0);
        const want = globByDefinition(p, s);
        expect(starGlobMatch(p, s)).toBe(want);
        expect(globRegExp(p).test(s)).toBe(want);
      }),
      { numRuns: 5000 },
    );
  });

  it('classifies and normalizes literals like lttng-tools', () => {
    expect(isStarGlob('abc')).toBe(false);
    expect(isStarGlob('a\\*')).toBe(false);
    expect(isStarGlob('a*')).toBe(true);
    expect(isStarAtEndOnly('a*')).toBe(true);
    expect(isStarAtEndOnly('\\**')).toBe(true);
    expect(isStarAtEndOnly('*a')).toBe(false);
    expect(isStarAtEndOnly('a**')).toBe(false);
    expect(normalizeStarGlob('a***b**')).toBe('a*b*');
    expect(normalizeStarGlob('\\***')).toBe('\\**');
    expect(normalizeStarGlob('a\\\\**')).toBe('a\\\\*');
  });
});

describe("the tracer's strcmp", () => {
  it('compares plain strings like strcmp', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-c]{0,4}$/), fc.stringMatching(/^[a-c]{0,4}$/), (a, b) => {
        expect(Math.sign(strcmpLiteral(a, false, b, false))).toBe(a < b ? -1 : a > b ? 1 : 0);
        expect(Math.sign(strcmpLiteral(a, true, b, false))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });

  it('reads escapes and a final star in literals', () => {
    expect(strcmpLiteral('a*b', false, 'a\\*b', true)).toBe(0);
    expect(strcmpLiteral('a\\b', false, 'a\\\\b', true)).toBe(0);
    expect(strcmpLiteral('abc', false, 'ab*', true)).toBe(0);
    expect(strcmpLiteral('ab', false, 'ab*', true)).toBe(0);
    expect(strcmpLiteral('a', false, 'ab*', true)).toBeLessThan(0);
    expect(strcmpLiteral('ac', false, 'ab*', true)).toBeGreaterThan(0);
    expect(strcmpLiteral('ab*', true, 'abzz', false)).toBe(0);
    expect(strcmpLiteral('ab*', true, 'zz', false)).toBeLessThan(0);
    // A field's stars and backslashes are plain characters.
    expect(strcmpLiteral('a*', false, 'ab', false)).not.toBe(0);
  });

  it('compares bytes as signed chars', () => {
    // Byte strings: 'é' is 0xc3 0xa9 in UTF-8, below any ASCII character as a signed char.
    const he = textToByteString('hé');
    expect(strcmpLiteral(he, false, 'ha', false)).toBeLessThan(0);
    expect(strcmpLiteral('h', false, he, false)).toBeLessThan(0);
    expect(strcmpLiteral(he, false, he, true)).toBe(0);
    expect(strcmpLiteral('\x80', false, '\x7f', false)).toBeLessThan(0);
  });
});
