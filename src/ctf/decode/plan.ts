/**
 * Decode plans: the compiled decoders of one trace class, built lazily (an event class is
 * compiled the first time one of its events is met), plus what the reader needs to know about
 * each stream class (default clock, which packet-context fields exist).
 */
import type { ClockClass, EventClass, FieldClass, FieldRef, StreamClass, TraceClass } from '../ir.js';
import type { FieldValue } from '../event.js';
import {
  type CompileEnv,
  collectClasses,
  collectRefs,
  fixedLayoutBits,
  isIntLike,
  maxAlign,
  refKey,
  topField,
} from './classes.js';
import { streamClock, traceClocks } from './clocks.js';
import { compileScope, compileScopes, type ScopePart } from './compile.js';
import type { DecodeFn } from './state.js';

export interface EventPlan {
  readonly ec: EventClass;
  /** Dense key over the trace set (see `EventRecord.classKey`). */
  readonly key: number;
  /**
   * Decodes stream event context, event context and payload in one call (undefined: all
   * absent); null until `compileBody` compiled it on first use (most events take `split`).
   */
  bodyFn: DecodeFn | undefined | null;
  /** Compiles `bodyFn`. */
  readonly compileBody: () => DecodeFn | undefined;
  /** Output arrays of `bodyFn`, in the order of the scopes present. */
  readonly outs: readonly FieldValue[][];
  /**
   * Decodes the same scopes but materialises only the stream event context (for consumers that
   * need the contexts of every event but the payload of few classes); compiled on first use.
   */
  contextOnlyFn?: DecodeFn | undefined;
  /** Compiles `contextOnlyFn`. */
  readonly compileContextOnly: () => DecodeFn | undefined;
  /** Reused value arrays. */
  readonly streamCtx: FieldValue[] | undefined;
  readonly ctx: FieldValue[] | undefined;
  readonly payload: FieldValue[] | undefined;
  /**
   * The body in two steps, when the stream event context has a fixed byte layout: the context
   * (which readers can compare by bytes with the previous one of the stream and not decode
   * again), then the rest with or without values. Undefined until first asked; null when the
   * layout does not allow it.
   */
  split?: SplitPlan | null;
}

export interface SplitPlan {
  /**
   * Decodes the stream event context, from a position aligned to `ctxAlign` bits (one function
   * per stream class, shared by its event classes).
   */
  readonly ctxFn: DecodeFn;
  readonly ctxBits: number;
  readonly ctxAlign: number;
  /**
   * Event context and payload into `restOuts` (undefined: the class has neither); null until
   * `compileRest` compiled it on first use.
   */
  restFn: DecodeFn | undefined | null;
  /** The same without producing values; null until `compileRestSkip` compiled it. */
  restSkipFn: DecodeFn | undefined | null;
  readonly compileRest: () => DecodeFn | undefined;
  readonly compileRestSkip: () => DecodeFn | undefined;
  /** When the rest has a fixed layout: its size and alignment (bits), else -1 and 1. */
  readonly restBits: number;
  readonly restAlign: number;
  readonly restOuts: FieldValue[][];
}

export interface StreamClassPlan {
  readonly sc: StreamClass;
  /** Compile environment of this stream class (its field references and classes). */
  readonly env: CompileEnv;
  readonly packetContextFn: DecodeFn | undefined;
  readonly eventHeaderFn: DecodeFn | undefined;
  readonly clock: ClockClass | undefined;
  readonly hasTsBegin: boolean;
  readonly hasTsEnd: boolean;
  readonly hasDiscardedEvents: boolean;
  readonly hasSeqNum: boolean;
  /** Event plans by event-class id (compiled on first use). */
  readonly events: Map<number, EventPlan>;
  /** The single event class when the header has no id. */
  readonly onlyEvent: EventClass | undefined;
  /** The stream event context decoder of split plans (compiled on first use). */
  ctxFn?: DecodeFn;
}

export class TracePlan {
  readonly cls: TraceClass;
  readonly file: string;
  /** Clocks including the implicit one when needed. */
  readonly clocks: Map<string, ClockClass>;
  readonly packetHeaderFn: DecodeFn | undefined;
  readonly streams = new Map<number, StreamClassPlan>();
  /** Largest alignment (bits) of any field: windows start at multiples of it. */
  readonly maxAlignBits: number;
  private readonly env: CompileEnv;
  private readonly traceClasses = new Map<string, FieldClass>();
  /** Dense keys of every event class, assigned at construction in declaration order. */
  readonly keys = new Map<EventClass, number>();

  /** `firstKey`: the first dense event-class key this trace may use. */
  constructor(cls: TraceClass, file: string, firstKey: number) {
    this.cls = cls;
    this.file = file;
    let key = firstKey;
    for (const sc of cls.streamClasses.values())
      for (const ec of sc.eventClasses.values()) this.keys.set(ec, key++);

    // Timestamps without a clock map to the trace's only clock or an implicit one (clocks.ts).
    const tc = traceClocks(cls, file);
    this.clocks = tc.clocks;
    const implicitClock = tc.implicitClock;

    // Field references resolve per stream class: two stream classes may both have, say, an
    // event header `id` of different classes, so each gets its own compile environment. Slots
    // of trace-level fields come first and are numbered the same in every environment.
    // Every reference into the packet header, from any scope of any stream class, gets a trace
    // slot: the packet header decoder is shared by all stream classes and must store them all.
    collectClasses('trace.packet.header', cls.packetHeader, this.traceClasses);
    const traceRefs: FieldRef[] = [];
    collectRefs(cls.packetHeader, traceRefs);
    for (const sc of cls.streamClasses.values()) {
      for (const root of [sc.packetContext, sc.eventHeader, sc.eventContext]) collectRefs(root, traceRefs);
      for (const ec of sc.eventClasses.values()) {
        collectRefs(ec.context, traceRefs);
        collectRefs(ec.fields, traceRefs);
      }
    }
    const traceSlots = new Map<string, number>();
    for (const r of traceRefs) {
      if (r.scope !== 'trace.packet.header') continue;
      const k = refKey(r.scope, r.path);
      if (!traceSlots.has(k)) traceSlots.set(k, traceSlots.size);
    }
    let align = maxAlign(cls.packetHeader);
    this.env = { slots: traceSlots, classes: this.traceClasses, clocks: this.clocks, implicitClock };
    const scEnvs = new Map<number, CompileEnv>();
    for (const sc of cls.streamClasses.values()) {
      const classes = new Map(this.traceClasses);
      collectClasses('stream.packet.context', sc.packetContext, classes);
      collectClasses('stream.event.header', sc.eventHeader, classes);
      collectClasses('stream.event.context', sc.eventContext, classes);
      const refs: FieldRef[] = [];
      collectRefs(sc.packetContext, refs);
      collectRefs(sc.eventHeader, refs);
      collectRefs(sc.eventContext, refs);
      align = Math.max(
        align,
        maxAlign(sc.packetContext),
        maxAlign(sc.eventHeader),
        maxAlign(sc.eventContext),
      );
      for (const ec of sc.eventClasses.values()) {
        collectRefs(ec.context, refs);
        collectRefs(ec.fields, refs);
        align = Math.max(align, maxAlign(ec.context), maxAlign(ec.fields));
      }
      const slots = new Map(traceSlots);
      for (const r of refs) {
        const k = refKey(r.scope, r.path);
        if (!slots.has(k)) slots.set(k, slots.size);
      }
      scEnvs.set(sc.id, { slots, classes, clocks: this.clocks, implicitClock });
    }
    this.maxAlignBits = Math.max(64, align);
    this.packetHeaderFn = cls.packetHeader
      ? compileScope(cls.packetHeader, 'trace.packet.header', this.env, true)
      : undefined;

    for (const sc of cls.streamClasses.values()) {
      const clock = streamClock(sc, tc, file);
      const pc = sc.packetContext;
      const env = scEnvs.get(sc.id)!;
      this.streams.set(sc.id, {
        sc,
        env,
        packetContextFn: pc ? compileScope(pc, 'stream.packet.context', env, true) : undefined,
        eventHeaderFn: sc.eventHeader
          ? compileScope(sc.eventHeader, 'stream.event.header', env, false)
          : undefined,
        clock,
        hasTsBegin: isIntLike(topField(pc, 'timestamp_begin')),
        hasTsEnd: isIntLike(topField(pc, 'timestamp_end')),
        hasDiscardedEvents: isIntLike(topField(pc, 'events_discarded')),
        hasSeqNum: isIntLike(topField(pc, 'packet_seq_num')),
        events: new Map(),
        onlyEvent: sc.eventClasses.size === 1 ? [...sc.eventClasses.values()][0] : undefined,
      });
    }
  }

  /** The plan of event class `id` of a stream class, compiled on first use. */
  eventPlan(sp: StreamClassPlan, id: number): EventPlan | undefined {
    const have = sp.events.get(id);
    if (have !== undefined) return have;
    const ec = sp.sc.eventClasses.get(id);
    if (ec === undefined) return undefined;
    // Event-level fields are referenceable from this class only: extend the class table.
    const classes = new Map(sp.env.classes);
    collectClasses('event.context', ec.context, classes);
    collectClasses('event.fields', ec.fields, classes);
    const env: CompileEnv = { ...sp.env, classes };
    const sec = sp.sc.eventContext;
    const streamCtx = sec ? new Array<FieldValue>(sec.fields.length) : undefined;
    const ctx = ec.context ? new Array<FieldValue>(ec.context.fields.length) : undefined;
    const payload = ec.fields ? new Array<FieldValue>(ec.fields.fields.length) : undefined;
    const parts: ScopePart[] = [];
    const outs: FieldValue[][] = [];
    if (sec && streamCtx) {
      parts.push({ root: sec, scope: 'stream.event.context' });
      outs.push(streamCtx);
    }
    if (ec.context && ctx) {
      parts.push({ root: ec.context, scope: 'event.context' });
      outs.push(ctx);
    }
    if (ec.fields && payload) {
      parts.push({ root: ec.fields, scope: 'event.fields' });
      outs.push(payload);
    }
    const plan: EventPlan = {
      ec,
      key: this.keys.get(ec)!,
      bodyFn: null,
      compileBody: () => (plan.bodyFn = parts.length > 0 ? compileScopes(parts, env, true) : undefined),
      compileContextOnly: () =>
        parts.length === 0
          ? undefined
          : compileScopes(
              parts.map((p) => ({ ...p, withValues: p.scope === 'stream.event.context' })),
              env,
              true,
            ),
      outs,
      streamCtx,
      ctx,
      payload,
    };
    sp.events.set(id, plan);
    return plan;
  }

  /** The two-step body of an event plan (see `EventPlan.split`), compiled on first use. */
  splitPlan(sp: StreamClassPlan, plan: EventPlan): SplitPlan | null {
    if (plan.split !== undefined) return plan.split;
    const sec = sp.sc.eventContext;
    let split: SplitPlan | null = null;
    const bits = sec === undefined ? -1 : fixedLayoutBits(sec);
    if (
      sec !== undefined &&
      bits > 0 &&
      bits % 8 === 0 &&
      sec.align % 8 === 0 &&
      plan.streamCtx !== undefined
    ) {
      const ec = plan.ec;
      const classes = new Map(sp.env.classes);
      collectClasses('event.context', ec.context, classes);
      collectClasses('event.fields', ec.fields, classes);
      const env: CompileEnv = { ...sp.env, classes };
      const parts: ScopePart[] = [];
      const restOuts: FieldValue[][] = [];
      if (ec.context && plan.ctx) {
        parts.push({ root: ec.context, scope: 'event.context' });
        restOuts.push(plan.ctx);
      }
      if (ec.fields && plan.payload) {
        parts.push({ root: ec.fields, scope: 'event.fields' });
        restOuts.push(plan.payload);
      }
      // A payload alone (no event context) of fixed layout is skipped by its size.
      const only = parts.length === 1 && parts[0]!.scope === 'event.fields' ? parts[0]!.root : undefined;
      const restBits = only === undefined ? -1 : fixedLayoutBits(only);
      const s: SplitPlan = {
        ctxFn: (sp.ctxFn ??= compileScope(sec, 'stream.event.context', sp.env, true)),
        ctxBits: bits,
        ctxAlign: sec.align,
        restFn: parts.length > 0 ? null : undefined,
        restSkipFn: parts.length > 0 ? null : undefined,
        compileRest: () => (s.restFn = compileScopes(parts, env, true)),
        compileRestSkip: () => (s.restSkipFn = compileScopes(parts, env, false)),
        restBits: parts.length === 0 ? 0 : restBits,
        restAlign: only?.align ?? 1,
        restOuts,
      };
      split = s;
    }
    plan.split = split;
    return split;
  }
}
