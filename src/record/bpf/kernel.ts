/**
 * The offsets of the kernel structures the capture programs read, resolved from the running
 * kernel's BTF (never hard-coded: `ns_common.inum` moved in 6.18), and the layout of the
 * context block those programs write in front of every record.
 */
import { BTF_KIND, type Btf } from '../../bpf/btf.js';
import type { ContextName } from '../contexts.js';

/** Namespace structs and the nsproxy member that points to each (pid and user: see below). */
export const NS_STRUCTS = {
  pid_ns: { struct: 'pid_namespace', nsproxy: undefined },
  user_ns: { struct: 'user_namespace', nsproxy: undefined },
  net_ns: { struct: 'net', nsproxy: 'net_ns' },
  mnt_ns: { struct: 'mnt_namespace', nsproxy: 'mnt_ns' },
  uts_ns: { struct: 'uts_namespace', nsproxy: 'uts_ns' },
  ipc_ns: { struct: 'ipc_namespace', nsproxy: 'ipc_ns' },
  cgroup_ns: { struct: 'cgroup_namespace', nsproxy: 'cgroup_ns' },
  time_ns: { struct: 'time_namespace', nsproxy: 'time_ns' },
} as const;
export type NsContext = keyof typeof NS_STRUCTS;

export interface KernelOffsets {
  task: {
    pid: number;
    tgid: number;
    realParent: number;
    threadPid: number;
    signal: number;
    cred: number;
    nsproxy: number;
    comm: number;
    mm: number;
    /** task_struct.prio (the sched_wakeup records' prio). */
    prio: number;
    /** What task_cpu() reads: thread_info.cpu, or task_struct.cpu where it lives there. */
    cpu: number;
  };
  /** Where sys_enter/sys_exit find the syscall (x86_64: see syscallRegisters). */
  sysRegs: { args: number[]; nr: number; status: number };
  /** mm_struct.mm_users (atomic_t: the tasks sharing the address space, and transient users). */
  mmUsers: number;
  pid: { level: number; numbers: number; upidSize: number; upidNr: number; upidNs: number };
  /** signal_struct.pids[PIDTYPE_TGID]. */
  signalTgidPid: number;
  credUserNs: number;
  nsproxy: Record<string, number>;
  /** Offset of ns.inum inside each namespace struct. */
  inum: Record<NsContext, number>;
  /**
   * What bpf_get_current_cgroup_id() reads, for any task: task->cgroups (css_set) ->dfl_cgrp
   * (cgroup) ->kn (kernfs_node) ->id. Undefined where the kernel lays it out otherwise.
   */
  cgroupId: { taskCgroups: number; dflCgrp: number; kn: number; id: number } | undefined;
}

/** The offset of a dotted member path, or undefined when the kernel has no such member. */
function tryOffset(btf: Btf, struct: string, path: string): number | undefined {
  try {
    return btf.offsetOf(struct, path).offset;
  } catch {
    return undefined;
  }
}

/**
 * x86_64's syscall registers in struct pt_regs: the arguments in syscall_get_arguments' order
 * for a 64-bit syscall, the number (orig_ax), and thread_info.status (TS_COMPAT: a 32-bit
 * syscall, whose number and registers mean something else).
 */
function syscallRegisters(btf: Btf): KernelOffsets['sysRegs'] {
  const R = (r: string): number => btf.offsetOf('pt_regs', r).offset;
  return {
    args: ['di', 'si', 'dx', 'r10', 'r8', 'r9'].map(R),
    nr: R('orig_ax'),
    status: btf.offsetOf('task_struct', 'thread_info.status').offset,
  };
}

/** PIDTYPE_TGID in enum pid_type. */
const PIDTYPE_TGID = 1;

export function kernelOffsets(btf: Btf): KernelOffsets {
  const T = (m: string): number => btf.offsetOf('task_struct', m).offset;
  const numbers = btf.offsetOf('pid', 'numbers');
  const upid = btf.array(numbers.type).elem;
  const upidId = btf.resolve(upid);
  const pids = btf.offsetOf('signal_struct', 'pids');
  const ptrSize = btf.sizeOf(btf.array(pids.type).elem);
  const inum = {} as Record<NsContext, number>;
  const nsproxy: Record<string, number> = {};
  for (const [ctx, s] of Object.entries(NS_STRUCTS) as Array<[NsContext, (typeof NS_STRUCTS)[NsContext]]>) {
    inum[ctx] = btf.offsetOf(s.struct, 'ns.inum').offset;
    if (s.nsproxy) nsproxy[s.nsproxy] = btf.offsetOf('nsproxy', s.nsproxy).offset;
  }
  return {
    task: {
      pid: T('pid'),
      tgid: T('tgid'),
      realParent: T('real_parent'),
      threadPid: T('thread_pid'),
      signal: T('signal'),
      cred: T('cred'),
      nsproxy: T('nsproxy'),
      comm: T('comm'),
      mm: T('mm'),
      prio: T('prio'),
      cpu: tryOffset(btf, 'task_struct', 'thread_info.cpu') ?? T('cpu'),
    },
    sysRegs: syscallRegisters(btf),
    mmUsers: btf.offsetOf('mm_struct', 'mm_users').offset,
    pid: {
      level: btf.offsetOf('pid', 'level').offset,
      numbers: numbers.offset,
      upidSize: btf.sizeOf(upidId),
      upidNr: btf.member(upidId, 'nr').offset,
      upidNs: btf.member(upidId, 'ns').offset,
    },
    signalTgidPid: pids.offset + PIDTYPE_TGID * ptrSize,
    credUserNs: btf.offsetOf('cred', 'user_ns').offset,
    nsproxy,
    inum,
    cgroupId: cgroupIdPath(btf),
  };
}

function cgroupIdPath(btf: Btf): KernelOffsets['cgroupId'] {
  const taskCgroups = tryOffset(btf, 'task_struct', 'cgroups');
  const dflCgrp = tryOffset(btf, 'css_set', 'dfl_cgrp');
  const kn = tryOffset(btf, 'cgroup', 'kn');
  const id = tryOffset(btf, 'kernfs_node', 'id');
  if (taskCgroups === undefined || dflCgrp === undefined || kn === undefined || id === undefined)
    return undefined;
  return { taskCgroups, dflCgrp, kn, id };
}

/** BTF id of the typedef a `tp_btf` program for tracepoint `name` attaches to. */
export function rawTracepointBtfId(btf: Btf, name: string): number {
  return btf.typeId(BTF_KIND.TYPEDEF, `btf_trace_${name}`);
}

/** Context fields of the bpf backend: the recorder's, plus the task's cgroup (v2) id. */
export type BpfContextName = ContextName | 'cgroup_id';

/** Size in bytes of each context value in the block (the stream event context's layout). */
export function contextSize(c: BpfContextName): number {
  if (c === 'procname') return 16;
  if (c === 'cgroup_id') return 8;
  return 4;
}

/** Offsets of each context in the block (fields packed in order, as the CTF writer lays them). */
export function contextLayout(contexts: readonly BpfContextName[]): {
  offsets: Map<BpfContextName, number>;
  size: number;
} {
  const offsets = new Map<BpfContextName, number>();
  let o = 0;
  for (const c of contexts) {
    offsets.set(c, o);
    o += contextSize(c);
  }
  return { offsets, size: o };
}
