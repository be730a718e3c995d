/**
 * Filters on public traces (a kernel trace, and a UST trace with vtid/vpid/procname contexts),
 * checked against babeltrace2's text of the same traces: the events kept by nstrace, counted per
 * event name, must be those whose babeltrace2 line satisfies the same condition.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TraceSet } from '../../src/ctf/index.js';
import { buildRecordFilter, type FilterOptionValues } from '../../src/filter/options.js';
import { run } from '../util/lttng.js';
import { requireCapability } from '../helpers/require.js';

const SHARED = '/work/shared/traces/tracecompass-test-traces';
const KERNEL = `${SHARED}/many-threads`;
const UST = `${SHARED}/ros2`;
// The shared collection is not part of the repository (CI may not have it): optional.
const present = requireCapability(
  'the shared trace collection',
  () =>
    existsSync(KERNEL) && existsSync(UST)
      ? undefined
      : `${SHARED} is absent (public traces, see /work/shared/traces/CATALOGUE.md)`,
  { optional: true },
);

interface Case {
  readonly opts: FilterOptionValues;
  /** The same condition on a babeltrace2 line. */
  readonly line: (l: string) => boolean;
}

function countsOurs(dir: string, opts: FilterOptionValues): Map<string, number> {
  const ts = TraceSet.open([dir]);
  const keep = buildRecordFilter(opts, ts)!;
  const m = new Map<string, number>();
  try {
    for (let r = ts.next(); r !== null; r = ts.next()) {
      if (r.kind === 'event' && keep(r)) m.set(r.eventClass.name, (m.get(r.eventClass.name) ?? 0) + 1);
    }
  } finally {
    ts.close();
  }
  return m;
}

function countsBt2(lines: readonly string[], keep: (l: string) => boolean): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) {
    if (!keep(l)) continue;
    const name = /^\[[^\]]*\] \([^)]*\) \S+ (\S+): /.exec(l)?.[1];
    if (name === undefined) throw new Error(`unexpected babeltrace2 line: ${l}`);
    m.set(name, (m.get(name) ?? 0) + 1);
  }
  return m;
}

const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));
const nameIs = (l: string, re: RegExp): boolean =>
  re.test(/^\[[^\]]*\] \([^)]*\) \S+ (\S+): /.exec(l)?.[1] ?? '');
const field = (l: string, name: string): string | undefined =>
  new RegExp(`[{ ]${name} = ("[^"]*"|[^,}]+)`).exec(l)?.[1];

const KERNEL_CASES: Case[] = [
  {
    opts: { filter: 'prev_tid == 0 || next_tid == 0' },
    line: (l) => field(l, 'prev_tid') === '0' || field(l, 'next_tid') === '0',
  },
  {
    opts: { filter: 'prev_comm == "kworker*" && prev_prio < 120' },
    line: (l) => (field(l, 'prev_comm') ?? '').startsWith('"kworker') && Number(field(l, 'prev_prio')) < 120,
  },
  {
    opts: { event: ['syscall_exit_*'], exclude: ['syscall_exit_clone'], filter: 'ret < 0' },
    line: (l) => nameIs(l, /^syscall_exit_(?!clone$)/) && (field(l, 'ret') ?? '').startsWith('-'),
  },
  {
    opts: { filter: '$ctx.cpu_id == 3 && (child_tid & 1) == 1' },
    line: (l) => l.includes('{ cpu_id = 3 }') && Number(field(l, 'child_tid')) % 2 === 1,
  },
  {
    opts: { event: ['sched_*', 'irq_*'], exclude: ['sched_switch'] },
    line: (l) => nameIs(l, /^(sched_(?!switch$)|irq_)/),
  },
];

const UST_CASES: Case[] = [
  {
    opts: { filter: '$ctx.procname == "s*" && $ctx.vtid != $ctx.vpid' },
    line: (l) => (field(l, 'procname') ?? '').startsWith('"s') && field(l, 'vtid') !== field(l, 'vpid'),
  },
  {
    opts: { event: ['ros2:rcl*'], filter: '$ctx.vtid > 0' },
    line: (l) => nameIs(l, /^ros2:rcl/),
  },
];

describe.skipIf(!present)('filters on public traces agree with babeltrace2 text', () => {
  for (const [dir, cases] of [
    [KERNEL, KERNEL_CASES],
    [UST, UST_CASES],
  ] as const) {
    it(dir.slice(SHARED.length + 1), async () => {
      const bt = await run('babeltrace2', [dir], { timeoutMs: 300_000 });
      expect(bt.code).toBe(0);
      const lines = bt.stdout.split('\n').filter((l) => l !== '');
      for (const c of cases) {
        const want = sorted(countsBt2(lines, c.line));
        const got = sorted(countsOurs(dir, c.opts));
        expect(
          want.length,
          `${JSON.stringify(c.opts)} selects nothing in babeltrace2's output`,
        ).toBeGreaterThan(0);
        expect({ opts: c.opts, counts: got }).toEqual({ opts: c.opts, counts: want });
      }
    });
  }
});
