/**
 * The period analysis (`periodlog`, `periodtop`, `periodstats`, `periodfreq`): every completed
 * period of the `--period` definitions, with its captures, its parent and its children, and per
 * definition the periods' statistics. Follows lttng-analyses 0.6.1 (`core/periods.py`): a
 * period is listed when it begins and dropped if it never completes; a child is attached to its
 * parent when it completes; the statistics of an unnamed definition restart at each of its
 * periods' beginning (kept).
 */
import type { ClassInfo, EventFn } from '../../model/dispatch.js';
import type { AnalysisContext, AnalysisHandler } from '../handler.js';
import type { PeriodRef, PeriodSink } from '../ticks.js';
import type { Period, PeriodDefs } from './engine.js';
import type { PyVal } from './values.js';
import { reprOf } from './values.js';

/** lttng-analyses' `PeriodEvent`. */
export class PeriodEvent {
  endTs: number | undefined;
  beginCaptures: ReadonlyMap<string, PyVal | undefined> | undefined;
  endCaptures: ReadonlyMap<string, PyVal | undefined> | undefined;
  /** Completed children, in completion order. */
  readonly children: PeriodEvent[] = [];

  constructor(
    readonly startTs: number,
    /** Definition name ('' for an unnamed definition). */
    readonly name: string,
    readonly parent: PeriodEvent | undefined,
  ) {}

  get duration(): number {
    return this.endTs! - this.startTs;
  }
}

/** `str(dict)` of captures as lttng-analyses prints them (`None` before the period ends). */
export function capturesText(c: ReadonlyMap<string, PyVal | undefined> | undefined): string {
  if (c === undefined) return 'None';
  const parts: string[] = [];
  for (const [k, v] of c) parts.push(`${reprOf({ t: 'str', v: k })}: ${reprOf(v)}`);
  return `{${parts.join(', ')}}`;
}

/** lttng-analyses' `PeriodStats`: the completed periods of one definition. */
export interface PeriodStatsOf {
  readonly name: string;
  periods: PeriodEvent[];
}

export interface PeriodResult {
  readonly defs: PeriodDefs;
  /** Completed periods in order of their beginning. */
  readonly all: PeriodEvent[];
  /** By definition name ('' for unnamed), in order of first period. */
  readonly stats: Map<string, PeriodStatsOf>;
  /** Last event of the run (the tables' range ends there; it begins at the run's first event). */
  readonly lastTs: number;
}

export class PeriodHandler implements AnalysisHandler, PeriodSink {
  readonly name = 'period';
  result: PeriodResult | undefined;
  private readonly all: PeriodEvent[] = [];
  private readonly stats = new Map<string, PeriodStatsOf>();
  private readonly current = new Map<PeriodRef, PeriodEvent>();

  constructor(private readonly defs: PeriodDefs | undefined) {}

  reset(ctx: AnalysisContext): void {
    void ctx;
  }

  bind(info: ClassInfo): EventFn | undefined {
    void info;
    return undefined;
  }

  begin(ts: number): void {
    void ts;
  }

  openPeriod(ref: PeriodRef): void {
    const p = ref as Period;
    if (p.def === undefined) return;
    const name = p.def.name ?? '';
    // `if definition.name not in stats`: an unnamed definition (None) is never found and starts over.
    if (p.def.name === undefined || !this.stats.has(name)) this.stats.set(name, { name, periods: [] });
    const parent = p.parent === undefined ? undefined : this.current.get(p.parent);
    const ev = new PeriodEvent(p.begin, name, parent);
    this.all.push(ev);
    this.current.set(p, ev);
  }

  closePeriod(ref: PeriodRef, completed: boolean, end: number): void {
    const p = ref as Period;
    const ev = this.current.get(p);
    if (ev === undefined) return;
    if (!completed) {
      const i = this.all.indexOf(ev);
      if (i >= 0) this.all.splice(i, 1);
      return;
    }
    ev.endTs = end;
    ev.beginCaptures = p.beginCaptures;
    ev.endCaptures = p.endCaptures;
    this.stats.get(ev.name)!.periods.push(ev);
    if (ev.parent !== undefined) ev.parent.children.push(ev);
    this.current.delete(p);
  }

  finalize(lastTs: number): void {
    if (this.defs === undefined) return;
    this.result = { defs: this.defs, all: this.all, stats: this.stats, lastTs };
  }
}
