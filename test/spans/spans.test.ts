/**
 * The spans analysis and the UST join on hand-built kernel and userspace records: every
 * scheduling transition a span can go through, with the expected split of its time; tid reuse
 * in the join; the messages for traces that lack what spans needs.
 */
import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/ctf/event.js';
import { arraySource, runAnalyses } from '../../src/analyses/runner.js';
import { ProcessFilter } from '../../src/analyses/handler.js';
import { SpansHandler, preempted } from '../../src/analyses/spans.js';
import { checkSpansInput } from '../../src/analyses/spans-run.js';
import { ModelContainerLookup } from '../../src/model/lookup.js';
import { SystemModel } from '../../src/model/model.js';
import { VtidJoin } from '../../src/model/ust-join.js';
import { Thread } from '../../src/model/threads.js';
import { MissingEventsError } from '../../src/util/errors.js';
import { FakeTrace } from '../helpers/records.js';

const HOST = 4026531836;
const APP = 4026532500;
const NOISY = 4026532600;

function traces(): { k: FakeTrace; u: FakeTrace } {
  const k = new FakeTrace({ cpus: 2 });
  const u = new FakeTrace({
    cpus: 2,
    domain: 'ust',
    streamContext: ['vpid', 'vtid', 'pid_ns'],
    keyBase: 100,
    path: '/fake-ust',
  });
  u.eventClass('app:begin', 'id');
  u.eventClass('app:end', 'id');
  return { k, u };
}

/** Statedump of a task: its tid at each pid-namespace level, deepest first. */
function dump(
  k: FakeTrace,
  ts: number,
  tid: number,
  name: string,
  levels: Array<[number, number]>,
): EventRecord[] {
  const out = [k.rec('lttng_statedump_process_state', ts, 0, { tid, pid: tid, ppid: 1, name })];
  for (let lvl = levels.length - 1; lvl >= 0; lvl--) {
    const [inum, vtid] = levels[lvl]!;
    out.push(
      k.rec('lttng_statedump_process_pid_ns', ts, 0, { tid, vtid, vpid: vtid, ns_level: lvl, ns_inum: inum }),
    );
  }
  return out;
}

async function spans(records: EventRecord[], match?: string) {
  const model = new SystemModel({ syscalls: false, memory: false });
  const lookup = new ModelContainerLookup(model);
  const h = new SpansHandler(
    { begin: 'app:begin', end: 'app:end', match, kernelRange: { begin: 0, end: 1e9 } },
    lookup,
  );
  await runAnalyses(arraySource(records), model, new ProcessFilter({}, model, lookup), [h]);
  return { res: h.result!, model };
}

describe('spans: where the time of a span went', () => {
  it('splits a span into on-CPU, waiting (and behind whom), blocked (and in which syscall)', async () => {
    const { k, u } = traces();
    const ust = (name: string, ts: number, cpu: number, id: number): EventRecord =>
      u.rec(name, ts, cpu, { id }, { vpid: 7, vtid: 7, pid_ns: APP });
    const sw = (ts: number, cpu: number, prev: number, next: number, prevState = 0): EventRecord =>
      k.rec('sched_switch', ts, cpu, { prev_tid: prev, next_tid: next, prev_state: prevState });
    const { res, model } = await spans([
      ...dump(k, 10, 100, 'app', [
        [HOST, 100],
        [APP, 7],
      ]),
      ...dump(k, 11, 200, 'hog', [
        [HOST, 200],
        [NOISY, 1],
      ]),
      ...dump(k, 12, 300, 'hostd', [[HOST, 300]]),
      sw(1000, 0, 0, 100),
      ust('app:begin', 2000, 0, 1),
      sw(3000, 0, 100, 200), // preempted: waits on CPU 0
      sw(5000, 0, 200, 300),
      sw(6000, 0, 300, 100), // waited 2000 behind the noisy container, 1000 behind the host
      k.rec('syscall_entry_clock_nanosleep', 7000, 0),
      sw(7500, 0, 100, 0, 1), // sleeps (S) in clock_nanosleep
      k.rec('sched_waking', 9500, 0, { tid: 100, target_cpu: 1 }),
      sw(9700, 1, 0, 100), // CPU 1 was idle: 200 of wakeup latency
      k.rec('syscall_exit_clock_nanosleep', 9800, 1, { ret: 0 }),
      ust('app:end', 10000, 1, 1),
    ]);
    expect(res.spans).toHaveLength(1);
    const s = res.spans[0]!;
    expect(s.thread?.tid).toBe(100);
    expect(s.covered).toBe(true);
    expect([s.end! - s.begin, s.onCpu, s.waiting, s.blocked]).toEqual([8000, 2800, 3200, 2000]);
    expect(s.onCpu + s.waiting + s.blocked).toBe(s.end! - s.begin);
    expect(Object.fromEntries(s.blockedIn)).toEqual({ clock_nanosleep: 2000 });
    const byContainer = new Map<string, number>();
    for (const [uid, ns] of s.waitBy) {
      const c = uid < 0 ? 'idle' : model.containerOf(model.allThreads[uid]!).label;
      byContainer.set(c, (byContainer.get(c) ?? 0) + ns);
    }
    expect(Object.fromEntries(byContainer)).toEqual({ [String(NOISY)]: 2000, '[HOST]': 1000, idle: 200 });
  });

  it('follows a waiting thread that migrates, and a wakeup seen only as sched_wakeup', async () => {
    const { k, u } = traces();
    const ust = (name: string, ts: number, cpu: number): EventRecord =>
      u.rec(name, ts, cpu, { id: 1 }, { vpid: 7, vtid: 7, pid_ns: APP });
    const sw = (ts: number, cpu: number, prev: number, next: number, prevState = 0): EventRecord =>
      k.rec('sched_switch', ts, cpu, { prev_tid: prev, next_tid: next, prev_state: prevState });
    const { res } = await spans([
      ...dump(k, 10, 100, 'app', [
        [HOST, 100],
        [APP, 7],
      ]),
      sw(100, 0, 0, 100),
      sw(105, 1, 0, 300),
      ust('app:begin', 200, 0),
      sw(300, 0, 100, 200, 0x100), // preempted (TASK_REPORT_MAX), waits on CPU 0 behind 200
      k.rec('sched_migrate_task', 400, 0, { tid: 100, orig_cpu: 0, dest_cpu: 1 }),
      sw(600, 1, 300, 100), // 200 behind 300 on CPU 1
      sw(700, 1, 100, 0, 2), // D, outside any syscall
      k.rec('sched_wakeup', 900, 1, { tid: 100, target_cpu: 1 }),
      sw(950, 1, 0, 100),
      ust('app:end', 1000, 1),
    ]);
    const s = res.spans[0]!;
    expect([s.onCpu, s.waiting, s.blocked]).toEqual([100 + 100 + 50, 100 + 200 + 50, 200]);
    expect(Object.fromEntries(s.blockedIn)).toEqual({ '': 200 });
  });

  it('pairs by --match across interleaved spans of one thread, and counts the unpaired', async () => {
    const { k, u } = traces();
    const ust = (name: string, ts: number, id: number): EventRecord =>
      u.rec(name, ts, 0, { id }, { vpid: 7, vtid: 7, pid_ns: APP });
    const records = [
      ...dump(k, 10, 100, 'app', [
        [HOST, 100],
        [APP, 7],
      ]),
      k.rec('sched_switch', 100, 0, { prev_tid: 0, next_tid: 100 }),
      ust('app:begin', 200, 1),
      ust('app:begin', 300, 2),
      ust('app:end', 400, 1),
      ust('app:end', 600, 2),
      ust('app:end', 700, 3),
      ust('app:begin', 800, 4),
    ];
    const { res } = await spans(records, 'id');
    expect(res.spans.map((s) => [s.key, s.end! - s.begin, s.onCpu])).toEqual([
      ['1', 200, 200],
      ['2', 300, 300],
    ]);
    expect(res.unmatchedEnds).toBe(1);
    expect(res.unfinished).toBe(1);
    // Without --match: the last open span of the thread ends first.
    const plain = await spans(records);
    expect(plain.res.spans.map((s) => [s.begin, s.end])).toEqual([
      [200, 600],
      [300, 400],
    ]);
    expect([plain.res.unmatchedEnds, plain.res.unfinished]).toEqual([1, 1]);
  });

  it('tells a request handed to another thread from an end without a begin', async () => {
    const { k, u } = traces();
    const ust = (name: string, ts: number, vtid: number, id: number): EventRecord =>
      u.rec(name, ts, 0, { id }, { vpid: 7, vtid, pid_ns: APP });
    const { res } = await spans(
      [
        ...dump(k, 10, 100, 'app', [
          [HOST, 100],
          [APP, 7],
        ]),
        ...dump(k, 11, 101, 'app', [
          [HOST, 101],
          [APP, 8],
        ]),
        k.rec('sched_switch', 100, 0, { prev_tid: 0, next_tid: 100 }),
        ust('app:begin', 200, 7, 5),
        k.rec('sched_switch', 300, 0, { prev_tid: 100, next_tid: 101, prev_state: 1 }),
        ust('app:end', 400, 8, 5),
        ust('app:end', 500, 8, 6),
      ],
      'id',
    );
    expect(res.spans).toHaveLength(0);
    expect([res.unmatchedEnds, res.crossThreadEnds, res.unfinished]).toEqual([2, 1, 1]);
  });

  it('attributes a reused vtid to the thread that had it at the event time', async () => {
    const { k, u } = traces();
    const ust = (name: string, ts: number, id: number): EventRecord =>
      u.rec(name, ts, 0, { id }, { vpid: 7, vtid: 7, pid_ns: APP });
    const { res } = await spans(
      [
        ...dump(k, 10, 100, 'app', [
          [HOST, 100],
          [APP, 7],
        ]),
        k.rec('sched_switch', 100, 0, { prev_tid: 0, next_tid: 100 }),
        ust('app:begin', 200, 1),
        ust('app:end', 300, 1),
        k.rec('sched_process_exit', 400, 0, { tid: 100 }),
        k.rec('sched_switch', 410, 0, { prev_tid: 100, next_tid: 0, prev_state: 16 }),
        // vtid 7 of the app's namespace again, now host tid 150
        k.rec('sched_process_fork', 500, 1, {
          parent_tid: 1,
          parent_pid: 1,
          child_tid: 150,
          child_pid: 150,
          vtids: [150, 7],
          child_ns_inum: APP,
        }),
        k.rec('sched_switch', 600, 0, { prev_tid: 0, next_tid: 150 }),
        ust('app:begin', 700, 2),
        ust('app:end', 800, 2),
      ],
      'id',
    );
    expect(res.spans.map((s) => s.thread?.tid)).toEqual([100, 150]);
    expect(res.spans.every((s) => s.onCpu === 100)).toBe(true);
  });
});

describe('VtidJoin', () => {
  it('keeps every lifetime of a (pid_ns, vtid) with its validity interval', () => {
    const j = new VtidJoin();
    const a = new Thread(0, 100, 0);
    const b = new Thread(1, 150, 50);
    b.born = 50;
    a.exited = 40;
    j.note(APP, 7, a);
    j.note(APP, 7, b);
    expect(j.lookup(APP, 7, 10)).toBe(a);
    expect(j.lookup(APP, 7, 45)).toBeUndefined();
    expect(j.lookup(APP, 7, 60)).toBe(b);
    expect(j.lookup(APP, 7)).toBe(b);
    expect(j.lookup(NOISY, 7, 60)).toBeUndefined();
    // A thread filed under a guess moves when the trace corrects it.
    j.note(NOISY, 7, b);
    expect(j.lookup(APP, 7, 60)).toBeUndefined();
    expect(j.lookup(NOISY, 7, 60)).toBe(b);
  });
});

describe('spans: what the traces must have', () => {
  it('names the lttng add-context line when the userspace events lack pid_ns or vtid', () => {
    const k = new FakeTrace({ cpus: 1 });
    const u = new FakeTrace({ cpus: 1, domain: 'ust', streamContext: ['vpid', 'pid_ns'], keyBase: 100 });
    const classes = [k.eventClass('sched_switch'), u.eventClass('app:begin'), u.eventClass('app:end')].map(
      (ec, i) => ({
        eventClass: ec,
        streamClass: i === 0 ? k.streamClass : u.streamClass,
        trace: i === 0 ? k.trace : u.trace,
      }),
    );
    expect(() => checkSpansInput(classes, { begin: 'app:begin', end: 'app:end' })).toThrow(
      MissingEventsError,
    );
    expect(() => checkSpansInput(classes, { begin: 'app:begin', end: 'app:end' })).toThrow(
      /lttng add-context --userspace --type=vtid/,
    );
    // Without a kernel trace: durations only, and a warning that says how to record one.
    const only = checkSpansInput(classes.slice(1), { begin: 'app:begin', end: 'app:end' });
    expect(only.breakdown).toBe(false);
    expect(only.warnings.join()).toMatch(/no kernel trace.*nstrace record/);
    expect(checkSpansInput(classes, { begin: 'x:y', end: 'app:end' }).hasBegin).toBe(false);
  });

  it('reads prev_state as lttng-modules and ftrace write it', () => {
    expect(preempted(0)).toBe(true);
    expect(preempted(0x100)).toBe(true); // TASK_REPORT_MAX: preempted while running
    expect(preempted(0x400)).toBe(true); // older kernels' TASK_STATE_MAX
    for (const s of [1, 2, 4, 8, 0x40, 0x80]) expect(preempted(s)).toBe(false);
  });
});
