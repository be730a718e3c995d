/**
 * The checked syntax tree of a filter expression: what `parseFilter()` returns and what the
 * compiler and the reference evaluator consume. Offsets point into `FilterExpr.text`.
 */

export interface Span {
  /** Offset of the first character (UTF-16 code units). */
  readonly start: number;
  /** Offset after the last character. */
  readonly end: number;
}

export interface IntNode extends Span {
  readonly k: 'int';
  /** int64 value (constants are read as uint64 and cast). */
  readonly v: bigint;
}

export interface FloatNode extends Span {
  readonly k: 'float';
  readonly v: number;
}

/**
 * A string literal, as LTTng classifies it: `plain` (no unescaped `*`; `\*` and `\\` are
 * escapes), `globEnd` (one unescaped `*`, at the end: prefix match, compared like a plain
 * literal whose `*` matches the rest) or `glob` (full star-glob pattern, only `==`/`!=`).
 * `v` is the text between the quotes, escapes kept, consecutive stars of patterns crushed.
 */
export interface StrNode extends Span {
  readonly k: 'str';
  readonly v: string;
  readonly t: 'plain' | 'globEnd' | 'glob';
}

/** One step after the first name of a field reference: `.name` (or `->name`) or `[index]`. */
export type PathItem = { readonly sym: string } | { readonly idx: bigint };

export type RefRoot = 'payload' | 'ctx' | 'app' | 'container';

/**
 * A field reference: `name`, `$ctx.name`, `$app.provider:type`, `$container.name`, followed by
 * `path` (member names and constant indices, in order; indices of the first name included).
 */
export interface RefNode extends Span {
  readonly k: 'ref';
  readonly root: RefRoot;
  /** Field, context (`pid_ns`, `perf:thread:cycles`), app context (`provider:type`) or container attribute. */
  readonly name: string;
  readonly path: readonly PathItem[];
}

export interface UnaryNode extends Span {
  /** `!`, unary `-`, unary `+`, `~`. */
  readonly k: 'not' | 'neg' | 'plus' | 'bitnot';
  readonly x: Node;
}

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type BitOp = '&' | '|' | '^' | '<<' | '>>';

export interface CmpNode extends Span {
  readonly k: 'cmp';
  readonly op: CmpOp;
  readonly l: Node;
  readonly r: Node;
}

export interface BitNode extends Span {
  readonly k: 'bit';
  readonly op: BitOp;
  readonly l: Node;
  readonly r: Node;
}

export interface LogicNode extends Span {
  readonly k: 'and' | 'or';
  readonly l: Node;
  readonly r: Node;
}

export type Node = IntNode | FloatNode | StrNode | RefNode | UnaryNode | CmpNode | BitNode | LogicNode;

/** A parsed and checked filter expression. */
export interface FilterExpr {
  /** The expression as the user wrote it. */
  readonly text: string;
  readonly root: Node;
}

/** Attributes `$container.X` can name, and their types. */
export const CONTAINER_ATTRIBUTES = {
  name: 'string',
  id: 'string',
  type: 'string',
  image: 'string',
  pid_ns: 'int',
} as const;

export type ContainerAttribute = keyof typeof CONTAINER_ATTRIBUTES;

/** Every field reference of the expression, in source order. */
export function refsOf(expr: FilterExpr): RefNode[] {
  const out: RefNode[] = [];
  const walk = (n: Node): void => {
    switch (n.k) {
      case 'ref':
        out.push(n);
        break;
      case 'not':
      case 'neg':
      case 'plus':
      case 'bitnot':
        walk(n.x);
        break;
      case 'cmp':
      case 'bit':
      case 'and':
      case 'or':
        walk(n.l);
        walk(n.r);
        break;
      default:
        break;
    }
  };
  walk(expr.root);
  return out;
}

/** The expression back as text, fully parenthesized (for messages and tests). */
export function formatNode(n: Node): string {
  switch (n.k) {
    case 'int':
      return n.v.toString();
    case 'float':
      return Number.isInteger(n.v) && Math.abs(n.v) < 1e21 ? `${n.v}.0` : String(n.v);
    case 'str':
      return `"${n.v}"`;
    case 'ref': {
      const head = n.root === 'payload' ? n.name : `$${n.root}.${n.name}`;
      return head + n.path.map((p) => ('sym' in p ? `.${p.sym}` : `[${p.idx}]`)).join('');
    }
    case 'not':
      return `(!${formatNode(n.x)})`;
    case 'neg':
      return `(-${formatNode(n.x)})`;
    case 'plus':
      return `(+${formatNode(n.x)})`;
    case 'bitnot':
      return `(~${formatNode(n.x)})`;
    case 'cmp':
    case 'bit':
      return `(${formatNode(n.l)} ${n.op} ${formatNode(n.r)})`;
    case 'and':
      return `(${formatNode(n.l)} && ${formatNode(n.r)})`;
    case 'or':
      return `(${formatNode(n.l)} || ${formatNode(n.r)})`;
  }
}
