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
 * or in the scope named (src/analyses/periods/values.ts); integers, floats and strings only equal their own type, a number
 * literal is a float and is truncated to compare with an integer; a missing field never matches.
 *
 * Where Python iterates a set (periods beginning or ending on the same event, sibling
 * definitions), this engine uses definition and opening order.
 */
import type { EventRecord } from '../../ctf/event.js';
import type { ClassInfo, EventFn } from '../../model/dispatch.js';
import { UsageError } from '../../util/errors.js';
import type { PeriodDriver } from '../runner.js';
import type { PeriodRef, PeriodSink } from '../ticks.js';
import type { CapturesArg, CmpOp, Expr, Operand, PeriodDefArg, Ref } from './parse.js';
import { parseCaptures, parsePeriodDef } from './parse.js';
import type { PyVal } from './values.js';
import { Readers } from './values.js';

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

/**
 * An operand's value for every event of the class `name` when it does not depend on the event's
 * values (literals, the current event's name), as `resolve` gives it; null otherwise.
 */
function staticOperand(o: Operand, name: string, inBegin: boolean): PyVal | null {
  if (o.k === 'num') return { t: 'float', v: o.v };
  if (o.k === 'str') return { t: 'str', v: o.v };
  if (o.field === undefined && (o.ctx === 'evt' || (o.ctx === 'begin' && inBegin)))
    return { t: 'str', v: name };
  return null;
}

/** Whether `resolve` reads a field of the current event for this operand. */
function readsCurrent(o: Operand, inBegin: boolean): boolean {
  return o.k === 'ref' && o.field !== undefined && (o.ctx === 'evt' || (o.ctx === 'begin' && inBegin));
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
    return this.compare(e.op, this.resolve(e.l, c), this.resolve(e.r, c));
  }

  /** A comparison of two resolved operands, as Python compares them (see the file's comment). */
  private compare(op: CmpOp, l: PyVal | undefined, r: PyVal | undefined): boolean {
    if (l === undefined || r === undefined) return false;
    if (l.t === 'int' && r.t === 'float') {
      const x = r.v;
      if (!Number.isFinite(x)) return false;
      r = { t: 'int', v: Math.abs(x) > Number.MAX_SAFE_INTEGER ? BigInt(Math.trunc(x)) : Math.trunc(x) };
    }
    if (l.t !== r.t || l.t === 'other') return false;
    const a = l.v as number | bigint | string;
    const b = (r as { v: number | bigint | string }).v;
    switch (op) {
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

  /**
   * What an expression is for every event of the class `name`, known before any event: true or
   * false when its value follows from the event name and literals alone (what `matches` gives
   * for each such event), undefined when it depends on values; with whether it may read a field
   * of the current event (`inBegin`: a begin expression, where `$begin.$evt` is the current
   * event). `and` and `or` are folded as they evaluate, and a constant side decides them whatever
   * the other gives (reading values changes nothing).
   */
  private fold(e: Expr, name: string, inBegin: boolean): { c: boolean | undefined; reads: boolean } {
    switch (e.k) {
      case 'and':
      case 'or': {
        const l = this.fold(e.l, name, inBegin);
        const r = this.fold(e.r, name, inBegin);
        const decisive = e.k === 'or';
        if (l.c === decisive || r.c === decisive) return { c: decisive, reads: false };
        if (l.c !== undefined) return r;
        if (r.c !== undefined) return l;
        return { c: undefined, reads: l.reads || r.reads };
      }
      case 'not': {
        const x = this.fold(e.e, name, inBegin);
        return { c: x.c === undefined ? undefined : !x.c, reads: x.reads };
      }
      default: {
        const l = staticOperand(e.l, name, inBegin);
        const r = staticOperand(e.r, name, inBegin);
        if (l !== null && r !== null) return { c: this.compare(e.op, l, r), reads: false };
        return { c: undefined, reads: readsCurrent(e.l, inBegin) || readsCurrent(e.r, inBegin) };
      }
    }
  }

  /**
   * For the events of the class `name`: whether any period can begin or end on them (`process`
   * does nothing for the others), and whether doing so may read their fields (expressions,
   * captures, the begin event's snapshot) rather than only their name.
   */
  classNeeds(name: string): { bound: boolean; payload: boolean } {
    let bound = false;
    let payload = false;
    const visit = (d: PeriodDef): void => {
      const b = this.fold(d.begin, name, true);
      if (b.c !== false) {
        bound = true;
        if (b.reads || this.snapFields.length > 0) payload = true;
        for (const r of d.beginCaptures.values()) if (readsCurrent(r, true)) payload = true;
      }
      const e = this.fold(d.end, name, false);
      if (e.c !== false) {
        bound = true;
        if (e.reads) payload = true;
        for (const r of d.endCaptures.values()) if (readsCurrent(r, false)) payload = true;
      }
      d.children.forEach(visit);
    };
    this.defs.roots.forEach(visit);
    return { bound, payload };
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

/**
 * `--period`: the engine over the events of the analysed period that can begin or end a period,
 * their payloads decoded when an expression, a capture or a begin snapshot may read them.
 */
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

  private readonly needs = new Map<ClassInfo['eventClass'], { bound: boolean; payload: boolean }>();

  private needsOf(info: ClassInfo): { bound: boolean; payload: boolean } {
    let n = this.needs.get(info.eventClass);
    if (n === undefined) {
      n = this.engine.classNeeds(info.name);
      this.needs.set(info.eventClass, n);
    }
    return n;
  }

  /** Only the classes whose events can begin or end a period (the others change nothing). */
  bind(info: ClassInfo): EventFn | undefined {
    if (!this.needsOf(info).bound) return undefined;
    return (ev) => this.engine.process(ev);
  }

  needsPayload(info: ClassInfo): boolean {
    return this.needsOf(info).payload;
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
