/**
 * Parser of the LTTng filter language (grammar of lttng-tools 2.13,
 * `src/common/filter/filter-parser.y`) and the checks lttng-tools runs on the result before it
 * sends bytecode to the tracer (`filter-visitor-generate-ir.c`, `...-validate-string.c`,
 * `...-normalize-glob-patterns.c`, `...-validate-globbing.c`). An expression `lttng enable-event
 * --filter` refuses is refused here with a `FilterSyntaxError` pointing at the offending token.
 *
 * Precedence, loosest first: `||`, `&&`, `== !=`, `< <= > >=`, `|`, `^`, `&`, `<< >>`, then the
 * (refused) arithmetic `+ -` and `* / %`, then unary `- + ! ~`. Unlike C, the bitwise operators
 * bind tighter than the comparisons. A field reference is `name`, `$ctx.name` or
 * `$app.provider:type`, followed by `.name`, `->name` and `[constant]` steps; nstrace adds
 * `$container.name|id|type|image|pid_ns`.
 */
import { FilterSyntaxError } from '../util/errors.js';
import {
  CONTAINER_ATTRIBUTES,
  type BitOp,
  type CmpOp,
  type FilterExpr,
  type Node,
  type PathItem,
  type RefRoot,
  type StrNode,
} from './ast.js';
import { tokenize, type Token } from './lexer.js';
import { isStarAtEndOnly, isStarGlob, normalizeStarGlob } from './strings.js';

// ---------------------------------------------------------------------------------------------
// Raw syntax tree (what the grammar accepts)

interface RawSpan {
  readonly start: number;
  readonly end: number;
}

interface RawSegment extends RawSpan {
  readonly name: string;
  readonly global: boolean;
  readonly indices: readonly Raw[];
}

type Raw =
  | (RawSpan & { readonly t: 'int'; readonly v: bigint; readonly text: string })
  | (RawSpan & { readonly t: 'float'; readonly v: number })
  | (RawSpan & { readonly t: 'str'; readonly v: string; readonly text: string })
  | (RawSpan & { readonly t: 'chain'; readonly segs: readonly RawSegment[] })
  | (RawSpan & { readonly t: 'paren'; readonly x: Raw })
  | (RawSpan & { readonly t: 'unary'; readonly op: '-' | '+' | '!' | '~'; readonly x: Raw })
  | (RawSpan & {
      readonly t: 'bin';
      readonly op: string;
      readonly l: Raw;
      readonly r: Raw;
      readonly opStart: number;
      readonly opEnd: number;
    });

const BINARY_LEVELS: readonly (readonly string[])[] = [
  ['||'],
  ['&&'],
  ['==', '!='],
  ['<', '>', '<=', '>='],
  ['|'],
  ['^'],
  ['&'],
  ['<<', '>>'],
  ['+', '-'],
  ['*', '/', '%'],
];

/** Deepest nesting of operators and parentheses accepted (LTTng's bytecode is 64 KiB at most). */
export const MAX_DEPTH = 256;

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly toks: readonly Token[],
  ) {}

  private peek(): Token {
    return this.toks[this.pos]!;
  }

  private next(): Token {
    const t = this.toks[this.pos]!;
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private isOp(t: Token, ...ops: string[]): boolean {
    return t.kind === 'op' && ops.includes(t.text);
  }

  fail(t: Token, what?: string): never {
    const reason =
      t.kind === 'eof'
        ? `syntax error: unexpected end of expression${what === undefined ? '' : `, expected ${what}`}`
        : `syntax error: unexpected ${describe(t)}${what === undefined ? '' : `, expected ${what}`}`;
    throw new FilterSyntaxError(this.text, t.start, reason, Math.max(1, t.end - t.start));
  }

  parseAll(): Raw {
    if (this.peek().kind === 'eof') this.fail(this.peek(), 'an expression');
    const e = this.binary(0);
    const t = this.peek();
    if (t.kind !== 'eof') this.fail(t, 'an operator or the end of the expression');
    return e;
  }

  private binary(level: number): Raw {
    if (level >= BINARY_LEVELS.length) return this.unary();
    const ops = BINARY_LEVELS[level]!;
    let l = this.binary(level + 1);
    for (let chain = 1; ; chain++) {
      const t = this.peek();
      if (!(t.kind === 'op' && ops.includes(t.text))) return l;
      // A chain `a || b || ...` is a left spine as deep as it is long.
      if (this.depth + chain > MAX_DEPTH) {
        throw new FilterSyntaxError(
          this.text,
          t.start,
          `expression nested too deeply (more than ${MAX_DEPTH} levels)`,
        );
      }
      this.next();
      const r = this.binary(level + 1);
      l = { t: 'bin', op: t.text, l, r, start: l.start, end: r.end, opStart: t.start, opEnd: t.end };
    }
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) {
      throw new FilterSyntaxError(
        this.text,
        t.start,
        `expression nested too deeply (more than ${MAX_DEPTH} levels)`,
      );
    }
  }

  private unary(): Raw {
    const t = this.peek();
    this.enter(t);
    try {
      return this.unaryInner(t);
    } finally {
      this.depth--;
    }
  }

  private unaryInner(t: Token): Raw {
    if (this.isOp(t, '-', '+', '!', '~')) {
      this.next();
      const x = this.unary();
      return { t: 'unary', op: t.text as '-' | '+' | '!' | '~', x, start: t.start, end: x.end };
    }
    if (t.kind === 'id' || t.kind === 'gid') return this.postfix();
    return this.primary();
  }

  private primary(): Raw {
    const t = this.next();
    switch (t.kind) {
      case 'int':
        return { t: 'int', v: t.value as bigint, text: t.text, start: t.start, end: t.end };
      case 'float':
        return { t: 'float', v: t.value as number, start: t.start, end: t.end };
      case 'string':
        return { t: 'str', v: t.value as string, text: t.text, start: t.start, end: t.end };
      default:
        break;
    }
    if (this.isOp(t, '(')) {
      const x = this.binary(0);
      const close = this.next();
      if (!this.isOp(close, ')')) this.fail(close, "')'");
      return { t: 'paren', x, start: t.start, end: close.end };
    }
    return this.fail(t, 'an operand');
  }

  /** prefix ( ('.' | '->') prefix )* where prefix = identifier ( '[' unary ']' )* */
  private postfix(): Raw {
    const segs: RawSegment[] = [this.segment()];
    while (this.isOp(this.peek(), '.', '->')) {
      this.next();
      const t = this.peek();
      if (t.kind !== 'id' && t.kind !== 'gid') this.fail(t, 'a field name');
      segs.push(this.segment());
    }
    return { t: 'chain', segs, start: segs[0]!.start, end: segs[segs.length - 1]!.end };
  }

  private segment(): RawSegment {
    const id = this.next();
    const indices: Raw[] = [];
    let end = id.end;
    while (this.isOp(this.peek(), '[')) {
      this.next();
      indices.push(this.unary());
      const close = this.next();
      if (!this.isOp(close, ']')) this.fail(close, "']'");
      end = close.end;
    }
    return { name: id.text, global: id.kind === 'gid', indices, start: id.start, end };
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'id':
    case 'gid':
      return `identifier '${t.text}'`;
    case 'int':
    case 'float':
      return `number ${t.text}`;
    case 'string':
      return `string ${t.text}`;
    default:
      return `'${t.text}'`;
  }
}

// ---------------------------------------------------------------------------------------------
// Checks of lttng-tools' IR generation

/** IR data type of a subexpression, as lttng-tools tracks it. */
type IrType = 'string' | 'numeric' | 'float' | 'expression';

interface Checked {
  readonly node: Node;
  readonly ir: IrType;
}

const UNARY_KIND = { '-': 'neg', '+': 'plus', '!': 'not', '~': 'bitnot' } as const;

class Checker {
  constructor(private readonly text: string) {}

  private fail(at: RawSpan, reason: string): never {
    throw new FilterSyntaxError(this.text, at.start, reason, Math.max(1, at.end - at.start));
  }

  private failOp(raw: Raw & { t: 'bin' }, reason: string): never {
    throw new FilterSyntaxError(this.text, raw.opStart, reason, raw.opEnd - raw.opStart);
  }

  root(raw: Raw): Node {
    const c = this.check(raw);
    if (c.ir === 'string') this.fail(raw, 'a string cannot be the whole expression');
    if (c.ir === 'float') this.fail(raw, 'a floating point constant cannot be the whole expression');
    return c.node;
  }

  private check(raw: Raw): Checked {
    switch (raw.t) {
      case 'int':
        return { node: { k: 'int', v: raw.v, start: raw.start, end: raw.end }, ir: 'numeric' };
      case 'float':
        return { node: { k: 'float', v: raw.v, start: raw.start, end: raw.end }, ir: 'float' };
      case 'str': {
        const t = isStarGlob(raw.v) ? (isStarAtEndOnly(raw.v) ? 'globEnd' : 'glob') : 'plain';
        const node: StrNode = { k: 'str', v: raw.v, t, start: raw.start, end: raw.end };
        return { node, ir: 'string' };
      }
      case 'paren':
        return this.check(raw.x);
      case 'chain':
        return { node: this.ref(raw), ir: 'expression' };
      case 'unary': {
        const x = this.check(raw.x);
        if (x.ir === 'string') {
          this.fail(
            { start: raw.start, end: raw.start + 1 },
            `unary operator '${raw.op}' not allowed on a string literal`,
          );
        }
        return { node: { k: UNARY_KIND[raw.op], x: x.node, start: raw.start, end: raw.end }, ir: x.ir };
      }
      case 'bin':
        return this.binary(raw);
    }
  }

  private binary(raw: Raw & { t: 'bin' }): Checked {
    const op = raw.op;
    if (op === '+' || op === '-' || op === '*' || op === '/' || op === '%') {
      this.failOp(raw, `binary operator '${op}' not supported (the filter language has no arithmetic)`);
    }
    const l = this.check(raw.l);
    const r = this.check(raw.r);
    const span = { start: raw.start, end: raw.end };
    if (op === '&&' || op === '||') {
      if (l.ir === 'string' || r.ir === 'string') {
        this.failOp(raw, `logical operator '${op}' cannot have a string operand`);
      }
      return { node: { k: op === '&&' ? 'and' : 'or', l: l.node, r: r.node, ...span }, ir: 'numeric' };
    }
    if (op === '&' || op === '|' || op === '^' || op === '<<' || op === '>>') {
      if (l.ir === 'string' || r.ir === 'string') {
        this.failOp(raw, `bitwise operator '${op}' cannot have a string operand`);
      }
      if (l.ir === 'float' || r.ir === 'float') {
        this.failOp(raw, `bitwise operator '${op}' cannot have a floating point operand`);
      }
      return { node: { k: 'bit', op: op as BitOp, l: l.node, r: r.node, ...span }, ir: 'numeric' };
    }
    // Comparison.
    const num = (t: IrType): boolean => t === 'numeric' || t === 'float';
    if ((l.ir === 'string' && num(r.ir)) || (num(l.ir) && r.ir === 'string')) {
      this.failOp(raw, `operator '${op}': cannot compare a string with a number`);
    }
    return { node: { k: 'cmp', op: op as CmpOp, l: l.node, r: r.node, ...span }, ir: 'numeric' };
  }

  private ref(raw: Raw & { t: 'chain' }): Node {
    const segs = raw.segs;
    const first = segs[0]!;
    let root: RefRoot = 'payload';
    let rest = segs;
    if (first.global) {
      if (first.name === '$ctx') root = 'ctx';
      else if (first.name === '$app') root = 'app';
      else if (first.name === '$container') root = 'container';
      else this.fail(first, `unexpected identifier '${first.name}' (expected $ctx, $app or $container)`);
      // LTTng ignores indices written on the root itself ($ctx[1].x).
      rest = segs.slice(1);
      if (rest.length === 0) this.fail(first, `expecting '.' and a name after '${first.name}'`);
    }
    const head = rest[0]!;
    const path: PathItem[] = [];
    const pushIndices = (s: RawSegment): void => {
      for (const ix of s.indices) {
        if (ix.t !== 'int') this.fail(ix, 'expecting a constant index in array expression');
        path.push({ idx: BigInt.asUintN(64, ix.v) });
      }
    };
    pushIndices(head);
    for (const s of rest.slice(1)) {
      path.push({ sym: s.name });
      pushIndices(s);
    }
    if (root === 'container') {
      if (!Object.hasOwn(CONTAINER_ATTRIBUTES, head.name)) {
        this.fail(
          head,
          `unknown container attribute '${head.name}' (expected ${Object.keys(CONTAINER_ATTRIBUTES).join(', ')})`,
        );
      }
      if (path.length > 0)
        this.fail({ start: head.end, end: raw.end }, `$container.${head.name} has no members`);
    }
    return { k: 'ref', root, name: head.name, path, start: raw.start, end: raw.end };
  }
}

/** Unknown escapes (anything but `\\` and `\*`) in string literals, as lttng-tools refuses them. */
function validateStrings(text: string, node: Node): void {
  const visit = (n: Node): void => {
    switch (n.k) {
      case 'str': {
        const src = text.slice(n.start, n.end);
        for (let i = 0; i < src.length; i++) {
          if (src[i] !== '\\') continue;
          const e = src[i + 1];
          if (e !== '\\' && e !== '*') {
            throw new FilterSyntaxError(
              text,
              n.start + i,
              `unsupported escape sequence '\\${e === undefined || e === '"' || e === "'" ? '' : e}' ` +
                '(only \\* and \\\\ are understood)',
              2,
            );
          }
          i++;
        }
        return;
      }
      case 'not':
      case 'neg':
      case 'plus':
      case 'bitnot':
        return visit(n.x);
      case 'cmp':
      case 'bit':
      case 'and':
      case 'or':
        visit(n.l);
        return visit(n.r);
      default:
        return;
    }
  };
  visit(node);
}

/** Crushes runs of stars in glob literals, then checks where globs may appear. */
function normalizeAndValidateGlobs(text: string, node: Node): Node {
  const norm = (n: Node): Node => {
    switch (n.k) {
      case 'str':
        return n.t === 'plain' ? n : { ...n, v: normalizeStarGlob(n.v) };
      case 'not':
      case 'neg':
      case 'plus':
      case 'bitnot':
        return { ...n, x: norm(n.x) };
      case 'cmp': {
        const l = norm(n.l);
        const r = norm(n.r);
        if (l.k === 'str' && r.k === 'str') {
          if ((l.t === 'glob' && r.t !== 'plain') || (r.t === 'glob' && l.t !== 'plain')) {
            throw new FilterSyntaxError(
              text,
              n.start,
              'cannot compare two globbing patterns',
              n.end - n.start,
            );
          }
        }
        if (
          ((l.k === 'str' && l.t === 'glob') || (r.k === 'str' && r.t === 'glob')) &&
          n.op !== '==' &&
          n.op !== '!='
        ) {
          const g = l.k === 'str' && l.t === 'glob' ? l : r;
          throw new FilterSyntaxError(
            text,
            g.start,
            `only == and != can compare with a globbing pattern (use \\* for a literal star)`,
            g.end - g.start,
          );
        }
        return { ...n, l, r };
      }
      case 'bit':
      case 'and':
      case 'or':
        return { ...n, l: norm(n.l), r: norm(n.r) };
      default:
        return n;
    }
  };
  return norm(node);
}

/**
 * Parses and checks a filter expression. Throws `FilterSyntaxError` (exit code 2) with the
 * column of the offending token for anything `lttng enable-event --filter` would refuse.
 */
export function parseFilter(text: string): FilterExpr {
  const toks = tokenize(text);
  const raw = new Parser(text, toks).parseAll();
  const root = new Checker(text).root(raw);
  validateStrings(text, root);
  return { text, root: normalizeAndValidateGlobs(text, root) };
}
