/**
 * The TSDL parser's token stream (the base of `Parser`, parser.ts): look-ahead over the lexer,
 * token tests, errors at a token's location, and the nesting bound.
 */
import { MetadataError } from '../../util/errors.js';
import type { Loc } from './ast.js';
import { Tok, type Lexer, type Token } from './lexer.js';

/** Deepest nesting of structs, variants, enums and parentheses accepted. */
export const MAX_NESTING = 64;

/** Token look-ahead and checks; `Parser` adds the grammar. */
export class TokenStream {
  /** The next token, once peeked; then further look-ahead tokens. */
  protected cur: Token | undefined;
  private readonly ahead: Token[] = [];
  private depth = 0;

  constructor(
    protected readonly lexer: Lexer,
    protected readonly file: string,
  ) {}

  protected peek(k = 0): Token {
    if (k === 0) return (this.cur ??= this.ahead.length > 0 ? this.ahead.shift()! : this.lexer.next());
    this.peek();
    while (this.ahead.length < k) this.ahead.push(this.lexer.next());
    return this.ahead[k - 1]!;
  }

  protected next(): Token {
    const t = this.peek();
    if (t.kind !== Tok.End) this.cur = undefined;
    return t;
  }

  /** Number of tokens read from the lexer and not consumed yet. */
  protected buffered(): number {
    return (this.cur === undefined ? 0 : 1) + this.ahead.length;
  }

  protected isPunct(p: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === Tok.Punct && t.text === p;
  }

  protected isWord(w: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === Tok.Ident && t.text === w;
  }

  protected error(t: Token | Loc, reason: string): MetadataError {
    return new MetadataError(this.file, t.line, t.col, reason);
  }

  protected unexpected(expected: string): MetadataError {
    const t = this.peek();
    if (t.kind === Tok.End) return this.error(t, `unexpected end of metadata, expecting ${expected}`);
    return this.error(t, `unexpected ${describe(t)}, expecting ${expected}`);
  }

  protected expect(p: string, what = `'${p}'`): Token {
    if (!this.isPunct(p)) throw this.unexpected(what);
    return this.next();
  }

  /** Tokens carry `line` and `col`: they serve as locations without a copy. */
  protected loc(t: Token = this.peek()): Loc {
    return t;
  }

  protected enter(t: Token): void {
    if (++this.depth > MAX_NESTING) throw this.error(t, `nesting deeper than ${MAX_NESTING} levels`);
  }

  protected leave(): void {
    this.depth--;
  }
}

export function describe(t: Token): string {
  switch (t.kind) {
    case Tok.End:
      return 'end of metadata';
    case Tok.Ident:
      return `'${t.text}'`;
    case Tok.Int:
      return `integer ${t.text}`;
    case Tok.Str:
      return `string ${t.text.length > 40 ? t.text.slice(0, 37) + '..."' : t.text}`;
    case Tok.Char:
      return `character constant ${t.text}`;
    default:
      return `'${t.text}'`;
  }
}
