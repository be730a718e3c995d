/**
 * Type checking and code generation of one filter expression for one event class: each AST
 * node becomes a JS expression whose type (int, big int, bool, float, string, dynamic,
 * aggregate) decides the code of the nodes above it. What the tracer would refuse to link
 * raises `StaticFalse` (the type rules are lttng-ust's, listed in compile.ts).
 */
import { textToByteString } from '../ctf/event.js';
import type { ArrayFC, EventClass, FieldClass, SequenceFC, StreamClass, VariantFC } from '../ctf/ir.js';
import type { BitOp, CmpOp, Node, RefNode } from './ast.js';
import { CONTAINER_ATTRIBUTES } from './ast.js';
import type { ValueScope } from './resolve.js';
import { isHostTidRef, memberIndex, resolveRef } from './resolve.js';
import type { OptionKind } from './runtime.js';
import { globRegExp } from './strings.js';

/** Raised during generation when the tracer would refuse to link the expression to the class. */
export class StaticFalse extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

type Ty =
  | { readonly t: 'int'; readonly big: boolean }
  | { readonly t: 'bool' }
  | { readonly t: 'float' }
  | { readonly t: 'string'; readonly lit?: 'plain' | 'globEnd' | 'glob'; readonly value?: string }
  | { readonly t: 'dyn' }
  | { readonly t: 'agg'; readonly cls: FieldClass };

interface Code {
  readonly code: string;
  readonly ty: Ty;
}

const INT: Ty = { t: 'int', big: false };
const BIG: Ty = { t: 'int', big: true };
const BOOL: Ty = { t: 'bool' };
const FLOAT: Ty = { t: 'float' };
const STRING: Ty = { t: 'string' };
const DYN: Ty = { t: 'dyn' };

export const SCOPE_VAR: Record<ValueScope, string> = {
  payload: 'P',
  streamContext: 'S',
  context: 'C',
  packetContext: 'K',
};

export const SCOPE_INIT: Record<ValueScope, string> = {
  payload: 'rec.payload',
  streamContext: 'rec.streamContext',
  context: 'rec.context',
  packetContext: 'rec.packet.context',
};

function isText(cls: ArrayFC | SequenceFC): boolean {
  const e = cls.element;
  return e.kind === 'int' && e.size === 8 && e.encoding !== 'none';
}

export class Generator {
  /** Whether generated code calls something that can fail at run time. */
  mayFail = false;
  readonly scopes = new Set<ValueScope>();
  readonly consts: unknown[] = [];
  usesContainer = false;
  /** `$ctx.host_tid` that no field of the class answers: the container model's join does. */
  usesHostTid = false;

  constructor(
    private readonly ec: EventClass,
    private readonly sc: StreamClass,
  ) {}

  private konst(v: unknown): string {
    this.consts.push(v);
    return `K${this.consts.length - 1}`;
  }

  private intLit(v: bigint): Code {
    if (v >= -9007199254740991n && v <= 9007199254740991n) return { code: `(${v})`, ty: INT };
    return { code: `(${v}n)`, ty: BIG };
  }

  /** `code`, which may throw FAIL: the predicate then catches it (the event does not match). */
  private failing(code: string): string {
    this.mayFail = true;
    return code;
  }

  /** Code of a value as an integer (bool → 0/1). */
  private asInt(c: Code): string {
    return c.ty.t === 'bool' ? `(${c.code} ? 1 : 0)` : c.code;
  }

  /** Code of a value for the dynamic helpers (ints as bigint). */
  private asDyn(c: Code): string {
    switch (c.ty.t) {
      case 'dyn':
      case 'float':
      case 'string':
        return c.code;
      case 'bool':
        return `(${c.code} ? 1n : 0n)`;
      case 'int':
        return `BigInt(${c.code})`;
      case 'agg':
        throw new StaticFalse('an array or structure used as a value');
    }
  }

  /** Code of a value as an operand of && / || (a JS boolean). */
  truth(c: Code): string {
    switch (c.ty.t) {
      case 'bool':
        return c.code;
      case 'int':
        return `(${c.code} != 0)`;
      case 'float':
        return `ftruth(${c.code})`;
      case 'dyn':
        return this.failing(`dynTruth(${c.code})`);
      case 'string':
        throw new StaticFalse('a string operand of && or ||');
      case 'agg':
        throw new StaticFalse('an array or structure used as a value');
    }
  }

  /** Code of the whole expression: its truth as an operand, but a float or a string is refused. */
  root(n: Node): string {
    const c = this.gen(n);
    const t = c.ty.t;
    if (t === 'dyn') return this.failing(`dynRoot(${c.code})`);
    if (t === 'float' || t === 'string') throw new StaticFalse(`a ${t} value as the whole expression`);
    return this.truth(c);
  }

  gen(n: Node): Code {
    switch (n.k) {
      case 'int':
        return this.intLit(n.v);
      case 'float':
        return { code: Number.isFinite(n.v) ? `(${n.v})` : this.konst(n.v), ty: FLOAT };
      case 'str': {
        // Field strings are byte strings: compare with the literal's UTF-8 bytes.
        const v = textToByteString(n.v);
        return { code: JSON.stringify(v), ty: { t: 'string', lit: n.t, value: v } };
      }
      case 'ref':
        return this.ref(n);
      case 'not':
        return this.not(this.gen(n.x));
      case 'neg':
      case 'plus':
      case 'bitnot':
        return this.unary(n.k, this.gen(n.x));
      case 'and':
      case 'or': {
        const l = this.truth(this.gen(n.l));
        const r = this.truth(this.gen(n.r));
        return { code: `(${l} ${n.k === 'and' ? '&&' : '||'} ${r})`, ty: BOOL };
      }
      case 'bit':
        return this.bit(n.op, this.gen(n.l), this.gen(n.r));
      case 'cmp':
        return this.cmp(n.op, this.gen(n.l), this.gen(n.r));
    }
  }

  private not(x: Code): Code {
    switch (x.ty.t) {
      case 'bool':
        return { code: `(!${x.code})`, ty: BOOL };
      case 'int':
        return { code: `(${x.code} == 0)`, ty: BOOL };
      case 'float':
        return { code: `(${x.code} === 0)`, ty: BOOL };
      case 'dyn':
        return { code: this.failing(`dynNot(${x.code})`), ty: BOOL };
      case 'string':
        throw new StaticFalse('operator ! on a string');
      case 'agg':
        throw new StaticFalse('an array or structure used as a value');
    }
  }

  private unary(k: 'neg' | 'plus' | 'bitnot', x: Code): Code {
    const sym = k === 'neg' ? '-' : k === 'plus' ? '+' : '~';
    switch (x.ty.t) {
      case 'bool':
      case 'int': {
        const v = this.asInt(x);
        if (k === 'plus') return { code: v, ty: x.ty.t === 'bool' ? INT : x.ty };
        if (k === 'neg')
          return x.ty.t === 'int' && x.ty.big ? { code: `neg(${v})`, ty: BIG } : { code: `(-${v})`, ty: INT };
        return x.ty.t === 'int' && x.ty.big
          ? { code: `bnot(${v})`, ty: BIG }
          : { code: `(-${v} - 1)`, ty: INT };
      }
      case 'float':
        if (k === 'bitnot') throw new StaticFalse('operator ~ on a float');
        return { code: k === 'neg' ? `(-${x.code})` : x.code, ty: FLOAT };
      case 'dyn':
        this.mayFail = true;
        if (k === 'neg') return { code: `dynNeg(${x.code})`, ty: DYN };
        if (k === 'plus') return { code: `dynPlus(${x.code})`, ty: DYN };
        return { code: `BigInt.asIntN(64, ~dynInt(${x.code}))`, ty: DYN };
      case 'string':
        throw new StaticFalse(`operator ${sym} on a string`);
      case 'agg':
        throw new StaticFalse('an array or structure used as a value');
    }
  }

  private bit(op: BitOp, l: Code, r: Code): Code {
    for (const c of [l, r]) {
      if (c.ty.t === 'string') throw new StaticFalse(`a string operand of ${op}`);
      if (c.ty.t === 'float') throw new StaticFalse(`a float operand of ${op}`);
      if (c.ty.t === 'agg') throw new StaticFalse('an array or structure used as a value');
    }
    if (l.ty.t === 'dyn' || r.ty.t === 'dyn') {
      this.mayFail = true;
      const a = l.ty.t === 'dyn' ? `dynInt(${l.code})` : this.asDyn(l);
      const b = r.ty.t === 'dyn' ? `dynInt(${r.code})` : this.asDyn(r);
      const fn = { '&': 'band', '|': 'bor', '^': 'bxor', '<<': 'shl', '>>': 'shr' }[op];
      // The int helpers accept bigints; the result goes back to the dynamic world as a bigint.
      return { code: `BigInt(${fn}(${a}, ${b}))`, ty: DYN };
    }
    const a = this.asInt(l);
    const b = this.asInt(r);
    switch (op) {
      case '&':
        return { code: `band(${a}, ${b})`, ty: BIG };
      case '|':
        return { code: `bor(${a}, ${b})`, ty: BIG };
      case '^':
        return { code: `bxor(${a}, ${b})`, ty: BIG };
      case '<<':
        return { code: this.failing(`shl(${a}, ${b})`), ty: BIG };
      case '>>':
        return { code: this.failing(`shr(${a}, ${b})`), ty: BIG };
    }
  }

  private cmp(op: CmpOp, l: Code, r: Code): Code {
    const lt = l.ty.t;
    const rt = r.ty.t;
    if (lt === 'agg' || rt === 'agg') throw new StaticFalse('an array or structure used as a value');
    if (lt === 'dyn' || rt === 'dyn') {
      this.mayFail = true;
      const litFlag = (c: Code): number =>
        c.ty.t === 'string' && c.ty.lit !== undefined ? (c.ty.lit === 'glob' ? 2 : 1) : 0;
      return {
        code: `dynCmp(${JSON.stringify(op)}, ${this.asDyn(l)}, ${litFlag(l)}, ${this.asDyn(r)}, ${litFlag(r)})`,
        ty: BOOL,
      };
    }
    const lStr = lt === 'string';
    const rStr = rt === 'string';
    if (lStr !== rStr) throw new StaticFalse('a string compared with a number');
    if (lStr && rStr) return this.strCmp(op, l, r);
    // Numbers.
    let a = this.asInt(l);
    let b = this.asInt(r);
    if (lt === 'float' || rt === 'float') {
      if (lt === 'int' && l.ty.big) a = `Number(${a})`;
      if (rt === 'int' && r.ty.big) b = `Number(${b})`;
      return { code: `(${a} ${jsCmp(op, true)} ${b})`, ty: BOOL };
    }
    const mixed = (lt === 'int' && l.ty.big) || (rt === 'int' && r.ty.big);
    return { code: `(${a} ${jsCmp(op, !mixed)} ${b})`, ty: BOOL };
  }

  private strCmp(op: CmpOp, l: Code, r: Code): Code {
    const lTy = l.ty as Ty & { t: 'string' };
    const rTy = r.ty as Ty & { t: 'string' };
    // Full glob pattern on one side (checked: only == and !=).
    if (lTy.lit === 'glob' || rTy.lit === 'glob') {
      const [pat, cand] = lTy.lit === 'glob' ? [lTy.value!, r] : [rTy.value!, l];
      const re = this.konst(globRegExp(pat));
      const m = `${re}.test(${cand.code})`;
      return { code: op === '==' ? m : `(!${m})`, ty: BOOL };
    }
    // Field against a literal: fast paths for == and != when nothing needs the tracer's rules.
    const eq = op === '==' || op === '!=';
    for (const [lit, other] of [
      [lTy, r],
      [rTy, l],
    ] as const) {
      if (!eq || lit.lit === undefined || (other.ty as { lit?: string }).lit !== undefined) continue;
      const v = lit.value!;
      if (lit.lit === 'plain' && !v.includes('\\')) {
        return { code: `(${other.code} ${op === '==' ? '===' : '!=='} ${JSON.stringify(v)})`, ty: BOOL };
      }
      if (lit.lit === 'globEnd' && !v.includes('\\')) {
        const m = `${other.code}.startsWith(${JSON.stringify(v.slice(0, -1))})`;
        return { code: op === '==' ? m : `(!${m})`, ty: BOOL };
      }
    }
    if (eq && lTy.lit === undefined && rTy.lit === undefined) {
      return { code: `(${l.code} ${op === '==' ? '===' : '!=='} ${r.code})`, ty: BOOL };
    }
    const c = `strcmpLiteral(${l.code}, ${lTy.lit !== undefined}, ${r.code}, ${rTy.lit !== undefined})`;
    return { code: `(${c} ${op === '==' ? '===' : op === '!=' ? '!==' : op} 0)`, ty: BOOL };
  }

  private ref(n: RefNode): Code {
    if (n.root === 'container') {
      this.usesContainer = true;
      this.mayFail = true;
      const attr = n.name as keyof typeof CONTAINER_ATTRIBUTES;
      const ty = CONTAINER_ATTRIBUTES[attr] === 'int' ? DYN : STRING;
      return { code: `cattr(rec, ${JSON.stringify(attr)})`, ty };
    }
    const res = resolveRef(n, this.ec, this.sc);
    if (res === undefined && isHostTidRef(n)) {
      this.usesHostTid = true;
      this.mayFail = true;
      return { code: 'htid(rec)', ty: INT };
    }
    if (res === undefined) throw new StaticFalse(`no field ${n.name}`);
    this.scopes.add(res.scope);
    let code = `${SCOPE_VAR[res.scope]}[${res.index}]`;
    let cls: FieldClass = res.field.type;
    for (const step of n.path) {
      if ('sym' in step) {
        if (cls.kind !== 'struct') throw new StaticFalse(`.${step.sym} of a field that is not a structure`);
        const i = memberIndex(cls, step.sym);
        if (i < 0) throw new StaticFalse(`no member ${step.sym}`);
        code = `${code}[${i}]`;
        cls = cls.fields[i]!.type;
      } else {
        if (cls.kind !== 'array' && cls.kind !== 'sequence')
          throw new StaticFalse('index of a field that is not an array');
        if (isText(cls)) throw new StaticFalse('index of a text array');
        if (cls.kind === 'array') {
          if (step.idx >= BigInt(cls.length)) throw new StaticFalse('index past the end of an array');
          code = `${code}[${step.idx}]`;
        } else {
          this.mayFail = true;
          code = `seqAt(${code}, ${step.idx > 0xffffffffn ? 'Infinity' : step.idx})`;
        }
        cls = cls.element;
      }
    }
    return this.load(code, cls);
  }

  private load(code: string, cls: FieldClass): Code {
    switch (cls.kind) {
      case 'int':
      case 'enum': {
        const int = cls.kind === 'int' ? cls : cls.container;
        if (int.size === 64 && !int.signed) return { code: `w64(${code})`, ty: BIG };
        return { code, ty: int.size > 53 ? BIG : INT };
      }
      case 'float':
        return { code, ty: FLOAT };
      case 'string':
        return { code, ty: STRING };
      case 'array':
      case 'sequence':
        return isText(cls) ? { code, ty: STRING } : { code, ty: { t: 'agg', cls } };
      case 'struct':
        return { code, ty: { t: 'agg', cls } };
      case 'variant': {
        this.mayFail = true;
        const kinds = this.konst(variantKinds(cls));
        return { code: `dynOf(${code}, ${kinds})`, ty: DYN };
      }
    }
  }
}

function variantKinds(v: VariantFC): OptionKind[] {
  return v.options.map((o): OptionKind => {
    const t = o.type;
    switch (t.kind) {
      case 'int':
      case 'enum': {
        const int = t.kind === 'int' ? t : t.container;
        return int.size === 64 && !int.signed ? 'uint64' : 'int';
      }
      case 'float':
        return 'float';
      case 'string':
        return 'string';
      case 'array':
      case 'sequence':
        return isText(t) ? 'string' : 'none';
      default:
        return 'none';
    }
  });
}

function jsCmp(op: CmpOp, strict: boolean): string {
  if (op === '==') return strict ? '===' : '==';
  if (op === '!=') return strict ? '!==' : '!=';
  return op;
}
