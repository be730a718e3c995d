/**
 * Issue 12: `nstrace spans` on a kernel trace of at least 1 million events plus its userspace
 * trace, against `nstrace cputop` on the kernel trace alone, in one run. Bar: spans takes less
 * than twice cputop's time (wall, best of NSTRACE_BENCH_REPEAT, default 3).
 *
 * The kernel trace is the cputop benchmark's simulated host (`writeBenchTrace`: 4 CPUs, six
 * containers, tid and pid_ns contexts, LTTng 2.13 statedump), the userspace trace its
 * containers' applications serving requests (`writeUstSpans`: begin/end events with vpid, vtid
 * and pid_ns contexts, on the same clock), both cached in .bench/.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeBenchTrace } from '../src/synthetic/simulate.js';
import { BENCH_BEGIN, BENCH_END, writeUstSpans } from '../src/synthetic/ust-spans.js';
import { type BenchResult, measure } from './measure.js';

const EVENTS = Number(process.env.NSTRACE_BENCH_SPANS_EVENTS ?? 1_200_000);
const NSTRACE = resolve('dist/bin/nstrace.js');

export async function run(): Promise<BenchResult> {
  const cache = resolve('.bench', `spans-${EVENTS}`);
  const kernel = join(cache, 'kernel');
  const ust = join(cache, 'ust');
  const stamp = join(cache, 'events');
  let info: { kernel: number; ust: number; requests: number };
  if (existsSync(stamp)) {
    info = JSON.parse(readFileSync(stamp, 'utf8')) as typeof info;
  } else {
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    process.stderr.write(
      `writing a simulated kernel trace of ${EVENTS} events and its userspace trace (.bench/)...\n`,
    );
    const k = writeBenchTrace(kernel, EVENTS).events;
    const u = writeUstSpans(kernel, ust, { begin: 0.5, end: 0.5 });
    info = { kernel: k, ust: u.events, requests: u.requests };
    writeFileSync(stamp, JSON.stringify(info));
  }
  const repeat = Number(process.env.NSTRACE_BENCH_REPEAT ?? 3);
  process.stderr.write('timing nstrace cputop on the kernel trace...\n');
  const cputop = await measure(['node', NSTRACE, 'cputop', '--no-progress', kernel], { repeat });
  process.stderr.write('timing nstrace spans on the kernel and userspace traces...\n');
  const out = join(cache, 'spans.txt');
  const spans = await measure(
    [
      'node',
      NSTRACE,
      'spans',
      '--no-progress',
      '--begin',
      BENCH_BEGIN,
      '--end',
      BENCH_END,
      '--match',
      'id',
      cache,
    ],
    { repeat, stdoutPath: out },
  );
  const text = readFileSync(out, 'utf8');
  const shown = /: (\d+) spans?\n/.exec(text)?.[1];
  const ratio = spans.wall / cputop.wall;
  const row = (what: string, m: { wall: number; cpu: number; maxRssMiB: number }): string =>
    `| ${what} | ${m.wall.toFixed(2)} s | ${m.cpu.toFixed(2)} s | ${m.maxRssMiB.toFixed(0)} MiB |`;
  return {
    title: `spans: nstrace spans (kernel + userspace) vs nstrace cputop (kernel) on a simulated host (${info.kernel} kernel events, ${info.ust} userspace events, ${info.requests} requests)`,
    lines: [
      `| command | wall (best of ${repeat}) | CPU | peak RSS |`,
      '|---|---|---|---|',
      row('nstrace cputop KERNEL', cputop),
      row('nstrace spans --match id KERNEL+UST', spans),
      '',
      `spans / cputop: ${ratio.toFixed(2)}x (wall), ${(spans.cpu / cputop.cpu).toFixed(2)}x (CPU); spans reported: ${shown ?? '?'}`,
    ],
    bars: [
      {
        name: 'spans (kernel + UST) vs cputop (kernel alone)',
        value: `${ratio.toFixed(2)}x`,
        bar: '< 2x',
        pass: ratio < 2 && spans.code === 0 && cputop.code === 0 && shown !== undefined && Number(shown) > 0,
      },
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  process.stdout.write(`${r.title}\n${r.lines.join('\n')}\n`);
}
