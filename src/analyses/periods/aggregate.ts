/**
 * The statistics of periods relative to their parents (lttng-analyses 0.6.1 `cli/periods.py`:
 * `_get_aggregated_lists`, `_hierarchical_sub`, `_AggregatedPeriodStats`, and
 * `_get_per_parent_stats_result_table`'s numbers): for each period definition with children, per
 * child definition, the count, total duration and share of each parent period its children
 * took, over the parents that had such children ("with active children") and over all parents
 * ("globally", the others counting as zeros).
 *
 * lttng-analyses' quirks are kept: a grandchild's duration is counted once per level it climbs
 * (more for deeper trees), a period whose duration is filtered out hides its children, and the
 * standard deviations need more than two values.
 */
import type { PeriodDefs } from './engine.js';
import type { PeriodEvent } from './analysis.js';

/** `_PeriodStats`: the numbers of one child definition under one parent definition. */
export class ChildStats {
  min: number | undefined;
  max = 0;
  total = 0;
  readonly durations: number[] = [];
  minCount: number | undefined;
  maxCount = 0;
  totalCount = 0;
  readonly counts: number[] = [];
  minPc: number | undefined;
  maxPc = 0;
  totalPc = 0;
  readonly pcs: number[] = [];
  /** Parent periods (by parent definition name) that had this child. */
  readonly parentCount = new Map<string, number>();

  addCount(n: number): void {
    if (this.minCount === undefined || n < this.minCount) this.minCount = n;
    if (this.maxCount < n) this.maxCount = n;
    this.totalCount += n;
    this.counts.push(n);
  }

  addDuration(d: number): void {
    if (this.min === undefined || d < this.min) this.min = d;
    if (this.max < d) this.max = d;
    this.total += d;
    this.durations.push(d);
  }

  addPc(pc: number): void {
    if (this.minPc === undefined || pc < this.minPc) this.minPc = pc;
    if (this.maxPc < pc) this.maxPc = pc;
    this.totalPc += pc;
    this.pcs.push(pc);
  }
}

/** `_AggregatedPeriodStats` of one definition. */
export class ParentStats {
  /** Every descendant definition, in definition order (depth first). */
  readonly children = new Map<string, ChildStats>();
  nrPeriods = 0;

  constructor(
    defs: PeriodDefs,
    readonly name: string,
  ) {
    const def = defs.named.get(name);
    const walk = (d: NonNullable<typeof def>): void => {
      for (const c of d.children) {
        this.children.set(c.name ?? 'None', new ChildStats());
        walk(c);
      }
    };
    if (def !== undefined) walk(def);
  }

  finishPeriod(start: number, end: number, children: ReadonlyMap<string, number[]>): void {
    const parentDuration = end - start;
    for (const [child, ds] of children) {
      const c = this.children.get(child);
      if (c === undefined) continue;
      let d = 0;
      for (const x of ds) d += x;
      c.addCount(ds.length);
      c.addDuration(d);
      c.addPc((d / parentDuration) * 100);
      c.parentCount.set(this.name, (c.parentCount.get(this.name) ?? 0) + 1);
    }
    this.nrPeriods++;
  }
}

/** `_TmpAggregation`: the children durations of a period, pushed up to every ancestor. */
class TmpAggregation {
  readonly children = new Map<string, number[]>();
  constructor(readonly parent: TmpAggregation | undefined) {}

  add(name: string, d: number): void {
    let l = this.children.get(name);
    if (l === undefined) {
      l = [];
      this.children.set(name, l);
    }
    l.push(d);
    // As lttng-analyses does: each ancestor adds it and climbs again itself.
    let p = this.parent;
    while (p !== undefined) {
      p.add(name, d);
      p = p.parent;
    }
  }
}

export interface Aggregated {
  /** Periods in hierarchy order (each root followed by its descendants). */
  readonly hierarchical: PeriodEvent[];
  /** By definition name, in order of first appearance in the hierarchy walk. */
  readonly perPeriod: Map<string, ParentStats>;
}

export function aggregate(
  defs: PeriodDefs,
  all: readonly PeriodEvent[],
  keep: (d: number) => boolean,
  needed: boolean,
): Aggregated {
  const hierarchical: PeriodEvent[] = [];
  const perPeriod = new Map<string, ParentStats>();
  if (!needed) return { hierarchical, perPeriod };
  const stats = (name: string): ParentStats => {
    let s = perPeriod.get(name);
    if (s === undefined) {
      s = new ParentStats(defs, name);
      perPeriod.set(name, s);
    }
    return s;
  };
  const walk = (ev: PeriodEvent, agg: TmpAggregation): void => {
    hierarchical.push(ev);
    for (const child of ev.children) {
      if (!keep(child.duration)) continue;
      stats(child.name);
      agg.add(child.name, child.duration);
      walk(child, new TmpAggregation(agg));
    }
    perPeriod.get(ev.name)!.finishPeriod(ev.startTs, ev.endTs!, agg.children);
  };
  for (const ev of all) {
    if (!keep(ev.duration) || ev.parent !== undefined) continue;
    stats(ev.name);
    walk(ev, new TmpAggregation(undefined));
  }
  return { hierarchical, perPeriod };
}
