/**
 * LTTng-like kernel traces of simulated hosts with containers, written with the CTF writer:
 * the event layouts of lttng-modules 2.13 (or the pre-2.12 statedump), optional channel
 * contexts (`tid`, `pid_ns`, ...), statedumps, and nstrace's container events. For tests, the
 * bundled sample trace and benchmarks: the scenario decides every event, the builder only
 * encodes them (and the contexts of the task running on each CPU).
 */
import { mkdirSync } from 'node:fs';
import {
  TraceWriter,
  charArray,
  hex,
  lttngField,
  lttngLayout,
  lttngSequence,
  s32,
  s64,
  string,
  u32,
  u64,
  u8,
} from '../ctf/writer/index.js';
import type { EventClassWriter, StreamWriter } from '../ctf/writer/index.js';
import type { FieldClass, NamedField } from '../ctf/ir.js';
import { type FlatNsType, INIT_NS_INODES } from '../model/namespaces.js';
import { hostTask } from './tasks.js';
import type { ContextName, KernelTraceOptions, SynthContainer, SynthTask } from './tasks.js';

type FieldMaker = () => FieldClass;

/** Fields of one type, a fresh field class each. */
const fieldsOf = (type: FieldMaker, ...names: string[]): NamedField[] =>
  names.map((n) => lttngField(n, type()));

const ptr = (): FieldClass => hex(64);
const RW = { fd: u32, buf: ptr, count: u64 };

/** lttng-modules 2.13 (x86-64) entry layouts of the syscalls we simulate. */
const SYSCALL_LAYOUTS: Readonly<Record<string, Readonly<Record<string, FieldMaker>>>> = {
  read: RW,
  write: RW,
  openat: { dfd: s32, filename: () => string(), flags: s32, mode: () => u32() },
  close: { fd: u32 },
  sendto: { fd: s32, buff: ptr, len: u64, flags: u32, addr: ptr, addr_len: s32 },
  recvfrom: { fd: s32, ubuf: ptr, size: u64, flags: u32, addr: ptr, addr_len: ptr },
  futex: { uaddr: ptr, op: s32, val: u32, utime: ptr, uaddr2: ptr, val3: u32 },
  epoll_wait: { epfd: s32, events: ptr, maxevents: s32, timeout: s32 },
  mmap: { addr: ptr, len: u64, prot: u64, flags: u64, fd: u64, off: u64 },
  clock_nanosleep: { which_clock: s32, flags: s32, rqtp: ptr, rmtp: ptr },
  default: { fd: s32 },
};

const DEFAULT_SYSCALLS = [
  'read',
  'write',
  'openat',
  'close',
  'futex',
  'epoll_wait',
  'mmap',
  'clock_nanosleep',
  'sendto',
  'recvfrom',
];

/** The namespaces of a container event, after its pid namespace, in field order. */
const CONTAINER_NS = ['user', 'mnt', 'net', 'uts', 'ipc', 'cgroup', 'time'] as const;

const CONTAINER_FIELDS: NamedField[] = [
  ...fieldsOf(string, 'id', 'name', 'type', 'image'),
  ...fieldsOf(s32, 'init_pid'),
  ...fieldsOf(u32, 'pid_ns', ...CONTAINER_NS.map((t) => `${t}_ns`)),
  ...fieldsOf(string, 'cgroup_path', 'pod_name', 'pod_namespace', 'pod_uid'),
  ...fieldsOf(s64, 'started_at'),
];

export class KernelTraceBuilder {
  private readonly tw: TraceWriter;
  private readonly streams: StreamWriter[] = [];
  private readonly ctx: readonly ContextName[];
  private readonly ec = new Map<string, EventClassWriter>();
  private readonly current: Array<SynthTask | undefined>;
  private readonly idle: SynthTask[];
  private readonly legacy: boolean;
  private readonly forkNs: boolean;
  /** Events written. */
  count = 0;

  constructor(o: KernelTraceOptions) {
    mkdirSync(o.dir, { recursive: true });
    const [major, minor, patch] = o.tracer ?? [2, 13, 9];
    this.legacy = o.statedump === 'legacy';
    this.forkNs = o.forkNs ?? true;
    this.tw = TraceWriter.create({
      dir: o.dir,
      layout: lttngLayout({
        domain: 'kernel',
        ...(o.uuid !== undefined ? { uuid: o.uuid } : {}),
        hostname: o.hostname ?? 'nstrace-synthetic',
        tracerMajor: major,
        tracerMinor: minor,
        tracerPatchlevel: patch,
        sysname: 'Linux',
        kernelRelease: '6.1.0-synthetic',
        kernelVersion: '#1 SMP nstrace synthetic trace',
        traceName: 'nstrace-synthetic',
        creationTime: new Date(Number((o.startNs ?? 1767225600000000000n) / 1000000n)),
        clock: { offsetCycles: o.startNs ?? 1767225600000000000n, uuid: new Uint8Array(16).fill(7) },
      }),
      packetSize: o.packetSize ?? 256 * 1024,
      strings: 'utf8',
    });
    this.ctx = o.contexts ?? [];
    const ctxFields: NamedField[] = this.ctx.map((c) =>
      c === 'procname'
        ? lttngField(c, charArray(16))
        : /_ns$/.test(c)
          ? lttngField(c, u32())
          : lttngField(c, s32()),
    );
    this.tw.addStreamClass({ header: 'compact', context: ctxFields });
    this.defineEvents(o.syscalls ?? DEFAULT_SYSCALLS);
    for (let cpu = 0; cpu < o.cpus; cpu++) this.streams.push(this.tw.stream(0, cpu));
    this.current = new Array<SynthTask | undefined>(o.cpus).fill(undefined);
    this.idle = Array.from({ length: o.cpus }, (_, cpu) => hostTask(0, 0, 0, `swapper/${cpu}`));
  }

  private add(name: string, fields: NamedField[]): void {
    this.ec.set(name, this.tw.addEventClass({ name, fields }));
  }

  private defineEvents(syscalls: readonly string[]): void {
    const comm = charArray(16);
    /** A task as the sched events describe it: `PREFIXcomm`, `PREFIXtid`, `PREFIXprio`. */
    const task = (prefix: string): NamedField[] => [
      lttngField(`${prefix}comm`, comm),
      ...fieldsOf(s32, `${prefix}tid`, `${prefix}prio`),
    ];
    this.add('sched_switch', [...task('prev_'), ...fieldsOf(s64, 'prev_state'), ...task('next_')]);
    this.add('sched_migrate_task', [...task(''), ...fieldsOf(s32, 'orig_cpu', 'dest_cpu')]);
    for (const n of ['sched_waking', 'sched_wakeup', 'sched_wakeup_new']) {
      this.add(n, [...task(''), ...fieldsOf(s32, 'target_cpu')]);
    }
    // The namespace fields of sched_process_fork came with LTTng 2.7.
    const forkNs = (...f: NamedField[]): NamedField[] => (this.forkNs ? f : []);
    this.add('sched_process_fork', [
      lttngField('parent_comm', comm),
      ...fieldsOf(s32, 'parent_tid', 'parent_pid'),
      ...forkNs(...fieldsOf(u32, 'parent_ns_inum')),
      lttngField('child_comm', comm),
      ...fieldsOf(s32, 'child_tid'),
      ...forkNs(...lttngSequence('vtids', s32(), u8())),
      ...fieldsOf(s32, 'child_pid'),
      ...forkNs(...fieldsOf(u32, 'child_ns_inum')),
    ]);
    this.add('sched_process_exec', [lttngField('filename', string()), ...fieldsOf(s32, 'tid', 'old_tid')]);
    for (const n of ['sched_process_exit', 'sched_process_free']) this.add(n, task(''));
    for (const sc of syscalls) {
      const layout = SYSCALL_LAYOUTS[sc] ?? SYSCALL_LAYOUTS['default']!;
      this.add(
        `syscall_entry_${sc}`,
        Object.entries(layout).map(([n, t]) => lttngField(n, t())),
      );
      this.add(`syscall_exit_${sc}`, fieldsOf(s64, 'ret'));
    }
    const page = (): NamedField => lttngField('page', hex(64));
    this.add('kmem_mm_page_alloc', [
      page(),
      ...fieldsOf(u32, 'order', 'gfp_flags'),
      ...fieldsOf(s32, 'migratetype'),
    ]);
    this.add('kmem_mm_page_free', [page(), ...fieldsOf(u32, 'order')]);
    this.add('lttng_statedump_start', []);
    this.add('lttng_statedump_end', []);
    // Before LTTng 2.12, process_state held the pid namespace fields (one event per level).
    const legacy = (...names: string[]): string[] => (this.legacy ? names : []);
    this.add('lttng_statedump_process_state', [
      ...fieldsOf(s32, 'tid', ...legacy('vtid'), 'pid', ...legacy('vpid'), 'ppid', ...legacy('vppid')),
      lttngField('name', comm),
      ...fieldsOf(s32, 'type', 'mode', 'submode', 'status', ...legacy('ns_level')),
      ...fieldsOf(u32, ...legacy('ns_inum'), 'cpu'),
      lttngField('file_table_address', hex(64)),
    ]);
    if (!this.legacy) {
      this.add('lttng_statedump_process_pid_ns', [
        ...fieldsOf(s32, 'tid', 'vtid', 'vpid', 'vppid', 'ns_level'),
        ...fieldsOf(u32, 'ns_inum'),
      ]);
      this.add('lttng_statedump_process_user_ns', [
        ...fieldsOf(s32, 'tid'),
        ...fieldsOf(u32, 'vuid', 'vgid'),
        ...fieldsOf(s32, 'ns_level'),
        ...fieldsOf(u32, 'ns_inum'),
      ]);
      for (const t of ['cgroup', 'ipc', 'mnt', 'net', 'uts', 'time']) {
        this.add(`lttng_statedump_process_${t}_ns`, [...fieldsOf(s32, 'tid'), ...fieldsOf(u32, 'ns_inum')]);
      }
    }
    for (const k of ['statedump', 'start', 'stop']) this.add(`nstrace_container_${k}`, CONTAINER_FIELDS);
    this.add('lttng_statedump_container', [
      ...fieldsOf(string, 'container_name', 'container_type'),
      ...fieldsOf(u32, 'pid_ns'),
    ]);
  }

  /**
   * Writes an empty packet on every CPU stream at `ts`, as LTTng's per-CPU buffers all begin at
   * the start of the session whatever runs there (so that the streams intersect from `ts`).
   */
  emptyPackets(ts: number): void {
    for (const s of this.streams) s.switchPacket(ts, true);
  }

  /** The task running on a CPU (the idle task before the first switch). */
  running(cpu: number): SynthTask {
    return this.current[cpu] ?? this.idle[cpu]!;
  }

  private ctxOf(t: SynthTask): Array<number | string> {
    const leaf = t.levels[t.levels.length - 1]!;
    // The ids of its own pid namespace level, then the other namespaces' inodes (`mnt_ns`: t.ns.mnt).
    const own: Partial<Record<ContextName, number | string>> = {
      tid: t.tid,
      pid: t.pid,
      ppid: t.ppid,
      procname: t.comm,
      vtid: leaf.vtid,
      vpid: leaf.vpid,
      pid_ns: leaf.ns,
    };
    return this.ctx.map((c) => own[c] ?? t.ns[c.slice(0, -3) as FlatNsType] ?? 0);
  }

  /** Writes an event on `cpu` with the contexts of the task running there. */
  emit(name: string, ts: number, cpu: number, payload: unknown[]): void {
    const ec = this.ec.get(name);
    if (ec === undefined) throw new Error(`synthetic trace: no event class ${name}`);
    this.streams[cpu]!.write(ec, ts, payload as never, this.ctxOf(this.running(cpu)) as never);
    this.count++;
  }

  schedSwitch(ts: number, cpu: number, next: SynthTask | undefined, prevState = 1): void {
    const prev = this.running(cpu);
    const n = next ?? this.idle[cpu]!;
    this.emit('sched_switch', ts, cpu, [prev.comm, prev.tid, prev.prio, prevState, n.comm, n.tid, n.prio]);
    this.current[cpu] = next;
  }

  wakeup(ts: number, cpu: number, t: SynthTask, targetCpu: number, name = 'sched_waking'): void {
    this.emit(name, ts, cpu, [t.comm, t.tid, t.prio, targetCpu]);
  }

  migrate(ts: number, cpu: number, t: SynthTask, orig: number, dest: number): void {
    this.emit('sched_migrate_task', ts, cpu, [t.comm, t.tid, t.prio, orig, dest]);
  }

  fork(ts: number, cpu: number, parent: SynthTask, child: SynthTask): void {
    const pl = parent.levels[parent.levels.length - 1]!;
    const cl = child.levels[child.levels.length - 1]!;
    const forkNs = (...v: unknown[]): unknown[] => (this.forkNs ? v : []);
    this.emit('sched_process_fork', ts, cpu, [
      parent.comm,
      parent.tid,
      parent.pid,
      ...forkNs(pl.ns),
      child.comm,
      child.tid,
      ...forkNs(
        child.levels.length,
        child.levels.map((l) => l.vtid),
      ),
      child.pid,
      ...forkNs(cl.ns),
    ]);
  }

  exec(ts: number, cpu: number, t: SynthTask, filename: string): void {
    this.emit('sched_process_exec', ts, cpu, [filename, t.tid, t.tid]);
    t.comm = filename.slice(filename.lastIndexOf('/') + 1).slice(0, 15);
  }

  exit(ts: number, cpu: number, t: SynthTask): void {
    this.emit('sched_process_exit', ts, cpu, [t.comm, t.tid, t.prio]);
  }

  free(ts: number, cpu: number, t: SynthTask): void {
    this.emit('sched_process_free', ts, cpu, [t.comm, t.tid, t.prio]);
  }

  /** A syscall entry; its arguments get plausible values (`fd` for the first one). */
  syscallEntry(ts: number, cpu: number, name: string, fd = 3): void {
    const layout = SYSCALL_LAYOUTS[name] ?? SYSCALL_LAYOUTS['default']!;
    this.emit(
      `syscall_entry_${name}`,
      ts,
      cpu,
      Object.keys(layout).map((n, i) =>
        i === 0
          ? fd
          : n === 'filename'
            ? '/etc/hosts'
            : n === 'count' || n === 'len' || n === 'size'
              ? 4096
              : 0,
      ),
    );
  }

  syscallExit(ts: number, cpu: number, name: string, ret: number): void {
    this.emit(`syscall_exit_${name}`, ts, cpu, [ret]);
  }

  pageAlloc(ts: number, cpu: number, order = 0): void {
    this.emit('kmem_mm_page_alloc', ts, cpu, [
      0xffffea0000000000n + BigInt(this.count * 64),
      order,
      0x100cca,
      1,
    ]);
  }

  pageFree(ts: number, cpu: number, order = 0): void {
    this.emit('kmem_mm_page_free', ts, cpu, [0xffffea0000000000n + BigInt(this.count * 64), order]);
  }

  /** The process statedump of one task: process_state, then its namespaces (deepest level first). */
  statedumpTask(ts: number, cpu: number, t: SynthTask): void {
    // name, type, mode, submode, status (a user thread in user mode, waiting), the files table.
    const state = [t.comm, 1, 5, 0, 5];
    const files = 0xffff888000000000n;
    if (!this.legacy)
      this.emit('lttng_statedump_process_state', ts, cpu, [t.tid, t.pid, t.ppid, ...state, cpu, files]);
    for (let lvl = t.levels.length - 1; lvl >= 0; lvl--) {
      const l = t.levels[lvl]!;
      if (this.legacy) {
        const ids = [t.tid, l.vtid, t.pid, l.vpid, t.ppid, l.vppid];
        this.emit('lttng_statedump_process_state', ts, cpu, [...ids, ...state, lvl, l.ns, cpu, files]);
      } else
        this.emit('lttng_statedump_process_pid_ns', ts, cpu, [t.tid, l.vtid, l.vpid, l.vppid, lvl, l.ns]);
    }
    if (this.legacy) return;
    this.emit('lttng_statedump_process_user_ns', ts, cpu, [t.tid, 0, 0, 0, t.ns.user ?? INIT_NS_INODES.user]);
    for (const type of ['cgroup', 'ipc', 'mnt', 'net', 'uts', 'time'] as const) {
      const v = t.ns[type];
      if (v !== undefined) this.emit(`lttng_statedump_process_${type}_ns`, ts, cpu, [t.tid, v]);
    }
  }

  statedumpStart(ts: number, cpu: number): void {
    this.emit('lttng_statedump_start', ts, cpu, []);
  }

  statedumpEnd(ts: number, cpu: number): void {
    this.emit('lttng_statedump_end', ts, cpu, []);
  }

  container(kind: 'statedump' | 'start' | 'stop', ts: number, cpu: number, c: SynthContainer): void {
    this.emit(`nstrace_container_${kind}`, ts, cpu, [
      c.id,
      c.name,
      c.type,
      c.image,
      kind === 'stop' ? 0 : c.initPid,
      c.pidNs,
      ...CONTAINER_NS.map((t) => c.ns[t] ?? 0),
      c.cgroupPath,
      c.podName ?? '',
      c.podNamespace ?? '',
      c.podUid ?? '',
      c.startedAt,
    ]);
  }

  /** The 2018 proposal's `lttng_statedump_container`. */
  legacyContainer(ts: number, cpu: number, name: string, type: string, pidNs: number): void {
    this.emit('lttng_statedump_container', ts, cpu, [name, type, pidNs]);
  }

  close(endTs?: number): void {
    this.tw.close(endTs);
  }
}
