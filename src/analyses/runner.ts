/**
 * One pass over a trace set for any number of analyses.
 *
 * The runner reads records in chunks (yielding to the event loop between chunks so that
 * progress and Ctrl-C work), applies the time range the way lttng-analyses does (the analysed
 * period starts at the first event at or after `begin`; reading stops at the first event after
 * `end`; with stream intersection, events outside the range where every stream has data are
 * skipped), and dispatches every event by event-class id: to the model only before the period
 * starts, to the model and the analyses after.
 */
import type { TimeBase, TraceRecord } from '../ctf/event.js';
import type { RecordFilter } from '../filter/options.js';
import type { ClassInfo, EventFn, Subscriber } from '../model/dispatch.js';
import { compose, Dispatcher } from '../model/dispatch.js';
import { payloadField, readNum } from '../model/fields.js';
import type { SystemModel } from '../model/model.js';
import { InterruptedError } from '../util/errors.js';
import type { AnalysisHandler, ProcessFilter } from './handler.js';
import type { Windows } from './intersection.js';

/** What the runner needs of a reader (`TraceSet` has it). */
export interface RecordSource {
  readonly base: TimeBase;
  next(): TraceRecord | null;
  progress?(): { done: number; total: number };
  /** Lets the reader skip payload values no handler reads (`TraceSet` has it). */
  setPayloadWanted?(key: number, wanted: boolean): void;
  /**
   * Lets the reader skip, counting them, the events nobody would see (`TraceSet` has these
   * three): which classes (`setQuiet`), from when (`skipQuiet`), how many (`quietSkipped`).
   */
  setQuiet?(key: number, quiet: boolean): void;
  skipQuiet?(end?: number): void;
  quietSkipped?(): { count: number; lastTs: number | undefined };
  /** By stream index, the last quiet event after the last record given out (`TraceSet.quietTails`). */
  quietTails?(): number[];
  /** Announces each event class before its first record is decoded (`TraceSet` has it). */
  onFirstOfClass?(fn: (c: ClassOfSource) => void): void;
}

/** An event class as a source announces it (`RecordSource.onFirstOfClass`). */
export interface ClassOfSource {
  readonly key: number;
  readonly trace: ClassInfo['trace'];
  readonly streamClass: ClassInfo['streamClass'];
  readonly eventClass: ClassInfo['eventClass'];
}

export interface RunOptions {
  /** Start of the period, ns relative to the base (`--begin`). */
  begin?: number;
  /** End of the period, ns relative to the base (`--end`). */
  end?: number;
  /** Only events within their stream's window are read (stream intersection). */
  windows?: Windows;
  /** Called after each chunk with bytes read and total. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting stops the run with an `InterruptedError`. */
  signal?: AbortSignal;
  /** Events per chunk between yields (default 50 000). */
  chunk?: number;
  /**
   * The event filter: handlers see only the events it keeps (unless they filter themselves),
   * the model sees every event. Called after the model's `pre` phase for the event.
   */
  keep?: RecordFilter;
  /**
   * Model-level trackers beyond the model (lttng-analyses' process table, I/O and IRQ state):
   * they see every event, before and during the period, after the model's `pre` phase and
   * before the analyses.
   */
  trackers?: readonly Subscriber[];
  /** Cuts the period into several (`--refresh`, `--period`): sees the events of the period first. */
  driver?: PeriodDriver;
  /**
   * Nobody reads the model (the period analyses alone, no filter): it sees no event, and the
   * classes nobody else reads are quiet.
   */
  withoutModel?: boolean;
}

/** `--refresh` and `--period`: opens and closes periods for the analyses (src/analyses/ticks.ts). */
export interface PeriodDriver extends Subscriber {
  /** The analysed period begins at `ts` (before that event is dispatched). */
  start(ts: number): void;
  /** The run ends: closes the periods still open. */
  finish(lastTs: number): void;
}

export interface RunSummary {
  /** Events read (inside the window). */
  events: number;
  /** Events lost by the tracer, from discarded-events records. */
  discardedEvents: number;
  /**
   * Events the kernel skipped on CPUs it did not say (`nstrace_kernel_skipped` events of the
   * bpf recorder: a BPF program of a tracepoint was not run because another one was running on
   * that CPU). The recorder writes them at the end of the recording: counted when read (before
   * the period too), not when reading stops earlier (`end`).
   */
  kernelSkipped: number;
  /** ts of the first event of the period, when it started. */
  periodBegin: number | undefined;
  /** ts of the last event before the end. */
  lastTs: number | undefined;
}

/** The bpf recorder's marker of events the kernel skipped (src/record/bpf/recorder.ts). */
const KERNEL_SKIPPED_EVENT = 'nstrace_kernel_skipped';

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runAnalyses(
  source: RecordSource,
  model: SystemModel,
  filter: ProcessFilter,
  handlers: readonly AnalysisHandler[],
  opts: RunOptions = {},
): Promise<RunSummary> {
  const keep = opts.keep;
  for (const h of handlers) h.reset({ model, filter, keep });
  const trackers = opts.trackers ?? [];
  const driver = opts.driver;
  let kernelSkipped = 0;
  const skips: Subscriber = {
    bind: (info) => {
      if (info.name !== KERNEL_SKIPPED_EVENT) return undefined;
      const count = payloadField(info.eventClass, 'count');
      return (ev) => {
        kernelSkipped += readNum(count, ev);
      };
    },
  };
  const pre = opts.withoutModel === true ? [] : [model.pre];
  const post = opts.withoutModel === true ? [] : [model.post];
  const modelOnly = new Dispatcher([...pre, skips, ...trackers, ...post]);
  const full = new Dispatcher([
    ...pre,
    skips,
    ...(driver === undefined ? [] : [driver]),
    ...trackers,
    ...gate(handlers, keep),
    ...post,
  ]);
  let d = modelOnly;
  const seen: number[] = [];
  const setWanted = source.setPayloadWanted?.bind(source);
  const setQuiet = source.setQuiet?.bind(source);
  // Whether anybody reads a class's payload is said before its first record is decoded (no
  // values decoded for nothing, no value decoder compiled for nothing) when the source can.
  source.onFirstOfClass?.((c) => {
    seen[c.key] = 1;
    const needs = full.classNeeds(c);
    setWanted?.(c.key, needs.payload);
    setQuiet?.(c.key, needs.quiet);
    const sw = needs.switches;
    if (sw !== undefined && setQuiet !== undefined) {
      const follow = (): void =>
        setQuiet(
          c.key,
          sw.every((s) => s.idle),
        );
      for (const s of sw) s.watch(follow);
    }
  });
  const chunk = opts.chunk ?? 50_000;
  const begin = opts.begin;
  const end = opts.end;
  const winLo = opts.windows?.lo;
  const winHi = opts.windows?.hi;
  let started = false;
  let periodBegin: number | undefined;
  let lastTs: number | undefined;
  let events = 0;
  let discarded = 0;
  let done = false;

  const start = (ts: number): void => {
    started = true;
    periodBegin = ts;
    d = full;
    for (const h of handlers) h.begin(ts);
    driver?.start(ts);
    // From now on the model and the analyses see every event: those of classes they do not
    // look into, with the context of the previous event of their stream, change nothing.
    source.skipQuiet?.(end);
  };

  while (!done) {
    if (opts.signal?.aborted === true) throw new InterruptedError();
    for (let i = 0; i < chunk; i++) {
      const rec = source.next();
      if (rec === null) {
        done = true;
        break;
      }
      if (rec.kind !== 'event') {
        discarded += rec.count ?? 0;
        continue;
      }
      const ts = rec.ts;
      if (winLo !== undefined) {
        const si = rec.stream.index;
        if (ts < winLo[si]! || ts > winHi![si]!) continue;
      }
      if (end !== undefined && ts > end) {
        done = true;
        break;
      }
      events++;
      lastTs = ts;
      if (!started && (begin === undefined || ts >= begin)) start(ts);
      if (seen[rec.classKey] !== 1) {
        // First event of its class: tell the reader whether anybody (model or analyses, the
        // full set, so that nothing is missing once the period starts) reads its payload.
        seen[rec.classKey] = 1;
        setWanted?.(rec.classKey, full.needsPayload(rec));
        setQuiet?.(rec.classKey, full.idleOnSameContext(rec));
      }
      d.dispatch(rec);
    }
    if (opts.onProgress !== undefined && source.progress !== undefined) {
      const p = source.progress();
      opts.onProgress(p.done, p.total);
    }
    if (!done) await yieldToLoop();
  }
  const quiet = source.quietSkipped?.();
  if (quiet !== undefined && quiet.count > 0) {
    events += quiet.count;
    if (lastTs === undefined || quiet.lastTs! > lastTs) lastTs = quiet.lastTs;
  }
  if (started) driver?.finish(lastTs!);
  // The quiet events at the end of each stream, which no record reported (`quietBefore`).
  const tails = source.quietTails?.();
  if (tails !== undefined) model.quietTails(tails);
  // The model first: handlers read the final container of each thread.
  model.finish();
  if (started) for (const h of handlers) h.finalize(lastTs!);
  return { events, discardedEvents: discarded, kernelSkipped, periodBegin, lastTs };
}

/**
 * The handlers as subscribers, those that do not filter events themselves behind `keep`: per
 * event class, one callback that asks `keep` once and runs them all.
 */
function gate(handlers: readonly AnalysisHandler[], keep: RecordFilter | undefined): Subscriber[] {
  if (keep === undefined) return [...handlers];
  const own = handlers.filter((h) => h.filtersEvents === true);
  const gated = handlers.filter((h) => h.filtersEvents !== true);
  if (gated.length === 0) return own;
  const g: Subscriber = {
    bind(info: ClassInfo): EventFn | undefined {
      const fns: EventFn[] = [];
      for (const h of gated) {
        const f = h.bind(info);
        if (f !== undefined) fns.push(f);
      }
      const fn = compose(fns);
      if (fn === null) return undefined;
      return (ev) => {
        if (keep(ev)) fn(ev);
      };
    },
  };
  // Keep the handlers' order: the gated ones where the first of them was.
  const out: Subscriber[] = [];
  let placed = false;
  for (const h of handlers) {
    if (h.filtersEvents === true) out.push(h);
    else if (!placed) {
      out.push(g);
      placed = true;
    }
  }
  return out;
}

/** A source over an array of records (tests, replays). */
export function arraySource(
  records: readonly TraceRecord[],
  base: TimeBase = { seconds: 0, ns: 0 },
): RecordSource {
  let i = 0;
  return {
    base,
    next: () => records[i++] ?? null,
    progress: () => ({ done: Math.min(i, records.length), total: records.length }),
  };
}
