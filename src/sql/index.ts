/**
 * Traces as tables: load a trace set into DuckDB for `nstrace sql`, or write it as a Hive-style
 * partitioned Parquet dataset for `nstrace export` (docs/sql.md, docs/adr/0210-sql-tables.md).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { BuildOptions, BuiltMachine } from './build.js';
import { buildTables } from './build.js';
import { SqlEngine, sqlString } from './duck.js';
import type { TableName } from './schema.js';
import { DEFAULT_EXPORT_TABLES, TABLE_NAMES } from './schema.js';

export { SqlEngine, QueryError } from './duck.js';
export type { QueryResult } from './duck.js';
export { DEFAULT_EXPORT_TABLES, TABLE_NAMES, TABLES, tablesOfQuery } from './schema.js';
export type { TableName } from './schema.js';

export interface LoadSummary {
  readonly tables: readonly TableName[];
  readonly machines: ReadonlyArray<{
    id: string;
    label: string;
    events: number;
    rows: Record<string, number>;
  }>;
  readonly warnings: string[];
}

function summarise(
  tables: readonly TableName[],
  built: readonly BuiltMachine[],
  skipped: readonly string[],
): LoadSummary {
  return {
    tables,
    machines: built.map((m) => ({
      id: m.id,
      label: m.label,
      events: m.events,
      rows: Object.fromEntries(m.tables.map((t) => [t.name, t.rows])),
    })),
    warnings: [
      ...skipped,
      ...built.flatMap((m) => m.warnings.map((w) => (built.length > 1 ? `${m.label}: ${w}` : w))),
    ],
  };
}

/** Builds the tables named from the traces below `paths` and loads them into `engine`. */
export async function loadTraces(
  engine: SqlEngine,
  paths: readonly string[],
  tables: readonly TableName[],
  opts: BuildOptions = {},
): Promise<LoadSummary> {
  await engine.create(tables);
  if (tables.length === 0) return { tables, machines: [], warnings: [] };
  const skipped: string[] = [];
  const built = await buildTables(
    paths,
    tables,
    opts,
    async (m) => {
      for (const t of m.tables) await engine.append(t);
    },
    (msg) => skipped.push(msg),
  );
  return summarise(tables, built, skipped);
}

export interface ExportOptions extends BuildOptions {
  /** Tables to write (default: `DEFAULT_EXPORT_TABLES`: all but the opt-in `event`, `thread_state`, `io`, `span`). */
  tables?: readonly TableName[];
}

export interface ExportSummary extends LoadSummary {
  readonly dir: string;
}

/**
 * Writes the tables of the traces below `paths` under `dir` as Parquet, one directory per table,
 * partitioned Hive-style by `machine=` and `date=` (the UTC day the exported period begins).
 * Files get fresh names (`part-<uuid>.parquet`): an export never overwrites or removes a file,
 * so exports of several machines (or several periods of one) can share a dataset.
 */
export async function exportParquet(
  paths: readonly string[],
  dir: string,
  opts: ExportOptions = {},
): Promise<ExportSummary> {
  const tables = opts.tables ?? DEFAULT_EXPORT_TABLES;
  const root = resolve(dir);
  // The engine starts while the first machine's pass runs.
  const opening = SqlEngine.open();
  let built: BuiltMachine[];
  const skipped: string[] = [];
  try {
    built = await buildTables(
      paths,
      tables,
      opts,
      async (m) => {
        const engine = await opening;
        // Each table's file is written by DuckDB's threads while the next table is staged.
        const writes: Array<Promise<void>> = [];
        let staging: { error: unknown } | undefined;
        try {
          for (const t of m.tables) {
            if (t.rows === 0) continue;
            const select = engine.stage(t);
            const file = partFile(root, t.name, m);
            mkdirSync(dirname(file), { recursive: true });
            const copy = `COPY (SELECT * EXCLUDE (machine) FROM (${select})) TO ${sqlString(file)} (FORMAT parquet)`;
            const w = engine.runAndUnstage(copy, t.name);
            // Awaited below; a failure is thrown there, not reported as unhandled meanwhile.
            w.catch(() => undefined);
            writes.push(w);
          }
        } catch (e) {
          staging = { error: e };
        }
        const done = await Promise.allSettled(writes);
        if (staging !== undefined) throw staging.error;
        const failed = done.find((d) => d.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
      },
      (msg) => skipped.push(msg),
    );
  } finally {
    (await opening).close();
  }
  return { ...summarise(tables, built, skipped), dir: root };
}

/**
 * A new file of a table's partition of a machine: `TABLE/machine=ID/date=DAY/part-UUID.parquet`,
 * the Hive-style path DuckDB's `COPY … (PARTITION_BY (machine, date))` writes (a NULL date as
 * `__HIVE_DEFAULT_PARTITION__`). Written directly, without PARTITION_BY: all of a machine's rows
 * of one export share the partition, and DuckDB's partitioned writer took 3x the time of a plain
 * COPY (docs/adr/0211-sql-loading-by-table-function-and-direct-partition-files.md).
 */
function partFile(root: string, table: TableName, m: BuiltMachine): string {
  const date = m.date ?? '__HIVE_DEFAULT_PARTITION__';
  return join(root, table, `machine=${m.id}`, `date=${date}`, `part-${randomUUID()}.parquet`);
}

/**
 * SQL that creates views named as the schema's tables over an exported dataset, for the tables it
 * has (for reading it
 * back with DuckDB: `nstrace sql --dataset DIR`, tests).
 */
export function datasetViews(dir: string, tables: readonly TableName[] = TABLE_NAMES): string[] {
  const root = resolve(dir);
  return tables
    .filter((t) => existsSync(join(root, t)))
    .map(
      (t) =>
        `CREATE VIEW ${t} AS SELECT * FROM read_parquet(${sqlString(join(root, t, '**', '*.parquet'))}, ` +
        'hive_partitioning = true, union_by_name = true)',
    );
}
