/**
 * The babeltrace2-compatible text printer: turns `TraceRecord`s into exactly the lines
 * babeltrace2 2.0.4's `sink.text.pretty` writes (see docs/text-format.md for the rules).
 *
 * Speed: for each (trace, event class) the printer compiles once a JavaScript function that
 * formats the fixed part of the line (header, scope separators, field names, already joined
 * into string constants) and the values (with the formatting of each field's class decided in
 * advance). Lines are appended to one string buffer, handed to the caller in large chunks.
 */
import type { ClockClass, EventClass, StreamClass } from '../ctf/ir.js';
import type {
  DiscardedRecord,
  EventRecord,
  FieldValue,
  StreamInstance,
  TimeBase,
  Trace,
  TraceRecord,
} from '../ctf/event.js';
import { textToByteString } from '../ctf/event.js';
import {
  formatBinary,
  formatG,
  formatHex,
  formatOctal,
  formatUuid,
  pad2,
  pad9,
  quoteString,
} from './format.js';
import type { PrettyOptions } from './options.js';
import { ByteWriter, putBytes, putDec, putHex, putPadded } from './writer.js';
import type { EnumPlan, PlanNode, StreamPlan, StructPlan } from './plan.js';
import { planStreamClass } from './plan.js';

/** Where the printer's text goes. */
export interface PrettySink {
  /**
   * Event lines (standard output), babeltrace2's exact bytes. The printer reuses `chunk` as soon
   * as this returns, or when the returned promise resolves: copy it to keep it.
   */
  out(chunk: Buffer): void | Promise<void>;
  /** Warnings (standard error): a byte string (write it with the `latin1` encoding). */
  err(text: string): void;
}

/** babeltrace2's ANSI codes ("bright" colours are bold + colour in 2.0.4). */
const C = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
  brightRed: '\x1b[1m\x1b[31m',
  brightYellow: '\x1b[1m\x1b[33m',
  brightMagenta: '\x1b[1m\x1b[35m',
};

interface Colors {
  name: string;
  fieldName: string;
  rst: string;
  string: string;
  number: string;
  enumLabel: string;
  unknown: string;
  eventName: string;
  timestamp: string;
}

function colorsOf(on: boolean): Colors {
  if (!on) {
    return {
      name: '',
      fieldName: '',
      rst: '',
      string: '',
      number: '',
      enumLabel: '',
      unknown: '',
      eventName: '',
      timestamp: '',
    };
  }
  return {
    name: C.bold,
    fieldName: C.cyan,
    rst: C.reset,
    string: C.bold,
    number: C.bold,
    enumLabel: C.bold,
    unknown: C.bold + C.brightRed,
    eventName: C.bold + C.brightMagenta,
    timestamp: C.bold + C.brightYellow,
  };
}

const LOG_LEVEL_NAMES = [
  'TRACE_EMERG',
  'TRACE_ALERT',
  'TRACE_CRIT',
  'TRACE_ERR',
  'TRACE_WARNING',
  'TRACE_NOTICE',
  'TRACE_INFO',
  'TRACE_DEBUG_SYSTEM',
  'TRACE_DEBUG_PROGRAM',
  'TRACE_DEBUG_PROCESS',
  'TRACE_DEBUG_MODULE',
  'TRACE_DEBUG_UNIT',
  'TRACE_DEBUG_FUNCTION',
  'TRACE_DEBUG_LINE',
  'TRACE_DEBUG',
];

/** Writes the body of one event: everything after the timestamp/delta part, with the newline. */
type EventFormatter = (
  w: ByteWriter,
  packetContext: FieldValue[] | undefined,
  streamContext: FieldValue[] | undefined,
  context: FieldValue[] | undefined,
  payload: FieldValue[] | undefined,
) => void;

/** Tuning: events of a class after which its formatter is recompiled with constants inlined. */
export const PRETTY_TUNING = { hotEvents: 20000 };
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

/** A string value (a byte string, see `FieldValue`). */
function asText(v: FieldValue): string {
  if (typeof v === 'string') return v;
  // A text array/sequence handed over as bytes: babeltrace2 shows it up to the first NUL.
  if (Array.isArray(v)) {
    let s = '';
    for (const b of v) {
      if (b === 0) break;
      s += String.fromCharCode(Number(b) & 0xff);
    }
    return s;
  }
  return String(v);
}

function asArray(v: FieldValue): FieldValue[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') {
    // The bytes of a text value, shown as integers (not expected from the reader).
    const out: number[] = [];
    for (let i = 0; i < v.length; i++) out.push(v.charCodeAt(i));
    return out;
  }
  return [];
}

/**
 * Text from the metadata or the file system, as a byte string like the field values: the
 * printer's whole output is a byte string, written with the `latin1` encoding.
 */
const bytes = textToByteString;

function asIntegral(v: FieldValue): number | bigint {
  return typeof v === 'number' || typeof v === 'bigint' ? v : Number(v);
}

/**
 * Compiles per-event-class formatters from plans (JavaScript code generation). The generated
 * function writes bytes straight into the writer's buffer with a local position `p`: each run
 * of fixed-size writes (constants, integers) is preceded by one capacity check for the whole
 * run; variable-size writes (strings, floats, labels) go through the writer, which grows it.
 */
class Compiler {
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

/** `( "A", "B" : container = N )`, with a small cache of the label part per value. */
function enumFormatter(n: EnumPlan, c: Colors): (v: FieldValue) => string {
  const fc = n.container;
  const num = (v: number | bigint): string => {
    switch (fc.base) {
      case 16:
        return formatHex(v, fc.size);
      case 8:
        return formatOctal(v, fc.size, fc.signed);
      case 2:
        return formatBinary(v, fc.size);
      default:
        return '' + v;
    }
  };
  const labelsOf = (v: number | bigint): string => {
    const b = BigInt(v);
    let s = '';
    let count = 0;
    for (const m of n.mappings) {
      if (m.ranges.some(([lo, hi]) => lo <= b && b <= hi)) {
        s += (count > 0 ? ', ' : '') + c.enumLabel + quoteString(bytes(m.label)) + c.rst;
        count++;
      }
    }
    return count === 0 ? c.unknown + '<unknown>' + c.rst : s;
  };
  const cache = new Map<number | bigint, string>();
  return (raw: FieldValue): string => {
    const v = asIntegral(raw);
    let r = cache.get(v);
    if (r === undefined) {
      r = '( ' + labelsOf(v) + ' : container = ' + c.number + num(v) + c.rst + ' )';
      if (cache.size < 4096) cache.set(v, r);
    }
    return r;
  };
}

/** Per (trace, stream class) compiled state. */
interface StreamState {
  plan: StreamPlan;
  formatters: Map<EventClass, EventFormatter>;
}

/** Result of comparing: the text before the timestamp part never exists; see `tsPart`. */
export class PrettyPrinter {
  private readonly w: ByteWriter;
  private readonly col: Colors;
  private readonly compiler: Compiler;
  private readonly states = new Map<Trace, Map<StreamClass, StreamState>>();
  /** Compiled formatters by dense class key (checked against the class and stream trace). */
  private readonly byKey: Array<
    { ec: EventClass; fmt: EventFormatter; hasClock: boolean; count: number } | undefined
  > = [];

  // Timestamp state (babeltrace2 keeps -1 as "none yet").
  private lastTs: number | undefined;
  /** Exact absolute time of the previous event when it was beyond the exact range. */
  private lastExact: bigint | undefined;
  private deltaTs: number | bigint | undefined;
  private lastCycles: number | bigint | undefined;
  private deltaCycles: number | bigint | undefined;
  private negativeWarned = false;
  private cacheSec = NaN;
  private cachePrefix = '';
  private cachePrefixBytes: Uint8Array = new Uint8Array(0);
  // Constant pieces around the timestamp and the delta.
  private readonly tsOpen: Uint8Array;
  private readonly tsClose: Uint8Array;
  private readonly deltaOpen: Uint8Array;
  private readonly deltaClose: Uint8Array;

  constructor(
    private readonly opts: PrettyOptions,
    private readonly base: TimeBase,
    private readonly sink: PrettySink,
    /** `--clock-offset`/`--clock-offset-ns` (used for exact times far from the base). */
    private readonly clockOffset: ClockOffset = { seconds: 0, ns: 0 },
    /** Bytes handed to the sink at a time. */
    chunkSize = 1 << 20,
  ) {
    this.col = colorsOf(opts.colors);
    this.compiler = new Compiler(this.col, opts);
    this.w = new ByteWriter(chunkSize);
    const c = this.col;
    const b = (t: string): Uint8Array => Buffer.from(t, 'latin1');
    if (opts.namesHeader) {
      this.tsOpen = b(c.name + 'timestamp' + c.rst + ' = ' + c.timestamp);
      this.tsClose = b(c.rst);
      this.deltaOpen = b(', ' + c.name + 'delta' + c.rst + ' = ');
      this.deltaClose = b('');
    } else {
      this.tsOpen = b('[' + c.timestamp);
      this.tsClose = b(c.rst + '] ');
      this.deltaOpen = b('(');
      this.deltaClose = b(') ');
    }
  }

  /** Prints one record; returns a promise when the sink asks to wait. */
  print(rec: TraceRecord): void | Promise<void> {
    if (rec.kind === 'event') {
      this.event(rec);
      if (this.w.pos >= this.w.chunkSize) return this.flush();
      return undefined;
    }
    const p = this.flush();
    this.sink.err(this.discardedText(rec));
    return p;
  }

  /** Hands the buffered text to the sink; the buffer is reused once the sink is done. */
  flush(): void | Promise<void> {
    if (this.w.pos === 0) return undefined;
    const r = this.sink.out(this.w.view());
    if (r === undefined) {
      this.w.reset();
      return undefined;
    }
    return r.then(() => this.w.reset());
  }

  /** Writes the line of one event into the buffer. */
  event(rec: EventRecord): void {
    let slot = this.byKey[rec.classKey];
    // A class key belongs to one event class of one stream class of one trace: checking the
    // class is enough (the check only guards against records of another trace set).
    if (slot === undefined || slot.ec !== rec.eventClass) {
      slot = {
        ec: rec.eventClass,
        fmt: this.formatter(rec.stream, rec.eventClass, false),
        hasClock: rec.stream.clock !== undefined,
        count: 0,
      };
      // Keep the array dense (a far index on a short array would make it a slow dictionary).
      while (this.byKey.length <= rec.classKey) this.byKey.push(undefined);
      this.byKey[rec.classKey] = slot;
    }
    if (++slot.count === PRETTY_TUNING.hotEvents) slot.fmt = this.formatter(rec.stream, rec.eventClass, true);
    if (slot.hasClock) this.writeTs(rec);
    slot.fmt(this.w, rec.packet.context, rec.streamContext, rec.context, rec.payload);
  }

  private formatter(stream: StreamInstance, ec: EventClass, hot: boolean): EventFormatter {
    let byClass = this.states.get(stream.trace);
    if (!byClass) {
      byClass = new Map();
      this.states.set(stream.trace, byClass);
    }
    let st = byClass.get(stream.streamClass);
    if (!st) {
      st = { plan: planStreamClass(stream.streamClass), formatters: new Map() };
      byClass.set(stream.streamClass, st);
    }
    let f = hot ? undefined : st.formatters.get(ec);
    if (!f) {
      const hasClock = stream.clock !== undefined;
      const [header, startLine] = this.headerText(stream.trace, ec, hasClock);
      f = this.compiler.compile(header, st.plan, ec, startLine, hot);
      st.formatters.set(ec, f);
    }
    return f;
  }

  /**
   * The constant header text after the timestamp part (optional fields, event name) and
   * whether the next scope starts a "line" (babeltrace2's `start_line`, no comma before it).
   */
  private headerText(trace: Trace, ec: EventClass, hasClock: boolean): [string, boolean] {
    const o = this.opts;
    const c = this.col;
    const names = o.namesHeader;
    const nameEq = (n: string): string => c.name + n + c.rst + ' = ';
    let h = '';
    // After a timestamp, babeltrace2 sets start_line to !names; without a clock it stays true.
    const startLine = hasClock ? !names : true;
    let dom = false;
    const env = trace.cls.env;
    if (o.fieldTrace) {
      if (!startLine) h += ', ';
      if (names) h += nameEq('trace');
      h += bytes(trace.name);
      if (names) h += ', ';
    }
    const envString = (key: string): string | undefined => {
      const v = env.get(key);
      return typeof v === 'string' ? bytes(v) : undefined;
    };
    const hostname = envString('hostname');
    if (o.fieldHostname && hostname !== undefined) {
      if (!startLine) h += ', ';
      if (names) h += nameEq('trace:hostname');
      h += hostname;
      dom = true;
    }
    const item = (enabled: boolean, label: string, text: string | undefined): void => {
      if (!enabled || text === undefined) return;
      if (!startLine) h += ', ';
      if (names) h += nameEq(label);
      else if (dom) h += ':';
      h += text;
      dom = true;
    };
    item(o.fieldDomain, 'trace:domain', envString('domain'));
    item(o.fieldProcname, 'trace:procname', envString('procname'));
    const vpid = env.get('vpid');
    item(
      o.fieldVpid,
      'trace:vpid',
      typeof vpid === 'number' || typeof vpid === 'bigint' ? `(${vpid})` : undefined,
    );
    const ll = ec.logLevel;
    item(
      o.fieldLoglevel,
      'loglevel',
      ll !== undefined && ll >= 0 && ll < LOG_LEVEL_NAMES.length
        ? `${LOG_LEVEL_NAMES[ll]} (${ll})`
        : undefined,
    );
    item(o.fieldEmf, 'model.emf.uri', ec.emfUri === undefined ? undefined : bytes(ec.emfUri));
    if (dom && !names) h += ' ';
    if (!startLine) h += ', ';
    if (names) h += nameEq('name');
    h += c.eventName + bytes(ec.name) + c.rst;
    h += names ? ', ' : ': ';
    return [h, true];
  }

  /**
   * `[time] (+delta) ` or `timestamp = time, delta = +d` (names variant). babeltrace2 keeps the
   * previous time and the delta with -1 meaning "none": an event whose time is exactly -1 ns from
   * the origin is taken as "no previous time" (the delta is then left unchanged), and a delta of
   * exactly -1 prints as unknown.
   */
  private writeTs(rec: EventRecord): void {
    const o = this.opts;
    const w = this.w;
    const ts = rec.ts;
    // Fast path: wall-clock time of a non-negative time in the exact range.
    if (!o.clockCycles && ts < SAFE && ts > -SAFE && this.lastExact === undefined) {
      const total = this.base.ns + ts;
      let sec = Math.floor(total / 1e9);
      let ns = total - sec * 1e9;
      if (ns >= 1e9) {
        ns -= 1e9;
        sec += 1;
      }
      sec += this.base.seconds;
      if (sec >= 0) {
        if (sec !== this.cacheSec) this.setCache(sec);
        if (this.lastTs !== undefined) this.deltaTs = ts - this.lastTs;
        this.lastTs = ts;
        if (w.pos + 192 > w.buf.length) w.ensure(192);
        const b = w.buf;
        let p = putBytes(b, w.pos, this.tsOpen);
        p = putBytes(b, p, this.cachePrefixBytes);
        p = putPadded(b, p, ns, 9);
        p = putBytes(b, p, this.tsClose);
        if (o.delta) {
          p = putBytes(b, p, this.deltaOpen);
          const dt = this.deltaTs;
          if (dt === undefined || dt === -1) {
            p = putBytes(b, p, REAL_UNKNOWN);
          } else if (typeof dt === 'number' && dt >= 0) {
            const dsec = Math.floor(dt / 1e9);
            b[p++] = 43;
            p = putDec(b, p, dsec);
            b[p++] = 46;
            p = putPadded(b, p, dt - dsec * 1e9, 9);
          } else {
            const t = formatDelta(dt);
            for (let i = 0; i < t.length; i++) b[p++] = t.charCodeAt(i);
          }
          p = putBytes(b, p, this.deltaClose);
        }
        w.pos = p;
        return;
      }
    }
    w.lit(this.tsOpen);
    if (o.clockCycles) {
      const cyc = rec.cycles;
      if (typeof cyc === 'number' && cyc >= 0 && cyc <= 9007199254740991) w.padded(cyc, 20);
      else w.raw(pad20(cyc));
      w.lit(this.tsClose);
      if (this.lastCycles !== undefined) this.deltaCycles = subU64(cyc, this.lastCycles);
      this.lastCycles = isU64Max(cyc) ? undefined : cyc;
      if (o.delta) {
        w.lit(this.deltaOpen);
        const dc = this.deltaCycles;
        if (dc === undefined || isU64Max(dc)) w.lit(CYCLES_UNKNOWN);
        else if (typeof dc === 'number' && dc < 1e12) {
          w.lit(PLUS);
          w.padded(dc, 12);
        } else w.raw('+' + padN(dc, 12));
        w.lit(this.deltaClose);
      }
      return;
    }
    if (ts < SAFE && ts > -SAFE) {
      this.writeWall(ts);
      if (this.lastTs !== undefined) {
        this.deltaTs =
          this.lastExact === undefined ? ts - this.lastTs : this.baseBig() + BigInt(ts) - this.lastExact;
      }
      this.lastExact = undefined;
      this.lastTs = this.isMinusOneNs(ts) ? undefined : ts;
    } else {
      // Beyond 2^53 ns from the trace set's base the relative time is not exact: use the
      // stream clock's exact value.
      const abs = this.exactNs(ts, rec.cycles, rec.stream.clock);
      w.raw(this.wallTimeExact(abs));
      if (this.lastTs !== undefined) {
        this.deltaTs = abs - (this.lastExact ?? this.baseBig() + BigInt(this.lastTs));
      }
      this.lastExact = abs;
      this.lastTs = abs === -1n ? undefined : ts;
    }
    w.lit(this.tsClose);
    if (o.delta) {
      w.lit(this.deltaOpen);
      const dt = this.deltaTs;
      if (dt === undefined || dt === -1 || dt === -1n) w.lit(REAL_UNKNOWN);
      else if (typeof dt === 'number' && dt >= 0) {
        const sec = Math.floor(dt / 1e9);
        w.lit(PLUS);
        w.dec(sec);
        w.lit(DOT);
        w.padded(dt - sec * 1e9, 9);
      } else w.raw(formatDelta(dt));
      w.lit(this.deltaClose);
    }
  }

  /** Writes the wall-clock time of a relative `ts` (exact below 2^53). */
  private writeWall(ts: number): void {
    const total = this.base.ns + ts;
    let sec = Math.floor(total / 1e9);
    let ns = total - sec * 1e9;
    if (ns >= 1e9) {
      ns -= 1e9;
      sec += 1;
    }
    sec += this.base.seconds;
    if (sec < 0) {
      this.w.raw(this.negativeTime(sec, ns));
      return;
    }
    if (sec !== this.cacheSec) this.setCache(sec);
    this.w.lit(this.cachePrefixBytes);
    this.w.padded(ns, 9);
  }

  private setCache(sec: number): void {
    this.cacheSec = sec;
    this.cachePrefix = this.secondsText(sec);
    this.cachePrefixBytes = Buffer.from(this.cachePrefix, 'latin1');
  }

  private baseBig(): bigint {
    return BigInt(this.base.seconds) * NS + BigInt(this.base.ns);
  }

  /** Whether relative `ts` is exactly -1 ns from the origin. */
  private isMinusOneNs(ts: number): boolean {
    const approx = this.base.seconds * 1e9 + this.base.ns + ts;
    if (approx > 1e6 || approx < -1e6) return false;
    return this.baseBig() + BigInt(ts) === -1n;
  }

  /**
   * Exact ns from the origin of a clock value, computed like babeltrace2: the clock offset
   * (seconds, then cycles, normalised, plus `--clock-offset`/`--clock-offset-ns` applied to the
   * clock class) plus the value, cycles converted with double arithmetic for non-GHz clocks.
   * Falls back to the relative time when the stream has no clock.
   */
  private exactNs(ts: number, cycles: number | bigint | undefined, clock: ClockClass | undefined): bigint {
    if (clock === undefined || cycles === undefined) return this.baseBig() + BigInt(Math.round(ts));
    return clockOffsetNs(clock, this.clockOffset) + cyclesToNs(cycles, clock.freq);
  }

  /** babeltrace2's wall-clock time text of a relative `ts` (exact below 2^53). */
  wallTime(ts: number): string {
    const total = this.base.ns + ts;
    let sec = Math.floor(total / 1e9);
    let ns = total - sec * 1e9;
    if (ns >= 1e9) {
      ns -= 1e9;
      sec += 1;
    }
    sec += this.base.seconds;
    if (sec < 0) return this.negativeTime(sec, ns);
    if (sec !== this.cacheSec) this.setCache(sec);
    return this.cachePrefix + pad9(ns);
  }

  /** Same for an exact absolute time. */
  private wallTimeExact(abs: bigint): string {
    let sec = abs / NS;
    let ns = abs - sec * NS;
    if (ns < 0n) {
      ns += NS;
      sec -= 1n;
    }
    const s = Number(sec);
    if (s < 0) return this.negativeTime(s, Number(ns));
    if (s !== this.cacheSec) this.setCache(s);
    return this.cachePrefix + pad9(Number(ns));
  }

  /** Time text of a discarded-items bound. */
  private boundTime(ts: number, cycles: number | undefined, clock: ClockClass | undefined): string {
    if (ts < SAFE && ts > -SAFE) return this.wallTime(ts);
    return this.wallTimeExact(this.exactNs(ts, cycles, clock));
  }

  private secondsText(sec: number): string {
    const o = this.opts;
    if (o.clockSeconds) return sec + '.';
    const d = new Date(sec * 1000);
    let s = '';
    if (o.clockGmt) {
      if (o.clockDate)
        s = d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate()) + ' ';
      return s + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds()) + '.';
    }
    if (o.clockDate) s = d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ';
    return s + pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds()) + '.';
  }

  /**
   * Negative times: babeltrace2 warns once and prints `-SEC.NS`; after the warning it formats
   * the absolute value as a time of day (a babeltrace2 quirk kept for identical output).
   */
  private negativeTime(sec: number, ns: number): string {
    // Absolute value of sec + ns/1e9 with sec < 0, 0 <= ns < 1e9.
    let asec = -sec;
    let ans = 0;
    if (ns > 0) {
      asec -= 1;
      ans = 1e9 - ns;
    }
    if (this.opts.clockSeconds) return '-' + asec + '.' + pad9(ans);
    if (!this.negativeWarned) {
      this.negativeWarned = true;
      this.sink.err('[warning] Fallback to [sec.ns] to print negative time value. Use --clock-seconds.\n');
      return '-' + asec + '.' + pad9(ans);
    }
    this.cacheSec = NaN;
    return this.secondsText(asec) + pad9(ans);
  }

  /** The warning line babeltrace2 writes to standard error for a discarded-items record. */
  discardedText(rec: DiscardedRecord): string {
    const w = this.opts.warningColors;
    const yellow = w ? C.yellow : '';
    const bold = w ? C.bold : '';
    const reset = w ? C.reset : '';
    const count = rec.count as number | undefined;
    const unknown = count === undefined || count < 0;
    const what = rec.kind === 'discarded-events' ? 'event' : 'packet';
    let s = `${yellow}${bold}WARNING${reset}${yellow}: ${unknown ? 'Tracer may have discarded' : 'Tracer discarded'} `;
    s += unknown ? `${what}s` : `${count} ${what}${count === 1 ? '' : 's'}`;
    s += ' ';
    if (rec.beginTs !== undefined && rec.endTs !== undefined) {
      const clock = rec.stream.clock;
      s +=
        'between [' +
        this.boundTime(rec.beginTs, rec.beginCycles, clock) +
        '] and [' +
        this.boundTime(rec.endTs, rec.endCycles, clock) +
        ']';
    } else {
      s += '(unknown time range)';
    }
    const trace = rec.stream.trace;
    s += ` in trace "${bytes(trace.name)}" `;
    s += trace.cls.uuid ? `(UUID: ${formatUuid(trace.cls.uuid)}) ` : '(no UUID) ';
    const streamName = bytes(rec.stream.files[0] ?? '(unknown)');
    s += `within stream "${streamName}" (stream class ID: ${rec.stream.streamClass.id}, `;
    s += `stream ID: ${rec.stream.id}`;
    s += `).${reset}\n`;
    return s;
  }
}

function formatDelta(d: number | bigint): string {
  if (typeof d === 'bigint' || d < 0) {
    // babeltrace2 stores the delta in an unsigned 64-bit integer.
    const u = BigInt.asUintN(64, BigInt(d));
    return '+' + (u / NS).toString() + '.' + pad9(Number(u % NS));
  }
  const sec = Math.floor(d / 1e9);
  return '+' + sec + '.' + pad9(d - sec * 1e9);
}

const NS = 1_000_000_000n;
const PLUS = Buffer.from('+');
const DOT = Buffer.from('.');
const REAL_UNKNOWN = Buffer.from('+?.?????????');
const CYCLES_UNKNOWN = Buffer.from('+????????????');
/** Relative times with an absolute value below this are exact doubles. */
const SAFE = 2 ** 53;

/** `--clock-offset` (seconds) and `--clock-offset-ns`, as given. */
export interface ClockOffset {
  readonly seconds: number;
  readonly ns: number;
}

/** babeltrace2's ns conversion of a cycle count (exact for 1 GHz, double arithmetic else). */
function cyclesToNs(cycles: number | bigint, freq: number): bigint {
  if (freq === 1e9) return BigInt(cycles);
  return BigInt(Math.trunc((1e9 * Number(cycles)) / freq));
}

/** ns to cycles like babeltrace2's `bt_util_ns_to_cycles`. */
function nsToCycles(ns: number, freq: number): number {
  return freq === 1e9 ? ns : Math.trunc((ns * freq) / 1e9);
}

/**
 * Offset from the origin of `clock` in ns, with babeltrace2's normalisation and its way of
 * applying `--clock-offset`/`--clock-offset-ns` to the clock class (ns part turned into cycles).
 */
export function clockOffsetNs(clock: ClockClass, user: ClockOffset): bigint {
  const freq = clock.freq;
  let s = Math.trunc(clock.offsetSeconds);
  let cyc = clock.offsetCycles;
  if (user.seconds !== 0 || user.ns !== 0) {
    let extraS: number;
    let extraNs: number;
    if (user.ns < 0) {
      extraS = -(Math.trunc(-user.ns / 1e9) + 1);
      extraNs = user.ns - extraS * 1e9;
    } else {
      extraS = Math.trunc(user.ns / 1e9);
      extraNs = user.ns - extraS * 1e9;
    }
    s += user.seconds + extraS;
    cyc += nsToCycles(extraNs, freq);
  }
  if (cyc >= freq) {
    const whole = Math.floor(cyc / freq);
    s += whole;
    cyc -= whole * freq;
  }
  return BigInt(s) * NS + cyclesToNs(cyc, freq);
}

function pad20(v: number | bigint): string {
  return padN(typeof v === 'number' && v < 0 ? BigInt.asUintN(64, BigInt(v)) : v, 20);
}

function padN(v: number | bigint, n: number): string {
  const s = '' + v;
  return s.length >= n ? s : '0'.repeat(n - s.length) + s;
}

function isU64Max(v: number | bigint): boolean {
  return typeof v === 'bigint' && v === 0xffff_ffff_ffff_ffffn;
}

function subU64(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number' && a >= b) return a - b;
  return BigInt.asUintN(64, BigInt(a) - BigInt(b));
}
