/**
 * The period engine of lttng-analyses 0.6.1 (`core/period.py`): named period definitions in a
 * tree (a child period can only exist inside a period of its parent's definition), each with a
 * begin and an end expression over the current event, the period's begin event (`$begin.$evt`)
 * and the parent's (`$parent.$begin.$evt`), and captures. Per event, periods whose end
 * expression matches end (children first; a period ending ends its open children, incomplete),
 * then definitions whose begin expression matches begin (under every open period of the
 * parent's definition, recursively: a child can begin with its parent).
 *
 * Values are compared as Python compares them: an event field is looked up like babeltrace 1's
 * `event[name]` (payload, event context, stream event context, event header, packet context)
 * or in the scope named; integers, floats and strings only equal their own type, a number
 * literal is a float and is truncated to compare with an integer; a missing field never matches.
 *
 * Where Python iterates a set (periods beginning or ending on the same event, sibling
 * definitions), this engine uses definition and opening order.
 */
import type { EventRecord, FieldValue } from '../../ctf/event.js';
import type { FieldClass, StructFC } from '../../ctf/ir.js';
import type { ClassInfo, EventFn } from '../../model/dispatch.js';
import { findField, surrogateEscapeDecode } from '../../model/fields.js';
import { UsageError } from '../../util/errors.js';
import type { PeriodDriver } from '../runner.js';
import type { PeriodRef, PeriodSink } from '../ticks.js';
import type { CapturesArg, DynScope, Expr, Operand, PeriodDefArg, Ref } from './parse.js';
import { parseCaptures, parsePeriodDef } from './parse.js';

/** A Python value: int (number or bigint), float, str, or something else (lists, dicts). */
export type PyVal =
  | { readonly t: 'int'; readonly v: number | bigint }
  | { readonly t: 'float'; readonly v: number }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'other'; readonly repr: string };

export class PeriodDef {
  readonly children: PeriodDef[] = [];
  constructor(
    readonly parent: PeriodDef | undefined,
    readonly name: string | undefined,
    readonly begin: Expr,
    readonly end: Expr,
    readonly beginCaptures: ReadonlyMap<string, Ref>,
    readonly endCaptures: ReadonlyMap<string, Ref>,
  ) {}
}

/** lttng-analyses' `PeriodDefinitionRegistry`. */
export class PeriodDefs {
  readonly roots: PeriodDef[] = [];
  readonly named = new Map<string, PeriodDef>();
  private readonly fullPaths = new Map<string, string>();

  get isEmpty(): boolean {
    return this.roots.length === 0 && this.named.size === 0;
  }

  /** `parent/child` path of a named period. */
  fullPath(name: string): string {
    return this.fullPaths.get(name) ?? name;
  }

  add(d: PeriodDefArg, captures: CapturesArg | undefined): PeriodDef {
    if (d.name !== undefined && this.named.has(d.name)) {
      throw new UsageError(`Cannot add period: Cannot redefine period "${d.name}"`);
    }
    let parent: PeriodDef | undefined;
    if (d.parent !== undefined) {
      parent = this.named.get(d.parent);
      if (parent === undefined) {
        throw new UsageError(
          `Cannot add period: Cannot find parent period named "${d.parent}" (as parent of period "${d.name ?? 'None'}")`,
        );
      }
    }
    const def = new PeriodDef(
      parent,
      d.name,
      d.begin,
      d.end,
      captures?.begin ?? new Map(),
      captures?.end ?? new Map(),
    );
    validate(def, def.begin);
    validate(def, def.end);
    if (parent !== undefined) parent.children.push(def);
    else this.roots.push(def);
    if (def.name !== undefined) {
      this.named.set(def.name, def);
      const path: string[] = [def.name];
      for (let p = parent; p !== undefined; p = p.parent) path.push(p.name ?? 'None');
      this.fullPaths.set(def.name, path.reverse().join('/'));
    }
    return def;
  }

  /** Parses `--period` and `--period-captures` arguments (captures first, as lttng-analyses). */
  static fromArgs(periods: readonly string[], captures: readonly string[] = []): PeriodDefs {
    const reg = new PeriodDefs();
    const caps = new Map<string, CapturesArg>();
    for (const c of captures) {
      const r = parseCaptures(c);
      if (caps.has(r.name))
        throw new UsageError(`Duplicate period name "${r.name}" in --period-captures argument`);
      caps.set(r.name, r);
    }
    for (const p of periods) {
      const d = parsePeriodDef(p);
      reg.add(d, d.name === undefined ? undefined : caps.get(d.name));
    }
    for (const name of caps.keys()) {
      if (!reg.named.has(name))
        throw new UsageError(`Cannot find period named "${name}" for --period-captures argument`);
    }
    return reg;
  }
}

function validate(def: PeriodDef, e: Expr): void {
  switch (e.k) {
    case 'and':
    case 'or':
      validate(def, e.l);
      validate(def, e.r);
      return;
    case 'not':
      validate(def, e.e);
      return;
    case 'cmp':
      for (const o of [e.l, e.r]) {
        if (o.k === 'ref' && o.ctx === 'parent') {
          if (def.parent === undefined) {
            throw new UsageError(
              'Illegal period definition expression: Cannot refer to parent context without a named parent period',
            );
          }
          if (o.parentNoBegin === true) {
            throw new UsageError(
              'Illegal period definition expression: Must refer to the begin context in a parent context',
            );
          }
        }
      }
  }
}

// --- values ------------------------------------------------------------------------------------

const SCOPE_OF: Record<Exclude<DynScope, 'auto'>, number> = {
  $payload: 0,
  $ctx: 1,
  $stream_ctx: 2,
  $header: 3,
  $pkt_ctx: 4,
  $pkt_header: 5,
};

/** Python's repr of a value of a field class (for captures of lists and dicts). */
function toPy(fc: FieldClass | undefined, v: FieldValue | undefined): PyVal | undefined {
  if (v === undefined || fc === undefined) return undefined;
  switch (fc.kind) {
    case 'int': {
      const n = v as number | bigint;
      const safe = typeof n === 'bigint' && n >= -(2n ** 53n) && n <= 2n ** 53n;
      return { t: 'int', v: safe ? Number(n) : n };
    }
    case 'float':
      return { t: 'float', v: v as number };
    case 'enum': {
      const n = typeof v === 'bigint' ? v : BigInt(v as number);
      for (const m of fc.mappings)
        for (const [lo, hi] of m.ranges) if (n >= lo && n <= hi) return { t: 'str', v: m.label };
      return undefined;
    }
    case 'string':
      return { t: 'str', v: surrogateEscapeDecode(v as string) };
    case 'array':
    case 'sequence':
      if (typeof v === 'string') return { t: 'str', v: surrogateEscapeDecode(v) };
      return {
        t: 'other',
        repr: '[' + (v as FieldValue[]).map((x) => reprOf(toPy(fc.element, x))).join(', ') + ']',
      };
    case 'struct':
      return {
        t: 'other',
        repr:
          '{' +
          fc.fields
            .map((f, i) => `'${f.name.replace(/^_/, '')}': ${reprOf(toPy(f.type, (v as FieldValue[])[i]))}`)
            .join(', ') +
          '}',
      };
    default:
      return { t: 'other', repr: 'None' };
  }
}

/** Python's `repr` of a value (None when undefined). */
export function reprOf(v: PyVal | undefined): string {
  if (v === undefined) return 'None';
  switch (v.t) {
    case 'int':
      return String(v.v);
    case 'float':
      return pyFloat(v.v);
    case 'str':
      return pyStr(v.v);
    default:
      return v.repr;
  }
}

function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const s = String(x);
  return s.includes('e') ? s.replace(/e([+-])(\d)$/, 'e$10$2') : s;
}

function pyStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else {
      const c = ch.codePointAt(0)!;
      out += c < 0x20 || c === 0x7f ? '\\x' + c.toString(16).padStart(2, '0') : ch;
    }
  }
  return out + q;
}

type Reader = (ev: EventRecord) => PyVal | undefined;

function scopeStruct(ev: EventRecord, i: number): StructFC | undefined {
  const sc = ev.stream.streamClass;
  switch (i) {
    case 0:
      return ev.eventClass.fields;
    case 1:
      return ev.eventClass.context;
    case 2:
      return sc.eventContext;
    case 3:
      return sc.eventHeader;
    case 4:
      return sc.packetContext;
    default:
      return ev.stream.trace.cls.packetHeader;
  }
}

function scopeValues(ev: EventRecord, i: number): FieldValue[] | undefined {
  switch (i) {
    case 0:
      return ev.payload;
    case 1:
      return ev.context;
    case 2:
      return ev.streamContext;
    case 3:
      return ev.header;
    case 4:
      return ev.packet.context;
    default:
      return ev.packet.header;
  }
}

/** Field readers per event class (key) and reference (`name@scope`). */
class Readers {
  private readonly cache = new Map<string, Reader>();

  reader(ev: EventRecord, field: string, scope: DynScope): Reader {
    const key = `${ev.classKey}\u0000${field}\u0000${scope}`;
    let r = this.cache.get(key);
    if (r === undefined) {
      r = this.make(ev, field, scope);
      this.cache.set(key, r);
    }
    return r;
  }

  private make(ev: EventRecord, field: string, scope: DynScope): Reader {
    const order = scope === 'auto' ? [0, 1, 2, 3, 4, 5] : [SCOPE_OF[scope]];
    for (const s of order) {
      const st = scopeStruct(ev, s);
      const i = findField(st, field);
      if (i >= 0) {
        const fc = st!.fields[i]!.type;
        return (e) => toPy(fc, scopeValues(e, s)?.[i]);
      }
    }
    return () => undefined;
  }
}

/** What an open period keeps of its begin event: its name and the fields referenced later. */
class EventSnapshot {
  constructor(
    readonly name: string,
    readonly values: ReadonlyMap<string, PyVal | undefined>,
  ) {}
}

export class Period implements PeriodRef {
  readonly children: Period[] = [];
  endCaptures = new Map<string, PyVal | undefined>();
  completed = false;
  constructor(
    readonly def: PeriodDef,
    readonly parent: Period | undefined,
    readonly begin: number,
    readonly beginEvt: EventSnapshot,
    readonly beginCaptures: Map<string, PyVal | undefined>,
  ) {}

  get name(): string | undefined {
    return this.def.name;
  }
}

interface MatchCtx {
  readonly ev: EventRecord;
  /** Undefined: the current event is the begin event. */
  readonly begin: EventSnapshot | undefined;
  readonly parent: EventSnapshot | undefined;
}

function refKey(r: Ref): string {
  return `${r.field ?? '$name'}\u0000${r.scope}`;
}

function globRegExp(pattern: string): RegExp {
  // Python's fnmatch.translate: *, ?, [seq], [!seq]; anchored at both ends.
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) re += '\\[';
      else {
        let stuff = pattern.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (stuff.startsWith('!')) stuff = '^' + stuff.slice(1);
        else if (stuff.startsWith('^')) stuff = '\\' + stuff;
        re += `[${stuff}]`;
        i = j;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^(?:${re})$`, 'u');
}

/** The engine. */
export class PeriodEngine {
  private readonly readers = new Readers();
  private readonly roots: Period[] = [];
  /** Fields any `$begin`/`$parent` reference or capture reads from a begin event. */
  private readonly snapFields: Ref[] = [];
  private readonly globs = new Map<string, RegExp>();

  constructor(
    readonly defs: PeriodDefs,
    private readonly onBegin: (p: Period) => void,
    private readonly onEnd: (p: Period, end: number) => void,
  ) {
    const seen = new Set<string>();
    const walkOp = (o: Operand): void => {
      if (o.k === 'ref' && o.ctx !== 'evt' && o.field !== undefined && !seen.has(refKey(o))) {
        seen.add(refKey(o));
        this.snapFields.push(o);
      }
    };
    const walk = (e: Expr): void => {
      if (e.k === 'cmp') {
        walkOp(e.l);
        walkOp(e.r);
      } else if (e.k === 'not') walk(e.e);
      else {
        walk(e.l);
        walk(e.r);
      }
    };
    const all = (d: PeriodDef): void => {
      walk(d.begin);
      walk(d.end);
      for (const r of [...d.beginCaptures.values(), ...d.endCaptures.values()]) walkOp(r);
      d.children.forEach(all);
    };
    defs.roots.forEach(all);
  }

  private snapshot(ev: EventRecord): EventSnapshot {
    const values = new Map<string, PyVal | undefined>();
    for (const r of this.snapFields) values.set(refKey(r), this.readers.reader(ev, r.field!, r.scope)(ev));
    return new EventSnapshot(ev.eventClass.name, values);
  }

  private resolve(o: Operand, c: MatchCtx): PyVal | undefined {
    if (o.k === 'num') return { t: 'float', v: o.v };
    if (o.k === 'str') return { t: 'str', v: o.v };
    if (o.ctx === 'evt' || (o.ctx === 'begin' && c.begin === undefined)) {
      if (o.field === undefined) return { t: 'str', v: c.ev.eventClass.name };
      return this.readers.reader(c.ev, o.field, o.scope)(c.ev);
    }
    const snap = o.ctx === 'begin' ? c.begin : c.parent;
    if (snap === undefined) return undefined;
    if (o.field === undefined) return { t: 'str', v: snap.name };
    return snap.values.get(refKey(o));
  }

  private matches(e: Expr, c: MatchCtx): boolean {
    switch (e.k) {
      case 'and':
        return this.matches(e.l, c) && this.matches(e.r, c);
      case 'or':
        return this.matches(e.l, c) || this.matches(e.r, c);
      case 'not':
        return !this.matches(e.e, c);
      default:
        break;
    }
    const l = this.resolve(e.l, c);
    let r = this.resolve(e.r, c);
    if (l === undefined || r === undefined) return false;
    if (l.t === 'int' && r.t === 'float') {
      const x = r.v;
      if (!Number.isFinite(x)) return false;
      r = { t: 'int', v: Math.abs(x) > Number.MAX_SAFE_INTEGER ? BigInt(Math.trunc(x)) : Math.trunc(x) };
    }
    if (l.t !== r.t || l.t === 'other') return false;
    const a = l.v as number | bigint | string;
    const b = (r as { v: number | bigint | string }).v;
    switch (e.op) {
      case 'glob': {
        if (typeof a !== 'string' || typeof b !== 'string') return false;
        let re = this.globs.get(b);
        if (re === undefined) {
          re = globRegExp(b);
          this.globs.set(b, re);
        }
        return re.test(a);
      }
      case 'eq':
        return a == b;
      case 'lt':
        return a < b;
      case 'le':
        return a <= b;
      case 'gt':
        return a > b;
      default:
        return a >= b;
    }
  }

  private captures(refs: ReadonlyMap<string, Ref>, c: MatchCtx): Map<string, PyVal | undefined> {
    const out = new Map<string, PyVal | undefined>();
    for (const [name, r] of refs) out.set(name, this.resolve(r, c));
    return out;
  }

  /** One event of the analysed period. */
  process(ev: EventRecord): void {
    this.removeMatching(this.roots, ev);
    this.addMatching(undefined, this.roots, this.defs.roots, ev);
  }

  private removeMatching(periods: Period[], ev: EventRecord): void {
    for (const p of periods) this.removeMatching(p.children, ev);
    const ending: Period[] = [];
    for (const p of periods) {
      const c: MatchCtx = { ev, begin: p.beginEvt, parent: p.parent?.beginEvt };
      if (this.matches(p.def.end, c)) {
        p.endCaptures = this.captures(p.def.endCaptures, c);
        ending.push(p);
      }
    }
    for (const p of ending) {
      p.completed = true;
      this.removeAll(p.children, ev.ts);
      this.onEnd(p, ev.ts);
      periods.splice(periods.indexOf(p), 1);
    }
  }

  private addMatching(
    parent: Period | undefined,
    periods: Period[],
    defs: readonly PeriodDef[],
    ev: EventRecord,
  ): void {
    const adding: Period[] = [];
    for (const d of defs) {
      const c: MatchCtx = { ev, begin: undefined, parent: parent?.beginEvt };
      if (this.matches(d.begin, c)) {
        const caps = this.captures(d.beginCaptures, c);
        adding.push(new Period(d, parent, ev.ts, this.snapshot(ev), caps));
      }
    }
    for (const p of adding) {
      this.onBegin(p);
      periods.push(p);
    }
    for (const p of periods) this.addMatching(p, p.children, p.def.children, ev);
  }

  private removeAll(periods: Period[], end: number): void {
    for (const p of periods) this.removeAll(p.children, end);
    for (const p of periods) {
      p.completed = false;
      this.onEnd(p, end);
    }
    periods.length = 0;
  }

  /** The end of the run: every open period ends, incomplete. */
  finish(lastTs: number): void {
    this.removeAll(this.roots, lastTs);
  }
}

/** `--period`: the engine over every event of the analysed period (payloads decoded). */
export class EngineDriver implements PeriodDriver {
  private readonly engine: PeriodEngine;

  constructor(defs: PeriodDefs, sinks: readonly PeriodSink[]) {
    this.engine = new PeriodEngine(
      defs,
      (p) => {
        for (const s of sinks) s.openPeriod(p);
      },
      (p, end) => {
        for (const s of sinks) s.closePeriod(p, p.completed, end);
      },
    );
  }

  bind(info: ClassInfo): EventFn {
    void info;
    return (ev) => this.engine.process(ev);
  }

  start(ts: number): void {
    void ts;
  }

  finish(lastTs: number): void {
    this.engine.finish(lastTs);
  }
}

/** `--refresh`: consecutive periods of at least `refresh` ns, each from the event that began it. */
export class RefreshDriver implements PeriodDriver {
  private cur: PeriodRef | undefined;

  constructor(
    private readonly refresh: number,
    private readonly sinks: readonly PeriodSink[],
  ) {}

  private open(ts: number): void {
    this.cur = { begin: ts, name: undefined };
    for (const s of this.sinks) s.openPeriod(this.cur);
  }

  bind(info: ClassInfo): EventFn {
    void info;
    return (ev) => {
      const c = this.cur;
      if (c !== undefined && ev.ts >= c.begin + this.refresh) {
        for (const s of this.sinks) s.closePeriod(c, true, ev.ts);
        this.open(ev.ts);
      }
    };
  }

  needsPayload(): boolean {
    return false;
  }

  start(ts: number): void {
    this.open(ts);
  }

  finish(lastTs: number): void {
    const c = this.cur;
    this.cur = undefined;
    if (c !== undefined) for (const s of this.sinks) s.closePeriod(c, false, lastTs);
  }
}
