/**
 * Issue 16, traces as tables: on a 1.6 M-event kernel trace, `nstrace export --format parquet`
 * writes at least 1 M events/s (the tables it writes by default, wall time of the whole command), and
 * `nstrace sql` of the per-container CPU query takes at most 2x the time of `nstrace cputop` on
 * the same trace, measured in the same run. The bench also checks that the query's per-container
 * CPU time is cputop's (its `--mi` ratios, recomputed from the ns).
 *
 * Input: the simulated trace of the cputop and view benchmarks' generator (`writeBenchTrace`: a
 * busy 4-CPU host with six Docker containers, sched_switch, wakeups, syscalls and page events),
 * 1.6 M events, cached in .bench/.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeBenchTrace } from '../src/synthetic/simulate.js';
import { type BenchResult, measure } from './measure.js';

const EVENTS = Number(process.env.NSTRACE_BENCH_SQL_EVENTS ?? 1_600_000);
const NSTRACE = resolve('dist/bin/nstrace.js');
// The idle task's slices have no container (NULL): not a row of cputop's per-container table.
const QUERY =
  'SELECT container, sum(dur) AS cpu_ns FROM sched_slice WHERE container IS NOT NULL GROUP BY container ORDER BY cpu_ns DESC';

interface MiTable {
  class: unknown;
  data: Array<Array<{ name?: string; value?: number }>>;
}

export async function run(): Promise<BenchResult> {
  const cache = resolve('.bench', `sql-${EVENTS}`);
  const trace = join(cache, 'kernel');
  const stamp = join(cache, 'events');
  let events: number;
  if (existsSync(stamp)) events = Number(readFileSync(stamp, 'utf8'));
  else {
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    process.stderr.write(`writing a simulated kernel trace of ${EVENTS} events (cached in .bench/)...\n`);
    events = writeBenchTrace(trace, EVENTS).events;
    writeFileSync(stamp, String(events));
  }
  const repeat = Number(process.env.NSTRACE_BENCH_REPEAT ?? 3);

  process.stderr.write('timing nstrace cputop...\n');
  const cputop = await measure(['node', NSTRACE, 'cputop', '--no-progress', trace], { repeat });
  process.stderr.write('timing nstrace sql (per-container CPU)...\n');
  const sqlOut = join(cache, 'sql.json');
  const sql = await measure(['node', NSTRACE, 'sql', '--no-progress', '--format', 'json', trace, QUERY], {
    repeat,
    stdoutPath: sqlOut,
  });
  process.stderr.write('timing nstrace export --format parquet...\n');
  const out = join(cache, 'dataset');
  let exp = { wall: Infinity, cpu: NaN, maxRssMiB: NaN, code: 1 };
  for (let i = 0; i < repeat; i++) {
    rmSync(out, { recursive: true, force: true });
    const m = await measure(['node', NSTRACE, 'export', '--no-progress', '-o', out, trace]);
    if (m.code !== 0 || m.wall < exp.wall) exp = m;
    if (m.code !== 0) break;
  }

  // The query's numbers are cputop's: its --mi ratio is (ns * 100 / period) / 100.
  const miOut = join(cache, 'cputop.json');
  await measure(['node', NSTRACE, 'cputop', '--mi', '--limit', '0', trace], { stdoutPath: miOut });
  const miText = readFileSync(miOut, 'utf8');
  const mi = (JSON.parse(miText) as { results: MiTable[] }).results.find((t) => t.class === 'per-container');
  // The period's ns exactly (JSON.parse reads ~1.8e18 as a double, 256 ns apart).
  const range =
    /"time-range", "begin": \{"class": "timestamp", "value": (\d+)\}, "end": \{"class": "timestamp", "value": (\d+)\}/.exec(
      miText,
    );
  const rows = JSON.parse(readFileSync(sqlOut, 'utf8')) as Array<{ container: string; cpu_ns: string }>;
  let same = mi !== undefined && range !== null && rows.length === mi.data.length;
  if (mi !== undefined && range !== null) {
    const period = Number(BigInt(range[2]!) - BigInt(range[1]!));
    for (const row of mi.data) {
      const r = rows.find((x) => x.container === row[0]!.name);
      same &&= r !== undefined && (Number(r.cpu_ns) * 100) / period / 100 === row[1]!.value;
    }
  }

  const ratio = sql.wall / cputop.wall;
  const rate = events / exp.wall;
  const row = (what: string, m: { wall: number; cpu: number; maxRssMiB: number }): string =>
    `| ${what} | ${m.wall.toFixed(2)} s | ${m.cpu.toFixed(2)} s | ${m.maxRssMiB.toFixed(0)} MiB |`;
  return {
    title: `sql: nstrace sql and export vs nstrace cputop on a simulated kernel trace (${events} events)`,
    lines: [
      `| command | wall (best of ${repeat}) | CPU | peak RSS |`,
      '|---|---|---|---|',
      row('nstrace cputop TRACE', cputop),
      row('nstrace sql TRACE (per-container CPU)', sql),
      row('nstrace export --format parquet -o DIR TRACE', exp),
      '',
      `sql / cputop: ${ratio.toFixed(2)}x (wall); export: ${(rate / 1e6).toFixed(2)} M events/s`,
      `per-container CPU time of the query equals cputop --mi's: ${same ? 'yes' : 'NO'}`,
    ],
    bars: [
      {
        name: 'sql per-container CPU query vs cputop',
        value: `${ratio.toFixed(2)}x`,
        bar: '<= 2x',
        pass: ratio <= 2 && sql.code === 0 && cputop.code === 0,
      },
      {
        name: 'export to Parquet',
        value: `${(rate / 1e6).toFixed(2)} M events/s`,
        bar: '>= 1 M events/s',
        pass: rate >= 1e6 && exp.code === 0,
      },
      {
        name: 'sql per-container CPU equals cputop',
        value: same ? 'equal' : 'different',
        bar: 'equal',
        pass: same,
      },
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  process.stdout.write(`${r.title}\n${r.lines.join('\n')}\n`);
}
