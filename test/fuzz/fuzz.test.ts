/**
 * The bounded fuzzing run of `npm test`: mutants of the fixture traces (TSDL, stream bytes,
 * packetized metadata, index files) through `nstrace print` and the analyses, each in a child
 * process with a 20 s limit and a 2 GiB memory cap. No crash, no hang, no run over the cap, no
 * error message over several lines.
 *
 * A new seed each run (printed; set NSTRACE_FUZZ_SEED to replay one), NSTRACE_FUZZ_RUNS mutants
 * (default 60: about 1 to 3 minutes on a busy 2-core machine). A failure names the command that
 * reproduces it with `npm run fuzz`, which can minimise it and save it as a regression fixture.
 */
import { describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/cli.js';
import { runCampaign } from './harness.js';
import { loadSeeds } from './seeds.js';

const RUNS = Number(process.env.NSTRACE_FUZZ_RUNS ?? 60);
const SEED = Number(process.env.NSTRACE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe('fuzzing print and the analyses', () => {
  it(
    `${RUNS} mutants, seed ${SEED}: no crash, hang or memory blow-up`,
    { timeout: 20 * 60_000 },
    async () => {
      ensureBuilt();
      const seeds = loadSeeds(false);
      const r = await runCampaign({ seed: SEED, runs: RUNS, jobs: 2, seeds });
      const o = r.outcomes;
      console.log(
        `fuzz seed ${SEED}: ${r.runs} mutants, ${r.childRuns} runs in ${r.seconds.toFixed(0)} s ` +
          `(${(r.runs / r.seconds).toFixed(2)} mutants/s); print ok ${o.print!.ok} / error ${o.print!.error}; ` +
          `peak RSS ${(r.peakRssKb / 1024).toFixed(0)} MiB, slowest run ${(r.slowestMs / 1000).toFixed(1)} s`,
      );
      const failures = r.failures.map(
        (f) =>
          `${f.id}: ${f.outcome}: ${f.reason.slice(0, 300)}\n  mutant kept in ${f.dir}\n  ops ${JSON.stringify(f.mutant.ops)}`,
      );
      expect(
        failures,
        `reproduce: npm run fuzz -- --seed ${SEED} --runs ${RUNS} --only ${r.failures.map((f) => f.index).join(',')} --minimise --save-fixtures`,
      ).toEqual([]);
      // The judge saw both endings on this run: mutants that still decode and ones that do not.
      expect(o.print!.ok).toBeGreaterThan(0);
      expect(o.print!.error).toBeGreaterThan(0);
    },
  );
});
