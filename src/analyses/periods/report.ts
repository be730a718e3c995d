/**
 * Text and LAMI of `periodlog`, `periodtop`, `periodstats` and `periodfreq`: lttng-analyses
 * 0.6.1's tables (`cli/periods.py`), byte for byte, over the whole run (from its first event to
 * its last). `--group-by` and `--aggregate-by` are not implemented (the commands refuse them).
 */
import { pushAll } from '../../util/push-all.js';
import { freqCells, freqLines, us3 } from '../family-report.js';
import { absNs, analysisMeta, groupByClass, tablesOf, timerangeLine, tsText } from '../format/common.js';
import type { Cell, ResultTable } from '../format/lami.js';
import { cell } from '../format/lami.js';
import { exactStdev } from '../stats.js';
import type { Aggregated } from './aggregate.js';
import { aggregate } from './aggregate.js';
import type { PeriodEvent, PeriodResult } from './analysis.js';
import { capturesText } from './analysis.js';
import type { PyVal } from './values.js';
import type { FreqTable } from './freq-tables.js';
import { freqGroups, freqTables } from './freq-tables.js';
import type { Ctx, PeriodReportOptions } from './report-common.js';
import { context, L, PERIOD_CLASSES, R } from './report-common.js';
import type { ParentRow, PeriodRow } from './stats-tables.js';
import {
  parentRows,
  parentTables,
  parentTextLines,
  perPeriodRows,
  statsRowCells,
  treeLines,
} from './stats-tables.js';

export const periodMeta = analysisMeta(
  'Periods analysis',
  'Periods frequency distribution, statistics, top, and log',
  ['period', 'stats', 'freq', 'top', 'log'],
  Object.values(PERIOD_CLASSES),
);

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
      for (const f of list) pushAll(lines, freqLines(`${f.cls.title} - ${f.subtitle}`, f.unit, f.rows));
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
  if (o.top) pushAll(lines, eventLines(c, PERIOD_CLASSES.top.title, topEvents(c), false));
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
  const t = tablesOf(o, o.firstTs, r.lastTs);
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
      for (const f of list) out.push(t(f.cls, freqCells(f.rows), f.subtitle));
    }
  }
  return groupByClass(out);
}
