/**
 * Text and LAMI of `periodlog`, `periodtop`, `periodstats` and `periodfreq`: lttng-analyses
 * 0.6.1's tables (`cli/periods.py`), byte for byte, over the whole run (from its first event to
 * its last). `--group-by` and `--aggregate-by` are not implemented (the commands refuse them).
 */
import type { ReportOptions } from '../format/common.js';
import { absNs, groupByClass, range, timerangeLine, tsText, VERSION_FIELDS } from '../format/common.js';
import type { AnalysisMeta, Cell, ResultTable, TableClass } from '../format/lami.js';
import { cell, col, PyFloat } from '../format/lami.js';
import { formatFixed, padLeftAlign, padRightAlign } from '../format/pyfmt.js';
import { freqGraphLines } from '../format/termgraph.js';
import type { FreqRow } from '../freq.js';
import { freqBounds, freqRows, UniformFreq } from '../freq.js';
import { DurationStats, exactStdev } from '../stats.js';
import type { Aggregated, ChildStats } from './aggregate.js';
import { aggregate } from './aggregate.js';
import type { PeriodEvent, PeriodResult } from './analysis.js';
import { capturesText } from './analysis.js';
import type { PeriodDef, PyVal } from './engine.js';

export interface PeriodReportOptions extends ReportOptions {
  readonly log: boolean;
  readonly top: boolean;
  readonly stats: boolean;
  readonly freq: boolean;
  readonly freqResolution: number;
  readonly freqUniform: boolean;
  /** `--min`/`--max` (ns): bounds of the distributions. */
  readonly min: number | undefined;
  readonly max: number | undefined;
  /** `--min-duration`/`--max-duration` (µs): the periods counted. */
  readonly minDuration: number | undefined;
  readonly maxDuration: number | undefined;
  /**
   * `--select` as given: lttng-analyses tests `name in args.select` on the string, so a name is
   * selected when it occurs anywhere in it (kept).
   */
  readonly select: string | undefined;
  readonly orderByHierarchy: boolean;
  /** First event of the run (the tables' range begins there). */
  readonly firstTs: number;
  readonly multiDay: boolean;
}

const EVENT_COLUMNS = [
  col('begin_ts', 'Period begin timestamp', 'timestamp'),
  col('end_ts', 'Period end timestamp', 'timestamp'),
  col('duration', 'Period duration', 'duration'),
  col('name', 'Period name', 'string'),
  col('begin_captures', 'Begin captures', 'string'),
  col('end_captures', 'End captures', 'string'),
];
const PARENT_COLUMNS = (what: 'duration' | 'count' | 'pc'): ReturnType<typeof col>[] => {
  const base = [col('name', 'Period name', 'string'), col('parent', 'Parent', 'string')];
  if (what === 'duration') {
    return [
      ...base,
      col('min_duration', 'Minimum duration', 'duration'),
      col('avg_duration', 'Average duration', 'duration'),
      col('max_duration', 'Maximum duration', 'duration'),
      col('stdev_duration', 'Period duration standard deviation', 'duration'),
    ];
  }
  return [
    ...base,
    col('min', 'Minimum', 'number', 'occurences'),
    col('avg', 'Average', 'number', 'occurences'),
    col('max', 'Maximum', 'number', 'occurences'),
    col('stdev', 'Standard deviation', 'duration'),
  ];
};

export const PERIOD_CLASSES = {
  log: { name: 'log', title: 'Period log', columns: EVENT_COLUMNS },
  top: { name: 'top', title: 'Period top', columns: EVENT_COLUMNS },
  stats: {
    name: 'per_period_stats',
    title: 'Period statistics',
    columns: [
      col('name', 'Period name', 'string'),
      col('count', 'Period count', 'number', 'occurences'),
      col('min_duration', 'Minimum duration', 'duration'),
      col('avg_duration', 'Average duration', 'duration'),
      col('max_duration', 'Maximum duration', 'duration'),
      col('stdev_duration', 'Period duration standard deviation', 'duration'),
      col('runtime', 'Total runtime', 'duration'),
    ],
  },
  freqDuration: {
    name: 'freq_duration',
    title: 'Period duration frequency distribution',
    columns: [
      col('lower', 'Duration (lower bound)', 'duration'),
      col('upper', 'Duration (upper bound)', 'duration'),
      col('count', 'Period duration', 'number', 'us'),
    ],
  },
  freqCount: {
    name: 'freq_count',
    title: 'Period count frequency distribution',
    columns: [
      col('lower', 'Count (lower bound)', 'number'),
      col('upper', 'Count (upper bound)', 'number'),
      col('count', 'Period count', 'number', 'count'),
    ],
  },
  freqPc: {
    name: 'freq_ratio',
    title: 'Period usage ratio frequency distribution',
    columns: [
      col('lower', 'Ratio (lower bound)', 'number'),
      col('upper', 'Ratio (upper bound)', 'number'),
      col('count', 'Period usage ratio', 'number', '%'),
    ],
  },
  parentStats: {
    name: 'per_parent_stats',
    title: 'Per-parent period duration statistics',
    columns: PARENT_COLUMNS('duration'),
  },
  parentCount: {
    name: 'per_parent_count',
    title: 'Per-parent period count statistics',
    columns: PARENT_COLUMNS('count'),
  },
  parentPc: {
    name: 'per_parent_percentage',
    title: 'Per-parent duration ratio',
    columns: PARENT_COLUMNS('pc'),
  },
} satisfies Record<string, TableClass>;

export function periodMeta(version: string): AnalysisMeta {
  return {
    title: 'Periods analysis',
    description: 'Periods frequency distribution, statistics, top, and log',
    tags: ['period', 'stats', 'freq', 'top', 'log'],
    tableClasses: Object.values(PERIOD_CLASSES),
    version: VERSION_FIELDS(version),
  };
}

interface Ctx {
  readonly o: PeriodReportOptions;
  readonly r: PeriodResult;
  readonly keep: (d: number) => boolean;
  readonly selected: (name: string) => boolean;
  readonly path: (name: string) => string;
}

function context(r: PeriodResult, o: PeriodReportOptions): Ctx {
  const keep = (d: number): boolean =>
    !(o.minDuration !== undefined && d < o.minDuration * 1000) &&
    !(o.maxDuration !== undefined && d > o.maxDuration * 1000);
  const selected = (name: string): boolean => o.select === undefined || o.select.includes(name);
  const path = (name: string): string => (name === '' ? '' : r.defs.fullPath(name));
  return { o, r, keep, selected, path };
}

/** Python's `str(value)` of a captured value. */
function strOf(v: PyVal | undefined): string {
  if (v === undefined) return 'None';
  if (v.t === 'str') return v.v;
  if (v.t === 'int') return String(v.v);
  if (v.t === 'float') return pyFloatText(v.v);
  return v.repr;
}

function pyFloatText(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const s = String(x);
  return s.includes('e') ? s.replace(/e([+-])(\d)$/, 'e$10$2') : s;
}

const us3 = (ns: number): string => formatFixed(ns / 1000, 3);
const L = padLeftAlign;
const R = padRightAlign;

// --- log and top -------------------------------------------------------------------------------

function eventCells(c: Ctx, e: PeriodEvent, fullName: boolean): Cell[] {
  return [
    cell.timestamp(absNs(c.o, e.startTs)),
    cell.timestamp(absNs(c.o, e.endTs!)),
    cell.duration(e.duration, false),
    cell.string(fullName ? c.path(e.name) : e.name),
    cell.string(capturesText(e.beginCaptures)),
    cell.string(capturesText(e.endCaptures)),
  ];
}

function topEvents(c: Ctx): PeriodEvent[] {
  const out: PeriodEvent[] = [];
  for (const e of [...c.r.all].sort((a, b) => b.duration - a.duration)) {
    if (!c.keep(e.duration)) continue;
    if (!c.selected(e.name)) continue;
    out.push(e);
    if (out.length === c.o.limit) break;
  }
  return out;
}

function eventLines(c: Ctx, title: string, events: readonly PeriodEvent[], fullName: boolean): string[] {
  const o = c.o;
  const lines = [
    '',
    title,
    `${L('Begin', 20)} ${L('End', 19)} ${R('Duration (us)', 15)} ${L('Name', 24)} ${L('Begin capture', 35)} ${L('End capture', 35)}`,
  ];
  for (const e of events) {
    // Captures sorted by name, printed from the last (OrderedDict.popitem()).
    const b = [...(e.beginCaptures ?? [])].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const en = [...(e.endCaptures ?? [])].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const pop = (l: Array<[string, PyVal | undefined]>): string => {
      const x = l.pop();
      return x === undefined ? '' : `${x[0]} = ${strOf(x[1])}`;
    };
    lines.push(
      `[${L(tsText(o, e.startTs, o.multiDay), 18)}, ${L(tsText(o, e.endTs!, o.multiDay), 18)}] ${R(us3(e.duration), 15)} ` +
        `${L(fullName ? c.path(e.name) : e.name, 24)} ${L(pop(b), 35)} ${L(pop(en), 35)}`,
    );
    const n = Math.max(b.length, en.length);
    for (let i = 0; i < n; i++)
      lines.push(`${L('', 18)} ${L('', 18)} ${R('', 18)} ${L('', 24)} ${L(pop(b), 35)} ${L(pop(en), 35)}`);
  }
  return lines;
}

// --- statistics --------------------------------------------------------------------------------

interface PeriodRow {
  readonly name: string;
  readonly d: DurationStats;
  readonly durations: number[];
}

/** `_get_ordered_period_stats_list` over the period tree, with `_get_per_period_stats_result_table`'s filters. */
function perPeriodRows(c: Ctx): PeriodRow[] {
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
function treeLines(defs: readonly PeriodDef[], level: number): string[] {
  const out: string[] = [];
  for (const d of defs) {
    out.push(`${level === 0 ? '' : `${' '.repeat((level - 1) * 4)}|-- `}${d.name ?? 'None'}`);
    for (let i = 0; i < d.children.length; i++) out.push(...treeLines(d.children, level + 1));
  }
  return out;
}

interface ParentRow {
  readonly child: string;
  readonly parent: string;
  readonly c: ChildStats;
  readonly nr: number;
  readonly active: number;
  readonly global: { durations: number[]; counts: number[]; pcs: number[] };
}

function parentRows(c: Ctx, agg: Aggregated): ParentRow[] {
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

function statsRowCells(c: Ctx, r: PeriodRow): Cell[] {
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

function parentTables(c: Ctx, rows: readonly ParentRow[]): ParentTables {
  const t: ParentTables = { stats: [], count: [], pc: [], gStats: [], gCount: [], gPc: [] };
  for (const x of rows) {
    const s = x.c;
    const names = [cell.string(c.path(x.child)), cell.string(c.path(x.parent))];
    const many = s.durations.length > 2;
    const gMany = x.nr > 2;
    const partial = x.active < x.nr;
    t.stats.push([
      ...names,
      cell.duration(s.min!, false),
      cell.duration(s.total / x.active, true),
      cell.duration(s.max, false),
      many ? cell.duration(exactStdev(s.durations), true) : cell.unknown(),
    ]);
    t.count.push([
      ...names,
      num(s.minCount!, false),
      num(s.totalCount / x.active, true),
      num(s.maxCount, false),
      many ? num(exactStdev(s.counts), true) : cell.unknown(),
    ]);
    t.pc.push([
      ...names,
      num(s.minPc!, true),
      num(s.totalPc / x.active, true),
      num(s.maxPc, true),
      many ? num(exactStdev(s.pcs), true) : cell.unknown(),
    ]);
    t.gStats.push([
      ...names,
      cell.duration(partial ? 0 : s.min!, false),
      cell.duration(s.total / x.nr, true),
      cell.duration(s.max, false),
      gMany ? cell.duration(exactStdev(x.global.durations), true) : cell.unknown(),
    ]);
    t.gCount.push([
      ...names,
      num(partial ? 0 : s.minCount!, false),
      num(s.totalCount / x.nr, true),
      num(s.maxCount, false),
      gMany ? num(exactStdev(x.global.counts), true) : cell.unknown(),
    ]);
    t.gPc.push([
      ...names,
      num(partial ? 0 : s.minPc!, !partial),
      num(s.totalPc / x.nr, true),
      num(s.maxPc, true),
      gMany ? num(exactStdev(x.global.pcs), true) : cell.unknown(),
    ]);
  }
  return t;
}

function cellValue(x: Cell): number {
  const v = (x as { value: number | PyFloat }).value;
  return v instanceof PyFloat ? v.value : v;
}

function parentTextLines(
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

// --- frequency distributions -------------------------------------------------------------------

interface FreqTable {
  readonly cls: TableClass;
  readonly subtitle: string;
  readonly rows: FreqRow[];
  readonly unit: string;
}

function freqTables(c: Ctx, perPeriod: readonly PeriodRow[], rows: readonly ParentRow[]): FreqTable[] {
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

function freqGroups(tables: readonly FreqTable[]): { perPeriod: FreqTable[]; parent: FreqTable[][] } {
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

// --- rendering ---------------------------------------------------------------------------------

interface Built {
  readonly c: Ctx;
  readonly perPeriod: PeriodRow[];
  readonly parents: ParentRow[];
  readonly agg: Aggregated;
  readonly freq: FreqTable[];
}

function build(r: PeriodResult, o: PeriodReportOptions): Built {
  const c = context(r, o);
  const agg = aggregate(r.defs, r.all, c.keep, o.orderByHierarchy || o.stats || o.freq);
  const perPeriod = o.stats || o.freq ? perPeriodRows(c) : [];
  const parents = o.stats || o.freq ? parentRows(c, agg) : [];
  const freq = o.freq ? freqTables(c, perPeriod, parents) : [];
  return { c, perPeriod, parents, agg, freq };
}

export function periodText(r: PeriodResult, o: PeriodReportOptions): string {
  const b = build(r, o);
  const c = b.c;
  const lines = [timerangeLine(o, o.firstTs, r.lastTs)];
  if (o.stats) {
    lines.push('Period tree:', ...treeLines(r.defs.roots, 0));
    if (b.perPeriod.length > 0) {
      const f = (...x: string[]): string =>
        `${L(x[0]!, 25)} ${R(x[1]!, 8)}  ${x
          .slice(2, 6)
          .map((v) => R(v, 12))
          .join('  ')} ${R(x[6]!, 12)}`;
      lines.push(
        '',
        `${PERIOD_CLASSES.stats.title} (us)`,
        f('Period', 'Count', 'Min', 'Avg', 'Max', 'Stdev', 'Runtime'),
      );
      for (const p of b.perPeriod) {
        const d = p.d;
        lines.push(
          f(
            c.path(p.name),
            String(d.count),
            us3(d.min),
            us3(d.sum / d.count),
            us3(d.max),
            d.count < 2 ? '?' : us3(exactStdev(p.durations)),
            us3(d.sum),
          ),
        );
      }
    }
    const t = parentTables(c, b.parents);
    const A = 'With active children';
    const G = 'Globally';
    lines.push(
      ...parentTextLines(PERIOD_CLASSES.parentStats.title, A, t.stats, 'us'),
      ...parentTextLines(PERIOD_CLASSES.parentPc.title, A, t.pc, '%'),
      ...parentTextLines(PERIOD_CLASSES.parentCount.title, A, t.count, 'count'),
      ...parentTextLines(PERIOD_CLASSES.parentStats.title, G, t.gStats, 'us'),
      ...parentTextLines(PERIOD_CLASSES.parentPc.title, G, t.gPc, '%'),
      ...parentTextLines(PERIOD_CLASSES.parentCount.title, G, t.gCount, 'count'),
    );
  }
  if (o.freq) {
    const g = freqGroups(b.freq);
    const order = [
      g.perPeriod,
      g.parent[0]!,
      g.parent[2]!,
      g.parent[1]!,
      g.parent[3]!,
      g.parent[5]!,
      g.parent[4]!,
    ];
    for (const list of order) {
      for (const f of list) {
        lines.push(
          ...freqGraphLines(
            `${f.cls.title} - ${f.subtitle}`,
            f.unit,
            f.rows.map((x) => ({ lower: x.lowerNs / 1000, count: x.count })),
          ),
        );
      }
    }
  }
  const aggregatedLog = o.log && !o.orderByHierarchy && o.select !== undefined && o.select !== '';
  if (o.log && !aggregatedLog) {
    const list = o.orderByHierarchy ? b.agg.hierarchical : r.all;
    lines.push(
      ...eventLines(
        c,
        PERIOD_CLASSES.log.title,
        list.filter((e) => c.keep(e.duration)),
        true,
      ),
    );
  }
  if (o.top) lines.push(...eventLines(c, PERIOD_CLASSES.top.title, topEvents(c), false));
  if (aggregatedLog) {
    // Rows need --aggregate-by (not implemented): the table's headers, as lttng-analyses prints them.
    const names = o.select!.split(',').map((x) => x.split('/').pop()!.trim());
    lines.push(
      '',
      'Aggregated log',
      `Aggregation of (${names.join(', ')}) by None`,
      `${L('', 35)} Parent ${L('', 32)} | ${L('', 35)} | ${L('', 25)} Durations (us) ${L('', 22)} |`,
      `${L('Begin', 20)} ${L('End', 19)} ${R('Duration (us)', 18)} ${L('Name', 15)} ${L('| Child name', 24)} ${R('Count', 12)} | ` +
        `${R('Min', 10)} ${R('Avg', 12)} ${R('Max', 12)} ${R('Stdev', 13)} ${R('Runtime', 12)} | ${R('Parent captures', 12)}`,
    );
  }
  return lines.join('\n') + '\n';
}

export function periodMi(r: PeriodResult, o: PeriodReportOptions): ResultTable[] {
  const b = build(r, o);
  const c = b.c;
  const { begin, end } = range(o, o.firstTs, r.lastTs);
  const t = (cls: TableClass, rows: Cell[][], subtitle?: string): ResultTable =>
    subtitle === undefined ? { cls, begin, end, rows } : { cls, begin, end, rows, subtitle };
  const out: ResultTable[] = [];
  if (o.log && (o.orderByHierarchy || o.select === undefined || o.select === '')) {
    const list = o.orderByHierarchy ? b.agg.hierarchical : r.all;
    out.push(
      t(
        PERIOD_CLASSES.log,
        list.filter((e) => c.keep(e.duration)).map((e) => eventCells(c, e, true)),
      ),
    );
  }
  if (o.top)
    out.push(
      t(
        PERIOD_CLASSES.top,
        topEvents(c).map((e) => eventCells(c, e, false)),
      ),
    );
  if (o.stats) {
    const pt = parentTables(c, b.parents);
    out.push(
      t(
        PERIOD_CLASSES.stats,
        b.perPeriod.map((p) => statsRowCells(c, p)),
      ),
      t(PERIOD_CLASSES.parentStats, pt.stats, 'With active children'),
      t(PERIOD_CLASSES.parentCount, pt.count, 'With active children'),
      t(PERIOD_CLASSES.parentPc, pt.pc, 'With active children'),
      t(PERIOD_CLASSES.parentStats, pt.gStats, 'Globally'),
      t(PERIOD_CLASSES.parentCount, pt.gCount, 'Globally'),
      t(PERIOD_CLASSES.parentPc, pt.gPc, 'Globally'),
    );
  }
  if (o.freq) {
    const g = freqGroups(b.freq);
    for (const list of [g.perPeriod, ...g.parent]) {
      for (const f of list) {
        out.push(
          t(
            f.cls,
            f.rows.map((x) => [
              cell.duration(x.lowerNs, true),
              cell.duration(x.upperNs, true),
              cell.number(x.count),
            ]),
            f.subtitle,
          ),
        );
      }
    }
  }
  return groupByClass(out);
}
