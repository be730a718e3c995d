/**
 * The events table of `nstrace view` prints what `nstrace print` prints for the same range,
 * filter and container selectors, and what babeltrace2 prints for a range (but for babeltrace2
 * 2.0.4's stale text for empty strings, docs/babeltrace2-deviations.md: the sample's empty
 * `openat` file names).
 */
process.env.TZ = 'UTC';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ViewData } from '../../src/view/build.js';
import { buildViewData } from '../../src/view/build.js';
import { EventsService, secondsText } from '../../src/view/events.js';
import { FilterSyntaxError } from '../../src/util/errors.js';
import { writeSampleTrace } from '../../src/synthetic/simulate.js';
import { ensureBuilt, nstrace } from '../helpers/cli.js';
import { differsOnlyByStaleText } from '../text/bt2-compare.js';

const SAMPLE = resolve(__dirname, '../../samples/containers-live');

function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

describe('view: the events table', () => {
  let d: ViewData;
  let svc: EventsService;
  beforeAll(async () => {
    ensureBuilt();
    d = await buildViewData([SAMPLE], { version: 'test' });
    svc = new EventsService([SAMPLE], d.base, d.model);
  });

  it('is what babeltrace2 prints for the window', async () => {
    const t0 = d.summary.begin + 500_000_000;
    const t1 = t0 + 20_000_000;
    const r = await svc.query({ t0, t1, limit: 5000 });
    const bt = spawnSync(
      'babeltrace2',
      ['--begin', secondsText(d.base, t0), '--end', secondsText(d.base, t1), SAMPLE],
      { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C', TERM: 'dumb' }, maxBuffer: 1 << 28 },
    );
    expect(bt.status).toBe(0);
    const want = lines(bt.stdout.toString('utf8'));
    expect(want.length).toBeGreaterThan(100);
    expect(r.cursor).toBeNull();
    expect(r.lines.length).toBe(want.length);
    r.lines.forEach((l, i) => {
      if (l !== want[i])
        expect(differsOnlyByStaleText(l, want[i]!), `line ${i}:\n${l}\n${want[i]}`).toBe(true);
    });
    expect(r.containers.length).toBe(r.lines.length);
  });

  it('with a filter and container selectors, is what nstrace print prints', async () => {
    const t0 = d.summary.begin;
    const t1 = d.summary.end;
    const filter = '$ctx.procname != "sleep"';
    const r = await svc.query({ t0, t1, filter, container: ['db,cache'], host: false, limit: 300 });
    const args = ['print', '--begin', secondsText(d.base, t0), '--end', secondsText(d.base, t1)];
    args.push('--filter', filter, '--container', 'db,cache', SAMPLE);
    expect(r.command).toBe(`nstrace ${args.map((a) => (a === filter ? `'${a}'` : a)).join(' ')}`);
    const cli = nstrace(args);
    expect(cli.code, cli.stderr).toBe(0);
    expect(r.lines).toEqual(lines(cli.stdout).slice(0, 300));
    expect(r.cursor).not.toBeNull();
    // Every line's event belongs to db or cache.
    const keys = new Set(
      d.summary.containers.filter((c) => c.name === 'db' || c.name === 'cache').map((c) => c.key),
    );
    expect(r.containers.every((k) => keys.has(k))).toBe(true);
    expect(r.lines.some((l) => l.includes('procname = "sleep"'))).toBe(false);
  });

  it('continues where it stopped', async () => {
    const t0 = d.summary.begin;
    const t1 = d.summary.end;
    const all = await svc.query({ t0, t1, filter: 'ret < 0', limit: 400 });
    expect(all.cursor).toBeNull();
    expect(all.lines.length).toBeGreaterThan(20);
    const a = await svc.query({ t0, t1, filter: 'ret < 0', limit: 15 });
    expect(a.cursor).not.toBeNull();
    const b = await svc.query({ t0, t1, filter: 'ret < 0', limit: 400, cursor: a.cursor! });
    expect(b.cursor).toBeNull();
    expect([...a.lines, ...b.lines]).toEqual(all.lines);
    expect(all.lines.every((l) => /ret = -\d+/.test(l))).toBe(true);
  });

  it('reports a syntax error with its column, and selectors that match nothing', async () => {
    const err = await svc
      .query({ t0: d.summary.begin, t1: d.summary.end, filter: 'ret <<< 0' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FilterSyntaxError);
    expect((err as FilterSyntaxError).column).toBeGreaterThan(1);
    const r = await svc.query({ t0: d.summary.begin, t1: d.summary.end, container: ['nosuch'], limit: 10 });
    expect(r.lines).toEqual([]);
    expect(r.warnings.join('\n')).toMatch(/no container matches 'nosuch'; the trace has: .*web/);
  });
});

describe('view: the events table of a trace with simultaneous events on several CPUs', () => {
  // The view's model reads in babeltrace 1's order (the analyses'), the table in babeltrace2's:
  // threads first seen in simultaneous events of two CPUs get other uids in each. The table
  // once failed there with "container lookup: thread 4 (tid 1210) differs between the two
  // replays" (`nstrace view --html` of this trace too).
  it('names every event with the container of its thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nstrace-view-ties-'));
    try {
      writeSampleTrace(join(dir, 'kernel'), { seed: 3, durationNs: 30_000_000 });
      const d = await buildViewData([dir], { version: 'test' });
      const svc = new EventsService([dir], d.base, d.model);
      const r = await svc.query({ t0: d.summary.begin, t1: d.summary.end, limit: 5000 });
      expect(r.lines.length).toBeGreaterThan(1000);
      expect(r.containers.length).toBe(r.lines.length);
      // Container events name them at the start: every container of the view shows up.
      const named = new Set(r.containers);
      expect(named.size).toBeGreaterThan(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
