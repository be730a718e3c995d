/**
 * TSDL lexer: turns metadata text into tokens with 1-based line and column.
 *
 * Keywords are not distinguished here (they are identifiers whose meaning the parser decides
 * by context: `signed` is an attribute name in `integer { signed = true; }`, a type keyword in
 * `signed int x;`). Comments and white space are dropped. Every malformed input gives a
 * `MetadataError` at the offending character.
 */
import { MetadataError } from '../../util/errors.js';

export const enum Tok {
  Ident,
  Int,
  Str,
  Char,
  Punct,
  End,
}

export interface Token {
  readonly kind: Tok;
  /** Identifier name, punctuator text, or the raw literal text. */
  readonly text: string;
  /** Integer value (`Int`) — always non-negative, the sign is a separate token. */
  readonly int?: bigint;
  /** Decoded value (`Str`, `Char`). */
  readonly str?: string;
  readonly line: number;
  readonly col: number;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Characters that make a `{ ... }` block need real tokenising (a comment or a literal could hide
 * a `}`; see `peekSimpleBlock`).
 */
const UNSAFE_IN_SIMPLE_BLOCK = /[{/"']/;

// Character classes, indexed by char code (ASCII only; everything else is invalid outside
// string literals and comments).
const IDENT_START = new Uint8Array(128);
const IDENT_PART = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const alpha = /[A-Za-z_]/.test(ch);
  IDENT_START[c] = alpha ? 1 : 0;
  IDENT_PART[c] = alpha || /[0-9]/.test(ch) ? 1 : 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Tokenises `text` entirely; the last token is `Tok.End`. */
export function tokenize(text: string, file: string): Token[] {
  const lx = new Lexer(text, file);
  const toks: Token[] = [];
  for (;;) {
    const t = lx.next();
    toks.push(t);
    if (t.kind === Tok.End) return toks;
  }
}

function tok(
  kind: Tok,
  text: string,
  int: bigint | undefined,
  str: string | undefined,
  line: number,
  col: number,
): Token {
  // Always the same property set, so that every token has one hidden class.
  return { kind, text, int, str, line, col };
}

/** Produces tokens on demand (the parser keeps only a small look-ahead). */
export class Lexer {
  private i = 0;
  private line = 1;
  private lineStart = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  private err(at: number, reason: string, line: number, lineStart: number): MetadataError {
    return new MetadataError(this.file, line, at - lineStart + 1, reason);
  }

  /**
   * If the text at the current position is white space then a `{ ... }` block holding no
   * comment, string, character literal or nested brace, returns the text between the braces
   * and the offset just past the `}` — without tokenising it. Lets the parser reuse the parse
   * of an attribute list it has already seen (kernel metadata repeats the same
   * `integer { ... }` thousands of times).
   */
  peekSimpleBlock(): { body: string; end: number } | undefined {
    const text = this.text;
    let i = this.i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
    if (text.charCodeAt(i) !== 123 /* { */) return undefined;
    const close = text.indexOf('}', i + 1);
    if (close < 0) return undefined;
    const body = text.slice(i + 1, close);
    if (UNSAFE_IN_SIMPLE_BLOCK.test(body)) return undefined;
    return { body, end: close + 1 };
  }

  /**
   * The text from the current position (just after a `{`) to its matching `}`, and the offset
   * just past that `}` — without tokenising it — if it holds no comment, string or character
   * literal (which could hide a brace). Lets the parser reuse the parse of a struct body it has
   * already seen: kernel metadata repeats event payloads (all the `syscall_exit_*` are alike).
   */
  peekBalancedBody(): { body: string; end: number } | undefined {
    const text = this.text;
    let depth = 1;
    for (let i = this.i; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 123 /* { */) depth++;
      else if (c === 125 /* } */) {
        if (--depth === 0) return { body: text.slice(this.i, i), end: i + 1 };
      } else if (c === 47 /* / */ || c === 34 /* " */ || c === 39 /* ' */) return undefined;
    }
    return undefined;
  }

  /** Moves to `offset` (from `peekSimpleBlock()`), keeping line numbers right. */
  skipTo(offset: number): void {
    const text = this.text;
    for (let k = text.indexOf('\n', this.i); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) {
      this.line++;
      this.lineStart = k + 1;
    }
    this.i = offset;
  }

  /** The next token; `Tok.End` forever once the text is consumed. */
  next(): Token {
    const text = this.text;
    const n = text.length;
    let i = this.i;
    let line = this.line;
    let lineStart = this.lineStart;
    while (i < n) {
      const c = text.charCodeAt(i);
      // White space.
      if (c === 10) {
        i++;
        line++;
        lineStart = i;
        continue;
      }
      if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
        i++;
        continue;
      }
      const col = i - lineStart + 1;
      // Comments.
      if (c === 47 /* / */) {
        const d = text.charCodeAt(i + 1);
        if (d === 42 /* * */) {
          const startLine = line;
          const startLs = lineStart;
          const start = i;
          i += 2;
          for (;;) {
            if (i >= n) throw this.err(start, 'unterminated comment', startLine, startLs);
            const e = text.charCodeAt(i);
            if (e === 42 && text.charCodeAt(i + 1) === 47) {
              i += 2;
              break;
            }
            if (e === 10) {
              line++;
              lineStart = i + 1;
            }
            i++;
          }
          continue;
        }
        if (d === 47) {
          while (i < n && text.charCodeAt(i) !== 10) i++;
          continue;
        }
        throw this.err(i, "unexpected character '/'", line, lineStart);
      }
      // Identifiers (and the L prefix of wide string/char literals).
      if (c < 128 && IDENT_START[c] === 1) {
        if (c === 76 /* L */ && (text.charCodeAt(i + 1) === 34 || text.charCodeAt(i + 1) === 39)) {
          i++;
          continue; // the literal itself is lexed next, at the quote
        }
        const start = i;
        i++;
        while (i < n) {
          const e = text.charCodeAt(i);
          if (e < 128 && IDENT_PART[e] === 1) i++;
          else break;
        }
        this.i = i;
        this.line = line;
        this.lineStart = lineStart;
        return tok(Tok.Ident, text.slice(start, i), undefined, undefined, line, col);
      }
      // Integer literals.
      if (isDigit(c)) {
        const start = i;
        let radix = 10;
        if (c === 48 /* 0 */) {
          const d = text.charCodeAt(i + 1);
          if (d === 120 || d === 88) radix = 16;
          else if (d === 98 || d === 66) radix = 2;
          else radix = 8;
        }
        let digitsStart = i;
        if (radix === 16 || radix === 2) {
          i += 2;
          digitsStart = i;
          while (i < n) {
            const v = hexVal(text.charCodeAt(i));
            if (v < 0 || v >= radix) break;
            i++;
          }
          if (i === digitsStart)
            throw this.err(start, `invalid integer literal '${text.slice(start, i + 1)}'`, line, lineStart);
        } else {
          while (isDigit(text.charCodeAt(i))) {
            if (radix === 8 && text.charCodeAt(i) > 55)
              throw this.err(start, `invalid digit '${text[i]}' in octal literal`, line, lineStart);
            i++;
          }
        }
        const digits = text.slice(digitsStart, i);
        let value: bigint;
        if (digits.length <= 13 && radix !== 8) {
          value = BigInt(parseInt(digits, radix)); // exact below 2^53
        } else {
          const prefix = radix === 16 ? '0x' : radix === 2 ? '0b' : radix === 8 ? '0o' : '';
          value = BigInt(prefix + digits);
        }
        // Integer suffixes: u, l, ll in any C-valid combination (case-insensitive).
        const sufStart = i;
        for (;;) {
          const e = text.charCodeAt(i);
          if (e === 117 || e === 85 || e === 108 || e === 76) i++;
          else break;
        }
        const suffix = text.slice(sufStart, i).toLowerCase();
        if (suffix !== '' && !/^(u|ul|ull|l|ll|lu|llu)$/.test(suffix)) {
          throw this.err(start, `invalid integer suffix '${text.slice(sufStart, i)}'`, line, lineStart);
        }
        if (i < n) {
          const e = text.charCodeAt(i);
          if ((e < 128 && IDENT_PART[e] === 1) || e === 46 /* . */) {
            if (e === 46 && text.charCodeAt(i + 1) === 46 && text.charCodeAt(i + 2) === 46) {
              // `1...3`: the range punctuator follows.
            } else {
              let j = i;
              while (j < n && (IDENT_PART[text.charCodeAt(j)] === 1 || text.charCodeAt(j) === 46)) j++;
              throw this.err(start, `invalid integer literal '${text.slice(start, j)}'`, line, lineStart);
            }
          }
        }
        if (value > U64_MAX)
          throw this.err(
            start,
            `integer literal ${text.slice(start, i)} is out of range (more than 64 bits)`,
            line,
            lineStart,
          );
        this.i = i;
        this.line = line;
        this.lineStart = lineStart;
        return tok(Tok.Int, text.slice(start, i), value, undefined, line, col);
      }
      // String and character literals.
      if (c === 34 /* " */ || c === 39 /* ' */) {
        const start = i;
        const quote = c;
        i++;
        let out = '';
        let truncated = false; // C semantics: a \0 escape ends the string value
        for (;;) {
          if (i >= n)
            throw this.err(
              start,
              quote === 34 ? 'unterminated string literal' : 'unterminated character literal',
              line,
              lineStart,
            );
          const e = text.charCodeAt(i);
          if (e === quote) {
            i++;
            break;
          }
          if (e === 10)
            throw this.err(
              start,
              quote === 34 ? 'unterminated string literal' : 'unterminated character literal',
              line,
              lineStart,
            );
          if (e === 0) throw this.err(i, 'NUL character in literal', line, lineStart);
          if (e !== 92 /* \ */) {
            if (!truncated) out += text[i];
            i++;
            continue;
          }
          // Escape sequence.
          const escAt = i;
          i++;
          const x = text.charCodeAt(i);
          let code: number;
          switch (x) {
            case 39:
            case 34:
            case 63:
            case 92:
              code = x;
              i++;
              break;
            case 97:
              code = 7;
              i++;
              break;
            case 98:
              code = 8;
              i++;
              break;
            case 102:
              code = 12;
              i++;
              break;
            case 110:
              code = 10;
              i++;
              break;
            case 114:
              code = 13;
              i++;
              break;
            case 116:
              code = 9;
              i++;
              break;
            case 118:
              code = 11;
              i++;
              break;
            case 120 /* x */: {
              // Hex escape: digits are taken while the value still fits a byte.
              i++;
              let v = -1;
              for (;;) {
                const h = hexVal(text.charCodeAt(i));
                if (h < 0) break;
                const nv = (v < 0 ? 0 : v) * 16 + h;
                if (nv > 0xff) break;
                v = nv;
                i++;
              }
              if (v < 0) throw this.err(escAt, 'invalid \\x escape (no hexadecimal digit)', line, lineStart);
              code = v;
              break;
            }
            case 117 /* u */:
            case 85 /* U */: {
              const len = x === 117 ? 4 : 8;
              i++;
              let v = 0;
              for (let k = 0; k < len; k++) {
                const h = hexVal(text.charCodeAt(i));
                if (h < 0)
                  throw this.err(
                    escAt,
                    `invalid universal character name (expecting ${len} hexadecimal digits)`,
                    line,
                    lineStart,
                  );
                v = v * 16 + h;
                i++;
              }
              if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
                throw this.err(escAt, 'invalid universal character name', line, lineStart);
              code = v;
              break;
            }
            default: {
              if (x >= 48 && x <= 55) {
                let v = 0;
                let k = 0;
                while (k < 3 && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 55) {
                  v = v * 8 + (text.charCodeAt(i) - 48);
                  i++;
                  k++;
                }
                if (v > 0xff) throw this.err(escAt, 'octal escape out of range', line, lineStart);
                code = v;
                break;
              }
              throw this.err(escAt, `invalid escape sequence '\\${i < n ? text[i] : ''}'`, line, lineStart);
            }
          }
          if (code === 0) truncated = true;
          else if (!truncated) out += String.fromCodePoint(code);
        }
        this.i = i;
        this.line = line;
        this.lineStart = lineStart;
        return tok(quote === 34 ? Tok.Str : Tok.Char, text.slice(start, i), undefined, out, line, col);
      }
      // Punctuators.
      let p: string | undefined;
      switch (c) {
        case 91:
        case 93:
        case 40:
        case 41:
        case 123:
        case 125:
        case 42:
        case 43:
        case 60:
        case 62:
        case 59:
        case 61:
        case 44:
          p = text[i];
          break;
        case 46 /* . */:
          p = text.startsWith('...', i) ? '...' : '.';
          break;
        case 45 /* - */:
          p = text.charCodeAt(i + 1) === 62 ? '->' : '-';
          break;
        case 58 /* : */:
          p = text.charCodeAt(i + 1) === 61 ? ':=' : ':';
          break;
      }
      if (p === undefined) {
        const shown = c < 32 || c === 127 ? `\\x${c.toString(16).padStart(2, '0')}` : text[i];
        throw this.err(i, `invalid character '${shown}'`, line, lineStart);
      }
      i += p.length;
      this.i = i;
      this.line = line;
      this.lineStart = lineStart;
      return tok(Tok.Punct, p, undefined, undefined, line, col);
    }
    this.i = i;
    this.line = line;
    this.lineStart = lineStart;
    return tok(Tok.End, '', undefined, undefined, line, i - lineStart + 1);
  }
}
