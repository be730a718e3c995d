/**
 * The capture programs of the bpf backend, generated with the assembler (ADR 0162): one
 * builder per kind of program (a tracepoint's raw record, wakeups, syscall entry and exit,
 * fork), each assembled from the generator's pieces (gen.ts) into the record of layout.ts.
 */
import { HELPER, R0, R1, R2, R3, R4, R6, R7, R8, R9, R10 } from '../../bpf/asm.js';
import { Gen } from './gen.js';
import {
  ARGS_BYTES,
  ARGS_TAKEN,
  FLAG_ARGS,
  FLAG_CTX_UNKNOWN,
  FLAG_STR_EXIT,
  FLAG_STR_UNKNOWN,
  HDR_EXIT_ARGS,
  HDR_STR_FAILED,
  HDR_STR_MASK,
  KIND_FORK,
  KIND_RAW,
  KIND_SWITCH_IN,
  MAX_LEVELS,
  MAX_STR_ARGS,
  SC_ENTRY,
  SC_ENTRY_ARGS_SHIFT,
  SC_EXIT,
  SC_EXIT_ARGS_SHIFT,
  SC_REREAD,
  SC_SAVE,
  SC_STR_SHIFT,
  STR_MAX,
  SYS_ENTER_BYTES,
  SYS_EXIT_BYTES,
  SWITCH_IN_BYTES,
  type GenOptions,
} from './layout.js';

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

/**
 * tp_btf sched_switch(preempt, prev, next, prev_state): the context of `next`, read from its
 * task now (KIND_SWITCH_IN). This kernel reports no switch out of some tasks (ADR 0161) and
 * some of them never have a record of their own: the recorder writes the missing switch in
 * the context this record observed (ADR 0167). Switches run with interrupts off and no
 * program runs inside them: the wakeups' scratch is free.
 */
export function switchInProgram(o: GenOptions): Buffer {
  const g = new Gen(o, KIND_SWITCH_IN, o.maps.wakeScratch);
  const a = g.a;
  g.saveCtx();
  g.whenOn();
  g.scratch();
  g.context(16);
  a.ldx(8, R7, R9, 16).ldx(4, R1, R7, o.off.task.pid).stx(4, R6, g.raw, R1);
  a.ldx(4, R1, R7, o.off.task.prio).stx(4, R6, g.raw + 4, R1);
  g.output(g.raw + SWITCH_IN_BYTES);
  return g.finish();
}

/** BPF_LOCAL_STORAGE_GET_F_CREATE. */
const STORAGE_CREATE = 1;

/**
 * Saves the entry's number and arguments (ARGS_BYTES of its raw record, from 8) in the task's
 * storage. When the kernel cannot give storage (out of memory), the exit finds none.
 */
function saveEntry(g: Gen): void {
  const a = g.a;
  const none = a.newLabel('nosave');
  a.call(HELPER.get_current_task_btf).movr(R2, R0);
  a.ldMap(R1, g.o.maps.args).mov(R3, 0).mov(R4, STORAGE_CREATE).call(HELPER.task_storage_get);
  a.jmp('jeq', R0, 0, none);
  for (let i = 0; i < ARGS_BYTES; i += 8) a.ldx(8, R1, R6, g.raw + 8 + i).stx(8, R0, i, R1);
  a.label(none);
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
  saveEntry(g);
  a.label(noSave);
  a.ldx(4, R1, R10, -20);
  const rec = a.newLabel('rec');
  a.jmp('jset', R1, SC_ENTRY, rec).ja(g.out).label(rec);
  // User strings, appended in argument order.
  const strDone = a.newLabel('strdone');
  const limit = g.raw + SYS_ENTER_BYTES + (MAX_STR_ARGS - 1) * STR_MAX;
  // The record ends after the arguments its layout reads (six when strings follow).
  a.ldx(4, R8, R10, -20).alu64('rsh', R8, SC_ENTRY_ARGS_SHIFT).alu64('and', R8, 7);
  a.jmp('jle', R8, 6, 'entn').mov(R8, 6).label('entn');
  a.alu64('lsh', R8, 3).alu64('add', R8, g.raw + 16);
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
  saveEntry(g);
  a.st(1, R6, g.raw + 12, 0);
  a.label(noPend);
  g.outputElided('R8');
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
  a.call(HELPER.get_current_task_btf).movr(R2, R0);
  a.ldMap(R1, o.maps.args).mov(R3, 0).mov(R4, 0).call(HELPER.task_storage_get);
  a.jmp('jeq', R0, 0, send);
  // The saved entry is this syscall's (same number, not taken by an exit yet).
  a.ldx(4, R1, R0, 0)
    .ldx(4, R2, R6, g.raw + 8)
    .jmpr('jne', R1, R2, send);
  a.movr(R7, R0);
  const noArgs = a.newLabel('noargs');
  a.ldx(4, R1, R10, -20).jmp('jset', R1, SC_SAVE, 'cpargs').ja(noArgs).label('cpargs');
  // The first n arguments (the ones the exit's layout reads), n in header byte 15.
  const argsDone = a.newLabel('argsdone');
  a.ldx(4, R3, R10, -20).alu64('rsh', R3, SC_EXIT_ARGS_SHIFT).alu64('and', R3, 7);
  a.jmp('jle', R3, 6, 'argsn').mov(R3, 6).label('argsn');
  a.stx(1, R6, HDR_EXIT_ARGS, R3);
  for (let i = 0; i < 6; i++) {
    a.jmp('jle', R3, i, argsDone);
    a.ldx(8, R1, R7, 8 + 8 * i).stx(8, R6, g.raw + SYS_EXIT_BYTES + 8 * i, R1);
  }
  a.label(argsDone);
  g.flag(FLAG_ARGS);
  a.movr(R8, R3)
    .alu64('lsh', R8, 3)
    .alu64('add', R8, g.raw + SYS_EXIT_BYTES);
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
  // Taken: a later exit of the same number without an entry of its own finds nothing.
  a.label(del);
  a.st(4, R7, 0, ARGS_TAKEN);
  a.label(send);
  a.jmp('jgt', R8, limit + STR_MAX, g.out);
  g.outputElided('R8');
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
  // Its own scratch: a tracepoint program in an interrupt can run inside it (ADR 0166).
  const g = new Gen(o, KIND_FORK, o.maps.forkScratch);
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
    g.bumpExcludeGen();
    a.ja(cont);
    // Not excluded: an entry under the child's tgid is an exited process's whose id was reused.
    a.label(notExcluded);
    a.ldMap(R1, o.maps.exclude).movr(R2, R10).alu64('add', R2, -12).call(HELPER.map_delete_elem);
    a.jmp('jne', R0, 0, cont);
    g.bumpExcludeGen();
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
