/**
 * Draft types → IR field classes, once per dynamic scope they are used in.
 *
 * This is where sequence lengths and variant tags become `FieldRef`s (scope + names from the
 * scope's root): a reference found where it was written is anchored to the instance of the
 * struct body it was found in; absolute paths are walked from their scope's root; relative
 * paths that were not found where written are searched from the innermost struct outward,
 * then in the earlier scopes' roots. Every target is checked to exist, to come before the
 * referencing field in decoding order, and to have the right type.
 *
 * Types without references are converted once and shared between all their uses.
 */
import type { FieldClass, FieldRef, NamedField, Scope, StructFC } from '../ir.js';
import { SCOPES } from '../ir.js';
import { expandedSize, type DField, type DRef, type DStruct, type DType, type DVariant } from './dtypes.js';
import type { TypeBuilder } from './types.js';

/** Most field classes one scope's root may expand to. */
export const MAX_SCOPE_FIELDS = 100_000;
/** Most field classes all per-use copies together may create. */
export const MAX_TOTAL_COPIES = 5_000_000;

interface BodyFrame {
  readonly type: DStruct;
  /** Length of `names` / `idx` when the struct was entered. */
  readonly namesLen: number;
  readonly idxLen: number;
}

interface Target {
  readonly ref: FieldRef;
  readonly type: DType;
}

export class Instantiator {
  private copies = 0;

  // State of the current `root()` call.
  private scope: Scope = 'event.fields';
  private available: ReadonlyMap<Scope, DStruct> = new Map();
  private names: string[] = [];
  /** Position of the current field: member/option index per level, -1 for an array element. */
  private idx: number[] = [];
  private bodies: BodyFrame[] = [];

  constructor(private readonly b: TypeBuilder) {}

  /**
   * Converts the root struct of `scope`. `available` holds the roots of the scopes already
   * decoded before it (for the same event or stream), and the root itself.
   */
  root(root: DStruct, scope: Scope, available: ReadonlyMap<Scope, DStruct>): StructFC {
    const size = expandedSize(root);
    if (size > MAX_SCOPE_FIELDS) {
      throw this.b.error(
        root.loc,
        `the ${scope} structure expands to ${size} field classes (at most ${MAX_SCOPE_FIELDS})`,
      );
    }
    this.scope = scope;
    this.available = available;
    this.names = [];
    this.idx = [];
    this.bodies = [];
    return this.convert(root) as StructFC;
  }

  private convert(t: DType): FieldClass {
    switch (t.kind) {
      case 'int':
      case 'float':
      case 'string':
      case 'enum':
        return t;
      case 'struct': {
        if (!t.refs) return this.share(t);
        this.count(t.fields.length + 1, t);
        this.bodies.push({ type: t, namesLen: this.names.length, idxLen: this.idx.length });
        const fields = this.members(t.fields);
        this.bodies.pop();
        return { kind: 'struct', fields, minAlign: t.minAlign, align: t.align };
      }
      case 'variant': {
        if (t.tag === undefined) {
          throw this.b.error(
            t.loc,
            `variant${t.name === undefined ? '' : ` '${t.name}'`} is used without a tag`,
          );
        }
        this.count(t.options.length + 1, t);
        const tag = this.resolve(t.tag, 'variant');
        if (t.tag.mode !== 'lex' && tag.type.kind === 'enum')
          this.b.checkVariantOptions(t, tag.type, t.tag.loc, t.tag.text);
        const options = this.members(t.options);
        return { kind: 'variant', tag: tag.ref, options, align: 1 };
      }
      case 'array': {
        if (!t.refs) return this.share(t);
        this.count(1, t);
        this.idx.push(-1);
        const element = this.convert(t.element);
        this.idx.pop();
        return { kind: 'array', length: t.length, element, align: t.align };
      }
      case 'sequence': {
        this.count(1, t);
        const length = this.resolve(t.length, 'sequence').ref;
        this.idx.push(-1);
        const element = this.convert(t.element);
        this.idx.pop();
        return { kind: 'sequence', length, element, align: t.align };
      }
    }
  }

  /** A field whose type is an untagged variant is an error at the field. */
  /** The fields of a struct or the options of a variant, each converted at its place in the path. */
  private members(list: readonly DField[]): NamedField[] {
    const out: NamedField[] = [];
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      this.checkTagged(f);
      this.names.push(f.name);
      this.idx.push(i);
      out.push({ name: f.name, type: this.convert(f.type) });
      this.names.pop();
      this.idx.pop();
    }
    return out;
  }

  private checkTagged(f: DField): void {
    let t = f.type;
    while (t.kind === 'array' || t.kind === 'sequence') t = t.element;
    if (t.kind === 'variant' && t.tag === undefined) {
      throw this.b.error(
        f.loc,
        `field '${f.name}' is an untagged variant${t.name === undefined ? '' : ` ('${t.name}')`}; give it a tag: variant ${t.name ?? ''} <tag> ${f.name}`,
      );
    }
  }

  private count(n: number, t: { loc: { line: number; col: number } }): void {
    this.copies += n;
    if (this.copies > MAX_TOTAL_COPIES) {
      throw this.b.error(t.loc, `metadata expands to more than ${MAX_TOTAL_COPIES} field classes`);
    }
  }

  /** IR for a type without references, built once. */
  private share(t: DType): FieldClass {
    const memo = t as { ir?: FieldClass };
    if (memo.ir !== undefined) return memo.ir;
    let out: FieldClass;
    switch (t.kind) {
      case 'struct':
        out = {
          kind: 'struct',
          fields: t.fields.map((f) => ({ name: f.name, type: this.share(f.type) })),
          minAlign: t.minAlign,
          align: t.align,
        };
        break;
      case 'array':
        out = { kind: 'array', length: t.length, element: this.share(t.element), align: t.align };
        break;
      case 'variant':
      case 'sequence':
        throw new Error('internal: shared type with references');
      default:
        return t;
    }
    memo.ir = out;
    return out;
  }

  // ---- references ----

  private resolve(r: DRef, use: 'sequence' | 'variant'): Target {
    switch (r.mode) {
      case 'lex': {
        for (let i = this.bodies.length - 1; i >= 0; i--) {
          const f = this.bodies[i]!;
          if (f.type.bodyId === r.bodyId) {
            return {
              ref: {
                scope: this.scope,
                path: [...this.names.slice(0, f.namesLen), ...r.tokens],
                text: r.text,
              },
              type: r.target,
            };
          }
        }
        throw this.b.error(r.loc, `internal: cannot anchor '${r.text}'`);
      }
      case 'abs':
        return this.absolute(r, use);
      case 'dyn':
        return this.dynamic(r, use);
    }
  }

  private absolute(r: Extract<DRef, { mode: 'abs' }>, use: 'sequence' | 'variant'): Target {
    const here = SCOPES.indexOf(this.scope);
    const there = SCOPES.indexOf(r.scope);
    if (there > here) {
      throw this.b.error(r.loc, `'${r.text}' refers to ${r.scope}, which is decoded after ${this.scope}`);
    }
    const root = this.available.get(r.scope);
    if (root === undefined) throw this.b.error(r.loc, `'${r.text}': this event has no ${r.scope} structure`);
    const { type, idx } = this.walk(root, r.tokens, r);
    if (there === here) this.checkPrecedes(idx, r);
    else if (idx.includes(-1))
      throw this.b.error(r.loc, `'${r.text}' goes into an array or sequence element of an earlier scope`);
    this.b.checkTarget(type, use, r.loc, r.text);
    return { ref: { scope: r.scope, path: r.tokens, text: r.text }, type };
  }

  private dynamic(r: Extract<DRef, { mode: 'dyn' }>, use: 'sequence' | 'variant'): Target {
    const first = r.tokens[0]!;
    for (let i = this.bodies.length - 1; i >= 0; i--) {
      const f = this.bodies[i]!;
      const cur = this.idx[f.idxLen]!;
      const k = f.type.fields.findIndex((x) => x.name === first);
      if (k < 0 || k >= cur) continue;
      const type = this.walkBelow(f.type.fields[k]!.type, r.tokens, r);
      this.b.checkTarget(type, use, r.loc, r.text);
      return {
        ref: { scope: this.scope, path: [...this.names.slice(0, f.namesLen), ...r.tokens], text: r.text },
        type,
      };
    }
    for (let s = SCOPES.indexOf(this.scope) - 1; s >= 0; s--) {
      const scope = SCOPES[s]!;
      const root = this.available.get(scope);
      const field = root?.fields.find((x) => x.name === first);
      if (field === undefined) continue;
      const type = this.walkBelow(field.type, r.tokens, r);
      this.b.checkTarget(type, use, r.loc, r.text);
      return { ref: { scope, path: r.tokens, text: r.text }, type };
    }
    throw this.b.error(
      r.loc,
      `no field '${first}' before this ${use === 'sequence' ? 'sequence' : 'variant'} in its structure, the enclosing structures or the earlier scopes`,
    );
  }

  /** Walks `tokens[1..]` below a field found by name; elements of arrays are not reachable. */
  private walkBelow(t: DType, tokens: readonly string[], r: DRef): DType {
    return this.b.walk(t, tokens, 1, r.loc, r.text);
  }

  /**
   * Walks an absolute path from a scope root: struct members and variant options by name; an
   * array or sequence is entered without consuming a name (its element being decoded).
   */
  private walk(root: DStruct, tokens: readonly string[], r: DRef): { type: DType; idx: number[] } {
    let cur: DType = root;
    const idx: number[] = [];
    for (let i = 0; i < tokens.length;) {
      const name = tokens[i]!;
      if (cur.kind === 'struct' || cur.kind === 'variant') {
        const list: readonly DField[] = cur.kind === 'struct' ? cur.fields : (cur as DVariant).options;
        const k = list.findIndex((x) => x.name === name);
        if (k < 0) {
          throw this.b.error(
            r.loc,
            `'${r.text}': no ${cur.kind === 'struct' ? 'field' : 'option'} '${name}'`,
          );
        }
        idx.push(k);
        cur = list[k]!.type;
        i++;
      } else if (cur.kind === 'array' || cur.kind === 'sequence') {
        idx.push(-1);
        cur = cur.element;
      } else {
        throw this.b.error(r.loc, `'${r.text}': '${tokens[i - 1]}' has no field '${name}'`);
      }
    }
    return { type: cur, idx };
  }

  /** Same-scope target: it must come strictly before the referencing field. */
  private checkPrecedes(target: readonly number[], r: DRef): void {
    const source = this.idx;
    let k = 0;
    while (k < target.length && k < source.length && target[k] === source[k]) k++;
    if (k === target.length || k === source.length) {
      throw this.b.error(
        r.loc,
        `'${r.text}' refers to the referencing field itself or to one of its parents or children`,
      );
    }
    if (target.slice(k).includes(-1)) {
      throw this.b.error(
        r.loc,
        `'${r.text}' goes into an array or sequence element that does not contain the referencing field`,
      );
    }
    if (target[k]! >= source[k]!) {
      throw this.b.error(r.loc, `'${r.text}' must come before the referencing field in decoding order`);
    }
  }
}
