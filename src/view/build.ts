/**
 * Analyses traces for `nstrace view`: one pass with the model, `cputop`, `memtop`,
 * `syscallstats` (what `nstrace top` runs, so the container list shows the same numbers) and the
 * view's collector; then the summary the page starts from.
 *
 * Every event is read (no stream intersection, no time range): the timelines show the whole
 * trace, and the model that has seen every event is the "final" model the events table's
 * container selectors use, as `nstrace print` replays the whole trace for them.
 */
import { splitTs } from '../ctf/event.js';
import { openTraces, streamRangesOf } from '../analyses/open.js';
import { ProcessFilter } from '../analyses/handler.js';
import { runAnalyses } from '../analyses/runner.js';
import type { AnalyseResult } from '../analyses/session.js';
import { analyse, lossWarnings } from '../analyses/session.js';
import type { TraceSet } from '../ctf/index.js';
import { SystemModel } from '../model/model.js';
import { MissingEventsError } from '../util/errors.js';
import type { TimeBase } from '../ctf/event.js';
import type { Container } from '../model/containers.js';
import { ViewCollector } from './collect.js';
import type { ViewStore } from './store.js';
import { emptyStore } from './store.js';
import type { ContainerSummary, Summary, ThreadSummary } from './types.js';

export interface ViewData {
  readonly paths: readonly string[];
  readonly base: TimeBase;
  readonly summary: Summary;
  readonly store: ViewStore;
  /** The model after the whole trace (for the events table's container selectors). */
  readonly model: SystemModel;
}

export interface BuildOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  version: string;
}

export async function buildViewData(paths: readonly string[], opts: BuildOptions): Promise<ViewData> {
  let collector = new ViewCollector();
  let ts = openTraces(paths);
  let r: AnalyseResult;
  try {
    r = await analyse(ts, ['cputop', 'memtop', 'syscallstats'], {
      partial: true,
      intersection: false,
      extraHandlers: [collector],
      streamRanges: () => streamRangesOf(ts),
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
  } catch (err) {
    if (!(err instanceof MissingEventsError)) throw err;
    // No analysis can run (no sched_switch: a userspace trace, say): the model and the
    // collector alone, for the events table and whatever the trace has.
    ts.close();
    collector = new ViewCollector();
    ts = openTraces(paths);
    r = await modelOnly(ts, collector, opts, err.message);
  } finally {
    ts.close();
  }
  const hostnames = new Set(
    ts.traces.map((t) => t.cls.env.get('hostname')).filter((h): h is string => typeof h === 'string'),
  );
  const model = r.model;
  const store = collector.store;
  const begin = r.summary.periodBegin ?? 0;
  const end = r.summary.lastTs ?? begin;
  const noStore = store === undefined;
  const threads: ThreadSummary[] = [];
  const perContainer = new Map<number, number>();
  let idle = 0;
  for (const t of model.allThreads) {
    if (t.tid === 0 || noStore || !collector.active(t)) {
      if (t.tid !== 0) idle++;
      continue;
    }
    const c = model.containerOf(t);
    perContainer.set(c.key, (perContainer.get(c.key) ?? 0) + 1);
    threads.push({
      uid: t.uid,
      tid: t.tid,
      pid: t.pid ?? null,
      vtid: t.vtid ?? null,
      vpid: t.vpid ?? null,
      comm: t.comm,
      container: c.key,
      born: t.born ?? null,
      exited: t.exited ?? null,
      cpuNs: collector.cpuNs[t.uid] ?? 0,
    });
  }
  const cpu = new Map(r.cputop?.containers.map((u) => [u.container, u]) ?? []);
  const mem = new Map(r.memtop?.containers.map((u) => [u.container, u]) ?? []);
  const sys = new Map(r.syscallstats?.containers.map((u) => [u.container, u]) ?? []);
  const containers: ContainerSummary[] = model.containers.all().map((c) => ({
    key: c.key,
    name: c.name,
    id: c.id,
    type: c.type,
    image: c.image,
    isHost: c.isHost,
    pidNs: [...c.pidNsList],
    restarts: Math.max(0, c.pidNsList.length - 1),
    incarnations: incarnations(c),
    firstSeen: c.isHost ? begin : (c.firstSeen ?? null),
    lastSeen: c.isHost ? end : (c.lastSeen ?? null),
    stoppedAt: c.stoppedAt ?? null,
    parent: c.parent?.key ?? null,
    cpuNs: r.cputop === undefined ? null : (cpu.get(c)?.cpuNs ?? 0),
    cpuPct: r.cputop === undefined ? null : (cpu.get(c)?.usage ?? 0),
    pagesAlloc: r.memtop === undefined ? null : (mem.get(c)?.allocated ?? 0),
    pagesFreed: r.memtop === undefined ? null : (mem.get(c)?.freed ?? 0),
    syscalls: r.syscallstats === undefined ? null : (sys.get(c)?.total ?? 0),
    syscallErrors: r.syscallstats === undefined ? null : (sys.get(c)?.errors ?? 0),
    threads: perContainer.get(c.key) ?? 0,
  }));
  const warnings = [...r.warnings];
  if (collector.stats.chainBreaks > 0) {
    warnings.push(
      `${collector.stats.chainBreaks} sched_switch events switched out a task the CPU's previous switch did not ` +
        'bring in (lost events?): the slices around them are cut where the trace says nothing',
    );
  }
  const [sec] = splitTs(r.base, begin);
  const summary: Summary = {
    version: opts.version,
    traces: [...paths],
    hostname: [...hostnames].join(', '),
    base: { seconds: r.base.seconds, ns: r.base.ns },
    begin,
    end,
    events: r.summary.events,
    discardedEvents: r.summary.discardedEvents,
    kernelSkipped: r.summary.kernelSkipped,
    cpus: store?.lanes.map((l) => l.cpu) ?? [],
    containers,
    threads,
    idleThreads: idle,
    syscallNames: collector.syscalls.strings,
    warnings,
    live: true,
    spans: {
      available: false,
      note:
        'App spans (nstrace spans, from userspace traces) are not wired into the view yet: ' +
        'the threads timeline has a place for them under each thread.',
    },
    utcOffsetMin: -new Date(sec * 1000).getTimezoneOffset(),
  };
  return { paths, base: r.base, summary, store: store ?? emptyStore(), model };
}

/** The model and the collector over every event, without the analyses (see `buildViewData`). */
async function modelOnly(
  ts: TraceSet,
  collector: ViewCollector,
  opts: BuildOptions,
  why: string,
): Promise<AnalyseResult> {
  const model = new SystemModel();
  const summary = await runAnalyses(ts, model, new ProcessFilter({}, model), [collector], {
    onProgress: opts.onProgress,
    signal: opts.signal,
  });
  const warnings = [
    `no analysis could run, so the timelines and the container numbers are empty (the events table shows every event): ${why.split('\n')[0]}`,
  ];
  warnings.push(...lossWarnings(summary));
  return {
    base: ts.base,
    firstTs: undefined,
    begin: undefined,
    end: undefined,
    model,
    summary,
    warnings,
    skipped: new Map(),
  };
}

/** The span of activity of each pid namespace of a container (its threads' first and last sight). */
function incarnations(c: Container): ContainerSummary['incarnations'] {
  if (c.isHost) return [];
  const by = new Map<number, { pidNs: number; first: number; last: number }>();
  for (const t of c.threads) {
    const ns = t.pidNs ?? c.pidNs;
    if (ns === undefined) continue;
    const e = by.get(ns);
    if (e === undefined) by.set(ns, { pidNs: ns, first: t.firstSeen, last: t.lastSeen });
    else {
      e.first = Math.min(e.first, t.firstSeen);
      e.last = Math.max(e.last, t.lastSeen);
    }
  }
  const order = new Map(c.pidNsList.map((ns, i) => [ns, i]));
  return [...by.values()].sort((a, b) => (order.get(a.pidNs) ?? 0) - (order.get(b.pidNs) ?? 0));
}
