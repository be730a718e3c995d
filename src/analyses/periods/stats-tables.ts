/**
 * The statistics of `periodstats` (lttng-analyses 0.6.1's `cli/periods.py`): per period and per
 * parent (with active children, globally), their rows, LAMI cells and text tables.
 */
import { pushAll } from '../../util/push-all.js';
import type { Cell } from '../format/lami.js';
import { cell, PyFloat } from '../format/lami.js';
import { formatFixed } from '../format/pyfmt.js';
import { DurationStats, exactStdev } from '../stats.js';
import type { Aggregated, ChildStats } from './aggregate.js';
import type { PeriodDef } from './engine.js';
import type { Ctx } from './report-common.js';
import { us3 } from '../family-report.js';
import { L, R } from './report-common.js';

export interface PeriodRow {
  readonly name: string;
  readonly d: DurationStats;
  readonly durations: number[];
}

/** `_get_ordered_period_stats_list` over the period tree, with `_get_per_period_stats_result_table`'s filters. */
export function perPeriodRows(c: Ctx): PeriodRow[] {
  const out: PeriodRow[] = [];
  const visit = (def: PeriodDef): void => {
    const name = def.name;
    if (name === undefined) return;
    const s = c.r.stats.get(name);
    if (s === undefined) return;
    if (s.periods.length > 0 && c.selected(name)) {
      const durations = s.periods.map((p) => p.duration).filter(c.keep);
      const d = new DurationStats();
      for (const x of durations) d.add(x);
      if (d.count > 0) out.push({ name, d, durations });
    }
    const kids = [...def.children]
      .filter((k) => k.name !== undefined)
      .sort((a, b) => (a.name! < b.name! ? -1 : 1));
    for (const k of kids) visit(k);
  };
  for (const root of c.r.defs.roots) visit(root);
  return out;
}

/** `_print_period_tree`, whose children are printed once per sibling (kept). */
export function treeLines(defs: readonly PeriodDef[], level: number): string[] {
  const out: string[] = [];
  for (const d of defs) {
    out.push(`${level === 0 ? '' : `${' '.repeat((level - 1) * 4)}|-- `}${d.name ?? 'None'}`);
    for (let i = 0; i < d.children.length; i++) pushAll(out, treeLines(d.children, level + 1));
  }
  return out;
}

export interface ParentRow {
  readonly child: string;
  readonly parent: string;
  readonly c: ChildStats;
  readonly nr: number;
  readonly active: number;
  readonly global: { durations: number[]; counts: number[]; pcs: number[] };
}

export function parentRows(c: Ctx, agg: Aggregated): ParentRow[] {
  const rows: ParentRow[] = [];
  for (const [period, ps] of agg.perPeriod) {
    for (const [child, cs] of ps.children) {
      if (!c.selected(child)) continue;
      const active = cs.parentCount.get(period);
      if (active === undefined) continue;
      const zeros = new Array<number>(Math.max(0, ps.nrPeriods - active)).fill(0);
      rows.push({
        child,
        parent: period,
        c: cs,
        nr: ps.nrPeriods,
        active,
        global: {
          durations: [...cs.durations, ...zeros],
          counts: [...cs.counts, ...zeros],
          pcs: [...cs.pcs, ...zeros],
        },
      });
    }
  }
  return rows;
}

export function statsRowCells(c: Ctx, r: PeriodRow): Cell[] {
  const d = r.d;
  return [
    cell.string(c.path(r.name)),
    cell.number(d.count),
    cell.duration(d.min, false),
    cell.duration(d.sum / d.count, true),
    cell.duration(d.max, false),
    d.count < 2 ? cell.unknown() : cell.duration(exactStdev(r.durations), true),
    cell.duration(d.sum, false),
  ];
}

/** A LAMI number, as Python holds it (a float prints `1.0`). */
const num = (v: number, float: boolean): Cell =>
  float ? { class: 'number', value: new PyFloat(v) } : cell.number(v);

interface ParentTables {
  readonly stats: Cell[][];
  readonly count: Cell[][];
  readonly pc: Cell[][];
  readonly gStats: Cell[][];
  readonly gCount: Cell[][];
  readonly gPc: Cell[][];
}

/**
 * The per-parent statistics of durations, counts and usage ratios: their tables (with active
 * children, globally), the `ChildStats` fields they read, and whether they are ratios (floats).
 */
const PARENT_KINDS = [
  ['stats', 'gStats', 'min', 'total', 'max', 'durations', false],
  ['count', 'gCount', 'minCount', 'totalCount', 'maxCount', 'counts', false],
  ['pc', 'gPc', 'minPc', 'totalPc', 'maxPc', 'pcs', true],
] as const;

export function parentTables(c: Ctx, rows: readonly ParentRow[]): ParentTables {
  const t: ParentTables = { stats: [], count: [], pc: [], gStats: [], gCount: [], gPc: [] };
  for (const x of rows) {
    const s = x.c;
    const names = [cell.string(c.path(x.child)), cell.string(c.path(x.parent))];
    const many = s.durations.length > 2;
    const gMany = x.nr > 2;
    const partial = x.active < x.nr;
    for (const [active, global, minKey, totalKey, maxKey, values, pc] of PARENT_KINDS) {
      // Durations are LAMI durations, counts and ratios numbers.
      const v = (n: number, float: boolean): Cell =>
        values === 'durations' ? cell.duration(n, float) : num(n, float);
      const min = s[minKey]!;
      t[active].push([
        ...names,
        v(min, pc),
        v(s[totalKey] / x.active, true),
        v(s[maxKey], pc),
        many ? v(exactStdev(s[values]), true) : cell.unknown(),
      ]);
      t[global].push([
        ...names,
        v(partial ? 0 : min, pc && !partial),
        v(s[totalKey] / x.nr, true),
        v(s[maxKey], pc),
        gMany ? v(exactStdev(x.global[values]), true) : cell.unknown(),
      ]);
    }
  }
  return t;
}

function cellValue(x: Cell): number {
  const v = (x as { value: number | PyFloat }).value;
  return v instanceof PyFloat ? v.value : v;
}

export function parentTextLines(
  title: string,
  subtitle: string,
  rows: Cell[][],
  kind: 'us' | '%' | 'count',
): string[] {
  if (rows.length === 0) return [];
  const f = (...x: string[]): string =>
    `${L(x[0]!, 25)} ${L(x[1]!, 25)}  ${x
      .slice(2)
      .map((v) => R(v, 12))
      .join('  ')}`;
  const lines = ['', kind === 'us' ? `${title} (us)` : kind === '%' ? `${title} (%)` : title, subtitle];
  lines.push(f('Period', 'Parent', 'Min', 'Avg', 'Max', 'Stdev'));
  for (const r of rows) {
    const name = (r[0] as { value: string }).value;
    const parent = (r[1] as { value: string }).value;
    const st = (r[5] as { class: string }).class === 'unknown' ? '?' : null;
    if (kind === 'us') {
      lines.push(
        f(
          name,
          parent,
          us3(cellValue(r[2]!)),
          us3(cellValue(r[3]!)),
          us3(cellValue(r[4]!)),
          st ?? us3(cellValue(r[5]!)),
        ),
      );
    } else {
      const int = (v: number): string => String(Math.trunc(v));
      lines.push(
        f(
          name,
          parent,
          int(cellValue(r[2]!)),
          formatFixed(cellValue(r[3]!), 3),
          int(cellValue(r[4]!)),
          st ?? formatFixed(cellValue(r[5]!), 3),
        ),
      );
    }
  }
  return lines;
}
