/**
 * Type declarations → draft field classes (`dtypes.ts`), in text order.
 *
 * Owns TSDL lexical scoping (typedef/typealias names and struct/variant/enum names per
 * block or compound body; hiding allowed in a sub-scope, redefinition not); scalar types and
 * the meaning of each attribute are in `scalars.ts`. Sequence lengths and variant tags written as relative paths are looked
 * up here, where they are written; what cannot be decided before the type is used is left as
 * a `DRef` for `instantiate.ts`. Does not know the dynamic scopes.
 */
import type { EnumFC, Scope } from '../ir.js';
import type { BodyItem, Declarator, Expr, Loc, SpecList, TypeSpec } from './ast.js';
import {
  alignOf,
  describeType,
  hasRefs,
  type DArray,
  type DField,
  type DRef,
  type DSequence,
  type DStruct,
  type DType,
  type DVariant,
} from './dtypes.js';
import { ScalarTypes } from './scalars.js';

/** Largest static array length accepted (the largest JS array length). */
export const MAX_ARRAY_LENGTH = 2 ** 32 - 1;

/** Absolute path prefixes, longest first. */
export const SCOPE_PREFIXES: ReadonlyArray<readonly [readonly string[], Scope]> = [
  [['trace', 'packet', 'header'], 'trace.packet.header'],
  [['stream', 'packet', 'context'], 'stream.packet.context'],
  [['stream', 'event', 'header'], 'stream.event.header'],
  [['stream', 'event', 'context'], 'stream.event.context'],
  [['event', 'context'], 'event.context'],
  [['event', 'fields'], 'event.fields'],
];

export class LexScope {
  // Created on first use: most scopes (one per block and per compound body) declare nothing.
  private aliases: Map<string, DType> | undefined;
  private structs: Map<string, DStruct> | undefined;
  private variants: Map<string, DVariant> | undefined;
  private enums: Map<string, EnumFC> | undefined;

  constructor(readonly parent: LexScope | undefined) {}

  /** True while nothing is declared in this scope itself. */
  isEmpty(): boolean {
    return (
      (this.aliases?.size ?? 0) === 0 &&
      (this.structs?.size ?? 0) === 0 &&
      (this.variants?.size ?? 0) === 0 &&
      (this.enums?.size ?? 0) === 0
    );
  }

  hasAlias(name: string): boolean {
    return this.aliases?.has(name) ?? false;
  }
  hasStruct(name: string): boolean {
    return this.structs?.has(name) ?? false;
  }
  hasVariant(name: string): boolean {
    return this.variants?.has(name) ?? false;
  }
  hasEnum(name: string): boolean {
    return this.enums?.has(name) ?? false;
  }
  setAlias(name: string, t: DType): void {
    (this.aliases ??= new Map()).set(name, t);
  }
  setStruct(name: string, t: DStruct): void {
    (this.structs ??= new Map()).set(name, t);
  }
  setVariant(name: string, t: DVariant): void {
    (this.variants ??= new Map()).set(name, t);
  }
  setEnum(name: string, t: EnumFC): void {
    (this.enums ??= new Map()).set(name, t);
  }

  /** Looks `name` up in this scope, then in the enclosing ones. */
  findAlias(name: string): DType | undefined {
    return this.aliases?.get(name) ?? this.parent?.findAlias(name);
  }
  findStruct(name: string): DStruct | undefined {
    return this.structs?.get(name) ?? this.parent?.findStruct(name);
  }
  findVariant(name: string): DVariant | undefined {
    return this.variants?.get(name) ?? this.parent?.findVariant(name);
  }
  findEnum(name: string): EnumFC | undefined {
    return this.enums?.get(name) ?? this.parent?.findEnum(name);
  }
}

/** A struct or variant body being built (for relative lookups where a path is written). */
export interface Frame {
  readonly bodyId: number;
  readonly kind: 'struct' | 'variant';
  readonly fields: DField[];
  readonly parent: Frame | undefined;
}

export interface DeclCtx {
  readonly scope: LexScope;
  readonly frame: Frame | undefined;
  /** The declaration sits inside a trace/stream/event/... block (not at the root). */
  readonly inBlock: boolean;
}

export class TypeBuilder extends ScalarTypes {
  private nextBodyId = 1;

  newBodyId(): number {
    return this.nextBodyId++;
  }

  // ---- declarations ----

  /**
   * Processes one declaration in `ctx`: typedef and typealias register names; other
   * declarations build their types (registering named structs/variants/enums) and return one
   * field per declarator. The caller decides whether fields are allowed there.
   */
  declare(item: BodyItem, ctx: DeclCtx): DField[] {
    switch (item.kind) {
      case 'typedef': {
        const base = this.typeOf(item.spec, ctx, false);
        for (const d of item.declarators) {
          const t = this.applyDeclarator(item.spec, base, d, ctx);
          this.registerAlias(d.name!, t, d.loc, ctx.scope);
        }
        return [];
      }
      case 'typealias': {
        const base = this.typeOf(item.spec, ctx, false);
        if (item.source.pointers > 0)
          throw this.error(item.source.loc, 'pointers are not allowed on the aliased type');
        const t = this.applyDims(base, item.source.dims, ctx);
        this.registerAlias(item.alias, t, item.aliasLoc, ctx.scope);
        return [];
      }
      case 'decl': {
        if (item.declarators.length === 0) {
          this.typeOf(item.spec, ctx, true);
          if (!item.spec.specs.some((s) => s.kind !== 'word' && 'name' in s && s.name !== undefined)) {
            this.env.warn(item.loc, 'declaration declares nothing');
          }
          return [];
        }
        const base = this.typeOf(item.spec, ctx, false);
        return item.declarators.map((d) => ({
          name: d.name!,
          type: this.applyDeclarator(item.spec, base, d, ctx),
          loc: d.loc,
        }));
      }
    }
  }

  private registerAlias(name: string, t: DType, loc: Loc, scope: LexScope): void {
    if (scope.hasAlias(name)) throw this.error(loc, `type '${name}' is already declared in this scope`);
    scope.setAlias(name, t);
  }

  /** The type named by declaration specifiers. */
  typeOf(spec: SpecList, ctx: DeclCtx, declarationOnly: boolean): DType {
    const words: Extract<TypeSpec, { kind: 'word' }>[] = [];
    const compounds: Exclude<TypeSpec, { kind: 'word' }>[] = [];
    for (const s of spec.specs) {
      if (s.kind === 'word') words.push(s);
      else compounds.push(s);
    }
    if (compounds.length > 0 && words.length > 0) {
      throw this.error(
        words[0]!.loc,
        `'${words[0]!.word}' cannot be combined with a ${compounds[0]!.kind} type`,
      );
    }
    if (compounds.length > 1 && !declarationOnly) {
      throw this.error(compounds[1]!.loc, 'more than one type in a declaration');
    }
    if (compounds.length > 0) {
      let t: DType | undefined;
      for (const c of compounds) t = this.compound(c, ctx);
      return t!;
    }
    const name = words.map((w) => w.word).join(' ');
    const t = ctx.scope.findAlias(name);
    if (t === undefined) throw this.error(words[0]!.loc, `unknown type '${name}'`);
    return t;
  }

  private applyDeclarator(spec: SpecList, base: DType, d: Declarator, ctx: DeclCtx): DType {
    if (d.bitfield !== undefined)
      throw this.error(d.bitfield.loc, 'GNU/C bitfield declarators are not supported');
    let t = base;
    if (d.pointers > 0) {
      if (!spec.specs.every((s) => s.kind === 'word')) {
        throw this.error(d.loc, 'a pointer declarator needs a typealias of the pointer type');
      }
      const name = spec.specs.map((s) => (s as { word: string }).word).join(' ') + ' *'.repeat(d.pointers);
      const p = ctx.scope.findAlias(name);
      if (p === undefined) throw this.error(d.loc, `unknown type '${name}'`);
      t = p;
    }
    return this.applyDims(t, d.dims, ctx);
  }

  /** `T x[a][b]`: an array of `a` arrays of `b` `T`s (C order). */
  private applyDims(base: DType, dims: readonly Expr[], ctx: DeclCtx): DType {
    let t = base;
    for (let i = dims.length - 1; i >= 0; i--) t = this.arrayOrSequence(dims[i]!, t, ctx);
    return t;
  }

  private arrayOrSequence(e: Expr, element: DType, ctx: DeclCtx): DType {
    const align = alignOf(element);
    if (e.kind === 'int') {
      if (e.value < 0n) throw this.error(e.loc, `array length must not be negative (${e.value})`);
      if (e.value > BigInt(MAX_ARRAY_LENGTH)) throw this.error(e.loc, `array length ${e.value} is too large`);
      const a: DArray = {
        kind: 'array',
        length: Number(e.value),
        element,
        align,
        refs: hasRefs(element),
        loc: e.loc,
      };
      return a;
    }
    if (e.kind !== 'path') {
      throw this.error(e.loc, 'array length must be an integer constant or the path of a length field');
    }
    if (e.parts[0] === 'env') {
      const length = this.envLength(e);
      return { kind: 'array', length, element, align, refs: hasRefs(element), loc: e.loc };
    }
    const length = this.reference(e, ctx, 'sequence');
    const s: DSequence = { kind: 'sequence', length, element, align, refs: true, loc: e.loc };
    return s;
  }

  private envLength(e: Extract<Expr, { kind: 'path' }>): number {
    if (e.parts.length !== 2)
      throw this.error(e.loc, `invalid environment reference '${e.parts.join('.')}' (expecting env.KEY)`);
    const key = e.parts[1]!;
    const v = this.env.env()?.get(key);
    if (v === undefined)
      throw this.error(e.loc, `no environment entry '${key}' is declared before this array`);
    if (typeof v === 'string')
      throw this.error(e.loc, `environment entry '${key}' is a string, not an array length`);
    if (v < 0 || v > MAX_ARRAY_LENGTH)
      throw this.error(e.loc, `environment entry '${key}' (${v}) is not a valid array length`);
    return Number(v);
  }

  /**
   * A sequence length or variant tag path, resolved as far as possible where it is written.
   * `use` decides the type check of a target found here.
   */
  reference(e: Expr, ctx: DeclCtx, use: 'sequence' | 'variant'): DRef {
    if (e.kind !== 'path')
      throw this.error(
        e.loc,
        `${use === 'sequence' ? 'sequence length' : 'variant tag'} must be a field path`,
      );
    const text = e.parts.join('.');
    const first = e.parts[0]!;
    if (first === 'trace' || first === 'stream' || first === 'event') {
      for (const [prefix, scope] of SCOPE_PREFIXES) {
        if (prefix.every((p, i) => e.parts[i] === p)) {
          if (e.parts.length === prefix.length)
            throw this.error(e.loc, `'${text}' names a scope, not a field`);
          return { mode: 'abs', scope, tokens: e.parts.slice(prefix.length), text, loc: e.loc };
        }
      }
      throw this.error(e.loc, `invalid absolute path '${text}'`);
    }
    if (first === 'env')
      throw this.error(
        e.loc,
        `'${text}': environment entries cannot be ${use === 'sequence' ? 'sequence lengths' : 'variant tags'}`,
      );
    // Relative: search the struct bodies enclosing the declaration, innermost first, among the
    // fields declared so far.
    for (let f = ctx.frame; f !== undefined; f = f.parent) {
      if (f.kind !== 'struct') continue;
      const field = f.fields.find((x) => x.name === first);
      if (field === undefined) continue;
      const target = this.walk(field.type, e.parts, 1, e.loc, text);
      this.checkTarget(target, use, e.loc, text);
      return { mode: 'lex', bodyId: f.bodyId, tokens: e.parts, text, loc: e.loc, target };
    }
    if (ctx.inBlock) return { mode: 'dyn', tokens: e.parts, text, loc: e.loc };
    if (ctx.scope.findAlias(text) !== undefined) {
      throw this.error(e.loc, `'${text}' is a type, not a field`);
    }
    throw this.error(
      e.loc,
      `no field '${first}' precedes this ${use} in its enclosing structures (relative paths are resolved where they are written; use an absolute path such as event.fields.${text})`,
    );
  }

  /** Follows `tokens[from..]` below `t` (struct members, variant options by name). */
  walk(t: DType, tokens: readonly string[], from: number, loc: Loc, text: string): DType {
    let cur = t;
    for (let i = from; i < tokens.length;) {
      const name = tokens[i]!;
      if (cur.kind === 'struct') {
        const f = cur.fields.find((x) => x.name === name);
        if (f === undefined) throw this.error(loc, `'${text}': no field '${name}' in the structure`);
        cur = f.type;
        i++;
      } else if (cur.kind === 'variant') {
        const f = cur.options.find((x) => x.name === name);
        if (f === undefined) throw this.error(loc, `'${text}': no option '${name}' in the variant`);
        cur = f.type;
        i++;
      } else if (cur.kind === 'array' || cur.kind === 'sequence') {
        throw this.error(
          loc,
          `'${text}': the path goes into an element of an ${cur.kind} that does not contain the referencing field`,
        );
      } else {
        throw this.error(
          loc,
          `'${text}': '${tokens[i - 1]}' is a ${describeType(cur)}, it has no field '${name}'`,
        );
      }
    }
    return cur;
  }

  checkTarget(target: DType, use: 'sequence' | 'variant', loc: Loc, text: string): void {
    if (use === 'sequence') {
      const int = target.kind === 'int' ? target : target.kind === 'enum' ? target.container : undefined;
      if (int === undefined || int.signed) {
        throw this.error(
          loc,
          `sequence length '${text}' must be an unsigned integer field, not a ${describeType(target)}`,
        );
      }
    } else if (target.kind !== 'enum') {
      throw this.error(
        loc,
        `variant tag '${text}' must be an enumeration field, not a ${describeType(target)}`,
      );
    }
  }

  /** Checks that a variant can select at least one of its options with its tag's labels. */
  checkVariantOptions(v: DVariant, tag: EnumFC, loc: Loc, text: string): void {
    for (const o of v.options) if (tag.mappings.some((m) => m.label === o.name)) return;
    throw this.error(
      loc,
      `no label of the tag enumeration '${text}' names an option of the variant (options: ${v.options.map((o) => o.name).join(', ')})`,
    );
  }

  // ---- compound type specifiers ----

  private compound(s: Exclude<TypeSpec, { kind: 'word' }>, ctx: DeclCtx): DType {
    switch (s.kind) {
      case 'integer':
        return this.integer(s.attrs ?? [], s.loc);
      case 'floating_point':
        return this.float(s.attrs ?? [], s.loc);
      case 'string':
        return this.string(s.attrs ?? []);
      case 'struct':
        return this.struct(s, ctx);
      case 'variant':
        return this.variant(s, ctx);
      case 'enum':
        return this.enumeration(s, ctx);
    }
  }

  private struct(s: Extract<TypeSpec, { kind: 'struct' }>, ctx: DeclCtx): DStruct {
    let minAlign = 1;
    if (s.align !== undefined) minAlign = this.alignment(s.align, 'structure alignment');
    if (s.body === undefined) {
      const named = ctx.scope.findStruct(s.name!);
      if (named === undefined) throw this.error(s.loc, `unknown struct '${s.name}'`);
      if (s.align === undefined || minAlign <= named.minAlign) return named;
      return { ...named, minAlign, align: Math.max(named.align, minAlign), ir: undefined };
    }
    if (s.name !== undefined && ctx.scope.hasStruct(s.name)) {
      throw this.error(s.loc, `struct '${s.name}' is already declared in this scope`);
    }
    // The parser shares the body of identical anonymous structs; when such a body is the
    // root of a scope in a block that declares nothing, it means the same thing every time.
    const reusable =
      s.name === undefined && s.align === undefined && ctx.frame === undefined && ctx.scope.isEmpty();
    if (reusable) {
      const seen = this.scopeRoots.get(s.body);
      if (seen !== undefined && seen.parent === ctx.scope.parent && seen.inBlock === ctx.inBlock)
        return seen.t;
    }
    const bodyId = this.newBodyId();
    const frame: Frame = { bodyId, kind: 'struct', fields: [], parent: ctx.frame };
    const inner: DeclCtx = { scope: new LexScope(ctx.scope), frame, inBlock: ctx.inBlock };
    const names = new Set<string>();
    let align = minAlign;
    let refs = false;
    for (const item of s.body) {
      for (const f of this.declare(item, inner)) {
        if (names.has(f.name)) throw this.error(f.loc, `duplicate field '${f.name}' in structure`);
        names.add(f.name);
        frame.fields.push(f);
        align = Math.max(align, alignOf(f.type));
        if (hasRefs(f.type)) refs = true;
      }
    }
    const t: DStruct = { kind: 'struct', bodyId, fields: frame.fields, minAlign, align, refs, loc: s.loc };
    if (s.name !== undefined) ctx.scope.setStruct(s.name, t);
    if (reusable) this.scopeRoots.set(s.body, { parent: ctx.scope.parent, inBlock: ctx.inBlock, t });
    return t;
  }

  private variant(s: Extract<TypeSpec, { kind: 'variant' }>, ctx: DeclCtx): DVariant {
    let base: DVariant | undefined;
    let tag: DRef | undefined;
    if (s.body === undefined) {
      base = ctx.scope.findVariant(s.name!);
      if (base === undefined) throw this.error(s.loc, `unknown variant '${s.name}'`);
      if (s.tag === undefined) return base;
      if (base.tag !== undefined) throw this.error(s.tag.loc, `variant '${s.name}' already has a tag`);
    } else {
      if (s.name !== undefined && ctx.scope.hasVariant(s.name)) {
        throw this.error(s.loc, `variant '${s.name}' is already declared in this scope`);
      }
      // The tag is looked up in the enclosing context, before the options.
      if (s.tag !== undefined) tag = this.reference(s.tag, ctx, 'variant');
      const frame: Frame = { bodyId: this.newBodyId(), kind: 'variant', fields: [], parent: ctx.frame };
      const inner: DeclCtx = { scope: new LexScope(ctx.scope), frame, inBlock: ctx.inBlock };
      const names = new Set<string>();
      for (const item of s.body) {
        for (const f of this.declare(item, inner)) {
          if (names.has(f.name)) throw this.error(f.loc, `duplicate option '${f.name}' in variant`);
          names.add(f.name);
          frame.fields.push(f);
        }
      }
      if (frame.fields.length === 0) throw this.error(s.loc, 'a variant needs at least one option');
      base = { kind: 'variant', options: frame.fields, refs: true, loc: s.loc, name: s.name };
    }
    let v = base;
    if (s.tag !== undefined) {
      tag ??= this.reference(s.tag, ctx, 'variant');
      v = { ...base, tag };
      if (tag.mode === 'lex') this.checkVariantOptions(v, tag.target as EnumFC, tag.loc, tag.text);
    }
    if (s.body !== undefined && s.name !== undefined) ctx.scope.setVariant(s.name, v);
    return v;
  }

  private enumeration(s: Extract<TypeSpec, { kind: 'enum' }>, ctx: DeclCtx): EnumFC {
    if (s.body === undefined) {
      const named = ctx.scope.findEnum(s.name!);
      if (named === undefined) throw this.error(s.loc, `unknown enum '${s.name}'`);
      return named;
    }
    if (s.name !== undefined && ctx.scope.hasEnum(s.name)) {
      throw this.error(s.loc, `enum '${s.name}' is already declared in this scope`);
    }
    let container: DType;
    if (s.container !== undefined) {
      container = this.typeOf(s.container, ctx, false);
    } else {
      const int = ctx.scope.findAlias('int');
      if (int === undefined)
        throw this.error(
          s.loc,
          "an enum without a container type needs a type named 'int', and none is declared",
        );
      container = int;
    }
    if (container.kind !== 'int') {
      throw this.error(
        s.container?.loc ?? s.loc,
        `the container of an enum must be an integer type, not a ${describeType(container)}`,
      );
    }
    const t: EnumFC = {
      kind: 'enum',
      container,
      mappings: this.mappings(s.body, container),
      align: container.align,
    };
    if (s.name !== undefined) ctx.scope.setEnum(s.name, t);
    return t;
  }
  /** Draft structs of shared anonymous bodies, see `struct()`. */
  private readonly scopeRoots = new Map<
    readonly BodyItem[],
    { parent: LexScope | undefined; inBlock: boolean; t: DStruct }
  >();
}
