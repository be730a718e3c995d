/**
 * The babeltrace2-compatible text printer: turns `TraceRecord`s into exactly the lines
 * babeltrace2 2.0.4's `sink.text.pretty` writes (see docs/text-format.md for the rules).
 *
 * Speed: for each (trace, event class) the printer compiles once a JavaScript function that
 * formats the fixed part of the line (header, scope separators, field names, already joined
 * into string constants) and the values (with the formatting of each field's class decided in
 * advance). Lines are appended to one byte buffer, handed to the caller in large chunks.
 */
import type { EventClass, StreamClass } from '../ctf/ir.js';
import type {
  DiscardedRecord,
  EventRecord,
  StreamInstance,
  TimeBase,
  Trace,
  TraceRecord,
} from '../ctf/event.js';
import type { ClockOffset } from './clock.js';
import type { Colors } from './colors.js';
import { colorsOf } from './colors.js';
import type { EventFormatter } from './codegen.js';
import { Compiler } from './codegen.js';
import { discardedText } from './discarded.js';
import { headerText } from './header.js';
import type { PrettyOptions } from './options.js';
import type { StreamPlan } from './plan.js';
import { planStreamClass } from './plan.js';
import { TimestampPrinter } from './timestamp.js';
import { ByteWriter } from './writer.js';

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

/** Tuning: events of a class after which its formatter is recompiled with constants inlined. */
export const PRETTY_TUNING = { hotEvents: 20000 };

/** Per (trace, stream class) compiled state. */
interface StreamState {
  plan: StreamPlan;
  formatters: Map<EventClass, EventFormatter>;
}

/**
 * Prints records as babeltrace2 does: event lines into a byte buffer handed to the sink in
 * chunks, discarded-items warnings to the sink's error side. The timestamp part and its state
 * come from `TimestampPrinter`.
 */
export class PrettyPrinter extends TimestampPrinter {
  private readonly col: Colors;
  private readonly compiler: Compiler;
  private readonly states = new Map<Trace, Map<StreamClass, StreamState>>();
  /** Compiled formatters by dense class key (checked against the class and stream trace). */
  private readonly byKey: Array<
    { ec: EventClass; fmt: EventFormatter; hasClock: boolean; count: number } | undefined
  > = [];

  constructor(
    opts: PrettyOptions,
    base: TimeBase,
    private readonly sink: PrettySink,
    /** `--clock-offset`/`--clock-offset-ns` (used for exact times far from the base). */
    clockOffset: ClockOffset = { seconds: 0, ns: 0 },
    /** Bytes handed to the sink at a time. */
    chunkSize = 1 << 20,
  ) {
    const col = colorsOf(opts.colors);
    super(opts, base, sink, clockOffset, new ByteWriter(chunkSize), col);
    this.col = col;
    this.compiler = new Compiler(col, opts);
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
      const [header, startLine] = headerText(this.opts, this.col, stream.trace, ec, hasClock);
      f = this.compiler.compile(header, st.plan, ec, startLine, hot);
      st.formatters.set(ec, f);
    }
    return f;
  }

  /** The warning line babeltrace2 writes to standard error for a discarded-items record. */
  discardedText(rec: DiscardedRecord): string {
    return discardedText(rec, this.opts.warningColors, (ts, cycles, clock) =>
      this.boundTime(ts, cycles, clock),
    );
  }
}
