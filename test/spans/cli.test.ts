/**
 * `nstrace spans` through the CLI on a simulated host (src/synthetic/simulate.ts) and the
 * userspace trace of its containers' applications (src/synthetic/ust-spans.ts): every
 * request written is a span of the report, attributed to the container of its thread, with its
 * time fully split (the kernel trace covers it); LAMI and text agree; options and errors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBenchTrace } from '../../src/synthetic/simulate.js';
import { BENCH_BEGIN, BENCH_END, writeUstSpans } from '../../src/synthetic/ust-spans.js';
import { ensureBuilt, nstrace } from '../helpers/cli.js';

let dir = '';
let requests = 0;

beforeAll(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nstrace-spans-cli-'));
  writeBenchTrace(path.join(dir, 'kernel'), 60_000, 3);
  requests = writeUstSpans(path.join(dir, 'kernel'), path.join(dir, 'ust'), {
    begin: 0.5,
    end: 0.5,
  }).requests;
}, 300_000);

afterAll(() => {
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
});

const ARGS = ['spans', '--begin', BENCH_BEGIN, '--end', BENCH_END, '--match', 'id'];

type Cell = { [k: string]: unknown } | null;
interface Doc {
  results: Array<{ class: string | { inherit: string }; data: Cell[][] }>;
}

describe('nstrace spans (CLI) on a simulated host', () => {
  it('reports every request, each split into on-CPU + waiting + blocked', () => {
    const r = nstrace([...ARGS, '--mi', dir]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    const spans = doc.results.find((t) => t.class === 'spans')!;
    const unfinished = Number(/(\d+) span\(s\) have no/.exec(r.stderr)?.[1] ?? 0);
    expect(spans.data.length).toBe(requests - unfinished);
    expect(spans.data.length).toBeGreaterThan(10);
    const ids = new Set<string>();
    for (const row of spans.data) {
      const v = (i: number): number => Number(row[i]!['value']);
      expect(row[1]!['class']).toBe('duration');
      expect(v(2) + v(3) + v(4)).toBe(v(1));
      expect(v(5)).toBe(0); // nothing unknown: the kernel trace covers every span
      expect(row[10]!['class']).toBe('container');
      expect(String(row[10]!['name'])).toMatch(/^app\d$/);
      ids.add(String(row[11]!['value']));
    }
    expect(ids.size).toBe(spans.data.length);
    // Per container: the counts add up to the spans.
    const per = doc.results.find((t) => t.class === 'per-container-spans')!;
    expect(per.data.reduce((n, row) => n + Number(row[1]!['value']), 0)).toBe(spans.data.length);
    const text = nstrace([...ARGS, '--limit', '3', dir]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`(paired by id): ${spans.data.length} spans`);
    expect(text.stdout).toMatch(/Slowest spans \(ms\)\n#+\n.*\n(.*\n){3}$/);
  });

  it('--container selects the spans of a container', () => {
    const all = JSON.parse(nstrace([...ARGS, '--mi', dir]).stdout) as Doc;
    const one = JSON.parse(nstrace([...ARGS, '--mi', '--container', 'app1', dir]).stdout) as Doc;
    const rows = (d: Doc): Cell[][] => d.results.find((t) => t.class === 'spans')!.data;
    expect(rows(one).length).toBeGreaterThan(0);
    expect(rows(one)).toEqual(rows(all).filter((r) => r[10]!['name'] === 'app1'));
  });

  it('says what is missing: the events, the contexts, the kernel trace', () => {
    const none = nstrace(['spans', '--begin', 'bench:nope', '--end', BENCH_END, dir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /no trace has both bench:nope and bench:request_end events; the traces have .*bench:request_begin/,
    );
    const noArgs = nstrace(['spans', dir]);
    expect(noArgs.code).toBe(2);
    expect(noArgs.stderr).toMatch(/spans needs --begin EVENT and --end EVENT/);
    const badMatch = nstrace([...ARGS.slice(0, 5), '--match', 'nope', dir]);
    expect(badMatch.code).toBe(2);
    expect(badMatch.stderr).toMatch(
      /--match nope: event bench:request_begin has no field 'nope' \(its fields: id\)/,
    );
    // The userspace trace alone: durations only, and how to record the kernel.
    const ust = nstrace([...ARGS, '--mi', path.join(dir, 'ust')]);
    expect(ust.code, ust.stderr).toBe(0);
    expect(ust.stderr).toMatch(
      /no kernel trace with sched_switch events on this machine: span durations only/,
    );
    const rows = (JSON.parse(ust.stdout) as Doc).results.find((t) => t.class === 'spans')!.data;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r[2]!['class'] === 'unknown' && r[6]!['class'] === 'unknown')).toBe(true);
  });

  it('--mi --metadata describes the tables', () => {
    const r = nstrace(['spans', '--mi', '--metadata']);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as {
      'table-classes': Record<string, { 'column-descriptions': Array<{ title: string }> }>;
    };
    const titles = m['table-classes']['spans']!['column-descriptions'].map((c) => c.title);
    for (const t of ['Duration', 'On CPU', 'Waiting for CPU', 'Blocked', 'Preempted by'])
      expect(titles).toContain(t);
  });
  it("the same spans without index files, and with index files that are not LTTng's", () => {
    // The stream ranges come from the index files where they are whole, else from the packet
    // headers. Once a set without index files recursed until the stack ran out, and a foreign
    // index (Trace Compass writes its own under the same name) was an error.
    const want = nstrace([...ARGS, dir]);
    expect(want.code, want.stderr).toBe(0);
    for (const variant of ['none', 'foreign'] as const) {
      const copy = fs.mkdtempSync(path.join(os.tmpdir(), `nstrace-spans-idx-${variant}-`));
      try {
        fs.cpSync(dir, copy, { recursive: true });
        for (const sub of ['kernel', 'ust']) {
          const idx = path.join(copy, sub, 'index');
          if (!fs.existsSync(idx)) continue;
          if (variant === 'none') fs.rmSync(idx, { recursive: true });
          else
            for (const f of fs.readdirSync(idx))
              fs.writeFileSync(path.join(idx, f), 'CTFI not an LTTng index');
        }
        const got = nstrace([...ARGS, copy]);
        expect(got.code, `${variant}: ${got.stderr}`).toBe(0);
        expect(got.stdout).toBe(want.stdout);
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
      }
    }
  });
});
