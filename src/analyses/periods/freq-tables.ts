/**
 * The frequency distributions of `periodfreq` (lttng-analyses 0.6.1's `cli/periods.py`): per
 * period, and six per (parent, child), with shared bounds under `--freq-uniform`.
 */
import type { TableClass } from '../format/lami.js';
import type { FreqRow } from '../freq.js';
import { freqBounds, freqRows, UniformFreq } from '../freq.js';
import { DurationStats } from '../stats.js';
import type { Ctx } from './report-common.js';
import { PERIOD_CLASSES } from './report-common.js';
import type { ParentRow, PeriodRow } from './stats-tables.js';

export interface FreqTable {
  readonly cls: TableClass;
  readonly subtitle: string;
  readonly rows: FreqRow[];
  readonly unit: string;
}

export function freqTables(c: Ctx, perPeriod: readonly PeriodRow[], rows: readonly ParentRow[]): FreqTable[] {
  const o = c.o;
  const res = o.freqResolution;
  const uniform = new UniformFreq(res, o.min, o.max);
  const out: FreqTable[] = [];
  // Per period: the periods of each named definition, by name.
  const lists = [...c.r.stats.values()].filter((s) => s.periods.length > 0);
  let u: [number, number, number] | undefined;
  if (o.freqUniform)
    u = uniform.values(lists.flatMap((s) => s.periods.map((p) => p.duration).filter(c.keep)));
  for (const s of [...lists].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!c.selected(s.name)) continue;
    const ds = s.periods.map((p) => p.duration).filter(c.keep);
    const d = new DurationStats();
    for (const x of ds) d.add(x);
    const [lo, hi, step] =
      u ?? freqBounds(d.count > 0 ? d.min : undefined, d.count > 0 ? d.max : undefined, o.min, o.max, res);
    out.push({
      cls: PERIOD_CLASSES.freqDuration,
      subtitle: `Duration of period: ${s.name}`,
      rows: freqRows(ds, lo, hi, step, res),
      unit: 'us',
    });
  }
  void perPeriod;
  // Per parent: six distributions per (parent, child), parents sorted by name.
  const values = (
    v: readonly number[],
    ratio: number,
    cat: string,
    share: Map<string, [number, number, number]>,
  ): [number, number, number] => {
    if (o.freqUniform) return share.get(cat)!;
    const lo = o.min ?? Math.min(...v) / ratio;
    const hi = o.max ?? Math.max(...v) / ratio;
    return [lo, hi, (hi - lo) / res];
  };
  const share = new Map<string, [number, number, number]>();
  if (o.freqUniform) {
    const cats: Array<[string, (r: ParentRow) => number[], number]> = [
      ['duration', (r) => r.c.durations, 1000],
      ['global_duration', (r) => r.global.durations, 1000],
      ['count', (r) => r.c.counts, 1],
      ['global_count', (r) => r.global.counts, 1],
      ['pc', (r) => r.c.pcs, 1],
      ['global_pc', (r) => r.global.pcs, 1],
    ];
    for (const [cat, get, ratio] of cats) {
      let lo: number | undefined;
      let hi = 0;
      for (const r of rows) {
        const [a, b] = uniform.values(get(r), ratio, cat);
        if (lo === undefined || a < lo) lo = a;
        if (b > hi) hi = b;
      }
      share.set(cat, lo === undefined ? [0, 0, 0] : [lo, hi, (hi - lo) / res]);
    }
  }
  const sorted = [...rows].sort((a, b) => (a.parent < b.parent ? -1 : a.parent > b.parent ? 1 : 0));
  const perParent: FreqTable[][] = [[], [], [], [], [], []];
  for (const r of sorted) {
    const ch = c.path(r.child);
    const pa = c.path(r.parent);
    const add = (
      i: number,
      cls: TableClass,
      sub: string,
      v: readonly number[],
      ratio: number,
      cat: string,
      unit: string,
    ): void => {
      const [lo, hi, step] = values(v, ratio, cat, share);
      perParent[i]!.push({
        cls,
        subtitle: sub,
        rows: freqRows(v.filter(c.keep), lo, hi, step, res, ratio),
        unit,
      });
    };
    add(0, PERIOD_CLASSES.freqDuration, `Duration of ${ch} per ${pa}`, r.c.durations, 1000, 'duration', 'us');
    add(1, PERIOD_CLASSES.freqCount, `Number of ${ch} per ${pa}`, r.c.counts, 1, 'count', 'instances');
    add(2, PERIOD_CLASSES.freqPc, `Usage ratio of ${ch} per ${pa}`, r.c.pcs, 1, 'pc', '%');
    add(
      3,
      PERIOD_CLASSES.freqDuration,
      `Global duration of ${ch} per ${pa}`,
      r.global.durations,
      1000,
      'global_duration',
      'us',
    );
    add(
      4,
      PERIOD_CLASSES.freqCount,
      `Global number of ${ch} per ${pa}`,
      r.global.counts,
      1,
      'global_count',
      'instances',
    );
    add(5, PERIOD_CLASSES.freqPc, `Global usage ratio of ${ch} per ${pa}`, r.global.pcs, 1, 'global_pc', '%');
  }
  return [...out, ...perParent.flat()];
}

export function freqGroups(tables: readonly FreqTable[]): { perPeriod: FreqTable[]; parent: FreqTable[][] } {
  const perPeriod = tables.filter((t) => t.subtitle.startsWith('Duration of period: '));
  const rest = tables.filter((t) => !t.subtitle.startsWith('Duration of period: '));
  const kinds = [
    'Duration of ',
    'Number of ',
    'Usage ratio of ',
    'Global duration of ',
    'Global number of ',
    'Global usage ratio of ',
  ];
  return { perPeriod, parent: kinds.map((k) => rest.filter((t) => t.subtitle.startsWith(k))) };
}
