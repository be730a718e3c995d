/**
 * The rows of a table as built before loading (column arrays, ns relative to a base) and what a
 * table builder gets (`Ctx`): the machine's analyses pass and the collectors beside it.
 */
import type { MachineInput } from '../analyses/open.js';
import type { AnalyseResult } from '../analyses/session.js';
import type { TimeBase } from '../ctf/event.js';
import type { SystemModel } from '../model/model.js';
import type { TableCollector } from './collect.js';
import { TextColumn, Typed } from './columns.js';
import { StringCodes } from '../util/string-codes.js';
import type { EventCollector } from './events.js';
import type { TableName } from './schema.js';
import { TABLES } from './schema.js';

/**
 * A value as held before loading: ns relative to the machine's base for `ts` columns, numbers
 * for `bigint`/`integer` columns (exact: below 2^53), codes into the column's dictionary for
 * dictionary-encoded `varchar` columns; null: unknown.
 */
export type Cell = number | string | boolean | null;

/** A column's values, in one of the forms DuckDB is given (src/sql/duck.ts). */
export type Values = readonly Cell[] | Typed | TextColumn;

export interface BuiltColumn {
  /**
   * Cells, or typed arrays (src/sql/columns.ts) loaded as they are: float64 numbers (NaN:
   * unknown), int32 ids or dictionary codes (`NULL_I32`: unknown), booleans (0/1); or text
   * held as UTF-8 bytes (a varchar column).
   */
  readonly values: Values;
  /** Strings of a dictionary-encoded varchar column (values are indexes into it). */
  readonly dict?: readonly string[];
}

/** Per thread uid (index): host tid and container key (-1: none); container names by key. */
export interface ThreadInfo {
  readonly tid: Int32Array;
  readonly key: Int32Array;
  readonly names: readonly string[];
}

/**
 * One table's rows of one machine, column by column, in the schema's column order after
 * `machine` (constant per machine, not held per row), without the columns the schema takes from
 * the row's thread (`ofThread`: looked up in `threads` by `utid`).
 */
export interface BuiltTable {
  readonly name: TableName;
  readonly machine: string;
  /** Absolute ns of relative ts 0. */
  readonly base: bigint;
  readonly columns: BuiltColumn[];
  readonly rows: number;
  /** For `ofThread` columns. */
  readonly threads?: ThreadInfo;
}

export interface BuiltMachine {
  readonly id: string;
  readonly label: string;
  /** UTC day (YYYY-MM-DD) of the period begin, the `date=` partition of an export. */
  readonly date: string | null;
  readonly tables: BuiltTable[];
  readonly events: number;
  readonly warnings: string[];
}

export interface BuildOptions {
  begin?: string;
  end?: string;
  gmt?: boolean;
  /** The begin and end events of the `span` table (without them it has no row). */
  spans?: SpanTableOptions;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The `span` table's events: `nstrace spans --begin/--end/--match`. */
export interface SpanTableOptions {
  readonly begin: string;
  readonly end: string;
  readonly match?: string | undefined;
}

/** What a table builder gets: the machine's pass and its collectors. */
export interface Ctx {
  readonly id: string;
  readonly base: bigint;
  readonly model: SystemModel;
  readonly input: MachineInput;
  readonly result: AnalyseResult;
  readonly collector: TableCollector;
  readonly events: EventCollector | undefined;
  readonly opts: BuildOptions;
  readonly warnings: string[];
  /** Per thread uid: tid and container (computed once per machine). */
  threads(): ThreadInfo;
}

/**
 * A table's rows from its columns by name (every column of the schema but `machine` and those
 * taken from the thread); arrays of values, typed arrays, or dictionary-encoded columns.
 */
export function table(
  ctx: Ctx,
  name: TableName,
  columns: Readonly<Record<string, Values | BuiltColumn>>,
): BuiltTable {
  const defs = TABLES[name].columns.slice(1);
  const cols: BuiltColumn[] = [];
  let thread = false;
  for (const d of defs) {
    if (d.ofThread !== undefined) {
      thread = true;
      continue;
    }
    const c = columns[d.name];
    if (c === undefined) throw new Error(`table ${name}: column ${d.name} not built`);
    cols.push(isColumn(c) ? c : { values: c });
  }
  const extra = Object.keys(columns).filter(
    (k) => !defs.some((d) => d.name === k && d.ofThread === undefined),
  );
  if (extra.length > 0) throw new Error(`table ${name}: columns ${extra.join(', ')} not in the schema`);
  const rows = cols[0]?.values.length ?? 0;
  for (const c of cols) {
    if (c.values.length !== rows) throw new Error(`table ${name}: columns of different lengths`);
  }
  return {
    name,
    machine: ctx.id,
    base: ctx.base,
    columns: cols,
    rows,
    threads: thread ? ctx.threads() : undefined,
  };
}

function isColumn(c: Values | BuiltColumn): c is BuiltColumn {
  return !Array.isArray(c) && !(c instanceof Typed) && !(c instanceof TextColumn);
}

/** Per thread uid: tid, container key; and the container names as a dictionary (by key). */
export function threadInfo(model: SystemModel): ThreadInfo {
  const n = model.allThreads.length;
  const tid = new Int32Array(n);
  const key = new Int32Array(n);
  const names: string[] = [];
  for (const c of model.containers.all()) names[c.key] = c.name;
  for (let i = 0; i < n; i++) {
    const t = model.allThreads[i]!;
    const c = model.containerOf(t);
    tid[i] = t.tid;
    // The idle task (tid 0) is in no container, as in the analyses' per-container rows.
    key[i] = t.tid === 0 ? -1 : c.key;
    names[c.key] = c.name;
  }
  // Keys of merged containers (no longer listed) that no thread uses: no name needed.
  for (let k = 0; k < names.length; k++) names[k] ??= '';
  return { tid, key, names };
}

export const orNull = (v: number | undefined): number | null =>
  v === undefined || Number.isNaN(v) ? null : v;

/** A varchar column as codes into a dictionary of its distinct strings (null stays null). */
export function dictColumn(values: ReadonlyArray<string | null>): BuiltColumn {
  const codes = new StringCodes();
  const out: Cell[] = new Array<Cell>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = v === null ? null : codes.code(v);
  }
  return { values: out, dict: codes.strings };
}

/** Absolute ns of a time base. */
export function baseNs(b: TimeBase): bigint {
  return BigInt(b.seconds) * 1_000_000_000n + BigInt(b.ns);
}
