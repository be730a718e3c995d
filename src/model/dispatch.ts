/**
 * Event dispatch by event-class id.
 *
 * Subscribers (the model's trackers, then the analyses) say once per event class whether they
 * want it, by returning a callback bound to that class (field indices resolved then). The
 * dispatcher keeps an array indexed by the record's dense event-class key (unique over the trace
 * set) holding the composed callback (or `null`), so the per-event cost is an array load and a
 * call; names are only compared when a class is first met.
 */
import type { EventRecord, StreamInstance, Trace } from '../ctf/event.js';
import type { EventClass, StreamClass } from '../ctf/ir.js';

/** What a subscriber sees of an event class when binding to it. */
export interface ClassInfo {
  readonly trace: Trace;
  /** Binding must depend only on the classes: it is shared by every stream of the class. */
  readonly streamClass: StreamClass;
  readonly eventClass: EventClass;
  /** Event name (`sched_switch`, `syscall_entry_open`, `provider:event` for UST). */
  readonly name: string;
}

export type EventFn = (ev: EventRecord) => void;

/**
 * A condition under which a subscriber is idle on the same context (see
 * `Subscriber.idleOnSameContext`) that changes during the read: readers that skip quiet events
 * skip those of the classes it covers only while it holds. The subscriber sets it within the
 * callback of the event that changes it, so that the change applies from the next event on.
 */
export class IdleSwitch {
  private now: boolean;
  private readonly watchers: Array<() => void> = [];

  constructor(idle: boolean) {
    this.now = idle;
  }

  get idle(): boolean {
    return this.now;
  }

  set(idle: boolean): void {
    if (idle === this.now) return;
    this.now = idle;
    for (const w of this.watchers) w();
  }

  /** Calls `fn` after every change. */
  watch(fn: () => void): void {
    this.watchers.push(fn);
  }
}

export interface Subscriber {
  /** A callback for this event class, or undefined when not interested. Called once per class. */
  bind(info: ClassInfo): EventFn | undefined;
  /**
   * After `bind`: whether the callback reads the payload or event context (not only the stream
   * event context). Absent: any callback is assumed to read them.
   */
  needsPayload?(info: ClassInfo): boolean;
  /**
   * After `bind`: whether the callback does nothing at all for an event whose stream event
   * context is that of the previous event of its stream (same `streamContextVersion`) when it
   * does not read the payload, beyond noting the event's time, which it also takes from the
   * next record's `quietBefore` and the reader's `quietTails`. Absent: never (readers may skip
   * such events: `TraceSet.setQuiet`). An `IdleSwitch`: idle while it holds.
   */
  idleOnSameContext?(info: ClassInfo): boolean | IdleSwitch;
}

/** Composes callbacks in order. */
export function compose(fns: readonly EventFn[]): EventFn | null {
  switch (fns.length) {
    case 0:
      return null;
    case 1:
      return fns[0]!;
    case 2: {
      const a = fns[0]!;
      const b = fns[1]!;
      return (ev) => {
        a(ev);
        b(ev);
      };
    }
    case 3: {
      const a = fns[0]!;
      const b = fns[1]!;
      const c = fns[2]!;
      return (ev) => {
        a(ev);
        b(ev);
        c(ev);
      };
    }
    default: {
      const all = fns.slice();
      const n = all.length;
      return (ev) => {
        for (let i = 0; i < n; i++) all[i]!(ev);
      };
    }
  }
}

export class Dispatcher {
  private readonly subscribers: readonly Subscriber[];
  /** By the record's dense `classKey`: composed callback, null (nobody), undefined (not resolved). */
  private readonly table: Array<EventFn | null | undefined> = [];

  constructor(subscribers: readonly Subscriber[]) {
    this.subscribers = subscribers;
  }

  /** By class key: 1 when some subscriber reads the payload (resolved with the callback). */
  private readonly payload: number[] = [];
  /** By class key: 1 when every bound subscriber is idle on the same context (`idleOnSameContext`). */
  private readonly idle: number[] = [];
  /** By class key: the switches some subscribers are idle under (`idle` counts them as idle). */
  private readonly switches: Array<IdleSwitch[] | undefined> = [];

  /**
   * Whether nobody reads the payload of this record's class and every callback bound to it does
   * nothing when the stream event context did not change (see `Subscriber.idleOnSameContext`).
   */
  idleOnSameContext(ev: EventRecord): boolean {
    if (this.table[ev.classKey] === undefined) this.resolve(ev.classKey, ev.stream, ev.eventClass);
    // Asked once for the whole read: never quiet under a switch.
    if (this.switches[ev.classKey] !== undefined) return false;
    return this.idle[ev.classKey] === 1 && this.payload[ev.classKey] !== 1;
  }

  /**
   * Whether any subscriber reads the payload or event context of this record's class (the
   * reader can skip producing them otherwise: `TraceSet.setPayloadWanted`).
   */
  needsPayload(ev: EventRecord): boolean {
    if (this.table[ev.classKey] === undefined) this.resolve(ev.classKey, ev.stream, ev.eventClass);
    return this.payload[ev.classKey] === 1;
  }

  dispatch(ev: EventRecord): void {
    let fn = this.table[ev.classKey];
    if (fn === undefined) fn = this.resolve(ev.classKey, ev.stream, ev.eventClass);
    if (fn !== null) fn(ev);
  }

  /**
   * `needsPayload` and `idleOnSameContext` for a class met before any of its records (readers
   * that announce classes: `TraceSet.onFirstOfClass`), binding the subscribers to it.
   */
  classNeeds(c: {
    readonly key: number;
    readonly trace: Trace;
    readonly streamClass: StreamClass;
    readonly eventClass: EventClass;
  }): { payload: boolean; quiet: boolean; switches?: readonly IdleSwitch[] } {
    if (this.table[c.key] === undefined) this.bindClass(c.key, c.trace, c.streamClass, c.eventClass);
    const payload = this.payload[c.key] === 1;
    const quiet = this.idle[c.key] === 1 && !payload;
    const switches = this.switches[c.key];
    // Quiet while every switch holds: the caller follows them (`IdleSwitch.watch`).
    if (quiet && switches !== undefined) return { payload, quiet: switches.every((s) => s.idle), switches };
    return { payload, quiet };
  }

  /** Binds every subscriber to an event class (once per class key). */
  resolve(key: number, stream: StreamInstance, ec: EventClass): EventFn | null {
    return this.bindClass(key, stream.trace, stream.streamClass, ec);
  }

  private bindClass(key: number, trace: Trace, streamClass: StreamClass, ec: EventClass): EventFn | null {
    const info: ClassInfo = { trace, streamClass, eventClass: ec, name: ec.name };
    const fns: EventFn[] = [];
    let payload = false;
    let idle = true;
    let switches: IdleSwitch[] | undefined;
    for (const s of this.subscribers) {
      const f = s.bind(info);
      if (f !== undefined) {
        fns.push(f);
        payload ||= s.needsPayload === undefined || s.needsPayload(info);
        const i = s.idleOnSameContext?.(info);
        if (i instanceof IdleSwitch) (switches ??= []).push(i);
        else idle &&= i === true;
      }
    }
    const fn = compose(fns);
    this.payload[key] = payload ? 1 : 0;
    this.idle[key] = idle ? 1 : 0;
    this.switches[key] = switches;
    while (this.table.length < key) this.table.push(undefined);
    this.table[key] = fn;
    return fn;
  }
}
