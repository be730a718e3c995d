/**
 * The traces `nstrace record` writes are LTTng kernel traces for LTTng's own tools: babeltrace
 * 1.x (what lttng-analyses reads through) decodes them like babeltrace2, and lttng-analyses
 * (Debian python3-lttnganalyses) runs cputop, memtop and syscallstats on them without error,
 * with the counts of a workload whose syscalls and page allocations are known.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/tracefs/recorder.js';
import type { RecordSummary } from '../../src/record/options.js';
import { babeltrace2, compileC, skipReason, tmpDir, tracefsRoot } from './helpers.js';
import { capabilityMissing, commandsCheck } from '../helpers/require.js';
import { ReferenceSwitches, type Switch } from './sched-check.js';
import { expectCompleteScheduling } from './scheduling.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const reason =
  skipReason() ??
  capabilityMissing(
    'lttng-analyses (python3-lttnganalyses)',
    commandsCheck('lttng-cputop', 'lttng-memtop'),
  ) ??
  capabilityMissing('babeltrace 1.x', commandsCheck('babeltrace'));
if (reason) console.warn(`SKIPPING lttng-analyses tests: ${reason}`);

const NREAD = 321;
const MB = 8;
let out = '';
let summary: RecordSummary | undefined;
let burnPid = 0;
let ref: { switches: Switch[]; lost: number } | undefined;

function runTool(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 240_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (reason) return;
  out = tmpDir('analyses');
  const burn = compileC('nstrace-burn', fs.readFileSync(path.join(here, 'fixtures', 'burn.c'), 'utf8'));
  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const ac = new AbortController();
  const reference = new ReferenceSwitches(tracefsRoot()!);
  reference.start();
  const recP = record({
    outDir: out,
    // Few syscalls: lttng-analyses is slow (Python) on big traces.
    events: [
      'sched_switch',
      'sched_wakeup*',
      'sched_waking',
      'sched_process_*',
      'sched_migrate_task',
      'kmem_mm_page_*',
      'syscall_entry_read',
      'syscall_entry_openat',
      'syscall_entry_brk',
      'syscall_entry_mmap',
    ],
    containers: false,
    signal: ac.signal,
    excludeChildren: false,
    onStarted: () => started(),
  });
  await startedP;
  const p = spawn(burn, ['0.3', String(NREAD), String(MB)], { stdio: 'ignore' });
  burnPid = p.pid ?? 0;
  await new Promise((r) => p.on('exit', r));
  await new Promise((r) => setTimeout(r, 200));
  ac.abort();
  try {
    summary = await recP;
  } finally {
    ref = reference.stop();
  }
}, 120_000);

afterAll(() => {
  if (out && !process.env.KEEP_TRACE) fs.rmSync(out, { recursive: true, force: true });
  else if (out) console.warn('trace kept in', out);
});

describe.skipIf(reason !== undefined)('LTTng tools on nstrace traces', () => {
  it('babeltrace 1.x reads every event babeltrace2 reads', () => {
    expect(summary!.lost, 'events lost while recording (machine too busy?)').toBe(0);
    const b1 = runTool('babeltrace', [out]);
    expect(b1.status).toBe(0);
    expect(b1.stderr).toBe('');
    const b2 = babeltrace2([out]);
    expect(b2.status).toBe(0);
    const n1 = b1.stdout.split('\n').filter((l) => l.startsWith('[')).length;
    const n2 = b2.stdout.split('\n').filter((l) => l.startsWith('[')).length;
    expect(n1).toBe(summary!.events);
    expect(n2).toBe(summary!.events);
  });

  it("scheduling: the kernel's switches, whole chains, CPU usage that adds up", async () => {
    await expectCompleteScheduling(out, ref);
  });

  it('lttng-cputop runs (with its lost-event check) and shows per-TID and per-CPU usage', () => {
    const r = runTool('lttng-cputop', ['--no-progress', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Per-TID Usage');
    expect(r.stdout).toContain('Per-CPU Usage');
    expect(r.stdout).toMatch(/Total CPU Usage: \d+\.\d+%/);
  });

  it('lttng-syscallstats counts the workload syscalls exactly', () => {
    const r = runTool('lttng-syscallstats', [
      '--skip-validation',
      '--no-progress',
      '--tid',
      String(burnPid),
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    // lttng-analyses names a process after its comm when first seen (the forking parent's).
    expect(r.stdout).toMatch(new RegExp(` \\(${burnPid}, TID: ${burnPid}\\)`));
    const m = /^ - read\s+(\d+)/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    // The workload's reads, plus the dynamic loader's read of libc.
    expect(Number(m![1])).toBeGreaterThanOrEqual(NREAD);
    expect(Number(m![1])).toBeLessThanOrEqual(NREAD + 2);
  });

  it('nstrace cputop and memtop agree with lttng-cputop and lttng-memtop (plus their per-container tables)', () => {
    for (const tool of ['cputop', 'memtop']) {
      const ours = runTool(process.execPath, [
        path.join(repo, 'node_modules/vite-node/vite-node.mjs'),
        path.join(repo, 'src/cli/main.ts'),
        tool,
        '--gmt',
        '--no-progress',
        '--limit',
        '0',
        out,
      ]);
      expect(ours.status, ours.stderr).toBe(0);
      // Every row (--limit 0), so that every thread's priorities are compared.
      const theirs = runTool(`lttng-${tool}`, [
        '--gmt',
        '--no-progress',
        '--skip-validation',
        '--limit',
        '0',
        out,
      ]);
      expect(theirs.status, theirs.stderr).toBe(0);
      // Every line lttng-analyses prints, in order; nstrace adds its per-container tables.
      const a = theirs.stdout.trimEnd().split('\n');
      const b = ours.stdout.split('\n');
      const withoutContainers: string[] = [];
      for (let i = 0; i < b.length; i++) {
        if (b[i]!.startsWith('Per-Container')) {
          while (i < b.length && b[i] !== '') i++;
          continue;
        }
        withoutContainers.push(b[i]!);
      }
      // Every row, every column (the recorder's own threads included: their scheduling is
      // recorded like everyone's).
      const mine = withoutContainers.join('\n').trimEnd().split('\n');
      const firstDiff = a.findIndex((l, i) => mine[i] !== l);
      expect(
        firstDiff === -1
          ? ''
          : `line ${firstDiff + 1}:\n  nstrace: ${mine[firstDiff]}\n  lttng:   ${a[firstDiff]}`,
        tool,
      ).toBe('');
      expect(mine.length, tool).toBe(a.length);
      expect(ours.stdout).toContain('[HOST]');
    }
  });

  it('lttng-memtop sees the workload allocate its pages', () => {
    const r = runTool('lttng-memtop', ['--skip-validation', '--no-progress', '--tid', String(burnPid), out]);
    expect(r.status, r.stderr).toBe(0);
    const m = new RegExp(`(\\d+) pages .* \\(${burnPid}\\)`).exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual((MB << 20) / 4096);
  });
});
