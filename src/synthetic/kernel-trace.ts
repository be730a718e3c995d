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
import type { NamedField } from '../ctf/ir.js';
import type { FlatNsType } from '../model/namespaces.js';
import { PROC_INIT, hostTask } from './tasks.js';
import type { ContextName, KernelTraceOptions, SynthContainer, SynthTask } from './tasks.js';

type FieldMaker = () => ReturnType<typeof u32> | ReturnType<typeof string>;

/** lttng-modules 2.13 (x86-64) entry layouts of the syscalls we simulate. */
const SYSCALL_LAYOUTS: Readonly<Record<string, ReadonlyArray<readonly [string, FieldMaker]>>> = {
  read: [
    ['fd', u32],
    ['buf', () => hex(64)],
    ['count', u64],
  ],
  write: [
    ['fd', u32],
    ['buf', () => hex(64)],
    ['count', u64],
  ],
  openat: [
    ['dfd', s32],
    ['filename', () => string()],
    ['flags', s32],
    ['mode', () => u32()],
  ],
  close: [['fd', u32]],
  sendto: [
    ['fd', s32],
    ['buff', () => hex(64)],
    ['len', u64],
    ['flags', u32],
    ['addr', () => hex(64)],
    ['addr_len', s32],
  ],
  recvfrom: [
    ['fd', s32],
    ['ubuf', () => hex(64)],
    ['size', u64],
    ['flags', u32],
    ['addr', () => hex(64)],
    ['addr_len', () => hex(64)],
  ],
  futex: [
    ['uaddr', () => hex(64)],
    ['op', s32],
    ['val', u32],
    ['utime', () => hex(64)],
    ['uaddr2', () => hex(64)],
    ['val3', u32],
  ],
  epoll_wait: [
    ['epfd', s32],
    ['events', () => hex(64)],
    ['maxevents', s32],
    ['timeout', s32],
  ],
  mmap: [
    ['addr', () => hex(64)],
    ['len', u64],
    ['prot', u64],
    ['flags', u64],
    ['fd', u64],
    ['off', u64],
  ],
  clock_nanosleep: [
    ['which_clock', s32],
    ['flags', s32],
    ['rqtp', () => hex(64)],
    ['rmtp', () => hex(64)],
  ],
  default: [['fd', s32]],
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

const CONTAINER_FIELDS: NamedField[] = [
  lttngField('id', string()),
  lttngField('name', string()),
  lttngField('type', string()),
  lttngField('image', string()),
  lttngField('init_pid', s32()),
  lttngField('pid_ns', u32()),
  lttngField('user_ns', u32()),
  lttngField('mnt_ns', u32()),
  lttngField('net_ns', u32()),
  lttngField('uts_ns', u32()),
  lttngField('ipc_ns', u32()),
  lttngField('cgroup_ns', u32()),
  lttngField('time_ns', u32()),
  lttngField('cgroup_path', string()),
  lttngField('pod_name', string()),
  lttngField('pod_namespace', string()),
  lttngField('pod_uid', string()),
  lttngField('started_at', s64()),
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
    this.add('sched_switch', [
      lttngField('prev_comm', comm),
      lttngField('prev_tid', s32()),
      lttngField('prev_prio', s32()),
      lttngField('prev_state', s64()),
      lttngField('next_comm', comm),
      lttngField('next_tid', s32()),
      lttngField('next_prio', s32()),
    ]);
    this.add('sched_migrate_task', [
      lttngField('comm', comm),
      lttngField('tid', s32()),
      lttngField('prio', s32()),
      lttngField('orig_cpu', s32()),
      lttngField('dest_cpu', s32()),
    ]);
    for (const n of ['sched_waking', 'sched_wakeup', 'sched_wakeup_new']) {
      this.add(n, [
        lttngField('comm', comm),
        lttngField('tid', s32()),
        lttngField('prio', s32()),
        lttngField('target_cpu', s32()),
      ]);
    }
    this.add(
      'sched_process_fork',
      this.forkNs
        ? [
            lttngField('parent_comm', comm),
            lttngField('parent_tid', s32()),
            lttngField('parent_pid', s32()),
            lttngField('parent_ns_inum', u32()),
            lttngField('child_comm', comm),
            lttngField('child_tid', s32()),
            ...lttngSequence('vtids', s32(), u8()),
            lttngField('child_pid', s32()),
            lttngField('child_ns_inum', u32()),
          ]
        : [
            lttngField('parent_comm', comm),
            lttngField('parent_tid', s32()),
            lttngField('parent_pid', s32()),
            lttngField('child_comm', comm),
            lttngField('child_tid', s32()),
            lttngField('child_pid', s32()),
          ],
    );
    this.add('sched_process_exec', [
      lttngField('filename', string()),
      lttngField('tid', s32()),
      lttngField('old_tid', s32()),
    ]);
    for (const n of ['sched_process_exit', 'sched_process_free']) {
      this.add(n, [lttngField('comm', comm), lttngField('tid', s32()), lttngField('prio', s32())]);
    }
    for (const sc of syscalls) {
      this.add(
        `syscall_entry_${sc}`,
        (SYSCALL_LAYOUTS[sc] ?? SYSCALL_LAYOUTS['default']!).map(([n, t]) => lttngField(n, t())),
      );
      this.add(`syscall_exit_${sc}`, [lttngField('ret', s64())]);
    }
    this.add('kmem_mm_page_alloc', [
      lttngField('page', hex(64)),
      lttngField('order', u32()),
      lttngField('gfp_flags', u32()),
      lttngField('migratetype', s32()),
    ]);
    this.add('kmem_mm_page_free', [lttngField('page', hex(64)), lttngField('order', u32())]);
    this.add('lttng_statedump_start', []);
    this.add('lttng_statedump_end', []);
    if (this.legacy) {
      this.add('lttng_statedump_process_state', [
        lttngField('tid', s32()),
        lttngField('vtid', s32()),
        lttngField('pid', s32()),
        lttngField('vpid', s32()),
        lttngField('ppid', s32()),
        lttngField('vppid', s32()),
        lttngField('name', comm),
        lttngField('type', s32()),
        lttngField('mode', s32()),
        lttngField('submode', s32()),
        lttngField('status', s32()),
        lttngField('ns_level', s32()),
        lttngField('ns_inum', u32()),
        lttngField('cpu', u32()),
        lttngField('file_table_address', hex(64)),
      ]);
    } else {
      this.add('lttng_statedump_process_state', [
        lttngField('tid', s32()),
        lttngField('pid', s32()),
        lttngField('ppid', s32()),
        lttngField('name', comm),
        lttngField('type', s32()),
        lttngField('mode', s32()),
        lttngField('submode', s32()),
        lttngField('status', s32()),
        lttngField('cpu', u32()),
        lttngField('file_table_address', hex(64)),
      ]);
      this.add('lttng_statedump_process_pid_ns', [
        lttngField('tid', s32()),
        lttngField('vtid', s32()),
        lttngField('vpid', s32()),
        lttngField('vppid', s32()),
        lttngField('ns_level', s32()),
        lttngField('ns_inum', u32()),
      ]);
      this.add('lttng_statedump_process_user_ns', [
        lttngField('tid', s32()),
        lttngField('vuid', u32()),
        lttngField('vgid', u32()),
        lttngField('ns_level', s32()),
        lttngField('ns_inum', u32()),
      ]);
      for (const t of ['cgroup', 'ipc', 'mnt', 'net', 'uts', 'time']) {
        this.add(`lttng_statedump_process_${t}_ns`, [lttngField('tid', s32()), lttngField('ns_inum', u32())]);
      }
    }
    for (const k of ['statedump', 'start', 'stop']) this.add(`nstrace_container_${k}`, CONTAINER_FIELDS);
    this.add('lttng_statedump_container', [
      lttngField('container_name', string()),
      lttngField('container_type', string()),
      lttngField('pid_ns', u32()),
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
    return this.ctx.map((c) => {
      switch (c) {
        case 'tid':
          return t.tid;
        case 'pid':
          return t.pid;
        case 'ppid':
          return t.ppid;
        case 'procname':
          return t.comm;
        case 'vtid':
          return leaf.vtid;
        case 'vpid':
          return leaf.vpid;
        case 'pid_ns':
          return leaf.ns;
        default:
          return t.ns[c.slice(0, -3) as FlatNsType] ?? 0;
      }
    });
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
    if (!this.forkNs) {
      this.emit('sched_process_fork', ts, cpu, [
        parent.comm,
        parent.tid,
        parent.pid,
        child.comm,
        child.tid,
        child.pid,
      ]);
      return;
    }
    this.emit('sched_process_fork', ts, cpu, [
      parent.comm,
      parent.tid,
      parent.pid,
      pl.ns,
      child.comm,
      child.tid,
      child.levels.length,
      child.levels.map((l) => l.vtid),
      child.pid,
      cl.ns,
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
      layout.map(([n], i) =>
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
    if (this.legacy) {
      for (let lvl = t.levels.length - 1; lvl >= 0; lvl--) {
        const l = t.levels[lvl]!;
        this.emit('lttng_statedump_process_state', ts, cpu, [
          t.tid,
          l.vtid,
          t.pid,
          l.vpid,
          t.ppid,
          l.vppid,
          t.comm,
          1,
          5,
          0,
          5,
          lvl,
          l.ns,
          cpu,
          0xffff888000000000n,
        ]);
      }
      return;
    }
    this.emit('lttng_statedump_process_state', ts, cpu, [
      t.tid,
      t.pid,
      t.ppid,
      t.comm,
      1,
      5,
      0,
      5,
      cpu,
      0xffff888000000000n,
    ]);
    for (let lvl = t.levels.length - 1; lvl >= 0; lvl--) {
      const l = t.levels[lvl]!;
      this.emit('lttng_statedump_process_pid_ns', ts, cpu, [t.tid, l.vtid, l.vpid, l.vppid, lvl, l.ns]);
    }
    this.emit('lttng_statedump_process_user_ns', ts, cpu, [t.tid, 0, 0, 0, t.ns.user ?? PROC_INIT.user]);
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
      c.ns.user ?? 0,
      c.ns.mnt ?? 0,
      c.ns.net ?? 0,
      c.ns.uts ?? 0,
      c.ns.ipc ?? 0,
      c.ns.cgroup ?? 0,
      c.ns.time ?? 0,
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
