/**
 * The tasks and containers of a synthetic kernel trace: their pid-namespace chains, the host's
 * namespaces, and the trace options; what a scenario (src/synthetic/simulate.ts) hands the
 * builder (src/synthetic/kernel-trace.ts).
 */
import type { ContainerDecl } from '../model/containers.js';
import { FLAT_NS_TYPES, type FlatNsType, INIT_NS_INODES } from '../model/namespaces.js';

/** One level of a task's pid namespace chain (index = level, 0 = the host). */
export interface SynthPidLevel {
  ns: number;
  vtid: number;
  vpid: number;
  vppid: number;
}

export interface SynthTask {
  tid: number;
  pid: number;
  ppid: number;
  comm: string;
  prio: number;
  /** pid namespace chain from the root; one level for host tasks. */
  levels: SynthPidLevel[];
  /** Other namespaces (contexts and statedump). */
  ns: Partial<Record<FlatNsType, number>>;
}

/**
 * A container as nstrace's container events declare it: the model's payload (ContainerDecl),
 * the pod fields optional.
 */
export type SynthContainer = Omit<ContainerDecl, PodField> & Partial<Pick<ContainerDecl, PodField>>;
type PodField = 'podName' | 'podNamespace' | 'podUid';

export type ContextName =
  | 'tid'
  | 'pid'
  | 'ppid'
  | 'procname'
  | 'vtid'
  | 'vpid'
  | 'pid_ns'
  | 'user_ns'
  | 'mnt_ns'
  | 'net_ns'
  | 'uts_ns'
  | 'ipc_ns'
  | 'cgroup_ns'
  | 'time_ns';

export interface KernelTraceOptions {
  /** Trace directory (created). */
  dir: string;
  cpus: number;
  /** Channel contexts on every event. */
  contexts?: readonly ContextName[];
  /** `lttng_statedump_process_state` layout: 2.12+ (`modern`, with `_pid_ns` events) or before. */
  statedump?: 'modern' | 'legacy';
  /** lttng-modules version in `env` (default 2.13.9). */
  tracer?: readonly [number, number, number];
  hostname?: string;
  /** Absolute time of ts 0, ns since the epoch (default 2026-01-01 00:00:00 UTC). */
  startNs?: bigint;
  /** Sub-buffer (packet) size, bytes (default 256 KiB). */
  packetSize?: number;
  /** Syscalls to declare entry/exit events for (default: a common set). */
  syscalls?: readonly string[];
  /** `sched_process_fork` with the namespace fields (LTTng >= 2.7, default) or without. */
  forkNs?: boolean;
  /** Trace UUID (default: random). */
  uuid?: Uint8Array;
}

export const HOST_PID_NS = INIT_NS_INODES.pid;
/** mnt and net have no fixed inode (model/namespaces.ts); these are typical values. */
const HOST_MNT_NET: Readonly<Partial<Record<FlatNsType, number>>> = { mnt: 4026531841, net: 4026531840 };
/** Namespaces of host tasks: the kernel's fixed inodes of the initial namespaces (PROC_*_INIT_INO). */
export const HOST_NS: Readonly<Partial<Record<FlatNsType, number>>> = Object.fromEntries(
  FLAT_NS_TYPES.map((t) => [t, HOST_MNT_NET[t] ?? INIT_NS_INODES[t]]),
);

/** A host task (one pid-namespace level). */
export function hostTask(tid: number, pid: number, ppid: number, comm: string, prio = 20): SynthTask {
  return nestedTask(tid, pid, ppid, comm, [], {}, prio);
}

/**
 * A task inside the pid namespaces `chain` (from the host's child down), with its tids there.
 * `vtids`/`vpids`/`vppids` are given per nested level (the host level uses tid/pid/ppid).
 */
export function nestedTask(
  tid: number,
  pid: number,
  ppid: number,
  comm: string,
  chain: ReadonlyArray<{ ns: number; vtid: number; vpid: number; vppid: number }>,
  ns: Partial<Record<FlatNsType, number>>,
  prio = 20,
): SynthTask {
  return {
    tid,
    pid,
    ppid,
    comm,
    prio,
    levels: [{ ns: HOST_PID_NS, vtid: tid, vpid: pid, vppid: ppid }, ...chain],
    ns: { ...HOST_NS, ...ns },
  };
}
