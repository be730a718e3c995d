/**
 * LAMI 1.0 (LTTng Analyses Machine Interface) documents, shaped like lttng-analyses' `-mi`
 * commands produce them: result tables with a class (or an inline class inheriting one, with a
 * subtitle), a time range, and rows of typed data objects; plus the metadata document.
 *
 * Serialisation follows Python's `json.dumps` (`, ` and `: ` separators, floats in Python's
 * repr, exact big integers), so our output can be compared with lttng-analyses' as text.
 */
import { pyFloatRepr } from './pyfmt.js';

/** A float that must print as a float even when integral (Python `100.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type Json = null | boolean | string | number | bigint | PyFloat | Json[] | { [k: string]: Json };

/** `json.dumps` of Python for our values. */
export function pyJson(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, escapeNonAscii);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return floatJson(v);
  }
  if (v instanceof PyFloat) return floatJson(v.value);
  if (Array.isArray(v)) return '[' + v.map(pyJson).join(', ') + ']';
  return (
    '{' +
    Object.entries(v)
      .map(([k, x]) => `${pyJson(k)}: ${pyJson(x)}`)
      .join(', ') +
    '}'
  );
}

function floatJson(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  return pyFloatRepr(x);
}

function escapeNonAscii(ch: string): string {
  return '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
}

// --- data objects ------------------------------------------------------------------------------

export type Cell = { [k: string]: Json } | null;

export const cell = {
  number: (value: number | bigint): Cell => ({ class: 'number', value }),
  ratio: (value: number): Cell => ({ class: 'ratio', value: new PyFloat(value) }),
  string: (value: string): Cell => ({ class: 'string', value }),
  /** `float` says whether Python holds the value as a float (e.g. an average) or an int (min). */
  duration: (value: number, float: boolean): Cell => ({
    class: 'duration',
    value: float ? new PyFloat(value) : value,
  }),
  timestamp: (value: bigint): Cell => ({ class: 'timestamp', value }),
  timeRange: (begin: bigint, end: bigint): Cell => ({
    class: 'time-range',
    begin: cell.timestamp(begin),
    end: cell.timestamp(end),
  }),
  process: (name: string | undefined, pid: number | undefined, tid: number | undefined): Cell => {
    const o: { [k: string]: Json } = { class: 'process' };
    if (name !== undefined) o['name'] = name;
    if (pid !== undefined) o['pid'] = pid;
    if (tid !== undefined) o['tid'] = tid;
    return o;
  },
  cpu: (id: number): Cell => ({ class: 'cpu', id }),
  syscall: (name: string): Cell => ({ class: 'syscall', name }),
  unknown: (): Cell => ({ class: 'unknown' }),
  empty: (): Cell => null,
  /**
   * The per-container cell of the 2018 proposal (`{pid_ns, name, type}`), plus the runtime id
   * that identifies a container across restarts.
   */
  container: (c: { pidNs: number | undefined; name: string; type: string; id: string }): Cell => {
    const o: { [k: string]: Json } = { class: 'container' };
    if (c.pidNs !== undefined) o['pid_ns'] = c.pidNs;
    o['name'] = c.name;
    o['type'] = c.type;
    o['id'] = c.id;
    return o;
  },
};

// --- table classes and result tables ---------------------------------------------------------

export interface ColumnDesc {
  readonly key: string;
  readonly title: string;
  readonly cls: string;
  readonly unit?: string;
}

export interface TableClass {
  readonly name: string;
  readonly title: string;
  readonly columns: readonly ColumnDesc[];
}

export function col(key: string, title: string, cls: string, unit?: string): ColumnDesc {
  return unit === undefined ? { key, title, cls } : { key, title, cls, unit };
}

export function tableClass(name: string, title: string, columns: readonly ColumnDesc[]): TableClass {
  return { name, title, columns };
}

export interface ResultTable {
  readonly cls: TableClass;
  readonly begin: bigint;
  readonly end: bigint;
  readonly subtitle?: string;
  readonly rows: Cell[][];
  /** The class is written inline (lttng-analyses' classes without a name, e.g. `--freq-series`). */
  readonly inline?: boolean;
}

export function tableClassJson(tc: TableClass): Json {
  const o: { [k: string]: Json } = { title: tc.title };
  if (tc.columns.length > 0) {
    o['column-descriptions'] = tc.columns.map((c) => {
      const d: { [k: string]: Json } = { title: c.title, class: c.cls };
      if (c.unit !== undefined) d['unit'] = c.unit;
      return d;
    });
  }
  return o;
}

export function resultTableJson(t: ResultTable): Json {
  const cls: Json =
    t.inline === true
      ? tableClassJson(t.cls)
      : t.subtitle === undefined
        ? t.cls.name
        : { inherit: t.cls.name, title: `${t.cls.title} [${t.subtitle}]` };
  return {
    class: cls,
    'time-range': cell.timeRange(t.begin, t.end),
    data: t.rows,
  };
}

/** The analysis document: tables with no rows are left out, as lttng-analyses does. */
export function resultsJson(tables: readonly ResultTable[]): Json {
  return { results: tables.filter((t) => t.rows.length > 0).map(resultTableJson) };
}

export interface AnalysisMeta {
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly tableClasses: readonly TableClass[];
  readonly version: { major: number; minor: number; patch: number; extra: string };
}

export const MI_AUTHORS = ['nstrace contributors'];
export const MI_BASE_TAGS = ['linux-kernel', 'container'];

/** The `--metadata` document. */
export function metadataJson(m: AnalysisMeta): Json {
  const classes: { [k: string]: Json } = {};
  for (const tc of m.tableClasses) classes[tc.name] = tableClassJson(tc);
  return {
    'mi-version': { major: 1, minor: 0 },
    version: { ...m.version },
    title: m.title,
    description: m.description,
    authors: [...MI_AUTHORS],
    tags: [...MI_BASE_TAGS, ...m.tags],
    'table-classes': classes,
  };
}

/** LAMI error object. */
export function errorJson(message: string, code?: string | number): Json {
  return code === undefined ? { 'error-message': message } : { 'error-message': message, 'error-code': code };
}
