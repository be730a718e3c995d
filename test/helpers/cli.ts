/**
 * Runs the built `nstrace` CLI (the bundled bin, dist/bin/nstrace.js) as a user would; builds it first when dist/ is missing or
 * older than the sources (`npm test` builds before the tests; `vitest run` alone may not).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
export const NSTRACE = join(ROOT, 'dist/bin/nstrace.js');

function newestMtime(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) m = Math.max(m, newestMtime(p));
    else if (e.name.endsWith('.ts')) m = Math.max(m, statSync(p).mtimeMs);
  }
  return m;
}

export function ensureBuilt(): void {
  if (existsSync(NSTRACE) && statSync(NSTRACE).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** How the tests run the CLI: from the repo, in UTC; a hung CLI fails its test, not the run. */
function cliOptions(env: NodeJS.ProcessEnv): { cwd: string; env: NodeJS.ProcessEnv; timeout: number } {
  return { cwd: ROOT, env: { ...process.env, TZ: 'UTC', ...env }, timeout: 300_000 };
}

export function nstrace(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync('node', [NSTRACE, ...args], { ...cliOptions(env), maxBuffer: 1 << 28 });
  if (r.error !== undefined && r.status === null) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/**
 * `nstrace` without blocking the test worker's event loop: for tests that run the CLI many
 * times (a test that holds the loop for a minute fails the whole vitest run).
 */
export function nstraceAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const c = spawn('node', [NSTRACE, ...args], cliOptions(env));
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => out.push(d));
    c.stderr.on('data', (d: Buffer) => err.push(d));
    c.on('error', reject);
    c.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
  });
}
