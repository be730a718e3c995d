/**
 * Running analyses on a trace set, as the commands do: check that the trace has the events the
 * analyses need, resolve `--begin`/`--end`/`--timerange` and the stream intersection, run one
 * pass for all requested analyses, and report what the user should know (lost events, no
 * namespace information, unknown containers).
 */
import type { EventRecord, FieldValue, StreamInstance, TimeBase, TraceRecord } from '../ctf/event.js';
import { splitTs } from '../ctf/event.js';
import { refsOf } from '../filter/ast.js';
import { buildRecordFilter } from '../filter/options.js';
import { parseFilter } from '../filter/parser.js';
import { ModelContainerLookup } from '../model/lookup.js';
import { SystemModel } from '../model/model.js';
import { MissingEventsError, NstraceError, UsageError } from '../util/errors.js';
import type { CputopResult } from './cputop.js';
import { CputopHandler } from './cputop.js';
import type { AbsTime } from './format/time.js';
import type { AnalysisHandler, FilterSpec } from './handler.js';
import { ProcessFilter } from './handler.js';
import type { StreamRange } from './intersection.js';
import { intersect, rangeFromIndex } from './intersection.js';
import type { MemtopResult } from './memtop.js';
import { MemtopHandler } from './memtop.js';
import type { AnalysisName, ClassDesc } from './requirements.js';
import { advisoryFor, containerWarning, coverageOf, missingFor, missingMessage } from './requirements.js';
import type { FamilyOptions, FamilyResults } from './families.js';
import { buildFamilies } from './families.js';
import type { RecordSource, RunSummary } from './runner.js';
import { runAnalyses } from './runner.js';
import type { SyscallstatsResult } from './syscallstats.js';
import { SyscallstatsHandler } from './syscallstats.js';
import { parseDate, parseTimeRange } from './timerange.js';

/** What the session needs of a reader (`TraceSet` has it). */
export interface TraceSource extends RecordSource {
  readonly streams: readonly StreamInstance[];
  /** Every event class of the source, by the dense key records carry (`classKey`). */
  readonly eventClasses: readonly (ClassDesc & { readonly key: number })[];
  /** Per stream index, the events to read (babeltrace 1 order: before the first `next()`). */
  setWindows?(lo: ArrayLike<number>, hi: ArrayLike<number>): void;
  /** First-packet begin and last-packet end per stream index (null: no packet), if the reader knows. */
  streamRanges?(): ReadonlyArray<StreamRange | null>;
}

export interface AnalyseOptions extends FilterSpec {
  /** `--filter`: an LTTng filter expression; the analyses see only the events it keeps. */
  filter?: string;
  /** `-e/--event`: event-name globs (comma lists); the analyses see only those events. */
  event?: readonly string[];
  /** `--exclude`: event-name globs the analyses do not see. */
  exclude?: readonly string[];
  begin?: string;
  end?: string;
  timerange?: string;
  /** Dates in UTC (`--gmt`). */
  gmt?: boolean;
  /** Stream intersection as lttng-analyses (default true; `--no-intersection`). */
  intersection?: boolean;
  /** Run what can run and warn about the rest, instead of failing (`top`). */
  partial?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Stream ranges when the source does not know them (see `streamRangesOf`). */
  streamRanges?: () => ReadonlyArray<StreamRange | null | undefined>;
  /**
   * `--container`/`--container-type` values that select no container: an error (default), or
   * returned in `AnalyseResult.unmatched` (one machine among several: another may have them).
   */
  unmatched?: 'error' | 'return';
  /** More handlers to run in the same pass, after the named analyses (`nstrace view`'s collector). */
  extraHandlers?: readonly AnalysisHandler[];
  /**
   * Of the named analyses, `memtop` and `syscallstats` whose events are checked (missing ones
   * skip or fail them as usual) and whose model tracking is on, but whose handler does not run
   * (their result is undefined): for callers that read the model only (the sql tables).
   */
  trackOnly?: ReadonlyArray<'memtop' | 'syscallstats'>;
  /** Options of the sched, I/O, IRQ and period analyses (`--min`, `--max`, `--refresh`, `--period`). */
  family?: FamilyOptions;
}

export interface AnalyseResult extends FamilyResults {
  readonly base: TimeBase;
  /** The first event read (in the stream intersection, before `--begin`), when any. */
  readonly firstTs: number | undefined;
  /** `--begin`/`--end` (or `--timerange`) as resolved, ns relative to the base. */
  readonly begin: number | undefined;
  readonly end: number | undefined;
  readonly model: SystemModel;
  readonly summary: RunSummary;
  /** Things to tell the user (on stderr). */
  readonly warnings: string[];
  readonly cputop?: CputopResult;
  readonly memtop?: MemtopResult;
  readonly syscallstats?: SyscallstatsResult;
  /** Analyses that could not run (partial mode), with why. */
  readonly skipped: ReadonlyMap<AnalysisName, string>;
  /** With `unmatched: 'return'`: the selectors that selected nothing (messages). */
  readonly unmatched?: readonly string[];
}

function copyValue(v: FieldValue): FieldValue {
  if (Array.isArray(v)) return v.map(copyValue);
  if (typeof v === 'object') return { option: v.option, value: copyValue(v.value) };
  return v;
}

function copyRecord(r: EventRecord): EventRecord {
  const c = (a: FieldValue[] | undefined): FieldValue[] | undefined =>
    a === undefined ? undefined : a.map(copyValue);
  return {
    ...r,
    header: c(r.header),
    streamContext: c(r.streamContext),
    context: c(r.context),
    payload: c(r.payload),
  };
}

/** Reads the first event (copied, as records are reused) and returns a source that replays it. */
export function peekFirst(src: RecordSource): { first: EventRecord | undefined; source: RecordSource } {
  const held: TraceRecord[] = [];
  let first: EventRecord | undefined;
  for (;;) {
    const r = src.next();
    if (r === null) break;
    if (r.kind === 'event') {
      first = copyRecord(r);
      held.push(first);
      break;
    }
    held.push(r);
  }
  let i = 0;
  const source: {
    base: TimeBase;
    next: () => TraceRecord | null;
    progress?: RecordSource['progress'];
    setPayloadWanted?: RecordSource['setPayloadWanted'];
    setQuiet?: RecordSource['setQuiet'];
    skipQuiet?: RecordSource['skipQuiet'];
    quietSkipped?: RecordSource['quietSkipped'];
    quietTails?: RecordSource['quietTails'];
    onFirstOfClass?: RecordSource['onFirstOfClass'];
  } = {
    base: src.base,
    next: () => {
      if (i < held.length) return held[i++]!;
      // Replayed: read the reader directly from now on (no wrapper per event).
      source.next = src.next.bind(src);
      return source.next();
    },
  };
  if (src.progress !== undefined) source.progress = src.progress.bind(src);
  if (src.setPayloadWanted !== undefined) source.setPayloadWanted = src.setPayloadWanted.bind(src);
  if (src.setQuiet !== undefined) source.setQuiet = src.setQuiet.bind(src);
  if (src.skipQuiet !== undefined) source.skipQuiet = src.skipQuiet.bind(src);
  if (src.quietSkipped !== undefined) source.quietSkipped = src.quietSkipped.bind(src);
  if (src.quietTails !== undefined) source.quietTails = src.quietTails.bind(src);
  if (src.onFirstOfClass !== undefined) source.onFirstOfClass = src.onFirstOfClass.bind(src);
  return { first, source };
}

function usesContainer(expr: string): boolean {
  return refsOf(parseFilter(expr)).some((r) => r.root === 'container');
}

export function absOf(base: TimeBase, ts: number): AbsTime {
  const [sec, ns] = splitTs(base, ts);
  return { sec, ns };
}

export function relOf(base: TimeBase, abs: bigint): number {
  return Number(abs - (BigInt(base.seconds) * 1_000_000_000n + BigInt(base.ns)));
}

export async function analyse(
  src: TraceSource,
  names: readonly AnalysisName[],
  opts: AnalyseOptions = {},
): Promise<AnalyseResult> {
  const warnings: string[] = [];
  const skipped = new Map<AnalysisName, string>();
  const cov = coverageOf(src.eventClasses);
  const run: AnalysisName[] = [];
  for (const n of names) {
    const problems = missingFor(n, cov);
    if (problems.length === 0) {
      run.push(n);
      for (const a of advisoryFor(n, cov)) warnings.push(`${n === 'iousage' ? 'io' : n}: ${a}`);
    } else if (opts.partial === true) {
      skipped.set(n, missingMessage(n, problems));
      warnings.push(missingMessage(n, problems));
    } else {
      throw new MissingEventsError(missingMessage(n, problems));
    }
  }
  if (run.length === 0) {
    // One line (the CLI's errors are one line each): the analyses' requirements, in turn.
    throw new MissingEventsError([...skipped.values()].join(' -- '));
  }
  const cw = containerWarning(cov);
  if (cw !== undefined) warnings.push(cw);

  const base = src.base;
  let windows;
  if (opts.intersection !== false) {
    const ranges =
      src.streamRanges?.() ??
      opts.streamRanges?.() ??
      src.streams.map((s) => rangeFromIndex(s, base) ?? (undefined as StreamRange | undefined));
    const res = intersect(src.streams, ranges);
    if (res.kind === 'none') {
      throw new NstraceError(
        'the trace has no stream intersection (its streams do not overlap in time); use --no-intersection',
      );
    }
    if (res.kind === 'unknown') {
      warnings.push(
        `cannot compute the stream intersection (${res.why}): all events are analysed, as with --no-intersection`,
      );
    } else {
      windows = res.windows;
    }
  }

  // babeltrace 1 (lttng-analyses) seeks every stream to its window before merging them.
  if (windows !== undefined) src.setWindows?.(windows.lo, windows.hi);
  const { first, source } = peekFirst(src);
  let begin: number | undefined;
  let end: number | undefined;
  if (first !== undefined) {
    const t0 = absOf(base, first.ts);
    const dctx = { gmt: opts.gmt ?? false, traceBegin: t0, traceEnd: t0 };
    if (opts.timerange !== undefined) {
      const [b, e] = parseTimeRange(opts.timerange, dctx);
      begin = relOf(base, b);
      end = relOf(base, e);
    } else {
      if (opts.begin !== undefined) begin = relOf(base, parseDate(opts.begin, dctx));
      if (opts.end !== undefined) {
        end = relOf(base, parseDate(opts.end, dctx));
        if (end < first.ts) throw new UsageError('--end timestamp before beginning of trace');
      }
    }
  }

  const model = new SystemModel({ syscalls: run.includes('syscallstats'), memory: run.includes('memtop') });
  const lookup = new ModelContainerLookup(model);
  const filter = new ProcessFilter(opts, model, lookup);
  // Container selection applies to tasks (ProcessFilter); the record filter is the expression
  // and the event names only (docs/adr/0180-one-filter-for-every-command.md).
  const keep = buildRecordFilter({ filter: opts.filter, event: opts.event, exclude: opts.exclude }, src, {
    containers: lookup,
    onWarning: (m) => warnings.push(m),
  });
  if (
    keep !== undefined &&
    run.includes('cputop') &&
    opts.filter !== undefined &&
    usesContainer(opts.filter)
  ) {
    warnings.push(
      'cputop: a sched_switch event belongs to the task switched out, so --filter on $container keeps ' +
        "only the switches out of the container's tasks and their CPU time is not measured; " +
        'select tasks with --container/--container-type/--host instead',
    );
  }
  const cputop = run.includes('cputop') ? new CputopHandler() : undefined;
  const handled = (n: 'memtop' | 'syscallstats'): boolean => run.includes(n) && !opts.trackOnly?.includes(n);
  const memtop = handled('memtop') ? new MemtopHandler() : undefined;
  const syscallstats = handled('syscallstats') ? new SyscallstatsHandler() : undefined;
  const fam = buildFamilies(run, model, opts.family ?? {});
  const handlers: AnalysisHandler[] = [
    ...[cputop, memtop, syscallstats].filter((h): h is NonNullable<typeof h> => h !== undefined),
    ...(fam.handlers as AnalysisHandler[]),
    ...(opts.extraHandlers ?? []),
  ];
  // The period analyses read no thread, no container: alone and without any filter (which may
  // name containers or tasks), they run without the model.
  const withoutModel =
    run.every((n) => n === 'period') &&
    keep === undefined &&
    !filter.selectsContainers &&
    !filter.filtersProcesses &&
    opts.extraHandlers === undefined;
  const summary = await runAnalyses(source, model, filter, handlers, {
    begin,
    end,
    windows,
    onProgress: opts.onProgress,
    signal: opts.signal,
    keep,
    trackers: fam.trackers,
    driver: fam.driver,
    withoutModel,
  });

  const unmatched = filter.unmatched();
  if (unmatched.length > 0 && opts.unmatched !== 'return') throw new UsageError(unmatched.join('; '));
  warnings.push(...lossWarnings(summary));
  if (summary.periodBegin === undefined) warnings.push('no event in the requested time range');
  return {
    base,
    firstTs: first?.ts,
    begin,
    end,
    model,
    summary,
    warnings,
    cputop: cputop?.result,
    memtop: memtop?.result,
    syscallstats: syscallstats?.result,
    ...fam.results(),
    skipped,
    unmatched,
  };
}

/** What the user must know of the events a run did not see: lost by the tracer, skipped by the kernel. */
export function lossWarnings(summary: RunSummary): string[] {
  const out: string[] = [];
  if (summary.discardedEvents > 0) {
    out.push(`the tracer lost ${summary.discardedEvents} events: the results may be incomplete`);
  }
  if (summary.kernelSkipped > 0) {
    out.push(
      `the kernel skipped ${summary.kernelSkipped} events of the recording (a BPF program was not run ` +
        'because another one was running on that CPU; when and on which CPU is not known): the ' +
        'results may be incomplete',
    );
  }
  return out;
}
