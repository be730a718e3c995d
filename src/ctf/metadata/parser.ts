/**
 * TSDL parser: tokens → AST (`ast.ts`). Recursive descent over the CTF 1.8 grammar (spec
 * appendix C), with the usual C trick for typedef names: the parser tracks the type names
 * declared in each lexical scope so that `uint32_t x;` (type, then field) and `x y;` (unknown
 * type) are told apart. It checks syntax only; meaning (attribute values, type lookups, field
 * paths) is `resolve.ts`'s job.
 */
import type {
  Ast,
  Attribute,
  Block,
  BlockKind,
  BodyItem,
  Declarator,
  Enumerator,
  Expr,
  Loc,
  SpecList,
  TopItem,
  TypeSpec,
} from './ast.js';
import { Lexer, Tok } from './lexer.js';
import { TokenStream, describe } from './tokens.js';

/** Reserved keywords of TSDL (spec C.1.2); none may name a field, a type or a struct. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'align',
  'callsite',
  'const',
  'char',
  'clock',
  'double',
  'enum',
  'env',
  'event',
  'floating_point',
  'float',
  'integer',
  'int',
  'long',
  'short',
  'signed',
  'stream',
  'string',
  'struct',
  'trace',
  'typealias',
  'typedef',
  'unsigned',
  'variant',
  'void',
  '_Bool',
  '_Complex',
  '_Imaginary',
]);

/** Keywords that are C type specifiers: they combine into type names (`unsigned long`). */
const TYPE_WORDS: ReadonlySet<string> = new Set([
  'char',
  'double',
  'float',
  'int',
  'long',
  'short',
  'signed',
  'unsigned',
  'void',
  '_Bool',
  '_Complex',
  '_Imaginary',
]);

/** Keywords that may start an absolute field path. */
const SCOPE_WORDS: ReadonlySet<string> = new Set(['trace', 'stream', 'event', 'env']);

const BLOCKS: ReadonlySet<string> = new Set(['trace', 'stream', 'event', 'env', 'clock', 'callsite']);

export function parse(text: string, file: string): Ast {
  return new Parser(new Lexer(text, file), file).parseRoot();
}

/** Parses one top-level item at a time, so that the caller can drop each item's AST early. */
export class Parser extends TokenStream {
  /** Type names (typedef/typealias) per open lexical scope, innermost last. */
  private readonly scopes: Array<Set<string> | undefined> = [undefined];
  /** Attribute lists of `integer`/`floating_point`/`string` blocks by their exact text. */
  private readonly blocks = new Map<string, readonly Attribute[]>();
  /** Anonymous struct bodies by their exact text. */
  private readonly bodies = new Map<string, readonly BodyItem[]>();

  static of(text: string, file: string): Parser {
    return new Parser(new Lexer(text, file), file);
  }

  // ---- type names ----

  private isTypeName(name: string): boolean {
    for (let i = this.scopes.length - 1; i >= 0; i--) if (this.scopes[i]?.has(name) === true) return true;
    return false;
  }

  private declareTypeName(name: string): void {
    (this.scopes[this.scopes.length - 1] ??= new Set()).add(name);
  }

  // ---- root and blocks ----

  parseRoot(): Ast {
    const items: TopItem[] = [];
    for (let item = this.parseTopItem(); item !== undefined; item = this.parseTopItem()) items.push(item);
    return { items, end: this.loc() };
  }

  /** The next top-level declaration or block, or undefined at the end of the text. */
  parseTopItem(): TopItem | undefined {
    while (this.isPunct(';')) this.next();
    const t = this.peek();
    if (t.kind === Tok.End) return undefined;
    if (t.kind === Tok.Ident && BLOCKS.has(t.text) && this.isPunct('{', 1)) return this.parseBlock();
    return this.parseBodyItem(false);
  }

  /** Position of the end of the text (once `parseTopItem()` returned undefined). */
  endLoc(): Loc {
    return this.loc();
  }

  private parseBlock(): Block {
    const kw = this.next();
    const open = this.next(); // '{'
    this.enter(open);
    this.scopes.push(undefined);
    const items: (Attribute | BodyItem)[] = [];
    while (!this.isPunct('}')) {
      if (this.peek().kind === Tok.End) throw this.unexpected(`'}' to close the ${kw.text} block`);
      if (this.isPunct(';')) {
        this.next();
        continue;
      }
      if (this.assignmentAhead() || this.attributeLike()) items.push(this.parseAttribute(true));
      else items.push(this.parseBodyItem(false));
    }
    this.next();
    this.scopes.pop();
    this.leave();
    this.expect(';', `';' after the ${kw.text} block`);
    return { kind: 'block', block: kw.text as BlockKind, items, loc: this.loc(kw) };
  }

  /** True if the tokens ahead read `name(.name)* =` or `name(.name)* :=`. */
  private assignmentAhead(): boolean {
    let k = 0;
    if (this.peek(k).kind !== Tok.Ident) return false;
    k++;
    while (this.isPunct('.', k) && this.peek(k + 1).kind === Tok.Ident) k += 2;
    return this.isPunct('=', k) || this.isPunct(':=', k);
  }

  /** An identifier that cannot start a declaration: a malformed attribute (`major 1;`). */
  private attributeLike(): boolean {
    const t = this.peek();
    return t.kind === Tok.Ident && !KEYWORDS.has(t.text) && !this.isTypeName(t.text);
  }

  private parseAttribute(allowTypeAssign: boolean): Attribute {
    const first = this.peek();
    if (first.kind !== Tok.Ident) throw this.unexpected('an attribute name');
    let name = this.next().text;
    while (this.isPunct('.')) {
      this.next();
      const t = this.next();
      if (t.kind !== Tok.Ident) throw this.error(t, `unexpected ${describe(t)} in attribute name`);
      name += `.${t.text}`;
    }
    let attr: Attribute;
    if (this.isPunct('=')) {
      this.next();
      attr = { kind: 'attr', name, loc: this.loc(first), value: this.parseExpr() };
    } else if (this.isPunct(':=')) {
      const op = this.next();
      if (!allowTypeAssign) throw this.error(op, `':=' is not allowed in a type's attribute list`);
      const spec = this.parseSpecList();
      if (spec.specs.length === 0) throw this.unexpected(`a type after '${name} :='`);
      attr = { kind: 'attr', name, loc: this.loc(first), type: spec };
    } else {
      throw this.unexpected(`'=' after attribute '${name}'`);
    }
    this.expect(';', `';' after attribute '${name}'`);
    return attr;
  }

  // ---- expressions ----

  private parseExpr(): Expr {
    const t = this.peek();
    if (t.kind === Tok.Punct && (t.text === '-' || t.text === '+')) {
      this.next();
      const v = this.peek();
      if (v.kind !== Tok.Int) throw this.error(v, `'${t.text}' must be followed by an integer constant`);
      this.next();
      return { kind: 'int', value: t.text === '-' ? -v.int! : v.int!, loc: this.loc(t) };
    }
    switch (t.kind) {
      case Tok.Int:
        this.next();
        return { kind: 'int', value: t.int!, loc: this.loc(t) };
      case Tok.Str:
        this.next();
        return { kind: 'str', value: t.str!, loc: this.loc(t) };
      case Tok.Char:
        this.next();
        return { kind: 'char', value: t.str!, loc: this.loc(t) };
      case Tok.Ident: {
        this.next();
        const parts = [t.text];
        for (;;) {
          if (this.isPunct('.')) {
            this.next();
            const p = this.next();
            if (p.kind !== Tok.Ident) throw this.error(p, `unexpected ${describe(p)} after '.'`);
            parts.push(p.text);
          } else if (this.isPunct('->')) {
            throw this.error(this.peek(), `'->' is not supported in field paths`);
          } else if (this.isPunct('[')) {
            throw this.error(this.peek(), 'subscripts are not supported in field paths');
          } else break;
        }
        return { kind: 'path', parts, loc: this.loc(t) };
      }
      case Tok.Punct:
        if (t.text === '(') {
          this.next();
          this.enter(t);
          const e = this.parseExpr();
          this.leave();
          this.expect(')');
          return e;
        }
        break;
      default:
        break;
    }
    throw this.unexpected('a value');
  }

  // ---- declarations ----

  /**
   * A declaration in a struct/variant body, a block or the root: `typedef`, `typealias`, or
   * specifiers followed by declarators (fields) or by nothing (type declarations).
   */
  private parseBodyItem(inCompound: boolean): BodyItem {
    const start = this.peek();
    if (this.isWord('typedef')) {
      this.next();
      const spec = this.parseSpecList();
      if (spec.specs.length === 0) throw this.unexpected('a type after typedef');
      const last = spec.specs[spec.specs.length - 1]!;
      if (this.isPunct(';') && spec.specs.length > 1 && last.kind === 'word' && KEYWORDS.has(last.word)) {
        throw this.error(last.loc, `'${last.word}' is a reserved keyword and cannot name a type`);
      }
      const declarators = this.parseDeclarators(false);
      if (declarators.length === 0) throw this.unexpected('a type name after the typedef type');
      for (const d of declarators) this.declareTypeName(d.name!);
      this.expect(';', `';' after typedef`);
      return { kind: 'typedef', spec, declarators, loc: this.loc(start) };
    }
    if (this.isWord('typealias')) {
      this.next();
      const spec = this.parseSpecList();
      if (spec.specs.length === 0) throw this.unexpected('a type after typealias');
      const source = this.parseAbstractDeclarator();
      this.expect(':=', `':=' in typealias`);
      const aliasTok = this.peek();
      const words: string[] = [];
      let pointers = 0;
      for (;;) {
        const t = this.peek();
        if (t.kind === Tok.Ident && pointers === 0) {
          if (KEYWORDS.has(t.text) && !TYPE_WORDS.has(t.text) && t.text !== 'const') {
            throw this.error(t, `'${t.text}' is a reserved keyword and cannot name a type`);
          }
          this.next();
          if (t.text !== 'const') words.push(t.text);
        } else if (t.kind === Tok.Punct && t.text === '*' && words.length > 0) {
          this.next();
          pointers++;
        } else break;
      }
      if (words.length === 0) throw this.unexpected('a type name after :=');
      const alias = words.join(' ') + ' *'.repeat(pointers);
      this.declareTypeName(alias);
      this.expect(';', `';' after typealias`);
      return { kind: 'typealias', spec, source, alias, aliasLoc: this.loc(aliasTok), loc: this.loc(start) };
    }
    const spec = this.parseSpecList();
    if (spec.specs.length === 0) {
      const t = this.peek();
      if (t.kind === Tok.Ident && !KEYWORDS.has(t.text)) {
        throw this.error(t, `unknown type '${t.text}'`);
      }
      throw this.unexpected(inCompound ? 'a field declaration' : 'a declaration');
    }
    const declarators = this.isPunct(';') ? [] : this.parseDeclarators(true);
    this.expect(';', `';' after declaration`);
    return { kind: 'decl', spec, declarators, loc: this.loc(start) };
  }

  private parseSpecList(): SpecList {
    const start = this.peek();
    const specs: TypeSpec[] = [];
    let named = false; // a complete named type (typedef name or compound) has been read
    for (;;) {
      const t = this.peek();
      if (t.kind !== Tok.Ident) break;
      const w = t.text;
      if (w === 'const') {
        this.next();
        continue;
      }
      if (TYPE_WORDS.has(w)) {
        this.next();
        specs.push({ kind: 'word', word: w, loc: this.loc(t) });
        continue;
      }
      if (
        w === 'struct' ||
        w === 'variant' ||
        w === 'enum' ||
        w === 'integer' ||
        w === 'floating_point' ||
        w === 'string'
      ) {
        specs.push(this.parseCompound());
        named = true;
        continue;
      }
      if (!named && specs.length === 0 && !KEYWORDS.has(w) && this.isTypeName(w)) {
        this.next();
        specs.push({ kind: 'word', word: w, loc: this.loc(t) });
        named = true;
        continue;
      }
      break;
    }
    return { specs, loc: this.loc(start) };
  }

  private parseCompound(): TypeSpec {
    const kw = this.next();
    const loc = this.loc(kw);
    switch (kw.text) {
      case 'integer':
      case 'floating_point':
      case 'string': {
        // Reuse the attributes of an identical block seen before (same text, same meaning).
        let simple: { body: string; end: number } | undefined;
        if (this.buffered() === 0) {
          simple = this.lexer.peekSimpleBlock();
          if (simple !== undefined) {
            const seen = this.blocks.get(kw.text + simple.body);
            if (seen !== undefined) {
              this.lexer.skipTo(simple.end);
              return { kind: kw.text, attrs: seen, loc };
            }
          }
        }
        if (!this.isPunct('{')) {
          if (kw.text === 'string') return { kind: 'string', loc };
          throw this.unexpected(`'{' after ${kw.text}`);
        }
        const open = this.next();
        this.enter(open);
        const attrs: Attribute[] = [];
        while (!this.isPunct('}')) {
          if (this.peek().kind === Tok.End) throw this.unexpected(`'}' to close ${kw.text}`);
          if (this.isPunct(';')) {
            this.next();
            continue;
          }
          attrs.push(this.parseAttribute(false));
        }
        this.next();
        this.leave();
        if (simple !== undefined) this.blocks.set(kw.text + simple.body, attrs);
        return { kind: kw.text, attrs, loc };
      }
      case 'struct': {
        const name = this.optName('struct');
        let body: readonly BodyItem[] | undefined;
        if (this.isPunct('{')) {
          // Reuse the parse of an identical anonymous struct body (same text, same parse: type
          // names only ever get added, and a field name never starts a declaration).
          const raw = name === undefined && this.buffered() === 1 ? this.lexer.peekBalancedBody() : undefined;
          const seen = raw === undefined ? undefined : this.bodies.get(raw.body);
          if (seen !== undefined) {
            this.lexer.skipTo(raw!.end);
            this.cur = undefined; // the '{'
            body = seen;
          } else {
            body = this.parseCompoundBody('struct');
            if (raw !== undefined) this.bodies.set(raw.body, body);
          }
        } else if (name === undefined) throw this.unexpected(`a struct name or '{'`);
        let align: Expr | undefined;
        if (this.isWord('align') && this.isPunct('(', 1)) {
          this.next();
          this.next();
          align = this.parseExpr();
          this.expect(')');
        }
        return { kind: 'struct', name, body, align, loc };
      }
      case 'variant': {
        const name = this.optName('variant');
        let tag: Expr | undefined;
        if (this.isPunct('<')) {
          this.next();
          const t = this.peek();
          if (t.kind !== Tok.Ident)
            throw this.error(t, `unexpected ${describe(t)}, expecting a tag field name`);
          if (KEYWORDS.has(t.text) && !SCOPE_WORDS.has(t.text)) {
            throw this.error(t, `'${t.text}' is a reserved keyword and cannot be a tag field name`);
          }
          tag = this.parseExpr();
          this.expect('>', `'>' after the variant tag`);
        }
        let body: BodyItem[] | undefined;
        if (this.isPunct('{')) body = this.parseCompoundBody('variant');
        else if (name === undefined) throw this.unexpected(`a variant name or '{'`);
        return { kind: 'variant', name, tag, body, loc };
      }
      default: {
        // enum
        const name = this.optName('enum');
        let container: SpecList | undefined;
        if (this.isPunct(':')) {
          this.next();
          container = this.parseSpecList();
          if (container.specs.length === 0) throw this.unexpected('an integer type after enum :');
        }
        let body: Enumerator[] | undefined;
        if (this.isPunct('{')) body = this.parseEnumBody();
        else if (name === undefined || container !== undefined)
          throw this.unexpected(`'{' to start the enum body`);
        return { kind: 'enum', name, container, body, loc };
      }
    }
  }

  private optName(what: string): string | undefined {
    const t = this.peek();
    if (t.kind !== Tok.Ident) return undefined;
    if (what === 'struct' && t.text === 'align') return undefined;
    if (KEYWORDS.has(t.text))
      throw this.error(t, `'${t.text}' is a reserved keyword and cannot name a ${what}`);
    this.next();
    return t.text;
  }

  private parseCompoundBody(what: 'struct' | 'variant'): BodyItem[] {
    const open = this.next();
    this.enter(open);
    this.scopes.push(undefined);
    const items: BodyItem[] = [];
    while (!this.isPunct('}')) {
      if (this.peek().kind === Tok.End) throw this.unexpected(`'}' to close the ${what}`);
      if (this.isPunct(';')) {
        this.next();
        continue;
      }
      items.push(this.parseBodyItem(true));
    }
    this.next();
    this.scopes.pop();
    this.leave();
    return items;
  }

  private parseEnumBody(): Enumerator[] {
    const open = this.next();
    this.enter(open);
    const out: Enumerator[] = [];
    while (!this.isPunct('}')) {
      const t = this.peek();
      let label: string;
      if (t.kind === Tok.Ident || t.kind === Tok.Str) {
        label = t.kind === Tok.Str ? t.str! : t.text;
        this.next();
      } else {
        throw this.unexpected('an enumeration label');
      }
      let low: Expr | undefined;
      let high: Expr | undefined;
      if (this.isPunct('=')) {
        this.next();
        low = this.parseExpr();
        if (this.isPunct('...')) {
          this.next();
          high = this.parseExpr();
        }
      }
      out.push({ label, loc: this.loc(t), low, high });
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      if (!this.isPunct('}')) throw this.unexpected(`',' or '}' in the enum body`);
    }
    if (out.length === 0) throw this.error(this.peek(), 'an enumeration needs at least one label');
    this.next();
    this.leave();
    return out;
  }

  private parseDeclarators(isField: boolean): Declarator[] {
    const out: Declarator[] = [];
    for (;;) {
      out.push(this.parseDeclarator(isField));
      if (!this.isPunct(',')) break;
      this.next();
    }
    return out;
  }

  private parseDeclarator(isField: boolean): Declarator {
    const start = this.peek();
    let pointers = 0;
    while (this.isPunct('*')) {
      this.next();
      pointers++;
      while (this.isWord('const')) this.next();
    }
    const t = this.peek();
    if (t.kind === Tok.Punct && t.text === '(')
      throw this.error(t, 'parenthesized declarators are not supported');
    if (t.kind !== Tok.Ident) throw this.unexpected(isField ? 'a field name' : 'a type name');
    if (KEYWORDS.has(t.text)) {
      throw this.error(
        t,
        `'${t.text}' is a reserved keyword and cannot name a ${isField ? 'field' : 'type'}`,
      );
    }
    this.next();
    const dims = this.parseDims();
    let bitfield: Expr | undefined;
    if (isField && this.isPunct(':')) {
      this.next();
      bitfield = this.parseExpr();
    }
    return { name: t.text, loc: this.loc(pointers > 0 ? start : t), pointers, dims, bitfield };
  }

  private parseAbstractDeclarator(): Declarator {
    const start = this.peek();
    let pointers = 0;
    while (this.isPunct('*')) {
      this.next();
      pointers++;
    }
    return { loc: this.loc(start), pointers, dims: this.parseDims() };
  }

  private parseDims(): Expr[] {
    const dims: Expr[] = [];
    while (this.isPunct('[')) {
      this.next();
      if (this.isPunct(']')) throw this.error(this.peek(), 'missing array length or sequence length field');
      const t = this.peek();
      if (t.kind === Tok.Ident && KEYWORDS.has(t.text) && !SCOPE_WORDS.has(t.text)) {
        throw this.error(t, `'${t.text}' is a reserved keyword and cannot be a length`);
      }
      dims.push(this.parseExpr());
      this.expect(']');
    }
    return dims;
  }
}
