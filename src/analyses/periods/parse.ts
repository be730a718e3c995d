/**
 * The period definition language of lttng-analyses 0.6.1 (`cli/period_parsing.py`), parsed by
 * hand: `--period '[NAME[(PARENT)]]:BEGIN-EXPR[:END-EXPR]'` and
 * `--period-captures 'NAME:[CAPTURES][:CAPTURES]'`.
 *
 *   expr     := or ; or := and ('||' and)* ; and := not ('&&' not)* ; not := '!' not | atom
 *   atom     := '(' expr ')' | comp
 *   comp     := ref-name ('=*'|'=='|'!=') "string"
 *             | ref-field (relop number | ('=*'|'=='|'!=') "string" | relop ref-field)
 *   ref      := ['$parent.'] ['$begin.'] '$evt.' ( '$name' | [DYN '.'] IDENT )
 *   DYN      := $pkt_header | $pkt_ctx | $header | $stream_ctx | $ctx | $payload
 *   relop    := == | != | <= | >= | < | >
 *
 * As there, only the text after the last `/` of the argument is parsed, a missing end
 * expression is the begin expression, `!=` is `!(==)`, and number literals are floats.
 */
import { UsageError } from '../../util/errors.js';

export type DynScope = 'auto' | '$pkt_header' | '$pkt_ctx' | '$header' | '$stream_ctx' | '$ctx' | '$payload';

/** A reference to the current event (`$evt`), the period's begin event or the parent's. */
export interface Ref {
  readonly k: 'ref';
  /** `evt`: `$evt.`; `begin`: `$begin.$evt.`; `parent`: `$parent.$begin.$evt.` (or `$parent.$evt.`). */
  readonly ctx: 'evt' | 'begin' | 'parent';
  /** `$parent.` without `$begin.` (illegal in expressions, as lttng-analyses says). */
  readonly parentNoBegin?: boolean;
  /** Undefined: the event name (`$name`). */
  readonly field: string | undefined;
  readonly scope: DynScope;
}

export type Operand =
  Ref | { readonly k: 'num'; readonly v: number } | { readonly k: 'str'; readonly v: string };

export type CmpOp = 'eq' | 'lt' | 'le' | 'gt' | 'ge' | 'glob';

export type Expr =
  | { readonly k: 'and' | 'or'; readonly l: Expr; readonly r: Expr }
  | { readonly k: 'not'; readonly e: Expr }
  | { readonly k: 'cmp'; readonly op: CmpOp; readonly l: Operand; readonly r: Operand };

export interface PeriodDefArg {
  readonly name: string | undefined;
  readonly parent: string | undefined;
  readonly begin: Expr;
  readonly end: Expr;
}

export interface CapturesArg {
  readonly name: string;
  readonly begin: Map<string, Ref>;
  readonly end: Map<string, Ref>;
}

/** A malformed expression (lttng-analyses: `Malformed period definition expression: ARG`). */
export class MalformedExpression extends UsageError {}

const DYN: readonly DynScope[] = ['$pkt_header', '$pkt_ctx', '$header', '$stream_ctx', '$ctx', '$payload'];
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
// A sign or a digit, then digits (pyparsing's `Word('+-' + nums, nums)`); `[+-0-9]` would be the
// range from `+` to `0`, which takes `,./` and no digit from 1 to 8.
const NUMBER = /^[-+0-9][0-9]*(?:\.(?:[0-9]+)?)?(?:[eE][-+0-9][0-9]*)?/;

class Parser {
  pos = 0;
  constructor(readonly s: string) {}

  ws(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos]!)) this.pos++;
  }

  peek(lit: string): boolean {
    this.ws();
    return this.s.startsWith(lit, this.pos);
  }

  eat(lit: string): boolean {
    if (!this.peek(lit)) return false;
    this.pos += lit.length;
    return true;
  }

  expect(lit: string): void {
    if (!this.eat(lit)) throw new Error(`expected '${lit}'`);
  }

  ident(): string | undefined {
    this.ws();
    const m = IDENT.exec(this.s.slice(this.pos));
    if (m === null) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  done(): boolean {
    this.ws();
    return this.pos >= this.s.length;
  }

  /** A reference, or undefined (position restored) when the text is not one. */
  ref(): Ref | undefined {
    const save = this.pos;
    let parent = false;
    let begin = false;
    if (this.eat('$parent')) {
      if (!this.eat('.')) return this.fail(save);
      parent = true;
    }
    if (this.peek('$begin')) {
      this.eat('$begin');
      if (!this.eat('.')) return this.fail(save);
      begin = true;
    }
    if (!this.eat('$evt') || !this.eat('.')) return this.fail(save);
    const ctx = parent ? 'parent' : begin ? 'begin' : 'evt';
    const extra = parent && !begin ? { parentNoBegin: true } : {};
    if (this.peek('$name')) {
      this.eat('$name');
      return { k: 'ref', ctx, field: undefined, scope: 'auto', ...extra };
    }
    let scope: DynScope = 'auto';
    for (const d of DYN) {
      if (this.peek(d)) {
        const p = this.pos;
        this.eat(d);
        if (this.eat('.')) {
          scope = d;
          break;
        }
        this.pos = p;
      }
    }
    const id = this.ident();
    if (id === undefined) return this.fail(save);
    return { k: 'ref', ctx, field: id, scope, ...extra };
  }

  private fail(save: number): undefined {
    this.pos = save;
    return undefined;
  }

  quoted(): string | undefined {
    this.ws();
    if (this.s[this.pos] !== '"') return undefined;
    let out = '';
    let i = this.pos + 1;
    for (; i < this.s.length; i++) {
      const c = this.s[i]!;
      if (c === '\\' && i + 1 < this.s.length) {
        const n = this.s[++i]!;
        out += n === 't' ? '\t' : n === 'n' ? '\n' : n === 'r' ? '\r' : n === 'f' ? '\f' : n;
        continue;
      }
      if (c === '"') break;
      out += c;
    }
    if (i >= this.s.length) throw new Error('unterminated string');
    this.pos = i + 1;
    return out;
  }

  number(): number | undefined {
    this.ws();
    const m = NUMBER.exec(this.s.slice(this.pos));
    if (m === null || !/[0-9]/.test(m[0])) return undefined;
    this.pos += m[0].length;
    return Number(m[0]);
  }

  op(ops: readonly string[]): string | undefined {
    for (const o of ops) if (this.eat(o)) return o;
    return undefined;
  }

  expr(): Expr {
    let l = this.and();
    while (this.eat('||')) l = { k: 'or', l, r: this.and() };
    return l;
  }

  and(): Expr {
    let l = this.not();
    while (this.eat('&&')) l = { k: 'and', l, r: this.not() };
    return l;
  }

  not(): Expr {
    if (this.peek('!') && !this.peek('!=')) {
      this.eat('!');
      return { k: 'not', e: this.not() };
    }
    if (this.eat('(')) {
      const e = this.expr();
      this.expect(')');
      return e;
    }
    return this.comp();
  }

  comp(): Expr {
    const l = this.ref();
    if (l === undefined) throw new Error('expected $evt.FIELD or $evt.$name');
    const mk = (op: string, r: Operand): Expr => {
      const cmp = (o: CmpOp): Expr => ({ k: 'cmp', op: o, l, r });
      switch (op) {
        case '=*':
          return cmp('glob');
        case '==':
          return cmp('eq');
        case '!=':
          return { k: 'not', e: cmp('eq') };
        case '<':
          return cmp('lt');
        case '<=':
          return cmp('le');
        case '>':
          return cmp('gt');
        default:
          return cmp('ge');
      }
    };
    if (l.field === undefined) {
      const op = this.op(['=*', '==', '!=']);
      const s = op === undefined ? undefined : this.quoted();
      if (op === undefined || s === undefined) throw new Error('expected =*, == or != and a quoted string');
      return mk(op, { k: 'str', v: s });
    }
    const save = this.pos;
    const eq = this.op(['=*', '==', '!=']);
    if (eq !== undefined) {
      const s = this.quoted();
      if (s !== undefined) return mk(eq, { k: 'str', v: s });
      this.pos = save;
    }
    const rel = this.op(['==', '!=', '<=', '>=', '<', '>']);
    if (rel === undefined) throw new Error('expected a comparison operator');
    const n = this.number();
    if (n !== undefined) return mk(rel, { k: 'num', v: n });
    const r = this.ref();
    if (r === undefined || r.field === undefined) throw new Error('expected a number or $evt.FIELD');
    return mk(rel, r);
  }
}

function lastPart(arg: string): string {
  const i = arg.lastIndexOf('/');
  return i < 0 ? arg : arg.slice(i + 1);
}

/** `--period` */
export function parsePeriodDef(arg: string): PeriodDefArg {
  const p = new Parser(lastPart(arg));
  try {
    let name: string | undefined;
    let parent: string | undefined;
    const save = p.pos;
    const id = p.ident();
    if (id !== undefined) {
      name = id;
      if (p.eat('(')) {
        parent = p.ident();
        if (parent === undefined) throw new Error('expected a parent name');
        p.expect(')');
      }
    } else p.pos = save;
    p.expect(':');
    const begin = p.expr();
    let end = begin;
    if (p.eat(':')) end = p.expr();
    if (!p.done()) throw new Error('trailing text');
    return { name, parent, begin, end };
  } catch {
    throw new MalformedExpression(`Malformed period definition expression: ${arg}`);
  }
}

/** `str(expr)` of a capture reference: its default name. */
export function refText(r: Ref): string {
  const body = r.field === undefined ? '$name' : r.scope === 'auto' ? r.field : `${r.scope}.${r.field}`;
  const evt = `$evt.${body}`;
  if (r.ctx === 'evt') return evt;
  if (r.ctx === 'begin') return `$begin.${evt}`;
  return r.parentNoBegin === true ? `$parent.${evt}` : `$parent.$begin.${evt}`;
}

function captureRefs(p: Parser): Map<string, Ref> {
  const out = new Map<string, Ref>();
  for (;;) {
    const save = p.pos;
    let name: string | undefined;
    const id = p.ident();
    if (id !== undefined && p.eat('=')) name = id;
    else p.pos = save;
    const r = p.ref();
    if (r === undefined) throw new Error('expected a capture');
    const key = name ?? refText(r);
    if (out.has(key)) throw new UsageError(`Duplicate period capture name: "${key}"`);
    out.set(key, r);
    if (!p.eat(',')) return out;
  }
}

/** `--period-captures` */
export function parseCaptures(arg: string): CapturesArg {
  const p = new Parser(lastPart(arg));
  try {
    const name = p.ident();
    if (name === undefined) throw new Error('expected a period name');
    p.expect(':');
    let begin = new Map<string, Ref>();
    let end = new Map<string, Ref>();
    if (!p.done() && !p.peek(':')) begin = captureRefs(p);
    if (p.eat(':')) end = captureRefs(p);
    if (!p.done()) throw new Error('trailing text');
    return { name, begin, end };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new MalformedExpression(`Malformed period captures expression: ${arg}`);
  }
}
