/**
 * The data behind `nstrace view`, on the bundled recording (samples/containers-live) and on a
 * simulated trace with a restarted container: the collector's CPU slices and thread states
 * against the analyses run in the same pass (whose numbers are lttng-analyses' — see
 * test/analyses/), the pre-aggregation against the raw slices, and the static-export packing.
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { addSpan, Aggregator } from '../../src/view/aggregate.js';
import type { ViewData } from '../../src/view/build.js';
import { buildViewData } from '../../src/view/build.js';
import { packStore, unpackStore } from '../../src/view/store.js';
import { ThreadState } from '../../src/view/types.js';

const SAMPLE = resolve(__dirname, '../../samples/containers-live');
/** Simulated: a 4-CPU host, Docker, Podman (restarted), containerd, LXC, unshare, a nested container. */
const DEMO = resolve(__dirname, '../../samples/containers-demo');

function expectSortedDisjoint(start: Float64Array, end: Float64Array, what: string): void {
  for (let i = 0; i < start.length; i++) {
    expect(end[i]! >= start[i]!, `${what}: interval ${i} ends before it starts`).toBe(true);
    if (i > 0)
      expect(start[i]! >= end[i - 1]!, `${what}: interval ${i} overlaps the previous one`).toBe(true);
  }
}

function checkConsistency(d: ViewData): void {
  const st = d.store;
  const s = d.summary;
  // CPU lanes: sorted, no overlap, inside the trace.
  for (const l of st.lanes) {
    expectSortedDisjoint(l.start, l.end, `CPU ${l.cpu}`);
    if (l.start.length > 0) {
      expect(l.start[0]!).toBeGreaterThanOrEqual(s.begin);
      expect(l.end[l.end.length - 1]!).toBeLessThanOrEqual(s.end);
    }
  }
  // Thread states: per thread sorted and disjoint; running time = the thread's slices on the lanes.
  const laneNs = new Map<number, number>();
  for (const l of st.lanes)
    for (let i = 0; i < l.start.length; i++)
      laneNs.set(l.uid[i]!, (laneNs.get(l.uid[i]!) ?? 0) + l.end[i]! - l.start[i]!);
  for (let u = 0; u + 1 < st.stOff.length; u++) {
    const lo = st.stOff[u]!;
    const hi = st.stOff[u + 1]!;
    expectSortedDisjoint(st.stStart.subarray(lo, hi), st.stEnd.subarray(lo, hi), `thread uid ${u}`);
    let running = 0;
    for (let i = lo; i < hi; i++)
      if (st.stState[i] === ThreadState.running) running += st.stEnd[i]! - st.stStart[i]!;
    expect(running, `thread uid ${u}: running time vs its CPU slices`).toBeCloseTo(laneNs.get(u) ?? 0, 0);
  }
}

describe('view data: the bundled recording', () => {
  let d: ViewData;
  beforeAll(async () => {
    d = await buildViewData([SAMPLE], { version: 'test' });
  });

  it('names the containers of the sample, with their runtimes', () => {
    const names = d.summary.containers.map((c) => `${c.isHost ? '[HOST]' : c.name}:${c.type}`);
    expect(names).toEqual(['[HOST]:host', 'web:docker', 'db:podman', 'cache:lxc', 'sh:unshare']);
    expect(d.summary.cpus).toEqual([0, 1]);
    expect(d.summary.events).toBe(25_933);
  });

  it('keeps slices and states consistent', () => {
    checkConsistency(d);
    // The recording's scheduling chains are whole (test/record/sample.test.ts): no break.
    expect(d.summary.warnings.join('\n')).not.toMatch(/sched_switch events switched out/);
  });

  it('per-thread CPU time is cputop’s, except the task each CPU ran when the trace began', async () => {
    // cputop (lttng-analyses' rules) charges a task first seen being switched out from the
    // start of the period; the view starts its slice at its CPU's first event. Every other
    // thread's time is the same to the nanosecond.
    const { analyse } = await import('../../src/analyses/session.js');
    const { openTraces } = await import('../../src/analyses/open.js');
    const ts = openTraces([SAMPLE]);
    const r = await analyse(ts, ['cputop'], { intersection: false });
    ts.close();
    const byTid = new Map<number, number>();
    for (const t of d.summary.threads) byTid.set(t.tid, (byTid.get(t.tid) ?? 0) + t.cpuNs);
    const firstOnCpu = new Set(d.store.lanes.map((l) => l.uid[0]!));
    const firstTids = new Set(d.summary.threads.filter((t) => firstOnCpu.has(t.uid)).map((t) => t.tid));
    let compared = 0;
    for (const row of r.cputop!.tids) {
      if (row.tid === 0 || firstTids.has(row.tid)) continue;
      expect(byTid.get(row.tid) ?? 0, `tid ${row.tid} (${row.comm})`).toBe(row.cpuNs);
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('per-container syscalls and page allocations are syscallstats’ and memtop’s', () => {
    const agg = new Aggregator(d.store, d.summary.threads);
    const keys = d.summary.containers.map((c) => c.key);
    // One bucket per ~ms over the whole trace: the sums are counts.
    const n = 2000;
    const sr = agg.series(d.summary.begin, d.summary.end + 1, n, keys);
    const perBucket = sr.step / 1e9;
    for (const c of d.summary.containers) {
      const i = sr.keys.indexOf(c.key);
      const sum = (a: number[]): number => Math.round(a.reduce((x, y) => x + y, 0) * perBucket);
      expect(sum(sr.sys[i]!), `${c.name} syscalls`).toBe(c.syscalls);
      expect(sum(sr.err[i]!), `${c.name} syscall errors`).toBe(c.syscallErrors);
      expect(sum(sr.alloc[i]!), `${c.name} page allocations`).toBe(c.pagesAlloc);
    }
  });

  it('the CPU series adds up to the slices of each container', () => {
    const agg = new Aggregator(d.store, d.summary.threads);
    const keys = d.summary.containers.map((c) => c.key);
    const sr = agg.series(d.summary.begin, d.summary.end, 500, keys);
    const want = new Map<number, number>();
    for (const t of d.summary.threads) want.set(t.container, (want.get(t.container) ?? 0) + t.cpuNs);
    for (const c of d.summary.containers) {
      const got = sr.cpu[sr.keys.indexOf(c.key)]!.reduce((x, y) => x + y, 0) * sr.step;
      expect(Math.abs(got - (want.get(c.key) ?? 0)), c.name).toBeLessThan(1e-3 * sr.step * 500 + 1000);
    }
  });
});

describe('view data: a simulated host with a restarted and a nested container', () => {
  let d: ViewData;
  beforeAll(async () => {
    d = await buildViewData([DEMO], { version: 'test' });
  });

  it('keeps slices and states consistent', () => {
    checkConsistency(d);
    expect(d.summary.cpus).toEqual([0, 1, 2, 3]);
  });

  it('shows the restart as two incarnations, and the nested container’s parent', () => {
    const cache = d.summary.containers.find((c) => c.name === 'cache')!;
    expect(cache.restarts).toBe(1);
    expect(cache.incarnations.map((i) => i.pidNs)).toEqual(cache.pidNs);
    expect(cache.incarnations[0]!.last).toBeLessThan(cache.incarnations[1]!.first);
    const job = d.summary.containers.find((c) => c.name === 'ci-job')!;
    const runner = d.summary.containers.find((c) => c.name === 'ci-runner')!;
    expect(job.parent).toBe(runner.key);
  });

  it('has every thread state the simulation produces', () => {
    const states = new Set(d.store.stState);
    expect(states.has(ThreadState.running)).toBe(true);
    expect(states.has(ThreadState.woken)).toBe(true);
    expect(states.has(ThreadState.sleeping)).toBe(true);
  });
});

describe('pre-aggregation', () => {
  let d: ViewData;
  beforeAll(async () => {
    d = await buildViewData([SAMPLE], { version: 'test' });
  });

  it('answers a window with at most a few items per column, and slices wider than a column exactly', () => {
    const agg = new Aggregator(d.store, d.summary.threads);
    const { begin, end } = d.summary;
    for (const width of [50, 400, 1600]) {
      const r = agg.lanes({ t0: begin, t1: end, width });
      for (const lane of r.lanes) {
        expect(lane.s.length).toBeLessThanOrEqual(2 * width + 2);
        const raw = d.store.lanes.find((l) => l.cpu === lane.cpu)!;
        const px = (end - begin) / width;
        let busyRaw = 0;
        for (let i = 0; i < raw.start.length; i++) busyRaw += raw.end[i]! - raw.start[i]!;
        let busy = 0;
        for (let i = 0; i < lane.s.length; i++) {
          busy += (lane.e[i]! - lane.s[i]!) * lane.f[i]!;
          if (lane.k[i]! >= 0) {
            // A slice sent alone is one of the raw ones, unchanged (several may start at one
            // time: an inferred switch is at the first event of the task it switches in,
            // which may be that task's own switch out).
            const j = raw.start.findIndex((s, x) => s === lane.s[i] && raw.uid[x] === lane.k[i]);
            expect(j).toBeGreaterThanOrEqual(0);
            expect(raw.end[j]).toBe(lane.e[i]);
            expect(raw.uid[j]).toBe(lane.k[i]);
          } else {
            expect(lane.e[i]! - lane.s[i]!).toBeGreaterThanOrEqual(px * 0.999);
          }
        }
        // Busy time is kept (merged columns carry their fill fraction, rounded to 0.001).
        expect(Math.abs(busy - busyRaw) / (end - begin)).toBeLessThan(0.01);
      }
    }
  });

  it('zooming in narrows the answer to the window', () => {
    const agg = new Aggregator(d.store, d.summary.threads);
    const { begin, end } = d.summary;
    const mid = (begin + end) / 2;
    const r = agg.lanes({ t0: mid, t1: mid + 1e6, width: 800 });
    for (const lane of r.lanes) {
      for (let i = 0; i < lane.s.length; i++) {
        expect(lane.e[i]! > mid && lane.s[i]! < mid + 1e6).toBe(true);
      }
    }
  });

  it('thread rows keep states and group rows count running threads', () => {
    const agg = new Aggregator(d.store, d.summary.threads);
    const { begin, end } = d.summary;
    const web = d.summary.containers.find((c) => c.name === 'web')!;
    const uids = d.summary.threads.filter((t) => t.container === web.key).map((t) => t.uid);
    const r = agg.rows({ t0: begin, t1: end, width: 300, uids, groups: [`c:${web.key}`] });
    expect(r.rows.map((x) => x.uid)).toEqual(uids);
    const g = r.groups[0]!;
    expect(g.v.length).toBe(300);
    const px = (end - begin) / 300;
    const running = g.v.reduce((a, b) => a + b, 0) * px;
    const want = d.summary.threads.filter((t) => t.container === web.key).reduce((a, t) => a + t.cpuNs, 0);
    expect(Math.abs(running - want) / want).toBeLessThan(0.01);
  });

  it('addSpan spreads an interval over the columns it covers', () => {
    const out = new Float64Array(4);
    addSpan(out, 5, 35, 0, 40, 10);
    expect([...out]).toEqual([5, 10, 10, 5]);
    addSpan(out, -10, 100, 0, 40, 10);
    expect([...out]).toEqual([15, 20, 20, 15]);
  });

  it('a static export unpacks to the same store', () => {
    const bytes = packStore(d.store, { hello: 'world' });
    const { store, json } = unpackStore(bytes);
    expect(json).toEqual({ hello: 'world' });
    expect(store.lanes.length).toBe(d.store.lanes.length);
    expect([...store.lanes[1]!.uid]).toEqual([...d.store.lanes[1]!.uid]);
    expect([...store.stStart]).toEqual([...d.store.stStart]);
    expect([...store.sysErr]).toEqual([...d.store.sysErr]);
    const a = new Aggregator(store, d.summary.threads).lanes({
      t0: d.summary.begin,
      t1: d.summary.end,
      width: 700,
    });
    const b = new Aggregator(d.store, d.summary.threads).lanes({
      t0: d.summary.begin,
      t1: d.summary.end,
      width: 700,
    });
    expect(a).toEqual(b);
  });
});

describe('view data: a sched_switch chain with a hole', () => {
  it('draws nothing over the hole and says so', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { KernelTraceBuilder } = await import('../../src/synthetic/kernel-trace.js');
    const { hostTask } = await import('../../src/synthetic/tasks.js');
    const dir = mkdtempSync(join(tmpdir(), 'nstrace-view-hole-'));
    try {
      const trace = join(dir, 'kernel');
      const b = new KernelTraceBuilder({ dir: trace, cpus: 2, contexts: ['tid', 'pid_ns'] });
      const [a, bb, c, d] = [
        hostTask(101, 101, 1, 'a'),
        hostTask(102, 102, 1, 'b'),
        hostTask(103, 103, 1, 'c'),
        hostTask(104, 104, 1, 'd'),
      ];
      const sw = (ts: number, cpu: number, p: typeof a | null, n: typeof a | null, state = 1): void =>
        b.emit('sched_switch', ts, cpu, [
          p?.comm ?? 'swapper/0',
          p?.tid ?? 0,
          20,
          state,
          n?.comm ?? 'swapper/0',
          n?.tid ?? 0,
          20,
        ]);
      b.emit('sched_waking', 1_000, 1, ['a', 101, 20, 0]); // CPU 1's first event
      sw(5_000, 1, d, null); // CPU 1's first switch takes out d: it ran since 1_000
      sw(10_000, 0, null, a);
      sw(20_000, 0, a, bb, 0); // a preempted
      sw(30_000, 0, c, null); // c was not on CPU 0: a hole (lost events)
      sw(40_000, 0, null, a);
      sw(50_000, 0, a, null);
      b.close();
      const v = await buildViewData([trace], { version: 'test' });
      checkConsistency(v);
      const uidOf = (tid: number): number => v.summary.threads.find((t) => t.tid === tid)!.uid;
      const lane0 = v.store.lanes.find((l) => l.cpu === 0)!;
      expect([...lane0.start]).toEqual([10_000, 40_000]);
      expect([...lane0.end]).toEqual([20_000, 50_000]);
      expect([...lane0.uid]).toEqual([uidOf(101), uidOf(101)]);
      const lane1 = v.store.lanes.find((l) => l.cpu === 1)!;
      expect([...lane1.start, ...lane1.end, ...lane1.uid]).toEqual([1_000, 5_000, uidOf(104)]);
      expect(v.summary.warnings.join('\n')).toMatch(/^1 sched_switch events switched out a task/m);
      // b and c never ran (as far as the trace tells); a was woken, ran, was preempted, ran.
      const st = v.store;
      const states = (tid: number): string[] => {
        const u = uidOf(tid);
        const out: string[] = [];
        for (let i = st.stOff[u]!; i < st.stOff[u + 1]!; i++)
          out.push(`${st.stState[i]}:${st.stStart[i]}-${st.stEnd[i]}`);
        return out;
      };
      expect(states(101)).toEqual([
        `${ThreadState.woken}:1000-10000`,
        `${ThreadState.running}:10000-20000`,
        `${ThreadState.preempted}:20000-40000`,
        `${ThreadState.running}:40000-50000`,
      ]);
      expect(v.summary.threads.some((t) => t.tid === 102)).toBe(false); // b: nothing known
      expect(states(103)).toEqual([`${ThreadState.sleeping}:30000-50000`]); // c: asleep after its switch
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
