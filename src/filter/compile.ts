/**
 * Compiles a checked filter expression into a JavaScript predicate specialised to one event
 * class: field positions, types and every type rule are resolved once here, so that per event
 * there is no parsing, no name lookup and no type dispatch (the code is generated and compiled
 * with `new Function`). Where a reference points in a record: resolve.ts; type rules and the
 * code of each node: generate.ts; what that code calls per event: runtime.ts.
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
import type { EventClass, StreamClass } from '../ctf/ir.js';
import { FilterSyntaxError } from '../util/errors.js';
import type { FilterExpr, Node } from './ast.js';
import { refsOf } from './ast.js';
import type { ContainerInfo, ContainerLookup } from './containers.js';
import { Generator, SCOPE_INIT, SCOPE_VAR, StaticFalse } from './generate.js';
import { isHostTidRef } from './resolve.js';
import type { DynValue, Int } from './runtime.js';
import { fail, HELPERS } from './runtime.js';

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

/** A predicate that accepts nothing (the class can never satisfy the expression). */
export const REJECT_ALL: EventPredicate = () => false;

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
  if (!g.usesContainer || !falseWithoutContainer(expr.root)) return pred;
  // Every evaluation of a host event either fails at a `$container` attribute or yields false:
  // the expression is false there, decided without evaluating it (a failure costs a throw).
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
 * Whether the whole expression `n` is false for an event without a container, whatever the
 * other values. A failure (a `$container` attribute of a host event) makes the whole filter
 * false, but a subexpression that is merely false is not a failure: `!(0 && $container.name)`
 * is true for a host event, as `&&` never evaluates its right side there.
 */
function falseWithoutContainer(n: Node): boolean {
  switch (n.k) {
    case 'and':
      // Left fails or is false: false. Left true: the right side decides.
      return falseWithoutContainer(n.l) || falseWithoutContainer(n.r);
    case 'or':
      // Left fails: false. Left false: the right side decides. Left true: true.
      return failsWithoutContainer(n.l) || (falseWithoutContainer(n.l) && falseWithoutContainer(n.r));
    default:
      return failsWithoutContainer(n);
  }
}

/**
 * Whether evaluating `n` always fails for an event without a container, whatever the values:
 * it always evaluates a `$container` reference. `&&` and `||` may skip their right side.
 */
function failsWithoutContainer(n: Node): boolean {
  switch (n.k) {
    case 'ref':
      return n.root === 'container';
    case 'not':
    case 'neg':
    case 'plus':
    case 'bitnot':
      return failsWithoutContainer(n.x);
    case 'cmp':
    case 'bit':
      return failsWithoutContainer(n.l) || failsWithoutContainer(n.r);
    case 'and':
    case 'or':
      return failsWithoutContainer(n.l);
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
