/**
 * Compiles a checked filter expression into a JavaScript predicate specialised to one event
 * class: field positions, types and every type rule are resolved once here, so that per event
 * there is no parsing, no name lookup and no type dispatch (the code is generated and compiled
 * with `new Function`).
 *
 * Semantics are lttng-ust 2.13's (measured against it, see test/filter/README.md):
 *
 * - Integers are int64 (unsigned 64-bit values are cast), compared signed; bitwise operators
 *   work on uint64 and cast back; a shift count outside [0, 63] makes the expression false.
 * - A comparison of an integer with a float converts the integer to double.
 * - As an operand of `&&`/`||` a float is truncated to an integer; `!f` is `f == 0`; a float
 *   field alone is false.
 * - Strings compare with `==`/`!=` and the relational operators (the tracer's strcmp, see
 *   strings.ts); glob literals only with `==`/`!=`.
 * - What the tracer refuses when it links the bytecode to the event makes the expression false
 *   for every event of the class, even in a branch `&&`/`||` would skip: a field the class does
 *   not have, a string compared with a number, a string operand of `!`, `-`, `+`, `~`, `&&`,
 *   `||` or a bitwise operator, a float operand of `~` or a bitwise operator, an array or
 *   sequence used as a value, an index into a text array or sequence, a string or a scalar, a
 *   constant index past the end of a fixed-length array.
 * - What fails at run time makes the expression false for that event only, if it is evaluated:
 *   a shift count outside [0, 63], an index past the end of a sequence, a dynamically typed
 *   value (app context, variant) of the wrong type or absent, `$container.*` of a host event.
 */
import { textToByteString, type EventRecord } from '../ctf/event.js';
import { FilterSyntaxError } from '../util/errors.js';
import type {
  ArrayFC,
  EventClass,
  FieldClass,
  NamedField,
  SequenceFC,
  StreamClass,
  StructFC,
  VariantFC,
} from '../ctf/ir.js';
import type { BitOp, CmpOp, FilterExpr, Node, RefNode } from './ast.js';
import { CONTAINER_ATTRIBUTES, refsOf } from './ast.js';
import type { ContainerInfo, ContainerLookup } from './containers.js';
import { globRegExp, starGlobMatch, strcmpLiteral } from './strings.js';

/** What a compiled predicate needs besides the record. */
export interface FilterEnv {
  /** Resolves `$container.*`; without it, an expression using `$container` fails to compile. */
  readonly containers?: ContainerLookup | undefined;
}

export type EventPredicate = (rec: EventRecord) => boolean;

export const NO_CONTAINER_MODEL =
  '$container needs the container model, which is not available for this input';

export const NO_HOST_TID_MODEL =
  '$ctx.host_tid needs the system model, which is not available for this input';

/**
 * `$ctx.host_tid`: the host thread of the task that produced the event (kernel events: their
 * task; userspace events: the thread their `pid_ns` and `vtid` contexts designate at their time,
 * src/model/ust-join.ts). A class with a real `host_tid` context field reads that field.
 */
export function isHostTidRef(r: Pick<RefNode, 'root' | 'name' | 'path'>): boolean {
  return r.root === 'ctx' && r.name === 'host_tid' && r.path.length === 0;
}

/** A predicate that accepts nothing (the class can never satisfy the expression). */
export const REJECT_ALL: EventPredicate = () => false;

// ---------------------------------------------------------------------------------------------
// Field resolution (shared with the rest of the module through `resolveRef`)

/** Where a value lives in an `EventRecord`. */
export type ValueScope = 'payload' | 'streamContext' | 'context' | 'packetContext';

export interface ResolvedField {
  readonly scope: ValueScope;
  /** Index in the scope's value array. */
  readonly index: number;
  readonly field: NamedField;
}

/** Index of `name` in `struct`, also under its TSDL spelling with a leading underscore. */
export function memberIndex(struct: StructFC | undefined, name: string): number {
  if (struct === undefined) return -1;
  const fields = struct.fields;
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) return i;
  const alt = '_' + name;
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === alt) return i;
  return -1;
}

/** TSDL identifier LTTng derives from a context name (`perf:thread:cycles` → `perf_thread_cycles`). */
export function contextIdentifier(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * Finds the first name of a field reference in a class: payload fields in the event's fields,
 * `$ctx.X` in the stream event context then the event context (then `cpu_id` in the packet
 * context), `$app.P:T` as LTTng names app contexts (`_app_P_T`). Undefined when absent.
 */
export function resolveRef(
  ref: Pick<RefNode, 'root' | 'name'>,
  ec: EventClass,
  sc: StreamClass,
): ResolvedField | undefined {
  const find = (scope: ValueScope, struct: StructFC | undefined, name: string): ResolvedField | undefined => {
    const i = memberIndex(struct, name);
    return i < 0 ? undefined : { scope, index: i, field: struct!.fields[i]! };
  };
  switch (ref.root) {
    case 'payload':
      return find('payload', ec.fields, ref.name);
    case 'ctx': {
      const id = contextIdentifier(ref.name);
      return (
        find('streamContext', sc.eventContext, id) ??
        find('context', ec.context, id) ??
        (id === 'cpu_id' ? find('packetContext', sc.packetContext, 'cpu_id') : undefined)
      );
    }
    case 'app': {
      // LTTng names the field of `$app.P:T` `_app_P_T` in TSDL (`__app_P_T` with the prefix).
      const id = '_app_' + contextIdentifier(ref.name);
      return find('streamContext', sc.eventContext, id) ?? find('context', ec.context, id);
    }
    case 'container':
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Runtime helpers used by generated code

/** Thrown by generated code when the tracer would fail at run time: the event is rejected. */
const FAIL: { readonly fail: true } = Object.freeze({ fail: true });

type Int = number | bigint;
type DynValue = bigint | number | string;

const TWO32 = 4294967296;

function fail(): never {
  throw FAIL;
}

function norm(b: bigint): Int {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** int64 view of a decoded integer (unsigned 64-bit values above 2^63 wrap). */
function w64(v: Int): Int {
  return typeof v === 'bigint' ? BigInt.asIntN(64, v) : v;
}

function isSafe(v: Int): v is number {
  return typeof v === 'number';
}

/** Splits a safe integer into [hi, lo] 32-bit halves of its 64-bit two's complement. */
function bitOp(
  a: Int,
  b: Int,
  op: (x: number, y: number) => number,
  big: (x: bigint, y: bigint) => bigint,
): Int {
  if (isSafe(a) && isSafe(b)) {
    if ((a | 0) === a && (b | 0) === b) return op(a, b);
    const hi = op(Math.floor(a / TWO32), Math.floor(b / TWO32));
    const lo = op(a >>> 0, b >>> 0) >>> 0;
    return hi * TWO32 + lo;
  }
  return norm(BigInt.asIntN(64, big(BigInt(a), BigInt(b))));
}

const band = (a: Int, b: Int): Int =>
  bitOp(
    a,
    b,
    (x, y) => x & y,
    (x, y) => x & y,
  );
const bor = (a: Int, b: Int): Int =>
  bitOp(
    a,
    b,
    (x, y) => x | y,
    (x, y) => x | y,
  );
const bxor = (a: Int, b: Int): Int =>
  bitOp(
    a,
    b,
    (x, y) => x ^ y,
    (x, y) => x ^ y,
  );

function bnot(a: Int): Int {
  return isSafe(a) ? -a - 1 : norm(BigInt.asIntN(64, ~a));
}

function neg(a: Int): Int {
  return isSafe(a) ? -a : norm(BigInt.asIntN(64, -a));
}

function shiftCount(n: Int): number {
  if (n < 0 || n > 63) fail();
  return Number(n);
}

function shl(a: Int, n: Int): Int {
  const k = shiftCount(n);
  if (isSafe(a) && a >= 0 && k < 53) {
    const r = a * Math.pow(2, k);
    if (r <= Number.MAX_SAFE_INTEGER) return r;
  }
  return norm(BigInt.asIntN(64, BigInt(a) << BigInt(k)));
}

function shr(a: Int, n: Int): Int {
  const k = shiftCount(n);
  if (isSafe(a) && a >= 0) return Math.floor(a / Math.pow(2, k));
  return norm(BigInt.asIntN(64, BigInt.asUintN(64, BigInt(a)) >> BigInt(k)));
}

/** Truthiness of a double as an operand of && / || (cast to int64, as the tracer does). */
function ftruth(d: number): boolean {
  return !(d > -1 && d < 1);
}

function seqAt(a: readonly unknown[], i: number): unknown {
  return i < a.length ? a[i] : fail();
}

/** Kind of each variant option, for dynamically typed values. */
type OptionKind = 'int' | 'uint64' | 'float' | 'string' | 'none';

function dynOf(v: { option: number; value: unknown }, kinds: readonly OptionKind[]): DynValue {
  const kind = kinds[v.option];
  const x = v.value;
  switch (kind) {
    case 'int':
      return BigInt(x as Int);
    case 'uint64':
      return BigInt.asIntN(64, BigInt(x as Int));
    case 'float':
    case 'string':
      return x as DynValue;
    default:
      return fail();
  }
}

/** Literal flags of dynamic comparison operands: 0 not a literal, 1 plain/globEnd, 2 glob. */
function dynCmp(op: CmpOp, a: DynValue, aLit: number, b: DynValue, bLit: number): boolean {
  const ta = typeof a;
  const tb = typeof b;
  let c: number;
  if (ta === 'string' && tb === 'string') {
    if (aLit === 2 || bLit === 2) {
      const m =
        aLit === 2 ? starGlobMatch(a as string, b as string) : starGlobMatch(b as string, a as string);
      if (op === '==') return m;
      if (op === '!=') return !m;
      return fail();
    }
    c = strcmpLiteral(a as string, aLit === 1, b as string, bLit === 1);
    return cmpResult(op, c);
  }
  if (ta === 'string' || tb === 'string') return fail();
  if (ta === 'number' || tb === 'number') {
    const x = Number(a);
    const y = Number(b);
    return op === '=='
      ? x === y
      : op === '!='
        ? x !== y
        : op === '<'
          ? x < y
          : op === '<='
            ? x <= y
            : op === '>'
              ? x > y
              : x >= y;
  }
  const x = a as bigint;
  const y = b as bigint;
  return op === '=='
    ? x === y
    : op === '!='
      ? x !== y
      : op === '<'
        ? x < y
        : op === '<='
          ? x <= y
          : op === '>'
            ? x > y
            : x >= y;
}

function cmpResult(op: CmpOp, c: number): boolean {
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

function dynInt(a: DynValue): bigint {
  return typeof a === 'bigint' ? a : fail();
}

/** Operand of && / ||. */
function dynTruth(a: DynValue): boolean {
  if (typeof a === 'bigint') return a !== 0n;
  if (typeof a === 'number') return ftruth(a);
  return fail();
}

function dynNot(a: DynValue): boolean {
  if (typeof a === 'bigint') return a === 0n;
  if (typeof a === 'number') return a === 0;
  return fail();
}

function dynNeg(a: DynValue): DynValue {
  if (typeof a === 'bigint') return BigInt.asIntN(64, -a);
  if (typeof a === 'number') return -a;
  return fail();
}

function dynPlus(a: DynValue): DynValue {
  return typeof a === 'string' ? fail() : a;
}

/** Value of the whole expression when it is dynamically typed: only an integer can be true. */
function dynRoot(a: DynValue): boolean {
  return typeof a === 'bigint' ? a !== 0n : fail();
}

const HELPERS = {
  FAIL,
  fail,
  w64,
  band,
  bor,
  bxor,
  bnot,
  neg,
  shl,
  shr,
  ftruth,
  seqAt,
  dynOf,
  dynCmp,
  dynInt,
  dynTruth,
  dynNot,
  dynNeg,
  dynPlus,
  dynRoot,
  strcmpLiteral,
  starGlobMatch,
};

// ---------------------------------------------------------------------------------------------
// Code generation

/** Raised during generation when the tracer would refuse to link the expression to the class. */
class StaticFalse extends Error {
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

const SCOPE_VAR: Record<ValueScope, string> = {
  payload: 'P',
  streamContext: 'S',
  context: 'C',
  packetContext: 'K',
};

const SCOPE_INIT: Record<ValueScope, string> = {
  payload: 'rec.payload',
  streamContext: 'rec.streamContext',
  context: 'rec.context',
  packetContext: 'rec.packet.context',
};

function isText(cls: ArrayFC | SequenceFC): boolean {
  const e = cls.element;
  return e.kind === 'int' && e.size === 8 && e.encoding !== 'none';
}

class Generator {
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
        this.mayFail = true;
        return `dynTruth(${c.code})`;
      case 'string':
        throw new StaticFalse('a string operand of && or ||');
      case 'agg':
        throw new StaticFalse('an array or structure used as a value');
    }
  }

  root(n: Node): string {
    const c = this.gen(n);
    switch (c.ty.t) {
      case 'bool':
        return c.code;
      case 'int':
        return `(${c.code} != 0)`;
      case 'dyn':
        this.mayFail = true;
        return `dynRoot(${c.code})`;
      case 'float':
        throw new StaticFalse('a float value as the whole expression');
      case 'string':
        throw new StaticFalse('a string value as the whole expression');
      case 'agg':
        throw new StaticFalse('an array or structure used as a value');
    }
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
        this.mayFail = true;
        return { code: `dynNot(${x.code})`, ty: BOOL };
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
        this.mayFail = true;
        return { code: `shl(${a}, ${b})`, ty: BIG };
      case '>>':
        this.mayFail = true;
        return { code: `shr(${a}, ${b})`, ty: BIG };
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

/** Filled by `compileFilter` when given: the generated source, or why the class rejects all. */
export interface CompileInfo {
  source?: string;
  rejectReason?: string;
}

/**
 * Compiles `expr` for events of class `ec` in streams of class `sc`. Returns `REJECT_ALL` when
 * the class can never satisfy it (see the module comment). Throws `FilterSyntaxError` when the
 * expression uses `$container` and `env` has no container lookup.
 */
export function compileFilter(
  expr: FilterExpr,
  ec: EventClass,
  sc: StreamClass,
  env: FilterEnv = {},
  info?: CompileInfo,
): EventPredicate {
  const g = new Generator(ec, sc);
  let body: string;
  try {
    body = g.root(expr.root);
  } catch (e) {
    if (e instanceof StaticFalse) {
      if (info !== undefined) info.rejectReason = e.why;
      return REJECT_ALL;
    }
    throw e;
  }
  const lookup = env.containers;
  if (g.usesContainer && lookup === undefined) {
    const ref = refsOf(expr).find((r) => r.root === 'container')!;
    throw new FilterSyntaxError(expr.text, ref.start, NO_CONTAINER_MODEL, ref.end - ref.start);
  }
  if (g.usesHostTid && lookup?.hostTid === undefined) {
    const ref = refsOf(expr).find(isHostTidRef)!;
    throw new FilterSyntaxError(expr.text, ref.start, NO_HOST_TID_MODEL, ref.end - ref.start);
  }
  const decls = [...g.scopes].map((s) => `const ${SCOPE_VAR[s]} = ${SCOPE_INIT[s]};`).join(' ');
  const konsts = g.consts.map((_, i) => `const K${i} = H.consts[${i}];`).join('\n');
  const helpers = Object.keys(HELPERS).join(', ');
  const fnBody = g.mayFail
    ? `${decls} try { return ${body}; } catch (e) { if (e === FAIL) return false; throw e; }`
    : `${decls} return ${body};`;
  const source =
    `const { ${helpers}, cattr, htid } = H;\n${konsts}\n` +
    `return function filter_${sanitizeName(ec.name)}(rec) { ${fnBody} };`;
  if (info !== undefined) info.source = source;
  // The container of the record being filtered, when the wrapper below looked it up already.
  let looked: ContainerInfo | undefined | null = null;
  const cattr = (rec: EventRecord, attr: string): DynValue => {
    const c = looked !== null ? looked : lookup!.at(rec);
    if (c === undefined) return fail();
    const v = (c as unknown as Record<string, unknown>)[attr === 'pid_ns' ? 'pidNs' : attr];
    if (v === undefined || v === null) return fail();
    return attr === 'pid_ns' ? BigInt(v as Int) : textToByteString(v as string);
  };
  let factory = FACTORIES.get(source);
  if (factory === undefined) {
    factory = new Function('H', source) as Factory;
    if (FACTORIES.size >= 4096) FACTORIES.clear();
    FACTORIES.set(source, factory);
  }
  const htid = (rec: EventRecord): number => {
    const t = lookup?.hostTid?.(rec);
    return t === undefined ? fail() : t;
  };
  const pred = factory({ ...HELPERS, cattr, htid, consts: g.consts });
  if (!g.usesContainer || !reachesContainer(expr.root)) return pred;
  // Every evaluation reaches a `$container` attribute, which fails for a host event: the
  // expression is false there, decided without evaluating it (a failure costs a throw).
  return (rec) => {
    const c = lookup!.at(rec);
    if (c === undefined) return false;
    looked = c;
    const r = pred(rec);
    looked = null;
    return r;
  };
}

/**
 * Whether evaluating `n` always evaluates a `$container` reference, whatever the values (so
 * that the whole expression is false when the event has no container): `&&` evaluates its
 * right side whenever its left side does not make it false, `||` may skip its right side.
 */
function reachesContainer(n: Node): boolean {
  switch (n.k) {
    case 'ref':
      return n.root === 'container';
    case 'not':
    case 'neg':
    case 'plus':
    case 'bitnot':
      return reachesContainer(n.x);
    case 'cmp':
    case 'bit':
    case 'and':
      return reachesContainer(n.l) || reachesContainer(n.r);
    case 'or':
      return reachesContainer(n.l);
    default:
      return false;
  }
}

type Factory = (h: unknown) => EventPredicate;

/** Compiled sources: classes with the same layout (and repeated runs) share the JS compilation. */
const FACTORIES = new Map<string, Factory>();

function sanitizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60);
}
