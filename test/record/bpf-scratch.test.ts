/**
 * Which per-CPU scratch value each capture program builds its record in (ADR 0166). Programs
 * that can run inside one another on a CPU must not share one: the inner program would
 * overwrite the record the outer one is building. The kernel runs one tracepoint program at a
 * time per CPU, but raw tracepoint programs (syscalls, wakeups, switch-in, fork) run whatever
 * runs, so an interrupt's tracepoint program can run inside them.
 *
 * Found on a fresh recording: the fork program had used the tracepoint programs' scratch since
 * the raw tracepoints came (6732232), and one fork of 279 was written with the child's pid,
 * namespace, levels and name of another record (child_pid 3370607 for a child of pid 20453):
 * lttng-analyses then stopped on every analysis (KeyError in `_get_parent_proc`).
 *
 * The programs are generated with the kernel's BTF offsets and fake map fds; the maps each one
 * references are read from its LD_IMM64 map instructions. Needs the kernel's BTF (no BPF
 * privilege): skipped, loudly, without it.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Btf } from '../../src/bpf/btf.js';
import { kernelOffsets, type BpfContextName } from '../../src/record/bpf/kernel.js';
import type { GenOptions, MapFds } from '../../src/record/bpf/layout.js';
import {
  forkProgram,
  switchInProgram,
  sysEnterProgram,
  sysExitProgram,
  tracepointProgram,
  wakeupProgram,
} from '../../src/record/bpf/programs.js';
import { DEFAULT_CONTEXTS } from '../../src/record/contexts.js';

const BTF = '/sys/kernel/btf/vmlinux';
const reason = fs.existsSync(BTF) ? undefined : `no kernel BTF (${BTF})`;
if (reason) console.warn(`SKIPPING the bpf scratch test: ${reason}`);

const MAPS: MapFds = {
  ring: 1001,
  scratch: 1002,
  lost: 1003,
  exclude: 1004,
  syscalls: 1005,
  on: 1006,
  args: 1007,
  exitNs: 1008,
  forkScratch: 1009,
  sysScratch: 1010,
  wakeScratch: 1011,
};
const SCRATCHES = new Map<number, string>([
  [MAPS.scratch, 'tracepoint'],
  [MAPS.forkScratch, 'fork'],
  [MAPS.sysScratch, 'syscall'],
  [MAPS.wakeScratch, 'wakeup'],
]);

/** The scratch maps a program references (LD_IMM64 with BPF_PSEUDO_MAP_FD). */
function scratchesOf(code: Buffer): string[] {
  const out = new Set<string>();
  for (let i = 0; i + 16 <= code.length; i += 8) {
    if (code[i] !== 0x18) continue;
    if (code[i + 1]! >> 4 === 1) {
      const s = SCRATCHES.get(code.readInt32LE(i + 4));
      if (s !== undefined) out.add(s);
    }
    i += 8;
  }
  return [...out].sort();
}

describe.skipIf(reason !== undefined)('the scratch value of each capture program', () => {
  const o = (): GenOptions => ({
    off: kernelOffsets(Btf.readKernel(BTF)),
    contexts: [...DEFAULT_CONTEXTS, 'cgroup_id'] as BpfContextName[],
    maps: MAPS,
    select: false,
  });

  it('each kind of program that can run inside another has its own', () => {
    const g = o();
    const kinds: Array<[string, Buffer, string]> = [
      ['tracepoint', tracepointProgram(g, { copy: 24, exclude: true }), 'tracepoint'],
      ['sched_waking', wakeupProgram(g, { ftraceId: 7, exclude: true }), 'wakeup'],
      ['switch-in', switchInProgram(g), 'wakeup'],
      ['sys_enter', sysEnterProgram(g, true), 'syscall'],
      ['sys_exit', sysExitProgram(g, true), 'syscall'],
      ['sched_process_fork', forkProgram(g, true), 'fork'],
    ];
    for (const [name, code, scratch] of kinds) expect(scratchesOf(code), name).toEqual([scratch]);
  });
});
