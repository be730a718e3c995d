/**
 * The pieces the bpf backend's capture programs are made of (programs.ts assembles them per
 * program): the prologue checks (recording on, exclusion), the scratch record, the context
 * block read from the current task, the selection, the exit-time namespace save, the copy of
 * the raw record and its output to the ring buffer.
 */
import { Asm, HELPER, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, type Reg } from '../../bpf/asm.js';
import type { BpfContextName } from './kernel.js';
import { NS_STRUCTS, contextLayout } from './kernel.js';
import {
  FLAG_CTX_REF,
  FLAG_CTX_SAME,
  FLAG_CTX_UNKNOWN,
  HDR,
  LAST_CTX_HEAD,
  MAX_LEVELS,
  NSPROXY_CONTEXTS,
  PID_CONTEXTS,
  rawOffset,
  type GenOptions,
} from './layout.js';

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
export class Gen {
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

  /** r0 = the value of an array map's entry 0 (a per-CPU one: this CPU's); `miss` when absent. */
  lookupSlot0(mapFd: number, miss: string): void {
    this.a.st(4, R10, -4, 0);
    this.lookup(mapFd, -4, miss);
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

  /**
   * Drops events of the recorder's own processes (and their children). The hash lookup is
   * skipped when this CPU's last decision was for the same tgid and no change of the exclusion
   * map came since (its generation): a running task's membership never changes (a tgid enters
   * or leaves the map only at the fork that creates it), the generation covers tgid reuse.
   * Uses R7, R8.
   */
  exclude(): void {
    const a = this.a;
    const m = this.o.maps;
    a.call(HELPER.get_current_pid_tgid).alu64('rsh', R0, 32).stx(4, R10, -8, R0);
    if (m.excludeGen === undefined || m.excludeCache === undefined) {
      this.lookupHit(m.exclude, -8, this.out);
      return;
    }
    const plain = a.newLabel('xplain');
    const miss = a.newLabel('xmiss');
    const keep = a.newLabel('xkeep');
    const done = a.newLabel('xdone');
    this.lookupSlot0(m.excludeGen, plain);
    a.ldx(8, R7, R0, 0);
    this.lookup(m.excludeCache, -4, plain);
    a.movr(R8, R0);
    a.ldx(8, R1, R8, 8).jmpr('jne', R1, R7, miss);
    a.ldx(4, R1, R8, 0).ldx(4, R2, R10, -8).jmpr('jne', R1, R2, miss);
    a.ldx(4, R1, R8, 4).jmp('jne', R1, 0, this.out).ja(done);
    a.label(miss);
    a.ldMap(R1, m.exclude).movr(R2, R10).alu64('add', R2, -8).call(HELPER.map_lookup_elem);
    a.mov(R1, 0).jmp('jeq', R0, 0, keep).mov(R1, 1).label(keep);
    a.stx(4, R8, 4, R1).ldx(4, R2, R10, -8).stx(4, R8, 0, R2).stx(8, R8, 8, R7);
    a.jmp('jne', R1, 0, this.out).ja(done);
    a.label(plain);
    this.lookupHit(m.exclude, -8, this.out);
    a.label(done);
  }

  /** After a change of the exclusion map: its generation + 1 (atomic; see exclude). */
  bumpExcludeGen(): void {
    const m = this.o.maps;
    if (m.excludeGen === undefined) return;
    const a = this.a;
    const none = a.newLabel('xgnone');
    this.lookupSlot0(m.excludeGen, none);
    a.mov(R1, 1).atomicAdd(8, R0, 0, R1);
    a.label(none);
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
    this.lookupSlot0(this.scratchFd, this.out);
    a.movr(R6, R0);
    a.call(HELPER.get_smp_processor_id).stx(4, R6, 8, R0);
    a.st(4, R6, 12, this.kind << 8);
    a.call(HELPER.get_current_pid_tgid).stx(4, R6, 16, R0).alu64('rsh', R0, 32).stx(4, R6, 20, R0);
  }

  /** Sets flag bits in the record header. */
  flag(bits: number): void {
    this.a.ldx(1, R1, R6, 12).alu64('or', R1, bits).stx(1, R6, 12, R1);
  }

  /**
   * Writes the context block (and hidden selection values) from the current task, or from the
   * task whose pointer is the raw tracepoint's argument `taskArg` (a tp_btf program: R9 holds
   * its arguments; the task's values are read now, as for the current one).
   */
  context(taskArg?: number): void {
    const a = this.a;
    const o = this.o.off;
    const { contexts } = withHidden(this.o);
    const has = (c: BpfContextName): boolean => contexts.includes(c);
    const store = (c: BpfContextName, size: 4 | 8, src: Reg): void => {
      const s = this.slot(c);
      if (s) a.stx(size, s.reg, s.off, src);
    };
    if (taskArg !== undefined) {
      a.ldx(8, R7, R9, taskArg);
      if (has('procname')) {
        const s = this.slot('procname')!;
        a.movr(R1, s.reg).alu64('add', R1, s.off).mov(R2, 16).movr(R3, R7).alu64('add', R3, o.task.comm);
        a.call(HELPER.probe_read_kernel);
      }
      if (has('cgroup_id')) {
        const c = o.cgroupId;
        if (c === undefined) throw new Error('no cgroup id path in this kernel (kernelOffsets.cgroupId)');
        a.ldx(8, R1, R7, c.taskCgroups).ldx(8, R1, R1, c.dflCgrp).ldx(8, R1, R1, c.kn).ldx(8, R1, R1, c.id);
        store('cgroup_id', 8, R1);
      }
    } else {
      if (has('procname')) {
        const s = this.slot('procname')!;
        a.movr(R1, s.reg).alu64('add', R1, s.off).mov(R2, 16).call(HELPER.get_current_comm);
      }
      if (has('cgroup_id')) {
        a.call(HELPER.get_current_cgroup_id);
        store('cgroup_id', 8, R0);
      }
      a.call(HELPER.get_current_task_btf).movr(R7, R0);
    }
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
    this.write(0, len);
    this.a.jmp('jeq', R0, 0, this.out);
    this.countLost(this.out);
  }

  /** Timestamp, then ringbuf_output of scratch from `from` up to `len` (or R8); R0: its result. */
  private write(from: number, len: number | 'R8'): void {
    const a = this.a;
    a.call(HELPER.ktime_get_ns).stx(8, R6, 0, R0);
    // The header moves up to `from` (the last word first: the two may overlap).
    if (from > 0) for (let i = HDR - 8; i >= 0; i -= 8) a.ldx(8, R1, R6, i).stx(8, R6, from + i, R1);
    a.ldMap(R1, this.o.maps.ring).movr(R2, R6);
    if (from > 0) a.alu64('add', R2, from);
    if (len === 'R8') a.movr(R3, R8).alu64('sub', R3, from);
    else a.mov(R3, len - from);
    // BPF_RB_NO_WAKEUP: the consumer polls on a timer; no wakeup work per record.
    a.mov(R4, 1).call(HELPER.ringbuf_output);
  }

  /** One more record lost on this CPU (the ring was full); then `next`. */
  private countLost(next: string): void {
    const a = this.a;
    this.lookupSlot0(this.o.maps.lost, next);
    a.ldx(8, R1, R0, 0).alu64('add', R1, 1).stx(8, R0, 0, R1);
  }

  /**
   * output() that leaves the context block out when it equals, byte for byte, the block of the
   * last record of this CPU marked FLAG_CTX_REF (the per-CPU lastCtx value): FLAG_CTX_SAME, the
   * header copied just before the raw area, written from there. Every value of the block was
   * read from the task at this event; only its bytes stay out of the ring (most records of a
   * syscall-heavy task repeat them, and the ring's bytes are what the producer pays for).
   * Otherwise the whole record, FLAG_CTX_REF, and once it is in the ring its block becomes the
   * reference. A program that interrupts another between its comparison and its write (busy)
   * writes its whole record without touching the reference, so on each CPU the reference an
   * elided record was compared with is the last FLAG_CTX_REF record before it in the ring.
   * Uses R7.
   */
  outputElided(len: number | 'R8'): void {
    const m = this.o.maps;
    const size = contextLayout(this.o.contexts).size;
    if (m.lastCtx === undefined || size === 0) {
      this.output(len);
      return;
    }
    const a = this.a;
    const plain = a.newLabel('ctx_plain');
    const whole = a.newLabel('ctx_whole');
    const lost = a.newLabel('ctx_lost');
    const done = a.newLabel('ctx_done');
    this.lookupSlot0(m.lastCtx, plain);
    a.movr(R7, R0);
    a.ldx(4, R1, R7, 0).jmp('jne', R1, 0, plain);
    a.st(4, R7, 0, 1);
    a.ldx(4, R1, R7, 4).jmp('jeq', R1, 0, whole);
    for (let i = 0; i < size;) {
      const n = size - i >= 8 ? 8 : 4;
      a.ldx(n, R1, R6, HDR + i)
        .ldx(n, R2, R7, LAST_CTX_HEAD + i)
        .jmpr('jne', R1, R2, whole);
      i += n;
    }
    this.flag(FLAG_CTX_SAME);
    this.write(this.raw - HDR, len);
    a.jmp('jne', R0, 0, lost).ja(done);
    a.label(whole);
    this.flag(FLAG_CTX_REF);
    this.write(0, len);
    a.jmp('jne', R0, 0, lost);
    for (let i = 0; i < size;) {
      const n = size - i >= 8 ? 8 : 4;
      a.ldx(n, R1, R6, HDR + i).stx(n, R7, LAST_CTX_HEAD + i, R1);
      i += n;
    }
    a.st(4, R7, 4, 1).ja(done);
    a.label(lost);
    this.countLost(done);
    a.label(done);
    a.st(4, R7, 0, 0).ja(this.out);
    a.label(plain);
    this.output(len);
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
