/**
 * What the generated filter code calls at run time: lttng-ust's int64/uint64 arithmetic on JS
 * numbers and bigints, sequence bounds, dynamically typed values (app contexts, variants,
 * `$container.*`) and the failure that rejects the event (semantics: compile.ts).
 */
import type { CmpOp } from './ast.js';
import { starGlobMatch, strcmpLiteral } from './strings.js';

/** Thrown by generated code when the tracer would fail at run time: the event is rejected. */
const FAIL: { readonly fail: true } = Object.freeze({ fail: true });

export type Int = number | bigint;
export type DynValue = bigint | number | string;

const TWO32 = 4294967296;

export function fail(): never {
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
export type OptionKind = 'int' | 'uint64' | 'float' | 'string' | 'none';

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
  // Two bigints: totally ordered (no NaN), so one three-way comparison serves every operator.
  const x = a as bigint;
  const y = b as bigint;
  return cmpResult(op, x < y ? -1 : x > y ? 1 : 0);
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

export const HELPERS = {
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
