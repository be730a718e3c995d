/**
 * Runs the built `nstrace` CLI (the bundled bin, dist/bin/nstrace.js) as a user would; builds it first when dist/ is missing or
 * older than the sources (`npm test` builds before the tests; `vitest run` alone may not).
 */
import { execFileSync, spawnSync } from 'node:child_process';
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

export function nstrace(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync('node', [NSTRACE, ...args], {
    cwd: ROOT,
    env: { ...process.env, TZ: 'UTC', ...env },
    maxBuffer: 1 << 28,
  });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
