/**
 * Issue 15's bar, kept: no source file in src/ over 600 lines, no import cycle between src/
 * files (type-only imports included). scripts/structure-check.mjs does the work and names the
 * offending files.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('the shape of src/', () => {
  it('has no file over 600 lines and no import cycle', () => {
    const r = spawnSync(process.execPath, [path.join(repo, 'scripts/structure-check.mjs')], {
      encoding: 'utf8',
    });
    expect(r.stdout, r.stderr).toMatch(/^structure: \d+ files, none over 600 lines, no import cycle$/m);
    expect(r.status).toBe(0);
  });
});
