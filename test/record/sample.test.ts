/**
 * The committed sample recording (`samples/containers-live`, what `nstrace top` shows by
 * default) must have whole scheduling data: every CPU's `sched_switch` chain without holes, and
 * CPU usage that adds up (per-TID and per-container sums at most 100% per CPU, each CPU at most
 * 100%), as `nstrace cputop --limit 0` and `nstrace top --limit 0` print them.
 */
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chainBreaks, cpuAccounting, tracedSwitches } from './sched-check.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const SAMPLE = path.join(repo, 'samples', 'containers-live');

function nstrace(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [path.join(repo, 'node_modules/vite-node/vite-node.mjs'), path.join(repo, 'src/cli/main.ts'), ...args],
    { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000 },
  );
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Rows (percentage, rest of the line) of a table `title` in analysis text output. */
function table(text: string, title: string): Array<{ usage: number; line: string }> {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(title));
  expect(i, `${title} table`).toBeGreaterThanOrEqual(0);
  const out: Array<{ usage: number; line: string }> = [];
  for (let k = i + 2; k < lines.length && lines[k] !== ''; k++) {
    const m = / (\d+\.\d\d) % /.exec(lines[k]!);
    expect(m, lines[k]).not.toBeNull();
    out.push({ usage: Number(m![1]), line: lines[k]! });
  }
  return out;
}

/**
 * The idle task's row (`swapper/N (0)`): lttng-analyses (which nstrace follows) never charges
 * it when switched in, so it is charged from the period start to its first switch out whatever
 * ran meanwhile: not CPU usage, left out of the sums (and out of the host's).
 */
const isIdle = (line: string): boolean => / swapper\/\d+ \(0\) /.test(line);

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe('the sample recording samples/containers-live', () => {
  const switches = tracedSwitches(SAMPLE);
  const cpus = new Set(switches.map((s) => s.cpu)).size;

  it('has a sched_switch chain without holes on every CPU', () => {
    expect(cpus).toBeGreaterThan(0);
    const breaks = chainBreaks(switches);
    expect(
      breaks.slice(0, 5).map((b) => `cpu ${b.cpu}: ${b.expectedPrev} then ${b.at.prev}->${b.at.next}`),
      `${breaks.length} holes in ${switches.length} switches`,
    ).toEqual([]);
  });

  it('nstrace cputop --limit 0: per-TID usage adds up to at most 100% per CPU, each CPU at most 100%', async () => {
    const r = nstrace(['cputop', '--limit', '0', '--no-progress', SAMPLE]);
    expect(r.status, r.stderr).toBe(0);
    const rows = table(r.stdout, 'Per-TID Usage');
    const tids = rows.filter((x) => !isIdle(x.line)).map((x) => x.usage);
    // Each printed value is rounded to 0.01.
    expect(sum(tids)).toBeLessThanOrEqual(100 * cpus + 0.005 * tids.length);
    const perCpu = table(r.stdout, 'Per-CPU Usage').map((x) => x.usage);
    expect(perCpu.length).toBe(cpus);
    for (const c of perCpu) expect(c).toBeLessThanOrEqual(100);
    // The unrounded values too.
    const a = await cpuAccounting(SAMPLE);
    expect(a.tidSum).toBeLessThanOrEqual(100 * cpus + 1e-6);
    expect(a.maxCpu).toBeLessThanOrEqual(100 + 1e-6);
  }, 120_000);

  it('nstrace top and cputop --limit 0: per-container usage adds up to at most 100% per CPU, idle in no row', () => {
    const r = nstrace(['top', '--limit', '0', '--no-progress', SAMPLE]);
    expect(r.status, r.stderr).toBe(0);
    const containers = table(r.stdout, 'Per-Container Usage').map((x) => x.usage);
    expect(containers.length).toBeGreaterThan(1);
    expect(sum(containers)).toBeLessThanOrEqual(100 * cpus + 0.005 * containers.length);
    const c = nstrace(['cputop', '--limit', '0', '--no-progress', SAMPLE]);
    const tids = table(c.stdout, 'Per-TID Usage');
    const idle = sum(tids.filter((x) => isIdle(x.line)).map((x) => x.usage));
    const busy = sum(tids.filter((x) => !isIdle(x.line)).map((x) => x.usage));
    expect(idle).toBeGreaterThan(0);
    // Every non-idle thread lands in one container row: the rows add up to the per-TID rows.
    const rows = table(c.stdout, 'Per-Container Usage').map((x) => x.usage);
    expect(Math.abs(sum(rows) - busy)).toBeLessThanOrEqual(0.005 * (rows.length + tids.length));
  }, 120_000);
});
