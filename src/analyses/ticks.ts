/**
 * Periods of analysis, as lttng-analyses 0.6.1 cuts a run (`core/analysis.py`): without
 * `--period`/`--refresh`, one period from the first event at or after `--begin` to the last
 * event; with `--refresh`, consecutive periods of that length; with `--period`, the periods the
 * period engine opens and closes (src/analyses/periods/). An analysis keeps one data object per
 * open period and emits a *tick* (its tables for that period) when the period ends; the
 * notifications of an event go to every period open at that event.
 */

/** One period instance. */
export interface PeriodRef {
  /** ts of the event that began it. */
  readonly begin: number;
  /** Name of its definition (undefined: no definition: the whole run, or a `--refresh` slice). */
  readonly name: string | undefined;
}

/** What the period driver tells analyses. */
export interface PeriodSink {
  openPeriod(p: PeriodRef): void;
  /** `end`: ts of the event that ended it (or of the last event, at the end of the run). */
  closePeriod(p: PeriodRef, completed: boolean, end: number): void;
}

/** How the run is cut into periods (set by the session from the options). */
export interface PeriodMode {
  /** `--period` definitions are given: the driver opens periods, handlers open none at `begin`. */
  readonly defined: boolean;
}

export const SINGLE_PERIOD: PeriodMode = { defined: false };

/** Open period data of a handler, in opening order. */
export class OpenPeriods<PD> {
  private readonly open = new Map<PeriodRef, PD>();

  constructor(private readonly make: (p: PeriodRef) => PD) {}

  openPeriod(p: PeriodRef): PD {
    const pd = this.make(p);
    this.open.set(p, pd);
    return pd;
  }

  /** Removes and returns the data of `p` (undefined if it was not open). */
  closePeriod(p: PeriodRef): PD | undefined {
    const pd = this.open.get(p);
    this.open.delete(p);
    return pd;
  }

  get size(): number {
    return this.open.size;
  }

  values(): IterableIterator<PD> {
    return this.open.values();
  }

  refs(): PeriodRef[] {
    return [...this.open.keys()];
  }
}

/** A closed period's results. */
export interface Tick<R> {
  readonly begin: number;
  readonly end: number;
  readonly period: PeriodRef;
  readonly result: R;
}
