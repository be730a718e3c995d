/**
 * Draft field classes: what a TSDL type declaration means before it is placed in one of the
 * six dynamic scopes. Scalars are already final IR objects (`IntegerFC`, `FloatFC`,
 * `StringFC`, `EnumFC`, shared by every use); compound types keep their sequence lengths and
 * variant tags as unresolved `DRef`s, because a `FieldRef` names a scope and a path from that
 * scope's root, which is only known where the type is used (`instantiate.ts`).
 */
import type { EnumFC, FieldClass, FloatFC, IntegerFC, Scope, StringFC } from '../ir.js';
import type { Loc } from './ast.js';

/** What every `DRef` keeps of the reference as written. */
interface DRefText {
  readonly tokens: readonly string[];
  readonly text: string;
  readonly loc: Loc;
}

/**
 * A sequence length or variant tag reference, as resolved at its declaration:
 * - `lex`: found where it is written (CTF 1.8 §4.2.2, §7.3.2): `tokens[0]` is a field declared
 *   earlier in the enclosing struct body `bodyId`; `target` is the referenced field's class;
 * - `abs`: an absolute path: `scope` plus the path below the scope's root;
 * - `dyn`: a relative path not found where it is written, inside a trace/stream/event block:
 *   looked up where the type is used, from the innermost struct outward, then through the
 *   earlier dynamic scopes (babeltrace's behaviour).
 */
export type DRef = DRefText &
  (
    | { readonly mode: 'lex'; readonly bodyId: number; readonly target: DType }
    | { readonly mode: 'abs'; readonly scope: Scope }
    | { readonly mode: 'dyn' }
  );

export interface DField {
  readonly name: string;
  readonly type: DType;
  readonly loc: Loc;
}

export interface DStruct {
  /** Memo of `expandedSize()`. */
  size?: number;
  /** The shared IR of a type without references (built once, `instantiate.ts`). */
  ir?: FieldClass;
  readonly kind: 'struct';
  /** Identity of the struct body in the text (one per `struct { ... }` written). */
  readonly bodyId: number;
  readonly fields: readonly DField[];
  readonly minAlign: number;
  readonly align: number;
  /** True if some sequence or variant below needs its references resolved per use. */
  readonly refs: boolean;
  readonly loc: Loc;
}

export interface DVariant {
  /** Memo of `expandedSize()`. */
  size?: number;
  readonly kind: 'variant';
  /** Absent for an untagged (declared-only) variant. */
  readonly tag?: DRef;
  readonly options: readonly DField[];
  readonly refs: true;
  readonly loc: Loc;
  /** Name of a named variant (`variant name { ... }`), for messages. */
  readonly name?: string;
}

export interface DArray {
  /** Memo of `expandedSize()`. */
  size?: number;
  /** The shared IR of a type without references (built once, `instantiate.ts`). */
  ir?: FieldClass;
  readonly kind: 'array';
  readonly length: number;
  readonly element: DType;
  readonly align: number;
  readonly refs: boolean;
  readonly loc: Loc;
}

export interface DSequence {
  /** Memo of `expandedSize()`. */
  size?: number;
  readonly kind: 'sequence';
  readonly length: DRef;
  readonly element: DType;
  readonly align: number;
  readonly refs: true;
  readonly loc: Loc;
}

export type DType = IntegerFC | FloatFC | StringFC | EnumFC | DStruct | DVariant | DArray | DSequence;

export function hasRefs(t: DType): boolean {
  switch (t.kind) {
    case 'struct':
    case 'variant':
    case 'array':
    case 'sequence':
      return t.refs;
    default:
      return false;
  }
}

/** Alignment of a draft type, as the IR will report it. */
export function alignOf(t: DType): number {
  return t.kind === 'variant' ? 1 : t.align;
}

export function describeType(t: DType): string {
  switch (t.kind) {
    case 'int':
      return `${t.signed ? 'signed' : 'unsigned'} ${t.size}-bit integer`;
    case 'float':
      return 'floating point number';
    case 'string':
      return 'string';
    case 'enum':
      return `enumeration (${t.container.signed ? 'signed' : 'unsigned'} ${t.container.size}-bit)`;
    case 'struct':
      return 'structure';
    case 'variant':
      return 'variant';
    case 'array':
      return 'array';
    case 'sequence':
      return 'sequence';
  }
}

/**
 * Number of field classes in `t` once every shared type is expanded (arrays and sequences
 * count their element once). Guards against metadata whose layout is exponentially large.
 * Memoised on the draft objects (`size`).
 */
export function expandedSize(t: DType): number {
  switch (t.kind) {
    case 'struct':
    case 'variant':
    case 'array':
    case 'sequence':
      break;
    default:
      return 1;
  }
  const memo = t as { size?: number };
  if (memo.size !== undefined) return memo.size;
  let n = 1;
  switch (t.kind) {
    case 'struct':
      for (const f of t.fields) n += expandedSize(f.type);
      break;
    case 'variant':
      for (const f of t.options) n += expandedSize(f.type);
      break;
    default:
      n += expandedSize(t.element);
      break;
  }
  memo.size = Math.min(n, Number.MAX_SAFE_INTEGER);
  return memo.size;
}
