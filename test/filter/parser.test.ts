import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatNode } from '../../src/filter/ast.js';
import { tokenize } from '../../src/filter/lexer.js';
import { parseFilter } from '../../src/filter/parser.js';
import { FilterSyntaxError } from '../../src/util/errors.js';

const fmt = (s: string): string => formatNode(parseFilter(s).root);

function refusal(s: string): FilterSyntaxError {
  try {
    parseFilter(s);
  } catch (e) {
    if (e instanceof FilterSyntaxError) return e;
    throw e;
  }
  throw new Error(`accepted: ${s}`);
}

describe('precedence (lttng-enable-event(1): bitwise binds tighter than comparisons)', () => {
  it.each([
    ['2 & 2 == 2', '((2 & 2) == 2)'],
    ['a | b == c', '((a | b) == c)'],
    ['a ^ b & c', '(a ^ (b & c))'],
    ['a | b ^ c', '(a | (b ^ c))'],
    ['a << 1 & b', '((a << 1) & b)'],
    ['a & 1 << 2', '(a & (1 << 2))'],
    ['a < b == c < d', '((a < b) == (c < d))'],
    ['a == b && c || d', '(((a == b) && c) || d)'],
    ['a || b && c', '(a || (b && c))'],
    ['i < 5 < 2', '((i < 5) < 2)'],
    ['!a == 0', '((!a) == 0)'],
    ['- -a', '(-(-a))'],
    ['~!-+a', '(~(!(-(+a))))'],
    [
      'eax_reg & 0xff7 == 0x240 && x[4] >> 12 <= 0x1234',
      '(((eax_reg & 4087) == 576) && ((x[4] >> 12) <= 4660))',
    ],
    ['(a || b) && c', '((a || b) && c)'],
  ])('%s', (src, tree) => {
    expect(fmt(src)).toBe(tree);
  });
});

describe('field references', () => {
  it.each([
    ['a.b.c[1][2] == 1', '(a.b.c[1][2] == 1)'],
    ['msg.user[1].data[2][17] == 1', '(msg.user[1].data[2][17] == 1)'],
    ['a -> b == 1', '(a.b == 1)'],
    ['$ctx.procname == "x"', '($ctx.procname == "x")'],
    ['$ctx.perf:thread:cycles > 1', '($ctx.perf:thread:cycles > 1)'],
    ['$app.server:cur_user == 1', '($app.server:cur_user == 1)'],
    ['$ctx[1].vpid == 1', '($ctx.vpid == 1)'],
    ['a[0x10] == 1', '(a[16] == 1)'],
    ['a[1u] == 1', '(a[1] == 1)'],
    ['x:y == 1', '(x:y == 1)'],
    ['$container.name == "web*"', '($container.name == "web*")'],
    ['$container.pid_ns == 4026531836', '($container.pid_ns == 4026531836)'],
  ])('%s', (src, tree) => {
    expect(fmt(src)).toBe(tree);
  });
});

describe('constants', () => {
  const value = (s: string): unknown => {
    const n = parseFilter(`x == ${s}`).root;
    if (n.k !== 'cmp') throw new Error('not a comparison');
    return n.r.k === 'int' || n.r.k === 'float' ? n.r.v : undefined;
  };
  it.each([
    ['42', 42n],
    ['010', 8n],
    ['0', 0n],
    ['00', 0n],
    ['0x10UL', 16n],
    ['0x1F', 31n],
    ['10lu', 10n],
    ['10uLL', 10n],
    ['9007199254740993', 9007199254740993n],
    ['18446744073709551615', -1n],
    ['0x8000000000000000', -(2n ** 63n)],
    ['99999999999999999999', -1n],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1.', 1],
    ['5e-1', 0.5],
    ['1E3', 1000],
    ['1.5f', 1.5],
    ['1.5L', 1.5],
    ['0x1p-1', 0.5],
    ['0x1.8p1', 3],
    ['0x.8p1', 1],
    ['17.34e9', 17.34e9],
  ])('%s', (src, v) => {
    expect(value(src)).toBe(v);
  });

  it('keeps string literals raw and classifies them', () => {
    const lit = (s: string): unknown => {
      const n = parseFilter(`x == ${s}`).root;
      return n.k === 'cmp' && n.r.k === 'str' ? [n.r.v, n.r.t] : undefined;
    };
    expect(lit('"abc"')).toEqual(['abc', 'plain']);
    expect(lit('"a\\*"')).toEqual(['a\\*', 'plain']);
    expect(lit('"a\\\\"')).toEqual(['a\\\\', 'plain']);
    expect(lit('"ab*"')).toEqual(['ab*', 'globEnd']);
    expect(lit('"ab**"')).toEqual(['ab*', 'glob']); // classified before the stars are crushed, as LTTng does
    expect(lit('"*ab"')).toEqual(['*ab', 'glob']);
    expect(lit('"\\**"')).toEqual(['\\**', 'globEnd']);
    expect(lit("'x'")).toEqual(['x', 'plain']);
    expect(lit('L"x"')).toEqual(['x', 'plain']);
    expect(lit('"a\nb"')).toEqual(['ab', 'plain']);
    expect(lit('""')).toEqual(['', 'plain']);
  });

  it('skips comments and whitespace', () => {
    expect(fmt('i == 1 /* c */')).toBe('(i == 1)');
    expect(fmt('i == 1 || i == 2 // comment')).toBe('((i == 1) || (i == 2))');
    expect(fmt('a\t==\n1')).toBe('(a == 1)');
    expect(fmt('a == 1 /* unterminated')).toBe('(a == 1)');
  });
});

describe('what lttng enable-event refuses is refused, with the column of the token', () => {
  it.each([
    ['i ==', 5, 'unexpected end'],
    ['i = 1', 3, "unexpected '='"],
    ['i + 1 == 2', 3, "'+' not supported"],
    ['i * 2 == 4', 3, "'*' not supported"],
    ['"abc"', 1, 'string cannot be the whole expression'],
    ['1.5', 1, 'floating point constant cannot be the whole expression'],
    ['!1.5', 1, 'floating point constant cannot be the whole expression'],
    ['str == "a\\n"', 10, 'unsupported escape'],
    ['str == "h\\xc3"', 10, 'unsupported escape'],
    ['$foo == 1', 1, "unexpected identifier '$foo'"],
    ['$ctx == 1', 1, "after '$ctx'"],
    ['$app == 1', 1, "after '$app'"],
    ['arr4[i] == 1', 6, 'constant index'],
    ['a[-1] == 1', 3, 'constant index'],
    ['a[1.0] == 1', 3, 'constant index'],
    ['!"x"', 1, "'!' not allowed on a string"],
    ['~"a" == 1', 1, "'~' not allowed on a string"],
    ['1.5 & 1', 5, 'floating point operand'],
    ['a << 1.5', 3, 'floating point operand'],
    ['a & "x"', 3, 'string operand'],
    ['a && "x"', 3, 'string operand'],
    ['"x" || a', 5, 'string operand'],
    ['1 == "a"', 3, 'cannot compare a string with a number'],
    ['1.5 == "a"', 5, 'cannot compare a string with a number'],
    ['(a == "a") == "b"', 12, 'cannot compare a string with a number'],
    ['"a*" == "b*c"', 1, 'two globbing patterns'],
    ['str < "a*b"', 7, 'only == and !='],
    ['(a).b == 1', 4, "unexpected '.'"],
    ['a[1]:b == 1', 5, "identifier ':b'"],
    ['x : y == 1', 3, "identifier ':'"],
    ['i == 0X1f', 6, 'lowercase 0x'],
    ['i == 0u', 6, 'octal'],
    ['i == 08', 7, 'number 8'],
    ['f == 1.5e', 9, "identifier 'e'"],
    ['f == 0x', 7, "identifier 'x'"],
    ['10 u == a', 4, "identifier 'u'"],
    ['0b101 == a', 2, "identifier 'b101'"],
    ["a == ''", 6, 'empty character constant'],
    ['a == "\\""', 9, 'unterminated'],
    ['a == "x', 6, 'unterminated'],
    ['a @ b', 3, "unexpected character '@'"],
    ['()', 2, "unexpected ')'"],
    ['// only comment', 16, 'unexpected end'],
    ['a == "xESCSEQy"', 8, 'ESCSEQ'],
    ['$ctx.perf:cpu:stalled-cycles-frontend == 1', 29, "'-' not supported"],
    ['$container.nope == 1', 12, 'unknown container attribute'],
    ['$container.name.x == 1', 16, 'has no members'],
  ])('%s', (src, column, reason) => {
    const e = refusal(src);
    expect(e.message).toContain(reason);
    expect(e.column).toBe(column);
    expect(e.exitCode).toBe(2);
  });

  it('renders the expression with a caret under the token', () => {
    const e = refusal('pid == 1 && comm = "x"');
    expect(e.message).toBe(
      "filter: column 18: syntax error: unexpected '=', expected an operator or the end of the expression\n" +
        '    pid == 1 && comm = "x"\n' +
        '                     ^',
    );
    const multi = refusal('a == 1 &&\n\tb + 1');
    expect(multi.message.split('\n')).toEqual([
      "filter: line 2, column 4: binary operator '+' not supported (the filter language has no arithmetic)",
      '    \tb + 1',
      '    \t  ^',
    ]);
  });
});

describe('lexer', () => {
  it('takes the longest match like flex', () => {
    const kinds = (s: string): string[] => tokenize(s).map((t) => `${t.kind}:${t.text}`);
    expect(kinds('a->b')).toEqual(['id:a', 'op:->', 'id:b', 'eof:']);
    expect(kinds('x:=1')).toEqual(['id:x:', 'op:=', 'int:1', 'eof:']);
    expect(kinds(':=')).toEqual(['op::=', 'eof:']);
    expect(kinds('1..2')).toEqual(['float:1.', 'float:.2', 'eof:']);
    expect(kinds('Lx L"y"')).toEqual(['id:Lx', 'string:L"y"', 'eof:']);
    expect(kinds('a<<=b')).toEqual(['id:a', 'op:<<', 'op:=', 'id:b', 'eof:']);
    expect(kinds('$ctx.vpid')).toEqual(['gid:$ctx', 'op:.', 'id:vpid', 'eof:']);
  });
});

describe('robustness', () => {
  it('any input parses or gives a FilterSyntaxError, never another error', () => {
    const chars = fc.constantFrom(
      ...'ab$c.tx:_ 019xXeEpP.uUlLfF"\'\\*/[]()-+!~<>=&|^%,;{}@#\n\tESCQ'.split(''),
    );
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 40 }), (cs) => {
        try {
          parseFilter(cs.join(''));
        } catch (e) {
          if (!(e instanceof FilterSyntaxError)) throw e;
          expect(e.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 20000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => {
        try {
          parseFilter(s);
        } catch (e) {
          if (!(e instanceof FilterSyntaxError)) throw e;
        }
      }),
    );
  });

  it('refuses absurd nesting cleanly, accepts deep but sane nesting', () => {
    expect(fmt('('.repeat(200) + 'a == 1' + ')'.repeat(200))).toBe('(a == 1)');
    expect(fmt('!'.repeat(200) + 'a')).toMatch(/^\(!/);
    const chain = Array.from({ length: 200 }, (_, i) => `a == ${i}`).join(' || ');
    expect(() => parseFilter(chain)).not.toThrow();
    for (const deep of [
      '('.repeat(5000) + 'a == 1' + ')'.repeat(5000),
      '-'.repeat(50000) + 'a',
      Array.from({ length: 5000 }, (_, i) => `a == ${i}`).join(' || '),
      Array.from({ length: 3000 }, () => 'a').join(' & ') + ' == 1',
    ]) {
      expect(() => parseFilter(deep)).toThrow(/nested too deeply/);
    }
  });
});
