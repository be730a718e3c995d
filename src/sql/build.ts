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
import { MissingEventsError } from '../util/errors.js';
import { TableCollector } from './collect.js';
import { EventCollector } from './events.js';
import type { TableName } from './schema.js';
import { TABLES } from './schema.js';

/**
 * A value as held before loading: ns relative to the machine's base for `ts` columns, numbers
 * for `bigint`/`integer` columns (exact: below 2^53), codes into the column's dictionary for
 * dictionary-encoded `varchar` columns; null: unknown.
 */
export type Cell = number | string | boolean | null;

export type BuiltColumn =
  | {
      readonly values: readonly Cell[];
      /** Strings of a dictionary-encoded varchar column (values are indexes into it). */
      readonly dict?: readonly string[];
    }
  /** A column of the row's thread (`utid` column), looked up in `BuiltTable.threads`. */
  | { readonly ofThread: 'tid' | 'container_key' | 'container' };

/** Per thread uid (index): host tid and container key; container names by key. */
export interface ThreadInfo {
  readonly tid: Int32Array;
  readonly key: Int32Array;
  readonly names: readonly string[];
}

/**
 * One table's rows of one machine, column by column, in the schema's column order after
 * `machine` (constant per machine, not held per row).
 */
export interface BuiltTable {
  readonly name: TableName;
  readonly machine: string;
  /** Absolute ns of relative ts 0. */
  readonly base: bigint;
  readonly columns: BuiltColumn[];
  readonly rows: number;
  /** For `ofThread` columns. */
  readonly threads?: ThreadInfo;
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
  onSkip: (message: string) => void = () => undefined,
): Promise<BuiltMachine[]> {
  const out: BuiltMachine[] = [];
  const machines = machineInputs(paths);
  const missing: MissingEventsError[] = [];
  for (const m of machines) {
    let b: BuiltMachine;
    try {
      b = await buildMachine(m, tables, opts);
    } catch (e) {
      // One machine among several without the kernel events (a host that sent userspace traces
      // only): skipped, as the analysis commands skip it; an error when no machine has them.
      if (machines.length === 1 || !(e instanceof MissingEventsError)) throw e;
      missing.push(e);
      onSkip(`${m.label}: not loaded: ${e.message}`);
      continue;
    }
    await use(b);
    // Keep the summary, not the rows.
    out.push({ ...b, tables: b.tables.map((t) => ({ ...t, columns: [] })) });
  }
  if (missing.length === machines.length && missing[0] !== undefined) throw missing[0];
  return out;
}

async function buildMachine(
  m: MachineInput,
  tables: readonly TableName[],
  opts: BuildOptions,
): Promise<BuiltMachine> {
  const want = new Set(tables);
  const syscalls = want.has('syscall');
  const pages = want.has('page_alloc');
  const names: AnalysisName[] = ['cputop'];
  if (syscalls) names.push('syscallstats');
  if (pages) names.push('memtop');
  const collector = new TableCollector({ slices: want.has('sched_slice'), syscalls, pages });
  const events = want.has('event') ? new EventCollector() : undefined;
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
      extraHandlers: events === undefined ? [collector] : [collector, events],
    });
  } finally {
    ts.close();
  }
  const id = machineId(m.machine);
  const base = baseNs(result.base);
  const model = result.model;
  const built: BuiltTable[] = [];
  const ctx: Ctx = { id, base, model };
  for (const name of tables) {
    switch (name) {
      case 'machine':
        built.push(
          table(ctx, 'machine', [
            [m.machine.name],
            [m.machine.bootId ?? null],
            [m.machine.traces.map((t) => t.dir).join(',')],
            [orNull(result.summary.periodBegin)],
            [orNull(result.summary.lastTs)],
            [result.summary.events],
            [result.summary.discardedEvents],
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
      case 'event': {
        const e = events!.columns;
        built.push(
          table(ctx, 'event', [e.ts, e.cpu, { values: e.name, dict: events!.names }, e.context, e.payload]),
        );
        break;
      }
      case 'page_alloc': {
        const p = collector.pages;
        built.push(
          table(
            ctx,
            'page_alloc',
            [
              p.cpu.map((c) => (Number.isNaN(c) ? null : c)),
              p.ts,
              { values: p.alloc.map((a) => (a ? 0 : 1)), dict: ['alloc', 'free'] },
              p.uid.map((u) => (u < 0 ? null : u)),
              TID,
              KEY,
              NAME,
            ],
            threadInfo(ctx.model),
          ),
        );
        break;
      }
    }
  }
  const pb = result.summary.periodBegin;
  const begin = pb === undefined ? null : base + BigInt(pb);
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
  readonly base: bigint;
  readonly model: SystemModel;
}

function table(
  ctx: Ctx,
  name: TableName,
  columns: Array<Cell[] | BuiltColumn>,
  threads?: ThreadInfo,
): BuiltTable {
  const n = TABLES[name].columns.length - 1;
  if (columns.length !== n)
    throw new Error(`table ${name}: ${columns.length} columns built, ${n} in the schema`);
  const cols = columns.map((c) => (Array.isArray(c) ? { values: c } : (c as BuiltColumn)));
  const first = cols[0]!;
  const rows = 'values' in first ? first.values.length : 0;
  return { name, machine: ctx.id, base: ctx.base, columns: cols, rows, threads };
}

const orNull = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);

function containerTable(ctx: Ctx): BuiltTable {
  const list: Container[] = ctx.model.containers.all();
  return table(ctx, 'container', [
    list.map((c) => c.key),
    list.map((c) => c.id),
    list.map((c) => c.name),
    list.map((c) => c.label),
    list.map((c) => c.type),
    list.map((c) => c.image),
    list.map((c) => c.source),
    list.map((c) => orNull(c.pidNs)),
    list.map((c) => c.pidNsList.join(',')),
    list.map((c) => (c.parent === undefined ? null : c.parent.key)),
    list.map((c) => orNull(c.firstSeen)),
    list.map((c) => orNull(c.lastSeen)),
    list.map((c) => orNull(c.stoppedAt)),
    list.map((c) => c.threads.length),
  ]);
}

function threadTable(ctx: Ctx): BuiltTable {
  const model = ctx.model;
  const ts = model.allThreads;
  const ctr = ts.map((t) => model.containerOf(t));
  return table(ctx, 'thread', [
    ts.map((t) => t.uid),
    ts.map((t) => t.tid),
    ts.map((t) => orNull(t.pid)),
    ts.map((t) => orNull(t.ppid)),
    ts.map((t) => t.comm),
    ts.map((t) => orNull(t.vtid)),
    ts.map((t) => orNull(t.vpid)),
    ts.map((t) => orNull(t.pidNs)),
    ts.map((t) => orNull(t.pidNsLevel)),
    ctr.map((c) => c.key),
    ctr.map((c) => c.name),
    ts.map((t) => orNull(t.born)),
    ts.map((t) => orNull(t.exited)),
    ts.map((t) => t.firstSeen),
    ts.map((t) => t.lastSeen),
  ]);
}

/** Per thread uid: tid, container key; and the container names as a dictionary (by key). */
function threadInfo(model: SystemModel): ThreadInfo {
  const n = model.allThreads.length;
  const tid = new Int32Array(n);
  const key = new Int32Array(n);
  const names: string[] = [];
  for (const c of model.containers.all()) names[c.key] = c.name;
  for (let i = 0; i < n; i++) {
    const t = model.allThreads[i]!;
    const c = model.containerOf(t);
    tid[i] = t.tid;
    // The idle task (tid 0) is in no container, as in the analyses' per-container rows.
    key[i] = t.tid === 0 ? -1 : c.key;
    names[c.key] = c.name;
  }
  // Keys of merged containers (no longer listed) that no thread uses: no name needed.
  for (let k = 0; k < names.length; k++) names[k] ??= '';
  return { tid, key, names };
}

const TID = { ofThread: 'tid' } as const;
const KEY = { ofThread: 'container_key' } as const;
const NAME = { ofThread: 'container' } as const;

function sliceTable(ctx: Ctx, col: TableCollector): BuiltTable {
  const s = col.slices;
  return table(
    ctx,
    'sched_slice',
    [s.cpu, s.ts, s.dur, s.uid, TID, KEY, NAME, s.startKnown, s.endKnown],
    threadInfo(ctx.model),
  );
}

function syscallTable(ctx: Ctx, col: TableCollector): BuiltTable {
  const s = col.syscalls;
  const n = s.ts.length;
  const ret: Cell[] = new Array<Cell>(n);
  const names: string[] = [];
  const codes = new Map<string, number>();
  const name: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const r = s.ret[i]!;
    ret[i] = Number.isNaN(r) ? null : r;
    const nm = s.name[i]!;
    let code = codes.get(nm);
    if (code === undefined) {
      code = names.length;
      names.push(nm);
      codes.set(nm, code);
    }
    name[i] = code;
  }
  return table(
    ctx,
    'syscall',
    [s.cpu, s.ts, s.dur, { values: name, dict: names }, ret, s.uid, TID, KEY, NAME],
    threadInfo(ctx.model),
  );
}
