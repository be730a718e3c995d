/** `nstrace view`'s command line: help that teaches, clear errors, loopback by default. */
import { describe, expect, it } from 'vitest';
import { NSTRACE, ensureBuilt, nstrace } from '../helpers/cli.js';
import { startView } from '../util/browser.js';

describe('nstrace view (command line)', () => {
  it('is listed, and its help has examples', () => {
    ensureBuilt();
    expect(nstrace(['--help']).stdout).toMatch(
      /^\s+view \[options\] \[trace\.\.\.\]\s+Web timelines of a trace/m,
    );
    const r = nstrace(['view', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--port <n>/);
    expect(r.stdout).toMatch(/--bind <addr>/);
    expect(r.stdout).toMatch(/--no-open/);
    expect(r.stdout).toMatch(/--html <file>/);
    expect(r.stdout).toMatch(/Examples:\n {2}nstrace view /);
    expect(r.stdout).toMatch(/127\.0\.0\.1/);
  });

  it('refuses a bad port and a missing trace with one clear line', () => {
    const p = nstrace(['view', '--port', 'http', '--no-open']);
    expect(p.code).toBe(2);
    expect(p.stderr).toBe("nstrace: error: --port expects a port number (0-65535), got 'http'\n");
    const t = nstrace(['view', '--no-open', '/nonexistent/trace']);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/^nstrace: error: \/nonexistent\/trace: no such file or directory\n$/m);
  });

  it('serves the sample on 127.0.0.1 and stops cleanly on Ctrl-C', async () => {
    const v = await startView(NSTRACE, []);
    expect(v.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(`${v.url}api/summary`);
    const s = (await res.json()) as { containers: Array<{ name: string }>; live: boolean };
    expect(s.live).toBe(true);
    expect(s.containers.map((c) => c.name)).toEqual(['[HOST]', 'web', 'db', 'cache', 'sh']);
    const bad = await fetch(`${v.url}api/lanes?t0=1&t1=0&width=100`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/invalid window/);
    expect(await v.stop()).toBe(0);
    expect(v.stderr()).toMatch(/no trace given: showing the bundled sample trace/);
    expect(v.stderr()).toMatch(/view server stopped/);
  });
});
