/**
 * Tokenizer of the LTTng filter language, following the lexical rules of lttng-tools 2.13
 * (`src/common/filter/filter-lexer.l`), quirks included, so that nstrace accepts exactly the
 * expressions `lttng enable-event --filter` accepts:
 *
 * - identifiers are `[A-Za-z_:][A-Za-z_:0-9]*` (a colon is an identifier character: this is how
 *   `$app.provider:type` and `$ctx.perf:thread:cycles` lex); `$`-prefixed ones are global;
 * - integer constants are C ones (decimal, `0` octal, `0x` hex, with `u`/`l`/`ll` suffixes),
 *   read as unsigned 64-bit (saturating on overflow, like `sscanf`) and cast to int64; a `0X`
 *   prefix is refused (LTTng scans it with a `"0x%"` format);
 * - float constants are C ones, decimal and hexadecimal, with an `f`/`l` suffix ignored;
 * - string literals `"..."` and character constants `'...'` are both strings; a newline inside is
 *   dropped and no escape sequence is decoded here (`\*` and `\\` are interpreted by the
 *   comparison, others are refused later); the text `ESCSEQ` inside a literal is a parse error
 *   in LTTng (a lexer rule that lost its braces) and is here too;
 * - `/* ... *\/` and `//` comments, spaces, tabs and newlines separate tokens; any other
 *   character is an error.
 *
 * Longest match wins, as in flex.
 */
import { FilterSyntaxError } from '../util/errors.js';

export type TokenKind = 'id' | 'gid' | 'int' | 'float' | 'string' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Source text of the token. */
  readonly text: string;
  /** Offsets in the expression (UTF-16 code units), end exclusive. */
  readonly start: number;
  readonly end: number;
  /** int: the int64 value; float: the value; string: the characters between the quotes. */
  readonly value?: bigint | number | string;
}

/** Punctuators, longest first (flex picks the longest match). */
const PUNCTUATORS = [
  '...',
  '->',
  '>>',
  '<<',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  ':=',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  '*',
  '+',
  '-',
  '%',
  '/',
  '<',
  '>',
  '!',
  ';',
  '.',
  '=',
  ',',
  '^',
  '&',
  '|',
  '~',
] as const;

const U64_MAX = (1n << 64n) - 1n;

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isHex = (c: string): boolean => isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
const isIdStart = (c: string): boolean =>
  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === ':';
const isIdChar = (c: string): boolean => isIdStart(c) || isDigit(c);

/** Length of a C integer suffix (`IS` in the lexer) at `i`, or 0. */
function intSuffixLength(s: string, i: number): number {
  const rest = s.slice(i, i + 3);
  // (u|U)(l|L|ll|LL)? | (l|L|ll|LL)(u|U)?
  const m = /^(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)/.exec(rest);
  return m === null ? 0 : m[0].length;
}

/** Length of a float suffix (`FS`: f F l L) at `i`, or 0. */
function floatSuffixLength(s: string, i: number): number {
  const c = s[i];
  return c === 'f' || c === 'F' || c === 'l' || c === 'L' ? 1 : 0;
}

/** Length of a decimal exponent `[Ee][+-]?[0-9]+` (or binary `[Pp]...` when `binary`) at `i`, or 0. */
function exponentLength(s: string, i: number, binary: boolean): number {
  const c = s[i];
  if (binary ? c !== 'p' && c !== 'P' : c !== 'e' && c !== 'E') return 0;
  let j = i + 1;
  if (s[j] === '+' || s[j] === '-') j++;
  const digitsStart = j;
  while (j < s.length && isDigit(s[j]!)) j++;
  return j > digitsStart ? j - i : 0;
}

interface NumberMatch {
  readonly kind: 'int' | 'float';
  readonly length: number;
  /** Which integer rule matched (for the value scan). */
  readonly base?: 8 | 10 | 16;
  /** Length of the digits part without suffix. */
  readonly bodyLength: number;
}

/** The longest number token at `i` (flex rules for constants), or undefined. */
function matchNumber(s: string, i: number): NumberMatch | undefined {
  const candidates: NumberMatch[] = [];
  const c0 = s[i]!;
  const c1 = s[i + 1];
  // Integer rules.
  if (c0 === '0' && (c1 === 'x' || c1 === 'X')) {
    let j = i + 2;
    while (j < s.length && isHex(s[j]!)) j++;
    if (j > i + 2) {
      candidates.push({ kind: 'int', base: 16, bodyLength: j - i, length: j - i + intSuffixLength(s, j) });
    }
  }
  if (c0 === '0') {
    let j = i + 1;
    while (j < s.length && s[j]! >= '0' && s[j]! <= '7') j++;
    candidates.push({ kind: 'int', base: 8, bodyLength: j - i, length: j - i + intSuffixLength(s, j) });
  }
  if (c0 >= '1' && c0 <= '9') {
    let j = i + 1;
    while (j < s.length && isDigit(s[j]!)) j++;
    candidates.push({ kind: 'int', base: 10, bodyLength: j - i, length: j - i + intSuffixLength(s, j) });
  }
  // Decimal float rules: D+ E FS? | D* "." D+ E? FS? | D+ "." D* E? FS?
  floatCandidates(s, i, i, false, candidates);
  // Hex float rules: 0x H+ P FS? | 0x H* "." H+ P? FS? | 0x H+ "." H* P? FS?
  if (c0 === '0' && (c1 === 'x' || c1 === 'X')) floatCandidates(s, i, i + 2, true, candidates);
  let best: NumberMatch | undefined;
  for (const m of candidates) {
    if (best === undefined || m.length > best.length) best = m; // ties: first rule (ints first)
  }
  return best;
}

/**
 * Adds the float constants at `i` whose digits start at `digits` (decimal, or hexadecimal with
 * a binary exponent): digits with an exponent, or digits around a point with an optional one.
 */
function floatCandidates(
  s: string,
  i: number,
  digits: number,
  hex: boolean,
  candidates: NumberMatch[],
): void {
  const isD = hex ? isHex : isDigit;
  let j = digits;
  while (j < s.length && isD(s[j]!)) j++;
  const intDigits = j - digits;
  if (intDigits > 0) {
    const e = exponentLength(s, j, hex);
    if (e > 0) candidates.push(floatMatch(s, i, j + e));
  }
  if (s[j] === '.') {
    let k = j + 1;
    while (k < s.length && isD(s[k]!)) k++;
    const fracDigits = k - (j + 1);
    if (intDigits > 0 || fracDigits > 0) {
      candidates.push(floatMatch(s, i, k + exponentLength(s, k, hex)));
    }
  }
}

function floatMatch(s: string, i: number, end: number): NumberMatch {
  return { kind: 'float', bodyLength: end - i, length: end - i + floatSuffixLength(s, end) };
}

/** Unsigned digits to a value, saturating at 2^64-1 like strtoull, then cast to int64. */
function scanUnsigned(digits: string, base: 8 | 10 | 16): bigint {
  let v = 0n;
  const b = BigInt(base);
  for (const ch of digits) {
    v = v * b + BigInt(parseInt(ch, base));
    if (v > U64_MAX) return BigInt.asIntN(64, U64_MAX);
  }
  return BigInt.asIntN(64, v);
}

/** `sscanf("%lg")` of a C float constant body (decimal or hexadecimal, no suffix). */
export function scanFloat(body: string): number {
  if (/^0[xX]/.test(body)) {
    const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/.exec(body);
    if (m === null) return NaN;
    const intPart = m[1] ?? '';
    const frac = m[2] ?? '';
    const exp = m[3] === undefined ? 0 : parseInt(m[3], 10);
    // Exact mantissa as a BigInt, then one rounding when scaling.
    const mant = BigInt('0x' + (intPart + frac || '0'));
    return Number(mant) * Math.pow(2, exp - 4 * frac.length);
  }
  return Number(body);
}

export function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  const n = expr.length;
  let i = 0;
  const fail = (at: number, reason: string, length = 1): never => {
    throw new FilterSyntaxError(expr, at, reason, length);
  };
  while (i < n) {
    const c = expr[i]!;
    // Whitespace.
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    // Comments (longest match beats the '/' punctuator).
    if (c === '/' && expr[i + 1] === '*') {
      const close = expr.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    if (c === '/' && expr[i + 1] === '/') {
      const nl = expr.indexOf('\n', i + 2);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    // String literals and character constants, with an optional L prefix.
    const quoteAt = c === 'L' && (expr[i + 1] === '"' || expr[i + 1] === "'") ? i + 1 : i;
    const q = expr[quoteAt];
    if (q === '"' || q === "'") {
      const start = i;
      let j = quoteAt + 1;
      let value = '';
      for (;;) {
        if (j >= n) fail(start, 'unterminated string literal', j - start);
        const ch = expr[j]!;
        if (ch === q) break;
        if (expr.startsWith('ESCSEQ', j)) {
          fail(j, 'escape sequences not supported yet (LTTng refuses the text ESCSEQ in a string)', 6);
        }
        if (ch !== '\n') value += ch;
        j++;
      }
      if (q === "'" && value === '') fail(start, 'empty character constant', j + 1 - start);
      tokens.push({ kind: 'string', text: expr.slice(start, j + 1), start, end: j + 1, value });
      i = j + 1;
      continue;
    }
    // Numbers.
    if (isDigit(c) || (c === '.' && isDigit(expr[i + 1] ?? ''))) {
      const m = matchNumber(expr, i)!;
      const text = expr.slice(i, i + m.length);
      const body = expr.slice(i, i + m.bodyLength);
      if (m.kind === 'float') {
        tokens.push({ kind: 'float', text, start: i, end: i + m.length, value: scanFloat(body) });
      } else {
        let value: bigint;
        if (m.base === 16) {
          if (body[1] === 'X')
            fail(i, 'cannot scan hexadecimal constant (LTTng wants a lowercase 0x)', m.length);
          value = scanUnsigned(body.slice(2), 16);
        } else if (m.base === 8) {
          if (text !== '0' && body.length === 1) {
            // LTTng scans "0<suffix>" with "0%o", which needs a digit after the 0.
            fail(i, 'cannot scan octal constant', m.length);
          }
          value = body.length === 1 ? 0n : scanUnsigned(body.slice(1), 8);
        } else {
          value = scanUnsigned(body, 10);
        }
        tokens.push({ kind: 'int', text, start: i, end: i + m.length, value });
      }
      i += m.length;
      continue;
    }
    // Identifiers, global identifiers.
    if (c === '$' && isIdStart(expr[i + 1] ?? '')) {
      let j = i + 2;
      while (j < n && isIdChar(expr[j]!)) j++;
      tokens.push({ kind: 'gid', text: expr.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(expr[j]!)) j++;
      // ":=" is a punctuator, longer than the identifier ":".
      if (j === i + 1 && c === ':' && expr[i + 1] === '=') {
        tokens.push({ kind: 'op', text: ':=', start: i, end: i + 2 });
        i += 2;
        continue;
      }
      tokens.push({ kind: 'id', text: expr.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    const p = PUNCTUATORS.find((op) => expr.startsWith(op, i));
    if (p !== undefined) {
      tokens.push({ kind: 'op', text: p, start: i, end: i + p.length });
      i += p.length;
      continue;
    }
    const cp = expr.codePointAt(i)!;
    fail(i, `unexpected character '${String.fromCodePoint(cp)}'`, cp > 0xffff ? 2 : 1);
  }
  tokens.push({ kind: 'eof', text: '', start: n, end: n });
  return tokens;
}
