/**
 * Field-class helpers for building CTF IR (`../ir.ts`) by hand: integers of every size, hex and
 * octal integers, char arrays as text, sequences with their length field, strings, enums,
 * floats, structs, variants.
 *
 * Names are used verbatim as TSDL identifiers and IR names. LTTng prefixes every payload and
 * context field with `_` in its metadata (`_prev_tid`, `_pid_ns`, `__vtids_length`); the
 * `lttngName()` helper does that, and `lttngField()`/`lttngSequence()` use it.
 *
 * Sequences and variants refer to their length/tag field by a `FieldRef`. Helpers here build
 * *unresolved* references (`scope` is a placeholder, `path` is the text split on dots); the
 * writer resolves them with `resolveRefs()` when the event or stream class is added, the way
 * babeltrace2 resolves relative TSDL paths.
 */
import type {
  ArrayFC,
  ByteOrder,
  EnumFC,
  EnumMapping,
  FieldClass,
  FieldRef,
  FloatFC,
  IntegerFC,
  NamedField,
  Scope,
  SequenceFC,
  StringFC,
  StructFC,
  VariantFC,
} from '../ir.js';
import { classAtPath, SCOPES } from '../ir.js';
import { WriterError } from '../../util/errors.js';

export interface IntOptions {
  signed?: boolean;
  /** Bits; default 8 (LTTng on x86: every field is byte-aligned), 1 for bit fields (size % 8 != 0). */
  align?: number;
  base?: 2 | 8 | 10 | 16;
  byteOrder?: ByteOrder;
  encoding?: 'none' | 'utf8' | 'ascii';
  mappedClock?: string;
}

/**
 * Byte order used by helpers when none is given. Such classes are remembered as "native": the
 * trace writer gives them the trace's byte order (`resolveNativeByteOrder()`), the way TSDL's
 * `byte_order = native` works.
 */
const DEFAULT_BO: ByteOrder = 'le';
const nativeClasses = new WeakSet<object>();

function native<T extends object>(fc: T, explicit: ByteOrder | undefined): T {
  if (explicit === undefined) nativeClasses.add(fc);
  return fc;
}

/** An integer class of `size` bits (1..64). */
export function int(size: number, o: IntOptions = {}): IntegerFC {
  if (!Number.isInteger(size) || size < 1 || size > 64)
    throw new WriterError(`integer size ${size} not in 1..64`);
  const align = o.align ?? (size % 8 === 0 ? 8 : 1);
  checkAlign(align);
  const fc: IntegerFC = {
    kind: 'int',
    size,
    align,
    signed: o.signed ?? false,
    byteOrder: o.byteOrder ?? DEFAULT_BO,
    base: o.base ?? 10,
    encoding: o.encoding ?? 'none',
    ...(o.mappedClock !== undefined ? { mappedClock: o.mappedClock } : {}),
  };
  return native(fc, o.byteOrder);
}

export const uint = (size: number, o: Omit<IntOptions, 'signed'> = {}): IntegerFC =>
  int(size, { ...o, signed: false });
export const sint = (size: number, o: Omit<IntOptions, 'signed'> = {}): IntegerFC =>
  int(size, { ...o, signed: true });
export const u8 = (): IntegerFC => uint(8);
export const u16 = (): IntegerFC => uint(16);
export const u32 = (): IntegerFC => uint(32);
export const u64 = (): IntegerFC => uint(64);
export const s8 = (): IntegerFC => sint(8);
export const s16 = (): IntegerFC => sint(16);
export const s32 = (): IntegerFC => sint(32);
export const s64 = (): IntegerFC => sint(64);
/** Unsigned hexadecimal integer (pointers, addresses, flags). */
export const hex = (size: number, o: Omit<IntOptions, 'base'> = {}): IntegerFC =>
  int(size, { ...o, base: 16 });
/** Unsigned octal integer (file modes). */
export const oct = (size: number, o: Omit<IntOptions, 'base'> = {}): IntegerFC =>
  int(size, { ...o, base: 8 });
/** An 8-bit integer with a text encoding: the element of char arrays and text sequences. LTTng uses signed chars. */
export const char = (o: { signed?: boolean; encoding?: 'utf8' | 'ascii' } = {}): IntegerFC =>
  int(8, { signed: o.signed ?? true, encoding: o.encoding ?? 'utf8' });

/** IEEE 754 binary32. */
export function float32(o: { align?: number; byteOrder?: ByteOrder } = {}): FloatFC {
  return native(
    { kind: 'float', expDig: 8, mantDig: 24, align: o.align ?? 8, byteOrder: o.byteOrder ?? DEFAULT_BO },
    o.byteOrder,
  );
}
/** IEEE 754 binary64. */
export function float64(o: { align?: number; byteOrder?: ByteOrder } = {}): FloatFC {
  return native(
    { kind: 'float', expDig: 11, mantDig: 53, align: o.align ?? 8, byteOrder: o.byteOrder ?? DEFAULT_BO },
    o.byteOrder,
  );
}

export function string(encoding: 'utf8' | 'ascii' = 'utf8'): StringFC {
  return { kind: 'string', encoding, align: 8 };
}

/**
 * An enumeration. `mappings` is `{ label: value | [low, high] | Array<value | [low, high]> }` in
 * declaration order, or a list of `EnumMapping`.
 */
export function enumeration(
  container: IntegerFC,
  mappings:
    | Record<
        string,
        | number
        | bigint
        | readonly [number | bigint, number | bigint]
        | ReadonlyArray<number | bigint | readonly [number | bigint, number | bigint]>
      >
    | readonly EnumMapping[],
): EnumFC {
  let list: EnumMapping[];
  if (Array.isArray(mappings)) {
    list = [...(mappings as readonly EnumMapping[])];
  } else {
    list = [];
    for (const [label, spec] of Object.entries(mappings)) {
      const items: Array<number | bigint | readonly [number | bigint, number | bigint]> =
        Array.isArray(spec) && (spec.length !== 2 || Array.isArray(spec[0]) || Array.isArray(spec[1]))
          ? (spec as Array<number | bigint | readonly [number | bigint, number | bigint]>)
          : [spec as number | bigint | readonly [number | bigint, number | bigint]];
      const ranges: Array<readonly [bigint, bigint]> = [];
      for (const it of items) {
        if (Array.isArray(it))
          ranges.push([BigInt(it[0] as number | bigint), BigInt(it[1] as number | bigint)]);
        else ranges.push([BigInt(it as number | bigint), BigInt(it as number | bigint)]);
      }
      list.push({ label, ranges });
    }
  }
  return { kind: 'enum', container, mappings: list, align: container.align };
}

/** A static array of `length` elements. */
export function array(element: FieldClass, length: number): ArrayFC {
  if (!Number.isInteger(length) || length < 0) throw new WriterError(`bad array length ${length}`);
  return { kind: 'array', length, element, align: element.align };
}

/** `length` text chars (`char name[length]`, e.g. `comm[16]`): the value is a string, NUL-padded. */
export function charArray(
  length: number,
  o: { signed?: boolean; encoding?: 'utf8' | 'ascii' } = {},
): ArrayFC {
  return array(char(o), length);
}

/**
 * A sequence whose length is the integer field `lengthPath` (a relative TSDL path such as
 * `__msg_length`, or an absolute one such as `event.fields.__msg_length`); it must come before
 * the sequence. The writer fills the length field from the value's length.
 */
export function sequence(element: FieldClass, lengthPath: string): SequenceFC {
  return { kind: 'sequence', length: unresolvedRef(lengthPath), element, align: element.align };
}

/** A variant selected by the enumeration field `tagPath`; option names are the enum labels. */
export function variant(tagPath: string, options: readonly NamedField[]): VariantFC {
  return { kind: 'variant', tag: unresolvedRef(tagPath), options: [...options], align: 1 };
}

/** A structure; `minAlign` is its `align(N)` attribute. */
export function struct(fields: readonly NamedField[], minAlign = 1): StructFC {
  checkAlign(minAlign);
  let align = minAlign;
  for (const f of fields) align = Math.max(align, f.type.align);
  return { kind: 'struct', fields: [...fields], minAlign, align };
}

export function field(name: string, type: FieldClass): NamedField {
  return { name, type };
}

/** LTTng's metadata name of a field: `_` + name. */
export function lttngName(name: string): string {
  return `_${name}`;
}

/** A field named the LTTng way (`_name`). */
export function lttngField(name: string, type: FieldClass): NamedField {
  return { name: lttngName(name), type };
}

/**
 * The two fields LTTng writes for a dynamic array `name`: `__name_length` (its length, `lengthType`,
 * default uint64 like lttng-modules' `size_t`... pass `u32()` for lttng-ust text) then
 * `_name[ __name_length ]`.
 */
export function lttngSequence(
  name: string,
  element: FieldClass,
  lengthType: IntegerFC = u64(),
): NamedField[] {
  const len = lttngName(`_${name}_length`);
  return [
    { name: len, type: lengthType },
    { name: lttngName(name), type: sequence(element, len) },
  ];
}

/**
 * `fc` with every integer/float made by the helpers without an explicit byte order given byte
 * order `bo` (the trace's). Returns `fc` itself when nothing changes.
 */
export function resolveNativeByteOrder<T extends FieldClass>(fc: T, bo: ByteOrder): T {
  if (bo === DEFAULT_BO) return fc;
  return mapClass(fc, (c) => {
    if ((c.kind === 'int' || c.kind === 'float') && c.byteOrder !== bo && nativeClasses.has(c))
      return { ...c, byteOrder: bo };
    return c;
  }) as T;
}

function mapClass(fc: FieldClass, f: (c: FieldClass) => FieldClass): FieldClass {
  switch (fc.kind) {
    case 'int':
    case 'float':
    case 'string':
      return f(fc);
    case 'enum': {
      const c = mapClass(fc.container, f) as IntegerFC;
      return f(c === fc.container ? fc : { ...fc, container: c });
    }
    case 'struct': {
      const fields = fc.fields.map((x) => {
        const t = mapClass(x.type, f);
        return t === x.type ? x : { name: x.name, type: t };
      });
      return f(fields.every((x, i) => x === fc.fields[i]) ? fc : { ...fc, fields });
    }
    case 'variant': {
      const options = fc.options.map((x) => {
        const t = mapClass(x.type, f);
        return t === x.type ? x : { name: x.name, type: t };
      });
      return f(options.every((x, i) => x === fc.options[i]) ? fc : { ...fc, options });
    }
    case 'array':
    case 'sequence': {
      const e = mapClass(fc.element, f);
      return f(e === fc.element ? fc : { ...fc, element: e });
    }
  }
}

function checkAlign(a: number): void {
  if (!Number.isInteger(a) || a < 1 || (a & (a - 1)) !== 0)
    throw new WriterError(`alignment ${a} is not a power of two`);
}

const UNRESOLVED = 'event.fields' as Scope;
const unresolvedMarker = new WeakSet<FieldRef>();

function unresolvedRef(text: string): FieldRef {
  const r: FieldRef = { scope: UNRESOLVED, path: text.split('.'), text };
  unresolvedMarker.add(r);
  return r;
}

const SCOPE_PREFIXES: ReadonlyArray<readonly [string, Scope]> = SCOPES.map((s) => [`${s}.`, s] as const);

/** Root structures of the scopes decoded before and including the one being resolved. */
export type ScopeRoots = Partial<Record<Scope, StructFC>>;

/**
 * Returns `root` with every sequence length and variant tag reference resolved to an absolute
 * `FieldRef` (scope + path from the scope root), searching like babeltrace2: absolute paths as
 * written; relative ones first among the fields before the referencing one in the enclosing
 * structures, innermost first, then in the roots of the earlier scopes (`roots`). Checks that the
 * target is an integer (sequence) or an enumeration (variant). Already-resolved references are
 * kept if they point to an existing field.
 */
export function resolveRefs(root: StructFC, scope: Scope, roots: ScopeRoots): StructFC {
  const chain: Array<{ struct: StructFC; path: string[]; upto: number }> = [];
  const visitStruct = (s: StructFC, path: string[]): StructFC => {
    const entry = { struct: s, path, upto: 0 };
    chain.push(entry);
    const fields: NamedField[] = [];
    let changed = false;
    for (let i = 0; i < s.fields.length; i++) {
      entry.upto = i;
      const f = s.fields[i]!;
      const t = visit(f.type, [...path, f.name]);
      if (t !== f.type) changed = true;
      fields.push(t === f.type ? f : { name: f.name, type: t });
    }
    chain.pop();
    return changed ? { ...s, fields } : s;
  };
  const visit = (fc: FieldClass, path: string[]): FieldClass => {
    switch (fc.kind) {
      case 'struct':
        return visitStruct(fc, path);
      case 'array': {
        const e = visit(fc.element, path);
        return e === fc.element ? fc : { ...fc, element: e };
      }
      case 'sequence': {
        const length = resolveOne(fc.length, 'int');
        const e = visit(fc.element, path);
        return e === fc.element && length === fc.length ? fc : { ...fc, length, element: e };
      }
      case 'variant': {
        const tag = resolveOne(fc.tag, 'enum');
        let changed = tag !== fc.tag;
        // Paths through a variant name the option (as the metadata parser does).
        const options = fc.options.map((o) => {
          const t = visit(o.type, [...path, o.name]);
          if (t !== o.type) changed = true;
          return t === o.type ? o : { name: o.name, type: t };
        });
        return changed ? { ...fc, tag, options } : fc;
      }
      default:
        return fc;
    }
  };
  const resolveOne = (ref: FieldRef, want: 'int' | 'enum'): FieldRef => {
    const text = ref.text;
    let found: { scope: Scope; path: string[]; type: FieldClass } | undefined;
    if (!unresolvedMarker.has(ref)) {
      const t = classAtPath(ref.scope === scope ? chainRoot() : roots[ref.scope], ref.path);
      if (t !== undefined) found = { scope: ref.scope, path: [...ref.path], type: t };
    }
    if (found === undefined) {
      for (const [prefix, sc] of SCOPE_PREFIXES) {
        if (text.startsWith(prefix)) {
          const p = text.slice(prefix.length).split('.');
          const t = classAtPath(sc === scope ? chainRoot() : roots[sc], p);
          if (t === undefined) throw new WriterError(`cannot resolve field path '${text}'`);
          found = { scope: sc, path: p, type: t };
          break;
        }
      }
    }
    if (found === undefined) {
      const parts = text.split('.');
      const first = parts[0]!;
      for (let c = chain.length - 1; c >= 0 && found === undefined; c--) {
        const { struct, path, upto } = chain[c]!;
        for (let i = 0; i < upto; i++) {
          if (struct.fields[i]!.name === first) {
            const t = classAtPath(struct, parts);
            if (t !== undefined) found = { scope, path: [...path, ...parts], type: t };
            break;
          }
        }
      }
      for (let s = SCOPES.indexOf(scope) - 1; s >= 0 && found === undefined; s--) {
        const sc = SCOPES[s]!;
        const t = classAtPath(roots[sc], parts);
        if (t !== undefined) found = { scope: sc, path: parts, type: t };
      }
    }
    if (found === undefined) throw new WriterError(`cannot resolve field path '${text}' in ${scope}`);
    const t = found.type;
    if (want === 'int' && !(t.kind === 'int' && !t.signed) && !(t.kind === 'enum' && !t.container.signed)) {
      throw new WriterError(`sequence length '${text}' is not an unsigned integer`);
    }
    if (want === 'enum' && t.kind !== 'enum')
      throw new WriterError(`variant tag '${text}' is not an enumeration`);
    return { scope: found.scope, path: found.path, text };
  };
  const chainRoot = (): StructFC | undefined => chain[0]?.struct;
  return visitStruct(root, []);
}
