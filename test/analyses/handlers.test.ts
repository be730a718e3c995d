import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/ctf/event.js';
import { CputopHandler } from '../../src/analyses/cputop.js';
import { ProcessFilter } from '../../src/analyses/handler.js';
import type { FilterSpec } from '../../src/analyses/handler.js';
import { intersect } from '../../src/analyses/intersection.js';
import { MemtopHandler } from '../../src/analyses/memtop.js';
import { cputopText, syscallstatsText } from '../../src/analyses/reports.js';
import { arraySource, runAnalyses } from '../../src/analyses/runner.js';
import type { RunOptions } from '../../src/analyses/runner.js';
import { SyscallstatsHandler } from '../../src/analyses/syscallstats.js';
import { SystemModel } from '../../src/model/model.js';
import { FakeTrace } from '../helpers/records.js';

const HOST = 4026531836;
const NS_A = 4026532001;
const NS_B = 4026532002;
const NS_B2 = 4026532003; // nested inside B

async function runAll(records: EventRecord[], spec: FilterSpec = {}, opts: RunOptions = {}) {
  const model = new SystemModel();
  const filter = new ProcessFilter(spec, model);
  const c = new CputopHandler();
  const m = new MemtopHandler();
  const s = new SyscallstatsHandler();
  const summary = await runAnalyses(arraySource(records), model, filter, [c, m, s], opts);
  return { model, cputop: c.result, memtop: m.result, syscallstats: s.result, summary };
}

/**
 * Two CPUs; host tasks 10 and 11, container A (named by an event) with tasks 100/101,
 * container B (no event) with task 200, and B2 nested in B with task 300.
 */
function scenario(): EventRecord[] {
  const t = new FakeTrace({ cpus: 2 });
  const r: EventRecord[] = [];
  const fork = (
    ts: number,
    parent: number,
    ppid: number,
    pns: number,
    child: number,
    cpid: number,
    vtids: number[],
    cns: number,
    comm: string,
  ) =>
    r.push(
      t.rec('sched_process_fork', ts, 0, {
        parent_tid: parent,
        parent_pid: ppid,
        parent_ns_inum: pns,
        child_tid: child,
        child_pid: cpid,
        child_comm: comm,
        vtids,
        child_ns_inum: cns,
      }),
    );
  const sw = (ts: number, cpu: number, prev: number, pc: string, next: number, nc: string) =>
    r.push(
      t.rec('sched_switch', ts, cpu, {
        prev_tid: prev,
        prev_comm: pc,
        prev_prio: 20,
        next_tid: next,
        next_comm: nc,
        next_prio: 20,
      }),
    );
  const sys = (ts: number, cpu: number, name: string, dur: number, ret: number) => {
    r.push(t.rec(`syscall_entry_${name}`, ts, cpu));
    r.push(t.rec(`syscall_exit_${name}`, ts + dur, cpu, { ret }));
  };
  const page = (ts: number, cpu: number, alloc: boolean) =>
    r.push(t.rec(alloc ? 'kmem_mm_page_alloc' : 'kmem_mm_page_free', ts, cpu));

  r.push(
    t.rec('lttng_statedump_process_pid_ns', 0, 0, {
      tid: 10,
      vtid: 10,
      vpid: 10,
      ns_level: 0,
      ns_inum: HOST,
    }),
  );
  r.push(
    t.rec('lttng_statedump_process_pid_ns', 0, 0, {
      tid: 11,
      vtid: 11,
      vpid: 11,
      ns_level: 0,
      ns_inum: HOST,
    }),
  );
  r.push(
    t.rec('nstrace_container_statedump', 0, 1, {
      id: 'aaaa1111bbbb2222',
      name: 'web',
      type: 'docker',
      image: 'nginx',
      pid_ns: NS_A,
    }),
  );
  fork(1, 10, 10, HOST, 100, 100, [100, 1], NS_A, 'nginx');
  fork(2, 100, 100, NS_A, 101, 100, [101, 2], NS_A, 'nginx');
  fork(3, 10, 10, HOST, 200, 200, [200, 1], NS_B, 'redis');
  fork(4, 200, 200, NS_B, 300, 300, [300, 5, 1], NS_B2, 'inner');

  // CPU 0: 10 [0..10) 100 [10..40) 200 [40..50) idle [50..60) 300 [60..100)
  sw(10, 0, 10, 'bash', 100, 'nginx');
  sys(12, 0, 'read', 4, 5);
  sys(20, 0, 'read', 2, -11);
  page(25, 0, true);
  page(26, 0, true);
  sw(40, 0, 100, 'nginx', 200, 'redis');
  sys(41, 0, 'write', 3, 1);
  page(42, 0, false);
  sw(50, 0, 200, 'redis', 0, 'swapper/0');
  sw(60, 0, 0, 'swapper/0', 300, 'inner');
  sys(61, 0, 'open', 7, -2);
  page(62, 0, true);
  // CPU 1: 11 [0..30) 101 [30..100)
  sw(30, 1, 11, 'sshd', 101, 'nginx');
  sys(31, 1, 'read', 1, 0);
  sys(35, 1, 'read', 6, 0);
  sys(50, 1, 'read', 5, 0);
  page(51, 1, true);
  r.push(t.rec('irq_handler_entry', 100, 1, { irq: 1 }));
  r.push(t.rec('irq_handler_entry', 100, 0, { irq: 1 }));
  // as the reader muxes them: by time, stable
  return r
    .map((x, i) => [x, i] as const)
    .sort((a, b) => a[0].ts - b[0].ts || a[1] - b[1])
    .map(([x]) => x);
}

describe('cputop, memtop, syscallstats per container', () => {
  it('charges every thread to exactly one container and container totals are the sums of their threads', async () => {
    const { model, cputop, memtop, syscallstats } = await runAll(scenario());
    const threadsIn = model.containers.all().flatMap((c) => c.threads);
    expect(threadsIn.length).toBe(model.allThreads.length);
    expect(new Set(threadsIn).size).toBe(model.allThreads.length);

    const cpu = new Map(cputop!.containers.map((c) => [c.container.name, c.cpuNs]));
    // period 0..100: host = 10 [0,10) + 11 [0,30) (charged from the period start); the idle
    // task's per-TID row (charged from the period start to CPU 1's first switch) is no one's
    expect(cpu.get('web')).toBe(30 + 70);
    expect(cpu.get(String(NS_B))).toBe(10);
    expect(cpu.get(String(NS_B2))).toBe(40);
    const tidNs = new Map(cputop!.tids.map((t) => [t.tid, t.cpuNs]));
    expect(tidNs.get(0)).toBeGreaterThan(0);
    expect(cpu.get('[HOST]')).toBe(tidNs.get(10)! + tidNs.get(11)!);
    const sumTids = cputop!.tids.reduce((a, t) => a + (t.tid === 0 ? 0 : t.cpuNs), 0);
    const sumContainers = cputop!.containers.reduce((a, c) => a + c.cpuNs, 0);
    expect(sumContainers).toBe(sumTids);

    const mem = new Map(memtop!.containers.map((c) => [c.container.name, [c.allocated, c.freed]]));
    expect(mem.get('web')).toEqual([3, 0]);
    expect(mem.get(String(NS_B))).toEqual([0, 1]);
    expect(mem.get(String(NS_B2))).toEqual([1, 0]);
    expect(memtop!.totalAllocated).toBe(4);

    const sys = new Map(syscallstats!.containers.map((c) => [c.container.name, c]));
    const web = sys.get('web')!;
    expect([web.total, web.errors, web.syscalls.get('read')!.count]).toEqual([5, 1, 5]);
    expect(web.all.min).toBe(1);
    expect(web.all.max).toBe(6);
    expect(sys.get(String(NS_B2))!.errors).toBe(1);
    expect(syscallstats!.total).toBe(7);
    // nesting: B2's container is inside B's
    const b2 = model.containers.all().find((c) => c.pidNs === NS_B2)!;
    expect(b2.parent?.pidNs).toBe(NS_B);
  });

  it('selects containers by name, id prefix and pid namespace, and the host', async () => {
    const byName = await runAll(scenario(), { containers: ['web'] });
    expect(
      byName.cputop!.tids.filter((t) => t.lastSched === t.lastSched || t.cpuNs > 0).map((t) => t.tid),
    ).toContain(100);
    expect(byName.cputop!.containers.map((c) => c.container.name)).toEqual(['web']);
    expect(byName.syscallstats!.tids.map((t) => t.tid)).toEqual([100, 101]);
    const byId = await runAll(scenario(), { containers: ['aaaa1111'] });
    expect(byId.syscallstats!.tids.map((t) => t.tid)).toEqual([100, 101]);
    const byNs = await runAll(scenario(), { containers: [String(NS_B2)] });
    expect(byNs.syscallstats!.tids.map((t) => t.tid)).toEqual([300]);
    const host = await runAll(scenario(), { host: true });
    expect(host.syscallstats!.tids.map((t) => t.tid)).toEqual([]);
    expect(host.memtop!.containers.map((c) => c.container.name)).toEqual(['[HOST]']);
    const both = await runAll(scenario(), { host: true, containers: ['web'] });
    expect(both.cputop!.containers.map((c) => c.container.name).sort()).toEqual(['[HOST]', 'web']);
  });

  it('starts the period at the first event at or after --begin and stops after --end', async () => {
    const { cputop, summary } = await runAll(scenario(), {}, { begin: 35, end: 61 });
    expect(summary.periodBegin).toBe(35);
    expect(cputop!.begin).toBe(35);
    expect(cputop!.end).toBe(61);
    // 101 was switched in at 30, before the period: charged from the period start? No: it is
    // only charged once seen; it is still running at the end, so 61 - 35 (first seen as prev? never).
    const t101 = cputop!.tids.find((t) => t.tid === 101);
    expect(t101).toBeUndefined();
    const t200 = cputop!.tids.find((t) => t.tid === 200)!;
    expect(t200.cpuNs).toBe(10); // switched in at 40, out at 50
  });

  it('skips events outside the stream intersection windows', async () => {
    const t = new FakeTrace({ cpus: 2 });
    const recs = [
      t.rec('sched_switch', 1, 0, { prev_tid: 0, next_tid: 5, next_comm: 'a' }),
      t.rec('sched_switch', 5, 1, { prev_tid: 0, next_tid: 6, next_comm: 'b' }),
      t.rec('sched_switch', 9, 0, { prev_tid: 5, next_tid: 0 }),
      t.rec('sched_switch', 12, 1, { prev_tid: 6, next_tid: 0 }),
    ];
    const ix = intersect(t.streams, [
      { begin: 1, end: 10 },
      { begin: 4, end: 12 },
    ]);
    expect(ix.kind).toBe('ok');
    const { summary } = await runAll(recs, {}, { windows: ix.kind === 'ok' ? ix.windows : undefined });
    expect(summary.events).toBe(2);
    expect(summary.periodBegin).toBe(5);
    expect(
      intersect(t.streams, [
        { begin: 1, end: 3 },
        { begin: 4, end: 12 },
      ]).kind,
    ).toBe('none');
    expect(intersect(t.streams, [{ begin: 1, end: 3 }, undefined]).kind).toBe('unknown');
  });

  it('prints per-container tables after the lttng-analyses ones', async () => {
    const { cputop, syscallstats } = await runAll(scenario());
    const o = { base: { seconds: 0, ns: 0 }, gmt: true, limit: 10 };
    const text = cputopText(cputop!, o);
    expect(text).toContain('Total CPU Usage: ');
    const tail = text.slice(text.indexOf('Per-Container Usage'));
    expect(tail).toMatch(/100\.00 % {3}web \(4026532001\) {30}docker {4}\n/);
    expect(tail).toContain(`[HOST]`);
    const sys = syscallstatsText(syscallstats!, o);
    expect(sys).toContain('web (4026532001) [docker]');
    // per-container return values are the true counts; per-TID ones keep lttng-analyses' +1
    expect(sys).toMatch(/nginx \(100, TID: 100\)[^]*\{'success': 2, 'EAGAIN': 2\}/);
    expect(sys).toMatch(/web \(4026532001\) \[docker\][^]*\{'success': 4, 'EAGAIN': 1\}/);
  });
});

describe('runner', () => {
  it('reports progress per chunk and stops with InterruptedError when aborted', async () => {
    const t = new FakeTrace({ cpus: 1 });
    const recs = Array.from({ length: 1000 }, (_, i) =>
      t.rec('sched_switch', i, 0, {
        prev_tid: i % 2 === 0 ? 0 : 7,
        next_tid: i % 2 === 0 ? 7 : 0,
        next_comm: 'a',
      }),
    );
    const seen: number[] = [];
    const model = new SystemModel();
    await runAnalyses(arraySource(recs), model, new ProcessFilter({}, model), [], {
      chunk: 300,
      onProgress: (done) => seen.push(done),
    });
    expect(seen).toEqual([300, 600, 900, 1000]);

    const ac = new AbortController();
    const m2 = new SystemModel();
    const run = runAnalyses(arraySource(recs), m2, new ProcessFilter({}, m2), [], {
      chunk: 100,
      signal: ac.signal,
      onProgress: (done) => {
        if (done >= 200) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'InterruptedError', exitCode: 130 });
  });

  it("counts the events the kernel skipped (the bpf recorder's nstrace_kernel_skipped markers)", async () => {
    const t = new FakeTrace({ cpus: 1 });
    const recs = [
      t.rec('sched_switch', 10, 0, { prev_tid: 0, next_tid: 7, next_comm: 'a' }),
      t.rec('sched_switch', 20, 0, { prev_tid: 7, next_tid: 0, next_comm: 'swapper/0' }),
      t.rec('nstrace_kernel_skipped', 30, 0, { count: 37, tracepoints: 'irq:irq_handler_entry' }),
      t.rec('nstrace_kernel_skipped', 30, 0, { count: 5, tracepoints: 'block:block_rq_issue' }),
    ];
    const model = new SystemModel();
    const all = await runAnalyses(arraySource(recs), model, new ProcessFilter({}, model), [
      new CputopHandler(),
    ]);
    expect(all.kernelSkipped).toBe(42);
    expect(all.discardedEvents).toBe(0);
    const m2 = new SystemModel();
    const none = await runAnalyses(arraySource(recs.slice(0, 2)), m2, new ProcessFilter({}, m2), []);
    expect(none.kernelSkipped).toBe(0);
  });
});
