/**
 * Runs a command under GNU time and returns wall time, CPU time and peak RSS. Benchmarks
 * compare ratios of these between nstrace and the peer tool measured in the same run.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measurement {
  /** Seconds. */
  wall: number;
  /** User + system CPU seconds. */
  cpu: number;
  /** Peak resident set size in MiB. */
  maxRssMiB: number;
  code: number;
}

/** Runs `argv` with stdout to `stdoutPath` (default /dev/null); repeats and keeps the best run. */
export async function measure(
  argv: string[],
  opts: { stdoutPath?: string; repeat?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<Measurement> {
  let best: Measurement | undefined;
  for (let i = 0; i < (opts.repeat ?? 1); i++) {
    const m = await once(argv, opts.stdoutPath ?? '/dev/null', opts.env);
    if (m.code !== 0) return m;
    if (best === undefined || m.cpu < best.cpu) best = m;
  }
  return best!;
}

function once(argv: string[], stdoutPath: string, env?: NodeJS.ProcessEnv): Promise<Measurement> {
  const timeFile = join(tmpdir(), `nstrace-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const out = openSync(stdoutPath, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, ...argv], {
      stdio: ['ignore', out, 'pipe'],
      env: env ?? process.env,
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      closeSync(out);
      let text = '';
      try {
        text = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
      } finally {
        rmSync(timeFile, { force: true });
      }
      const [e, u, s, m] = text.split(' ').map(Number);
      if (code !== 0)
        process.stderr.write(`bench: ${argv.join(' ')} exited ${code}: ${err.slice(0, 2000)}\n`);
      resolve({
        wall: e ?? NaN,
        cpu: (u ?? NaN) + (s ?? NaN),
        maxRssMiB: (m ?? NaN) / 1024,
        code: code ?? 1,
      });
    });
  });
}

export interface BarResult {
  name: string;
  value: string;
  bar: string;
  pass: boolean;
}

export interface BenchResult {
  title: string;
  lines: string[];
  bars: BarResult[];
}
