/**
 * Running the spans analysis on one machine's traces (src/analyses/spans.ts): check that the
 * traces have what it needs and say what to record when they do not, resolve `--timerange`,
 * replay kernel and userspace events in one pass through the model, and put each span's
 * numbers in its container.
 */
import type { EventClass, StreamClass } from '../ctf/ir.js';
import type { ContainerInfo } from '../filter/containers.js';
import { buildRecordFilter } from '../filter/options.js';
import type { Container } from '../model/containers.js';
import { findField } from '../model/fields.js';
import { ModelContainerLookup } from '../model/lookup.js';
import { SystemModel } from '../model/model.js';
import { ustJoinAdvice } from '../model/ust-join.js';
import { MissingEventsError, UsageError } from '../util/errors.js';
import type { FilterSpec } from './handler.js';
import { ProcessFilter } from './handler.js';
import type { StreamRange } from './intersection.js';
import { runAnalyses } from './runner.js';
import type { TraceSource } from './session.js';
import { absOf, peekFirst, relOf } from './session.js';
import type { Span, SpansOptions, SpansResult } from './spans.js';
import { SpansHandler } from './spans.js';
import { parseTimeRange } from './timerange.js';

export interface SpansRunOptions extends FilterSpec, SpansOptions {
  readonly filter?: string | undefined;
  readonly event?: readonly string[] | undefined;
  readonly exclude?: readonly string[] | undefined;
  readonly timerange?: string | undefined;
  readonly gmt?: boolean | undefined;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
  /** Stream ranges (index files, else packet headers), used before the source's own. */
  readonly streamRanges?: () => ReadonlyArray<StreamRange | null | undefined>;
}

/** A span's container as the report shows it (the host, a model container, or a pid namespace). */
export interface SpanOwner {
  readonly name: string;
  readonly type: string;
  readonly id: string;
  readonly pidNs: number | undefined;
  readonly label: string;
  readonly isHost: boolean;
}

/** A span with its numbers attributed (final containers). */
export interface SpanRow {
  readonly span: Span;
  readonly owner: SpanOwner;
  /** Waiting time per container that ran on the CPU meanwhile (idle left out), most first. */
  readonly preemptors: ReadonlyArray<{ readonly owner: SpanOwner; readonly ns: number }>;
  /** Time waiting while the CPU was idle (the wakeup's latency). */
  readonly idleWait: number;
  /** Blocked time per system call, most first. */
  readonly blockedIn: ReadonlyArray<{ readonly syscall: string; readonly ns: number }>;
}

export interface SpansRun {
  readonly base: TraceSource['base'];
  readonly result: SpansResult | undefined;
  /** The selected spans, in begin order. */
  readonly rows: SpanRow[];
  readonly warnings: string[];
  /** The machine has a kernel trace with scheduling events (the breakdown is known). */
  readonly breakdown: boolean;
  readonly unmatched: readonly string[];
  /** Some event names of the traces (for a message when the begin/end events are not there). */
  readonly events: string;
}

interface ClassDesc {
  readonly eventClass: EventClass;
  readonly streamClass: StreamClass;
  readonly trace?: { readonly cls: { readonly env: ReadonlyMap<string, unknown> } };
}

function isUst(c: ClassDesc): boolean {
  return c.trace?.cls.env.get('domain') === 'ust';
}

/** Event names of the set for a message (at most 20, userspace ones first). */
function someNames(classes: readonly ClassDesc[]): string {
  const names = [
    ...new Set(
      [...classes].sort((a, b) => Number(isUst(b)) - Number(isUst(a))).map((c) => c.eventClass.name),
    ),
  ];
  return names.length <= 20
    ? names.join(', ')
    : `${names.slice(0, 20).join(', ')}, ... (${names.length} in all)`;
}

/**
 * What the traces lack for spans: throws when the begin/end events or the join's contexts are
 * missing, returns warnings for a missing breakdown.
 */
export function checkSpansInput(
  classes: readonly ClassDesc[],
  o: SpansOptions,
  who = 'spans',
): { warnings: string[]; hasBegin: boolean; breakdown: boolean; events: string } {
  const warnings: string[] = [];
  const begins = classes.filter((c) => c.eventClass.name === o.begin);
  const ends = classes.filter((c) => c.eventClass.name === o.end);
  const events = someNames(classes);
  if (begins.length === 0 || ends.length === 0) {
    return { warnings, hasBegin: false, breakdown: false, events };
  }
  if (o.match !== undefined) {
    for (const c of [...begins, ...ends]) {
      if (findField(c.eventClass.fields, o.match) < 0) {
        throw new UsageError(
          `--match ${o.match}: event ${c.eventClass.name} has no field '${o.match}' (its fields: ` +
            `${c.eventClass.fields?.fields.map((f) => f.name.replace(/^_/, '')).join(', ') || 'none'})`,
        );
      }
    }
  }
  const names = new Set(classes.map((c) => c.eventClass.name));
  const kernel = classes.some((c) => !isUst(c) && c.eventClass.name === 'sched_switch');
  if (kernel) {
    for (const c of [...begins, ...ends]) {
      if (!isUst(c)) continue;
      const missing = ['pid_ns', 'vtid'].filter((f) => findField(c.streamClass.eventContext, f) < 0);
      if (missing.length > 0) {
        throw new MissingEventsError(
          `${who}: the events ${o.begin}/${o.end} lack the ${missing.join(' and ')} context` +
            `${missing.length > 1 ? 's' : ''} that tell which host thread emitted them: ${ustJoinAdvice(missing)}`,
        );
      }
    }
    const kernelKnowsVtids =
      names.has('lttng_statedump_process_pid_ns') ||
      classes.some(
        (c) =>
          (c.eventClass.name === 'sched_process_fork' && findField(c.eventClass.fields, 'vtids') >= 0) ||
          (c.eventClass.name === 'lttng_statedump_process_state' &&
            findField(c.eventClass.fields, 'vtid') >= 0) ||
          (!isUst(c) &&
            findField(c.streamClass.eventContext, 'vtid') >= 0 &&
            findField(c.streamClass.eventContext, 'pid_ns') >= 0),
      );
    if (!kernelKnowsVtids) {
      warnings.push(
        `${who}: the kernel trace cannot tell host threads' ids inside their pid namespaces (no ` +
          'lttng_statedump_process_pid_ns, no vtids in sched_process_fork, no vtid and pid_ns contexts): ' +
          "spans of containers cannot be attributed; record with lttng enable-event --kernel 'lttng_statedump_*' " +
          'and lttng add-context --kernel --type=vtid --type=pid_ns (nstrace record has them)',
      );
    }
    if (!names.has('sched_waking') && !names.has('sched_wakeup')) {
      warnings.push(
        `${who}: the kernel trace has no sched_waking/sched_wakeup events: the time a thread waited for a ` +
          'CPU after a sleep is counted as blocked; lttng enable-event --kernel sched_waking,sched_wakeup',
      );
    }
  } else {
    warnings.push(
      `${who}: no kernel trace with sched_switch events on this machine: span durations only (no on-CPU, ` +
        'waiting, blocked); record the host kernel too (nstrace record --url net://RELAY, or lttng ' +
        'enable-event --kernel sched_switch,sched_waking,sched_wakeup,sched_migrate_task,sched_process_fork ' +
        "'lttng_statedump_*' --syscall --all)",
    );
  }
  return { warnings, hasBegin: true, breakdown: kernel, events };
}

/** Where every kernel stream has data: the intersection of their ranges, else their union. */
function kernelRange(
  src: TraceSource,
  ranges: ReadonlyArray<StreamRange | null | undefined>,
): StreamRange | undefined {
  let b = -Infinity;
  let e = Infinity;
  let lo = Infinity;
  let hi = -Infinity;
  let any = false;
  for (const s of src.streams) {
    if (s.trace.cls.env.get('domain') === 'ust') continue;
    const r = ranges[s.index];
    if (r === null || r === undefined) continue;
    any = true;
    b = Math.max(b, r.begin);
    e = Math.min(e, r.end);
    lo = Math.min(lo, r.begin);
    hi = Math.max(hi, r.end);
  }
  if (!any) return undefined;
  return b <= e ? { begin: b, end: e } : { begin: lo, end: hi };
}

function ownerOfContainer(c: Container): SpanOwner {
  return { name: c.name, type: c.type, id: c.id, pidNs: c.pidNs, label: c.label, isHost: c.isHost };
}

function ownerOfInfo(c: ContainerInfo): SpanOwner {
  const pidNs = c.pidNs === undefined ? undefined : Number(c.pidNs);
  return {
    name: c.name,
    type: c.type,
    id: c.id,
    pidNs,
    label: pidNs === undefined || c.name === String(pidNs) ? c.name : `${c.name} (${pidNs})`,
    isHost: false,
  };
}

const UNKNOWN_OWNER: SpanOwner = {
  name: '?',
  type: 'unknown',
  id: '?',
  pidNs: undefined,
  label: '?',
  isHost: false,
};

/** Runs spans on one machine's trace set. */
export async function analyseSpans(src: TraceSource, opts: SpansRunOptions): Promise<SpansRun> {
  const classes = src.eventClasses as readonly ClassDesc[];
  const check = checkSpansInput(classes, opts);
  const warnings = [...check.warnings];
  const base = src.base;
  if (!check.hasBegin) {
    return {
      base,
      result: undefined,
      rows: [],
      warnings,
      breakdown: false,
      unmatched: [],
      events: check.events,
    };
  }
  const { first, source } = peekFirst(src);
  let begin: number | undefined;
  let end: number | undefined;
  if (first !== undefined && opts.timerange !== undefined) {
    const t0 = absOf(base, first.ts);
    const [b, e] = parseTimeRange(opts.timerange, { gmt: opts.gmt ?? false, traceBegin: t0, traceEnd: t0 });
    begin = relOf(base, b);
    end = relOf(base, e);
  }
  const ranges = opts.streamRanges?.() ?? src.streamRanges?.() ?? [];
  const model = new SystemModel({ syscalls: false, memory: false });
  const lookup = new ModelContainerLookup(model);
  const filter = new ProcessFilter(opts, model, lookup);
  const keep = buildRecordFilter({ filter: opts.filter, event: opts.event, exclude: opts.exclude }, src, {
    containers: lookup,
    onWarning: (m) => warnings.push(m),
  });
  const handler = new SpansHandler(
    {
      begin: opts.begin,
      end: opts.end,
      match: opts.match,
      kernelRange: check.breakdown ? kernelRange(src, ranges) : undefined,
    },
    lookup,
  );
  const summary = await runAnalyses(source, model, filter, [handler], {
    begin,
    end,
    keep,
    onProgress: opts.onProgress,
    signal: opts.signal,
  });
  if (summary.discardedEvents > 0) {
    warnings.push(
      `the tracers lost ${summary.discardedEvents} events: spans that overlap the losses may be wrong`,
    );
  }
  const result = handler.result;
  const rows: SpanRow[] = [];
  if (result !== undefined) {
    const ownerOfThreadUid = (uid: number): SpanOwner =>
      ownerOfContainer(model.containerOf(model.allThreads[uid]!));
    for (const s of result.spans) {
      let owner: SpanOwner;
      if (s.thread !== undefined && s.thread.tid !== 0) {
        if (!filter.threadSelected(s.thread)) continue;
        owner = ownerOfContainer(model.containerOf(s.thread));
      } else {
        const info = s.pidNs === undefined ? undefined : lookup.ofPidNs(s.pidNs);
        if (filter.selectsContainers && !filter.matcher.matches(info)) continue;
        owner =
          info === undefined
            ? s.pidNs === undefined
              ? UNKNOWN_OWNER
              : ownerOfContainer(model.containers.host)
            : ownerOfInfo(info);
      }
      const byOwner = new Map<string, { owner: SpanOwner; ns: number }>();
      let idle = 0;
      for (const [uid, ns] of s.waitBy) {
        if (uid < 0) {
          idle += ns;
          continue;
        }
        const o = ownerOfThreadUid(uid);
        const e = byOwner.get(o.id);
        if (e === undefined) byOwner.set(o.id, { owner: o, ns });
        else e.ns += ns;
      }
      rows.push({
        span: s,
        owner,
        preemptors: [...byOwner.values()].sort((a, b) => b.ns - a.ns),
        idleWait: idle,
        blockedIn: [...s.blockedIn].map(([syscall, ns]) => ({ syscall, ns })).sort((a, b) => b.ns - a.ns),
      });
    }
    if (result.unattributed > 0 && check.breakdown) {
      warnings.push(
        `${result.unattributed} span${result.unattributed > 1 ? 's' : ''} could not be attributed to a host thread ` +
          '(the kernel trace does not know their pid_ns/vtid at their time): durations only',
      );
    }
    if (result.unfinished > 0)
      warnings.push(`${result.unfinished} span(s) have no ${opts.end} event by the end of the trace`);
    if (result.unmatchedEnds > 0) {
      const cross = result.crossThreadEnds;
      warnings.push(
        `${result.unmatchedEnds} ${opts.end} event(s) have no open span of their thread` +
          (cross > 0
            ? ` (${cross} of them match the ${opts.match} of a span open on another thread: a request handed ` +
              'between threads; spans are per thread, these are left out)'
            : ''),
      );
    }
    const uncovered = rows.filter((r) => r.span.thread !== undefined && !r.span.covered).length;
    if (uncovered > 0 && check.breakdown) {
      warnings.push(`${uncovered} span(s) are not within the kernel trace's time range: durations only`);
    }
  }
  return {
    base,
    result,
    rows,
    warnings,
    breakdown: check.breakdown,
    unmatched: filter.unmatched(),
    events: check.events,
  };
}
