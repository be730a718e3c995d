/**
 * The table builders, one per table of the schema: the model's entities (machine, container,
 * process, thread), the collector's rows (sched_slice, thread_state, syscall, page_alloc, event),
 * the I/O and interrupt analyses' requests (src/sql/io-irq.ts) and the spans (src/sql/spans.ts).
 */
import type { Thread } from '../model/threads.js';
import type { SystemModel } from '../model/model.js';
import { PAGE_KINDS } from './collect.js';
import type { DictColumn, IntervalColumns, Typed } from './columns.js';
import { concat, NULL_I32 } from './columns.js';
import { ioTable, irqTable } from './io-irq.js';
import type { BuiltColumn, BuiltTable, Cell, Ctx } from './rows.js';
import { orNull, table } from './rows.js';
import type { TableName } from './schema.js';
import { spanTable } from './spans.js';

type Builder = (ctx: Ctx) => BuiltTable | Promise<BuiltTable>;

/** Column arrays of a list of objects, one getter per column. */
function columnsOf<T>(
  list: readonly T[],
  getters: Readonly<Record<string, (x: T) => Cell>>,
): Record<string, Cell[]> {
  const out: Record<string, Cell[]> = {};
  for (const [k, f] of Object.entries(getters)) out[k] = list.map(f);
  return out;
}

/** Process lifetimes: per thread uid its upid (-1: pid unknown), and the processes' threads. */
interface Processes {
  readonly upid: Int32Array;
  readonly procs: Array<{ pid: number; leader: Thread | undefined; threads: Thread[] }>;
}

const processCache = new WeakMap<SystemModel, Processes>();

/**
 * A thread with a known pid belongs to the lifetime of its leader (tid = pid) that had begun when
 * the thread began (the last one forked before it, or the one alive before the trace); without
 * such a leader, to the pid's process with no leader seen.
 */
function processes(model: SystemModel): Processes {
  const cached = processCache.get(model);
  if (cached !== undefined) return cached;
  const all = model.allThreads;
  const byTid = new Map<number, Thread[]>();
  for (const t of all) {
    const l = byTid.get(t.tid);
    if (l === undefined) byTid.set(t.tid, [t]);
    else l.push(t);
  }
  const upid = new Int32Array(all.length).fill(-1);
  const procs: Processes['procs'] = [];
  const keys = new Map<string, number>();
  for (const t of all) {
    const pid = t.pid;
    if (pid === undefined) continue;
    let leader: Thread | undefined;
    if (t.tid === pid) leader = t;
    else {
      const start = t.born ?? t.firstSeen;
      for (const l of byTid.get(pid) ?? [])
        if (l.pid === pid && (l.born === undefined || l.born <= start)) leader = l;
    }
    const key = leader === undefined ? `p${pid}` : `u${leader.uid}`;
    let u = keys.get(key);
    if (u === undefined) {
      u = procs.length;
      procs.push({ pid, leader, threads: [] });
      keys.set(key, u);
    }
    procs[u]!.threads.push(t);
    upid[t.uid] = u;
  }
  const r = { upid, procs };
  processCache.set(model, r);
  return r;
}

function processTable(ctx: Ctx): BuiltTable {
  const m = ctx.model;
  const ps = processes(m).procs;
  const main = (p: Processes['procs'][number]): Thread => p.leader ?? p.threads[0]!;
  return table(ctx, 'process', {
    upid: ps.map((_, i) => i),
    ...columnsOf(ps, {
      pid: (p) => p.pid,
      leader_utid: (p) => (p.leader === undefined ? null : p.leader.uid),
      ppid: (p) => orNull(main(p).ppid),
      name: (p) => p.leader?.comm || p.threads[0]!.comm,
      vpid: (p) => orNull(main(p).vpid),
      pid_ns: (p) => orNull(main(p).pidNs),
      container_key: (p) => m.containerOf(main(p)).key,
      container: (p) => m.containerOf(main(p)).name,
      born: (p) => orNull(p.leader?.born),
      exited: (p) => orNull(p.leader?.exited),
      threads: (p) => p.threads.length,
    }),
  });
}

function threadTable(ctx: Ctx): BuiltTable {
  const model = ctx.model;
  const upid = processes(model).upid;
  return table(
    ctx,
    'thread',
    columnsOf(model.allThreads, {
      utid: (t) => t.uid,
      upid: (t) => (upid[t.uid]! < 0 ? null : upid[t.uid]!),
      tid: (t) => t.tid,
      pid: (t) => orNull(t.pid),
      ppid: (t) => orNull(t.ppid),
      comm: (t) => t.comm,
      vtid: (t) => orNull(t.vtid),
      vpid: (t) => orNull(t.vpid),
      pid_ns: (t) => orNull(t.pidNs),
      pid_ns_level: (t) => orNull(t.pidNsLevel),
      container_key: (t) => model.containerOf(t).key,
      container: (t) => model.containerOf(t).name,
      born: (t) => orNull(t.born),
      exited: (t) => orNull(t.exited),
      first_seen: (t) => t.firstSeen,
      last_seen: (t) => t.lastSeen,
    }),
  );
}

function machineTable(ctx: Ctx): BuiltTable {
  const mc = ctx.input.machine;
  const s = ctx.result.summary;
  return table(ctx, 'machine', {
    name: [mc.name],
    boot_id: [mc.bootId ?? null],
    traces: [mc.traces.map((t) => t.dir).join(',')],
    begin_ts: [orNull(s.periodBegin)],
    end_ts: [orNull(s.lastTs)],
    events: [s.events],
    lost_events: [s.discardedEvents],
    skipped_events: [s.kernelSkipped],
  });
}

function namespaceTable(ctx: Ctx): BuiltTable {
  const reg = ctx.model.namespaces;
  const byPidNs = new Map<number, number>();
  for (const c of ctx.model.containers.all()) for (const n of c.pidNsList) byPidNs.set(n, c.key);
  // The initial pid namespace is the host's (key 0) unless a container claims it.
  if (!byPidNs.has(reg.hostPidNs)) byPidNs.set(reg.hostPidNs, 0);
  const rows: Array<{ type: string; inum: number; level: number | undefined; parent: number | undefined }> =
    [];
  for (const [type, map] of [
    ['pid', reg.pid],
    ['user', reg.user],
  ] as const) {
    for (const n of map.values()) rows.push({ type, inum: n.inum, level: n.level, parent: n.parent });
  }
  for (const [type, set] of Object.entries(reg.seen)) {
    for (const inum of set) {
      if (type === 'user' && reg.user.has(inum)) continue;
      rows.push({ type, inum, level: undefined, parent: undefined });
    }
  }
  rows.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.inum - b.inum));
  return table(
    ctx,
    'namespace',
    columnsOf(rows, {
      type: (r) => r.type,
      inum: (r) => r.inum,
      level: (r) => orNull(r.level),
      parent: (r) => orNull(r.parent),
      container_key: (r) => (r.type === 'pid' ? orNull(byPidNs.get(r.inum)) : null),
    }),
  );
}

function containerTable(ctx: Ctx): BuiltTable {
  return table(
    ctx,
    'container',
    columnsOf(ctx.model.containers.all(), {
      container_key: (c) => c.key,
      id: (c) => c.id,
      name: (c) => c.name,
      label: (c) => c.label,
      type: (c) => c.type,
      image: (c) => c.image,
      source: (c) => c.source,
      pid_ns: (c) => orNull(c.pidNs),
      pid_ns_list: (c) => c.pidNsList.join(','),
      parent_key: (c) => (c.parent === undefined ? null : c.parent.key),
      first_seen: (c) => orNull(c.firstSeen),
      last_seen: (c) => orNull(c.lastSeen),
      stopped_at: (c) => orNull(c.stoppedAt),
      threads: (c) => c.threads.length,
    }),
  );
}

/** The columns every collected interval has. */
const timed = (s: IntervalColumns): Record<string, Typed> => ({
  cpu: s.cpu.values(),
  ts: s.ts.values(),
  dur: s.dur.values(),
  utid: s.uid.values(),
});

const dict = (c: DictColumn): BuiltColumn => ({ values: c.codes.values(), dict: c.strings });

function sliceTable(ctx: Ctx): BuiltTable {
  const s = ctx.collector.slices;
  return table(ctx, 'sched_slice', {
    ...timed(s),
    start_known: s.startKnown.values(),
    end_known: s.endKnown.values(),
  });
}

const f64 = (n: number): Float64Array => new Float64Array(n);
const i32 = (n: number): Int32Array => new Int32Array(n);
const u8 = (n: number): Uint8Array => new Uint8Array(n);

/** The slices as Running rows, then the other states (src/sql/states.ts). */
function stateTable(ctx: Ctx): BuiltTable {
  const s = ctx.collector.slices;
  const r = ctx.collector.states!.rows;
  const n = s.ts.length;
  const m = r.ts.length;
  // Code 0: Running; the other states' codes after it.
  const state = r.state.codes.array().map((c) => c + 1);
  return table(ctx, 'thread_state', {
    ts: concat(f64, s.ts.array(), r.ts.array()),
    dur: concat(f64, s.dur.array(), r.dur.array()),
    utid: concat(i32, s.uid.array(), r.uid.array()),
    state: { values: concat(i32, i32(n), state), dict: ['Running', ...r.state.strings] },
    cpu: concat(i32, s.cpu.array(), r.cpu.array()),
    wakeup: concat(u8, u8(n), r.wakeup.array()),
    waker_utid: concat(i32, i32(n).fill(NULL_I32), r.waker.array()),
    prev_state: concat(f64, f64(n).fill(NaN), r.prevState.array()),
    start_known: concat(u8, s.startKnown.array(), u8(m).fill(1)),
    end_known: concat(u8, s.endKnown.array(), r.endKnown.array()),
  });
}

function syscallTable(ctx: Ctx): BuiltTable {
  const s = ctx.collector.syscalls;
  return table(ctx, 'syscall', {
    ...timed(s),
    name: dict(s.name),
    ret: s.ret.values(),
    string_args: dict(s.args),
  });
}

function pageTable(ctx: Ctx): BuiltTable {
  const p = ctx.collector.pages;
  return table(ctx, 'page_alloc', {
    cpu: p.cpu.values(),
    ts: p.ts.values(),
    kind: { values: p.kind.values(), dict: PAGE_KINDS },
    utid: p.uid.values(),
  });
}

function eventTable(ctx: Ctx): BuiltTable {
  const e = ctx.events!;
  const c = e.columns;
  return table(ctx, 'event', {
    ts: c.ts.values(),
    cpu: c.cpu.values(),
    name: { values: c.name.values(), dict: e.names.strings },
    context: c.context,
    payload: c.payload,
  });
}

export const BUILDERS: Readonly<Record<TableName, Builder>> = {
  machine: machineTable,
  container: containerTable,
  namespace: namespaceTable,
  process: processTable,
  thread: threadTable,
  sched_slice: sliceTable,
  thread_state: stateTable,
  syscall: syscallTable,
  page_alloc: pageTable,
  io: ioTable,
  irq: irqTable,
  span: spanTable,
  event: eventTable,
};
