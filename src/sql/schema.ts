/**
 * The relational schema of a trace set (docs/sql.md): what `nstrace sql` loads into DuckDB and
 * `nstrace export` writes as Parquet. Timestamps are absolute nanoseconds since the Unix epoch
 * (BIGINT), durations nanoseconds. Every table has a `machine` column (src/model/machines.ts)
 * so that the tables of several machines live side by side; `utid` and `container_key` are
 * per machine (join on `(machine, utid)`, `(machine, container_key)`).
 */

/** How a column's values are held before loading (see `Table`). */
export type ColumnKind =
  /** ns relative to the trace set base (a JS number): loaded as absolute ns, BIGINT. */
  | 'ts'
  /** A duration or other integer of ns (a JS number): BIGINT. */
  | 'bigint'
  | 'integer'
  | 'varchar'
  | 'boolean';

export interface ColumnDef {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly doc: string;
}

export interface TableDef {
  readonly name: TableName;
  readonly doc: string;
  readonly columns: readonly ColumnDef[];
}

export const TABLE_NAMES = [
  'machine',
  'container',
  'thread',
  'sched_slice',
  'syscall',
  'page_alloc',
  'event',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/**
 * What `nstrace export` writes unless told (`--tables`): every table but `event`, which holds
 * every event as JSON text (4x slower to build and 4x the memory of the others together: opt in).
 */
export const DEFAULT_EXPORT_TABLES: readonly TableName[] = TABLE_NAMES.filter((t) => t !== 'event');

const c = (name: string, kind: ColumnKind, doc: string): ColumnDef => ({ name, kind, doc });
const MACHINE = c('machine', 'varchar', 'machine id: hostname and boot id prefix (`vm-2b484679`)');

export const TABLES: Readonly<Record<TableName, TableDef>> = {
  machine: {
    name: 'machine',
    doc: 'one row per machine (traces grouped by clock UUID = boot id)',
    columns: [
      MACHINE,
      c('name', 'varchar', 'hostname of its kernel trace (else of its first trace with one; `unknown`)'),
      c('boot_id', 'varchar', 'clock UUID of its traces (LTTng: the boot id); NULL when they give none'),
      c('traces', 'varchar', 'trace directories, comma-separated'),
      c('begin_ts', 'ts', 'first event of the analysed period'),
      c('end_ts', 'ts', 'last event of the analysed period'),
      c('events', 'bigint', 'events read in the period'),
      c('lost_events', 'bigint', 'events the tracer reported lost'),
    ],
  },
  container: {
    name: 'container',
    doc: 'containers (the host is container_key 0, name [HOST]) as the model binds threads to them',
    columns: [
      MACHINE,
      c('container_key', 'integer', 'per-machine key (0: the host)'),
      c('id', 'varchar', 'runtime id (or the pid namespace inode when no container event named it)'),
      c('name', 'varchar', 'container name, as in the per-container tables'),
      c('label', 'varchar', '`name (pid_ns)` as cputop labels it'),
      c('type', 'varchar', 'docker, podman, lxc, nspawn, host, unknown, ...'),
      c('image', 'varchar', 'image, when a container event gave it (else empty)'),
      c('source', 'varchar', 'how the model learned it: host, event, namespace'),
      c('pid_ns', 'bigint', 'latest pid namespace inode (NULL: unknown)'),
      c('pid_ns_list', 'varchar', 'every pid namespace inode it had, comma-separated'),
      c('parent_key', 'integer', 'container_key of the parent pid namespace (nested), NULL: host'),
      c('first_seen', 'ts', 'first sign of life in the trace (NULL: none)'),
      c('last_seen', 'ts', 'last sign of life in the trace (NULL: none)'),
      c('stopped_at', 'ts', 'stop event time, when seen'),
      c('threads', 'integer', 'thread lifetimes bound to it'),
    ],
  },
  thread: {
    name: 'thread',
    doc: 'one row per thread lifetime (utid: tids are reused); pid is the host tgid',
    columns: [
      MACHINE,
      c('utid', 'integer', 'per-machine synthetic id of the thread lifetime'),
      c('tid', 'integer', 'host tid'),
      c('pid', 'integer', 'host pid (tgid), NULL: unknown'),
      c('ppid', 'integer', 'host pid of the parent, NULL: unknown'),
      c('comm', 'varchar', 'last command name (empty: unknown)'),
      c('vtid', 'integer', 'tid in its own pid namespace, NULL: unknown'),
      c('vpid', 'integer', 'pid in its own pid namespace, NULL: unknown'),
      c('pid_ns', 'bigint', 'inode of its pid namespace, NULL: unknown'),
      c('pid_ns_level', 'integer', 'nesting level of its pid namespace (0: host), NULL: unknown'),
      c('container_key', 'integer', 'its container (final binding, as the analyses use)'),
      c('container', 'varchar', 'its container name'),
      c('born', 'ts', 'fork time, NULL: before the trace'),
      c('exited', 'ts', 'sched_process_exit time, NULL: not seen'),
      c('first_seen', 'ts', 'first time the model saw it'),
      c('last_seen', 'ts', 'last time the model saw it'),
    ],
  },
  sched_slice: {
    name: 'sched_slice',
    doc:
      'CPU time of each thread between its switch in and its switch out, charged as cputop charges ' +
      'it (per-container sums equal `cputop --mi` Per-Container Usage)',
    columns: [
      MACHINE,
      c(
        'cpu',
        'integer',
        'CPU it ran on (of the switch in; of the switch out when the start is the period begin)',
      ),
      c('ts', 'ts', 'start: switch in, or the period begin (start_known false)'),
      c('dur', 'bigint', 'ns'),
      c('utid', 'integer', 'thread lifetime'),
      c('tid', 'integer', 'host tid'),
      c('container_key', 'integer', "the thread's container"),
      c('container', 'varchar', "the thread's container name"),
      c(
        'start_known',
        'boolean',
        'false: the thread was running when the period began (lttng-analyses charges it from there)',
      ),
      c(
        'end_known',
        'boolean',
        'false: still running at the end of the period (charged up to the last event)',
      ),
    ],
  },
  syscall: {
    name: 'syscall',
    doc: 'system calls, entry and exit joined, counted as syscallstats counts them (calls with an exit)',
    columns: [
      MACHINE,
      c('cpu', 'integer', 'CPU of the exit'),
      c('ts', 'ts', 'entry time'),
      c('dur', 'bigint', 'exit - entry, ns'),
      c('name', 'varchar', 'syscall name without syscall_entry_/sys_'),
      c('ret', 'bigint', 'return value, NULL: the exit event has none'),
      c('utid', 'integer', 'thread lifetime'),
      c('tid', 'integer', 'host tid'),
      c('container_key', 'integer', "the thread's container"),
      c('container', 'varchar', "the thread's container name"),
    ],
  },
  page_alloc: {
    name: 'page_alloc',
    doc:
      'page allocations and frees (kmem_mm_page_alloc/free), one page per event, charged as memtop ' +
      'charges them (per-container counts of charged rows equal memtop)',
    columns: [
      MACHINE,
      c('cpu', 'integer', 'CPU of the event; NULL when memtop charges no thread'),
      c('ts', 'ts', 'event time'),
      c('kind', 'varchar', 'alloc or free'),
      c(
        'utid',
        'integer',
        "the CPU's current thread; NULL: not charged (current thread unknown, or a free before any alloc)",
      ),
      c('tid', 'integer', 'host tid (NULL: not charged)'),
      c('container_key', 'integer', "the thread's container (NULL: not charged)"),
      c('container', 'varchar', "the thread's container name (NULL: not charged)"),
    ],
  },
  event: {
    name: 'event',
    doc:
      'every event of the analysed period, its context and payload fields as JSON text ' +
      "(json_extract_string(payload, '$.prev_comm'), payload->>'$.ret')",
    columns: [
      MACHINE,
      c('ts', 'ts', 'event time'),
      c('cpu', 'integer', "cpu_id of the event's packet (NULL: the stream has none)"),
      c('name', 'varchar', 'event name as the metadata gives it'),
      c('context', 'varchar', 'stream and event context fields, a JSON object (NULL: none)'),
      c('payload', 'varchar', 'payload fields, a JSON object (NULL: none)'),
    ],
  },
};

/** DuckDB type of a column kind. */
export function sqlType(kind: ColumnKind): string {
  switch (kind) {
    case 'ts':
    case 'bigint':
      return 'BIGINT';
    case 'integer':
      return 'INTEGER';
    case 'varchar':
      return 'VARCHAR';
    case 'boolean':
      return 'BOOLEAN';
  }
}

/** `CREATE TABLE` statement of a table. */
export function createStatement(def: TableDef): string {
  return `CREATE TABLE ${def.name} (${def.columns.map((col) => `${col.name} ${sqlType(col.kind)}`).join(', ')})`;
}

/**
 * The tables of the schema a query names (cheap: identifiers outside string literals and
 * comments; a name used as a column elsewhere loads its table too, which is harmless).
 */
export function tablesOfQuery(query: string): TableName[] {
  const stripped = query
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''");
  const words = new Set<string>();
  for (const m of stripped.matchAll(/"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_]*)/g)) {
    words.add((m[1] ?? m[2]!).toLowerCase());
  }
  return TABLE_NAMES.filter((t) => words.has(t));
}
