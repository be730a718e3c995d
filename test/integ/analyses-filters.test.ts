/**
 * The filter module's options in the analyses (docs/adr/0180-one-filter-for-every-command.md),
 * on kernel traces with known containers (test/integ/world.ts):
 *
 * - `--container`/`--container-type`/`--host` select tasks: the per-TID rows are those of the
 *   unfiltered run for the selected tasks (ground truth of the generator), the per-CPU and total
 *   tables are lttng-cputop's with `--tid` set to those tasks (run live), and each per-container
 *   row is the sum of its tasks' rows;
 * - `--filter`, `-e`, `--exclude` select the events the analyses see while the model sees them
 *   all; syscallstats counts a system call when its entry or its exit is kept.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTraces, streamRangesOf } from '../../src/analyses/open.js';
import type { AnalyseOptions, AnalyseResult } from '../../src/analyses/session.js';
import { analyse } from '../../src/analyses/session.js';
import { ensureBuilt, nstrace } from '../helpers/cli.js';
import type { Truth, World } from './world.js';
import { buildWorld, truthOf } from './world.js';

beforeAll(() => ensureBuilt(), 300_000);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let cached: World | undefined;
/** One world for the whole file: statedump, container events, no contexts. */
function world(): World {
  if (cached === undefined) {
    const d = mkdtempSync(join(tmpdir(), 'nstrace-integ-an-'));
    dirs.push(d);
    cached = buildWorld(d, { statedump: 'modern', containerEvents: 'nstrace', contexts: ['tid', 'pid_ns'] });
  }
  return cached;
}

async function run(w: World, opts: AnalyseOptions = {}): Promise<AnalyseResult> {
  const ts = openTraces([w.trace]);
  try {
    return await analyse(ts, ['cputop', 'memtop', 'syscallstats'], {
      gmt: true,
      streamRanges: () => streamRangesOf(ts),
      ...opts,
    });
  } finally {
    ts.close();
  }
}

/** The tids of the selected tasks, the idle task (tid 0, the host's) included. */
function tidsWhere(w: World, pick: (t: Truth | undefined) => boolean): Set<number> {
  return new Set([0, ...w.tasks.keys()].filter((tid) => pick(truthOf(w, tid))));
}

/** Plain copies of rows (the result objects carry internal fields). */
const cpuRow = (r: AnalyseResult['cputop'] & object, tid: number): unknown => {
  const t = r.tids.find((x) => x.tid === tid);
  return t === undefined ? undefined : { ...t };
};

const SELECTIONS: Array<[string, AnalyseOptions, (t: Truth | undefined) => boolean]> = [
  ['--container web', { containers: ['web'] }, (t) => t?.name === 'web'],
  ['--container cache (restarted)', { containers: ['cache'] }, (t) => t?.name === 'cache'],
  ['--container ci-*', { containers: ['ci-*'] }, (t) => t?.name.startsWith('ci-') === true],
  ['--container-type docker', { containerTypes: ['docker'] }, (t) => t?.type === 'docker'],
  ['--host', { host: true }, (t) => t === undefined],
  ['--container new --host', { containers: ['new'], host: true }, (t) => t === undefined || t.name === 'new'],
];

describe('analyses: --container/--container-type/--host select tasks', () => {
  for (const [label, opts, pick] of SELECTIONS) {
    it(`${label}: per-TID rows of the selected tasks, unchanged; per-container rows are their sums`, async () => {
      const w = world();
      const all = await run(w);
      const sel = await run(w, opts);
      const tids = tidsWhere(w, pick);
      // cputop: exactly the selected tasks that ran, each row as in the unfiltered run.
      const ranAll = all.cputop!.tids.filter((t) => tids.has(t.tid)).map((t) => t.tid);
      expect(ranAll.length).toBeGreaterThan(0);
      expect(sel.cputop!.tids.map((t) => t.tid)).toEqual(ranAll);
      for (const tid of ranAll)
        expect(cpuRow(sel.cputop!, tid), `tid ${tid}`).toEqual(cpuRow(all.cputop!, tid));
      // memtop, syscallstats: the same.
      expect(sel.memtop!.tids).toEqual(all.memtop!.tids.filter((t) => tids.has(t.tid)));
      expect(sel.syscallstats!.tids).toEqual(all.syscallstats!.tids.filter((t) => tids.has(t.tid)));
      expect(sel.syscallstats!.total).toBe(sel.syscallstats!.tids.reduce((a, t) => a + t.total, 0));
      // Per-container rows: the selected containers, each the sum of its selected tasks, and
      // the same as in the unfiltered run.
      const model = sel.model;
      const key = (tid: number): string => {
        const t = truthOf(w, tid);
        return t === undefined ? 'host' : t.id;
      };
      const sum = new Map<string, number>();
      // The idle task (tid 0) is in the per-TID table (as in lttng-cputop) but in no container row.
      for (const t of sel.cputop!.tids) {
        if (t.tid !== 0) sum.set(key(t.tid), (sum.get(key(t.tid)) ?? 0) + t.cpuNs);
      }
      expect(sel.cputop!.containers.length).toBeGreaterThan(0);
      for (const c of sel.cputop!.containers) {
        expect(c.cpuNs, c.container.name).toBe(sum.get(c.container.id) ?? 0);
        const before = all.cputop!.containers.find((x) => x.container.id === c.container.id)!;
        expect(c.cpuNs, c.container.name).toBe(before.cpuNs);
      }
      const selectedIds = new Set([...tids].map(key));
      expect(new Set(sel.cputop!.containers.map((c) => c.container.id))).toEqual(
        new Set(
          model.containers
            .all()
            .filter((c) => selectedIds.has(c.id))
            .map((c) => c.id),
        ),
      );
      for (const c of sel.syscallstats!.containers) {
        const before = all.syscallstats!.containers.find((x) => x.container.id === c.container.id)!;
        expect({ total: c.total, errors: c.errors }).toEqual({ total: before.total, errors: before.errors });
      }
    });
  }

  it('selects by the container the model finally binds a task to (a start event after the tasks ran)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'nstrace-integ-an-'));
    dirs.push(d);
    const w = buildWorld(d, {
      statedump: 'modern',
      containerEvents: 'nstrace',
      contexts: ['tid'],
      lag: true,
    });
    const all = await run(w);
    const sel = await run(w, { containers: ['cache'] });
    const tids = tidsWhere(w, (t) => t?.name === 'cache');
    expect(w.cache2.every((t) => sel.cputop!.tids.some((r) => r.tid === t))).toBe(true);
    expect(sel.cputop!.tids.map((t) => cpuRow(sel.cputop!, t.tid))).toEqual(
      all.cputop!.tids.filter((t) => tids.has(t.tid)).map((t) => cpuRow(all.cputop!, t.tid)),
    );
    expect(sel.syscallstats!.tids).toEqual(all.syscallstats!.tids.filter((t) => tids.has(t.tid)));
  });

  it('per-CPU and total usage are lttng-cputop --tid on the selected tasks (live)', () => {
    const w = world();
    const cases: Array<[string[], (t: Truth | undefined) => boolean]> = [
      [['--container', 'web'], (t) => t?.name === 'web'],
      [['--container-type', 'podman', '--host'], (t) => t === undefined || t.type === 'podman'],
    ];
    for (const [args, pick] of cases) {
      const sel = tidsWhere(w, pick);
      const tids = [...sel].filter((t) => t !== 0);
      const ours = nstrace(['cputop', '--gmt', '--limit', '0', ...args, w.trace]);
      expect(ours.code, ours.stderr).toBe(0);
      const theirs = execFileSync(
        'lttng-cputop',
        ['--gmt', '--skip-validation', '--no-progress', '--limit', '1000', '--tid', tids.join(','), w.trace],
        { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 26 },
      ).toString();
      const section = (text: string, title: string): string => {
        const i = text.indexOf(title);
        return text.slice(i, text.indexOf('\n\n', i));
      };
      expect(section(ours.stdout, 'Per-CPU Usage'), args.join(' ')).toBe(section(theirs, 'Per-CPU Usage'));
      expect(ours.stdout).toContain(/Total CPU Usage: .*\n/.exec(theirs)![0]);
      // Per-TID rows of the selected tasks, without the bars (scaled to each table's top row).
      // lttng-cputop also lists threads it first met being switched out, whatever --tid says.
      const rows = (text: string): Map<number, string> => {
        const m = new Map<number, string>();
        for (const l of section(text, 'Per-TID Usage').split('\n').slice(2)) {
          const r = /^.{80} +([\d.]+ % +.* \((\d+)\) .*)$/.exec(l);
          if (r !== null) m.set(Number(r[2]), r[1]!.trimEnd());
        }
        return m;
      };
      const mine = rows(ours.stdout);
      const lt = rows(theirs);
      expect(mine.size).toBeGreaterThan(0);
      for (const [tid, row] of mine) {
        expect(sel.has(tid), `tid ${tid}`).toBe(true);
        expect(row, `tid ${tid}`).toBe(lt.get(tid));
      }
      for (const [tid, row] of lt) if (sel.has(tid)) expect(mine.get(tid), `tid ${tid}`).toBe(row);
    }
  });
});

describe('analyses: --filter, -e, --exclude select the events the analyses see', () => {
  it('cputop --filter on the switches of one task gives that task its unfiltered row', async () => {
    const w = world();
    const all = await run(w);
    const top = all.cputop!.tids.filter((t) => t.tid !== 0).slice(0, 3);
    for (const t of top) {
      const r = await run(w, { filter: `prev_tid == ${t.tid} || next_tid == ${t.tid}` });
      expect(cpuRow(r.cputop!, t.tid)).toEqual(cpuRow(all.cputop!, t.tid));
      // The model saw every event: the containers are all known.
      expect(r.model.containers.all().length).toBe(all.model.containers.all().length);
    }
  });

  it('syscallstats --filter on an exit field counts the failed calls', async () => {
    const w = world();
    const all = await run(w);
    const r = await run(w, { filter: 'ret < 0' });
    const s = r.syscallstats!;
    expect(s.total).toBeGreaterThan(0);
    expect(s.total).toBe(all.syscallstats!.containers.reduce((a, c) => a + c.errors, 0));
    for (const c of s.containers) {
      const before = all.syscallstats!.containers.find((x) => x.container.id === c.container.id)!;
      expect({ total: c.total, errors: c.errors }).toEqual({ total: before.errors, errors: before.errors });
    }
  });

  it('syscallstats --filter on an entry field counts those calls whole (entry or exit kept)', async () => {
    const w = world();
    const all = await run(w);
    const only = (rows: NonNullable<AnalyseResult['syscallstats']>['tids'], name: string): unknown[] =>
      rows
        .map((t) => ({ tid: t.tid, s: t.syscalls.get(name) }))
        .filter((x) => x.s !== undefined)
        .map((x) => ({ tid: x.tid, count: x.s!.count, durations: x.s!.durations, rets: x.s!.returns }));
    const r = await run(w, { filter: 'filename == "/etc/*"' });
    expect(only(r.syscallstats!.tids, 'openat').length).toBeGreaterThan(0);
    expect(only(r.syscallstats!.tids, 'openat')).toEqual(only(all.syscallstats!.tids, 'openat'));
    expect(r.syscallstats!.tids.every((t) => [...t.syscalls.keys()].every((k) => k === 'openat'))).toBe(true);
    // By name, either half selects the call; excluding both halves drops it.
    const e = await run(w, { event: ['syscall_entry_openat'] });
    expect(only(e.syscallstats!.tids, 'openat')).toEqual(only(all.syscallstats!.tids, 'openat'));
    const x = await run(w, { exclude: ['syscall_*_read'] });
    expect(only(x.syscallstats!.tids, 'read')).toEqual([]);
    expect(only(x.syscallstats!.tids, 'write')).toEqual(only(all.syscallstats!.tids, 'write'));
  });

  it('memtop --exclude kmem_mm_page_free: allocations unchanged, nothing freed', async () => {
    const w = world();
    const all = await run(w);
    const r = await run(w, { exclude: ['kmem_mm_page_free'] });
    const allocs = (x: AnalyseResult): unknown[] =>
      x.memtop!.tids.filter((t) => t.allocated > 0).map((t) => [t.tid, t.allocated]);
    expect(allocs(r)).toEqual(allocs(all));
    expect(r.memtop!.tids.every((t) => t.freed === 0)).toBe(true);
    expect(all.memtop!.tids.some((t) => t.freed > 0)).toBe(true);
  });

  it('combines with --container, through the CLI, -e being --event', () => {
    const w = world();
    const r = nstrace(['syscallstats', '--gmt', '--container', 'web', '-e', 'syscall_*_read', w.trace]);
    expect(r.code, r.stderr).toBe(0);
    const names = [...r.stdout.matchAll(/^ - (\S+)/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names)).toEqual(new Set(['read']));
    expect(r.stdout).toMatch(/\nweb \(\d+\) \[docker\] /);
    expect(r.stdout).not.toMatch(/\n(cache|\[HOST\]) /);
  });

  it('cputop warns that $container in --filter keeps only switches out', () => {
    const w = world();
    const r = nstrace(['cputop', '--gmt', '--filter', '$container.name == "web"', w.trace]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: cputop: a sched_switch event belongs to the task switched out/);
    const s = nstrace(['syscallstats', '--gmt', '--filter', '$container.name == "web"', w.trace]);
    expect(s.stderr).not.toMatch(/sched_switch/);
    // For syscallstats the expression and the selector agree.
    const c = nstrace(['syscallstats', '--gmt', '--container', 'web', w.trace]);
    expect(s.stdout).toBe(c.stdout);
  });

  it('refuses a bad expression and an unknown container type with exit code 2', () => {
    const w = world();
    const b = nstrace(['memtop', '--filter', 'order >', w.trace]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/^nstrace: error: filter: column 8: /);
    const t = nstrace(['cputop', '--container-type', 'dokcer', w.trace]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(
      /nstrace: error: no container of type 'dokcer'; the trace has: docker, podman, unknown\n/,
    );
  });
});
