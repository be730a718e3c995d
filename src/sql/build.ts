/**
 * Builds the tables of a trace set, one machine at a time: one pass of the analyses' runner
 * (cputop for the scheduling tables, syscallstats for the syscall table: same model, same time
 * range and stream intersection rules as the commands) with the `TableCollector` beside them,
 * then the rows as column arrays ready for DuckDB (absolute ns as BigInt, unknown as null).
 */
import type { MachineInput } from '../analyses/open.js';
import { machineInputs, streamRangesOf } from '../analyses/open.js';
import type { AnalysisName } from '../analyses/requirements.js';
import { analyse } from '../analyses/session.js';
import type { TimeBase } from '../ctf/event.js';
import type { Container } from '../model/containers.js';
import type { Machine } from '../model/machines.js';
import type { SystemModel } from '../model/model.js';
import { TableCollector } from './collect.js';
import type { TableName } from './schema.js';
import { TABLES } from './schema.js';

export type Cell = bigint | number | string | boolean | null;

/** One table's rows of one machine, column by column, in the schema's column order. */
export interface BuiltTable {
  readonly name: TableName;
  readonly columns: Cell[][];
  readonly rows: number;
}

export interface BuiltMachine {
  readonly id: string;
  readonly label: string;
  /** UTC day (YYYY-MM-DD) of the period begin, the `date=` partition of an export. */
  readonly date: string | null;
  readonly tables: BuiltTable[];
  readonly events: number;
  readonly warnings: string[];
}

export interface BuildOptions {
  begin?: string;
  end?: string;
  gmt?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** `vm-2b484679`: hostname and boot id prefix, safe in a Hive partition path. */
export function machineId(m: Machine): string {
  const raw = m.bootId === undefined ? m.name : `${m.name}-${m.bootId.slice(0, 8)}`;
  return raw.replace(/[^A-Za-z0-9._-]/g, '_');
}

function baseNs(b: TimeBase): bigint {
  return BigInt(b.seconds) * 1_000_000_000n + BigInt(b.ns);
}

/**
 * The machines below `paths`, one at a time (memory holds one machine's rows): the tables named
 * built, then handed to `use`.
 */
export async function buildTables(
  paths: readonly string[],
  tables: readonly TableName[],
  opts: BuildOptions,
  use: (m: BuiltMachine) => Promise<void>,
): Promise<BuiltMachine[]> {
  const out: BuiltMachine[] = [];
  for (const m of machineInputs(paths)) {
    const b = await buildMachine(m, tables, opts);
    await use(b);
    // Keep the summary, not the rows.
    out.push({ ...b, tables: b.tables.map((t) => ({ name: t.name, rows: t.rows, columns: [] })) });
  }
  return out;
}

async function buildMachine(
  m: MachineInput,
  tables: readonly TableName[],
  opts: BuildOptions,
): Promise<BuiltMachine> {
  const want = new Set(tables);
  const syscalls = want.has('syscall');
  const names: AnalysisName[] = ['cputop'];
  if (syscalls) names.push('syscallstats');
  const collector = new TableCollector({ slices: want.has('sched_slice'), syscalls });
  const ts = m.open();
  let result;
  try {
    result = await analyse(ts, names, {
      begin: opts.begin,
      end: opts.end,
      gmt: opts.gmt,
      // A trace without system calls still gives its scheduling tables (and an empty syscall table).
      partial: true,
      streamRanges: () => streamRangesOf(ts),
      onProgress: opts.onProgress,
      signal: opts.signal,
      extraHandlers: [collector],
    });
  } finally {
    ts.close();
  }
  const id = machineId(m.machine);
  const base = baseNs(result.base);
  const abs = (rel: number | undefined): bigint | null =>
    rel === undefined || Number.isNaN(rel) ? null : base + BigInt(rel);
  const model = result.model;
  const built: BuiltTable[] = [];
  const ctx: Ctx = { id, abs, model };
  for (const name of tables) {
    switch (name) {
      case 'machine':
        built.push(
          table('machine', [
            [id],
            [m.machine.name],
            [m.machine.bootId ?? null],
            [m.machine.traces.map((t) => t.dir).join(',')],
            [abs(result.summary.periodBegin)],
            [abs(result.summary.lastTs)],
            [BigInt(result.summary.events)],
            [BigInt(result.summary.discardedEvents)],
          ]),
        );
        break;
      case 'container':
        built.push(containerTable(ctx));
        break;
      case 'thread':
        built.push(threadTable(ctx));
        break;
      case 'sched_slice':
        built.push(sliceTable(ctx, collector));
        break;
      case 'syscall':
        built.push(syscallTable(ctx, collector));
        break;
    }
  }
  const begin = abs(result.summary.periodBegin);
  return {
    id,
    label: m.label,
    date: begin === null ? null : new Date(Number(begin / 1_000_000n)).toISOString().slice(0, 10),
    tables: built,
    events: result.summary.events,
    warnings: [...m.warnings, ...result.warnings],
  };
}

interface Ctx {
  readonly id: string;
  readonly abs: (rel: number | undefined) => bigint | null;
  readonly model: SystemModel;
}

function table(name: TableName, columns: Cell[][]): BuiltTable {
  const n = TABLES[name].columns.length;
  if (columns.length !== n)
    throw new Error(`table ${name}: ${columns.length} columns built, ${n} in the schema`);
  return { name, columns, rows: columns[0]!.length };
}

const orNull = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);
const bigOrNull = (v: number | undefined): bigint | null => (v === undefined ? null : BigInt(v));

function containerTable({ id, abs, model }: Ctx): BuiltTable {
  const list: Container[] = model.containers.all();
  return table('container', [
    list.map(() => id),
    list.map((c) => c.key),
    list.map((c) => c.id),
    list.map((c) => c.name),
    list.map((c) => c.label),
    list.map((c) => c.type),
    list.map((c) => c.image),
    list.map((c) => c.source),
    list.map((c) => bigOrNull(c.pidNs)),
    list.map((c) => c.pidNsList.join(',')),
    list.map((c) => (c.parent === undefined ? null : c.parent.key)),
    list.map((c) => abs(c.firstSeen)),
    list.map((c) => abs(c.lastSeen)),
    list.map((c) => abs(c.stoppedAt)),
    list.map((c) => c.threads.length),
  ]);
}

function threadTable({ id, abs, model }: Ctx): BuiltTable {
  const ts = model.allThreads;
  const ctr = ts.map((t) => model.containerOf(t));
  return table('thread', [
    ts.map(() => id),
    ts.map((t) => t.uid),
    ts.map((t) => t.tid),
    ts.map((t) => orNull(t.pid)),
    ts.map((t) => orNull(t.ppid)),
    ts.map((t) => t.comm),
    ts.map((t) => orNull(t.vtid)),
    ts.map((t) => orNull(t.vpid)),
    ts.map((t) => bigOrNull(t.pidNs)),
    ts.map((t) => orNull(t.pidNsLevel)),
    ctr.map((c) => c.key),
    ctr.map((c) => c.name),
    ts.map((t) => abs(t.born)),
    ts.map((t) => abs(t.exited)),
    ts.map((t) => abs(t.firstSeen)),
    ts.map((t) => abs(t.lastSeen)),
  ]);
}

/** Container key and name per thread uid (final binding). */
function containersByUid(model: SystemModel): { key: Int32Array; name: string[] } {
  const n = model.allThreads.length;
  const key = new Int32Array(n);
  const name: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const c = model.containerOf(model.allThreads[i]!);
    key[i] = c.key;
    name[i] = c.name;
  }
  return { key, name };
}

function sliceTable({ id, abs, model }: Ctx, col: TableCollector): BuiltTable {
  const s = col.slices;
  const n = s.ts.length;
  const byUid = containersByUid(model);
  const machine: Cell[] = new Array<Cell>(n).fill(id);
  const ts: Cell[] = new Array<Cell>(n);
  const dur: Cell[] = new Array<Cell>(n);
  const tid: Cell[] = new Array<Cell>(n);
  const ckey: Cell[] = new Array<Cell>(n);
  const cname: Cell[] = new Array<Cell>(n);
  for (let i = 0; i < n; i++) {
    const uid = s.uid[i]!;
    ts[i] = abs(s.ts[i]);
    dur[i] = BigInt(s.dur[i]!);
    tid[i] = model.allThreads[uid]!.tid;
    ckey[i] = byUid.key[uid]!;
    cname[i] = byUid.name[uid]!;
  }
  return table('sched_slice', [machine, s.cpu, ts, dur, s.uid, tid, ckey, cname, s.startKnown, s.endKnown]);
}

function syscallTable({ id, abs, model }: Ctx, col: TableCollector): BuiltTable {
  const s = col.syscalls;
  const n = s.ts.length;
  const byUid = containersByUid(model);
  const machine: Cell[] = new Array<Cell>(n).fill(id);
  const ts: Cell[] = new Array<Cell>(n);
  const dur: Cell[] = new Array<Cell>(n);
  const ret: Cell[] = new Array<Cell>(n);
  const tid: Cell[] = new Array<Cell>(n);
  const ckey: Cell[] = new Array<Cell>(n);
  const cname: Cell[] = new Array<Cell>(n);
  for (let i = 0; i < n; i++) {
    const uid = s.uid[i]!;
    ts[i] = abs(s.ts[i]);
    dur[i] = BigInt(s.dur[i]!);
    const r = s.ret[i]!;
    ret[i] = Number.isNaN(r) ? null : BigInt(r);
    tid[i] = model.allThreads[uid]!.tid;
    ckey[i] = byUid.key[uid]!;
    cname[i] = byUid.name[uid]!;
  }
  return table('syscall', [machine, s.cpu, ts, dur, s.name, ret, s.uid, tid, ckey, cname]);
}
