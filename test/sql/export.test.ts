/**
 * Issue 16 item 3: `nstrace export --format parquet`. The dataset is Hive-partitioned
 * (TABLE/machine=ID/date=DAY/part-UUID.parquet); read back with DuckDB it gives the numbers
 * `nstrace sql` gives on the traces; a second machine exported into the same directory adds
 * its partition and leaves every file of the first untouched; --since/--until narrow the period.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetViews, exportParquet, loadTraces, SqlEngine, tablesOfQuery } from '../../src/sql/index.js';
import { ensureBuilt, nstrace } from '../helpers/cli.js';

const ROOT = resolve(__dirname, '../..');
const LIVE = join(ROOT, 'samples/containers-live');
const DEMO = join(ROOT, 'samples/containers-demo');

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'nstrace-export-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every file below `dir` with its size and mtime. */
function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.set(relative(dir, p), `${s.size}/${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out;
}

const CPU =
  'SELECT machine, container, sum(dur) AS ns, count(*) AS slices FROM sched_slice GROUP BY ALL ORDER BY ALL';
const SYS =
  'SELECT machine, container, name, count(*) AS n, sum(dur) AS ns FROM syscall GROUP BY ALL ORDER BY ALL';

async function onTraces(paths: string[], query: string): Promise<unknown[][]> {
  const e = await SqlEngine.open();
  try {
    await loadTraces(e, paths, tablesOfQuery(query));
    return (await e.query(query)).rows;
  } finally {
    e.close();
  }
}

async function onDataset(dir: string, query: string): Promise<unknown[][]> {
  const e = await SqlEngine.open();
  try {
    for (const s of datasetViews(dir)) await e.run(s);
    return (await e.query(query)).rows;
  } finally {
    e.close();
  }
}

describe('export to Parquet', () => {
  it('reads back with DuckDB to the numbers of nstrace sql, per machine and container', async () => {
    const dir = tmp();
    const s = await exportParquet([LIVE], dir);
    expect(s.machines.map((m) => m.id)).toEqual(['vm-3c7dff94']);
    const names = [...files(dir).keys()];
    for (const t of ['machine', 'container', 'thread', 'sched_slice', 'syscall']) {
      expect(
        names.some((n) =>
          new RegExp(`^${t}/machine=vm-3c7dff94/date=\\d{4}-\\d\\d-\\d\\d/part-[0-9a-f-]+\\.parquet$`).test(
            n,
          ),
        ),
        t,
      ).toBe(true);
    }
    const cpu = await onTraces([LIVE], CPU);
    expect(cpu.length).toBeGreaterThan(1);
    expect(await onDataset(dir, CPU)).toEqual(cpu);
    expect(await onDataset(dir, SYS)).toEqual(await onTraces([LIVE], SYS));
    const threads =
      'SELECT machine, utid, tid, pid, comm, vtid, pid_ns, container, born FROM thread ORDER BY ALL';
    expect(await onDataset(dir, threads)).toEqual(await onTraces([LIVE], threads));
  });

  describe('CLI', () => {
    beforeAll(() => ensureBuilt());

    it('appends a second machine without touching the first, and --since/--until narrow', () => {
      const dir = join(tmp(), 'fleet');
      const r1 = nstrace(['export', '--no-progress', '-o', dir, LIVE]);
      expect(r1.code, r1.stderr).toBe(0);
      expect(r1.stderr).toContain('as machine=vm-3c7dff94');
      const first = files(dir);
      const r2 = nstrace(['export', '-o', dir, DEMO]);
      expect(r2.code, r2.stderr).toBe(0);
      const second = files(dir);
      for (const [f, st] of first) expect(second.get(f), f).toBe(st);
      expect([...second.keys()].some((f) => f.startsWith('sched_slice/machine=demo-host-07070707/'))).toBe(
        true,
      );

      // Both machines in one dataset: each machine's rows equal its own trace's.
      const q = 'SELECT machine, container, sum(dur) AS ns FROM sched_slice GROUP BY ALL ORDER BY ALL';
      const both = nstrace(['sql', '--format', 'csv', '--dataset', dir, q]);
      expect(both.code, both.stderr).toBe(0);
      const live = nstrace(['sql', '--format', 'csv', LIVE, q]);
      const demo = nstrace(['sql', '--format', 'csv', DEMO, q]);
      const body = (s: string): string[] => s.trim().split('\n').slice(1);
      expect(body(both.stdout).sort()).toEqual([...body(live.stdout), ...body(demo.stdout)].sort());

      // A window: fewer events, new files only.
      const r3 = nstrace([
        'export',
        '-o',
        dir,
        '--since',
        '2026-12-07 00:16:57',
        '--until',
        '2026-12-07 00:16:58',
        '--gmt',
        '--tables',
        'machine',
        LIVE,
      ]);
      expect(r3.code, r3.stderr).toBe(0);
      const third = files(dir);
      for (const [f, st] of second) expect(third.get(f), f).toBe(st);
      const ev = nstrace([
        'sql',
        '--format',
        'csv',
        '--dataset',
        dir,
        "SELECT events FROM machine WHERE machine = 'vm-3c7dff94' ORDER BY events",
      ]);
      const counts = body(ev.stdout).map(Number);
      expect(counts.length).toBe(2);
      expect(counts[0]).toBeGreaterThan(0);
      expect(counts[0]).toBeLessThan(counts[1]!);
    });

    it('needs -o and a known table', () => {
      expect(nstrace(['export', LIVE]).stderr).toContain('-o DIR');
      const r = nstrace(['export', '-o', tmp(), '--tables', 'slices', LIVE]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('no table slices');
    });
  });
});
