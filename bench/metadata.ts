/**
 * Metadata parsing: nstrace's TSDL parser vs babeltrace2 on the metadata of a kernel trace
 * with ~1200 event classes (tracecompass-test-traces/many-threads, packetized, 300 kB of TSDL).
 *
 * babeltrace2 is run on a directory holding only that metadata file: it parses the metadata,
 * builds its trace class and exits (no data). nstrace runs a process that does the same
 * (bench/metadata-parse.ts). Both are timed whole (process start included) under GNU time,
 * best of N; nstrace also reports the parse alone, first (cold) and warm.
 * Bar: the first parse in a fresh process under 100 ms.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BenchResult, measure } from './measure.js';

const METADATA =
  process.env.NSTRACE_BENCH_METADATA ?? '/work/shared/traces/tracecompass-test-traces/many-threads/metadata';
const HELPER = resolve('dist-bench/bench/metadata-parse.js');

export async function run(): Promise<BenchResult> {
  if (!existsSync(METADATA)) {
    return {
      title: 'metadata: skipped',
      lines: [`${METADATA} is absent (set NSTRACE_BENCH_METADATA)`],
      bars: [],
    };
  }
  const repeat = Number(process.env.NSTRACE_BENCH_REPEAT ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'nstrace-bench-metadata-'));
  try {
    copyFileSync(METADATA, join(dir, 'metadata'));
    const out = join(dir, 'out.json');
    const bt = await measure(['babeltrace2', dir], { repeat });
    const nsProc = await measure(['node', HELPER, METADATA, '1'], { repeat, stdoutPath: out });
    // In-process timings: cold first parse, best over several fresh processes; warm median.
    let first = Infinity;
    let warm = NaN;
    let events = 0;
    for (let i = 0; i < repeat; i++) {
      await measure(['node', HELPER, METADATA, '20'], { stdoutPath: out });
      const r = JSON.parse(readFileSync(out, 'utf8')) as {
        events: number;
        firstMs: number;
        warmMedianMs: number;
      };
      first = Math.min(first, r.firstMs);
      warm = Number.isNaN(warm) ? r.warmMedianMs : Math.min(warm, r.warmMedianMs);
      events = r.events;
    }
    const row = (what: string, m: { wall: number; cpu: number; maxRssMiB: number }): string =>
      `| ${what} | ${m.wall.toFixed(3)} s | ${m.cpu.toFixed(3)} s | ${m.maxRssMiB.toFixed(0)} MiB |`;
    return {
      title: `metadata: parsing ${events} event classes (${METADATA})`,
      lines: [
        `| command | wall (best of ${repeat}) | CPU | peak RSS |`,
        '|---|---|---|---|',
        row('babeltrace2 METADATA-ONLY-DIR', bt),
        row('node metadata-parse.js METADATA', nsProc),
        '',
        `nstrace parse alone: first (cold) ${first.toFixed(1)} ms, warm median ${warm.toFixed(1)} ms`,
        `whole process: babeltrace2 ${bt.wall.toFixed(3)} s, nstrace ${nsProc.wall.toFixed(3)} s (${(bt.wall / nsProc.wall).toFixed(2)}x)`,
      ],
      bars: [
        {
          name: 'cold metadata parse, ~1200 event classes',
          value: `${first.toFixed(1)} ms`,
          bar: '< 100 ms',
          pass: first < 100 && nsProc.code === 0,
        },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  process.stdout.write(`${r.title}\n${r.lines.join('\n')}\n`);
}
