/**
 * Issue 16's other tables give the analyses' numbers: `thread_state` (Running rows are cputop's
 * CPU time, wakeup rows the sched analysis' latencies, no overlap per thread), `io`
 * (iolatencystats, iousagetop and the per-container I/O tables), `irq` (irqstats and the
 * per-container interrupt table), `span` (nstrace spans' rows), `process`, and the string
 * arguments of `syscall`; on the bundled samples, on simulated hosts (src/synthetic) with a
 * second kernel trace of interrupts and block requests (./irq-io-trace.ts) and userspace spans,
 * and on the lttng-analyses fixtures; in-process to the ns, and against the CLI's `--mi`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FdStats } from '../../src/analyses/io.js';
import { machineInputs, streamRangesOf } from '../../src/analyses/open.js';
import { analyse } from '../../src/analyses/session.js';
import type { AnalyseResult } from '../../src/analyses/session.js';
import { analyseSpans } from '../../src/analyses/spans-run.js';
import { IoOp, opMatches } from '../../src/model/lttng-io.js';
import { writeBenchTrace, writeSampleTrace } from '../../src/synthetic/simulate.js';
import { BENCH_BEGIN, BENCH_END, writeUstSpans } from '../../src/synthetic/ust-spans.js';
import { loadTraces, SqlEngine, tablesOfQuery } from '../../src/sql/index.js';
import type { TableName } from '../../src/sql/index.js';
import { ensureBuilt, nstrace } from '../helpers/cli.js';
import { writeIrqIoTrace } from './irq-io-trace.js';

const ROOT = resolve(__dirname, '../..');
const LIVE = join(ROOT, 'samples/containers-live');
const DEMO = join(ROOT, 'samples/containers-demo');
const FIX_IRQ = join(ROOT, 'test/fixtures/lttng-analyses-synthetic/irq/kernel');
const FIX_IO = join(ROOT, 'test/fixtures/lttng-analyses-synthetic/io/kernel');
const FLIP = join(ROOT, 'test/fixtures/tracecompass-test-traces/flipping-endianness');

const dirs: string[] = [];
let SIM = '';
let SPANS = '';
beforeAll(() => {
  const d = mkdtempSync(join(tmpdir(), 'nstrace-sql-tables-'));
  dirs.push(d);
  SIM = join(d, 'sim');
  writeSampleTrace(join(SIM, 'kernel'), { seed: 13 });
  writeIrqIoTrace(join(SIM, 'kernel'), join(SIM, 'irq-io'), 5);
  SPANS = join(d, 'spans');
  writeBenchTrace(join(SPANS, 'kernel'), 40_000, 3);
  writeUstSpans(join(SPANS, 'kernel'), join(SPANS, 'ust'), { begin: 0.5, end: 0.5 });
}, 300_000);
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function reference(path: string): Promise<AnalyseResult> {
  const [m] = machineInputs([path]);
  const ts = m!.open();
  try {
    return await analyse(ts, ['cputop', 'sched', 'io', 'irq'], {
      streamRanges: () => streamRangesOf(ts),
      partial: true,
    });
  } finally {
    ts.close();
  }
}

type Row = Record<string, unknown>;

async function sqlRows(path: string, query: string, tables?: TableName[]): Promise<Row[]> {
  const engine = await SqlEngine.open();
  try {
    await loadTraces(engine, [path], tables ?? tablesOfQuery(query), {
      spans: { begin: BENCH_BEGIN, end: BENCH_END, match: 'id' },
    });
    const r = await engine.query(query);
    return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i]])));
  } finally {
    engine.close();
  }
}

const n = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));

const SCHED_TRACES: Array<[string, () => string]> = [
  ['samples/containers-live (a real recording)', () => LIVE],
  ['samples/containers-demo', () => DEMO],
  ['simulated host with interrupts and block requests', () => SIM],
];

describe('thread_state', () => {
  it.each(SCHED_TRACES)('Running is cputop, wakeup rows are the sched latencies: %s', async (_, path) => {
    const ref = await reference(path());
    const running = await sqlRows(
      path(),
      "SELECT container_key AS k, sum(dur) AS ns FROM thread_state WHERE state = 'Running' AND container_key IS NOT NULL GROUP BY ALL",
    );
    const cpu = new Map(running.map((r) => [n(r.k), n(r.ns)]));
    for (const c of ref.cputop!.containers)
      expect(cpu.get(c.container.key) ?? 0, c.container.name).toBe(c.cpuNs);
    const lat = await sqlRows(
      path(),
      'SELECT container_key AS k, count(*) AS c, sum(dur) AS s, min(dur) AS lo, max(dur) AS hi FROM thread_state WHERE wakeup AND end_known GROUP BY ALL',
    );
    const got = new Map(lat.map((r) => [n(r.k), r]));
    const conts = ref.sched![0]!.result.containers;
    expect(conts.length).toBeGreaterThan(0);
    for (const c of conts) {
      const r = got.get(c.container.key);
      expect(r, c.container.name).toBeDefined();
      expect([n(r!.c), n(r!.s), n(r!.lo), n(r!.hi)], c.container.name).toEqual([
        c.stats.count,
        c.stats.sum,
        c.stats.min,
        c.stats.max,
      ]);
    }
    expect(lat.length).toBe(conts.length);
    // One state at a time per thread: no row overlaps the next one of its thread.
    const overlaps = await sqlRows(
      path(),
      'SELECT count(*) AS n FROM (SELECT ts, dur, lead(ts) OVER (PARTITION BY utid ORDER BY ts, dur) AS nx ' +
        'FROM thread_state) WHERE nx < ts + dur',
    );
    expect(n(overlaps[0]!.n)).toBe(0);
  });
});

/** `requests` of lttng-analyses: the syscall requests of every thread of the period. */
function ioRef(ref: AnalyseResult) {
  const r = ref.io![0]!.result;
  const rqs = [...r.tids.values()].flatMap((p) => p.rqs.filter((rq) => rq.kind !== 'block'));
  return { r, rqs };
}

const IO_TRACES: Array<[string, () => string]> = [
  ['samples/containers-live (a real recording)', () => LIVE],
  ['samples/containers-demo', () => DEMO],
  ['simulated host with interrupts and block requests', () => SIM],
  ['lttng-analyses io fixture', () => FIX_IO],
];

describe('io', () => {
  it.each(IO_TRACES)('latency, usage, per-container and per-file numbers: %s', async (_, path) => {
    const ref = await reference(path());
    const { r, rqs } = ioRef(ref);
    // iolatencystats: per kind of system call.
    const lat = await sqlRows(
      path(),
      "SELECT op, count(*) AS c, sum(dur) AS s, min(dur) AS lo, max(dur) AS hi FROM io WHERE kind = 'syscall' GROUP BY ALL",
    );
    const byOp = new Map(lat.map((x) => [String(x.op), x]));
    const ops: Array<[string, IoOp]> = [
      ['open', IoOp.Open],
      ['read', IoOp.Read],
      ['write', IoOp.Write],
      ['sync', IoOp.Sync],
      ['close', IoOp.Close],
    ];
    for (const [name, op] of ops) {
      const d = rqs.filter((rq) => opMatches(op, rq.operation)).map((rq) => rq.duration!);
      const x = byOp.get(name);
      if (d.length === 0) expect(x, name).toBeUndefined();
      else
        expect([n(x?.c), n(x?.s), n(x?.lo), n(x?.hi)], name).toEqual([
          d.length,
          d.reduce((a, b) => a + b, 0),
          Math.min(...d),
          Math.max(...d),
        ]);
    }
    // Disks: requests, sectors, total latency.
    const disks = await sqlRows(
      path(),
      "SELECT disk, count(*) AS c, sum(nr_sector) AS sec, sum(dur) AS s FROM io WHERE kind = 'block' GROUP BY ALL",
    );
    const withRqs = [...r.disks.values()].filter((d) => d.rqs.length > 0);
    expect(disks.length).toBe(withRqs.length);
    for (const d of withRqs) {
      const x = disks.find((y) => y.disk === d.diskname);
      expect([n(x?.c), n(x?.sec), n(x?.s)], d.diskname).toEqual([
        d.rqs.length,
        d.totalSectors,
        d.totalDuration,
      ]);
    }
    // iousagetop per process (by tid): bytes by fd type, block bytes.
    const usage = await sqlRows(
      path(),
      'SELECT tid, op, coalesce(fd_type, kind) AS t, sum(size) AS b FROM io ' +
        "WHERE (fd_type IS NOT NULL OR kind = 'block') GROUP BY ALL",
    );
    const sum = (tid: number, op: string, t: string): number =>
      usage.filter((x) => n(x.tid) === tid && x.op === op && x.t === t).reduce((a, x) => a + n(x.b), 0);
    let bytes = 0;
    for (const p of r.tids.values()) {
      for (const [k, op] of [
        ['read', 'read'],
        ['write', 'write'],
      ] as const) {
        expect(
          [sum(p.tid, op, 'disk'), sum(p.tid, op, 'net'), sum(p.tid, op, 'unknown'), sum(p.tid, op, 'block')],
          `${p.comm} ${p.tid} ${op}`,
        ).toEqual([p.disk[k], p.net[k], p.unk[k], p.block[k]]);
        bytes += p.disk[k] + p.net[k] + p.unk[k] + p.block[k];
      }
    }
    expect(bytes).toBeGreaterThan(0);
    // Per container (ours).
    const per = await sqlRows(
      path(),
      "SELECT container_key AS k, count(*) FILTER (WHERE kind = 'syscall') AS calls, " +
        "count(errno) AS errors, coalesce(sum(size) FILTER (WHERE kind = 'syscall' AND op = 'read'), 0) AS rd, " +
        "coalesce(sum(size) FILTER (WHERE kind = 'syscall' AND op = 'write'), 0) AS wr, " +
        "coalesce(sum(size) FILTER (WHERE kind = 'block' AND op = 'read'), 0) AS brd, " +
        "coalesce(sum(size) FILTER (WHERE kind = 'block' AND op = 'write'), 0) AS bwr FROM io WHERE utid IS NOT NULL GROUP BY ALL",
    );
    const perC = new Map(per.map((x) => [n(x.k), x]));
    for (const c of r.containers) {
      const x = perC.get(c.container.key);
      expect([n(x?.calls), n(x?.errors), n(x?.rd), n(x?.wr), n(x?.brd), n(x?.bwr)], c.container.name).toEqual(
        [c.calls, c.errors, c.read, c.write, c.blockRead, c.blockWrite],
      );
    }
    // Per file: the bytes of each fd lifetime, by file name.
    const files = await sqlRows(
      path(),
      "SELECT path, op, sum(size) AS b FROM io WHERE kind = 'syscall' AND path IS NOT NULL AND errno IS NULL " +
        "AND op IN ('read', 'write') GROUP BY ALL",
    );
    const want = new Map<string, number>();
    const add = (k: string, v: number): void => {
      if (v !== 0) want.set(k, (want.get(k) ?? 0) + v);
    };
    const lifetimes = new Set<FdStats>();
    for (const p of r.tids.values()) for (const l of p.fds.values()) for (const f of l) lifetimes.add(f);
    for (const f of lifetimes) {
      add(`${f.filename}/read`, f.io.read);
      add(`${f.filename}/write`, f.io.write);
    }
    const gotFiles = new Map(
      files.filter((x) => n(x.b) !== 0).map((x) => [`${String(x.path)}/${String(x.op)}`, n(x.b)]),
    );
    expect(gotFiles).toEqual(want);
  });

  it('fd_type is set on every counted read and write', async () => {
    const rows = await sqlRows(
      SIM,
      "SELECT count(*) AS n FROM io WHERE kind = 'syscall' AND op IN ('read', 'write') AND errno IS NULL AND fd_type IS NULL",
    );
    expect(n(rows[0]!.n)).toBe(0);
  });
});

const IRQ_TRACES: Array<[string, () => string]> = [
  ['simulated host with interrupts and block requests', () => SIM],
  ['lttng-analyses irq fixture', () => FIX_IRQ],
  ['tracecompass flipping-endianness', () => FLIP],
];

describe('irq', () => {
  it.each(IRQ_TRACES)('per interrupt and per container interrupted: %s', async (_, path) => {
    const ref = await reference(path());
    const r = ref.irq![0]!.result;
    const rows = await sqlRows(
      path(),
      'SELECT kind, irq, name, count(*) AS c, sum(dur) AS s, min(dur) AS lo, max(dur) AS hi, ' +
        'count(raise_ts) AS raised, sum(ts - raise_ts) AS lat FROM irq GROUP BY ALL',
    );
    let compared = 0;
    for (const [kind, stats] of [
      ['hard', r.hard],
      ['soft', r.soft],
    ] as const) {
      for (const [id, st] of stats) {
        const x = rows.find((y) => y.kind === kind && n(y.irq) === id);
        if (st.irqs.length === 0) {
          expect(x).toBeUndefined();
          continue;
        }
        const d = st.irqs.map((i) => i.duration!);
        const raised = st.irqs.filter((i) => i.raiseTs !== undefined);
        expect(x?.name, `${kind} ${id}`).toBe(st.names.join(', '));
        expect([n(x?.c), n(x?.s), n(x?.lo), n(x?.hi), n(x?.raised)], `${kind} ${id}`).toEqual([
          d.length,
          d.reduce((a, b) => a + b, 0),
          Math.min(...d),
          Math.max(...d),
          raised.length,
        ]);
        if (raised.length > 0)
          expect(n(x?.lat)).toBe(raised.reduce((a, i) => a + i.beginTs! - i.raiseTs!, 0));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(0);
    expect(rows.length).toBe(compared);
    const per = await sqlRows(
      path(),
      "SELECT CASE WHEN idle THEN -1 ELSE container_key END AS k, count(*) FILTER (WHERE kind = 'hard') AS hc, " +
        "coalesce(sum(dur) FILTER (WHERE kind = 'hard'), 0) AS hns, count(*) FILTER (WHERE kind = 'soft') AS sc, " +
        "coalesce(sum(dur) FILTER (WHERE kind = 'soft'), 0) AS sns FROM irq WHERE idle OR utid IS NOT NULL GROUP BY ALL",
    );
    expect(per.length).toBe(r.containers.length);
    for (const c of r.containers) {
      const k = c.container === undefined ? -1 : c.container.key;
      const x = per.find((y) => n(y.k) === k);
      expect([n(x?.hc), n(x?.hns), n(x?.sc), n(x?.sns)], c.container?.name ?? '[IDLE]').toEqual([
        c.hardCount,
        c.hardNs,
        c.softCount,
        c.softNs,
      ]);
    }
  });
});

describe('span', () => {
  it('the rows of nstrace spans, with their threads and containers', async () => {
    const [m] = machineInputs([SPANS]);
    const ts = m!.open();
    let run;
    try {
      run = await analyseSpans(Object.assign(ts, { streamRanges: () => streamRangesOf(ts) }), {
        begin: BENCH_BEGIN,
        end: BENCH_END,
        match: 'id',
      });
    } finally {
      ts.close();
    }
    const rows = await sqlRows(
      SPANS,
      'SELECT s.ts - (SELECT min(begin_ts) FROM machine) AS t, s.dur, s.on_cpu, s.waiting, s.idle_wait, s.blocked, s.unknown, ' +
        's.key, s.container, s.tid, t.tid AS ttid, s.preempted_ns FROM span s LEFT JOIN thread t USING (machine, utid) ORDER BY s.ts, s.key',
    );
    expect(run.rows.length).toBeGreaterThan(10);
    expect(rows.length).toBe(run.rows.length);
    const want = run.rows.map((r) => ({
      dur: r.span.end! - r.span.begin,
      on_cpu: r.span.onCpu,
      waiting: r.span.waiting,
      idle_wait: r.idleWait,
      blocked: r.span.blocked,
      unknown: r.span.unknown,
      key: r.span.key,
      container: r.owner.name,
      tid: r.span.thread?.tid,
      preempted_ns: r.preemptors[0]?.ns ?? null,
    }));
    const got = rows.map((r) => ({
      dur: n(r.dur),
      on_cpu: n(r.on_cpu),
      waiting: n(r.waiting),
      idle_wait: n(r.idle_wait),
      blocked: n(r.blocked),
      unknown: n(r.unknown),
      key: r.key,
      container: r.container,
      tid: n(r.tid),
      preempted_ns: r.preempted_ns === null ? null : n(r.preempted_ns),
    }));
    const byKey = (a: { key: unknown }, b: { key: unknown }): number => Number(a.key) - Number(b.key);
    expect(got.sort(byKey)).toEqual(want.sort(byKey));
    // Every span's thread is a lifetime of its tid in the thread table.
    for (const r of rows) expect(n(r.ttid)).toBe(n(r.tid));
  });
});

describe('process and syscall arguments', () => {
  it('processes group the threads by pid and leader lifetime', async () => {
    const rows = await sqlRows(
      DEMO,
      'SELECT (SELECT count(*) FROM thread WHERE pid IS NOT NULL) AS with_pid, (SELECT count(*) FROM thread WHERE upid IS NULL) AS without, ' +
        '(SELECT count(*) FROM thread WHERE pid IS NULL) AS no_pid, (SELECT sum(threads) FROM process) AS grouped, ' +
        '(SELECT count(*) FROM thread t JOIN process p USING (machine, upid) WHERE t.pid <> p.pid) AS wrong, ' +
        '(SELECT count(*) FROM process p JOIN thread t ON t.machine = p.machine AND t.utid = p.leader_utid WHERE t.tid <> p.pid) AS bad_leader, ' +
        "(SELECT count(*) FROM process WHERE container <> '[HOST]') AS in_containers",
    );
    const x = rows[0]!;
    expect(n(x.grouped)).toBe(n(x.with_pid));
    expect(n(x.without)).toBe(n(x.no_pid));
    expect([n(x.wrong), n(x.bad_leader)]).toEqual([0, 0]);
    expect(n(x.in_containers)).toBeGreaterThan(0);
  });

  it("string_args are the entry's string fields", async () => {
    const rows = await sqlRows(
      DEMO,
      "SELECT count(*) AS calls, count(*) FILTER (WHERE (s.string_args->>'$.filename') = (e.payload->>'$.filename')) AS same " +
        "FROM syscall s LEFT JOIN event e ON e.ts = s.ts AND e.name = 'syscall_entry_openat' " +
        "AND (e.context->>'$.tid')::INTEGER = s.tid WHERE s.name = 'openat'",
      ['syscall', 'event'],
    );
    expect(n(rows[0]!.calls)).toBeGreaterThan(10);
    expect(n(rows[0]!.same)).toBe(n(rows[0]!.calls));
    const none = await sqlRows(DEMO, "SELECT count(string_args) AS n FROM syscall WHERE name = 'read'");
    expect(n(none[0]!.n)).toBe(0);
  });
});

describe('the CLI: irqstats --mi, iolatencystats --mi, spans --mi', () => {
  beforeAll(() => ensureBuilt());
  interface MiTable {
    class: string;
    data: Array<Array<Record<string, unknown>>>;
  }
  const mi = (args: string[]): MiTable[] => {
    const r = nstrace(args);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { results: MiTable[] }).results;
  };
  const sqlJson = (args: string[]): Row[] => {
    const r = nstrace(['sql', '--no-progress', '--format', 'json', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Row[];
  };

  it('irqstats', () => {
    const t = mi(['irqstats', '--mi', SIM]);
    const rows = sqlJson([
      SIM,
      'SELECT kind, irq, count(*) AS c, min(dur) AS lo, max(dur) AS hi FROM irq GROUP BY ALL',
    ]);
    let seen = 0;
    for (const [cls, kind] of [
      ['hard-stats', 'hard'],
      ['soft-stats', 'soft'],
    ]) {
      for (const row of t.find((x) => x.class === cls)!.data) {
        const x = rows.find((y) => y.kind === kind && n(y.irq) === n(row[0]!.nr));
        expect([n(x?.c), n(x?.lo), n(x?.hi)]).toEqual([n(row[1]!.value), n(row[2]!.value), n(row[4]!.value)]);
        seen++;
      }
    }
    expect(seen).toBe(rows.length);
  });

  it('iolatencystats', () => {
    const t = mi(['iolatencystats', '--mi', SIM]).find((x) => x.class === 'syscall-latency-stats')!;
    const rows = sqlJson([
      SIM,
      "SELECT op, count(*) AS c, min(dur) AS lo, max(dur) AS hi FROM io WHERE kind = 'syscall' GROUP BY ALL",
    ]);
    for (const row of t.data) {
      const op = String(row[0]!.value).toLowerCase();
      const x = rows.find((y) => y.op === op);
      const c = n(row[1]!.value);
      expect(n(x?.c ?? 0), op).toBe(c);
      if (c > 0) expect([n(x?.lo), n(x?.hi)], op).toEqual([n(row[2]!.value), n(row[4]!.value)]);
    }
  });

  it('spans', () => {
    const t = mi(['spans', '--begin', BENCH_BEGIN, '--end', BENCH_END, '--match', 'id', '--mi', SPANS]);
    const per = t.find((x) => x.class === 'per-container-spans')!;
    const rows = sqlJson([
      '--span-begin',
      BENCH_BEGIN,
      '--span-end',
      BENCH_END,
      '--span-match',
      'id',
      SPANS,
      'SELECT container, count(*) AS c, min(dur) AS lo, max(dur) AS hi FROM span GROUP BY ALL',
    ]);
    expect(rows.length).toBe(per.data.length);
    for (const row of per.data) {
      const x = rows.find((y) => y.container === row[0]!.name);
      expect([n(x?.c), n(x?.lo), n(x?.hi)], String(row[0]!.name)).toEqual([
        n(row[1]!.value),
        n(row[2]!.value),
        n(row[6]!.value),
      ]);
    }
  });
});
