/**
 * `nstrace record` as a user runs it: stopped by SIGINT or SIGTERM mid-recording or by
 * --duration, it writes a trace babeltrace2 reads and leaves tracefs exactly as it found it
 * (instances, global settings, mounts); a usage error leaves nothing behind either.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  babeltrace2,
  expectTracefsRestored,
  skipReason,
  tmpDir,
  tracefsRoot,
  tracefsSnapshot,
} from './helpers.js';
import { ReferenceSwitches } from './sched-check.js';
import { expectCompleteScheduling } from './scheduling.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const reason = skipReason();
if (reason) console.warn(`SKIPPING record CLI tests: ${reason}`);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source (vite-node) so that the test never sees a stale build. */
function cli(args: string[], onRunning?: (pid: number) => Promise<void>): Promise<Run> {
  const child = spawn(
    process.execPath,
    [path.join(repo, 'node_modules/vite-node/vite-node.mjs'), path.join(repo, 'src/cli/main.ts'), ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: repo,
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Run>((res) =>
    child.on('exit', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  if (onRunning) void onRunning(child.pid!);
  return exited;
}

async function waitForInstance(pid: number, timeoutMs = 30_000): Promise<void> {
  const dir = path.join(tracefsRoot()!, 'instances', `nstrace-${pid}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(dir) && fs.readFileSync(path.join(dir, 'tracing_on'), 'utf8').trim() === '1') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`instance ${dir} never started tracing`);
}

describe.skipIf(reason !== undefined)('nstrace record CLI', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} mid-recording: a readable trace, tracefs restored exactly`, async () => {
      const root = tracefsRoot()!;
      const before = tracefsSnapshot(root);
      const out = tmpDir('cli');
      dirs.push(out);
      const reference = new ReferenceSwitches(root);
      reference.start();
      let r: Run;
      let ref: ReturnType<ReferenceSwitches['stop']>;
      try {
        r = await cli(
          [
            'record',
            '--backend',
            'tracefs',
            '-o',
            out,
            '-e',
            'sched_switch,sched_process_*',
            '--no-containers',
          ],
          async (pid) => {
            await waitForInstance(pid);
            // Let it record a little, then stop it like a user would.
            await new Promise((res) => setTimeout(res, 1500));
            process.kill(pid, sig);
          },
        );
      } finally {
        ref = reference.stop();
      }
      expect(r.signal).toBeNull();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Recorded \d+ events/m);
      expect(r.stdout).toContain(`Trace: ${path.join(out, 'kernel')}`);
      expectTracefsRestored(before, tracefsSnapshot(root));
      const bt = babeltrace2([out]);
      expect(bt.status).toBe(0);
      expect(bt.stderr).toBe('');
      const n = Number(/^Recorded (\d+) events/m.exec(r.stdout)![1]);
      expect(bt.stdout.split('\n').filter((l) => l.startsWith('[')).length).toBe(n);
      expect(bt.stdout).toContain('sched_switch');
      expect(bt.stdout).toContain('lttng_statedump_process_state');
      await expectCompleteScheduling(out, ref);
    }, 120_000);
  }

  it('--duration stops by itself', async () => {
    const root = tracefsRoot()!;
    const before = tracefsSnapshot(root);
    const out = tmpDir('cli');
    dirs.push(out);
    const reference = new ReferenceSwitches(root);
    reference.start();
    let r: Run;
    let ref: ReturnType<ReferenceSwitches['stop']>;
    try {
      r = await cli([
        'record',
        '--backend',
        'tracefs',
        '-o',
        out,
        '--duration',
        '1s',
        '-e',
        'sched_switch',
        '--no-containers',
        '--no-statedump',
      ]);
    } finally {
      ref = reference.stop();
    }
    expect(r.code, r.stderr).toBe(0);
    expectTracefsRestored(before, tracefsSnapshot(root));
    expect(babeltrace2([out]).status).toBe(0);
    await expectCompleteScheduling(out, ref);
  }, 120_000);

  it('a usage error is one line, exit 2, and leaves no instance', async () => {
    const root = tracefsRoot()!;
    const before = tracefsSnapshot(root);
    const r = await cli(['record', '--backend', 'tracefs', '-e', 'no_such_event_xyz', '--duration', '1s']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^nstrace: error: unknown event 'no_such_event_xyz'/),
    ]);
    expectTracefsRestored(before, tracefsSnapshot(root));
  }, 120_000);
});
