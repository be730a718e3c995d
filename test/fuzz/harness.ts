/**
 * A fuzzing campaign: `runs` mutants drawn by fast-check from `seed`, each written to a
 * temporary directory and given to every command (`print` and the analyses) in a child
 * process, `jobs` children at a time. Failures (see exec.ts) are kept with the operations that
 * made them, optionally minimised, and can be saved as regression fixtures.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  COMMANDS,
  DEFAULT_LIMITS,
  FAILURES,
  type Bt2Outcome,
  type Outcome,
  type RunLimits,
  type RunResult,
  runBabeltrace2,
  runNstrace,
} from './exec.js';
import { applyMutant, type MutationClass, type Mutant, mutantArbitrary } from './mutate.js';
import { type Seed, seedPath } from './seeds.js';

export interface CampaignOptions {
  readonly seed: number;
  readonly runs: number;
  readonly jobs: number;
  readonly seeds: readonly Seed[];
  readonly commands?: readonly string[];
  readonly limits?: RunLimits;
  /** Also run babeltrace2 on every n-th mutant (0: never). */
  readonly bt2Every?: number;
  /** Minimise each failure (costs child runs). */
  readonly minimise?: boolean;
  /** Run only these mutant indices (to reproduce failures of a campaign). */
  readonly only?: readonly number[];
  /** Called when a run fails (as soon as it is seen). */
  readonly onFailure?: (f: Failure) => void;
  /** Called after each mutant. */
  readonly onProgress?: (done: number, total: number, failures: number) => void;
}

export interface Failure {
  /** `<seed name>-s<seed>-<index>-<command>`. */
  readonly id: string;
  readonly index: number;
  /** Its operations shrink with minimising. */
  mutant: Mutant;
  readonly seedName: string;
  readonly command: string;
  readonly outcome: Outcome;
  readonly reason: string;
  /** Directory holding the failing mutant (temporary; its own copy once minimised). */
  dir: string;
}

export interface CampaignReport {
  readonly seed: number;
  readonly runs: number;
  readonly commands: readonly string[];
  readonly limits: RunLimits;
  readonly seconds: number;
  /** Child runs by command and outcome. */
  readonly outcomes: Record<string, Record<Outcome, number>>;
  /** Mutants by mutation class and worst outcome. */
  readonly byClass: Record<MutationClass, Record<Outcome, number>>;
  readonly childRuns: number;
  readonly peakRssKb: number;
  readonly slowestMs: number;
  readonly failures: readonly Failure[];
  readonly bt2?: { readonly runs: number; readonly outcomes: Record<Bt2Outcome, number> };
  /** Where failing mutants were kept. */
  readonly workDir: string;
}

const RANK: Record<Outcome, number> = { ok: 0, error: 1, unclean: 2, crash: 3, hang: 4, memory: 5 };

function zero<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}
const OUTCOMES: readonly Outcome[] = ['ok', 'error', 'unclean', 'crash', 'hang', 'memory'];

/** A minimal promise pool. */
async function pool<T>(
  items: readonly T[],
  jobs: number,
  work: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
}

/** The mutants of a campaign (deterministic for a seed). */
export function sampleMutants(seeds: readonly Seed[], seed: number, runs: number): Mutant[] {
  return fc.sample(mutantArbitrary(seeds), { seed, numRuns: runs });
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignReport> {
  const commands = o.commands ?? Object.keys(COMMANDS);
  const limits = o.limits ?? DEFAULT_LIMITS;
  const work = mkdtempSync(join(tmpdir(), `nstrace-fuzz-s${o.seed}-`));
  const all = sampleMutants(o.seeds, o.seed, o.runs);
  const picked = o.only === undefined ? all.map((_, i) => i) : o.only.filter((i) => i < all.length);
  const mutants = picked.map((i) => all[i]!);
  const outcomes = Object.fromEntries(commands.map((c) => [c, zero(OUTCOMES)])) as Record<
    string,
    Record<Outcome, number>
  >;
  const byClass = {
    tsdl: zero(OUTCOMES),
    stream: zero(OUTCOMES),
    packetized: zero(OUTCOMES),
    index: zero(OUTCOMES),
  };
  const bt2 = {
    runs: 0,
    outcomes: zero<Bt2Outcome>(['ok', 'error', 'assertion', 'crash', 'hang', 'memory']),
  };
  const failures: Failure[] = [];
  let childRuns = 0;
  let peakRssKb = 0;
  let slowestMs = 0;
  let done = 0;
  const t0 = Date.now();

  // Each mutant's commands run one after another; `jobs` mutants at a time.
  await pool(mutants, o.jobs, async (m, k) => {
    const i = picked[k]!;
    const seed = o.seeds[m.seed]!;
    const dir = join(work, `m${i}`);
    applyMutant(seed, m, dir);
    let worst: Outcome = 'ok';
    let keep = false;
    for (const command of commands) {
      const r: RunResult = await runNstrace(command, dir, limits);
      childRuns++;
      outcomes[command]![r.outcome]++;
      if (r.rssKb !== undefined) peakRssKb = Math.max(peakRssKb, r.rssKb);
      slowestMs = Math.max(slowestMs, r.ms);
      if (RANK[r.outcome] > RANK[worst]) worst = r.outcome;
      if (FAILURES.includes(r.outcome)) {
        keep = true;
        failures.push({
          id: `${seed.name}-s${o.seed}-${i}-${command}`,
          index: i,
          mutant: m,
          seedName: seed.name,
          command,
          outcome: r.outcome,
          reason: r.reason,
          dir,
        });
        o.onFailure?.(failures[failures.length - 1]!);
      }
    }
    byClass[m.cls][worst]++;
    if (o.bt2Every !== undefined && o.bt2Every > 0 && i % o.bt2Every === 0) {
      const b = await runBabeltrace2(dir, limits);
      bt2.runs++;
      bt2.outcomes[b.outcome]++;
    }
    if (!keep) rmSync(dir, { recursive: true, force: true });
    done++;
    o.onProgress?.(done, mutants.length, failures.length);
  });

  const report: CampaignReport = {
    seed: o.seed,
    runs: mutants.length,
    commands,
    limits,
    seconds: (Date.now() - t0) / 1000,
    outcomes,
    byClass,
    childRuns,
    peakRssKb,
    slowestMs,
    failures,
    ...(o.bt2Every ? { bt2 } : {}),
    workDir: work,
  };
  if (o.minimise === true) {
    for (const f of failures) await minimise(f, o.seeds, limits);
  }
  if (failures.length === 0) rmSync(work, { recursive: true, force: true });
  return report;
}

// ---- minimising ----------------------------------------------------------------------------------

/** True when `dir` still fails `command` the same way. */
async function stillFails(dir: string, f: Failure, limits: RunLimits): Promise<boolean> {
  const r = await runNstrace(f.command, dir, limits);
  return r.outcome === f.outcome;
}

/**
 * Shrinks a failing mutant in place (within a budget of child runs): fewer operations, fewer
 * stream files, shorter stream files (whole 4 KiB pages), fewer metadata lines (TSDL text).
 */
export async function minimise(
  f: Failure,
  seeds: readonly Seed[],
  limits: RunLimits,
  budget = 120,
): Promise<void> {
  // Several commands may fail on one mutant: each failure shrinks its own copy.
  const own = `${f.dir}-${f.command}`;
  cpSync(f.dir, own, { recursive: true });
  f.dir = own;
  let left = budget;
  const check = async (dir: string): Promise<boolean> => {
    if (left <= 0) return false;
    left--;
    return stillFails(dir, f, limits);
  };
  const seed = seeds[f.mutant.seed]!;
  let ops = [...f.mutant.ops];
  const scratch = `${f.dir}.try`;
  const rebuild = (list: typeof ops): void => {
    rmSync(scratch, { recursive: true, force: true });
    applyMutant(seed, { ...f.mutant, ops: list }, scratch);
  };
  // 1. Operations, one at a time.
  for (let k = ops.length - 1; k >= 0 && ops.length > 1; k--) {
    const fewer = ops.filter((_, i) => i !== k);
    rebuild(fewer);
    if (await check(scratch)) {
      ops = fewer;
      rmSync(f.dir, { recursive: true, force: true });
      cpSync(scratch, f.dir, { recursive: true });
    }
  }
  f.mutant = { ...f.mutant, ops };
  // 2. Stream and index files, one at a time.
  const files = [...seed.streams, ...seed.indexes].filter((p) => existsSync(join(f.dir, p)));
  for (const p of files) {
    rmSync(scratch, { recursive: true, force: true });
    cpSync(f.dir, scratch, { recursive: true });
    rmSync(join(scratch, p));
    const left = seed.streams.filter((s) => existsSync(join(scratch, s)));
    if (left.length === 0) continue;
    if (await check(scratch)) {
      rmSync(f.dir, { recursive: true, force: true });
      cpSync(scratch, f.dir, { recursive: true });
    }
  }
  // 3. Shorter stream files: halve at page boundaries while it still fails.
  for (const p of seed.streams) {
    const path = join(f.dir, p);
    if (!existsSync(path)) continue;
    for (;;) {
      const size = statSync(path).size;
      const half = Math.floor(size / 2 / 4096) * 4096;
      if (half === 0 || half >= size) break;
      rmSync(scratch, { recursive: true, force: true });
      cpSync(f.dir, scratch, { recursive: true });
      truncateSync(join(scratch, p), half);
      if (!(await check(scratch))) break;
      truncateSync(path, half);
    }
  }
  // 4. TSDL text lines (plain-text metadata only), in chunks.
  const mdPath = join(f.dir, 'metadata');
  if (!seed.packetized && existsSync(mdPath)) {
    let lines = readFileSync(mdPath, 'latin1').split('\n');
    for (
      let chunk = Math.max(1, Math.floor(lines.length / 4));
      chunk >= 1 && left > 0;
      chunk = Math.floor(chunk / 2)
    ) {
      for (let s = 0; s < lines.length && left > 0;) {
        const fewer = [...lines.slice(0, s), ...lines.slice(s + chunk)];
        rmSync(scratch, { recursive: true, force: true });
        cpSync(f.dir, scratch, { recursive: true });
        writeFileSync(join(scratch, 'metadata'), fewer.join('\n'), 'latin1');
        if (await check(scratch)) {
          lines = fewer;
          writeFileSync(mdPath, lines.join('\n'), 'latin1');
        } else s += chunk;
      }
    }
  }
  rmSync(scratch, { recursive: true, force: true });
}

// ---- regression fixtures --------------------------------------------------------------------------

export const FIXTURES = 'test/fixtures/fuzz';

/** What a regression fixture records next to its trace (`case.json`). */
export interface CaseFile {
  /** The commands to replay (the one that failed, and print). */
  readonly commands: readonly string[];
  /** How it failed when found. */
  readonly found: {
    readonly outcome: Outcome;
    readonly reason: string;
    readonly seed: number;
    readonly index: number;
  };
  readonly mutant: Mutant;
  /** The trace it was derived from, and its origin and licence. */
  readonly from: { readonly seed: string; readonly path: string; readonly origin: string };
}

/** Copies a failure's (minimised) trace to `<root>/test/fixtures/fuzz/<id>/trace` with its case.json. */
export function saveFixture(root: string, f: Failure, seeds: readonly Seed[], seed: number): string {
  const s = seeds[f.mutant.seed]!;
  const dest = join(root, FIXTURES, f.id);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  cpSync(f.dir, join(dest, 'trace'), { recursive: true });
  const c: CaseFile = {
    commands: [...new Set([f.command, 'print'])],
    found: { outcome: f.outcome, reason: f.reason, seed, index: f.index },
    mutant: f.mutant,
    from: { seed: s.name, path: seedPath(s), origin: s.origin },
  };
  writeFileSync(join(dest, 'case.json'), JSON.stringify(c, null, 2) + '\n');
  return dest;
}
