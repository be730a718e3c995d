/**
 * `nstrace export --format parquet -o DIR TRACE...`: the tables of `nstrace sql` as a Parquet
 * dataset, partitioned Hive-style (`TABLE/machine=ID/date=YYYY-MM-DD/part-UUID.parquet`),
 * appendable: files get new names, nothing is overwritten, so several machines' exports (a
 * fleet's relays) can write into one dataset.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { TableName } from '../../sql/index.js';
import { UsageError } from '../../util/errors.js';
import { warn } from './analysis-shared.js';
import { withProgress } from './progress.js';

interface ExportCliOptions extends SpanCliOptions {
  format: 'parquet';
  output?: string;
  since?: string;
  until?: string;
  gmt?: boolean;
  tables?: string;
  progress: boolean;
}

/** `--span-begin/--span-end/--span-match`: the events of the span table (nstrace spans' --begin/--end/--match). */
export interface SpanCliOptions {
  spanBegin?: string;
  spanEnd?: string;
  spanMatch?: string;
}

export function addSpanOptions(cmd: Command): Command {
  return cmd
    .option('--span-begin <event>', 'the span table: the event that begins a span (nstrace spans --begin)')
    .option('--span-end <event>', 'the span table: the event that ends it (nstrace spans --end)')
    .option(
      '--span-match <field>',
      'the span table: pair begin and end events by this field (nstrace spans --match)',
    );
}

export function spanTableOptions(
  o: SpanCliOptions,
): { begin: string; end: string; match?: string } | undefined {
  if (o.spanBegin === undefined && o.spanEnd === undefined) return undefined;
  if (o.spanBegin === undefined || o.spanEnd === undefined)
    throw new UsageError('the span table needs both --span-begin EVENT and --span-end EVENT');
  return { begin: o.spanBegin, end: o.spanEnd, match: o.spanMatch };
}

export function register(program: Command): void {
  const cmd = program
    .command('export')
    .description(
      'Write the tables of nstrace sql (event, thread_state and io on request; span with --span-begin/--span-end) as a Parquet ' +
        'dataset partitioned by machine and date, for DuckDB, Spark, Trino or ClickHouse',
    )
    .argument('<trace...>', 'trace directories')
    .addOption(new Option('--format <format>', 'output format').choices(['parquet']).default('parquet'))
    .option('-o, --output <dir>', 'dataset directory (created if missing; existing files are kept)')
    .option('--since <date>', 'start of the exported period (formats of cputop --begin)')
    .option('--until <date>', 'end of the exported period')
    .option('--gmt', 'read --since/--until in UTC')
    .option(
      '--tables <list>',
      'these tables (comma-separated; default: all but event, thread_state and io, which cost time and are ' +
        'opt-in, and span unless --span-begin/--span-end name its events)',
    )
    .option('--no-progress', 'no progress bar');
  addSpanOptions(cmd)
    .addHelpText(
      'after',
      `
Layout: DIR/TABLE/machine=ID/date=YYYY-MM-DD/part-UUID.parquet (date: the UTC day the exported
period begins). Exporting again, or another machine, into the same DIR adds files.

Examples:
  nstrace export -o /data/fleet /var/lib/lttng-traces/host1
  nstrace export -o /data/fleet --tables event,machine TRACE     every event, context and payload as JSON
  nstrace export -o /data/fleet --span-begin myapp:request_begin --span-end myapp:request_end TRACE
  nstrace export -o /data/fleet --since '2026-12-06 10:00:00' --until '2026-12-06 10:05:00' --gmt TRACE
  nstrace sql --dataset /data/fleet "SELECT machine, container, sum(dur) FROM sched_slice GROUP BY ALL"
  duckdb -c "SELECT * FROM read_parquet('/data/fleet/sched_slice/**/*.parquet', hive_partitioning=true) LIMIT 5"
`,
    )
    .action(async (paths: string[], o: ExportCliOptions) => {
      const output = o.output;
      if (output === undefined) throw new UsageError('give the dataset directory with -o DIR');
      const sql = await import('../../sql/index.js');
      let tables: TableName[] | undefined;
      if (o.tables !== undefined) {
        const names = o.tables.split(',').map((s) => s.trim());
        for (const n of names) {
          if (!(sql.TABLE_NAMES as readonly string[]).includes(n))
            throw new UsageError(`no table ${n} (tables: ${sql.TABLE_NAMES.join(', ')})`);
        }
        tables = names as TableName[];
      }
      const spans = spanTableOptions(o);
      if (tables === undefined && spans !== undefined) tables = [...sql.DEFAULT_EXPORT_TABLES, 'span'];
      const s = await withProgress(o.progress, (onProgress, signal) =>
        sql.exportParquet(paths, output, {
          tables,
          begin: o.since,
          end: o.until,
          gmt: o.gmt,
          spans,
          onProgress,
          signal,
        }),
      );
      for (const w of s.warnings) warn(w);
      for (const m of s.machines) {
        const rows = Object.entries(m.rows)
          .map(([t, n]) => `${t} ${n}`)
          .join(', ');
        process.stderr.write(
          `nstrace: exported ${m.label} as machine=${m.id}: ${m.events} events; rows: ${rows}\n`,
        );
      }
      process.stderr.write(`nstrace: dataset: ${s.dir}\n`);
    });
}
