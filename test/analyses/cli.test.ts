import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSampleTrace } from '../../src/synthetic/simulate.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, nstrace } from '../helpers/cli.js';

const FIX = resolve(__dirname, '../fixtures');
const SYNTH = `${FIX}/lttng-analyses-synthetic/cputop/kernel`;
const FLIPPING = `${FIX}/tracecompass-test-traces/flipping-endianness`;

beforeAll(() => ensureBuilt(), 300_000);

describe('nstrace cputop/memtop/syscallstats/top (CLI)', () => {
  it('--mi --metadata keeps lttng-analyses table classes and adds the per-container ones', () => {
    for (const name of ['cputop', 'memtop', 'syscallstats']) {
      const r = nstrace([name, '--mi', '--metadata']);
      expect(r.code).toBe(0);
      const ours = JSON.parse(r.stdout) as {
        'mi-version': unknown;
        'table-classes': Record<string, unknown>;
      };
      const theirs = JSON.parse(execFileSync(`lttng-${name}-mi`, ['--metadata']).toString()) as typeof ours;
      expect(ours['mi-version']).toEqual(theirs['mi-version']);
      for (const [cls, desc] of Object.entries(theirs['table-classes']))
        expect(ours['table-classes'][cls]).toEqual(desc);
      expect(Object.keys(ours['table-classes']).some((k) => k.startsWith('per-container'))).toBe(true);
    }
    const top = JSON.parse(nstrace(['top', '--mi', '--metadata']).stdout) as {
      'table-classes': Record<string, unknown>;
    };
    expect(Object.keys(top['table-classes'])).toEqual([
      'per-container-cpu',
      'per-container-allocd',
      'per-container-freed',
      'per-container-syscalls',
      'per-container-stats',
      'per-container-holder',
      'per-container-usage',
      'per-container-disk',
      'per-container-file',
    ]);
  });

  it('prints lttng-cputop-mi results followed by the per-container table', () => {
    const r = nstrace(['cputop', '--mi', SYNTH]);
    expect(r.code).toBe(0);
    const ours = JSON.parse(r.stdout) as { results: Array<{ class: unknown }> };
    const theirs = JSON.parse(
      execFileSync('lttng-cputop-mi', ['--skip-validation', SYNTH]).toString(),
    ) as typeof ours;
    expect(ours.results.slice(0, theirs.results.length)).toEqual(theirs.results);
    expect(ours.results.slice(theirs.results.length).map((t) => t.class)).toEqual(['per-container']);
  });

  it('says which events are missing and how to record them, instead of empty tables', () => {
    const r = nstrace(['memtop', FLIPPING]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^nstrace: error: memtop: the trace lacks kmem_mm_page_alloc\/kmem_mm_page_free events.*lttng enable-event --kernel kmem_mm_page_alloc,kmem_mm_page_free\n$/,
    );
    const mi = nstrace(['syscallstats', '--mi', FLIPPING]);
    expect(mi.code).toBe(3);
    expect(JSON.parse(mi.stdout)).toEqual({
      'error-message': expect.stringMatching(/lacks system call entry and exit events/),
    });
  });

  it('rejects an unknown container and a bad date with exit code 2', () => {
    const c = nstrace(['cputop', '--container', 'nope', SYNTH]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/nstrace: error: no container matches 'nope'; the trace has: \[HOST\]/);
    const d = nstrace(['cputop', '--begin', 'yesterday', SYNTH]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/nstrace: error: unrecognised date format: yesterday/);
  });

  it('warns on stderr when the trace has no namespace information, and shows no progress bar off a TTY', () => {
    const r = nstrace(['cputop', SYNTH]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^Timerange: \[1970-01-01 00:00:01\.000000000, 1970-01-01 00:00:11\.000000000\]\n/,
    );
    expect(
      r.stderr
        .split('\n')
        .filter((l) => l !== '')
        .every((l) => l.startsWith('nstrace: warning: ')),
    ).toBe(true);
    expect(r.stderr).toMatch(/no pid namespace information.*lttng add-context --kernel --type=pid_ns/);
  });

  it('top runs what the trace allows and warns about the rest', () => {
    const r = nstrace(['top', '--gmt', SYNTH]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Timerange: .*\nPer-Container Usage/);
    expect(r.stdout).not.toMatch(/Per-Container Memory/);
    expect(r.stdout).toMatch(/\nPer-Container System Calls \(usec\)\n/);
    expect(r.stderr).toMatch(/warning: memtop: the trace lacks/);
  });

  it('top without a trace analyses the bundled sample and says so', () => {
    const r = nstrace(['top', '--gmt']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^nstrace: no trace given: analysing the bundled sample trace .*containers-live, a real 2-second recording/,
    );
    // samples/containers-live/README.md: one container per runtime, and the host.
    for (const [name, type] of [
      ['web', 'docker'],
      ['db', 'podman'],
      ['cache', 'lxc'],
      ['sh', 'unshare'],
      ['\\[HOST\\]', 'host'],
    ]) {
      expect(r.stdout).toMatch(new RegExp(`\\n\\S* +[\\d.]+ %   ${name}[ (][^\\n]* ${type} *\\n`));
    }
  });
});

describe('the bundled sample trace', () => {
  it('is what scripts/gen-sample-trace.mjs writes (deterministic, up to date)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nstrace-sample-'));
    try {
      writeSampleTrace(join(dir, 'kernel'));
      const committed = resolve(__dirname, '../../samples/containers-demo/kernel');
      const list = (d: string): string[] => readdirSync(d, { recursive: true }).map(String).sort();
      expect(list(join(dir, 'kernel'))).toEqual(list(committed));
      for (const f of list(committed)) {
        if (f === 'index') continue;
        expect(readFileSync(join(dir, 'kernel', f)).equals(readFileSync(join(committed, f))), f).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
