/**
 * Compiles the formatter of one event class: JavaScript generated from the class's print plan,
 * writing the line after the timestamp part (header, scopes, field names and values) straight
 * into the printer's byte buffer.
 */
import type { EventClass } from '../ctf/ir.js';
import type { FieldValue } from '../ctf/event.js';
import { textToByteString as bytes } from '../ctf/event.js';
import type { Colors } from './colors.js';
import { formatBinary, formatG, formatOctal } from './format.js';
import type { PrettyOptions } from './options.js';
import type { PlanNode, StreamPlan, StructPlan } from './plan.js';
import { asArray, asIntegral, asText, enumFormatter } from './values.js';
import type { ByteWriter } from './writer.js';
import { putBytes, putDec, putHex } from './writer.js';

/** Writes the body of one event: everything after the timestamp/delta part, with the newline. */
export type EventFormatter = (
  w: ByteWriter,
  packetContext: FieldValue[] | undefined,
  streamContext: FieldValue[] | undefined,
  context: FieldValue[] | undefined,
  payload: FieldValue[] | undefined,
) => void;

/** Generated formatter factories by source text, shared by classes of the same shape. */
const FACTORIES = new Map<string, (h: Helpers) => EventFormatter>();

/** Helpers the generated code calls. */
interface Helpers {
  K: Uint8Array[];
  B: (b: Uint8Array, p: number, k: Uint8Array) => number;
  D: (b: Uint8Array, p: number, v: number | bigint) => number;
  X: (b: Uint8Array, p: number, v: FieldValue, size: number) => number;
  q: (w: ByteWriter, v: FieldValue) => void;
  g: (v: FieldValue) => string;
  oct: (v: FieldValue, size: number, signed: boolean) => string;
  bin: (v: FieldValue, size: number) => string;
  enums: Array<(v: FieldValue) => string>;
  arr: (v: FieldValue) => FieldValue[];
}

/**
 * Compiles per-event-class formatters from plans (JavaScript code generation). The generated
 * function writes bytes straight into the writer's buffer with a local position `p`: each run
 * of fixed-size writes (constants, integers) is preceded by one capacity check for the whole
 * run; variable-size writes (strings, floats, labels) go through the writer, which grows it.
 */
export class Compiler {
  private lines: string[] = [];
  /** Constant text not yet emitted (merged until the next value). */
  private pending = '';
  private consts: Uint8Array[] = [];
  private vars = 0;
  /** Constants up to this length become byte stores in the code (2 or 32, see `compile`). */
  private inlineConst = 2;
  /** Index in `lines` of the capacity check of the current run, and the run's byte bound. */
  private segLine = -1;
  private segBytes = 0;
  readonly enums: Array<(v: FieldValue) => string> = [];

  constructor(
    private readonly col: Colors,
    private readonly opts: PrettyOptions,
  ) {}

  private lit(s: string): void {
    this.pending += s;
  }

  /** Emits the pending constant bytes. */
  private flush(): void {
    if (this.pending === '') return;
    const k = Buffer.from(this.pending, 'latin1');
    this.pending = '';
    this.segBytes += k.length;
    // Constants are data, not code: event classes of the same shape then share one generated
    // function (warm sooner; a large unrolled function stays slow in V8's interpreter).
    if (k.length <= this.inlineConst) {
      let st = '';
      for (let i = 0; i < k.length; i++) st += `b[p${i === 0 ? '' : ' + ' + i}] = ${k[i]}; `;
      this.lines.push(st + `p += ${k.length};`);
    } else {
      this.lines.push(`p = B(b, p, K[${this.consts.length}]);`);
      this.consts.push(k);
    }
  }

  private startSeg(): void {
    this.segLine = this.lines.length;
    this.lines.push('');
    this.segBytes = 0;
  }

  private endSeg(): void {
    this.flush();
    if (this.segLine >= 0 && this.segBytes > 0) {
      this.lines[this.segLine] =
        `if (p + ${this.segBytes} > b.length) { w.pos = p; w.ensure(${this.segBytes}); b = w.buf; }`;
    }
    this.segLine = -1;
  }

  /** A fixed-size write of at most `max` bytes. */
  private fixed(st: string, max: number): void {
    this.flush();
    this.segBytes += max;
    this.lines.push(st);
  }

  /** A variable-size write through the writer. */
  private variable(st: string): void {
    this.endSeg();
    this.lines.push(`w.pos = p; ${st} b = w.buf; p = w.pos;`);
    this.startSeg();
  }

  /** A statement that ends the current run (loop and switch boundaries). */
  private boundary(st: string): void {
    this.endSeg();
    this.lines.push(st);
    this.startSeg();
  }

  private newVar(prefix: string): string {
    return `${prefix}${this.vars++}`;
  }

  /** Code writing the value `v` (a JS expression) of a field planned as `n`. */
  private field(n: PlanNode, v: string, names: boolean): void {
    const c = this.col;
    switch (n.k) {
      case 'int': {
        const fc = n.fc;
        this.lit(c.number);
        switch (fc.base) {
          case 10:
            this.fixed(`p = D(b, p, ${v});`, 21);
            break;
          case 16:
            this.fixed(`p = X(b, p, ${v}, ${fc.size});`, 18);
            break;
          case 8:
            this.variable(`w.raw(H.oct(${v}, ${fc.size}, ${fc.signed}));`);
            break;
          case 2:
            this.variable(`w.raw(H.bin(${v}, ${fc.size}));`);
            break;
        }
        this.lit(c.rst);
        return;
      }
      case 'enum': {
        const i = this.enums.length;
        this.enums.push(enumFormatter(n, c));
        this.variable(`w.raw(H.enums[${i}](${v}));`);
        return;
      }
      case 'float':
        this.lit(c.number);
        this.variable(`w.raw(H.g(${v}));`);
        this.lit(c.rst);
        return;
      case 'string': {
        this.lit(c.string);
        const x = this.newVar('t');
        this.variable(`const ${x} = ${v}; if (typeof ${x} === "string") w.quoted(${x}); else H.q(w, ${x});`);
        this.lit(c.rst);
        return;
      }
      case 'struct':
        this.struct(n, v, names);
        return;
      case 'array': {
        const a = this.newVar('a');
        const i = this.newVar('i');
        this.lit('[');
        this.boundary(`{ const ${a} = H.arr(${v}); for (let ${i} = 0; ${i} < ${a}.length; ${i}++) {`);
        this.fixed(`if (${i} === 0) { b[p++] = 32; } else { b[p] = 44; b[p + 1] = 32; p += 2; }`, 2);
        if (names) {
          this.lit('[');
          this.fixed(`p = D(b, p, ${i});`, 21);
          this.lit('] = ');
        }
        this.field(n.elem, `${a}[${i}]`, names);
        this.boundary('} }');
        this.lit(' ]');
        return;
      }
      case 'variant': {
        const x = this.newVar('v');
        this.lit('{ ');
        this.boundary(`{ const ${x} = ${v}; switch (${x}.option) {`);
        n.options.forEach((o, i) => {
          this.boundary(`case ${i}: {`);
          this.field(o, `${x}.value`, names);
          this.boundary('break; }');
        });
        this.boundary('} }');
        this.lit(' }');
        return;
      }
    }
  }

  private struct(n: StructPlan, v: string, names: boolean): void {
    const c = this.col;
    this.lit('{');
    let x = v;
    if (n.members.length > 1 && !/^[a-z]+\d*$/.test(v)) {
      x = this.newVar('s');
      this.fixed(`const ${x} = ${v};`, 0);
    }
    n.members.forEach((m, i) => {
      this.lit(i > 0 ? ', ' : ' ');
      if (names) this.lit(c.fieldName + bytes(m.name) + c.rst + ' = ');
      this.field(m.node, `${x}[${m.index}]`, names);
    });
    this.lit(' }');
  }

  /**
   * The formatter of one event class of `trace`: `header` is the constant text between the
   * timestamp part and the scopes.
   */
  compile(header: string, plan: StreamPlan, ec: EventClass, startLine: boolean, hot = false): EventFormatter {
    const o = this.opts;
    // A new class gets code shared with classes of the same shape (constants as data): it
    // warms up sooner. A hot class gets its own code with the constants as byte stores.
    this.inlineConst = hot ? 32 : 2;
    const c = this.col;
    this.lines = [];
    this.pending = '';
    this.startSeg();
    this.lit(header);
    let start = startLine;
    const ep = plan.events.get(ec);
    const scopes: Array<[StructPlan | undefined, string, string, boolean]> = [
      [plan.packetContext, 'pc', 'stream.packet.context', o.namesContext],
      [plan.eventContext, 'sc', 'stream.event.context', o.namesContext],
      [ep?.context, 'c', 'event.context', o.namesContext],
      [ep?.payload, 'f', 'event.fields', o.namesPayload],
    ];
    for (const [sp, arg, scopeName, names] of scopes) {
      if (!sp) continue;
      if (!start) this.lit(', ');
      start = false;
      if (o.namesScope) this.lit(c.name + scopeName + c.rst + ' = ');
      // Each scope in its own block: member temporaries do not clash.
      this.boundary('{');
      this.struct(sp, arg, names);
      this.boundary('}');
    }
    this.lit('\n');
    this.endSeg();
    const body =
      '"use strict";\nconst K = H.K, D = H.D, X = H.X, B = H.B;\n' +
      `return function (w, pc, sc, c, f) {\nlet b = w.buf, p = w.pos;\n${this.lines.filter((l) => l !== '').join('\n')}\nw.pos = p;\n};`;
    const helpers: Helpers = {
      K: this.consts,
      B: putBytes,
      D: putDec,
      X: (b, p, v, size) => putHex(b, p, asIntegral(v), size),
      q: (w, v) => w.quoted(asText(v)),
      g: (v) => formatG(Number(v)),
      oct: (v, size, signed) => formatOctal(asIntegral(v), size, signed),
      bin: (v, size) => formatBinary(asIntegral(v), size),
      enums: this.enums.splice(0),
      arr: asArray,
    };
    this.consts = [];
    let factory = FACTORIES.get(body);
    if (factory === undefined) {
      factory = new Function('H', body) as (h: Helpers) => EventFormatter;
      if (FACTORIES.size < 10000) FACTORIES.set(body, factory);
    }
    return factory(helpers);
  }
}
