/**
 * Compiles field classes into specialised JavaScript encode functions (generated source, one
 * function per event class), the mirror of the reader's decode plans: static offsets and
 * alignments folded, byte-aligned 8/16/32/64-bit integers written with one DataView call, only
 * bit fields going through the generic bit writer, no per-event allocation.
 *
 * A generated function has the signature
 *   (u8, dv, p, lim, a0, a1, ...) => p | -1
 * `u8`/`dv` view the stream's chunk buffer, `p` is the bit position to start at (byte-aligned),
 * `lim` the bit position the data must not pass (end of the packet's room), `a0..` the value
 * arrays of the scopes, in order. It returns the bit position after the last field, or -1 when
 * the data does not fit before `lim`. Fixed-size runs are written without checks; the caller
 * keeps `slackBits` of writable room past `lim`. Checks happen before each variable-length field
 * and at the end.
 *
 * Sequence lengths and variant tags are filled in by the encoder: the length field gets the
 * length of the sequence value (the value given for the length field is ignored), and the tag
 * gets a value that selects the variant value's option (the given tag value is kept when it
 * already selects it). Both must precede their sequence/variant within the compiled scopes.
 */
import type { EnumFC, FieldClass, IntegerFC, Scope, SequenceFC, StructFC, VariantFC } from '../ir.js';
import { classAtPath, scalarBits } from '../ir.js';
import { WriterError } from '../../util/errors.js';
import * as H from './encode-helpers.js';
import type { EnumTable, Values, VariantTable } from './encode-helpers.js';

export type EncodeFn = (
  u8: Uint8Array,
  dv: DataView,
  p: number,
  lim: number,
  ...scopes: Array<Values | undefined>
) => number;

export interface CompiledEncoder {
  readonly fn: EncodeFn;
  /** Most bits written past a bounds check before the next one (room needed past `lim`). */
  readonly slackBits: number;
  /** Static size in bits when every field is fixed-size, else -1. */
  readonly fixedBits: number;
  /** Generated source, for debugging. */
  readonly source: string;
}

export interface CompileOptions {
  /** How JS strings become bytes: UTF-8 (default) or latin1 byte strings (the reader's form). */
  readonly strings?: 'utf8' | 'latin1';
  /** Name used in the generated function and messages. */
  readonly name?: string;
  /**
   * The target bytes past `p` are known to be zero (the stream writer zeroes its packets), so
   * padding need not be written.
   */
  readonly zeroed?: boolean;
}

export interface ScopeInput {
  readonly scope: Scope;
  readonly struct: StructFC | undefined;
}

interface RefTarget {
  /** Variable holding the bit position of the field. */
  posVar: string;
  /** Variable holding the value written (variant tags only). */
  valVar: string | undefined;
  fc: IntegerFC;
  enumFc: EnumFC | undefined;
}

/** Largest power of two dividing n (n > 0), capped at `cap`. */
function lowbit(n: number, cap: number): number {
  if (n === 0) return cap;
  let b = 1;
  while ((n & b) === 0 && b < cap) b <<= 1;
  return Math.min(b, cap);
}

/** Static size in bits, or -1 when variable. */
export function fixedSize(fc: FieldClass): number {
  switch (fc.kind) {
    case 'string':
    case 'sequence':
    case 'variant':
      return -1;
    case 'array': {
      const e = fixedSize(fc.element);
      if (e < 0) return -1;
      if (fc.length === 0) return 0;
      // Every element starts aligned (the first one is aligned with the array).
      return (fc.length - 1) * alignUp(e, fc.element.align) + e;
    }
    case 'struct': {
      let total = 0;
      for (const f of fc.fields) {
        const s = fixedSize(f.type);
        if (s < 0) return -1;
        total = alignUp(total, f.type.align) + s;
      }
      return total;
    }
    default:
      return scalarBits(fc);
  }
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

function isText8(fc: FieldClass): fc is IntegerFC {
  return fc.kind === 'int' && fc.size === 8 && fc.encoding !== 'none' && fc.align <= 8;
}
function isByte(fc: FieldClass): fc is IntegerFC {
  return fc.kind === 'int' && fc.size === 8 && fc.align <= 8;
}

class Gen {
  readonly lines: string[] = [];
  readonly decls: string[] = [];
  readonly consts: unknown[] = [];
  ind = 1;
  /** Static bits past runtime `p`. */
  k = 0;
  /** Known alignment of runtime `p`, in bits. */
  known = 8;
  bValid = false;
  run = 0;
  maxRun = 0;
  tmp = 0;
  readonly targets = new Map<string, RefTarget>();
  readonly le: (fc: { byteOrder: 'le' | 'be' }) => string = (fc) =>
    fc.byteOrder === 'le' ? 'true' : 'false';
  readonly latin1: boolean;
  readonly zeroed: boolean;
  readonly name: string;

  constructor(o: CompileOptions) {
    this.latin1 = o.strings === 'latin1';
    this.zeroed = o.zeroed === true;
    this.name = o.name ?? 'encoder';
  }

  emit(s: string): void {
    this.lines.push(`${'  '.repeat(this.ind)}${s}`);
  }
  v(prefix: string): string {
    return `${prefix}_${this.tmp++}`;
  }
  c(x: unknown): string {
    this.consts.push(x);
    return `C[${this.consts.length - 1}]`;
  }

  flush(): void {
    if (this.k > 0) {
      this.emit(`p += ${this.k};`);
      this.known = Math.min(this.known, lowbit(this.k, 1 << 30));
      this.k = 0;
      this.bValid = false;
    }
  }

  alignTo(a: number): void {
    if (a <= 1) return;
    if (a <= this.known) {
      const k2 = alignUp(this.k, a);
      this.run += k2 - this.k;
      this.k = k2;
      return;
    }
    this.flush();
    this.emit(`p = (p + ${a - 1}) & ${-a};`);
    this.known = a;
    this.bValid = false;
    this.run += a - 1;
  }

  /** Closes the current fixed run: what was written since the last check is bounded. */
  checkpoint(): void {
    this.maxRun = Math.max(this.maxRun, this.run);
    this.run = 0;
  }

  /** Expression for the byte index of p + k (requires byte alignment). */
  byteAt(): string {
    if (!this.bValid) {
      this.emit('b = p >>> 3;');
      this.bValid = true;
    }
    const o = this.k >>> 3;
    return o === 0 ? 'b' : `b + ${o}`;
  }

  byteAligned(): boolean {
    return this.known >= 8 && this.k % 8 === 0;
  }

  intWrite(fc: IntegerFC, val: string): void {
    const le = this.le(fc);
    if (this.byteAligned()) {
      switch (fc.size) {
        case 8:
          this.emit(`u8[${this.byteAt()}] = ${val};`);
          return;
        case 16:
          this.emit(`dv.setUint16(${this.byteAt()}, ${val}, ${le});`);
          return;
        case 32:
          this.emit(`dv.setUint32(${this.byteAt()}, ${val}, ${le});`);
          return;
        case 64: {
          // Inline fast path for numbers that fit 32 bits (signed or unsigned).
          const x = this.v('x');
          const at = this.byteAt();
          const lo = fc.byteOrder === 'le' ? at : `${at} + 4`;
          const hi = fc.byteOrder === 'le' ? `${at} + 4` : at;
          this.emit(`const ${x} = ${val};`);
          this.emit(
            `if (typeof ${x} !== 'number') H.w64(dv, ${at}, ${x}, ${le});` +
              ` else if ((${x} | 0) === ${x}) { dv.setInt32(${lo}, ${x}, ${le}); dv.setInt32(${hi}, ${x} >> 31, ${le}); }` +
              ` else if (${x} >>> 0 === ${x}) { dv.setUint32(${lo}, ${x}, ${le}); dv.setUint32(${hi}, 0, ${le}); }` +
              ` else H.w64(dv, ${at}, ${x}, ${le});`,
          );
          return;
        }
      }
    }
    this.emit(`H.wbits(u8, p + ${this.k}, ${fc.size}, ${val}, ${le});`);
  }

  field(fc: FieldClass, val: string, key: string): void {
    switch (fc.kind) {
      case 'int':
      case 'enum':
        this.integer(fc, val, key);
        return;
      case 'float':
        this.float(fc.expDig + fc.mantDig, fc, val);
        return;
      case 'string':
        this.string(val);
        return;
      case 'struct':
        this.struct(fc, val, key);
        return;
      case 'array':
        this.array(fc.element, fc.length, val, key);
        return;
      case 'sequence':
        this.sequence(fc, val, key);
        return;
      case 'variant':
        this.variant(fc, val, key);
        return;
    }
  }

  integer(fc: IntegerFC | EnumFC, val: string, key: string): void {
    const ic = fc.kind === 'enum' ? fc.container : fc;
    this.alignTo(ic.align);
    let expr = val;
    if (fc.kind === 'enum') {
      const byLabel = new Map<string, number | bigint>();
      for (const m of fc.mappings) {
        const lo = m.ranges[0]?.[0];
        if (lo !== undefined && !byLabel.has(m.label)) byLabel.set(m.label, bigToValue(lo));
      }
      const t: EnumTable = { byLabel, name: key };
      const tv = this.v('e');
      this.emit(`const ${tv} = ${val};`);
      expr = `(typeof ${tv} === 'string' ? H.enumValue(${this.c(t)}, ${tv}) : ${tv})`;
    }
    const target = this.targets.get(key);
    if (target !== undefined) {
      this.emit(`${target.posVar} = p + ${this.k};`);
      if (target.valVar !== undefined) {
        this.emit(`${target.valVar} = ${expr};`);
        expr = target.valVar;
      }
    }
    this.intWrite(ic, expr);
    this.k += ic.size;
    this.run += ic.size;
  }

  float(size: number, fc: { byteOrder: 'le' | 'be'; align: number }, val: string): void {
    if (size !== 32 && size !== 64)
      throw new WriterError(`${this.name}: only 32- and 64-bit floats can be written`);
    this.alignTo(fc.align);
    const le = this.le(fc);
    if (this.byteAligned()) {
      this.emit(`dv.setFloat${size}(${this.byteAt()}, ${val}, ${le});`);
    } else {
      this.emit(`H.wfloat(u8, p + ${this.k}, ${size}, ${val}, ${le});`);
    }
    this.k += size;
    this.run += size;
  }

  string(val: string): void {
    this.alignTo(8);
    this.flush();
    this.checkpoint();
    const f = this.latin1 ? 'H.wstrLatin1' : 'H.wstr';
    this.emit(`r = ${f}(u8, p >>> 3, lim >>> 3, ${val});`);
    this.emit('if (r < 0) return -1;');
    this.emit('p = r * 8;');
    this.known = 8;
    this.bValid = false;
  }

  struct(fc: StructFC, val: string, key: string): void {
    this.alignTo(fc.align);
    const sv = this.v('s');
    this.emit(`const ${sv} = ${val} || E;`);
    fc.fields.forEach((f, i) => this.field(f.type, `${sv}[${i}]`, `${key}/${f.name}`));
  }

  /** Common loop for arrays and sequences of non-byte elements; `n` is an expression. */
  loop(elem: FieldClass, n: string, arr: string, key: string): void {
    this.alignTo(elem.align);
    this.flush();
    const es = fixedSize(elem);
    const j = this.v('j');
    const entryKnown = this.known;
    this.checkpoint();
    if (es >= 0) {
      const step = alignUp(es, elem.align);
      // Each element starts aligned; when its size keeps the alignment, positions stay known.
      const inner = es > 0 && es % elem.align === 0 ? Math.min(entryKnown, lowbit(es, 1 << 30)) : 1;
      this.emit(`if (p + ${n} * ${step} > lim) return -1;`);
      this.emit(`for (let ${j} = 0; ${j} < ${n}; ${j}++) {`);
      this.ind++;
      this.known = inner;
      this.bValid = false;
      this.field(elem, `${arr}[${j}]`, key);
      this.flush();
      this.ind--;
      this.emit('}');
      this.known = Math.min(inner, entryKnown);
    } else {
      this.emit(`for (let ${j} = 0; ${j} < ${n}; ${j}++) {`);
      this.ind++;
      this.emit('if (p > lim) return -1;');
      this.known = 1;
      this.bValid = false;
      this.run = 0;
      this.field(elem, `${arr}[${j}]`, key);
      this.flush();
      this.ind--;
      this.emit('}');
      this.checkpoint();
      this.known = 1;
    }
    this.bValid = false;
    this.run = 0;
  }

  array(elem: FieldClass, length: number, val: string, key: string): void {
    if (length === 0) {
      this.alignTo(elem.align);
      return;
    }
    if (isByte(elem)) {
      this.alignTo(8);
      if (this.byteAligned()) {
        const f = this.latin1 || elem.encoding === 'none' ? 'H.wcharsLatin1' : 'H.wchars';
        const at = this.byteAt();
        if (length <= 64) {
          // Inline ASCII loop (the common case: comm names); anything else goes to the helper.
          const sv = this.v('c');
          const iv = this.v('i');
          const m = this.v('m');
          this.emit(`const ${sv} = ${val};`);
          this.emit(`if (typeof ${sv} === 'string' && ${sv}.length <= ${length}) {`);
          this.emit(`  const ${m} = ${sv}.length;`);
          this.emit(`  let ${iv} = 0;`);
          this.emit(
            `  for (; ${iv} < ${m}; ${iv}++) { const ch = ${sv}.charCodeAt(${iv}); if (ch >= 128 || ch === 0) break; u8[${at} + ${iv}] = ch; }`,
          );
          if (this.zeroed) {
            this.emit(`  if (${iv} < ${m}) ${f}(u8, ${at}, ${length}, ${sv});`);
          } else {
            this.emit(
              `  if (${iv} < ${m}) ${f}(u8, ${at}, ${length}, ${sv}); else for (; ${iv} < ${length}; ${iv}++) u8[${at} + ${iv}] = 0;`,
            );
          }
          this.emit(`} else ${f}(u8, ${at}, ${length}, ${sv});`);
        } else {
          this.emit(`${f}(u8, ${at}, ${length}, ${val});`);
        }
        this.k += length * 8;
        this.run += length * 8;
        return;
      }
    }
    const av = this.v('a');
    this.emit(`const ${av} = ${val} || E;`);
    this.loop(elem, `${length}`, av, key);
  }

  sequence(fc: SequenceFC, val: string, key: string): void {
    const lkey = `${fc.length.scope}/${fc.length.path.join('/')}`;
    const target = this.targets.get(lkey);
    if (target === undefined) {
      throw new WriterError(
        `${this.name}: sequence '${key}' has its length in '${fc.length.text}', outside the event (the writer fills lengths from the values)`,
      );
    }
    const lenFc = target.fc;
    const elem = fc.element;
    this.alignTo(elem.align);
    this.flush();
    this.checkpoint();
    if (isByte(elem)) {
      // Text or bytes: one call writes them and returns the count.
      const f = isText8(elem) && !this.latin1 ? 'H.wtextSeq' : this.latin1 ? 'H.wtextSeqLatin1' : 'H.wbytes';
      this.emit(`r = ${f}(u8, p >>> 3, lim >>> 3, ${val});`);
      this.emit('if (r < 0) return -1;');
      this.emit(`H.wint(u8, dv, ${target.posVar}, ${lenFc.size}, r, ${this.le(lenFc)});`);
      this.emit('p += r * 8;');
      this.known = 8;
      this.bValid = false;
      return;
    }
    const av = this.v('q');
    const nv = this.v('n');
    this.emit(`const ${av} = ${val} || E;`);
    this.emit(`const ${nv} = ${av}.length;`);
    this.emit(`H.wint(u8, dv, ${target.posVar}, ${lenFc.size}, ${nv}, ${this.le(lenFc)});`);
    this.loop(elem, nv, av, key);
  }

  variant(fc: VariantFC, val: string, key: string): void {
    const tkey = `${fc.tag.scope}/${fc.tag.path.join('/')}`;
    const target = this.targets.get(tkey);
    if (target === undefined || target.valVar === undefined || target.enumFc === undefined) {
      throw new WriterError(`${this.name}: variant '${key}' has its tag '${fc.tag.text}' outside the event`);
    }
    const table = variantTable(fc, target.enumFc, key);
    const t = this.c(table);
    const vv = this.v('w');
    const ov = this.v('o');
    this.emit(`const ${vv} = ${val};`);
    this.emit(`const ${ov} = H.variantOption(${t}, ${vv});`);
    const xv = this.v('y');
    this.emit(`const ${xv} = ${vv} == null ? undefined : ${vv}.value;`);
    this.emit(
      `if (!H.tagSelects(${t}, ${ov}, ${target.valVar})) H.wint(u8, dv, ${target.posVar}, ${target.fc.size}, ${t}.canon[${ov}], ${this.le(target.fc)});`,
    );
    this.flush();
    const startKnown = this.known;
    const startRun = this.run;
    let endKnown = 1 << 30;
    let endRun = 0;
    this.emit(`switch (${ov}) {`);
    fc.options.forEach((o, i) => {
      this.emit(`case ${i}: {`);
      this.ind++;
      this.known = startKnown;
      this.bValid = false;
      this.run = startRun;
      this.field(o.type, xv, `${key}/${o.name}`);
      this.flush();
      endKnown = Math.min(endKnown, this.known);
      endRun = Math.max(endRun, this.run);
      this.emit('break;');
      this.ind--;
      this.emit('}');
    });
    this.emit('}');
    this.known = fc.options.length > 0 ? endKnown : startKnown;
    this.bValid = false;
    this.run = endRun;
  }
}

function bigToValue(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

function variantTable(fc: VariantFC, tag: EnumFC, key: string): VariantTable {
  const options = fc.options.map((o) => o.name);
  const canon: Array<number | bigint> = [];
  const ranges: Array<Array<readonly [bigint, bigint]>> = [];
  for (const name of options) {
    const rs: Array<readonly [bigint, bigint]> = [];
    for (const m of tag.mappings) if (m.label === name) rs.push(...m.ranges);
    if (rs.length === 0) throw new WriterError(`variant '${key}': no label '${name}' in its tag enumeration`);
    ranges.push(rs);
    canon.push(bigToValue(rs[0]![0]));
  }
  return { name: key, options, canon, ranges, byName: new Map(options.map((n, i) => [n, i])) };
}

/** Collects the keys of fields that sequences/variants refer to. */
function collectRefs(fc: FieldClass | undefined, out: Map<string, 'len' | 'tag'>): void {
  if (fc === undefined) return;
  switch (fc.kind) {
    case 'struct':
      for (const f of fc.fields) collectRefs(f.type, out);
      return;
    case 'array':
      collectRefs(fc.element, out);
      return;
    case 'sequence':
      out.set(`${fc.length.scope}/${fc.length.path.join('/')}`, 'len');
      collectRefs(fc.element, out);
      return;
    case 'variant':
      out.set(`${fc.tag.scope}/${fc.tag.path.join('/')}`, 'tag');
      for (const o of fc.options) collectRefs(o.type, out);
      return;
    default:
      return;
  }
}

/**
 * Compiles the scopes (in decoding order) into one encode function. Each scope's value array is
 * one argument after `lim`. `p` must be byte-aligned on entry.
 */
export function compileEncoder(scopes: readonly ScopeInput[], opts: CompileOptions = {}): CompiledEncoder {
  const g = new Gen(opts);
  const refs = new Map<string, 'len' | 'tag'>();
  for (const s of scopes) collectRefs(s.struct, refs);
  for (const [key, kind] of refs) {
    const slash = key.indexOf('/');
    const scope = key.slice(0, slash) as Scope;
    const path = key.slice(slash + 1).split('/');
    const s = scopes.find((x) => x.scope === scope);
    const fc = classAtPath(s?.struct, path);
    if (fc === undefined) continue; // reported by the sequence/variant itself
    const ic = fc.kind === 'enum' ? fc.container : fc.kind === 'int' ? fc : undefined;
    if (ic === undefined) throw new WriterError(`${g.name}: '${key}' is not an integer or enumeration`);
    const posVar = g.v('L');
    const valVar = kind === 'tag' ? g.v('T') : undefined;
    g.decls.push(posVar);
    if (valVar !== undefined) g.decls.push(valVar);
    const t: RefTarget = { posVar, valVar, fc: ic, enumFc: fc.kind === 'enum' ? fc : undefined };
    g.targets.set(key, t);
  }
  let allFixed = true;
  scopes.forEach((s, i) => {
    if (s.struct === undefined) return;
    if (fixedSize(s.struct) < 0) allFixed = false;
    g.alignTo(s.struct.align);
    const sv = g.v('s');
    g.emit(`const ${sv} = a${i} || E;`);
    s.struct.fields.forEach((f, j) => g.field(f.type, `${sv}[${j}]`, `${s.scope}/${f.name}`));
  });
  g.flush();
  g.checkpoint();
  g.emit('return p > lim ? -1 : p;');
  const params = scopes.map((_, i) => `a${i}`).join(', ');
  const decls = ['b = 0', 'r = 0', ...g.decls.map((d) => `${d} = 0`)].join(', ');
  const fname = g.name.replace(/\W/g, '_');
  const source = `"use strict";\nreturn function enc_${fname}(u8, dv, p, lim${params ? `, ${params}` : ''}) {\n  let ${decls};\n${g.lines.join('\n')}\n};`;
  let fn: EncodeFn;
  try {
    fn = new Function('H', 'E', 'C', source)(H, H.EMPTY, g.consts) as EncodeFn;
  } catch (e) {
    throw new WriterError(`${g.name}: generated encoder does not compile`, { cause: e });
  }
  let fixedBits = -1;
  if (allFixed) {
    fixedBits = 0;
    for (const s of scopes)
      if (s.struct !== undefined) fixedBits = alignUp(fixedBits, s.struct.align) + fixedSize(s.struct);
  }
  return { fn, slackBits: g.maxRun + 64, fixedBits, source };
}
