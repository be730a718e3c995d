/**
 * The LTTng kernel events the recorder writes, with their lttng-modules names and payload
 * layouts, and where each field comes from in the ftrace record of the same tracepoint.
 *
 * Layout facts come from lttng-modules' instrumentation headers (sched.h, irq.h, kmem.h,
 * block.h, net.h, lttng-statedump.h) and from the metadata of real lttng-modules traces.
 * See docs/record.md for what differs from lttng-modules and why.
 */

/** Where a payload field's value comes from. */
export type FieldSource =
  /** The ftrace field of that name (integers are narrowed/widened, text is copied). */
  | { from: string; add?: number }
  /** The `common_pid` of the record (the current task's tid). */
  | { common: 'pid' }
  /** A constant integer (fields ftrace does not have). */
  | { constant: number }
  /** The block-layer `rwbs` string turned into LTTng's RWBS_FLAG_* bit mask. */
  | { rwbs: string }
  /** An empty sequence (LTTng's `cmd` of block requests: SCSI commands ftrace does not give). */
  | { emptySeq: true }
  /** Filled by a handler that knows the thread table (fork). */
  | { special: string };

export interface LttngField {
  readonly name: string;
  readonly code: string;
  readonly src: FieldSource;
}

export interface LttngEventSpec {
  /** lttng-modules event name. */
  readonly name: string;
  /** ftrace `system:event` it is converted from. */
  readonly ftrace: string;
  readonly fields: readonly LttngField[];
}

const f = (name: string, code: string, src: FieldSource): LttngField => ({ name, code, src });
const same = (name: string, code: string): LttngField => f(name, code, { from: name });
/** lttng-modules reports `prio - MAX_RT_PRIO`; ftrace reports the raw `prio`. */
const prio = (name: string, from = name): LttngField => f(name, 'i32', { from, add: -100 });

/** Events of one layout under several names. */
const template =
  (...fields: LttngField[]) =>
  (name: string, ftrace: string): LttngEventSpec => ({ name, ftrace, fields: [...fields] });

const comm = same('comm', 'c16');
const tidOfPid = f('tid', 'i32', { from: 'pid' });
const tidCommon = f('tid', 'i32', { common: 'pid' });
/** The first fields of every block request and bio event. */
const blockSpan = [same('dev', 'u32'), same('sector', 'u64'), same('nr_sector', 'u32')];
const rwbs = f('rwbs', 'u32', { rwbs: 'rwbs' });
const noCmd = f('cmd', 'u8x[]', { emptySeq: true });

const wakeup = template(comm, tidOfPid, prio('prio'), same('target_cpu', 'i32'));
const procTemplate = template(comm, tidOfPid, prio('prio'));
const rqCompleteLike = template(...blockSpan, f('errors', 'i32', { from: 'error' }), rwbs, noCmd);
const rqIssueLike = template(...blockSpan, same('bytes', 'u32'), tidCommon, rwbs, noCmd, comm);
const bioMergeLike = template(...blockSpan, rwbs, tidCommon, comm);
const netSkb = template(same('skbaddr', 'u64x'), same('len', 'u32'), same('name', 's'));

/** Every event with an lttng-modules mapping, keyed by lttng name. */
export const LTTNG_EVENTS: readonly LttngEventSpec[] = [
  {
    name: 'sched_switch',
    ftrace: 'sched:sched_switch',
    fields: [
      same('prev_comm', 'c16'),
      f('prev_tid', 'i32', { from: 'prev_pid' }),
      prio('prev_prio'),
      same('prev_state', 'i64'),
      same('next_comm', 'c16'),
      f('next_tid', 'i32', { from: 'next_pid' }),
      prio('next_prio'),
    ],
  },
  wakeup('sched_wakeup', 'sched:sched_wakeup'),
  wakeup('sched_waking', 'sched:sched_waking'),
  wakeup('sched_wakeup_new', 'sched:sched_wakeup_new'),
  {
    name: 'sched_migrate_task',
    ftrace: 'sched:sched_migrate_task',
    fields: [
      same('comm', 'c16'),
      f('tid', 'i32', { from: 'pid' }),
      prio('prio'),
      same('orig_cpu', 'i32'),
      same('dest_cpu', 'i32'),
    ],
  },
  procTemplate('sched_process_free', 'sched:sched_process_free'),
  procTemplate('sched_process_exit', 'sched:sched_process_exit'),
  procTemplate('sched_wait_task', 'sched:sched_wait_task'),
  procTemplate('sched_process_wait', 'sched:sched_process_wait'),
  {
    name: 'sched_process_fork',
    ftrace: 'sched:sched_process_fork',
    fields: [
      f('parent_comm', 'c16', { from: 'parent_comm' }),
      f('parent_tid', 'i32', { from: 'parent_pid' }),
      f('parent_pid', 'i32', { special: 'parent_tgid' }),
      f('parent_ns_inum', 'u32', { special: 'parent_ns_inum' }),
      f('child_comm', 'c16', { from: 'child_comm' }),
      f('child_tid', 'i32', { from: 'child_pid' }),
      f('vtids', 'i32[u8]', { special: 'vtids' }),
      f('child_pid', 'i32', { special: 'child_tgid' }),
      f('child_ns_inum', 'u32', { special: 'child_ns_inum' }),
    ],
  },
  {
    name: 'sched_process_exec',
    ftrace: 'sched:sched_process_exec',
    fields: [
      same('filename', 's'),
      f('tid', 'i32', { from: 'pid' }),
      f('old_tid', 'i32', { from: 'old_pid' }),
    ],
  },
  {
    name: 'sched_pi_setprio',
    ftrace: 'sched:sched_pi_setprio',
    fields: [same('comm', 'c16'), f('tid', 'i32', { from: 'pid' }), prio('oldprio'), prio('newprio')],
  },
  {
    name: 'sched_stat_runtime',
    ftrace: 'sched:sched_stat_runtime',
    fields: [
      same('comm', 'c16'),
      f('tid', 'i32', { from: 'pid' }),
      same('runtime', 'u64'),
      f('vruntime', 'u64', { from: 'vruntime' }),
    ],
  },
  {
    name: 'irq_handler_entry',
    ftrace: 'irq:irq_handler_entry',
    fields: [same('irq', 'i32'), same('name', 's')],
  },
  {
    name: 'irq_handler_exit',
    ftrace: 'irq:irq_handler_exit',
    fields: [same('irq', 'i32'), same('ret', 'i32')],
  },
  { name: 'irq_softirq_entry', ftrace: 'irq:softirq_entry', fields: [same('vec', 'u32')] },
  { name: 'irq_softirq_exit', ftrace: 'irq:softirq_exit', fields: [same('vec', 'u32')] },
  { name: 'irq_softirq_raise', ftrace: 'irq:softirq_raise', fields: [same('vec', 'u32')] },
  {
    name: 'kmem_mm_page_alloc',
    ftrace: 'kmem:mm_page_alloc',
    fields: [
      f('page', 'u64x', { constant: 0 }),
      same('pfn', 'u64'),
      same('order', 'u32'),
      same('gfp_flags', 'u32'),
      same('migratetype', 'i32'),
    ],
  },
  {
    name: 'kmem_mm_page_free',
    ftrace: 'kmem:mm_page_free',
    fields: [f('page', 'u64x', { constant: 0 }), same('pfn', 'u64'), same('order', 'u32')],
  },
  {
    name: 'kmem_kmalloc',
    ftrace: 'kmem:kmalloc',
    fields: [
      same('call_site', 'u64x'),
      same('ptr', 'u64x'),
      same('bytes_req', 'u64'),
      same('bytes_alloc', 'u64'),
      same('gfp_flags', 'u32'),
    ],
  },
  { name: 'kmem_kfree', ftrace: 'kmem:kfree', fields: [same('call_site', 'u64x'), same('ptr', 'u64x')] },
  rqIssueLike('block_rq_issue', 'block:block_rq_issue'),
  rqIssueLike('block_rq_insert', 'block:block_rq_insert'),
  rqCompleteLike('block_rq_complete', 'block:block_rq_complete'),
  rqCompleteLike('block_rq_requeue', 'block:block_rq_requeue'),
  bioMergeLike('block_bio_queue', 'block:block_bio_queue'),
  bioMergeLike('block_bio_backmerge', 'block:block_bio_backmerge'),
  bioMergeLike('block_bio_frontmerge', 'block:block_bio_frontmerge'),
  bioMergeLike('block_getrq', 'block:block_getrq'),
  {
    name: 'block_bio_complete',
    ftrace: 'block:block_bio_complete',
    fields: [...blockSpan, same('error', 'i32'), rwbs],
  },
  {
    name: 'block_bio_remap',
    ftrace: 'block:block_bio_remap',
    fields: [...blockSpan, rwbs, same('old_dev', 'u32'), same('old_sector', 'u64')],
  },
  {
    name: 'net_dev_xmit',
    ftrace: 'net:net_dev_xmit',
    fields: [same('skbaddr', 'u64x'), same('rc', 'i32'), same('len', 'u32'), same('name', 's')],
  },
  netSkb('net_dev_queue', 'net:net_dev_queue'),
  netSkb('net_if_receive_skb', 'net:netif_receive_skb'),
  netSkb('net_if_rx', 'net:netif_rx'),
];

export const LTTNG_EVENT_BY_FTRACE: ReadonlyMap<string, LttngEventSpec> = new Map(
  LTTNG_EVENTS.map((e) => [e.ftrace, e]),
);
export const LTTNG_EVENT_BY_NAME: ReadonlyMap<string, LttngEventSpec> = new Map(
  LTTNG_EVENTS.map((e) => [e.name, e]),
);

/**
 * The payload of a `sched_switch` the kernel did not report (ADR 0161, ADR 0167): lttng-modules'
 * sched_switch fields, then `nstrace_inferred` (always 1) and `nstrace_prio_unobserved`, whose
 * bits say which priority no event of the task had shown when the switch was written (1:
 * prev_prio, 2: next_prio): such a priority is what /proc gave then, or 20 when the task was
 * gone, not a value observed at the switch.
 */
export function inferredSwitchFields(): Array<readonly [string, string]> {
  const spec = LTTNG_EVENT_BY_FTRACE.get('sched:sched_switch')!;
  const named: Array<readonly [string, string]> = spec.fields.map((f) => [f.name, f.code] as const);
  named.push(['nstrace_inferred', 'u8'], ['nstrace_prio_unobserved', 'u8']);
  return named;
}

/** `nstrace_prio_unobserved` bits. */
export const PRIO_UNOBSERVED_PREV = 1;
export const PRIO_UNOBSERVED_NEXT = 2;

/** Statedump events (written by the recorder from /proc, not converted from ftrace). */
export const STATEDUMP_EVENTS: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>> = {
  lttng_statedump_start: [],
  lttng_statedump_end: [],
  lttng_statedump_process_state: [
    ['tid', 'i32'],
    ['pid', 'i32'],
    ['ppid', 'i32'],
    ['name', 'c16'],
    ['type', 'i32'],
    ['mode', 'i32'],
    ['submode', 'i32'],
    ['status', 'i32'],
    ['cpu', 'u32'],
    ['file_table_address', 'u64x'],
  ],
  lttng_statedump_process_pid_ns: [
    ['tid', 'i32'],
    ['vtid', 'i32'],
    ['vpid', 'i32'],
    ['vppid', 'i32'],
    ['ns_level', 'i32'],
    ['ns_inum', 'u32'],
  ],
  lttng_statedump_process_user_ns: [
    ['tid', 'i32'],
    ['vuid', 'u32'],
    ['vgid', 'u32'],
    ['ns_level', 'i32'],
    ['ns_inum', 'u32'],
  ],
  lttng_statedump_process_cgroup_ns: [
    ['tid', 'i32'],
    ['ns_inum', 'u32'],
  ],
  lttng_statedump_process_ipc_ns: [
    ['tid', 'i32'],
    ['ns_inum', 'u32'],
  ],
  lttng_statedump_process_mnt_ns: [
    ['tid', 'i32'],
    ['ns_inum', 'u32'],
  ],
  lttng_statedump_process_net_ns: [
    ['tid', 'i32'],
    ['ns_inum', 'u32'],
  ],
  lttng_statedump_process_uts_ns: [
    ['tid', 'i32'],
    ['ns_inum', 'u32'],
  ],
  lttng_statedump_process_time_ns: [
    ['tid', 'i32'],
    ['ns_inum', 'u32'],
  ],
  lttng_statedump_file_descriptor: [
    ['file_table_address', 'u64x'],
    ['fd', 'i32'],
    ['flags', 'u32o'],
    ['fmode', 'u32x'],
    ['filename', 's'],
  ],
  lttng_statedump_block_device: [
    ['dev', 'u32'],
    ['diskname', 's'],
  ],
  lttng_statedump_network_interface: [
    ['name', 's'],
    ['address_ipv4', 'u32xbe'],
  ],
  lttng_statedump_interrupt: [
    ['irq', 'u32'],
    ['name', 's'],
    ['action', 's'],
    ['tid', 'i32'],
  ],
  lttng_statedump_cpu_topology: [
    ['architecture', 's'],
    ['cpu_id', 'u16'],
    ['vendor', 's'],
    ['family', 'u8'],
    ['model', 'u8'],
    ['model_name', 's'],
    ['physical_id', 'u16'],
    ['core_id', 'u16'],
    ['cores', 'u16'],
  ],
  /** A cgroup of the unified (v2) hierarchy: `id` as in the `cgroup_id` context, its path. */
  nstrace_statedump_cgroup: [
    ['id', 'u64'],
    ['path', 's'],
  ],
  // Not LTTng's (it has none): the CLOCK_MONOTONIC/BOOTTIME offsets of each time namespace, from
  // /proc/PID/timens_offsets, so that analyses put a container's userspace traces on the host's
  // clock (src/model/timens.ts).
  nstrace_statedump_timens: [
    ['ns_inum', 'u32'],
    ['monotonic_sec', 'i64'],
    ['monotonic_nsec', 'u32'],
    ['boottime_sec', 'i64'],
    ['boottime_nsec', 'u32'],
  ],
  nstrace_container_statedump: CONTAINER_FIELDS(),
  nstrace_container_start: CONTAINER_FIELDS(),
  nstrace_container_stop: CONTAINER_FIELDS(),
};

function CONTAINER_FIELDS(): ReadonlyArray<readonly [string, string]> {
  return [
    ['id', 's'],
    ['name', 's'],
    ['type', 's'],
    ['image', 's'],
    ['init_pid', 'i32'],
    ['pid_ns', 'u32'],
    ['user_ns', 'u32'],
    ['mnt_ns', 'u32'],
    ['net_ns', 'u32'],
    ['uts_ns', 'u32'],
    ['ipc_ns', 'u32'],
    ['cgroup_ns', 'u32'],
    ['time_ns', 'u32'],
    ['cgroup_path', 's'],
    ['pod_name', 's'],
    ['pod_namespace', 's'],
    ['pod_uid', 's'],
    ['started_at', 'i64'],
  ];
}

/** lttng-modules' RWBS_FLAG_* bits (include/instrumentation/events/block.h). */
export const RWBS = {
  WRITE: 1 << 0,
  DISCARD: 1 << 1,
  READ: 1 << 2,
  RAHEAD: 1 << 3,
  BARRIER: 1 << 4,
  SYNC: 1 << 5,
  META: 1 << 6,
  SECURE: 1 << 7,
  FLUSH: 1 << 8,
  FUA: 1 << 9,
  PREFLUSH: 1 << 10,
} as const;

/**
 * ftrace's rwbs text (`blk_fill_rwbs`: optional `F` preflush, the op letter W/R/D/DE/F/N, then
 * F (FUA), A (read-ahead), S (sync), M (meta)) to LTTng's bit mask.
 */
export function rwbsFromText(s: string): number {
  let i = 0;
  let v = 0;
  if (s.length > 1 && s[0] === 'F' && 'WRDFN'.includes(s[1]!)) {
    v |= RWBS.PREFLUSH;
    i = 1;
  }
  const op = s[i];
  i++;
  if (op === 'W') v |= RWBS.WRITE;
  else if (op === 'R') v |= RWBS.READ;
  else if (op === 'D') {
    v |= RWBS.DISCARD;
    if (s[i] === 'E') {
      v |= RWBS.SECURE;
      i++;
    }
  } else if (op === 'F') v |= RWBS.FLUSH;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === 'F') v |= RWBS.FUA;
    else if (c === 'A') v |= RWBS.RAHEAD;
    else if (c === 'S') v |= RWBS.SYNC;
    else if (c === 'M') v |= RWBS.META;
  }
  return v;
}
