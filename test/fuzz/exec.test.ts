/**
 * The fuzzer's judge: each kind of ending is classified as what it is, with stand-in CLIs that
 * succeed, fail cleanly, fail over several lines, crash, hang and eat memory. (A fuzzer whose
 * judge cannot see a crash finds nothing.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classify, runNstrace } from './exec.js';

const work = mkdtempSync(join(tmpdir(), 'nstrace-fuzz-exec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function fakeBin(name: string, body: string): string {
  const p = join(work, `${name}.mjs`);
  writeFileSync(p, body);
  return p;
}

const limits = { timeoutMs: 3000, memCapMb: 256 };

describe('fuzz outcome classification', () => {
  it('classifies exits and stderr', () => {
    const base = { signal: null, timedOut: false, overMemory: false };
    expect(classify({ ...base, code: 0, stderr: '' }).outcome).toBe('ok');
    expect(classify({ ...base, code: 1, stderr: 'nstrace: error: x: at byte 3: bad\n' }).outcome).toBe(
      'error',
    );
    expect(
      classify({ ...base, code: 1, stderr: 'nstrace: warning: w\nWARNING: bt2-style\nnstrace: error: e\n' })
        .outcome,
    ).toBe('error');
    expect(classify({ ...base, code: 3, stderr: 'nstrace: error: a\nsecond line\n' }).outcome).toBe(
      'unclean',
    );
    expect(classify({ ...base, code: 1, stderr: 'nstrace: error: a\nnstrace: error: b\n' }).outcome).toBe(
      'unclean',
    );
    expect(classify({ ...base, code: 70, stderr: 'nstrace: internal error: RangeError: x\n' }).outcome).toBe(
      'crash',
    );
    expect(
      classify({
        ...base,
        code: 1,
        stderr: 'TypeError: x\n    at f (file:///a.js:1:2)\n    at g (node:x:3:4)\n',
      }).outcome,
    ).toBe('crash');
    expect(classify({ ...base, code: null, signal: 'SIGSEGV', stderr: '' }).outcome).toBe('crash');
    expect(classify({ ...base, code: 134, stderr: '' }).outcome).toBe('crash');
    expect(classify({ ...base, code: null, timedOut: true, stderr: '' }).outcome).toBe('hang');
    expect(classify({ ...base, code: 134, stderr: 'FATAL ERROR: Reached heap limit\n' }).outcome).toBe(
      'memory',
    );
  });

  it('runs a CLI in a child process and sees each ending', async () => {
    const cases: Array<[string, string, string]> = [
      ['ok', 'ok', ''],
      ['error', 'error', `process.stderr.write('nstrace: error: bad thing\\n'); process.exitCode = 1;`],
      ['crash', 'crash', `throw new RangeError('Invalid array length');`],
      [
        'internal',
        'crash',
        `process.stderr.write('nstrace: internal error: boom\\n'); process.exitCode = 70;`,
      ],
      ['idle', 'hang', `setInterval(() => {}, 1000);`],
      ['busy', 'hang', `for (;;) {}`],
      ['heap', 'memory', `const a = []; for (;;) a.push(new Array(1e6).fill(1));`],
      [
        'buffers',
        'memory',
        `const a = []; for (;;) { a.push(Buffer.alloc(64 << 20, 1)); await new Promise((r) => setTimeout(r, 5)); }`,
      ],
    ];
    for (const [name, expected, body] of cases) {
      const r = await runNstrace('print', work, limits, fakeBin(name, body));
      expect(`${name}: ${r.outcome}`).toBe(`${name}: ${expected}`);
      if (expected === 'ok' || expected === 'error') expect(r.rssKb).toBeGreaterThan(1000);
    }
  }, 60_000);
});
