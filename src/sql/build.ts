/**
 * Builds the tables of a trace set, one machine at a time: one pass of the analyses' runner
 * (cputop for the scheduling tables, syscallstats for the syscall table, memtop, io and irq for
 * theirs: same model, same time range and stream intersection rules as the commands) with the
 * `TableCollector` beside them, then the rows as column arrays ready for DuckDB (ns relative to
 * the machine's base, unknown as null). The `span` table takes a pass of its own, the one
 * `nstrace spans` makes (src/sql/spans.ts).
 */
import type { MachineInput } from '../analyses/open.js';
import { machineInputs, streamRangesOf } from '../analyses/open.js';
import type { AnalysisName } from '../analyses/requirements.js';
import { analyse } from '../analyses/session.js';
import type { Machine } from '../model/machines.js';
import { MissingEventsError } from '../util/errors.js';
import { TableCollector } from './collect.js';
import { EventCollector } from './events.js';
import type { TableName } from './schema.js';
import type { BuildOptions, BuiltMachine, BuiltTable, Ctx, ThreadInfo } from './rows.js';
import { baseNs, threadInfo } from './rows.js';
import { BUILDERS } from './tables.js';

export type { BuildOptions, BuiltMachine } from './rows.js';

/** `vm-3c7dff94`: hostname and boot id prefix, safe in a Hive partition path. */
export function machineId(m: Machine): string {
  const raw = m.bootId === undefined ? m.name : `${m.name}-${m.bootId.slice(0, 8)}`;
  return raw.replace(/[^A-Za-z0-9._-]/g, '_');
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

/** The analyses each table needs in the pass, beyond cputop. */
const ANALYSES: Partial<Record<TableName, AnalysisName>> = {
  syscall: 'syscallstats',
  page_alloc: 'memtop',
  io: 'io',
  irq: 'irq',
};

async function buildMachine(
  m: MachineInput,
  tables: readonly TableName[],
  opts: BuildOptions,
): Promise<BuiltMachine> {
  const want = new Set(tables);
  const names: AnalysisName[] = ['cputop'];
  for (const t of tables) {
    const a = ANALYSES[t];
    if (a !== undefined && !names.includes(a)) names.push(a);
  }
  const collector = new TableCollector({
    slices: want.has('sched_slice'),
    syscalls: want.has('syscall'),
    pages: want.has('page_alloc'),
    states: want.has('thread_state'),
  });
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
      // The tables read the model's syscall and memory tracking, not these analyses' tables.
      trackOnly: ['syscallstats', 'memtop'],
    });
  } finally {
    ts.close();
  }
  const id = machineId(m.machine);
  const base = baseNs(result.base);
  let info: ThreadInfo | undefined;
  const warnings = [...m.warnings, ...result.warnings];
  const ctx: Ctx = {
    id,
    base,
    model: result.model,
    input: m,
    result,
    collector,
    events,
    opts,
    warnings,
    threads: () => (info ??= threadInfo(result.model)),
  };
  const built: BuiltTable[] = [];
  for (const name of tables) built.push(await BUILDERS[name](ctx));
  const pb = result.summary.periodBegin;
  const begin = pb === undefined ? null : base + BigInt(pb);
  return {
    id,
    label: m.label,
    date: begin === null ? null : new Date(Number(begin / 1_000_000n)).toISOString().slice(0, 10),
    tables: built,
    events: result.summary.events,
    warnings,
  };
}
