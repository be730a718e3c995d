/**
 * `npm run fuzz -- [--seed N] [--runs N] [--jobs N] ...`: a long fuzzing campaign over the
 * built CLI (dist/bin/nstrace.js), with a report. See docs/fuzzing.md.
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { COMMANDS, DEFAULT_LIMITS } from './exec.js';
import { type CampaignReport, minimise, runCampaign, saveFixture } from './harness.js';
import { loadSeeds, ROOT } from './seeds.js';

function int(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

const program = new Command()
  .name('npm run fuzz --')
  .description('Mutate the fixture traces and run nstrace print and the analyses on each mutant.')
  .option('--seed <n>', 'fast-check seed (default: random, printed)', int)
  .option('--runs <n>', 'number of mutants', int, 2000)
  .option('--jobs <n>', 'mutants in flight at once', int, 2)
  .option(
    '--timeout <s>',
    'per-run time limit in seconds (a hang beyond)',
    int,
    DEFAULT_LIMITS.timeoutMs / 1000,
  )
  .option('--mem <MiB>', 'per-run memory cap in MiB', int, DEFAULT_LIMITS.memCapMb)
  .option(
    '--commands <list>',
    `commands to run (${Object.keys(COMMANDS).join(',')})`,
    Object.keys(COMMANDS).join(','),
  )
  .option('--shared', 'also mutate a few traces of /work/shared/traces (when present)', false)
  .option('--bt2-every <n>', 'also run babeltrace2 on every n-th mutant (0: never)', int, 0)
  .option('--only <list>', 'run only these mutant indices (comma-separated) of the seed and runs given')
  .option('--minimise', 'shrink each failure (fewer operations, files, bytes, lines)', false)
  .option('--save-fixtures', 'save each (minimised) failure under test/fixtures/fuzz/', false)
  .option('--report <path>', 'write the report as JSON to this file')
  .addHelpText(
    'after',
    `
Examples:
  npm run fuzz -- --runs 2000 --seed 42 --report /tmp/fuzz.json
  npm run fuzz -- --runs 500 --shared --bt2-every 4
  npm run fuzz -- --seed 1234 --runs 300 --minimise --save-fixtures     keep what it finds
  npm run fuzz -- --seed 1234 --runs 300 --only 17,250 --minimise      reproduce two failures
  NSTRACE_FUZZ_BIN=/other/dist/bin/nstrace.js npm run fuzz -- ...        fuzz another build`,
  );

function table(r: CampaignReport): string {
  const cols = ['ok', 'error', 'unclean', 'crash', 'hang', 'memory'] as const;
  const out = [`| command | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`];
  for (const [c, counts] of Object.entries(r.outcomes))
    out.push(`| ${c} | ${cols.map((k) => counts[k]).join(' | ')} |`);
  out.push('', `| mutation class (worst outcome per mutant) | ${cols.join(' | ')} |`);
  out.push(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const [c, counts] of Object.entries(r.byClass))
    out.push(`| ${c} | ${cols.map((k) => counts[k]).join(' | ')} |`);
  return out.join('\n');
}

async function main(): Promise<number> {
  program.parse(process.argv);
  const o = program.opts<{
    seed?: number;
    runs: number;
    jobs: number;
    timeout: number;
    mem: number;
    commands: string;
    shared: boolean;
    bt2Every: number;
    minimise: boolean;
    saveFixtures: boolean;
    report?: string;
    only?: string;
  }>();
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const seeds = loadSeeds(o.shared);
  const commands = o.commands.split(',').filter((c) => c !== '');
  for (const c of commands) if (!(c in COMMANDS)) throw new InvalidArgumentError(`unknown command ${c}`);
  process.stderr.write(
    `fuzz: seed ${seed}, ${o.runs} mutants of ${seeds.length} traces, commands ${commands.join(',')}, ${o.jobs} jobs\n`,
  );
  const tty = process.stderr.isTTY === true;
  const t0 = Date.now();
  const report = await runCampaign({
    seed,
    runs: o.runs,
    jobs: o.jobs,
    seeds,
    commands,
    limits: { timeoutMs: o.timeout * 1000, memCapMb: o.mem },
    bt2Every: o.bt2Every,
    ...(o.only === undefined ? {} : { only: o.only.split(',').map(int) }),
    onFailure: (f) => {
      process.stderr.write(
        `${tty ? '\r\x1b[K' : ''}fuzz: FAILURE ${f.id}: ${f.outcome}: ${f.reason.slice(0, 200)} (${f.dir})\n`,
      );
    },
    onProgress: (done, total, failures) => {
      if (!tty && done % 50 !== 0 && done !== total) return;
      const rate = done / ((Date.now() - t0) / 1000);
      process.stderr.write(
        `${tty ? '\r\x1b[K' : ''}fuzz: ${done}/${total} mutants, ${failures} failures, ${rate.toFixed(2)} mutants/s${tty ? '' : '\n'}`,
      );
    },
  });
  if (tty) process.stderr.write('\n');
  if (o.minimise) {
    for (const f of report.failures) {
      process.stderr.write(`fuzz: minimising ${f.id}\n`);
      await minimise(f, seeds, report.limits);
    }
  }
  const saved: string[] = [];
  if (o.saveFixtures) for (const f of report.failures) saved.push(saveFixture(ROOT, f, seeds, seed));

  const lines = [
    `seed ${report.seed}: ${report.runs} mutants, ${report.childRuns} child runs in ${report.seconds.toFixed(0)} s ` +
      `(${(report.runs / report.seconds).toFixed(2)} mutants/s, ${(report.childRuns / report.seconds).toFixed(2)} runs/s); ` +
      `peak RSS ${(report.peakRssKb / 1024).toFixed(0)} MiB, slowest run ${(report.slowestMs / 1000).toFixed(1)} s`,
    '',
    table(report),
  ];
  if (report.bt2 !== undefined) {
    const b = report.bt2.outcomes;
    lines.push(
      '',
      `babeltrace2 on ${report.bt2.runs} of them: ok ${b.ok}, error ${b.error}, assertion ${b.assertion}, crash ${b.crash}, hang ${b.hang}, memory ${b.memory}`,
    );
  }
  if (report.failures.length > 0) {
    lines.push('', `${report.failures.length} failures (mutants kept in ${report.workDir}):`);
    for (const f of report.failures) {
      lines.push(
        `- ${f.id}: ${f.outcome}: ${f.reason.slice(0, 300)}`,
        `  ${f.dir}`,
        `  ops: ${JSON.stringify(f.mutant.ops)}`,
      );
    }
  }
  if (saved.length > 0) lines.push('', 'saved fixtures:', ...saved.map((s) => `- ${s}`));
  process.stdout.write(lines.join('\n') + '\n');
  if (o.report !== undefined) writeFileSync(o.report, JSON.stringify(report, null, 2) + '\n');
  return report.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
