/**
 * DuckDB glue (@duckdb/node-api, an in-process engine with its prebuilt binary): create the
 * schema's tables in an in-memory database, append built rows column-wise in data chunks, run
 * queries, and write tables as Parquet.
 */
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { BIGINT, BOOLEAN, DuckDBDataChunk, DuckDBInstance, INTEGER, VARCHAR } from '@duckdb/node-api';
import { NstraceError } from '../util/errors.js';
import type { BuiltTable } from './build.js';
import type { ColumnKind, TableName } from './schema.js';
import { createStatement, TABLES } from './schema.js';

/** A query the engine rejected (syntax, unknown column, ...): exit code 2 as a usage error. */
export class QueryError extends NstraceError {
  constructor(message: string) {
    super(message, 2);
  }
}

const CHUNK = 2048;

function duckType(kind: ColumnKind): DuckDBType {
  switch (kind) {
    case 'ts':
    case 'bigint':
      return BIGINT;
    case 'integer':
      return INTEGER;
    case 'varchar':
      return VARCHAR;
    case 'boolean':
      return BOOLEAN;
  }
}

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
    const def = TABLES[t.name];
    const types = def.columns.map((c) => duckType(c.kind));
    const appender = await this.conn.createAppender(t.name);
    try {
      for (let off = 0; off < t.rows; off += CHUNK) {
        const n = Math.min(CHUNK, t.rows - off);
        const chunk = DuckDBDataChunk.create(types, n);
        chunk.setColumns(t.columns.map((col) => col.slice(off, off + n) as DuckDBValue[]));
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

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
