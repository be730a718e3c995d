/**
 * The capability gate: locally a missing capability skips with a loud reason; under CI=true it
 * fails the run; an optional one never fails it. End to end: a real test file whose tool is
 * hidden from PATH skips locally and fails under CI=true.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { capabilityMissing, MissingCapabilityError, strictCapabilities } from './require.js';

const ROOT = resolve(__dirname, '../..');

describe('requireCapability', () => {
  it('is strict under CI=true (and NSTRACE_REQUIRE_ALL=1) only', () => {
    expect(strictCapabilities({ CI: 'true' })).toBe(true);
    expect(strictCapabilities({ CI: '1' })).toBe(true);
    expect(strictCapabilities({ NSTRACE_REQUIRE_ALL: '1' })).toBe(true);
    expect(strictCapabilities({ CI: 'false' })).toBe(false);
    expect(strictCapabilities({})).toBe(false);
  });

  it('returns undefined when present, a reason when missing; warns locally, throws on CI', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(capabilityMissing('present-thing', () => undefined, {}, { CI: 'true' })).toBeUndefined();
      expect(capabilityMissing('absent-thing', () => 'not installed', {}, {})).toBe('not installed');
      expect(warn.mock.calls.flat().join(' ')).toMatch(
        /SKIPPING tests that need absent-thing: not installed/,
      );
      expect(() => capabilityMissing('absent-thing-2', () => 'gone', {}, { CI: 'true' })).toThrow(
        MissingCapabilityError,
      );
      expect(() => capabilityMissing('absent-thing-3', () => 'gone', {}, { CI: 'true' })).toThrow(
        /required test capability 'absent-thing-3' is missing: gone/,
      );
      expect(capabilityMissing('optional-thing', () => 'absent', { optional: true }, { CI: 'true' })).toBe(
        'absent',
      );
      expect(
        capabilityMissing(
          'throwing-check',
          () => {
            throw new Error('boom');
          },
          {},
          {},
        ),
      ).toBe('checking it failed: boom');
    } finally {
      warn.mockRestore();
    }
  });

  it('a test file whose tool is missing skips locally and fails under CI=true', () => {
    // src/text/format.test.ts needs gcc; an empty PATH hides it.
    const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs');
    const runFile = (ci: boolean) =>
      spawnSync(process.execPath, [vitest, 'run', 'src/text/format.test.ts'], {
        cwd: ROOT,
        env: { ...process.env, PATH: '/nonexistent', CI: ci ? 'true' : '', NSTRACE_REQUIRE_ALL: '' },
        encoding: 'utf8',
        timeout: 120_000,
      });
    const local = runFile(false);
    expect(local.status, local.stdout + local.stderr).toBe(0);
    expect(local.stdout + local.stderr).toMatch(/SKIPPING tests that need gcc: gcc is not installed/);
    expect(local.stdout + local.stderr).toMatch(/skipped/);
    const ci = runFile(true);
    expect(ci.status).not.toBe(0);
    expect(ci.stdout + ci.stderr).toMatch(/required test capability 'gcc' is missing: gcc is not installed/);
  }, 240_000);
});
