/**
 * A straightforward tree-walking evaluator of filter expressions, the oracle of the property
 * tests: it looks names up in the classes at every evaluation, carries every value tagged with
 * its type, keeps every integer as a BigInt, and applies the rules of docs/filter.md one by one.
 * It shares nothing with src/filter/compile.ts but the string matching primitives.
 */
import {
  textToByteString,
  type EventRecord,
  type FieldValue,
  type VariantValue,
} from '../../src/ctf/event.js';
import type { FieldClass, StructFC } from '../../src/ctf/ir.js';
import type { CmpOp, FilterExpr, Node, RefNode } from '../../src/filter/ast.js';
import type { ContainerLookup } from '../../src/filter/containers.js';
import { starGlobMatch, strcmpLiteral } from '../../src/filter/strings.js';

type V =
  { t: 'int'; v: bigint } | { t: 'float'; v: number } | { t: 'str'; v: string; lit: 'no' | 'plain' | 'glob' };

/** Link-time failure: the whole class rejects. */
class Refused extends Error {}
/** Run-time failure: this event is rejected. */
class Failed extends Error {}

type StaticType = 'int' | 'float' | 'str' | 'dyn' | { agg: FieldClass };

function findMember(s: StructFC | undefined, name: string): number {
  if (s === undefined) return -1;
  let i = s.fields.findIndex((f) => f.name === name);
  if (i < 0) i = s.fields.findIndex((f) => f.name === '_' + name);
  return i;
}

function textual(c: FieldClass): boolean {
  return (
    (c.kind === 'array' || c.kind === 'sequence') &&
    c.element.kind === 'int' &&
    c.element.size === 8 &&
    c.element.encoding !== 'none'
  );
}

interface Located {
  cls: FieldClass;
  get: (rec: EventRecord) => FieldValue | undefined;
}

function locate(ref: RefNode, rec: EventRecord): Located | undefined {
  const ec = rec.eventClass;
  const sc = rec.stream.streamClass;
  const tries: Array<[StructFC | undefined, (r: EventRecord) => FieldValue[] | undefined, string]> = [];
  if (ref.root === 'payload') tries.push([ec.fields, (r) => r.payload, ref.name]);
  if (ref.root === 'ctx' || ref.root === 'app') {
    const id = (ref.root === 'app' ? '_app_' : '') + ref.name.replace(/[^A-Za-z0-9_]/g, '_');
    tries.push([sc.eventContext, (r) => r.streamContext, id], [ec.context, (r) => r.context, id]);
    if (ref.root === 'ctx' && id === 'cpu_id')
      tries.push([sc.packetContext, (r) => r.packet.context, 'cpu_id']);
  }
  for (const [s, values, name] of tries) {
    const i = findMember(s, name);
    if (i >= 0) return { cls: s!.fields[i]!.type, get: (r) => values(r)?.[i] };
  }
  return undefined;
}

/** Static type of the value a reference designates (after its path), or Refused. */
function refType(ref: RefNode, rec: EventRecord): StaticType {
  if (ref.root === 'container') return ref.name === 'pid_ns' ? 'dyn' : 'str';
  const loc = locate(ref, rec);
  if (loc === undefined) throw new Refused();
  let c = loc.cls;
  for (const step of ref.path) {
    if ('sym' in step) {
      if (c.kind !== 'struct') throw new Refused();
      const i = findMember(c, step.sym);
      if (i < 0) throw new Refused();
      c = c.fields[i]!.type;
    } else {
      if (c.kind !== 'array' && c.kind !== 'sequence') throw new Refused();
      if (textual(c)) throw new Refused();
      if (c.kind === 'array' && step.idx >= BigInt(c.length)) throw new Refused();
      c = c.element;
    }
  }
  return classType(c);
}

function classType(c: FieldClass): StaticType {
  switch (c.kind) {
    case 'int':
    case 'enum':
      return 'int';
    case 'float':
      return 'float';
    case 'string':
      return 'str';
    case 'variant':
      return 'dyn';
    default:
      return textual(c) ? 'str' : { agg: c };
  }
}

const isNum = (t: StaticType): boolean => t === 'int' || t === 'float';

/** The link-time type check: throws Refused where the tracer refuses the bytecode. */
function check(n: Node, rec: EventRecord): StaticType {
  switch (n.k) {
    case 'int':
      return 'int';
    case 'float':
      return 'float';
    case 'str':
      return 'str';
    case 'ref':
      return refType(n, rec);
    case 'not':
    case 'neg':
    case 'plus': {
      const t = check(n.x, rec);
      if (t === 'str' || typeof t === 'object') throw new Refused();
      return n.k === 'not' ? 'int' : t;
    }
    case 'bitnot': {
      const t = check(n.x, rec);
      if (t !== 'int' && t !== 'dyn') throw new Refused();
      return t;
    }
    case 'and':
    case 'or':
      for (const x of [n.l, n.r]) {
        const t = check(x, rec);
        if (t === 'str' || typeof t === 'object') throw new Refused();
      }
      return 'int';
    case 'bit': {
      const a = check(n.l, rec);
      const b = check(n.r, rec);
      if ((a !== 'int' && a !== 'dyn') || (b !== 'int' && b !== 'dyn')) throw new Refused();
      return a === 'dyn' || b === 'dyn' ? 'dyn' : 'int';
    }
    case 'cmp': {
      const a = check(n.l, rec);
      const b = check(n.r, rec);
      if (typeof a === 'object' || typeof b === 'object') throw new Refused();
      if (a === 'dyn' || b === 'dyn') return 'int';
      if ((a === 'str') !== (b === 'str')) throw new Refused();
      if (!isNum(a) && a !== 'str') throw new Refused();
      return 'int';
    }
  }
}

function u64ToI64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

function valueOf(cls: FieldClass, v: FieldValue | undefined): V {
  if (v === undefined) throw new Error('reference evaluator: value missing from the record');
  switch (cls.kind) {
    case 'int':
    case 'enum':
      return { t: 'int', v: u64ToI64(BigInt(v as number | bigint)) };
    case 'float':
      return { t: 'float', v: v as number };
    case 'string':
      return { t: 'str', v: v as string, lit: 'no' };
    case 'array':
    case 'sequence':
      if (textual(cls)) return { t: 'str', v: v as string, lit: 'no' };
      throw new Failed();
    case 'variant': {
      const vv = v as VariantValue;
      const opt = cls.options[vv.option]!;
      if (opt.type.kind === 'struct' || opt.type.kind === 'variant') throw new Failed();
      if ((opt.type.kind === 'array' || opt.type.kind === 'sequence') && !textual(opt.type))
        throw new Failed();
      return valueOf(opt.type, vv.value);
    }
    case 'struct':
      throw new Failed();
  }
}

function load(ref: RefNode, rec: EventRecord, containers: ContainerLookup | undefined): V {
  if (ref.root === 'container') {
    const c = containers?.at(rec);
    if (c === undefined) throw new Failed();
    if (ref.name === 'pid_ns') {
      if (c.pidNs === undefined) throw new Failed();
      return { t: 'int', v: BigInt(c.pidNs) };
    }
    const s = (c as unknown as Record<string, string | undefined>)[ref.name];
    if (s === undefined) throw new Failed();
    return { t: 'str', v: textToByteString(s), lit: 'no' };
  }
  const loc = locate(ref, rec)!;
  let c = loc.cls;
  let v = loc.get(rec);
  for (const step of ref.path) {
    if ('sym' in step) {
      const s = c as StructFC;
      const i = findMember(s, step.sym);
      v = (v as FieldValue[])[i];
      c = s.fields[i]!.type;
    } else {
      const arr = v as FieldValue[];
      if (step.idx >= BigInt(arr.length)) throw new Failed();
      v = arr[Number(step.idx)];
      c = (c as { element: FieldClass }).element;
    }
  }
  return valueOf(c, v);
}

function truthy(x: V): boolean {
  if (x.t === 'int') return x.v !== 0n;
  if (x.t === 'float') {
    // The tracer casts a double operand of && / || to int64; out-of-range casts give INT64_MIN.
    if (Number.isNaN(x.v) || Math.abs(x.v) >= 2 ** 63) return true;
    return BigInt(Math.trunc(x.v)) !== 0n;
  }
  throw new Failed();
}

function cmpNumbers(op: CmpOp, a: V, b: V): boolean {
  let r: number;
  if (a.t === 'float' || b.t === 'float') {
    const x = a.t === 'float' ? a.v : Number(a.v as bigint);
    const y = b.t === 'float' ? b.v : Number(b.v as bigint);
    if (Number.isNaN(x) || Number.isNaN(y)) return op === '!=';
    r = x < y ? -1 : x > y ? 1 : 0;
  } else {
    const x = a.v as bigint;
    const y = b.v as bigint;
    r = x < y ? -1 : x > y ? 1 : 0;
  }
  return byOp(op, r);
}

function byOp(op: CmpOp, r: number): boolean {
  return { '==': r === 0, '!=': r !== 0, '<': r < 0, '<=': r <= 0, '>': r > 0, '>=': r >= 0 }[op];
}

function mask64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

function ev(n: Node, rec: EventRecord, containers: ContainerLookup | undefined): V {
  switch (n.k) {
    case 'int':
      return { t: 'int', v: n.v };
    case 'float':
      return { t: 'float', v: n.v };
    case 'str':
      return { t: 'str', v: textToByteString(n.v), lit: n.t === 'glob' ? 'glob' : 'plain' };
    case 'ref':
      return load(n, rec, containers);
    case 'not': {
      const x = ev(n.x, rec, containers);
      if (x.t === 'str') throw new Failed();
      return { t: 'int', v: (x.t === 'int' ? x.v === 0n : x.v === 0) ? 1n : 0n };
    }
    case 'neg':
    case 'plus': {
      const x = ev(n.x, rec, containers);
      if (x.t === 'str') throw new Failed();
      if (n.k === 'plus') return x;
      return x.t === 'int' ? { t: 'int', v: BigInt.asIntN(64, -x.v) } : { t: 'float', v: -x.v };
    }
    case 'bitnot': {
      const x = ev(n.x, rec, containers);
      if (x.t !== 'int') throw new Failed();
      return { t: 'int', v: BigInt.asIntN(64, mask64(x.v) ^ mask64(-1n)) };
    }
    case 'and':
      return { t: 'int', v: truthy(ev(n.l, rec, containers)) && truthy(ev(n.r, rec, containers)) ? 1n : 0n };
    case 'or':
      return { t: 'int', v: truthy(ev(n.l, rec, containers)) || truthy(ev(n.r, rec, containers)) ? 1n : 0n };
    case 'bit': {
      const a = ev(n.l, rec, containers);
      const b = ev(n.r, rec, containers);
      if (a.t !== 'int' || b.t !== 'int') throw new Failed();
      const x = mask64(a.v);
      const y = mask64(b.v);
      let r: bigint;
      switch (n.op) {
        case '&':
          r = x & y;
          break;
        case '|':
          r = x | y;
          break;
        case '^':
          r = x ^ y;
          break;
        case '<<':
        case '>>':
          if (b.v < 0n || b.v > 63n) throw new Failed();
          r = n.op === '<<' ? mask64(x << b.v) : x >> b.v;
          break;
      }
      return { t: 'int', v: BigInt.asIntN(64, r) };
    }
    case 'cmp': {
      const a = ev(n.l, rec, containers);
      const b = ev(n.r, rec, containers);
      if (a.t === 'str' && b.t === 'str') {
        if (a.lit === 'glob' || b.lit === 'glob') {
          const m = a.lit === 'glob' ? starGlobMatch(a.v, b.v) : starGlobMatch(b.v, a.v);
          return { t: 'int', v: (n.op === '==' ? m : !m) ? 1n : 0n };
        }
        const r = strcmpLiteral(a.v, a.lit === 'plain', b.v, b.lit === 'plain');
        return { t: 'int', v: byOp(n.op, r) ? 1n : 0n };
      }
      if (a.t === 'str' || b.t === 'str') throw new Failed();
      return { t: 'int', v: cmpNumbers(n.op, a, b) ? 1n : 0n };
    }
  }
}

/** Evaluates `expr` on `rec` with the tracer's semantics. */
export function referenceEvaluate(expr: FilterExpr, rec: EventRecord, containers?: ContainerLookup): boolean {
  let t: StaticType;
  try {
    t = check(expr.root, rec);
  } catch (e) {
    if (e instanceof Refused) return false;
    throw e;
  }
  if (t === 'float' || t === 'str' || typeof t === 'object') return false;
  try {
    const v = ev(expr.root, rec, containers);
    return v.t === 'int' && v.v !== 0n;
  } catch (e) {
    if (e instanceof Failed) return false;
    throw e;
  }
}
