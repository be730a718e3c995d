/**
 * DuckDB glue (@duckdb/node-api, an in-process engine with its prebuilt binary): create the
 * schema's tables in an in-memory database, append built rows column-wise in data chunks, run
 * queries, and write tables as Parquet.
 */
import type { DuckDBConnection, DuckDBType, DuckDBValue, DuckDBDataChunk } from '@duckdb/node-api';
import { BOOLEAN, DOUBLE, DuckDBInstance, DuckDBTableFunction, INTEGER, VARCHAR } from '@duckdb/node-api';
import bindings from '@duckdb/node-bindings';
import { NstraceError } from '../util/errors.js';
import type { TypedArray } from './columns.js';
import { BLOCK, NULL_I32, TextColumn, Typed } from './columns.js';
import type { BuiltTable, Values } from './rows.js';
import type { ColumnKind, TableName } from './schema.js';
import { createStatement, sqlType, TABLES } from './schema.js';

/** A query the engine rejected (syntax, unknown column, ...): exit code 2 as a usage error. */
export class QueryError extends NstraceError {
  constructor(message: string) {
    super(message, 2);
  }
}

const CHUNK = 2048;

/**
 * Type of a column in the staging table the rows are appended to: numbers as DOUBLE (exact below
 * 2^53, no BigInt per value), dictionary codes as INTEGER, a typed array as its element type;
 * SQL then makes the schema's values.
 */
function stageType(kind: ColumnKind, dict: boolean, values: Values): DuckDBType {
  if (values instanceof TextColumn) return VARCHAR;
  if (values instanceof Typed)
    return values.kind === 'f64' ? DOUBLE : values.kind === 'i32' ? INTEGER : BOOLEAN;
  switch (kind) {
    case 'ts':
    case 'bigint':
      return DOUBLE;
    case 'integer':
      return INTEGER;
    case 'varchar':
      return dict ? INTEGER : VARCHAR;
    case 'boolean':
      return BOOLEAN;
  }
}

/** The SQL expression that turns staging column `c` (of type `staged`) into the schema's value. */
function fromStage(
  kind: ColumnKind,
  c: string,
  staged: DuckDBType,
  base: bigint,
  dict: readonly string[] | undefined,
): string {
  if (dict !== undefined) return `[${dict.map(sqlString).join(', ')}][${c} + 1]`;
  if (kind === 'ts') return `CAST(${c} AS BIGINT) + CAST(${base} AS BIGINT)`;
  if (kind === 'bigint') return `CAST(${c} AS BIGINT)`;
  if (kind === 'integer' && staged === DOUBLE) return `CAST(${c} AS INTEGER)`;
  return c;
}

/** Whether every value of a column is unknown (true for no value). */
function allNull(values: Values): boolean {
  return values instanceof Typed || values instanceof TextColumn
    ? values.allNull()
    : values.every((v) => v === null);
}

type Staged = { values: Values; type: DuckDBType; name: string };

export interface QueryResult {
  readonly columns: string[];
  /** Rows as JSON-able values (BIGINT and wider as strings, exact). */
  readonly rows: unknown[][];
}

/** Columns of values a scan of `nstrace_rows('KEY')` gives, in data chunks. */
interface Source {
  readonly cols: readonly Staged[];
  readonly rows: number;
}

export class SqlEngine {
  /** What `nstrace_rows` scans, by key (`stage` adds, `unstage` removes). */
  private readonly sources = new Map<string, Source>();

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {
    conn.registerTableFunction(this.scanFunction());
  }

  static async open(): Promise<SqlEngine> {
    const instance = await DuckDBInstance.create(':memory:');
    return new SqlEngine(instance, await instance.connect());
  }

  /** Creates the tables (empty) of the schema named. */
  async create(tables: readonly TableName[]): Promise<void> {
    for (const t of tables) await this.conn.run(createStatement(TABLES[t]));
  }

  /** Appends one machine's rows of a table. */
  async append(t: BuiltTable): Promise<void> {
    const select = this.stage(t);
    try {
      await this.conn.run(`INSERT INTO ${t.name} ${select}`);
    } finally {
      this.unstage(t.name);
    }
  }

  /**
   * Makes one machine's rows of a table scannable (`nstrace_rows('_stage_NAME')`, and its
   * threads' columns as `nstrace_rows('_stage_NAME_threads')`) and returns the SELECT over them
   * that gives the schema's columns and values. Nothing is copied until a statement runs it:
   * the scan hands DuckDB the columns chunk by chunk (`unstage` when done).
   */
  stage(t: BuiltTable): string {
    // Column 0 of the schema is `machine`, a constant per machine.
    const defs = TABLES[t.name].columns.slice(1);
    const staged: Staged[] = [];
    const exprs: string[] = [];
    let utidCol: string | undefined;
    const dictOf = (names: readonly string[]): string => `[${names.map(sqlString).join(', ')}]`;
    let i = 0;
    for (const d of defs) {
      if (d.ofThread !== undefined) {
        const names = t.threads?.names ?? [];
        const e =
          d.ofThread === 'tid'
            ? 'u.tid'
            : d.ofThread === 'container_key'
              ? 'nullif(u.k, -1)'
              : `CASE WHEN u.k < 0 THEN NULL ELSE ${dictOf(names)}[u.k + 1] END`;
        exprs.push(`${e} AS ${d.name}`);
        continue;
      }
      const col = t.columns[i]!;
      const c = `c${i++}`;
      if (d.name === 'utid') utidCol = c;
      else if (allNull(col.values)) {
        // Nothing known in the whole column (an optional column of this trace): not staged.
        exprs.push(`CAST(NULL AS ${sqlType(d.kind)}) AS ${d.name}`);
        continue;
      }
      const type = stageType(d.kind, col.dict !== undefined, col.values);
      staged.push({ values: col.values, type, name: c });
      exprs.push(`${fromStage(d.kind, `s.${c}`, type, t.base, col.dict)} AS ${d.name}`);
    }
    const stage = `_stage_${t.name}`;
    // A scan gives at least one column: a placeholder when nothing is staged.
    if (staged.length === 0)
      staged.push({ values: Typed.of(new Uint8Array(t.rows)), type: BOOLEAN, name: '_' });
    this.sources.set(stage, { cols: staged, rows: t.rows });
    let from = `nstrace_rows(${sqlString(stage)}) s`;
    if (t.threads !== undefined && utidCol !== undefined) {
      const th = t.threads;
      const uids = Int32Array.from({ length: th.tid.length }, (_, i) => i);
      this.sources.set(`${stage}_threads`, {
        cols: [
          { values: Typed.of(uids), type: INTEGER, name: 'utid' },
          { values: Typed.of(th.tid), type: INTEGER, name: 'tid' },
          { values: Typed.of(th.key), type: INTEGER, name: 'k' },
        ],
        rows: uids.length,
      });
      from += ` LEFT JOIN nstrace_rows(${sqlString(`${stage}_threads`)}) u ON s.${utidCol} = u.utid`;
    }
    return `SELECT ${sqlString(t.machine)} AS machine, ${exprs.join(', ')} FROM ${from}`;
  }

  /**
   * Runs `sql` (a statement over the staged rows of `name`, a COPY) on a connection of its own,
   * then unstages them: DuckDB's threads run it while the caller goes on.
   */
  async runAndUnstage(sql: string, name: TableName): Promise<void> {
    const conn = await this.instance.connect();
    try {
      await conn.run(sql);
    } catch (e) {
      throw new QueryError(e instanceof Error ? e.message : String(e));
    } finally {
      conn.closeSync();
      this.unstage(name);
    }
  }

  /** Forgets the staged rows of a table. */
  unstage(name: TableName): void {
    this.sources.delete(`_stage_${name}`);
    this.sources.delete(`_stage_${name}_threads`);
  }

  /**
   * The table function `nstrace_rows(KEY)`: the columns staged under KEY, 2048 rows per call,
   * in order (one thread); a typed column is copied into the chunk's vector as one block, a text
   * column's strings are made for the chunk only.
   * DuckDB calls it from its threads; the bindings run it on the JS thread.
   */
  private scanFunction(): DuckDBTableFunction {
    return DuckDBTableFunction.create({
      name: 'nstrace_rows',
      parameterTypes: [VARCHAR],
      bindFunction: (info) => {
        const key = info.getParameter(0);
        const src = typeof key === 'string' ? this.sources.get(key) : undefined;
        if (src === undefined) {
          info.setError(`nstrace_rows: nothing staged as ${String(key)}`);
          return;
        }
        for (const c of src.cols) info.addResultColumn(c.name, c.type);
        info.setCardinality(src.rows, true);
        info.setBindData(src);
      },
      initFunction: (info) => {
        info.setMaxThreads(1);
        info.setInitData({ next: 0 });
      },
      mainFunction: (info, out) => {
        const src = info.getBindData() as Source;
        const pos = info.getInitData() as { next: number };
        const off = pos.next;
        const n = Math.min(CHUNK, src.rows - off);
        out.rowCount = n;
        for (let i = 0; i < src.cols.length && n > 0; i++) {
          const vals = src.cols[i]!.values;
          if (vals instanceof Typed) copyTyped(out, i, vals.blocks[Math.floor(off / BLOCK)]!, off % BLOCK, n);
          else if (vals instanceof TextColumn) out.setColumnValues(i, vals.slice(off, n));
          else out.setColumnValues(i, (n === vals.length ? vals : vals.slice(off, off + n)) as DuckDBValue[]);
        }
        pos.next = off + n;
      },
    });
  }

  async query(sql: string): Promise<QueryResult> {
    try {
      const reader = await this.conn.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowsJson() as unknown[][] };
    } catch (e) {
      throw new QueryError(e instanceof Error ? e.message : String(e));
    }
  }

  async run(sql: string): Promise<void> {
    try {
      await this.conn.run(sql);
    } catch (e) {
      throw new QueryError(e instanceof Error ? e.message : String(e));
    }
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/**
 * Values `off` to `off + n` of a typed column into column `col` of a chunk: the bytes as they are
 * (DOUBLE, INTEGER and BOOLEAN vectors hold float64, int32 and one byte per value), then the
 * unknown values (NaN, `NULL_I32`) marked invalid.
 */
function copyTyped(chunk: DuckDBDataChunk, col: number, values: TypedArray, off: number, n: number): void {
  const vector = bindings.data_chunk_get_vector(chunk.chunk, col);
  const size = values.BYTES_PER_ELEMENT;
  if (values instanceof Uint8Array && bindings.sizeof_bool !== 1)
    throw new Error(`a DuckDB BOOLEAN takes ${bindings.sizeof_bool} bytes here, not 1`);
  bindings.copy_data_to_vector(
    vector,
    0,
    values.buffer as ArrayBuffer,
    values.byteOffset + off * size,
    n * size,
  );
  let invalid: Uint32Array | undefined;
  const clear = (j: number): void => {
    // The validity mask: a bit per row, set when valid, in 64-bit words (little-endian).
    invalid ??= new Uint32Array(Math.ceil(n / 64) * 2).fill(0xffffffff);
    invalid[j >>> 5]! &= ~(1 << (j & 31));
  };
  if (values instanceof Float64Array) {
    for (let j = 0; j < n; j++) if (Number.isNaN(values[off + j])) clear(j);
  } else if (values instanceof Int32Array) {
    for (let j = 0; j < n; j++) if (values[off + j] === NULL_I32) clear(j);
  }
  if (invalid !== undefined) {
    bindings.vector_ensure_validity_writable(vector);
    bindings.copy_data_to_vector_validity(vector, 0, invalid.buffer as ArrayBuffer, 0, invalid.byteLength);
  }
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
