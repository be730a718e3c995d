/**
 * Scalar TSDL types from their attribute lists (integer, floating point, string, enumeration
 * mappings) and the meaning of every attribute value; the base of `TypeBuilder` (types.ts).
 */
import { MetadataError } from '../../util/errors.js';
import type { ByteOrder, Encoding, EnumMapping, EnvValue, FloatFC, IntegerFC, StringFC } from '../ir.js';
import type { Attribute, Enumerator, Expr, Loc } from './ast.js';

/**
 * Largest alignment accepted, in bits (128 KiB). CTF 1.8 only asks for a power of two; this
 * bound is ours (docs/adr/0102-decoding-limits-and-references.md): stream windows start at multiples of the
 * largest alignment of the trace, so each open stream holds at least that many bytes, and
 * positions stay far from 2^31 bits. Public traces use at most 512.
 */
export const MAX_ALIGN = 2 ** 20;

const INTEGER_ATTRS: readonly string[] = ['size', 'align', 'signed', 'byte_order', 'base', 'encoding', 'map'];

function exprKey(e: Expr): string {
  switch (e.kind) {
    case 'int':
      return `i${e.value}`;
    case 'path':
      return `p${e.parts.join('.')}`;
    case 'str':
      return `s${JSON.stringify(e.value)}`;
    case 'char':
      return `c${JSON.stringify(e.value)}`;
  }
}

export interface BuilderEnv {
  readonly file: string;
  /** The trace's byte order (what `native` means). */
  readonly byteOrder: ByteOrder;
  /** Environment entries declared so far (for `[env.KEY]` lengths). */
  env(): ReadonlyMap<string, EnvValue> | undefined;
  warn(loc: Loc, message: string): void;
}

/** Scalar types and attribute values; `TypeBuilder` adds declarations and compound types. */
export class ScalarTypes {
  /** Every `map = clock.NAME.value` seen, checked once all clocks are known. */
  readonly clockRefs: { name: string; loc: Loc }[] = [];

  constructor(protected readonly env: BuilderEnv) {}

  error(loc: Loc, reason: string): MetadataError {
    return new MetadataError(this.env.file, loc.line, loc.col, reason);
  }

  // ---- enumeration mappings ----

  protected mappings(body: readonly Enumerator[], container: IntegerFC): EnumMapping[] {
    const min = container.signed ? -(1n << BigInt(container.size - 1)) : 0n;
    const max = container.signed
      ? (1n << BigInt(container.size - 1)) - 1n
      : (1n << BigInt(container.size)) - 1n;
    const byLabel = new Map<string, [bigint, bigint][]>();
    const order: string[] = [];
    let next = 0n;
    const value = (e: Expr, label: string): bigint => {
      if (e.kind !== 'int')
        throw this.error(e.loc, `value of enum label '${label}' must be an integer constant`);
      if (e.value < min || e.value > max) {
        throw this.error(
          e.loc,
          `value ${e.value} of enum label '${label}' is out of the container's range [${min}, ${max}]`,
        );
      }
      return e.value;
    };
    for (const en of body) {
      let low: bigint;
      let high: bigint;
      if (en.low === undefined) {
        if (next > max)
          throw this.error(
            en.loc,
            `implicit value ${next} of enum label '${en.label}' is out of the container's range`,
          );
        low = high = next;
      } else {
        low = value(en.low, en.label);
        high = en.high === undefined ? low : value(en.high, en.label);
        if (high < low)
          throw this.error(en.loc, `range of enum label '${en.label}' is reversed (${low} ... ${high})`);
      }
      next = high + 1n;
      let ranges = byLabel.get(en.label);
      if (ranges === undefined) {
        ranges = [];
        byLabel.set(en.label, ranges);
        order.push(en.label);
      }
      ranges.push([low, high]);
    }
    return order.map((label) => ({ label, ranges: byLabel.get(label)! }));
  }

  // ---- scalar type attribute lists ----

  protected attrMap(attrs: readonly Attribute[], what: string): Map<string, Attribute> {
    const m = new Map<string, Attribute>();
    for (const a of attrs) {
      if (m.has(a.name)) throw this.error(a.loc, `duplicate attribute '${a.name}' in ${what}`);
      m.set(a.name, a);
    }
    return m;
  }

  private unknownAttrs(m: Map<string, Attribute>, known: readonly string[], what: string): void {
    for (const [name, a] of m)
      if (!known.includes(name)) this.env.warn(a.loc, `unknown attribute '${name}' in ${what} ignored`);
  }

  /**
   * Integer types by the text of their attribute list: kernel metadata writes the same
   * `integer { ... }` thousands of times; one object per distinct type is also what the
   * decoder's plan cache wants.
   */
  private readonly integers = new Map<string, IntegerFC>();

  private readonly integersByList = new Map<readonly Attribute[], IntegerFC>();

  integer(attrs: readonly Attribute[], loc: Loc): IntegerFC {
    const same = this.integersByList.get(attrs);
    if (same !== undefined) return same;
    let key = '';
    for (const a of attrs) {
      if (a.value === undefined) {
        key = '';
        break;
      }
      key += `${a.name}=${exprKey(a.value)};`;
    }
    const cached = key === '' ? undefined : this.integers.get(key);
    if (cached !== undefined) {
      this.integersByList.set(attrs, cached);
      return cached;
    }
    const t = this.buildInteger(attrs, loc);
    if (key !== '' && attrs.every((a) => INTEGER_ATTRS.includes(a.name))) {
      this.integers.set(key, t);
      this.integersByList.set(attrs, t);
    }
    return t;
  }

  private buildInteger(attrs: readonly Attribute[], loc: Loc): IntegerFC {
    const m = this.attrMap(attrs, 'integer');
    this.unknownAttrs(m, INTEGER_ATTRS, 'integer');
    const sizeA = m.get('size');
    if (sizeA === undefined) throw this.error(loc, "integer type has no 'size' attribute");
    const size = this.uint(sizeA, 'integer size');
    if (size < 1 || size > 64)
      throw this.error(sizeA.value!.loc, `integer size must be between 1 and 64 bits (got ${size})`);
    const alignA = m.get('align');
    const align =
      alignA === undefined
        ? size % 8 === 0
          ? 8
          : 1
        : this.alignment(alignA.value ?? alignA, 'integer alignment');
    const signedA = m.get('signed');
    const signed = signedA === undefined ? false : this.bool(signedA);
    const boA = m.get('byte_order');
    const byteOrder = boA === undefined ? this.env.byteOrder : this.byteOrder(boA);
    const baseA = m.get('base');
    const base = baseA === undefined ? 10 : this.base(baseA);
    const encA = m.get('encoding');
    const encoding = encA === undefined ? 'none' : this.encoding(encA);
    let mappedClock: string | undefined;
    const mapA = m.get('map');
    if (mapA !== undefined) {
      const v = this.valueOf(mapA);
      if (v.kind !== 'path' || v.parts.length !== 3 || v.parts[0] !== 'clock' || v.parts[2] !== 'value') {
        throw this.error(v.loc, "integer 'map' must be clock.NAME.value");
      }
      mappedClock = v.parts[1]!;
      this.clockRefs.push({ name: mappedClock, loc: v.loc });
    }
    const t: IntegerFC = { kind: 'int', size, align, signed, byteOrder, base, encoding };
    return mappedClock === undefined ? t : { ...t, mappedClock };
  }

  protected float(attrs: readonly Attribute[], loc: Loc): FloatFC {
    const m = this.attrMap(attrs, 'floating_point');
    this.unknownAttrs(m, ['exp_dig', 'mant_dig', 'byte_order', 'align'], 'floating_point');
    const e = m.get('exp_dig');
    const mt = m.get('mant_dig');
    if (e === undefined) throw this.error(loc, "floating point type has no 'exp_dig' attribute");
    if (mt === undefined) throw this.error(loc, "floating point type has no 'mant_dig' attribute");
    const expDig = this.uint(e, 'exp_dig');
    const mantDig = this.uint(mt, 'mant_dig');
    if (!((expDig === 8 && mantDig === 24) || (expDig === 11 && mantDig === 53))) {
      throw this.error(
        loc,
        `unsupported floating point type (exp_dig = ${expDig}, mant_dig = ${mantDig}); only IEEE 754 binary32 (8, 24) and binary64 (11, 53) are supported`,
      );
    }
    const alignA = m.get('align');
    const align =
      alignA === undefined ? 8 : this.alignment(alignA.value ?? alignA, 'floating point alignment');
    const boA = m.get('byte_order');
    return {
      kind: 'float',
      expDig,
      mantDig,
      align,
      byteOrder: boA === undefined ? this.env.byteOrder : this.byteOrder(boA),
    };
  }

  protected string(attrs: readonly Attribute[]): StringFC {
    const m = this.attrMap(attrs, 'string');
    this.unknownAttrs(m, ['encoding'], 'string');
    const encA = m.get('encoding');
    return { kind: 'string', encoding: encA === undefined ? 'utf8' : this.encoding(encA), align: 8 };
  }

  // ---- attribute values ----

  valueOf(a: Attribute): Expr {
    if (a.value === undefined) throw this.error(a.loc, `'${a.name}' needs a value ('='), not a type`);
    return a.value;
  }

  /** A non-negative integer constant that fits a JS number exactly. */
  uint(a: Attribute, what: string): number {
    const v = this.valueOf(a);
    if (v.kind !== 'int') throw this.error(v.loc, `${what} must be an integer constant`);
    if (v.value < 0n) throw this.error(v.loc, `${what} must not be negative`);
    if (v.value > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error(v.loc, `${what} is too large`);
    return Number(v.value);
  }

  alignment(x: Attribute | Expr, what: string): number {
    const v = 'kind' in x && x.kind !== 'attr' ? x : this.valueOf(x as Attribute);
    if (v.kind !== 'int') throw this.error(v.loc, `${what} must be an integer constant`);
    if (v.value <= 0n || (v.value & (v.value - 1n)) !== 0n) {
      throw this.error(v.loc, `${what} must be a positive power of two (got ${v.value})`);
    }
    if (v.value > BigInt(MAX_ALIGN)) {
      throw this.error(v.loc, `${what} ${v.value} is too large (at most ${MAX_ALIGN} bits)`);
    }
    return Number(v.value);
  }

  bool(a: Attribute): boolean {
    const v = this.valueOf(a);
    if (v.kind === 'int' && (v.value === 0n || v.value === 1n)) return v.value === 1n;
    if (v.kind === 'path' && v.parts.length === 1) {
      const w = v.parts[0]!;
      if (w === 'true' || w === 'TRUE') return true;
      if (w === 'false' || w === 'FALSE') return false;
    }
    throw this.error(v.loc, `'${a.name}' must be true, TRUE, 1, false, FALSE or 0`);
  }

  byteOrder(a: Attribute): ByteOrder {
    const v = this.valueOf(a);
    if (v.kind === 'path' && v.parts.length === 1) {
      switch (v.parts[0]) {
        case 'native':
          return this.env.byteOrder;
        case 'network':
        case 'be':
        case 'big_endian':
          return 'be';
        case 'le':
        case 'little_endian':
          return 'le';
      }
    }
    throw this.error(v.loc, 'byte_order must be one of native, network, be, le, big_endian, little_endian');
  }

  private base(a: Attribute): 2 | 8 | 10 | 16 {
    const v = this.valueOf(a);
    if (v.kind === 'int') {
      const n = Number(v.value);
      if (n === 2 || n === 8 || n === 10 || n === 16) return n;
    } else if (v.kind === 'path' && v.parts.length === 1) {
      switch (v.parts[0]) {
        case 'decimal':
        case 'dec':
        case 'd':
        case 'i':
        case 'u':
          return 10;
        case 'hexadecimal':
        case 'hex':
        case 'x':
        case 'X':
        case 'p':
          return 16;
        case 'octal':
        case 'oct':
        case 'o':
          return 8;
        case 'binary':
        case 'bin':
        case 'b':
          return 2;
      }
    }
    throw this.error(v.loc, 'integer base must be decimal, hexadecimal, octal or binary (or 10, 16, 8, 2)');
  }

  private encoding(a: Attribute): Encoding {
    const v = this.valueOf(a);
    if (v.kind === 'path' && v.parts.length === 1) {
      switch (v.parts[0]!.toLowerCase()) {
        case 'none':
          return 'none';
        case 'utf8':
          return 'utf8';
        case 'ascii':
          return 'ascii';
      }
    }
    throw this.error(v.loc, 'encoding must be none, UTF8 or ASCII');
  }
}
