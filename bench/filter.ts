/**
 * Issue "LTTng filter language": events/s of `nstrace print --filter EXPR` with a 5-term
 * expression against `nstrace print` without a filter, on the same UST trace as the print
 * benchmark, in the same run. The expression is true for every event, so both runs format and
 * write the same text and the difference is the cost of evaluating the filter. Bar: the filter
 * costs under 15% of print's time.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BenchResult, type Measurement, measure } from './measure.js';
import { recordUstBenchTrace, traceBytes } from './ust-workload.js';

const EVENTS = Number(process.env.NSTRACE_BENCH_EVENTS ?? 4_200_000);
const NSTRACE = resolve('dist/bin/nstrace.js');

/** Five terms over contexts every event has: integer, string glob, 64-bit, field pair, bitwise. */
export const ALL_TRUE =
  '$ctx.vpid > 0 && $ctx.procname == "bench*" && $ctx.pid_ns != 0 && $ctx.vtid >= $ctx.vpid && ($ctx.mnt_ns & 1) <= 1';
/** Five payload terms (request events only; the tick events lack these fields). */
export const PAYLOAD =
  'id >= 0 && path != "/nowhere/*" && ratio >= 0.0 && (bytes & 0x1ff) == 0 && tag[0] == 1';

export async function run(): Promise<BenchResult> {
  const cache = resolve('.bench');
  mkdirSync(cache, { recursive: true });
  process.stderr.write(`recording a UST trace of ${EVENTS} events (cached in .bench/)...\n`);
  const trace = await recordUstBenchTrace(join(cache, `ust-${EVENTS}`), EVENTS);
  const mib = traceBytes(trace) / 1024 / 1024;
  const repeat = Number(process.env.NSTRACE_BENCH_REPEAT ?? 5);

  process.stderr.write('timing print without and with --filter (interleaved runs)...\n');
  // Interleave the three commands so that a change of machine load hits them alike; keep the
  // run with the least CPU time of each.
  const argv = [
    ['node', NSTRACE, 'print', trace],
    ['node', NSTRACE, 'print', '--filter', ALL_TRUE, trace],
    ['node', NSTRACE, 'print', '--filter', PAYLOAD, trace],
  ];
  const best: Measurement[] = [];
  for (let r = 0; r < repeat; r++) {
    for (let i = 0; i < argv.length; i++) {
      const m = await measure(argv[i]!);
      const b = best[i];
      if (b === undefined || m.code !== 0 || (b.code === 0 && m.cpu < b.cpu)) best[i] = m;
    }
  }
  const [plain, all, payload] = best as [Measurement, Measurement, Measurement];

  const rate = (cpu: number): string => `${(EVENTS / cpu / 1e6).toFixed(2)} M events/s`;
  const cost = (all.cpu - plain.cpu) / plain.cpu;
  const row = (what: string, m: { wall: number; cpu: number; maxRssMiB: number }): string =>
    `| ${what} | ${m.wall.toFixed(2)} s | ${m.cpu.toFixed(2)} s | ${rate(m.cpu)} |`;
  return {
    title: `filter: nstrace print --filter vs nstrace print (${EVENTS} events, ${mib.toFixed(0)} MiB)`,
    lines: [
      `| command | wall (best of ${repeat}) | CPU | events read per CPU second |`,
      '|---|---|---|---|',
      row('nstrace print TRACE', plain),
      row(`nstrace print --filter '${ALL_TRUE}' TRACE`, all),
      row(`nstrace print --filter '${PAYLOAD}' TRACE (3/4 of the events kept)`, payload),
      '',
      `the 5-term filter (every event kept) adds ${(cost * 100).toFixed(1)}% of print's CPU time`,
    ],
    bars: [
      {
        name: 'cost of a 5-term --filter in print',
        value: `${(cost * 100).toFixed(1)}%`,
        bar: '< 15%',
        pass: cost < 0.15 && plain.code === 0 && all.code === 0 && payload.code === 0,
      },
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  process.stdout.write(`${r.title}\n${r.lines.join('\n')}\n`);
}
