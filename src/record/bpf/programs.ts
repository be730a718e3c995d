/**
 * The capture programs of the bpf backend, generated with the assembler (ADR 0162). Each
 * builds one record in a per-CPU scratch map and hands it to the ring buffer:
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
 *   R  = align8(24 + context size): the tracepoint's raw ftrace record (KIND_RAW), then
 *      for syscall entries the user strings of its string arguments (NUL-terminated, in
 *      argument order, "" when not read), for syscall exits the entry's six arguments
 *      (FLAG_ARGS), then the strings read at the exit (FLAG_STR_EXIT).
 *
 * Exclusion (the recorder and its children, like tracefs' `set_event_notrace_pid` with
 * `event-fork`) and selection (`--container`, `--pid-ns`, `--cgroup`, ...) happen here, before
 * anything is written.
 */
import { Asm, HELPER, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, type Reg } from '../../bpf/asm.js';
import type { BpfContextName, KernelOffsets } from './kernel.js';
import { NS_STRUCTS, contextLayout } from './kernel.js';

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
/** Header byte of the pending / re-read string masks. */
export const HDR_STR_MASK = 14;
/** Header byte of an entry record: mask of the string arguments not read at entry. */
export const HDR_STR_FAILED = 15;
export const KIND_RAW = 0;
export const KIND_FORK = 1;
/** Pid-namespace levels the programs resolve (deeper: ids and pid ns 0, FLAG_CTX_UNKNOWN). */
export const MAX_LEVELS = 8;
/** Longest user string copied (PATH_MAX, as the tracefs backend). */
export const STR_MAX = 4096;
/** String arguments copied per syscall at most. */
export const MAX_STR_ARGS = 3;
/** Bytes of the raw syscall records (raw_syscalls:sys_enter / sys_exit). */
export const SYS_ENTER_BYTES = 64;
export const SYS_EXIT_BYTES = 24;

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

export interface MapFds {
  ring: number;
  scratch: number;
  lost: number;
  /** tgid → 1: the recorder and its children (not recorded, except the complete set). */
  exclude: number;
  /** Syscall number → u32 SC_* bits, u16 enter and u16 exit ftrace ids (ARRAY of 1024). */
  syscalls: number;
  /** ARRAY of two u32: recording on (1) or not yet / no more (0); [1]: syscall exits. */
  on: number;
  /** tid → saved syscall entry (nr + six arguments). */
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
const NSPROXY_CONTEXTS = ['net_ns', 'mnt_ns', 'uts_ns', 'ipc_ns', 'cgroup_ns', 'time_ns'] as const;

/** Values that depend on the task's pid-namespace level (read through thread_pid). */
const PID_CONTEXTS = ['pid_ns', 'vtid', 'vpid', 'vppid'] as const;
/** Bytes saved per task at sched_process_exit (NSPROXY_CONTEXTS then PID_CONTEXTS, u32 each). */
export const EXIT_SAVE_BYTES = 4 * (NSPROXY_CONTEXTS.length + PID_CONTEXTS.length);
/** Stack area where exitSave builds that value (below the hidden selection slots). */
const EXIT_SAVE_AT = -136;

/** Context values the selection needs even when they are not recorded (hidden slots). */
function withHidden(o: GenOptions): { contexts: BpfContextName[]; hidden: number } {
  const list = [...o.contexts];
  if (o.select) {
    for (const c of ['pid_ns', 'cgroup_id'] as const) if (!list.includes(c)) list.push(c);
  }
  return { contexts: list, hidden: list.length - o.contexts.length };
}

class Gen {
  readonly a = new Asm();
  readonly out = 'out';
  readonly ctxOff: Map<BpfContextName, number>;
  readonly raw: number;
  /** Offset of the hidden context values (selection), after the raw record area. */
  constructor(
    readonly o: GenOptions,
    readonly kind: number,
    /** The per-CPU scratch map (default: the tracepoint programs'). */
    readonly scratchFd = o.maps.scratch,
  ) {
    const { contexts } = withHidden(o);
    const lay = contextLayout(contexts);
    this.ctxOff = new Map([...lay.offsets].map(([k, v]) => [k, HDR + v]));
    this.raw = rawOffset(o.contexts);
    // Hidden values sit past the recorded block: move them to the end of the scratch value.
    let hiddenAt = 0;
    for (const c of contexts.slice(o.contexts.length)) {
      this.ctxOff.set(c, -1 - hiddenAt);
      hiddenAt++;
    }
  }

  /** Where context `c` goes in the scratch value (hidden ones: at the end of the stack frame). */
  slot(c: BpfContextName): { reg: Reg; off: number } | undefined {
    const v = this.ctxOff.get(c);
    if (v === undefined) return undefined;
    if (v >= 0) return { reg: R6, off: v };
    // Hidden: stack slots R10-64.. (8 bytes each).
    return { reg: R10, off: -64 - 8 * (-1 - v) };
  }

  /** r1 = map lookup of a u32/u64 key stored at R10+keyOff; jumps to `miss` when absent. */
  lookup(mapFd: number, keyOff: number, miss: string): void {
    const a = this.a;
    a.ldMap(R1, mapFd).movr(R2, R10).alu64('add', R2, keyOff).call(HELPER.map_lookup_elem);
    a.jmp('jeq', R0, 0, miss);
  }

  saveCtx(): void {
    this.a.movr(R9, R1);
  }

  /**
   * Out unless recording is on (the `on` map's value): the recorder attaches every program,
   * then turns recording on, and off before it detaches them, so that all start and stop
   * together (attaching or detaching takes tens of ms per program). Switch 1 is the syscall
   * exits': they stop a little after the rest, so that the syscalls in flight at the end bring
   * the strings they read at their exit (ADR 0164).
   */
  whenOn(which: 0 | 1 = 0): void {
    const a = this.a;
    a.st(4, R10, -4, which);
    this.lookup(this.o.maps.on, -4, this.out);
    a.ldx(4, R1, R0, 0).jmp('jeq', R1, 0, this.out);
  }

  /** Drops events of the recorder's own processes (and their children). */
  exclude(): void {
    const a = this.a;
    a.call(HELPER.get_current_pid_tgid).alu64('rsh', R0, 32).stx(4, R10, -8, R0);
    this.lookupHit(this.o.maps.exclude, -8, this.out);
  }

  /** Jumps to `hit` when the key at R10+keyOff is in the map. */
  lookupHit(mapFd: number, keyOff: number, hit: string): void {
    const a = this.a;
    a.ldMap(R1, mapFd).movr(R2, R10).alu64('add', R2, keyOff).call(HELPER.map_lookup_elem);
    a.jmp('jne', R0, 0, hit);
  }

  /** R6 = the per-CPU scratch record; cpu, flags and kind written (the time: see output). */
  scratch(): void {
    const a = this.a;
    a.st(4, R10, -4, 0);
    this.lookup(this.scratchFd, -4, this.out);
    a.movr(R6, R0);
    a.call(HELPER.get_smp_processor_id).stx(4, R6, 8, R0);
    a.st(4, R6, 12, this.kind << 8);
    a.call(HELPER.get_current_pid_tgid).stx(4, R6, 16, R0).alu64('rsh', R0, 32).stx(4, R6, 20, R0);
  }

  /** Sets flag bits in the record header. */
  flag(bits: number): void {
    this.a.ldx(1, R1, R6, 12).alu64('or', R1, bits).stx(1, R6, 12, R1);
  }

  /** Writes the context block (and hidden selection values) from the current task. */
  context(): void {
    const a = this.a;
    const o = this.o.off;
    const { contexts } = withHidden(this.o);
    const has = (c: BpfContextName): boolean => contexts.includes(c);
    const store = (c: BpfContextName, size: 4 | 8, src: Reg): void => {
      const s = this.slot(c);
      if (s) a.stx(size, s.reg, s.off, src);
    };
    if (has('procname')) {
      const s = this.slot('procname')!;
      a.movr(R1, s.reg).alu64('add', R1, s.off).mov(R2, 16).call(HELPER.get_current_comm);
    }
    if (has('cgroup_id')) {
      a.call(HELPER.get_current_cgroup_id);
      store('cgroup_id', 8, R0);
    }
    a.call(HELPER.get_current_task_btf).movr(R7, R0);
    if (has('tid')) {
      a.ldx(4, R1, R7, o.task.pid);
      store('tid', 4, R1);
    }
    if (has('pid')) {
      a.ldx(4, R1, R7, o.task.tgid);
      store('pid', 4, R1);
    }
    if (has('ppid')) {
      a.ldx(8, R1, R7, o.task.realParent).ldx(4, R1, R1, o.task.tgid);
      store('ppid', 4, R1);
    }
    if (has('user_ns')) {
      a.ldx(8, R1, R7, o.task.cred).ldx(8, R1, R1, o.credUserNs).ldx(4, R1, R1, o.inum.user_ns);
      store('user_ns', 4, R1);
    }
    const viaNsproxy = NSPROXY_CONTEXTS.filter(has);
    if (viaNsproxy.length > 0) {
      // An exiting task has released its nsproxy (exit_task_namespaces): its last events
      // (the wakeup of its parent, its last switch, ...) take the namespaces its
      // sched_process_exit saw, saved by that event's program (exitSave below).
      const fallback = a.newLabel('nsnull');
      const nsDone = a.newLabel('nsdone');
      a.ldx(8, R1, R7, o.task.nsproxy).jmp('jeq', R1, 0, fallback);
      for (const c of viaNsproxy) {
        a.ldx(8, R2, R1, o.nsproxy[NS_STRUCTS[c].nsproxy]!).ldx(4, R2, R2, o.inum[c]);
        store(c, 4, R2);
      }
      a.ja(nsDone).label(fallback);
      const none = a.newLabel('nsnone');
      a.ldx(4, R1, R7, o.task.pid).stx(4, R10, -12, R1);
      this.lookup(this.o.maps.exitNs, -12, none);
      NSPROXY_CONTEXTS.forEach((c, i) => {
        if (!has(c)) return;
        a.ldx(4, R2, R0, 4 * i);
        store(c, 4, R2);
      });
      a.ja(nsDone).label(none).mov(R2, 0);
      for (const c of viaNsproxy) store(c, 4, R2);
      a.label(nsDone);
    }
    const levelDependent = PID_CONTEXTS.filter(has);
    if (levelDependent.length === 0) return;
    // The pid-namespace level L of the task; ids at level L are the ones seen from its own
    // namespace (kernel/pid.c). The loads below need constant offsets: one branch per level.
    const done = a.newLabel('lv_done');
    const gone = a.newLabel('pid_gone');
    const none = a.newLabel('pid_none');
    a.ldx(8, R1, R7, o.task.threadPid).jmp('jeq', R1, 0, gone);
    a.ldx(4, R8, R1, o.pid.level);
    for (let l = 0; l < MAX_LEVELS; l++) {
      const next = a.newLabel('lv');
      const up = o.pid.numbers + l * o.pid.upidSize;
      a.jmp('jne', R8, l, next);
      a.ldx(8, R1, R7, o.task.threadPid);
      if (has('vtid')) {
        a.ldx(4, R2, R1, up + o.pid.upidNr);
        store('vtid', 4, R2);
      }
      a.ldx(8, R3, R1, up + o.pid.upidNs); // the task's active pid namespace
      if (has('pid_ns')) {
        a.ldx(4, R2, R3, o.inum.pid_ns);
        store('pid_ns', 4, R2);
      }
      if (has('vpid')) {
        const z = a.newLabel('vpid0');
        const w = a.newLabel('vpidw');
        a.mov(R2, 0);
        a.ldx(8, R1, R7, o.task.signal).ldx(8, R1, R1, o.signalTgidPid);
        a.ldx(4, R4, R1, o.pid.level).jmp('jlt', R4, l, z);
        a.ldx(4, R2, R1, up + o.pid.upidNr).ja(w);
        a.label(z).mov(R2, 0).label(w);
        store('vpid', 4, R2);
      }
      if (has('vppid')) {
        // The parent's tgid as seen from the task's namespace, 0 when not visible there.
        const z = a.newLabel('vppid0');
        const w = a.newLabel('vppidw');
        a.ldx(8, R1, R7, o.task.realParent).ldx(8, R1, R1, o.task.signal).ldx(8, R1, R1, o.signalTgidPid);
        a.ldx(4, R4, R1, o.pid.level).jmp('jlt', R4, l, z);
        a.ldx(8, R5, R1, up + o.pid.upidNs).jmpr('jne', R5, R3, z);
        a.ldx(4, R2, R1, up + o.pid.upidNr).ja(w);
        a.label(z).mov(R2, 0).label(w);
        store('vppid', 4, R2);
      }
      a.ja(done);
      a.label(next);
    }
    // Deeper than MAX_LEVELS: unknown (0), flagged.
    a.mov(R2, 0);
    for (const c of levelDependent) store(c, 4, R2);
    this.flag(FLAG_CTX_UNKNOWN);
    a.ja(done);
    // Reaped (its pid detached) before this event, its last switch: what its
    // sched_process_exit saw, else unknown (0, flagged).
    a.label(gone);
    a.ldx(4, R1, R7, o.task.pid).stx(4, R10, -12, R1);
    this.lookup(this.o.maps.exitNs, -12, none);
    for (const c of levelDependent) {
      a.ldx(4, R2, R0, 4 * (NSPROXY_CONTEXTS.length + PID_CONTEXTS.indexOf(c)));
      store(c, 4, R2);
    }
    a.ja(done);
    a.label(none).mov(R2, 0);
    for (const c of levelDependent) store(c, 4, R2);
    this.flag(FLAG_CTX_UNKNOWN);
    a.label(done);
  }

  /**
   * Selection: continue when the task is selected (its tid, pid namespace or cgroup, or an
   * ancestor cgroup, is in the selection maps), else try `other` (where a tid is: the other
   * task of a scheduling event), else drop the event.
   */
  select(other?: { reg: Reg; off: number }): void {
    if (!this.o.select) return;
    const a = this.a;
    const m = this.o.maps;
    const yes = a.newLabel('sel_yes');
    const no = a.newLabel('sel_no');
    const tryNs = a.newLabel('sel_ns');
    const tryCg = a.newLabel('sel_cg');
    // tid
    a.call(HELPER.get_current_pid_tgid).stx(4, R10, -8, R0);
    a.ldMap(R1, m.selTask!).movr(R2, R10).alu64('add', R2, -8).call(HELPER.map_lookup_elem);
    a.jmp('jne', R0, 0, yes);
    // pid namespace
    a.label(tryNs);
    const ns = this.slot('pid_ns')!;
    a.ldx(4, R1, ns.reg, ns.off).stx(4, R10, -12, R1);
    a.ldMap(R1, m.selNs!).movr(R2, R10).alu64('add', R2, -12).call(HELPER.map_lookup_elem);
    a.jmp('jne', R0, 0, 'sel_remember');
    // cgroup and its ancestors (levels 1..8 from the root)
    a.label(tryCg);
    const cg = this.slot('cgroup_id')!;
    a.ldx(8, R1, cg.reg, cg.off).stx(8, R10, -40, R1);
    a.ldMap(R1, m.selCgroup!).movr(R2, R10).alu64('add', R2, -40).call(HELPER.map_lookup_elem);
    a.jmp('jne', R0, 0, 'sel_remember');
    for (let lvl = 1; lvl <= 8; lvl++) {
      a.mov(R1, lvl).call(123 /* get_current_ancestor_cgroup_id */);
      a.jmp('jeq', R0, 0, no);
      a.stx(8, R10, -40, R0);
      a.ldMap(R1, m.selCgroup!).movr(R2, R10).alu64('add', R2, -40).call(HELPER.map_lookup_elem);
      a.jmp('jne', R0, 0, 'sel_remember');
    }
    a.label(no);
    if (other !== undefined) {
      a.ldx(4, R1, other.reg, other.off).stx(4, R10, -8, R1);
      a.ldMap(R1, m.selTask!).movr(R2, R10).alu64('add', R2, -8).call(HELPER.map_lookup_elem);
      a.jmp('jne', R0, 0, yes);
    }
    a.ja(this.out);
    // Matched by namespace or cgroup: remember the tid (scheduling events of the other side
    // look tasks up by tid).
    a.label('sel_remember');
    a.st(1, R10, -32, 1);
    a.ldMap(R1, m.selTask!).movr(R2, R10).alu64('add', R2, -8).movr(R3, R10).alu64('add', R3, -32).mov(R4, 0);
    a.call(HELPER.map_update_elem);
    a.label(yes);
  }

  /**
   * sched_process_exit (before exit_task_namespaces): saves the task's nsproxy namespaces and
   * pid-namespace values for its last events, which come after it has released them (its
   * thread_pid is gone once its parent has reaped it, which can be before its last switch).
   */
  exitSave(): void {
    const a = this.a;
    const { contexts } = withHidden(this.o);
    [...NSPROXY_CONTEXTS, ...PID_CONTEXTS].forEach((c, i) => {
      const s = contexts.includes(c) ? this.slot(c) : undefined;
      if (s) a.ldx(4, R1, s.reg, s.off).stx(4, R10, EXIT_SAVE_AT + 4 * i, R1);
      else a.st(4, R10, EXIT_SAVE_AT + 4 * i, 0);
    });
    a.ldx(4, R1, R6, 16).stx(4, R10, -12, R1);
    a.ldMap(R1, this.o.maps.exitNs)
      .movr(R2, R10)
      .alu64('add', R2, -12)
      .movr(R3, R10)
      .alu64('add', R3, EXIT_SAVE_AT);
    a.mov(R4, 0).call(HELPER.map_update_elem);
  }

  /**
   * Copies `n` bytes of the tracepoint's record to the raw area. Its first 8 bytes are not the
   * record's (perf puts a pt_regs pointer there): common_type is rewritten from the attachment's
   * cookie (the ftrace id), the tid (common_pid) from the current task.
   */
  copyRaw(n: number): void {
    const a = this.a;
    a.movr(R1, R6).alu64('add', R1, this.raw).mov(R2, n).movr(R3, R9).call(HELPER.probe_read_kernel);
    a.movr(R1, R9).call(HELPER.get_attach_cookie).stx(2, R6, this.raw, R0);
    a.st(2, R6, this.raw + 2, 0);
    a.ldx(4, R1, R6, 16).stx(4, R6, this.raw + 4, R1);
  }

  /** Timestamps, then ringbuf_output of `len` bytes of scratch (or R8); counts failures. */
  output(len: number | 'R8'): void {
    const a = this.a;
    a.call(HELPER.ktime_get_ns).stx(8, R6, 0, R0);
    a.ldMap(R1, this.o.maps.ring).movr(R2, R6);
    if (len === 'R8') a.movr(R3, R8);
    else a.mov(R3, len);
    // BPF_RB_NO_WAKEUP: the consumer polls on a timer; no wakeup work per record.
    a.mov(R4, 1).call(HELPER.ringbuf_output);
    a.jmp('jeq', R0, 0, this.out);
    a.st(4, R10, -4, 0);
    this.lookup(this.o.maps.lost, -4, this.out);
    a.ldx(8, R1, R0, 0).alu64('add', R1, 1).stx(8, R0, 0, R1);
  }

  /**
   * Jumps to `no` unless the current task is the only user of its address space
   * (mm->mm_users == 1): no thread, no vfork child, nobody reading or writing it through
   * /proc/PID/mem, process_vm_*, ptrace at this instant.
   */
  aloneInMm(no: string): void {
    const a = this.a;
    a.call(HELPER.get_current_task_btf).ldx(8, R1, R0, this.o.off.task.mm).jmp('jeq', R1, 0, no);
    a.ldx(4, R1, R1, this.o.off.mmUsers).jmp('jne', R1, 1, no);
  }

  finish(): Buffer {
    this.a.label(this.out).mov(R0, 0).exit();
    return this.a.assemble();
  }
}

/**
 * A program for one tracepoint whose raw record is copied whole (`copy` bytes: the fixed part,
 * plus room for dynamic strings when the format has `__data_loc` fields).
 */
export function tracepointProgram(
  o: GenOptions,
  opts: { copy: number; exclude: boolean; otherTidAt?: number; saveExitNs?: boolean },
): Buffer {
  const g = new Gen(o, KIND_RAW);
  g.saveCtx();
  g.whenOn();
  if (opts.exclude) g.exclude();
  g.scratch();
  g.context();
  if (opts.saveExitNs) g.exitSave();
  g.select(opts.otherTidAt !== undefined ? { reg: R9, off: opts.otherTidAt } : undefined);
  g.copyRaw(opts.copy);
  g.output(g.raw + opts.copy);
  return g.finish();
}

/** Bytes of a sched_waking / sched_wakeup / sched_wakeup_new record (see wakeupProgram). */
export const WAKEUP_BYTES = 40;

/**
 * tp_btf sched_waking / sched_wakeup / sched_wakeup_new(p): the record the kernel's
 * tracepoint writes (common fields with type `ftraceId`, comm[16] at 8, pid at 24, prio at
 * 28, target_cpu at 32), read from the woken task now. A raw tracepoint so that a wakeup
 * from an interrupt is recorded while a tracepoint program runs on the CPU (the kernel skips
 * a tracepoint program then: the woken task would seem blocked until it runs, ADR 0166).
 * Wakeups run with interrupts off: the three share one scratch.
 */
export function wakeupProgram(o: GenOptions, opts: { ftraceId: number; exclude: boolean }): Buffer {
  const g = new Gen(o, KIND_RAW, o.maps.wakeScratch);
  const a = g.a;
  const k = o.off;
  const R = g.raw;
  g.saveCtx();
  g.whenOn();
  if (opts.exclude) g.exclude();
  g.scratch();
  g.context();
  a.st(4, R6, R, opts.ftraceId);
  a.ldx(4, R1, R6, 16).stx(4, R6, R + 4, R1);
  a.ldx(8, R3, R9, 0).alu64('add', R3, k.task.comm);
  a.movr(R1, R6)
    .alu64('add', R1, R + 8)
    .mov(R2, 16)
    .call(HELPER.probe_read_kernel);
  a.ldx(8, R7, R9, 0); // struct task_struct *p
  a.ldx(4, R1, R7, k.task.pid).stx(4, R6, R + 24, R1);
  a.ldx(4, R1, R7, k.task.prio).stx(4, R6, R + 28, R1);
  a.ldx(4, R1, R7, k.task.cpu).stx(4, R6, R + 32, R1);
  a.st(4, R6, R + 36, 0);
  g.select({ reg: R6, off: R + 24 });
  g.output(R + WAKEUP_BYTES);
  return g.finish();
}

/** x86's thread_info.status bit of a 32-bit syscall (TS_COMPAT). */
const TS_COMPAT = 2;

/**
 * The raw_syscalls record, built from the arguments of the raw tracepoint (regs, and the
 * number at entry or the return value at exit) as the kernel's sys_enter/sys_exit events
 * lay it out: common fields, the number at 8, then the six arguments (syscall_get_arguments'
 * registers) or the return value. A 32-bit syscall of a compat task is not recorded: its
 * number and registers would be read as another, 64-bit, syscall.
 */
function sysRaw(g: Gen, enter: boolean): void {
  const a = g.a;
  const k = g.o.off;
  a.call(HELPER.get_current_task_btf).ldx(4, R1, R0, k.sysRegs.status).jmp('jset', R1, TS_COMPAT, g.out);
  a.st(4, R6, g.raw, 0);
  a.ldx(4, R1, R6, 16).stx(4, R6, g.raw + 4, R1);
  a.ldx(8, R7, R9, 0); // struct pt_regs *
  if (enter) {
    a.ldx(8, R1, R9, 8).stx(8, R6, g.raw + 8, R1);
    k.sysRegs.args.forEach((off, i) => a.ldx(8, R1, R7, off).stx(8, R6, g.raw + 16 + 8 * i, R1));
  } else {
    a.ldx(8, R1, R7, k.sysRegs.nr).stx(8, R6, g.raw + 8, R1);
    a.ldx(8, R1, R9, 8).stx(8, R6, g.raw + 16, R1);
  }
}

/**
 * raw_syscalls:sys_{enter,exit}: the syscall number (at 8 in the record) selects an entry of
 * the syscalls map: u32 SC_* bits, u16 ftrace id of syscalls:sys_enter_<name>, u16 of
 * sys_exit_<name>. Out when the syscall is not recorded; else the bits go to R10-20 and the
 * record's common_type becomes that ftrace id (the layouts of raw_syscalls and of
 * syscalls:sys_*_<name> records agree: number at 8, arguments or ret from 16).
 */
function syscallFlags(g: Gen, need: number, exit: boolean): void {
  const a = g.a;
  a.ldx(8, R1, R6, g.raw + 8);
  a.jmp('jgt', R1, 1023, g.out);
  a.stx(4, R10, -16, R1);
  g.lookup(g.o.maps.syscalls, -16, g.out);
  a.ldx(4, R1, R0, 0);
  const ok = a.newLabel('scok');
  a.jmp('jset', R1, need, ok).ja(g.out).label(ok);
  a.stx(4, R10, -20, R1);
  a.ldx(2, R1, R0, exit ? 6 : 4).stx(2, R6, g.raw, R1);
}

/**
 * raw_syscalls:sys_enter (a tp_btf program: unlike a tracepoint program, it does not keep
 * the interrupt's programs from running while it runs, ADR 0166): the entries of the
 * selected syscalls, their user strings copied now, at entry (what the syscall is about to
 * read), and the arguments saved for the exit.
 */
export function sysEnterProgram(o: GenOptions, exclude: boolean): Buffer {
  const g = new Gen(o, KIND_RAW, o.maps.sysScratch);
  const a = g.a;
  g.saveCtx();
  g.whenOn();
  if (exclude) g.exclude();
  g.scratch();
  sysRaw(g, true);
  syscallFlags(g, SC_ENTRY | SC_SAVE, false);
  g.context();
  g.select();
  // Arguments for the exit (id + args[6] = 56 bytes of the raw record, keyed by tid).
  const noSave = a.newLabel('nosave');
  a.ldx(4, R1, R10, -20).jmp('jset', R1, SC_SAVE, 'save').ja(noSave).label('save');
  a.call(HELPER.get_current_pid_tgid).stx(4, R10, -8, R0);
  a.ldMap(R1, o.maps.args).movr(R2, R10).alu64('add', R2, -8);
  a.movr(R3, R6)
    .alu64('add', R3, g.raw + 8)
    .mov(R4, 0)
    .call(HELPER.map_update_elem);
  a.label(noSave);
  a.ldx(4, R1, R10, -20);
  const rec = a.newLabel('rec');
  a.jmp('jset', R1, SC_ENTRY, rec).ja(g.out).label(rec);
  // User strings, appended in argument order.
  const strDone = a.newLabel('strdone');
  const limit = g.raw + SYS_ENTER_BYTES + (MAX_STR_ARGS - 1) * STR_MAX;
  a.mov(R8, g.raw + SYS_ENTER_BYTES);
  for (let k = 0; k < MAX_STR_ARGS; k++) {
    const got = a.newLabel('strok');
    const next = a.newLabel('strnext');
    a.ldx(4, R1, R10, -20)
      .alu64('rsh', R1, SC_STR_SHIFT + 4 * k)
      .alu64('and', R1, 0xf);
    a.jmp('jeq', R1, 0, strDone);
    a.alu64('sub', R1, 1).jmp('jgt', R1, 5, strDone);
    a.alu64('lsh', R1, 3)
      .movr(R2, R6)
      .alu64r('add', R2, R1)
      .ldx(8, R3, R2, g.raw + 16);
    a.jmp('jgt', R8, limit, strDone);
    a.movr(R1, R6).alu64r('add', R1, R8).mov(R2, STR_MAX).call(HELPER.probe_read_user_str);
    a.jmp('jsgt', R0, 0, got);
    // Not readable now (a page not present: faults are not allowed here): empty, unknown.
    a.jmp('jgt', R8, limit, strDone);
    a.movr(R1, R6).alu64r('add', R1, R8).st(1, R1, 0, 0);
    g.flag(FLAG_STR_UNKNOWN);
    a.ldx(1, R1, R6, HDR_STR_FAILED)
      .alu64('or', R1, 1 << k)
      .stx(1, R6, HDR_STR_FAILED, R1);
    // Left for the exit to read (bit k of byte 14) when the syscall allows it and the task is
    // alone in its address space now (it cannot gain a sharer while inside this syscall).
    const noRe = a.newLabel('nore');
    const re = a.newLabel('re');
    a.ldx(4, R1, R10, -20).jmp('jset', R1, SC_REREAD, re).ja(noRe).label(re);
    g.aloneInMm(noRe);
    a.ldx(1, R1, R6, HDR_STR_MASK)
      .alu64('or', R1, 1 << k)
      .stx(1, R6, HDR_STR_MASK, R1);
    a.label(noRe);
    a.mov(R0, 1);
    a.label(got);
    a.jmp('jle', R0, STR_MAX, next).mov(R0, STR_MAX).label(next);
    a.alu64r('add', R8, R0);
  }
  a.label(strDone);
  a.jmp('jgt', R8, limit + STR_MAX, g.out);
  // Strings left for the exit: the arguments are saved with the mask (byte 4 of the saved
  // number, padding in the raw record) for the exit program.
  const noPend = a.newLabel('nopend');
  a.ldx(1, R1, R6, HDR_STR_MASK).jmp('jeq', R1, 0, noPend);
  a.stx(1, R6, g.raw + 12, R1);
  a.call(HELPER.get_current_pid_tgid).stx(4, R10, -8, R0);
  a.ldMap(R1, o.maps.args).movr(R2, R10).alu64('add', R2, -8);
  a.movr(R3, R6)
    .alu64('add', R3, g.raw + 8)
    .mov(R4, 0)
    .call(HELPER.map_update_elem);
  a.st(1, R6, g.raw + 12, 0);
  a.label(noPend);
  g.output('R8');
  return g.finish();
}

/**
 * raw_syscalls:sys_exit (tp_btf, as the entry): the exits of the selected syscalls, with the
 * entry's arguments.
 */
export function sysExitProgram(o: GenOptions, exclude: boolean): Buffer {
  const g = new Gen(o, KIND_RAW, o.maps.sysScratch);
  const a = g.a;
  g.saveCtx();
  g.whenOn(1);
  if (exclude) g.exclude();
  g.scratch();
  sysRaw(g, false);
  syscallFlags(g, SC_EXIT, true);
  g.context();
  g.select();
  a.mov(R8, g.raw + SYS_EXIT_BYTES);
  const send = a.newLabel('send');
  const del = a.newLabel('del');
  a.ldx(4, R1, R10, -20)
    .jmp('jset', R1, SC_SAVE | SC_REREAD, 'args')
    .ja(send)
    .label('args');
  a.call(HELPER.get_current_pid_tgid).stx(4, R10, -8, R0);
  g.lookup(o.maps.args, -8, send);
  // The saved entry is this syscall's (same number).
  a.ldx(4, R1, R0, 0)
    .ldx(4, R2, R6, g.raw + 8)
    .jmpr('jne', R1, R2, send);
  a.movr(R7, R0);
  const noArgs = a.newLabel('noargs');
  a.ldx(4, R1, R10, -20).jmp('jset', R1, SC_SAVE, 'cpargs').ja(noArgs).label('cpargs');
  for (let i = 0; i < 6; i++) a.ldx(8, R1, R7, 8 + 8 * i).stx(8, R6, g.raw + SYS_EXIT_BYTES + 8 * i, R1);
  g.flag(FLAG_ARGS);
  a.mov(R8, g.raw + SYS_EXIT_BYTES + 48);
  a.label(noArgs);
  // Strings the entry could not read (mask in byte 4 of the saved number): read again now.
  // The kernel has copied them during the syscall (their pages are resident), from the same
  // address space (not execve: SC_REREAD), at the same addresses (the saved arguments), and
  // nobody else could write them in between when the task was alone in its address space at
  // the entry and is now. One string per pending bit, "" when not read; byte 14 says which.
  a.ldx(1, R1, R7, 4).jmp('jeq', R1, 0, del);
  a.stx(1, R10, -24, R1);
  g.flag(FLAG_STR_EXIT);
  a.st(1, R10, -28, 0);
  const notAlone = a.newLabel('notalone');
  g.aloneInMm(notAlone);
  a.st(1, R10, -28, 1);
  a.label(notAlone);
  const limit = g.raw + SYS_EXIT_BYTES + 48 + (MAX_STR_ARGS - 1) * STR_MAX;
  for (let k = 0; k < MAX_STR_ARGS; k++) {
    const skip = a.newLabel('xs');
    const fail = a.newLabel('xf');
    const got = a.newLabel('xg');
    const next = a.newLabel('xn');
    a.ldx(1, R1, R10, -24)
      .jmp('jset', R1, 1 << k, `xdo${k}`)
      .ja(skip)
      .label(`xdo${k}`);
    a.jmp('jgt', R8, limit, del);
    a.ldx(1, R1, R10, -28).jmp('jeq', R1, 0, fail);
    a.ldx(4, R1, R10, -20)
      .alu64('rsh', R1, SC_STR_SHIFT + 4 * k)
      .alu64('and', R1, 0xf);
    a.jmp('jeq', R1, 0, fail);
    a.alu64('sub', R1, 1).jmp('jgt', R1, 5, fail);
    a.alu64('lsh', R1, 3).movr(R2, R7).alu64r('add', R2, R1).ldx(8, R3, R2, 8);
    a.movr(R1, R6).alu64r('add', R1, R8).mov(R2, STR_MAX).call(HELPER.probe_read_user_str);
    a.jmp('jsgt', R0, 0, got);
    a.label(fail);
    a.jmp('jgt', R8, limit, del);
    a.movr(R1, R6).alu64r('add', R1, R8).st(1, R1, 0, 0);
    a.mov(R0, 1).ja(next);
    a.label(got);
    a.ldx(1, R1, R6, HDR_STR_MASK)
      .alu64('or', R1, 1 << k)
      .stx(1, R6, HDR_STR_MASK, R1);
    a.jmp('jle', R0, STR_MAX, next).mov(R0, STR_MAX);
    a.label(next);
    a.alu64r('add', R8, R0);
    a.label(skip);
  }
  a.label(del);
  a.ldMap(R1, o.maps.args).movr(R2, R10).alu64('add', R2, -8).call(HELPER.map_delete_elem);
  a.label(send);
  a.jmp('jgt', R8, limit + STR_MAX, g.out);
  g.output('R8');
  return g.finish();
}

/** Bytes of the fork record after the context block (see forkProgram). */
export const FORK_BYTES = 64 + 4 * MAX_LEVELS;

/**
 * tp_btf sched_process_fork(parent, child): what lttng-modules writes for a fork, from both
 * task structs: +0 parent comm[16], +16 parent tid, +20 parent tgid, +24 parent pid-ns inode,
 * +28 child tid, +32 child tgid, +36 child pid-ns inode, +40 child levels (L+1),
 * +44 child comm[16], +60 child vtids[MAX_LEVELS] (root first).
 */
export function forkProgram(o: GenOptions, excludeChildren: boolean): Buffer {
  const g = new Gen(o, KIND_FORK);
  const a = g.a;
  const k = o.off;
  const R = g.raw;
  g.saveCtx();
  a.st(1, R10, -32, 1);
  if (excludeChildren) {
    // A child of an excluded process is excluded too (tracefs' event-fork).
    const cont = a.newLabel('excl');
    const notExcluded = a.newLabel('nexcl');
    a.call(HELPER.get_current_pid_tgid).alu64('rsh', R0, 32).stx(4, R10, -8, R0);
    a.ldx(8, R1, R9, 8).ldx(4, R1, R1, k.task.tgid).stx(4, R10, -12, R1);
    g.lookup(o.maps.exclude, -8, notExcluded);
    a.ldMap(R1, o.maps.exclude).movr(R2, R10).alu64('add', R2, -12).movr(R3, R10).alu64('add', R3, -32);
    a.mov(R4, 0).call(HELPER.map_update_elem);
    a.ja(cont);
    // Not excluded: an entry under the child's tgid is an exited process's whose id was reused.
    a.label(notExcluded);
    a.ldMap(R1, o.maps.exclude).movr(R2, R10).alu64('add', R2, -12).call(HELPER.map_delete_elem);
    a.label(cont);
  }
  if (o.select) {
    // The child is a new task: an entry under its tid is an exited task's whose id was reused
    // (set again below when the parent is selected).
    a.ldx(8, R1, R9, 8).ldx(4, R1, R1, k.task.pid).stx(4, R10, -12, R1);
    a.ldMap(R1, o.maps.selTask!).movr(R2, R10).alu64('add', R2, -12).call(HELPER.map_delete_elem);
  }
  g.whenOn();
  g.scratch();
  g.context();
  g.select();
  if (o.select) {
    // The parent is selected: so is the child, wherever it goes (new namespaces, cgroups).
    a.ldx(8, R1, R9, 8).ldx(4, R1, R1, k.task.pid).stx(4, R10, -12, R1);
    a.st(1, R10, -32, 1);
    a.ldMap(R1, o.maps.selTask!).movr(R2, R10).alu64('add', R2, -12).movr(R3, R10).alu64('add', R3, -32);
    a.mov(R4, 0).call(HELPER.map_update_elem);
  }
  for (const [argOff, base] of [
    [0, 0],
    [8, 28],
  ] as const) {
    const child = base !== 0;
    a.ldx(8, R7, R9, argOff); // task_struct *
    a.movr(R1, R6)
      .alu64('add', R1, R + (child ? 44 : 0))
      .mov(R2, 16)
      .movr(R3, R7)
      .alu64('add', R3, k.task.comm);
    a.call(HELPER.probe_read_kernel);
    a.ldx(8, R7, R9, argOff);
    a.ldx(4, R1, R7, k.task.pid).stx(4, R6, R + base + (child ? 0 : 16), R1);
    a.ldx(4, R1, R7, k.task.tgid).stx(4, R6, R + base + (child ? 4 : 20), R1);
    // Pid namespace (and, for the child, its ids at every level).
    const done = a.newLabel('fk');
    a.ldx(8, R1, R7, k.task.threadPid).ldx(4, R8, R1, k.pid.level);
    if (child) {
      a.movr(R2, R8)
        .alu64('add', R2, 1)
        .stx(4, R6, R + 40, R2);
      for (let l = 0; l < MAX_LEVELS; l++) {
        const skip = a.newLabel('vt');
        a.jmp('jlt', R8, l, skip);
        a.ldx(4, R2, R1, k.pid.numbers + l * k.pid.upidSize + k.pid.upidNr);
        a.stx(4, R6, R + 60 + 4 * l, R2);
        a.label(skip);
      }
    }
    const inumAt = R + base + (child ? 8 : 24);
    for (let l = 0; l < MAX_LEVELS; l++) {
      const next = a.newLabel('fl');
      a.jmp('jne', R8, l, next);
      a.ldx(8, R2, R1, k.pid.numbers + l * k.pid.upidSize + k.pid.upidNs).ldx(4, R2, R2, k.inum.pid_ns);
      a.stx(4, R6, inumAt, R2).ja(done);
      a.label(next);
    }
    a.st(4, R6, inumAt, 0);
    g.flag(FLAG_CTX_UNKNOWN);
    a.label(done);
  }
  g.output(R + FORK_BYTES);
  return g.finish();
}

export const _internal = { Gen };
