/**
 * The record the capture programs of the bpf backend write (programs.ts, ADR 0162) and the
 * recorder reads: each program builds one record in a per-CPU scratch map and hands it to the
 * ring buffer:
 *
 *   0  u64 timestamp (bpf_ktime_get_ns: CLOCK_MONOTONIC, tracefs' `mono`, LTTng's `monotonic`),
 *      read just before the record goes to the ring, as LTTng reads it when it reserves room:
 *      a program interrupted by another one on its CPU (an interrupt's wakeup in a syscall
 *      program) then has the later time of the two, as it has the later place in the ring
 *   8  u32 cpu
 *   12 u8  flags (FLAG_*)
 *   13 u8  kind (KIND_*)
 *   14 u8  syscall entry: strings left for the exit to read; exit: strings it read (bit k:
 *          k-th string argument; ADR 0164)
 *   15 u8  syscall entry: strings not read at entry
 *   16 u32 tid, 20 u32 tgid of the current task
 *   24 the context block: the stream event context's bytes, read from the current task now
 *   R  = align8(24 + context size): the tracepoint's raw ftrace record (KIND_RAW: for a
 *      syscall entry only the arguments its format has, all six when the user strings of its
 *      string arguments follow, NUL-terminated, in argument order, "" when not read); for
 *      syscall exits then the first entry arguments its layout reads (FLAG_ARGS; how many in
 *      byte 15), then the strings read at the exit (FLAG_STR_EXIT).
 *
 * A syscall record whose context block is, byte for byte, the one of the last record of its CPU
 * marked FLAG_CTX_REF leaves it out (FLAG_CTX_SAME): the header, then the raw area at 24, the
 * record R - 24 bytes shorter. Every value was still read from the task at that event and
 * compared; the recorder puts the block back (context-refs.ts). See Gen.outputElided.
 *
 * Exclusion (the recorder and its children, like tracefs' `set_event_notrace_pid` with
 * `event-fork`) and selection (`--container`, `--pid-ns`, `--cgroup`, ...) happen in the
 * programs, before anything is written.
 */
import type { BpfContextName, KernelOffsets } from './kernel.js';
import { contextLayout } from './kernel.js';

export const HDR = 24;
export const FLAG_STR_UNKNOWN = 1;
export const FLAG_ARGS = 2;
export const FLAG_CTX_UNKNOWN = 4;
/**
 * A syscall exit carrying strings read again at the exit (see sysExitProgram); header byte 14
 * is then the mask of those read (k-th string argument: bit k). In an entry record, byte 14 is
 * the mask of the strings left for the exit to read (FLAG_STR_UNKNOWN is set too).
 */
export const FLAG_STR_EXIT = 8;
/** The context block is left out: the one of the CPU's last FLAG_CTX_REF record (Gen.outputElided). */
export const FLAG_CTX_SAME = 16;
/** A whole record whose context block is its CPU's reference from now on. */
export const FLAG_CTX_REF = 32;
/** Per-CPU reference value: u32 busy (a program is between its comparison and its write), u32 valid, the block. */
export const LAST_CTX_HEAD = 8;
/** Header byte of the pending / re-read string masks. */
export const HDR_STR_MASK = 14;
/** Header byte of an entry record: mask of the string arguments not read at entry. */
export const HDR_STR_FAILED = 15;
export const KIND_RAW = 0;
export const KIND_FORK = 1;
/**
 * The context of the task a sched_switch switches in, read at that switch (ADR 0167): the
 * context block is the next task's, the raw area its tid and its kernel prio (u32 each). Not written to the trace: the
 * recorder keeps it for the switches the kernel does not report.
 */
export const KIND_SWITCH_IN = 2;
/** Bytes of a KIND_SWITCH_IN record's raw area. */
export const SWITCH_IN_BYTES = 8;
/** Pid-namespace levels the programs resolve (deeper: ids and pid ns 0, FLAG_CTX_UNKNOWN). */
export const MAX_LEVELS = 8;
/** Longest user string copied (PATH_MAX, as the tracefs backend). */
export const STR_MAX = 4096;
/** String arguments copied per syscall at most. */
export const MAX_STR_ARGS = 3;
/** Bytes of the raw syscall records (raw_syscalls:sys_enter / sys_exit). */
export const SYS_ENTER_BYTES = 64;
export const SYS_EXIT_BYTES = 24;
/**
 * Bytes of a syscall entry saved for its exit (the task's storage): the number (its byte 4: the
 * strings left for the exit to read) and the six arguments, as in the raw entry record from 8.
 */
export const ARGS_BYTES = 56;
/** The saved number of an entry its exit has taken (no syscall has it). */
export const ARGS_TAKEN = 0xffffffff;

/** Bits of a syscall's entry in the per-syscall flags map. */
export const SC_ENTRY = 1;
export const SC_EXIT = 2;
/** The exit event needs the entry's arguments: saved per task at entry. */
export const SC_SAVE = 4;
/**
 * A string not readable at entry may be read at the exit: the syscall only reads user memory
 * and leaves the address space as it is (not execve), see sysExitProgram.
 */
export const SC_REREAD = 8;
/** Bits 8+4k: 1 + index of the k-th string argument (0: none). */
export const SC_STR_SHIFT = 8;
/**
 * Bits 20-22: the entry arguments a syscall's exit record carries (with FLAG_ARGS: the first n
 * of six, n in the exit record's header byte 15); bits 23-25: the arguments its entry record
 * carries (six when it has string arguments: the strings start at SYS_ENTER_BYTES). The ring
 * write costs by the byte (ADR 0168): what the event's layout never reads is not written.
 */
export const SC_EXIT_ARGS_SHIFT = 20;
export const SC_ENTRY_ARGS_SHIFT = 23;
/** Header byte of an exit record with FLAG_ARGS: the entry arguments it carries. */
export const HDR_EXIT_ARGS = 15;

/** What the syscalls map holds for one syscall (the programs read it: programs.ts). */
export interface SyscallBits {
  enterId: number;
  exitId: number;
  /** Indexes (0-based) of the string arguments copied at entry, in order (3 at most). */
  strings: number[];
  saveArgs: boolean;
  reread?: boolean;
  exitArgs?: number;
  entryArgs?: number;
}

/** The syscalls map's value of a syscall: u32 SC_* bits, u16 entry and u16 exit ftrace ids. */
export function syscallEntry(x: SyscallBits): Buffer {
  let bits = SC_ENTRY | SC_EXIT | (x.saveArgs ? SC_SAVE : 0) | (x.reread === true ? SC_REREAD : 0);
  x.strings.slice(0, 3).forEach((idx, k) => (bits |= (idx + 1) << (SC_STR_SHIFT + 4 * k)));
  const argsOf = (n: number | undefined): number => Math.max(0, Math.min(6, n ?? 6));
  bits |= argsOf(x.exitArgs) << SC_EXIT_ARGS_SHIFT;
  bits |= (x.strings.length > 0 ? 6 : argsOf(x.entryArgs)) << SC_ENTRY_ARGS_SHIFT;
  const v = Buffer.alloc(8);
  v.writeUInt32LE(bits >>> 0, 0);
  v.writeUInt16LE(x.enterId, 4);
  v.writeUInt16LE(x.exitId, 6);
  return v;
}

export interface MapFds {
  ring: number;
  scratch: number;
  lost: number;
  /** tgid → 1: the recorder and its children (not recorded, except the complete set). */
  exclude: number;
  /**
   * ARRAY of one u64: bumped (atomically) by every change of `exclude` after the start; and
   * per-CPU: the last decision (u32 tgid, u32 excluded, u64 that generation), see Gen.exclude.
   */
  excludeGen?: number;
  excludeCache?: number;
  /** Syscall number → u32 SC_* bits, u16 enter and u16 exit ftrace ids (ARRAY of 1024). */
  syscalls: number;
  /** ARRAY of two u32: recording on (1) or not yet / no more (0); [1]: syscall exits. */
  on: number;
  /** Task storage: the saved syscall entry (nr + six arguments, ARGS_BYTES) of each task. */
  args: number;
  /** tid → the six nsproxy namespaces its sched_process_exit saw (LRU). */
  exitNs: number;
  /**
   * Scratch values of the programs that can interrupt, or be interrupted by, others on their
   * CPU (see ADR 0166): the tracepoint programs (never nested: the kernel runs one at a time
   * per CPU), the syscall programs, the wakeup programs and the fork program (raw tracepoints:
   * each runs beside the others, so each kind has its own).
   */
  forkScratch: number;
  sysScratch: number;
  wakeScratch: number;
  /**
   * Per-CPU: the context block of the CPU's last FLAG_CTX_REF record (LAST_CTX_HEAD, then the
   * block). Without it, no record leaves its block out.
   */
  lastCtx?: number;
  /** Selection maps (when selecting): tid, pid-ns inode, cgroup id → 1. */
  selTask?: number;
  selNs?: number;
  selCgroup?: number;
}

export interface GenOptions {
  off: KernelOffsets;
  contexts: readonly BpfContextName[];
  maps: MapFds;
  /** Selection active (the sel* maps are given). */
  select: boolean;
}

/** Offset of the raw record in a record (after header and context block). */
export function rawOffset(contexts: readonly BpfContextName[]): number {
  return (HDR + contextLayout(contexts).size + 7) & ~7;
}

/** Bytes of the per-CPU scratch value: the largest record any program builds. */
export function scratchSize(contexts: readonly BpfContextName[], maxRaw: number): number {
  const r = rawOffset(contexts);
  return Math.max(r + maxRaw, r + SYS_EXIT_BYTES + 48 + 3 * STR_MAX, r + SYS_ENTER_BYTES + 3 * STR_MAX) + 64;
}

/** Namespaces read through the task's nsproxy (the others: thread_pid, cred). */
export const NSPROXY_CONTEXTS = ['net_ns', 'mnt_ns', 'uts_ns', 'ipc_ns', 'cgroup_ns', 'time_ns'] as const;

/** Values that depend on the task's pid-namespace level (read through thread_pid). */
export const PID_CONTEXTS = ['pid_ns', 'vtid', 'vpid', 'vppid'] as const;
/** Bytes saved per task at sched_process_exit (NSPROXY_CONTEXTS then PID_CONTEXTS, u32 each). */
export const EXIT_SAVE_BYTES = 4 * (NSPROXY_CONTEXTS.length + PID_CONTEXTS.length);
