/**
 * Compiles CTF field classes into specialised JavaScript decode functions (see
 * docs/adr/0001-decoder-code-generation.md). Each dynamic scope of each class gets one function
 * that reads a fixed sequence of fields with alignments and sizes folded into the code, so that
 * per event there is no interpretation of the metadata and no name lookup.
 *
 * A generated function has the signature
 *   (u8, dv, pos, end, st, out) => pos
 * where `u8`/`dv` view the current window of the packet, `pos` and `end` are bit positions in
 * that window, `st` is the mutable `DecodeState` of the stream, and `out` is the array that
 * receives the scope's top-level field values (or null when values are not wanted).
 */
import type {
  ArrayFC,
  EnumFC,
  FieldClass,
  IntegerFC,
  Scope,
  SequenceFC,
  StructFC,
  VariantFC,
} from '../ir.js';
import { fixedBits, isTextElement, meaningOf, minBits, refKey, slotKey, type CompileEnv } from './classes.js';
import { MAX_EMPTY_ELEMENTS, RUNTIME, variantRanges, variantSelector } from './runtime.js';
import type { DecodeFn } from './state.js';

class Emitter {
  readonly lines: string[] = [];
  private n = 0;
  /** Constants the generated code refers to (variant selectors, messages). */
  readonly consts: unknown[] = [];

  constructor(
    readonly env: CompileEnv,
    public scope: Scope,
  ) {}

  v(prefix: string): string {
    return `${prefix}${this.n++}`;
  }

  k(value: unknown): string {
    this.consts.push(value);
    return `K[${this.consts.length - 1}]`;
  }

  emit(line: string): void {
    this.lines.push(line);
  }

  describe(path: readonly string[]): string {
    return `${this.scope} field \`${path.join('.')}\``;
  }

  /**
   * `pos % 8` when known at compile time, else -1. Bitfields at a known bit phase are read
   * inline from one 32-bit window instead of through the generic reader (the 5-bit id and
   * 27-bit timestamp of LTTng's compact header are on every event).
   */
  phase = -1;

  align(a: number): void {
    // Not `(pos + a - 1) & -a`: that wraps to a negative position once pos + a - 1 >= 2^31.
    // `-pos & (a - 1)` needs only the low bits of pos, which 32-bit operators keep exactly.
    if (a > 1) this.emit(`pos += -pos & ${a - 1};`);
    if (a % 8 === 0) this.phase = 0;
    else if (a > 1 && this.phase >= 0) this.phase = (Math.ceil(this.phase / a) * a) % 8;
  }

  advancePhase(bits: number): void {
    if (this.phase >= 0) this.phase = (this.phase + bits) % 8;
  }

  check(bits: string, path: readonly string[]): void {
    this.emit(`if (pos + ${bits} > end) throw overflow(st, pos, ${JSON.stringify(this.describe(path))});`);
  }

  /** Emits code decoding `fc` at `path`; the value goes into the lvalue `target` (or nowhere). */
  field(fc: FieldClass, path: readonly string[], target: string | null, inArray: boolean): void {
    switch (fc.kind) {
      case 'int':
        this.integer(fc, path, target, inArray);
        break;
      case 'enum':
        this.integer(fc.container, path, target, inArray, fc);
        break;
      case 'float':
        this.float(fc, path, target);
        break;
      case 'string':
        this.string(path, target);
        break;
      case 'struct':
        this.struct(fc, path, target, inArray);
        break;
      case 'variant':
        this.variant(fc, path, target, inArray);
        break;
      case 'array':
      case 'sequence':
        this.array(fc, path, target, inArray);
        break;
    }
  }

  integer(
    fc: IntegerFC,
    path: readonly string[],
    target: string | null,
    inArray: boolean,
    asEnum?: EnumFC,
  ): void {
    const S = fc.size;
    const le = fc.byteOrder === 'le';
    const A = fc.align;
    this.align(A);
    this.check(String(S), path);
    const byteAligned = A % 8 === 0;
    const at = 'pos >>> 3';
    let expr: string;
    if (byteAligned && S === 8) {
      expr = fc.signed ? `(u8[${at}] << 24) >> 24` : `u8[${at}]`;
    } else if (byteAligned && (S === 16 || S === 32)) {
      expr = `dv.get${fc.signed ? 'Int' : 'Uint'}${S}(${at}, ${le})`;
    } else if (byteAligned && S === 64) {
      const hiOff = le ? 4 : 0;
      const loOff = le ? 0 : 4;
      // Inline fast path for values below 2^53 (nearly all); the helper builds bigints.
      const hi = this.v('h');
      const lo = this.v('l');
      this.emit(
        `const ${hi} = dv.get${fc.signed ? 'Int' : 'Uint'}32((${at}) + ${hiOff}, ${le}), ${lo} = dv.getUint32((${at}) + ${loOff}, ${le});`,
      );
      expr = fc.signed
        ? `(${hi} >= -2097152 && ${hi} < 2097152 ? ${hi} * 4294967296 + ${lo} : combineS(${hi}, ${lo}))`
        : `(${hi} < 2097152 ? ${hi} * 4294967296 + ${lo} : combineU(${hi}, ${lo}))`;
    } else if (this.phase >= 0 && this.phase + S <= 32) {
      // A bitfield at a known bit phase: one 32-bit window, shifted and masked inline.
      const ph = this.phase;
      const b = this.v('b');
      this.emit(`const ${b} = pos >>> 3;`);
      if (le) {
        const w = `((u8[${b}] | (u8[${b} + 1] << 8) | (u8[${b} + 2] << 16) | (u8[${b} + 3] << 24)) >>> ${ph})`;
        expr =
          S === 32
            ? fc.signed
              ? `(${w} | 0)`
              : w
            : fc.signed
              ? `((${w} << ${32 - S}) >> ${32 - S})`
              : `(${w} & ${2 ** S - 1})`;
      } else {
        const w = `(((u8[${b}] << 24) | (u8[${b} + 1] << 16) | (u8[${b} + 2] << 8) | u8[${b} + 3]) << ${ph})`;
        expr = fc.signed ? `(${w} >> ${32 - S})` : `(${w} >>> ${32 - S})`;
      }
    } else {
      expr = `read${fc.signed ? 'S' : 'U'}${le ? 'le' : 'be'}(u8, pos, ${S})`;
    }
    this.advancePhase(S);
    const x = this.v('i');
    this.emit(`const ${x} = ${expr};`);
    if (target !== null) this.emit(`${target} = ${x};`);
    void asEnum;
    // A length or tag inside an array element is stored for each element, for the sequences
    // and variants of the same element that follow it.
    const slot = this.env.slots.get(slotKey(this.scope, path));
    if (slot !== undefined) this.emit(`st.sv[${slot}] = ${x};`);
    if (!inArray) {
      const meaning = meaningOf(this.scope, path, fc);
      if (meaning !== undefined) this.emit(`st.${meaning} = toNum(${x});`);
      // Clock update: unsigned integers mapped to a clock, except `timestamp_end`, which
      // babeltrace2 keeps from updating the clock while decoding.
      if (!fc.signed && meaning !== 'tsEnd') {
        const clock = fc.mappedClock ?? this.env.implicitClock(this.scope, path, fc);
        if (clock !== undefined) {
          this.emit(S >= 53 ? `st.clk = toNum(${x});` : `st.clk = updateClock(st.clk, ${x}, ${S});`);
        }
      }
    }
    this.emit(`pos += ${S};`);
  }

  float(
    fc: { expDig: number; mantDig: number; align: number; byteOrder: string },
    path: readonly string[],
    target: string | null,
  ): void {
    const S = fc.expDig + fc.mantDig;
    if (S !== 32 && S !== 64) {
      this.emit(
        `throw fault(pos, ${JSON.stringify(`${this.describe(path)}: ${S}-bit floating point numbers are not supported`)});`,
      );
      return;
    }
    this.align(fc.align);
    this.check(String(S), path);
    const x = this.v('f');
    const le = fc.byteOrder === 'le';
    if (fc.align % 8 === 0) this.emit(`const ${x} = dv.getFloat${S}(pos >>> 3, ${le});`);
    else {
      this.emit(
        `const ${x} = (pos & 7) === 0 ? dv.getFloat${S}(pos >>> 3, ${le}) : readFloatBits(u8, pos, ${S}, ${le});`,
      );
    }
    if (target !== null) this.emit(`${target} = ${x};`);
    this.emit(`pos += ${S};`);
    this.advancePhase(S);
  }

  string(path: readonly string[], target: string | null): void {
    this.align(8);
    const b = this.v('b');
    const e = this.v('e');
    const lim = this.v('l');
    this.emit(`const ${b} = pos >>> 3, ${lim} = end >>> 3;`);
    this.emit(`let ${e} = ${b};`);
    this.emit(`while (${e} < ${lim} && u8[${e}] !== 0) ${e}++;`);
    this.emit(
      `if (${e} >= ${lim}) throw overflow(st, pos, ${JSON.stringify(this.describe(path) + ' (string)')});`,
    );
    if (target !== null) this.emit(`${target} = byteString(u8, ${b}, ${e});`);
    this.emit(`pos = (${e} + 1) << 3;`);
    this.phase = 0;
  }

  struct(fc: StructFC, path: readonly string[], target: string | null, inArray: boolean): void {
    this.align(fc.align);
    if (fc.fields.length === 0 && fc.align > 1) {
      // Nothing is read, but aligning past the end of the content is still an error.
      this.emit(`if (pos > end) throw overflow(st, pos, ${JSON.stringify(this.describe(path))});`);
    }
    const s = target !== null ? this.v('s') : null;
    if (s !== null) {
      // Outside arrays and variants the value array is reused from one event to the next.
      if (inArray || this.inVariant > 0) this.emit(`const ${s} = new Array(${fc.fields.length});`);
      else this.emit(`let ${s} = ${target}; if (${s} === undefined) ${s} = new Array(${fc.fields.length});`);
    }
    fc.fields.forEach((f, i) => {
      this.field(f.type, [...path, f.name], s !== null ? `${s}[${i}]` : null, inArray);
    });
    if (target !== null && s !== null) this.emit(`${target} = ${s};`);
  }

  private inVariant = 0;

  variant(fc: VariantFC, path: readonly string[], target: string | null, inArray: boolean): void {
    const key = refKey(fc.tag.scope, fc.tag.path);
    const slot = this.env.slots.get(key);
    const tagFc = this.env.classes.get(key);
    if (slot === undefined || tagFc === undefined || tagFc.kind !== 'enum') {
      this.emit(
        `throw fault(pos, ${JSON.stringify(`${this.describe(path)}: variant tag \`${fc.tag.text}\` is not an enumeration`)});`,
      );
      return;
    }
    // Stored values inside the options are cleared first: a length or tag in an option that is
    // not selected this time must read as "not decoded", not as a value from an earlier event.
    this.clearSlotsBelow(path);
    const t = this.v('t');
    const o = this.v('o');
    this.emit(`const ${t} = st.sv[${slot}];`);
    const ranges = variantRanges(tagFc, fc);
    if (
      ranges.length <= 16 &&
      ranges.every(([lo, hi]) => Number.isSafeInteger(Number(lo)) && Number.isSafeInteger(Number(hi)))
    ) {
      // Inline range tests (numbers and bigints compare directly in JS).
      const expr = ranges.reduceRight(
        (acc, [lo, hi, i]) =>
          lo === hi ? `${t} == ${lo} ? ${i} : ${acc}` : `${t} >= ${lo} && ${t} <= ${hi} ? ${i} : ${acc}`,
        '-1',
      );
      this.emit(`const ${o} = ${expr};`);
    } else {
      const select = this.k(variantSelector(tagFc, fc));
      this.emit(`const ${o} = ${select}(${t});`);
    }
    this.emit(
      `if (${o} < 0) throw fault(pos, ${t} === undefined ? ${JSON.stringify(`${this.describe(path)}: its tag \`${fc.tag.text}\` has no value (not decoded for this event)`)} : ${JSON.stringify(`${this.describe(path)}: tag value `)} + String(${t}) + ${JSON.stringify(` of \`${fc.tag.text}\` selects no option`)});`,
    );
    const val = target !== null ? this.v('w') : null;
    if (val !== null) this.emit(`let ${val};`);
    this.emit(`switch (${o}) {`);
    this.inVariant++;
    const phase0 = this.phase;
    fc.options.forEach((opt, i) => {
      this.phase = phase0;
      this.emit(`case ${i}: {`);
      this.field(opt.type, [...path, opt.name], val, inArray);
      this.emit('break; }');
    });
    this.inVariant--;
    this.emit('}');
    this.phase = -1;
    if (target !== null && val !== null) this.emit(`${target} = { option: ${o}, value: ${val} };`);
  }

  /** Emits code clearing the stored values of the fields below `path` (a variant's options). */
  private clearSlotsBelow(path: readonly string[]): void {
    const prefix = slotKey(this.scope, path) + '\u0000';
    for (const [k, slot] of this.env.slots) {
      if (k.startsWith(prefix)) this.emit(`st.sv[${slot}] = undefined;`);
    }
  }

  array(fc: ArrayFC | SequenceFC, path: readonly string[], target: string | null, inArray: boolean): void {
    const n = this.v('n');
    // Guards below are written `!(x <= limit)` so that NaN fails them too.
    let undecoded = '';
    if (fc.kind === 'array') {
      this.emit(`const ${n} = ${fc.length};`);
    } else {
      const key = refKey(fc.length.scope, fc.length.path);
      const slot = this.env.slots.get(key);
      if (slot === undefined) {
        this.emit(
          `throw fault(pos, ${JSON.stringify(`${this.describe(path)}: sequence length \`${fc.length.text}\` not found`)});`,
        );
        return;
      }
      this.emit(`const ${n} = toNum(st.sv[${slot}]);`);
      undecoded = `if (${n} === undefined) throw fault(pos, ${JSON.stringify(`${this.describe(path)}: its length \`${fc.length.text}\` has no value (not decoded for this event)`)}); `;
    }
    const elem = fc.element;
    this.align(fc.align);
    const eb = minBits(elem);
    // Never allocate for a length the packet cannot hold (e.g. a corrupt length of 2^32).
    if (eb > 0) {
      this.emit(
        `if (!(${n} * ${eb} <= end - pos)) { ${undecoded}if (!st.endIsContent && ${n} * ${eb} <= 2147483647) throw NEED_MORE; throw fault(pos, ${JSON.stringify(`${this.describe(path)}: length `)} + ${n} + ${JSON.stringify(' does not fit in the rest of the packet')}); }`,
      );
    } else {
      // Nothing is read for an empty element, but aligning past the end of the content is still
      // an error (and keeps positions within one alignment of the content end).
      if (fc.align > 1)
        this.emit(`if (pos > end) throw overflow(st, pos, ${JSON.stringify(this.describe(path))});`);
      this.emit(
        `if (!(${n} <= ${MAX_EMPTY_ELEMENTS})) { ${undecoded}throw fault(pos, ${JSON.stringify(`${this.describe(path)}: absurd length `)} + ${n}); }`,
      );
      // Nested, such arrays multiply (`struct {} x[1000000][1000000]`): one budget per call.
      this.emit(
        `if ((st.zb += ${n}) > ${MAX_EMPTY_ELEMENTS}) throw fault(pos, ${JSON.stringify(`${this.describe(path)}: more than ${MAX_EMPTY_ELEMENTS} elements without data in one event`)});`,
      );
    }
    if (isTextElement(elem)) {
      // Text array/sequence: a string up to the first NUL, like babeltrace2.
      const b = this.v('b');
      const e = this.v('e');
      this.align(elem.align);
      this.emit(
        `if ((pos & 7) !== 0) throw fault(pos, ${JSON.stringify(`${this.describe(path)}: unaligned text array`)});`,
      );
      this.emit(`const ${b} = pos >>> 3;`);
      if (target !== null) {
        this.emit(`let ${e} = ${b}; const ${e}l = ${b} + ${n};`);
        this.emit(`while (${e} < ${e}l && u8[${e}] !== 0) ${e}++;`);
        this.emit(`${target} = byteString(u8, ${b}, ${e});`);
      }
      this.emit(`pos += ${n} * 8;`);
      return;
    }
    const a = target !== null ? this.v('a') : null;
    const i = this.v('j');
    if (a !== null) {
      if (inArray || this.inVariant > 0) this.emit(`const ${a} = new Array(${n});`);
      else
        this.emit(
          `let ${a} = ${target}; if (${a} === undefined) ${a} = new Array(${n}); else if (${a}.length !== ${n}) ${a}.length = ${n};`,
        );
    }
    // Elements start at the same bit phase only when each is a fixed whole number of bytes.
    const fixed = fixedBits(elem);
    const phase0 = fixed >= 0 && fixed % 8 === 0 ? this.phase : -1;
    this.phase = phase0;
    this.emit(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
    this.field(elem, [...path, '[]'], a !== null ? `${a}[${i}]` : null, true);
    this.emit('}');
    this.phase = phase0;
    if (target !== null && a !== null) this.emit(`${target} = ${a};`);
  }
}

export interface ScopePart {
  readonly root: StructFC;
  readonly scope: Scope;
  /** Overrides `withValues` for this part (false: decode without producing values). */
  readonly withValues?: boolean;
}

/**
 * Compiles consecutive scope roots into one function `(u8, dv, pos, end, st, o0, o1, ...)`
 * that decodes each into its output array `oN` (an event body: stream event context, event
 * context and payload in one call). With `withValues` false the function only updates the
 * state (meanings, stored values, clock) and produces no values (used for event headers).
 */
export function compileScopes(parts: readonly ScopePart[], env: CompileEnv, withValues: boolean): DecodeFn {
  const em = new Emitter(env, parts[0]!.scope);
  em.emit('st.zb = 0;');
  parts.forEach((part, n) => {
    em.scope = part.scope;
    em.align(part.root.align);
    const values = part.withValues ?? withValues;
    part.root.fields.forEach((f, i) => {
      em.field(f.type, [f.name], values ? `o${n}[${i}]` : null, false);
    });
  });
  em.emit('return pos;');
  const names = Object.keys(RUNTIME);
  const outs = parts.map((_, n) => `o${n}`).join(', ');
  const fname = parts.map((p) => p.scope.replace(/\W/g, '_')).join('__');
  const body = `"use strict";\nreturn function decode_${fname}(u8, dv, pos, end, st, ${outs}) {\n${em.lines.join('\n')}\n};`;
  const factory = new Function('K', ...names, body) as (...args: unknown[]) => DecodeFn;
  return factory(em.consts, ...names.map((n) => RUNTIME[n as keyof typeof RUNTIME]));
}

/** Compiles a single scope root (see `compileScopes`). */
export function compileScope(root: StructFC, scope: Scope, env: CompileEnv, withValues: boolean): DecodeFn {
  return compileScopes([{ root, scope }], env, withValues);
}
