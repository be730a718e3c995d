/**
 * Issue 13: the analyses against their lttng-analyses 0.6.1 twins on a REAL recording, in one run.
 *
 * The trace is recorded by `nstrace record` (default events + all syscalls) while
 * bench/analyses-workload.sh keeps the host busy with CPU, disk (fsync), loopback network and
 * IRQ work; it is cached in .bench/analyses-real (root and tracefs needed the first time; the
 * recording holds /tmp/nstrace-system.lock). NSTRACE_BENCH_REAL_TRACE names an existing
 * recording instead; NSTRACE_BENCH_REAL_SECONDS sets the recording length (default 12 s; the
 * bench refuses fewer than 1 M events). How many events 12 s give depends on the machine: 1.4 M
 * to 4.3 M have been seen. Every ratio depends on it too: nstrace's fixed cost (start, modules,
 * opening the trace: about 0.25 s) weighs more on a small recording, where the peers' cost is
 * all per event. The table says how many events the recording has.
 *
 * Bars: `nstrace cputop` at least 100x faster than `lttng-cputop` (wall), and every other analysis
 * at least 50x faster than its twin. The peers run once each (a minute or more apiece on 2 M
 * events: the whole bench takes a long while); NSTRACE_BENCH_ANALYSES=cputop,schedstats,...
 * selects commands. Each pair's text outputs are also compared (ours starts with theirs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BarResult, type BenchResult, measure } from './measure.js';
import { copyWithOldNames } from '../test/util/lttng-names.js';

const NSTRACE = resolve('dist/bin/nstrace.js');
const IRQ_PERIOD =
  'irq:$evt.$name == "irq_handler_entry" : $evt.$name == "irq_handler_exit" && $evt.irq == $begin.$evt.irq';

/** Every analysis with its arguments (the period analyses need a period definition). */
const COMMANDS: ReadonlyArray<[string, string[]]> = [
  ['cputop', []],
  ...['schedstats', 'schedtop', 'schedlog', 'schedfreq'].map((c): [string, string[]] => [c, []]),
  ...['iousagetop', 'iolatencytop', 'iolatencystats', 'iolatencyfreq', 'iolog'].map(
    (c): [string, string[]] => [c, []],
  ),
  ...['irqstats', 'irqfreq', 'irqlog'].map((c): [string, string[]] => [c, []]),
  ...['periodlog', 'periodtop', 'periodstats', 'periodfreq'].map((c): [string, string[]] => [
    c,
    ['--period', IRQ_PERIOD],
  ]),
];

function record(dir: string, seconds: number): number {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`recording ${seconds} s of CPU, disk, network and IRQ work into ${dir} (root)...\n`);
  const script =
    `node '${NSTRACE}' record -o '${dir}' --duration ${seconds + 3}s & rec=$!; sleep 2; ` +
    `sh '${resolve('bench/analyses-workload.sh')}' ${seconds}; wait $rec`;
  const out = execFileSync('flock', ['/tmp/nstrace-system.lock', 'sh', '-c', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m = /Recorded (\d+) events/.exec(out);
  if (m === null) throw new Error(`nstrace record said: ${out}`);
  return Number(m[1]);
}

export async function run(): Promise<BenchResult> {
  const cache = resolve('.bench', 'analyses-real');
  let trace = process.env.NSTRACE_BENCH_REAL_TRACE;
  let events: number | undefined;
  if (trace === undefined) {
    trace = join(cache, 'rec', 'kernel');
    const stamp = join(cache, 'events');
    if (existsSync(stamp)) events = Number(readFileSync(stamp, 'utf8'));
    else {
      events = record(join(cache, 'rec'), Number(process.env.NSTRACE_BENCH_REAL_SECONDS ?? 12));
      writeFileSync(stamp, String(events));
    }
    if (events < 1_000_000)
      throw new Error(`the recording has ${events} events, fewer than 1 M: record longer`);
  }
  // lttng-analyses reads the tracer version from a directory whose name ends in `kernel`, and
  // the softirq and packet-receive events under their pre-2.7 names: it gets a copy of the trace
  // with those names (stream files linked), as in the differential tests.
  const laDir = join(cache, 'la');
  const link = join(laDir, 'kernel');
  rmSync(laDir, { recursive: true, force: true });
  if (!copyWithOldNames(resolve(trace), link)) {
    mkdirSync(laDir, { recursive: true });
    symlinkSync(resolve(trace), link);
  }
  const repeat = Number(process.env.NSTRACE_BENCH_REPEAT ?? 3);
  const only = process.env.NSTRACE_BENCH_ANALYSES?.split(',');
  const lines = [
    '| analysis | lttng-analyses wall | nstrace wall (best of ' + repeat + ') | ratio | same text |',
  ];
  lines.push('|---|---|---|---|---|');
  const bars: BarResult[] = [];
  for (const [cmd, args] of COMMANDS) {
    if (only !== undefined && !only.includes(cmd)) continue;
    process.stderr.write(`timing lttng-${cmd} (once)...\n`);
    const laOut = join(cache, `lttng-${cmd}.txt`);
    const la = await measure([`lttng-${cmd}`, '--no-progress', '--skip-validation', '--gmt', ...args, link], {
      stdoutPath: laOut,
      env: { ...process.env, TZ: 'UTC' },
    });
    process.stderr.write(`timing nstrace ${cmd}...\n`);
    const nsOut = join(cache, `nstrace-${cmd}.txt`);
    const ns = await measure(['node', NSTRACE, cmd, '--no-progress', '--gmt', ...args, trace], {
      repeat,
      stdoutPath: nsOut,
    });
    const theirs = readFileSync(laOut, 'utf8');
    const same = theirs.length > 0 && readFileSync(nsOut, 'utf8').startsWith(theirs);
    const ratio = la.wall / ns.wall;
    const want = cmd === 'cputop' ? 100 : 50;
    lines.push(
      `| ${cmd} | ${la.wall.toFixed(2)} s | ${ns.wall.toFixed(2)} s | ${ratio.toFixed(1)}x | ${same ? 'yes' : 'NO'} |`,
    );
    bars.push({
      name: `${cmd} speed vs lttng-${cmd} (real recording)`,
      value: `${ratio.toFixed(1)}x`,
      bar: `>= ${want}x`,
      pass: ratio >= want && la.code === 0 && ns.code === 0,
    });
  }
  return {
    title: `analyses: nstrace vs lttng-analyses 0.6.1 on a real recording (${events ?? '?'} events, ${trace})`,
    lines,
    bars,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  process.stdout.write(`${r.title}\n${r.lines.join('\n')}\n`);
  for (const b of r.bars)
    process.stdout.write(`${b.pass ? 'PASS' : 'FAIL'}  ${b.name}: ${b.value} (bar: ${b.bar})\n`);
}
