/**
 * What the analyses cut into periods share (sched.ts, io.ts, irq.ts): they read the
 * notifications of a model-level tracker rather than events, apply the event filter themselves,
 * keep one data object per open period (ticks.ts) and make a tick of it when the period ends.
 */
import type { EventRecord } from '../ctf/event.js';
import type { RecordFilter } from '../filter/options.js';
import type { ClassInfo, EventFn } from '../model/dispatch.js';
import type { SystemModel } from '../model/model.js';
import type { AnalysisContext, AnalysisHandler, ProcessFilter } from './handler.js';
import type { PeriodMode, PeriodRef, PeriodSink, Tick } from './ticks.js';
import { OpenPeriods } from './ticks.js';

/** `--min`/`--max` (ns) and how the run is cut into periods. */
export interface PeriodicOptions {
  readonly min?: number;
  readonly max?: number;
  readonly periods: PeriodMode;
}

/**
 * `Src` is the tracker whose notifications the handler reads, `PD` the data of an open period,
 * `T` what a tick keeps of it and `R` what the result shows of a tick.
 */
export abstract class PeriodicHandler<Src, PD, T, R = T, O extends PeriodicOptions = PeriodicOptions>
  implements AnalysisHandler, PeriodSink
{
  readonly filtersEvents = true;
  /** One tick per period, in order of closing (after `finalize`). */
  result: ReadonlyArray<Tick<R>> | undefined;
  protected model!: SystemModel;
  protected filter!: ProcessFilter;
  protected keep: RecordFilter | undefined;
  protected readonly open: OpenPeriods<PD>;
  /** The closed periods, in order of closing. */
  protected readonly ticks: Array<Tick<T>> = [];

  constructor(
    readonly name: string,
    protected readonly tracker: Src,
    protected readonly opts: O,
    make: () => PD,
  ) {
    this.open = new OpenPeriods<PD>(make);
  }

  reset(ctx: AnalysisContext): void {
    this.model = ctx.model;
    this.filter = ctx.filter;
    this.keep = ctx.keep;
    this.listen();
  }

  /** Registers the handler's listeners with its trackers (once, from `reset`). */
  protected abstract listen(): void;

  /** Whether the notifications of `ev` count: a period is open and the event filter keeps it. */
  protected counts(ev: EventRecord): boolean {
    return this.open.size > 0 && (this.keep === undefined || this.keep(ev));
  }

  /** The handler reads its tracker's notifications, no event class. */
  bind(info: ClassInfo): EventFn | undefined {
    void info;
    return undefined;
  }

  begin(ts: number): void {
    if (!this.opts.periods.defined) this.openPeriod({ begin: ts, name: undefined });
  }

  openPeriod(p: PeriodRef): void {
    this.open.openPeriod(p);
  }

  closePeriod(p: PeriodRef, completed: boolean, end: number): void {
    void completed;
    const pd = this.open.closePeriod(p);
    if (pd !== undefined)
      this.ticks.push({
        begin: p.begin,
        end,
        period: p,
        result: this.closed(pd),
      });
  }

  /** What a tick keeps of the data of a period that ends. */
  protected abstract closed(pd: PD): T;

  /** Closes the periods still open at the end of the run (`finalize`). */
  protected closeAll(lastTs: number): void {
    for (const p of this.open.refs()) this.closePeriod(p, false, lastTs);
  }

  abstract finalize(lastTs: number): void;
}
