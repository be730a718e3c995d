/**
 * Hand-built event records for unit tests of the model and the analyses: a fake kernel trace
 * with one stream per CPU (`cpu_id` in the packet context) and LTTng kernel event layouts, so
 * that tests read like `t.rec('sched_switch', 1000, 0, { prev_tid: 1, next_tid: 2 })`.
 *
 * Field names are declared with LTTng's leading underscore, as in real metadata, so the code
 * under test must accept both spellings.
 */
import type { EventRecord, FieldValue, PacketInfo, StreamInstance, Trace } from '../../src/ctf/event.js';
import type {
  EventClass,
  FieldClass,
  IntegerFC,
  NamedField,
  StreamClass,
  StringFC,
  StructFC,
  TraceClass,
} from '../../src/ctf/ir.js';

type Kind = 'i' | 's' | 'a';

const INT: IntegerFC = {
  kind: 'int',
  size: 32,
  align: 8,
  signed: true,
  byteOrder: 'le',
  base: 10,
  encoding: 'none',
};
const STR: StringFC = { kind: 'string', encoding: 'utf8', align: 8 };

const STATEDUMP_NEW = 'tid pid ppid name:s type mode submode status cpu file_table_address';
const STATEDUMP_LEGACY = 'tid vtid pid vpid ppid vppid name:s type mode submode status ns_level ns_inum';
const NSTRACE_CONTAINER =
  'id:s name:s type:s image:s init_pid pid_ns user_ns mnt_ns net_ns uts_ns ipc_ns cgroup_ns time_ns ' +
  'cgroup_path:s pod_name:s pod_namespace:s pod_uid:s started_at';

/** LTTng kernel layouts (lttng-modules 2.13), as `name:kind` lists (kind i by default). */
export const LAYOUTS: Record<string, string> = {
  sched_switch: 'prev_comm:s prev_tid prev_prio prev_state next_comm:s next_tid next_prio',
  sched_migrate_task: 'comm:s tid prio orig_cpu dest_cpu',
  sched_wakeup: 'comm:s tid prio target_cpu',
  sched_wakeup_new: 'comm:s tid prio target_cpu',
  sched_waking: 'comm:s tid prio target_cpu',
  sched_pi_setprio: 'comm:s tid oldprio newprio',
  sched_process_fork:
    'parent_comm:s parent_tid parent_pid parent_ns_inum child_comm:s child_tid vtids:a child_pid child_ns_inum',
  sched_process_exec: 'filename:s tid old_tid',
  sched_process_exit: 'comm:s tid prio',
  sched_process_free: 'comm:s tid prio',
  kmem_mm_page_alloc: 'page order gfp_flags migratetype',
  kmem_mm_page_free: 'page order',
  mm_page_alloc: 'page order gfp_flags migratetype',
  mm_page_free: 'page order',
  irq_handler_entry: 'irq name:s',
  irq_handler_exit: 'irq ret',
  lttng_statedump_start: '',
  lttng_statedump_end: '',
  lttng_statedump_process_state: STATEDUMP_NEW,
  lttng_statedump_process_pid_ns: 'tid vtid vpid vppid ns_level ns_inum',
  lttng_statedump_process_user_ns: 'tid vuid vgid ns_level ns_inum',
  lttng_statedump_process_mnt_ns: 'tid ns_inum',
  lttng_statedump_process_net_ns: 'tid ns_inum',
  lttng_statedump_process_uts_ns: 'tid ns_inum',
  lttng_statedump_process_ipc_ns: 'tid ns_inum',
  lttng_statedump_process_cgroup_ns: 'tid ns_inum',
  lttng_statedump_process_time_ns: 'tid ns_inum',
  nstrace_container_statedump: NSTRACE_CONTAINER,
  nstrace_container_start: NSTRACE_CONTAINER,
  nstrace_container_stop: NSTRACE_CONTAINER,
  lttng_statedump_container: 'container_name:s container_type:s pid_ns',
  nstrace_kernel_skipped: 'count tracepoints:s',
  'ust_container_statedump:lttng_statedump_container': 'container_name:s container_type:s pid_ns',
};

export interface FakeTraceOptions {
  /** Stream event context fields (without underscore), e.g. ['pid_ns', 'vtid']. */
  streamContext?: string[];
  /** Use the pre-2.12 `lttng_statedump_process_state` layout (with pid-ns fields). */
  legacyStatedump?: boolean;
  /** Number of CPUs (one stream each). Default 4. */
  cpus?: number;
  /** Trace environment (tracer version etc.). */
  env?: Record<string, string | number>;
  /** Trace domain in env (`kernel` by default). */
  domain?: string;
  /**
   * Added to class keys and stream indexes: several fake traces in one record sequence (as a
   * trace set gives them) need distinct ones.
   */
  keyBase?: number;
  /** Trace directory (default /fake). */
  path?: string;
  /** Layouts replacing those of LAYOUTS (a foreign or corrupt trace), same syntax. */
  layouts?: Record<string, string>;
}

function parseLayout(spec: string): Array<[string, Kind]> {
  return spec
    .split(/\s+/)
    .filter((s) => s !== '')
    .map((s) => {
      const [n, k] = s.split(':');
      return [n!, (k ?? 'i') as Kind];
    });
}

function fieldClass(kind: Kind): FieldClass {
  if (kind === 's') return STR;
  if (kind === 'a') {
    return {
      kind: 'sequence',
      length: { scope: 'event.fields', path: ['__vtids_length'], text: '__vtids_length' },
      element: INT,
      align: 8,
    };
  }
  return INT;
}

function struct(fields: Array<[string, Kind]>): StructFC {
  const named: NamedField[] = fields.map(([n, k]) => ({ name: '_' + n, type: fieldClass(k) }));
  return { kind: 'struct', fields: named, minAlign: 1, align: 8 };
}

export class FakeTrace {
  readonly trace: Trace;
  readonly streamClass: StreamClass;
  readonly streams: StreamInstance[] = [];
  private readonly packets: PacketInfo[] = [];
  private readonly classes = new Map<string, { ec: EventClass; layout: Array<[string, Kind]> }>();
  private readonly eventClasses = new Map<number, EventClass>();
  private readonly ctxFields: string[];
  private readonly legacy: boolean;
  private readonly keyBase: number;
  private readonly layouts: Record<string, string>;

  constructor(opts: FakeTraceOptions = {}) {
    this.ctxFields = opts.streamContext ?? [];
    this.legacy = opts.legacyStatedump ?? false;
    this.layouts = opts.layouts ?? {};
    const env = new Map<string, string | number>([
      ['domain', opts.domain ?? 'kernel'],
      ['tracer_name', 'lttng-modules'],
      ['tracer_major', 2],
      ['tracer_minor', 13],
      ['tracer_patchlevel', 9],
    ]);
    for (const [k, v] of Object.entries(opts.env ?? {})) env.set(k, v);
    const ctxKinds: Array<[string, Kind]> = this.ctxFields.map((n) => [n, n === 'procname' ? 's' : 'i']);
    this.streamClass = {
      id: 0,
      packetContext: struct([
        ['timestamp_begin', 'i'],
        ['timestamp_end', 'i'],
        ['content_size', 'i'],
        ['packet_size', 'i'],
        ['packet_seq_num', 'i'],
        ['events_discarded', 'i'],
        ['cpu_id', 'i'],
      ]),
      eventContext: ctxKinds.length > 0 ? struct(ctxKinds) : undefined,
      eventClasses: this.eventClasses,
    };
    const cls: TraceClass = {
      major: 1,
      minor: 8,
      byteOrder: 'le',
      env,
      clocks: new Map(),
      streamClasses: new Map([[0, this.streamClass]]),
      callsites: [],
    };
    const dir = opts.path ?? '/fake';
    this.keyBase = opts.keyBase ?? 0;
    this.trace = { path: dir, name: 'fake', cls, metadataPath: `${dir}/metadata` };
    const n = opts.cpus ?? 4;
    for (let cpu = 0; cpu < n; cpu++) {
      const stream: StreamInstance = {
        trace: this.trace,
        streamClass: this.streamClass,
        instanceId: cpu,
        id: cpu,
        files: [`${dir}/chan_${cpu}`],
        clock: undefined,
        index: this.keyBase + cpu,
      };
      this.streams.push(stream);
      this.packets.push({
        stream,
        file: stream.files[0]!,
        offset: 0,
        packetSize: 0,
        contentSize: 0,
        header: undefined,
        context: [0, 0, 0, 0, 0, 0, cpu],
        beginCycles: undefined,
        endCycles: undefined,
        beginTs: undefined,
        endTs: undefined,
        discardedEventsCounter: 0,
        seqNum: 0,
      });
    }
  }

  /** The event class for `name` (declared on first use; syscall events get `ret` or no field). */
  eventClass(name: string, extraFields?: string): EventClass {
    let c = this.classes.get(name);
    if (c === undefined) {
      let spec = this.layouts[name] ?? LAYOUTS[name];
      if (name === 'lttng_statedump_process_state' && this.legacy) spec = STATEDUMP_LEGACY;
      if (spec === undefined) {
        if (name.startsWith('syscall_exit_') || name.startsWith('exit_syscall')) spec = 'ret';
        else spec = extraFields ?? '';
      }
      const layout = parseLayout(spec);
      const ec: EventClass = { id: this.classes.size, name, streamClassId: 0, fields: struct(layout) };
      c = { ec, layout };
      this.classes.set(name, c);
      this.eventClasses.set(ec.id, ec);
    }
    return c.ec;
  }

  /** A fresh record. Missing payload fields are 0 / '' / []. */
  rec(
    name: string,
    ts: number,
    cpu: number,
    payload: Record<string, FieldValue> = {},
    ctx: Record<string, FieldValue> = {},
  ): EventRecord {
    const ec = this.eventClass(name);
    const layout = this.classes.get(name)!.layout;
    const values: FieldValue[] = layout.map(([n, k]) => payload[n] ?? (k === 's' ? '' : k === 'a' ? [] : 0));
    for (const key of Object.keys(payload)) {
      if (!layout.some(([n]) => n === key)) throw new Error(`FakeTrace: ${name} has no field ${key}`);
    }
    const streamContext =
      this.ctxFields.length > 0
        ? this.ctxFields.map((n) => ctx[n] ?? (n === 'procname' ? '' : 0))
        : undefined;
    const stream = this.streams[cpu];
    if (stream === undefined) throw new Error(`FakeTrace: no CPU ${cpu}`);
    return {
      kind: 'event',
      eventClass: ec,
      classKey: this.keyBase + ec.id,
      stream,
      packet: this.packets[cpu]!,
      cycles: ts,
      ts,
      header: undefined,
      streamContext,
      context: undefined,
      payload: values,
    };
  }
}
