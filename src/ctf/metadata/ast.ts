/**
 * TSDL abstract syntax tree, as produced by `parser.ts` and consumed by `resolve.ts`.
 *
 * It keeps what was written (names, unevaluated attribute values, declarators) with the
 * position of each construct; it knows nothing of types' meaning. Type names are already
 * disambiguated from field names (the parser tracks typedef/typealias names per lexical scope,
 * as a C parser does).
 */

export interface Loc {
  readonly line: number;
  readonly col: number;
}

/** A constant or a field/attribute path, as written on the right of `=` or inside `[ ]`/`< >`. */
export type Expr =
  | { readonly kind: 'int'; readonly value: bigint; readonly loc: Loc }
  | { readonly kind: 'str'; readonly value: string; readonly loc: Loc }
  | { readonly kind: 'char'; readonly value: string; readonly loc: Loc }
  /** `a.b.c` (keywords allowed as components: `clock.monotonic.value`, `stream.event.header.id`). */
  | { readonly kind: 'path'; readonly parts: readonly string[]; readonly loc: Loc };

/** `name = value;` or `name := type;` inside a block or a type attribute list. */
export interface Attribute {
  readonly kind: 'attr';
  /** Dotted name: `byte_order`, `packet.header`, `model.emf.uri`. */
  readonly name: string;
  readonly loc: Loc;
  readonly value?: Expr;
  /** Set for `:=` assignments. */
  readonly type?: SpecList;
}

export interface Enumerator {
  readonly label: string;
  readonly loc: Loc;
  /** Absent: previous value + 1. */
  readonly low?: Expr;
  /** Set for `low ... high`. */
  readonly high?: Expr;
}

export type TypeSpec =
  /** A type keyword (`unsigned`, `int`, ...) or a typedef/typealias name. */
  | { readonly kind: 'word'; readonly word: string; readonly loc: Loc }
  | {
      readonly kind: 'integer' | 'floating_point' | 'string';
      /** Absent for a bare `string`. */
      readonly attrs?: readonly Attribute[];
      readonly loc: Loc;
    }
  | {
      readonly kind: 'struct';
      readonly name?: string;
      /** Absent for a reference to a named struct (`struct name`). */
      readonly body?: readonly BodyItem[];
      readonly align?: Expr;
      readonly loc: Loc;
    }
  | {
      readonly kind: 'variant';
      readonly name?: string;
      readonly tag?: Expr;
      readonly body?: readonly BodyItem[];
      readonly loc: Loc;
    }
  | {
      readonly kind: 'enum';
      readonly name?: string;
      readonly container?: SpecList;
      readonly body?: readonly Enumerator[];
      readonly loc: Loc;
    };

/** Declaration specifiers (`const` dropped). */
export interface SpecList {
  readonly specs: readonly TypeSpec[];
  readonly loc: Loc;
}

export interface Declarator {
  /** Absent in abstract declarators (typealias source side). */
  readonly name?: string;
  readonly loc: Loc;
  readonly pointers: number;
  /** `[expr]` suffixes, outermost first (C order: `a[2][3]` is 2 arrays of 3). */
  readonly dims: readonly Expr[];
  /** GNU/C bitfield width (`type name : width`). */
  readonly bitfield?: Expr;
}

/** A declaration inside a struct/variant body, a block, or at the root. */
export type BodyItem =
  /** Fields (struct/variant bodies) or, with no declarators, type declarations; typedefs. */
  | {
      readonly kind: 'decl' | 'typedef';
      readonly spec: SpecList;
      readonly declarators: readonly Declarator[];
      readonly loc: Loc;
    }
  | {
      readonly kind: 'typealias';
      readonly spec: SpecList;
      readonly source: Declarator;
      /** Alias name: words joined by one space, then ` *` per pointer (`unsigned long`). */
      readonly alias: string;
      readonly aliasLoc: Loc;
      readonly loc: Loc;
    };

export type BlockKind = 'trace' | 'stream' | 'event' | 'env' | 'clock' | 'callsite';

export interface Block {
  readonly kind: 'block';
  readonly block: BlockKind;
  readonly items: readonly (Attribute | BodyItem)[];
  readonly loc: Loc;
}

export type TopItem = Block | BodyItem;

export interface Ast {
  readonly items: readonly TopItem[];
  /** Position of the end of the text (for "missing ..." errors). */
  readonly end: Loc;
}
