/**
 * `nstrace sql [TRACE...] ['QUERY']`: SQL over a trace set on an embedded DuckDB, loading only
 * the tables the query names; an interactive prompt without QUERY. `--dataset DIR` queries an
 * exported Parquet dataset instead.
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { LoadSummary, SqlEngine as Engine, TableName } from '../../sql/index.js';
import { formatResult } from '../../sql/format.js';
import type { OutputFormat } from '../../sql/format.js';
import { NstraceError, UsageError } from '../../util/errors.js';
import { samplePath } from '../paths.js';
import { warn } from './analysis-shared.js';
import type { SpanCliOptions } from './export.js';
import { addSpanOptions, spanTableOptions } from './export.js';
import { withProgress } from './progress.js';

interface SqlCliOptions extends SpanCliOptions {
  format: OutputFormat;
  verbose?: boolean;
  begin?: string;
  end?: string;
  gmt?: boolean;
  progress: boolean;
  dataset?: string;
  schema?: boolean;
}

const EXAMPLES = `
Tables (docs/sql.md, --schema): machine, container, process, thread, sched_slice, thread_state, syscall,
page_alloc, io, irq, span (with --span-begin/--span-end), event. Timestamps are ns since the Unix epoch
(BIGINT), durations ns. A query loads only the tables it names.

Examples:
  nstrace sql TRACE "SELECT container, sum(dur) AS cpu_ns FROM sched_slice GROUP BY ALL ORDER BY cpu_ns DESC"
      CPU time per container (the numbers of cputop's Per-Container Usage)
  nstrace sql TRACE "SELECT container, name, count(*) AS calls, sum(dur) AS ns FROM syscall
                     GROUP BY container, name QUALIFY row_number() OVER (PARTITION BY container ORDER BY calls DESC) <= 3"
      top 3 system calls of each container
  nstrace sql TRACE "SELECT t.comm, t.vtid, t.pid_ns, sum(s.dur) AS ns FROM sched_slice s
                     JOIN thread t USING (machine, utid) WHERE t.container = 'web' GROUP BY ALL ORDER BY ns DESC"
      threads of the container 'web', with their tid inside it
  nstrace sql TRACE "SELECT name, count(*) FILTER (WHERE ret < 0) AS errors FROM syscall GROUP BY ALL ORDER BY 2 DESC"
  nstrace sql TRACE "SELECT context->>'$.procname' AS comm, count(*) FROM event
                     WHERE name LIKE 'syscall_exit_%' AND (payload->>'$.ret')::BIGINT < 0 GROUP BY ALL"
      failed system calls by process name, from the raw events (context and payload as JSON)
  nstrace sql TRACE --format csv "SELECT * FROM container" > containers.csv
  nstrace sql --dataset /data/fleet "SELECT machine, container, sum(dur) FROM sched_slice GROUP BY ALL"
      the same queries over an exported Parquet dataset (nstrace export) of many machines
  nstrace sql TRACE        an interactive prompt (every table loaded; .tables, .schema, .quit)
`;

/** Splits the arguments: the last one is the query unless it is an existing path. */
function splitArgs(args: string[]): { paths: string[]; query: string | undefined } {
  const last = args[args.length - 1];
  if (last !== undefined && !existsSync(last)) return { paths: args.slice(0, -1), query: last };
  return { paths: args, query: undefined };
}

export function register(program: Command): void {
  const cmd = program
    .command('sql')
    .description(
      'SQL over traces (embedded DuckDB): threads, processes, containers, CPU slices, thread states, system calls, ' +
        'I/O, interrupts and spans as tables. ' +
        'Without TRACE, the bundled sample trace; without QUERY, an interactive prompt.',
    )
    .argument('[trace-and-query...]', "trace directories, then the query ('SELECT ...')")
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'),
    )
    .option('--verbose', 'say on stderr which tables were loaded and how many rows')
    .option('--begin <date>', 'start of the period (formats of cputop --begin)')
    .option('--end <date>', 'end of the period')
    .option('--gmt', 'read --begin/--end in UTC')
    .option('--dataset <dir>', 'query a Parquet dataset written by nstrace export instead of traces')
    .option('--schema', 'print the tables and their columns and exit')
    .option('--no-progress', 'no progress bar')
    .addHelpText('after', EXAMPLES);
  addSpanOptions(cmd);
  cmd.action(async (args: string[], o: SqlCliOptions) => {
    const sql = await import('../../sql/index.js');
    if (o.schema === true) {
      for (const t of sql.TABLE_NAMES) {
        const def = sql.TABLES[t];
        process.stdout.write(`${t}: ${def.doc}\n`);
        for (const c of def.columns)
          process.stdout.write(`  ${c.name.padEnd(14)} ${c.kind.padEnd(8)} ${c.doc}\n`);
      }
      return;
    }
    const { paths, query } = splitArgs(args);
    const engine = await sql.SqlEngine.open();
    try {
      if (o.dataset !== undefined) {
        if (paths.length > 0) throw new UsageError('give either traces or --dataset, not both');
        if (!existsSync(o.dataset)) throw new UsageError(`no dataset at ${o.dataset}`);
        const present = sql.TABLE_NAMES.filter((t) => existsSync(`${o.dataset}/${t}`));
        for (const s of sql.datasetViews(o.dataset, present)) await engine.run(s);
        if (o.verbose === true) process.stderr.write(`nstrace: dataset tables: ${present.join(', ')}\n`);
      } else {
        if (paths.length === 0) {
          const sample = samplePath('containers-live');
          if (!existsSync(sample))
            throw new NstraceError(`no trace given and the bundled sample trace is missing (${sample})`);
          process.stderr.write(`nstrace: no trace given: the bundled sample trace ${sample}\n`);
          paths.push(sample);
        }
        // The prompt loads every table (span only with its events named).
        const tables: TableName[] =
          query === undefined
            ? sql.TABLE_NAMES.filter((t) => t !== 'span' || spanTableOptions(o) !== undefined)
            : sql.tablesOfQuery(query);
        const summary = await load(engine, paths, tables, o);
        for (const w of summary.warnings) warn(w);
        if (o.verbose === true) verbose(summary);
      }
      if (query !== undefined) {
        process.stdout.write(formatResult(await engine.query(query), o.format));
      } else {
        await prompt(engine, o.format);
      }
    } finally {
      engine.close();
    }
  });
}

async function load(
  engine: Engine,
  paths: string[],
  tables: TableName[],
  o: SqlCliOptions,
): Promise<LoadSummary> {
  const { loadTraces } = await import('../../sql/index.js');
  return withProgress(o.progress, (onProgress, signal) =>
    loadTraces(engine, paths, tables, {
      begin: o.begin,
      end: o.end,
      gmt: o.gmt,
      spans: spanTableOptions(o),
      onProgress,
      signal,
    }),
  );
}

function verbose(s: LoadSummary): void {
  process.stderr.write(`nstrace: tables loaded: ${s.tables.length === 0 ? '(none)' : s.tables.join(', ')}\n`);
  for (const m of s.machines) {
    const rows = Object.entries(m.rows)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ');
    process.stderr.write(`nstrace:   ${m.label}: ${m.events} events read; rows: ${rows}\n`);
  }
}

/** The interactive prompt: one statement per line (or several lines ending with ';'). */
async function prompt(engine: Engine, format: OutputFormat): Promise<void> {
  const { TABLE_NAMES, TABLES } = await import('../../sql/index.js');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const tty = process.stdin.isTTY === true;
  if (tty)
    process.stdout.write(
      'Tables: ' + TABLE_NAMES.join(', ') + '. End statements with ;  (.tables, .schema, .quit)\n',
    );
  rl.setPrompt('nstrace> ');
  if (tty) rl.prompt();
  let buf = '';
  for await (const line of rl) {
    const l = line.trim();
    if (buf === '' && l.startsWith('.')) {
      if (l === '.quit' || l === '.exit') break;
      if (l === '.tables') process.stdout.write(TABLE_NAMES.join('\n') + '\n');
      else if (l === '.schema')
        for (const t of TABLE_NAMES)
          process.stdout.write(`${t}(${TABLES[t].columns.map((c) => c.name).join(', ')})\n`);
      else process.stdout.write(`unknown command ${l}\n`);
    } else if (l !== '') {
      buf += (buf === '' ? '' : '\n') + line;
      if (l.endsWith(';')) {
        try {
          process.stdout.write(formatResult(await engine.query(buf), format));
        } catch (e) {
          process.stdout.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
        }
        buf = '';
      }
    }
    if (tty) rl.setPrompt(buf === '' ? 'nstrace> ' : '    ...> ');
    if (tty) rl.prompt();
  }
  rl.close();
  if (buf.trim() !== '') process.stdout.write(formatResult(await engine.query(buf), format));
}
