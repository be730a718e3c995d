/**
 * The relational schema of a trace set (docs/sql.md): what `nstrace sql` loads into DuckDB and
 * `nstrace export` writes as Parquet. Timestamps are absolute nanoseconds since the Unix epoch
 * (BIGINT), durations nanoseconds. Every table has a `machine` column (src/model/machines.ts)
 * so that the tables of several machines live side by side; `utid`, `upid` and `container_key`
 * are per machine (join on `(machine, utid)`, `(machine, upid)`, `(machine, container_key)`).
 *
 * Each table is described once, as text: one line per column (`name kind meaning`); a line with
 * a name only takes the shared column of that name (`SHARED`), and `@thread` stands for the
 * columns of the row's thread (`utid`, then `tid`, `container_key`, `container` looked up from it).
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

/** A column whose values come from the row's `utid` (the builders do not give them). */
export type ThreadColumn = 'tid' | 'container_key' | 'container';

export interface ColumnDef {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly doc: string;
  readonly ofThread?: ThreadColumn;
}

export interface TableDef {
  readonly name: TableName;
  readonly doc: string;
  readonly columns: readonly ColumnDef[];
}

export const TABLE_NAMES = [
  'machine',
  'container',
  'namespace',
  'process',
  'thread',
  'sched_slice',
  'thread_state',
  'syscall',
  'page_alloc',
  'io',
  'irq',
  'span',
  'event',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/**
 * What `nstrace export` writes unless told (`--tables`): every table but these, opt-in: `event`
 * (every event as JSON text: 4x slower to build and 4x the memory of the others together),
 * `thread_state` (a row per state change: +20% of the export's CPU time on the benchmark trace),
 * `io` (it runs the I/O analyses' process table, which costs time and adds the process leaders it
 * knows to `thread`), and `span` (it needs its begin and end events named).
 */
export const OPT_IN_EXPORT_TABLES: readonly TableName[] = ['event', 'thread_state', 'io', 'span'];
export const DEFAULT_EXPORT_TABLES: readonly TableName[] = TABLE_NAMES.filter(
  (t) => !OPT_IN_EXPORT_TABLES.includes(t),
);

const KINDS: readonly ColumnKind[] = ['ts', 'bigint', 'integer', 'varchar', 'boolean'];

/** Columns that several tables share, described once. */
const SHARED = `
machine        varchar  machine id: hostname and boot id prefix (\`vm-3c7dff94\`)
utid           integer  thread lifetime (join thread USING (machine, utid))
tid            integer  host tid
container_key  integer  the thread's container (its final binding, as the analyses use; NULL: none)
container      varchar  the thread's container name
dur            bigint   ns
start_known    boolean  false: the row starts at the period begin (the state before is not in the trace)
end_known      boolean  false: still so at the end of the period (dur runs to the last event)
`;

function parseLines(text: string): ColumnDef[] {
  const out: ColumnDef[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (l === '') continue;
    const m = /^(\S+)(?:\s+(\S+)\s+(.*))?$/.exec(l)!;
    const [, name, kind, doc] = m;
    if (kind === undefined) {
      if (name === '@thread') {
        out.push(shared('utid'));
        for (const t of ['tid', 'container_key', 'container'] as const)
          out.push({ ...shared(t), ofThread: t });
      } else out.push(shared(name!));
      continue;
    }
    if (!(KINDS as readonly string[]).includes(kind)) throw new Error(`schema: ${name}: no kind ${kind}`);
    out.push({ name: name!, kind: kind as ColumnKind, doc: doc! });
  }
  return out;
}

const SHARED_COLUMNS = new Map(parseLines(SHARED).map((c) => [c.name, c]));

function shared(name: string): ColumnDef {
  const c = SHARED_COLUMNS.get(name);
  if (c === undefined) throw new Error(`schema: no shared column ${name}`);
  return c;
}

/** Table docs, then their columns after `machine` (see the file comment). */
const SPECS: Record<TableName, readonly [string, string]> = {
  machine: [
    'one row per machine (traces grouped by clock UUID = boot id)',
    `
name         varchar  hostname of its kernel trace (else of its first trace with one; \`unknown\`)
boot_id      varchar  clock UUID of its traces (LTTng: the boot id); NULL when they give none
traces       varchar  trace directories, comma-separated
begin_ts     ts       first event of the analysed period
end_ts       ts       last event of the analysed period
events       bigint   events read in the period
lost_events     bigint   events the tracer reported lost
skipped_events  bigint   events the kernel skipped (bpf recorder's nstrace_kernel_skipped markers: at no known time or CPU)`,
  ],
  namespace: [
    'namespaces the trace shows (stream contexts, statedump, fork events), one row per type and inode',
    `
type           varchar  pid, user, mnt, net, uts, ipc, cgroup, time
inum           bigint   its inode (as the _<type>_ns contexts give it)
level          integer  nesting level, 0 = the initial one (pid and user only; NULL: unknown)
parent         bigint   inode of the parent namespace (pid and user only; NULL: unknown or none)
container_key  integer  container whose pid namespace it is, now or before a restart; 0: the host's (pid only; NULL: none)`,
  ],
  container: [
    'containers (the host is container_key 0, name [HOST]) as the model binds threads to them',
    `
container_key  integer  per-machine key (0: the host)
id             varchar  runtime id (or the pid namespace inode when no container event named it)
name           varchar  container name, as in the per-container tables
label          varchar  \`name (pid_ns)\` as cputop labels it
type           varchar  docker, podman, lxc, nspawn, host, unknown, ...
image          varchar  image, when a container event gave it (else empty)
source         varchar  how the model learned it: host, event, namespace
pid_ns         bigint   latest pid namespace inode (NULL: unknown)
pid_ns_list    varchar  every pid namespace inode it had, comma-separated
parent_key     integer  container_key of the parent pid namespace (nested), NULL: host
first_seen     ts       first sign of life in the trace (NULL: none)
last_seen      ts       last sign of life in the trace (NULL: none)
stopped_at     ts       stop event time, when seen
threads        integer  thread lifetimes bound to it`,
  ],
  process: [
    'one row per process lifetime (upid): the threads sharing a host pid while one lifetime of its leader (tid = pid) lasts',
    `
upid           integer  per-machine synthetic id of the process lifetime
pid            integer  host pid (tgid)
leader_utid    integer  the leader thread's lifetime (NULL: the leader was not seen)
ppid           integer  host pid of the parent, NULL: unknown
name           varchar  the leader's command name (else its first thread's; empty: unknown)
vpid           integer  pid in its own pid namespace, NULL: unknown
pid_ns         bigint   inode of its pid namespace, NULL: unknown
container_key  integer  its container: the leader's (else its first thread's)
container      varchar  its container name
born           ts       the leader's fork time, NULL: before the trace or not seen
exited         ts       the leader's sched_process_exit time, NULL: not seen
threads        integer  thread lifetimes in it`,
  ],
  thread: [
    'one row per thread lifetime (utid: tids are reused); pid is the host tgid',
    `
utid           integer  per-machine synthetic id of the thread lifetime
upid           integer  its process lifetime (NULL: pid unknown)
tid            integer  host tid
pid            integer  host pid (tgid), NULL: unknown
ppid           integer  host pid of the parent, NULL: unknown
comm           varchar  last command name (empty: unknown)
vtid           integer  tid in its own pid namespace, NULL: unknown
vpid           integer  pid in its own pid namespace, NULL: unknown
pid_ns         bigint   inode of its pid namespace, NULL: unknown
pid_ns_level   integer  nesting level of its pid namespace (0: host), NULL: unknown
container_key  integer  its container (final binding, as the analyses use)
container      varchar  its container name
born           ts       fork time, NULL: before the trace
exited         ts       sched_process_exit time, NULL: not seen
first_seen     ts       first time the model saw it
last_seen      ts       last time the model saw it`,
  ],
  sched_slice: [
    'CPU time of each thread between its switch in and its switch out, charged as cputop charges ' +
      'it (per-container sums equal `cputop --mi` Per-Container Usage)',
    `
cpu          integer  CPU it ran on (of the switch in; of the switch out when the start is the period begin)
ts           ts       start: switch in, or the period begin (start_known false)
dur
@thread
start_known  boolean  false: the thread was running when the period began (lttng-analyses charges it from there)
end_known    boolean  false: still running at the end of the period (charged up to the last event)`,
  ],
  thread_state: [
    'the states of each thread over time, as Perfetto keeps them: Running rows are the sched_slice ' +
      'rows; a switch out starts the state its prev_state gives; a wakeup of a thread not running ' +
      'starts R (the first since its last switch in, as the sched analyses count latencies)',
    `
ts           ts       start of the state
dur
@thread
state        varchar  Running; R (runnable: woken up, or switched out runnable), R+ (preempted); S, D, T, t, X, Z, P, I (prev_state bits); ? (other prev_state)
cpu          integer  Running: its CPU; R+: the CPU it was preempted on; else NULL
wakeup       boolean  true: an R row begun by a wakeup (sched_waking/sched_wakeup/_new); it ends at the switch in: the scheduling latency
waker_utid   integer  wakeup rows: the thread running on the CPU of the wakeup (NULL: the CPU was idle or unknown)
prev_state   bigint   rows begun by a switch out: the raw prev_state (NULL: other rows)
start_known
end_known`,
  ],
  syscall: [
    'system calls, entry and exit joined, counted as syscallstats counts them (calls with an exit)',
    `
cpu          integer  CPU of the exit
ts           ts       entry time
dur          bigint   exit - entry, ns
name         varchar  syscall name without syscall_entry_/sys_
ret          bigint   return value, NULL: the exit event has none
@thread
string_args  varchar  the string arguments of the entry (filename, pathname, ...) as a JSON object; NULL: it has none`,
  ],
  page_alloc: [
    'page allocations and frees (kmem_mm_page_alloc/free), one page per event, charged as memtop ' +
      'charges them (per-container counts of charged rows equal memtop)',
    `
cpu   integer  CPU of the event; NULL when memtop charges no thread
ts    ts       event time
kind  varchar  alloc or free
@thread`,
  ],
  io: [
    'I/O requests as the I/O analyses count them (iolatencystats, iousagetop, iolog): system calls ' +
      'that open, read, write, close or sync a file descriptor, and completed block requests',
    `
kind       varchar  syscall or block
ts         ts       syscall entry, or block request issue
dur        bigint   to the syscall exit, or to the block request completion
op         varchar  open, read, write, close, sync (block: read or write)
syscall    varchar  system call name (NULL: block)
fd         integer  file descriptor (NULL: none, or block)
path       varchar  file of the fd, as the per-file table names it (NULL: unknown or none)
fd_type    varchar  disk, net or unknown: where iousagetop counts the bytes (NULL: not counted, or block)
size       bigint   bytes read or written (syscall: returned size; block: sectors x 512); NULL: none
errno      integer  syscall error number (NULL: success, or block)
@thread
disk       varchar  block: the disk (its name, or (major,minor)); NULL: syscall
sector     bigint   block: first sector
nr_sector  integer  block: sectors`,
  ],
  irq: [
    'hard and soft interrupts, counted as irqstats counts them (handlers with an entry and an exit)',
    `
cpu       integer  CPU of the interrupt
ts        ts       handler entry
dur       bigint   handler exit - entry, ns
kind      varchar  hard or soft
irq       integer  IRQ number, or softirq vector
name      varchar  hard: every handler name seen for the number (as irqstats); soft: the vector's name
raise_ts  ts       softirq raise time (NULL: hard, or no raise seen)
@thread
idle      boolean  the CPU was idle when the handler started (no thread interrupted)`,
  ],
  span: [
    'application spans (nstrace spans --begin/--end/--match: sql and export --span-begin/--span-end/--span-match), ' +
      'with what the kernel says their thread did meanwhile; NULL where nstrace spans prints ?',
    `
ts             ts       begin event
dur            bigint   end - begin, ns
utid           integer  the thread of the begin event (NULL: not found by the pid_ns/vtid join)
tid            integer  its host tid
pid_ns         bigint   pid namespace of the begin event (its context), NULL: none
vtid           integer  vtid of the begin event (its context), NULL: none
key            varchar  value of the --match field (NULL: no --match)
container_key  integer  the span's container, as nstrace spans attributes it (NULL: not a container of the container table)
container      varchar  its name (NULL: unknown)
covered        boolean  the kernel trace followed the thread over the whole span (else only the duration is known)
on_cpu         bigint   time on a CPU (NULL: not covered)
waiting        bigint   time runnable, waiting for a CPU (NULL: not covered)
idle_wait      bigint   of it, time the CPU it waited for was idle (NULL: not covered)
blocked        bigint   time blocked (NULL: not covered)
unknown        bigint   time the kernel trace cannot tell (not covered: the whole span)
preempted_by   varchar  the container that ran most while it waited (NULL: none or not covered)
preempted_ns   bigint   how long (NULL: none)
blocked_in     varchar  the system call it was blocked in longest (empty: outside one; NULL: none)`,
  ],
  event: [
    'every event of the analysed period, its context and payload fields as JSON text ' +
      "(json_extract_string(payload, '$.prev_comm'), payload->>'$.ret')",
    `
ts       ts       event time
cpu      integer  cpu_id of the event's packet (NULL: the stream has none)
name     varchar  event name as the metadata gives it
context  varchar  stream and event context fields, a JSON object (NULL: none)
payload  varchar  payload fields, a JSON object (NULL: none)`,
  ],
};

export const TABLES: Readonly<Record<TableName, TableDef>> = (() => {
  const out: Partial<Record<TableName, TableDef>> = {};
  for (const name of TABLE_NAMES) {
    const [doc, cols] = SPECS[name];
    out[name] = { name, doc, columns: [shared('machine'), ...parseLines(cols)] };
  }
  return out as Record<TableName, TableDef>;
})();

const SQL_TYPES: Record<ColumnKind, string> = {
  ts: 'BIGINT',
  bigint: 'BIGINT',
  integer: 'INTEGER',
  varchar: 'VARCHAR',
  boolean: 'BOOLEAN',
};

/** DuckDB type of a column kind. */
export function sqlType(kind: ColumnKind): string {
  return SQL_TYPES[kind];
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
