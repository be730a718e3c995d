/**
 * Issue "CTF 1.8 in TypeScript": nstrace print vs babeltrace2 on a UST trace of at least
 * 4 million events with several contexts, recorded here with lttng-ust. Two comparisons in the
 * same run: text output to /dev/null (`babeltrace2 TRACE` vs `nstrace print TRACE`) and decoding
 * every field without output (`babeltrace2 TRACE -o dummy` vs `nstrace print -o dummy TRACE`).
 * Bar: nstrace at least 2x faster in both, peak RSS under 300 MB.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BenchResult, measure } from './measure.js';
import { recordUstBenchTrace, traceBytes } from './ust-workload.js';

const EVENTS = Number(process.env.NSTRACE_BENCH_EVENTS ?? 4_200_000);
const NSTRACE = resolve('dist/bin/nstrace.js');

export async function run(): Promise<BenchResult> {
  const cache = resolve('.bench');
  mkdirSync(cache, { recursive: true });
  process.stderr.write(`recording a UST trace of ${EVENTS} events (cached in .bench/)...\n`);
  const trace = await recordUstBenchTrace(join(cache, `ust-${EVENTS}`), EVENTS);
  const mib = traceBytes(trace) / 1024 / 1024;
  const repeat = Number(process.env.NSTRACE_BENCH_REPEAT ?? 3);

  process.stderr.write('timing text output...\n');
  const btText = await measure(['babeltrace2', trace], { repeat });
  const nsText = await measure(['node', NSTRACE, 'print', trace], { repeat });
  process.stderr.write('timing decoding without output...\n');
  const btDummy = await measure(['babeltrace2', trace, '-o', 'dummy'], { repeat });
  const nsDummy = await measure(['node', NSTRACE, 'print', '-o', 'dummy', trace], { repeat });

  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  const textRatio = btText.wall / nsText.wall;
  const dummyRatio = btDummy.wall / nsDummy.wall;
  const rss = Math.max(nsText.maxRssMiB, nsDummy.maxRssMiB);
  const row = (what: string, m: { wall: number; cpu: number; maxRssMiB: number }): string =>
    `| ${what} | ${m.wall.toFixed(2)} s | ${m.cpu.toFixed(2)} s | ${m.maxRssMiB.toFixed(0)} MiB |`;
  return {
    title: `print: nstrace vs babeltrace2 on a UST trace (${EVENTS} events, ${mib.toFixed(0)} MiB)`,
    lines: [
      '| command | wall (best of ' + repeat + ') | CPU | peak RSS |',
      '|---|---|---|---|',
      row('babeltrace2 TRACE', btText),
      row('nstrace print TRACE', nsText),
      row('babeltrace2 TRACE -o dummy', btDummy),
      row('nstrace print -o dummy TRACE', nsDummy),
      '',
      `text output: nstrace is ${ratio(btText.wall, nsText.wall)}x faster (wall), ${ratio(btText.cpu, nsText.cpu)}x (CPU)`,
      `decoding only: nstrace is ${ratio(btDummy.wall, nsDummy.wall)}x faster (wall), ${ratio(btDummy.cpu, nsDummy.cpu)}x (CPU)`,
    ],
    bars: [
      {
        name: 'print speed vs babeltrace2',
        value: `${textRatio.toFixed(2)}x`,
        bar: '>= 2x',
        pass: textRatio >= 2 && nsText.code === 0,
      },
      {
        name: 'decode speed vs babeltrace2 -o dummy',
        value: `${dummyRatio.toFixed(2)}x`,
        bar: '>= 2x',
        pass: dummyRatio >= 2 && nsDummy.code === 0,
      },
      {
        name: `peak RSS on a ${mib.toFixed(0)} MiB trace`,
        value: `${rss.toFixed(0)} MiB`,
        bar: '< 300 MiB',
        pass: rss < 300,
      },
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  process.stdout.write(`${r.title}\n${r.lines.join('\n')}\n`);
}
