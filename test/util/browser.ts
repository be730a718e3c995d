/**
 * Driving `nstrace view` in a real browser: Debian's chromium (scripts/test-setup.sh installs
 * it) through playwright-core, never a browser playwright downloads. Shared by the view tests and
 * the view benchmark.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface Browser {
  readonly ctx: BrowserContext;
  close(): Promise<void>;
}

/** Headless chromium with a fresh profile, at 1600x1000, with no background network activity. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'nstrace-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    ctx,
    close: async () => {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface ViewProcess {
  readonly url: string;
  readonly proc: ChildProcess;
  /** performance-clock ms (Date.now()) when the URL line arrived. */
  readonly urlAt: number;
  readonly stderr: () => string;
  stop(): Promise<number | null>;
}

/** Starts `node BIN view --no-open --port 0 ARGS...` and waits for its URL on stdout. */
export function startView(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ViewProcess> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn('node', [bin, 'view', '--no-open', '--port', '0', ...args], {
      env: { ...process.env, TZ: 'UTC', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let done = false;
    const timer = setTimeout(() => {
      if (!done) {
        done = true;
        proc.kill('SIGKILL');
        reject(new Error(`nstrace view printed no URL in 240 s: ${err}`));
      }
    }, 240_000);
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/\S+)/.exec(out);
      if (m !== null && !done) {
        done = true;
        clearTimeout(timer);
        const urlAt = Date.now();
        resolvePromise({
          url: m[1]!,
          proc,
          urlAt,
          stderr: () => err,
          stop: () =>
            new Promise((r) => {
              if (proc.exitCode !== null) return r(proc.exitCode);
              proc.once('exit', (code) => r(code));
              proc.kill('SIGINT');
            }),
        });
      }
    });
    proc.once('exit', (code) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        reject(new Error(`nstrace view exited (${code}) before printing a URL: ${err}`));
      }
    });
  });
}
