/**
 * Issue 16: the tables of `nstrace sql` give the analyses' numbers. Per container, the sum of
 * `sched_slice.dur` equals cputop's per-container CPU time to the ns, and the `syscall` rows
 * give syscallstats' per-container counts, errors and min/max durations, on the bundled
 * samples (a real recording and the demo trace) and on simulated hosts with nested, restarted
 * and anonymous containers (src/synthetic/simulate.ts). In-process (exact ns from the handlers'
 * results) and through the CLI (`cputop --mi`'s ratios, `syscallstats --mi`'s tables).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineInputs, streamRangesOf } from '../../src/analyses/open.js';
import { analyse } from '../../src/analyses/session.js';
import type { AnalyseResult } from '../../src/analyses/session.js';
import { writeBenchTrace, writeSampleTrace } from '../../src/synthetic/simulate.js';
import { loadTraces, SqlEngine, tablesOfQuery } from '../../src/sql/index.js';
import { ensureBuilt, NSTRACE, nstrace } from '../helpers/cli.js';

const ROOT = resolve(__dirname, '../..');
const LIVE = join(ROOT, 'samples/containers-live');
const DEMO = join(ROOT, 'samples/containers-demo');

const dirs: string[] = [];
let SIM_SAMPLE = '';
let SIM_BUSY = '';
beforeAll(() => {
  const d = mkdtempSync(join(tmpdir(), 'nstrace-sql-'));
  dirs.push(d);
  SIM_SAMPLE = join(d, 'sample', 'kernel');
  writeSampleTrace(SIM_SAMPLE, { seed: 11 });
  SIM_BUSY = join(d, 'busy', 'kernel');
  writeBenchTrace(SIM_BUSY, 60_000, 3);
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function reference(path: string): Promise<AnalyseResult> {
  const [m] = machineInputs([path]);
  const ts = m!.open();
  try {
    return await analyse(ts, ['cputop', 'syscallstats', 'memtop'], {
      streamRanges: () => streamRangesOf(ts),
      partial: true,
    });
  } finally {
    ts.close();
  }
}

async function sqlRows(path: string, query: string): Promise<Record<string, unknown>[]> {
  const engine = await SqlEngine.open();
  try {
    await loadTraces(engine, [path], tablesOfQuery(query));
    const r = await engine.query(query);
    return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i]])));
  } finally {
    engine.close();
  }
}

const CPU_QUERY =
  'SELECT c.id, c.container_key AS k, coalesce(sum(s.dur), 0) AS ns, count(DISTINCT s.utid) AS threads ' +
  'FROM container c LEFT JOIN sched_slice s USING (machine, container_key) GROUP BY ALL';
const SYS_QUERY =
  'SELECT container_key AS k, name, count(*) AS n, count(*) FILTER (WHERE ret < 0) AS errors, ' +
  'min(dur) AS lo, max(dur) AS hi FROM syscall GROUP BY ALL';

describe('nstrace sql tables equal the analyses (in-process, to the ns)', () => {
  const traces: Array<[string, () => string]> = [
    ['samples/containers-live (a real recording)', () => LIVE],
    ['samples/containers-demo', () => DEMO],
    ['simulated sample (nested, restarted, anonymous containers)', () => SIM_SAMPLE],
    ['simulated busy host (6 containers)', () => SIM_BUSY],
  ];
  it.each(traces)('per-container CPU time: %s', async (_, path) => {
    const ref = await reference(path());
    const rows = await sqlRows(path(), CPU_QUERY);
    const got = new Map(rows.map((r) => [Number(r.k), r]));
    const containers = ref.cputop!.containers;
    expect(containers.length).toBeGreaterThan(1);
    expect(containers.some((c) => !c.container.isHost && c.cpuNs > 0)).toBe(true);
    for (const c of containers) {
      const r = got.get(c.container.key);
      expect(r, c.container.name).toBeDefined();
      expect(r!.id).toBe(c.container.id);
      expect(BigInt(r!.ns as string), c.container.name).toBe(BigInt(c.cpuNs));
      expect(Number(r!.threads), c.container.name).toBe(c.threads);
    }
    // No container in the table that cputop does not list.
    expect(rows.length).toBe(containers.length);
  });

  it.each(traces)('per-container syscall counts: %s', async (_, path) => {
    const ref = await reference(path());
    const rows = await sqlRows(path(), SYS_QUERY);
    const got = new Map(rows.map((r) => [`${String(r.k)}/${String(r.name)}`, r]));
    let compared = 0;
    for (const c of ref.syscallstats!.containers) {
      let errors = 0;
      for (const [name, st] of c.syscalls) {
        const r = got.get(`${c.container.key}/${name}`);
        expect(r, `${c.container.name} ${name}`).toBeDefined();
        expect(Number(r!.n)).toBe(st.count);
        expect(Number(r!.lo)).toBe(st.durations.min);
        expect(Number(r!.hi)).toBe(st.durations.max);
        errors += Number(r!.errors);
        compared++;
      }
      expect(errors, c.container.name).toBe(c.errors);
    }
    expect(compared).toBeGreaterThan(0);
    expect(rows.length).toBe(compared);
  });

  it.each(traces)('per-container page allocations and frees: %s', async (_, path) => {
    const ref = await reference(path());
    const rows = await sqlRows(
      path(),
      "SELECT container_key AS k, count(*) FILTER (WHERE kind = 'alloc') AS a, count(*) FILTER (WHERE kind = 'free') AS f, " +
        'count(DISTINCT utid) AS threads FROM page_alloc WHERE utid IS NOT NULL GROUP BY ALL',
    );
    const got = new Map(rows.map((r) => [Number(r.k), r]));
    if (ref.memtop === undefined) {
      expect(rows).toEqual([]);
      return;
    }
    let charged = 0;
    for (const c of ref.memtop.containers) {
      const r = got.get(c.container.key);
      charged += c.allocated + c.freed;
      expect(Number(r?.a ?? 0), c.container.name).toBe(c.allocated);
      expect(Number(r?.f ?? 0), c.container.name).toBe(c.freed);
    }
    expect(charged).toBeGreaterThan(0);
  });

  it('loads only the tables a query names', () => {
    expect(tablesOfQuery('SELECT count(*) FROM syscall')).toEqual(['syscall']);
    expect(
      tablesOfQuery(
        "SELECT * FROM thread t JOIN sched_slice s USING (utid) -- machine\nWHERE t.comm = 'syscall'",
      ),
    ).toEqual(['thread', 'sched_slice']);
    expect(tablesOfQuery('SELECT 1')).toEqual([]);
  });
});

describe('nstrace sql CLI against cputop --mi and syscallstats --mi', () => {
  beforeAll(() => ensureBuilt());

  interface Cell {
    class: string;
    value?: number;
    id?: string;
    name?: string;
  }
  interface MiTable {
    class: string | { title?: string };
    'time-range': { begin: { value: number }; end: { value: number } };
    data: Cell[][];
  }
  const mi = (args: string[]): MiTable[] => {
    const r = nstrace(args);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { results: MiTable[] }).results;
  };
  const sqlJson = (args: string[]): Array<Record<string, string | number | null>> => {
    const r = nstrace(['sql', '--format', 'json', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Array<Record<string, string | number | null>>;
  };

  it.each([
    ['samples/containers-live', LIVE],
    ['samples/containers-demo', DEMO],
  ])('per-container usage of %s', (_, path) => {
    const tables = mi(['cputop', '--mi', '--limit', '0', path]);
    const t = tables.find((x) => x.class === 'per-container')!;
    const rows = sqlJson([
      path,
      'SELECT c.id, coalesce(sum(s.dur), 0) AS ns, (SELECT min(begin_ts) FROM machine) AS b, ' +
        '(SELECT max(end_ts) FROM machine) AS e FROM container c LEFT JOIN sched_slice s USING (machine, container_key) GROUP BY ALL',
    ]);
    expect(rows.length).toBe(t.data.length);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const row of t.data) {
      const id = row[0]!.id!;
      const r = byId.get(id)!;
      expect(r, id).toBeDefined();
      // The period (LAMI time range; JSON.parse reads its ns as doubles) is machine.begin_ts/
      // end_ts, and cputop's ratio is (ns * 100 / duration) / 100 in doubles: the same ns
      // gives the same ratio (one ns more changes it: the period is ~1e9 ns).
      expect(Number(BigInt(r.b!))).toBe(t['time-range'].begin.value);
      expect(Number(BigInt(r.e!))).toBe(t['time-range'].end.value);
      const duration = Number(BigInt(r.e!) - BigInt(r.b!));
      expect((Number(r.ns) * 100) / duration / 100, id).toBe(row[1]!.value);
    }
  });

  it('per-container syscall totals and errors of samples/containers-live', () => {
    const tables = mi(['syscallstats', '--mi', '--limit', '0', LIVE]);
    const t = tables.find((x) => x.class === 'per-container-total')!;
    const rows = sqlJson([
      LIVE,
      'SELECT c.id, count(s.ts) AS n, count(*) FILTER (WHERE s.ret < 0) AS errors ' +
        'FROM container c LEFT JOIN syscall s USING (machine, container_key) GROUP BY ALL',
    ]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(t.data.length).toBeGreaterThan(1);
    for (const row of t.data) {
      const r = byId.get(row[0]!.id!)!;
      expect(Number(r.n), row[0]!.name).toBe(row[1]!.value);
      expect(Number(r.errors), row[0]!.name).toBe(row[2]!.value);
    }
  });

  it('--verbose names the tables loaded; a bad query is one clear error', () => {
    const r = nstrace(['sql', '--verbose', LIVE, 'SELECT count(*) AS n FROM syscall']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('tables loaded: syscall\n');
    expect(r.stdout).toMatch(/^ +n\n-+\n *\d+\n\(1 row\)\n$/);
    const bad = nstrace(['sql', LIVE, 'SELECT nope FROM sched_slice']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^nstrace: error: .*nope/);
    // DuckDB's message (with its pointer into the query), no stack trace.
    expect(bad.stderr).toContain('LINE 1: SELECT nope FROM sched_slice');
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });

  it('a machine without kernel events among several is skipped with a warning; alone, an error', () => {
    // A userspace-only trace of another machine (origin and licence: the fixture directory's README.md).
    const ust = join(ROOT, 'test/fixtures/tracecompass-test-traces/debuginfo-synth-two-processes');
    const r = nstrace(['sql', '--format', 'csv', LIVE, ust, 'SELECT machine FROM machine']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('machine\nvm-3c7dff94\n');
    expect(r.stderr).toMatch(/warning: .*not loaded: cputop: the trace lacks sched_switch/);
    const alone = nstrace(['sql', ust, 'SELECT machine FROM machine']);
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/^nstrace: error: cputop: the trace lacks sched_switch/);
  });

  it('csv output and the prompt on stdin', () => {
    const r = nstrace([
      'sql',
      '--format',
      'csv',
      LIVE,
      "SELECT name, type FROM container WHERE name = 'web'",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('name,type\nweb,docker\n');
    // Without QUERY: statements from stdin (ending with ';', the last one at end of input), an
    // error reported and the next statement run.
    const p = spawnSync('node', [NSTRACE, 'sql', '--format', 'csv', LIVE], {
      input:
        "SELECT count(*) AS n FROM container\n  WHERE type = 'docker';\nSELECT nope;\n.tables\nSELECT 1 AS one",
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^n\n1\nerror: .*nope[\s\S]*\nmachine\ncontainer\n[\s\S]*event\none\n1\n$/);
  });
});
