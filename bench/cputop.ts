/**
 * Issue "system model and per-container analyses": `nstrace cputop` vs `lttng-cputop`
 * (lttng-analyses 0.6.1) on the same kernel trace of at least 1 million events, in one run.
 *
 * No public kernel trace that big is at hand, so the trace is simulated and written with
 * nstrace's CTF writer (`writeBenchTrace`: a busy 4-CPU host with six containers, `tid` and
 * `pid_ns` contexts, a realistic mix of sched_switch, syscalls, wakeups and page events),
 * cached in .bench/. Both tools read it with their defaults (stream intersection on); the bench
 * also checks that their per-TID and per-CPU tables are identical. Bar: nstrace at least 50x
 * faster (wall time).
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { writeBenchTrace } from '../src/synthetic/simulate.js';
import { type BenchResult, measure } from './measure.js';

const EVENTS = Number(process.env.NSTRACE_BENCH_CPUTOP_EVENTS ?? 1_200_000);
const NSTRACE = resolve('dist/bin/nstrace.js');

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

export async function run(): Promise<BenchResult> {
  const cache = resolve('.bench', `cputop-${EVENTS}`);
  const trace = join(cache, 'kernel');
  const stamp = join(cache, 'events');
  let events: number;
  if (existsSync(stamp)) {
    events = Number(readFileSync(stamp, 'utf8'));
  } else {
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    process.stderr.write(`writing a simulated kernel trace of ${EVENTS} events (cached in .bench/)...\n`);
    events = writeBenchTrace(trace, EVENTS).events;
    writeFileSync(stamp, String(events));
  }
  // lttng-analyses reads the tracer version from a directory whose name ends in `kernel`.
  const link = join(resolve('.bench'), 'la-cputop', 'kernel');
  mkdirSync(join(resolve('.bench'), 'la-cputop'), { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(trace, link);
  const mib = dirBytes(cache) / 1024 / 1024;
  const repeat = Number(process.env.NSTRACE_BENCH_REPEAT ?? 3);

  process.stderr.write('timing lttng-cputop (once: it takes a while)...\n');
  const laOut = join(cache, 'lttng-cputop.txt');
  const la = await measure(['lttng-cputop', '--no-progress', '--skip-validation', '--gmt', link], {
    stdoutPath: laOut,
  });
  process.stderr.write('timing nstrace cputop...\n');
  const nsOut = join(cache, 'nstrace-cputop.txt');
  const ns = await measure(['node', NSTRACE, 'cputop', '--no-progress', '--gmt', trace], {
    repeat,
    stdoutPath: nsOut,
  });

  const theirs = readFileSync(laOut, 'utf8');
  const mine = readFileSync(nsOut, 'utf8');
  const same = theirs.length > 0 && mine.startsWith(theirs);
  const ratio = la.wall / ns.wall;
  const row = (what: string, m: { wall: number; cpu: number; maxRssMiB: number }): string =>
    `| ${what} | ${m.wall.toFixed(2)} s | ${m.cpu.toFixed(2)} s | ${m.maxRssMiB.toFixed(0)} MiB |`;
  return {
    title: `cputop: nstrace vs lttng-cputop on a simulated kernel trace (${events} events, ${mib.toFixed(0)} MiB)`,
    lines: [
      `| command | wall (nstrace: best of ${repeat}) | CPU | peak RSS |`,
      '|---|---|---|---|',
      row('lttng-cputop TRACE', la),
      row('nstrace cputop TRACE', ns),
      '',
      `nstrace is ${ratio.toFixed(1)}x faster (wall), ${(la.cpu / ns.cpu).toFixed(1)}x (CPU)`,
      `per-TID, per-CPU and total tables identical to lttng-cputop's: ${same ? 'yes' : 'NO'}`,
    ],
    bars: [
      {
        name: 'cputop speed vs lttng-cputop',
        value: `${ratio.toFixed(1)}x`,
        bar: '>= 50x',
        pass: ratio >= 50 && ns.code === 0 && la.code === 0,
      },
      {
        name: 'cputop output equals lttng-cputop',
        value: same ? 'identical' : 'different',
        bar: 'identical',
        pass: same,
      },
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  process.stdout.write(`${r.title}\n${r.lines.join('\n')}\n`);
}
