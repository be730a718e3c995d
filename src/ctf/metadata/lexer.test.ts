import { describe, expect, it } from 'vitest';
import { MetadataError } from '../../util/errors.js';
import { Tok, tokenize } from './lexer.js';
import { thrownBy } from '../../../test/helpers/errors.js';

const lex = (text: string) => tokenize(text, 'm');

const lexError = (text: string): MetadataError => thrownBy(MetadataError, () => lex(text));

describe('TSDL lexer', () => {
  it('reads identifiers, punctuators and positions, skipping comments', () => {
    const t = lex('/* CTF 1.8 */\ntrace {\n  // comment\n  a.b := x; ... -> : = }');
    expect(t.map((x) => x.text)).toEqual([
      'trace',
      '{',
      'a',
      '.',
      'b',
      ':=',
      'x',
      ';',
      '...',
      '->',
      ':',
      '=',
      '}',
      '',
    ]);
    expect(t[0]).toMatchObject({ kind: Tok.Ident, line: 2, col: 1 });
    expect(t[2]).toMatchObject({ line: 4, col: 3 });
    expect(t[t.length - 1]!.kind).toBe(Tok.End);
  });

  it('reads integer literals in every base, with suffixes', () => {
    const v = (s: string) => lex(s)[0]!.int;
    expect(v('0')).toBe(0n);
    expect(v('1234')).toBe(1234n);
    expect(v('06534')).toBe(0o6534n);
    expect(v('0xABC234')).toBe(0xabc234n);
    expect(v('0X1f')).toBe(31n);
    expect(v('0b101')).toBe(5n);
    expect(v('0xFFFFFFFFFFFFFFFFULL')).toBe((1n << 64n) - 1n);
    expect(v('18446744073709551615')).toBe((1n << 64n) - 1n);
    expect(v('42u')).toBe(42n);
    expect(v('42LU')).toBe(42n);
    expect(v('9007199254740993')).toBe(9007199254740993n); // beyond 2^53: exact
    expect(lex('0 ... 30').map((x) => x.text)).toEqual(['0', '...', '30', '']);
  });

  it('rejects malformed integer literals', () => {
    expect(lexError('major = 1x;').message).toMatch(/invalid integer literal '1x'/);
    expect(lexError('x = 1.5;').message).toMatch(/invalid integer literal '1.5'/);
    expect(lexError('x = 08;').message).toMatch(/octal/);
    expect(lexError('x = 0x;').message).toMatch(/invalid integer literal/);
    expect(lexError('x = 1uu;').message).toMatch(/invalid integer suffix/);
    expect(lexError('x = 18446744073709551616;').message).toMatch(/out of range/);
  });

  it('decodes string escapes like C (and ends the value at \\0)', () => {
    const s = (text: string) => lex(text)[0]!.str;
    expect(s('"a\\"b\\\\c\\n\\t\\?\\\'"')).toBe('a"b\\c\n\t?\'');
    expect(s('"?\\x20\\040\\123?"')).toBe('?  S?');
    // Hex escapes take digits while the value fits a byte; octal ones take at most three.
    expect(s('"\\x41, \\x023, \\x0231, \\101, \\0431"')).toBe('A, #, #1, A, #1');
    expect(s('"abc\\0NOT SEEN"')).toBe('abc');
    expect(s('"\\u00e9\\U0001F600"')).toBe('é😀');
    expect(s('L"wide"')).toBe('wide');
    expect(lex("'\\n'")[0]).toMatchObject({ kind: Tok.Char, str: '\n' });
  });

  it('reports bad literals and characters at their position', () => {
    const e = lexError('trace {\n  uuid = "abc;\n}');
    expect(e.message).toMatch(/unterminated string literal/);
    expect([e.line, e.column]).toEqual([2, 10]);
    expect(lexError('x = "\\o040";').message).toMatch(/invalid escape sequence '\\o'/);
    expect(lexError('x = "\\u12";').message).toMatch(/universal character name/);
    expect(lexError('x = "a\u0000b";').message).toMatch(/NUL character/);
    expect(lexError('x = @;').message).toMatch(/invalid character '@'/);
    expect(lexError('x = \u0001;').message).toMatch(/invalid character '\\x01'/);
    const c = lexError('a\n /* never closed');
    expect(c.message).toMatch(/unterminated comment/);
    expect([c.line, c.column]).toEqual([2, 2]);
  });
});
