/**
 * Every failure the fuzzer has found stays fixed: each case under test/fixtures/fuzz/ (a
 * minimised mutant trace and its case.json) is replayed through the built CLI, with the
 * fuzzer's judge and limits; each run must end in success or one clean error line.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/cli.js';
import { DEFAULT_LIMITS, runNstrace } from './exec.js';
import { type CaseFile, FIXTURES } from './harness.js';
import { ROOT } from './seeds.js';

const dir = join(ROOT, FIXTURES);
const cases = existsSync(dir)
  ? readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()
  : [];

beforeAll(() => ensureBuilt());

describe('fuzz regression fixtures', () => {
  it('there are fixtures to replay', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  for (const name of cases) {
    it(name, async () => {
      const c = JSON.parse(readFileSync(join(dir, name, 'case.json'), 'utf8')) as CaseFile;
      expect(c.from.origin).not.toBe('');
      for (const command of c.commands) {
        const r = await runNstrace(command, join(dir, name, 'trace'), DEFAULT_LIMITS);
        expect(`${command}: ${r.outcome}: ${r.reason}`).toMatch(new RegExp(`^${command}: (ok|error): `));
      }
    });
  }
});
