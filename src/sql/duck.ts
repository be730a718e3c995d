/**
 * DuckDB glue (@duckdb/node-api, an in-process engine with its prebuilt binary): create the
 * schema's tables in an in-memory database, append built rows column-wise in data chunks, run
 * queries, and write tables as Parquet.
 */
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { BOOLEAN, DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER, VARCHAR } from '@duckdb/node-api';
import bindings from '@duckdb/node-bindings';
import { NstraceError } from '../util/errors.js';
import { NULL_I32 } from './columns.js';
import type { BuiltTable, Cell, TypedValues } from './rows.js';
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
function stageType(kind: ColumnKind, dict: boolean, values: readonly Cell[] | TypedValues): DuckDBType {
  if (values instanceof Float64Array) return DOUBLE;
  if (values instanceof Int32Array) return INTEGER;
  if (values instanceof Uint8Array) return BOOLEAN;
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
function allNull(values: readonly Cell[] | TypedValues): boolean {
  if (values instanceof Float64Array) return values.every((v) => Number.isNaN(v));
  if (values instanceof Int32Array) return values.every((v) => v === NULL_I32);
  if (values instanceof Uint8Array) return values.length === 0;
  return values.every((v) => v === null);
}

type Staged = { values: readonly Cell[] | TypedValues; type: DuckDBType; name: string };

export interface QueryResult {
  readonly columns: string[];
  /** Rows as JSON-able values (BIGINT and wider as strings, exact). */
  readonly rows: unknown[][];
}

export class SqlEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

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
    const select = await this.stage(t);
    await this.conn.run(`INSERT INTO ${t.name} ${select}`);
    await this.unstage(t.name);
  }

  /**
   * Appends one machine's rows of a table to a staging table `_stage_NAME` (replaced) and
   * returns the SELECT over it that gives the schema's columns and values.
   */
  async stage(t: BuiltTable): Promise<string> {
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
    await this.fill(stage, staged, t.rows);
    let from = `${stage} s`;
    if (t.threads !== undefined && utidCol !== undefined) {
      const th = t.threads;
      const uids = Int32Array.from({ length: th.tid.length }, (_, i) => i);
      await this.fill(
        `${stage}_threads`,
        [
          { values: uids, type: INTEGER, name: 'utid' },
          { values: th.tid, type: INTEGER, name: 'tid' },
          { values: th.key, type: INTEGER, name: 'k' },
        ],
        uids.length,
      );
      from += ` LEFT JOIN ${stage}_threads u ON s.${utidCol} = u.utid`;
    }
    return `SELECT ${sqlString(t.machine)} AS machine, ${exprs.join(', ')} FROM ${from}`;
  }

  /**
   * Runs `sql` (a statement over the staging tables of `name`, a COPY) on a connection of its
   * own, then drops those staging tables: DuckDB's threads run it while this connection stages
   * the next table.
   */
  async runAndUnstage(sql: string, name: TableName): Promise<void> {
    const conn = await this.instance.connect();
    try {
      await conn.run(sql);
      await conn.run(`DROP TABLE IF EXISTS _stage_${name}`);
      await conn.run(`DROP TABLE IF EXISTS _stage_${name}_threads`);
    } catch (e) {
      throw new QueryError(e instanceof Error ? e.message : String(e));
    } finally {
      conn.closeSync();
    }
  }

  /** Drops the staging tables of a table. */
  async unstage(name: TableName): Promise<void> {
    await this.conn.run(`DROP TABLE IF EXISTS _stage_${name}`);
    await this.conn.run(`DROP TABLE IF EXISTS _stage_${name}_threads`);
  }

  /**
   * Creates (or replaces) a table and appends columns of values to it, in data chunks; a typed
   * array is copied into each chunk's vector as one block of memory.
   */
  private async fill(name: string, cols: readonly Staged[], rows: number): Promise<void> {
    await this.conn.run(
      `CREATE OR REPLACE TABLE ${name} (${cols.map((c) => `${c.name} ${c.type.toString()}`).join(', ')})`,
    );
    const types = cols.map((c) => c.type);
    const appender = await this.conn.createAppender(name);
    try {
      for (let off = 0; off < rows; off += CHUNK) {
        const n = Math.min(CHUNK, rows - off);
        const chunk = DuckDBDataChunk.create(types, n);
        for (let i = 0; i < cols.length; i++) {
          const vals = cols[i]!.values;
          if (ArrayBuffer.isView(vals)) copyTyped(chunk, i, vals, off, n);
          else
            chunk.setColumnValues(i, (n === vals.length ? vals : vals.slice(off, off + n)) as DuckDBValue[]);
        }
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
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
function copyTyped(chunk: DuckDBDataChunk, col: number, values: TypedValues, off: number, n: number): void {
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
