/**
 * The kernel side of the bpf backend: maps, the generated programs, their attachments, the
 * ring buffer, and their teardown. Everything is owned by one `BpfScope`; nothing is pinned.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Btf } from '../../bpf/btf.js';
import { BTF_INT_ID, BTF_VALUE_ID, loadBtf, valueBtf } from '../../bpf/btf-blob.js';
import { closeFd } from '../../bpf/sys.js';
import {
  BPF_F_NO_PREALLOC,
  BPF_TRACE_RAW_TP,
  BpfMap,
  BpfScope,
  MAP_TYPE,
  PROG_TYPE,
  Program,
  RawTracepointLink,
  RingBuffer,
  type Closeable,
  TracepointLink,
  cpuSlots,
  u32Key,
  u64Key,
} from '../../bpf/objects.js';
import {
  contextLayout,
  kernelOffsets,
  rawTracepointBtfId,
  type BpfContextName,
  type KernelOffsets,
} from './kernel.js';
import {
  FORK_BYTES,
  WAKEUP_BYTES,
  forkProgram,
  switchInProgram,
  sysEnterProgram,
  sysExitProgram,
  tracepointProgram,
  wakeupProgram,
} from './programs.js';
import {
  ARGS_BYTES,
  EXIT_SAVE_BYTES,
  LAST_CTX_HEAD,
  SYS_ENTER_BYTES,
  rawOffset,
  scratchSize,
  syscallEntry,
  type GenOptions,
  type MapFds,
} from './layout.js';

export interface TracepointSpec {
  /** `system:event`. */
  ftrace: string;
  /** ftrace id (events/<system>/<event>/id). */
  id: number;
  /** Bytes of the raw record to copy (at least). */
  copy: number;
  /** The record has `__data_loc` fields (its size varies). */
  dynamic: boolean;
  /** Drop the recorder's own events (everything but the complete set). */
  exclude: boolean;
  /** Offset of a tid in the record naming the other task of a scheduling event. */
  otherTidAt?: number;
  /**
   * A sched_waking / sched_wakeup / sched_wakeup_new with the kernel's usual record layout:
   * captured by a raw tracepoint program (wakeupProgram), not a tracepoint program.
   */
  wakeup?: boolean;
}

export interface SyscallSpec {
  /** Syscall number. */
  nr: number;
  enterId: number;
  exitId: number;
  /** Indexes (0-based) of the string arguments copied at entry, in order. */
  strings: number[];
  /** The exit's layout needs the entry's arguments. */
  saveArgs: boolean;
  /** The first n entry arguments the exit record carries (default 6). */
  exitArgs?: number;
  /** The arguments the entry record carries (default 6; 6 whenever it has strings). */
  entryArgs?: number;
  /** Strings not readable at entry may be read at the exit (REREAD_SYSCALLS). */
  reread?: boolean;
}

export interface CaptureOptions {
  contexts: readonly BpfContextName[];
  tracepoints: readonly TracepointSpec[];
  syscalls: readonly SyscallSpec[];
  /** sched_process_fork through tp_btf (fork record with both tasks' ids). */
  fork: boolean;
  /** Ring buffer bytes (power of two). */
  ringBytes: number;
  /** tgids excluded (the recorder); with `excludeChildren`, their children too. */
  excludeTgids: readonly number[];
  excludeChildren: boolean;
  select: boolean;
  /**
   * The context of each task a switch switches in (KIND_SWITCH_IN records, for the recorder's
   * inferred switches, ADR 0167). Needs the kernel's cgroup-id path when cgroup_id is recorded.
   */
  switchIn?: boolean;
  /**
   * Syscall records leave out a context block their CPU's last reference record carried
   * (FLAG_CTX_SAME; the reader puts it back: context-refs.ts).
   */
  elideContexts?: boolean;
}

export class Capture {
  private readonly scope = new BpfScope();
  /** The attachments (closed first: no new records while the last ones are read). */
  private readonly linkScope = new BpfScope();
  readonly ring: RingBuffer;
  readonly offsets: KernelOffsets;
  readonly rawOff: number;
  private readonly lost: BpfMap;
  private readonly programs: Program[] = [];
  private readonly labels = new Map<Program, string[]>();
  readonly selTask: BpfMap | undefined;
  readonly selNs: BpfMap | undefined;
  readonly selCgroup: BpfMap | undefined;
  private readonly exclude: BpfMap;
  private readonly on: BpfMap;
  private lastLost: number[] = [];
  links = 0;

  constructor(opts: CaptureOptions, btf: Btf = Btf.readKernel()) {
    try {
      this.offsets = kernelOffsets(btf);
      const maxRaw = Math.max(SYS_ENTER_BYTES, FORK_BYTES, ...opts.tracepoints.map((t) => t.copy));
      this.rawOff = rawOffset(opts.contexts);
      const scr = scratchSize(opts.contexts, maxRaw);
      const s = this.scope;
      this.ring = s.add(new RingBuffer('nstrace_ring', opts.ringBytes));
      const scratch = s.add(
        new BpfMap({
          type: MAP_TYPE.PERCPU_ARRAY,
          keySize: 4,
          valueSize: scr,
          maxEntries: 1,
          name: 'nstrace_scr',
        }),
      );
      const perCpu = (name: string, valueSize: number): BpfMap =>
        s.add(new BpfMap({ type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize, maxEntries: 1, name }));
      const forkScratch = perCpu('nstrace_fscr', scr);
      const sysScratch = perCpu('nstrace_sscr', scr);
      const wakeScratch = perCpu('nstrace_wscr', this.rawOff + WAKEUP_BYTES + 64);
      this.lost = s.add(
        new BpfMap({
          type: MAP_TYPE.PERCPU_ARRAY,
          keySize: 4,
          valueSize: 8,
          maxEntries: 1,
          name: 'nstrace_lost',
        }),
      );
      this.exclude = s.add(
        new BpfMap({ type: MAP_TYPE.HASH, keySize: 4, valueSize: 1, maxEntries: 8192, name: 'nstrace_excl' }),
      );
      this.on = s.add(
        new BpfMap({ type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, name: 'nstrace_on' }),
      );
      const sc = s.add(
        new BpfMap({ type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1024, name: 'nstrace_sc' }),
      );
      // A syscall's entry arguments, kept for its exit in the task's own storage: no hash, no
      // eviction, freed with the task (an LRU hash cost three hash operations per syscall).
      const btfFd = loadBtf(valueBtf(ARGS_BYTES), 'the syscall arguments map');
      let args: BpfMap;
      try {
        args = s.add(
          new BpfMap({
            type: MAP_TYPE.TASK_STORAGE,
            keySize: 4,
            valueSize: ARGS_BYTES,
            maxEntries: 0,
            flags: BPF_F_NO_PREALLOC,
            name: 'nstrace_args',
            btf: { fd: btfFd, keyTypeId: BTF_INT_ID, valueTypeId: BTF_VALUE_ID },
          }),
        );
      } finally {
        closeFd(btfFd);
      }
      const exitNs = s.add(
        new BpfMap({
          type: MAP_TYPE.LRU_HASH,
          keySize: 4,
          valueSize: EXIT_SAVE_BYTES,
          maxEntries: 16384,
          name: 'nstrace_exitns',
        }),
      );
      if (opts.select) {
        this.selTask = s.add(
          new BpfMap({
            type: MAP_TYPE.LRU_HASH,
            keySize: 4,
            valueSize: 1,
            maxEntries: 65536,
            name: 'nstrace_stask',
          }),
        );
        this.selNs = s.add(
          new BpfMap({
            type: MAP_TYPE.HASH,
            keySize: 4,
            valueSize: 1,
            maxEntries: 4096,
            name: 'nstrace_sns',
          }),
        );
        this.selCgroup = s.add(
          new BpfMap({
            type: MAP_TYPE.HASH,
            keySize: 8,
            valueSize: 1,
            maxEntries: 4096,
            name: 'nstrace_scg',
          }),
        );
      }
      const ctxBytes = contextLayout(opts.contexts).size;
      const lastCtx =
        opts.elideContexts === true && ctxBytes > 0
          ? perCpu('nstrace_lctx', LAST_CTX_HEAD + ((ctxBytes + 7) & ~7))
          : undefined;
      const excludeGen = s.add(
        new BpfMap({ type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, name: 'nstrace_xgen' }),
      );
      const excludeCache = perCpu('nstrace_xc', 16);
      const one = Buffer.from([1]);
      for (const t of opts.excludeTgids) this.exclude.update(u32Key(t), one);
      const maps: MapFds = {
        ring: this.ring.fd,
        scratch: scratch.fd,
        on: this.on.fd,
        forkScratch: forkScratch.fd,
        sysScratch: sysScratch.fd,
        wakeScratch: wakeScratch.fd,
        lost: this.lost.fd,
        exitNs: exitNs.fd,
        exclude: this.exclude.fd,
        excludeGen: excludeGen.fd,
        excludeCache: excludeCache.fd,
        syscalls: sc.fd,
        args: args.fd,
        ...(lastCtx ? { lastCtx: lastCtx.fd } : {}),
        ...(this.selTask
          ? { selTask: this.selTask.fd, selNs: this.selNs!.fd, selCgroup: this.selCgroup!.fd }
          : {}),
      };
      const gen: GenOptions = { off: this.offsets, contexts: opts.contexts, maps, select: opts.select };
      this.lastLost = new Array<number>(cpuSlots()).fill(0);

      // Every program is loaded (the slow part: the verifier) before anything is attached, so
      // that the first attached ones do not fill the ring meanwhile.
      const attach: Array<() => Closeable> = [];
      // Syscalls: raw tracepoints sys_enter/sys_exit (two attachments, whatever the number of
      // syscalls), told apart by the syscall number.
      const rawTp = (name: string, insns: Buffer, tp: string): Program =>
        this.load(name, insns, {
          type: PROG_TYPE.TRACING,
          expectedAttachType: BPF_TRACE_RAW_TP,
          attachBtfId: rawTracepointBtfId(btf, tp),
        });
      if (opts.syscalls.length > 0) {
        for (const x of opts.syscalls) {
          const v = syscallEntry(x);
          sc.update(u32Key(x.nr), v);
        }
        const enter = rawTp('nstrace_sys_ent', sysEnterProgram(gen, true), 'sys_enter');
        const exit = rawTp('nstrace_sys_ext', sysExitProgram(gen, true), 'sys_exit');
        // Exit first: the attachments close in reverse order, so at the end the entries stop
        // before the exits, and the exit of every recorded entry in flight is still recorded
        // (it brings the strings read at the exit, ADR 0164).
        this.label(exit, 'syscall exits');
        this.label(enter, 'syscall entries');
        attach.push(() => new RawTracepointLink('sys_exit', exit));
        attach.push(() => new RawTracepointLink('sys_enter', enter));
      }
      // Other tracepoints: one program per kind (what it copies, whether it excludes the
      // recorder, which tid names the other task), shared by its tracepoints through their
      // cookies (the verifier takes tens of ms per program: one per tracepoint was seconds).
      const maxFixed = Math.max(0, ...opts.tracepoints.filter((t) => !t.dynamic).map((t) => t.copy));
      const maxDyn = Math.max(0, ...opts.tracepoints.filter((t) => t.dynamic).map((t) => t.copy));
      const shared = new Map<string, Program>();
      for (const t of opts.tracepoints) {
        if (t.wakeup) {
          const name = t.ftrace.slice(t.ftrace.indexOf(':') + 1);
          const p = rawTp(
            `nstrace_${name.replace('sched_', '')}`,
            wakeupProgram(gen, { ftraceId: t.id, exclude: t.exclude }),
            name,
          );
          this.label(p, t.ftrace);
          attach.push(() => new RawTracepointLink(name, p));
          continue;
        }
        const copy = t.dynamic ? maxDyn : maxFixed;
        const saveExitNs = t.ftrace === 'sched:sched_process_exit';
        const key = `${copy}:${t.exclude}:${t.otherTidAt ?? ''}:${saveExitNs}`;
        let p = shared.get(key);
        if (!p) {
          p = this.load(
            `nstrace_tp${shared.size}`,
            tracepointProgram(gen, {
              copy,
              exclude: t.exclude,
              saveExitNs,
              ...(t.otherTidAt !== undefined ? { otherTidAt: t.otherTidAt } : {}),
            }),
          );
          shared.set(key, p);
        }
        const prog = p;
        this.label(prog, t.ftrace);
        attach.push(() => new TracepointLink(t.ftrace, t.id, prog, BigInt(t.id)));
      }
      if (
        opts.switchIn === true &&
        (this.offsets.cgroupId !== undefined || !opts.contexts.includes('cgroup_id'))
      ) {
        const p = rawTp('nstrace_swin', switchInProgram(gen), 'sched_switch');
        this.label(p, 'sched:sched_switch (the context of the task switched in)');
        attach.push(() => new RawTracepointLink('sched_switch', p));
      }
      if (opts.fork) {
        const p = rawTp('nstrace_fork', forkProgram(gen, opts.excludeChildren), 'sched_process_fork');
        this.label(p, 'sched:sched_process_fork');
        attach.push(() => new RawTracepointLink('sched_process_fork', p));
      }
      for (const a of attach) this.linkScope.add(a());
      this.links = attach.length;
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** What a program captures (for the summary of what the kernel skipped). */
  private label(p: Program, what: string): void {
    const l = this.labels.get(p);
    if (l) l.push(what);
    else this.labels.set(p, [what]);
  }

  private load(
    name: string,
    insns: Buffer,
    extra: { type: number; expectedAttachType?: number; attachBtfId?: number } = {
      type: PROG_TYPE.TRACEPOINT,
    },
  ): Program {
    const p = this.scope.add(new Program({ name, insns, ...extra }));
    this.programs.push(p);
    return p;
  }

  /** New ring-buffer losses per CPU since the last call (reserve failures: the ring was full). */
  lostDelta(): number[] {
    const v = this.lost.lookup(u32Key(0));
    const out: number[] = [];
    for (let c = 0; c < this.lastLost.length; c++) {
      const n = v ? Number(v.readBigUInt64LE(c * 8)) : 0;
      out.push(n - this.lastLost[c]!);
      this.lastLost[c] = n;
    }
    return out;
  }

  /**
   * Events not recorded because the kernel did not run their program (kernel counters): a
   * tracepoint program while another tracepoint program ran on the CPU, a raw tracepoint
   * program while the same program ran (ADR 0166). By what the program captures.
   */
  recursionMisses(): { total: number; by: Record<string, number> } {
    let total = 0;
    const by: Record<string, number> = {};
    for (const p of this.programs) {
      const n = p.info().recursionMisses;
      if (n === 0) continue;
      total += n;
      by[(this.labels.get(p) ?? ['?']).join(', ')] = n;
    }
    return { total, by };
  }

  /** Selection: adds tids, pid-namespace inodes, cgroup ids. */
  selectTid(tid: number): void {
    this.selTask?.update(u32Key(tid), Buffer.from([1]));
  }
  selectPidNs(inum: number): void {
    this.selNs?.update(u32Key(inum), Buffer.from([1]));
  }
  selectCgroup(id: bigint | number): void {
    this.selCgroup?.update(u64Key(id), Buffer.from([1]));
  }

  /** Turns recording on or off in every program at once (`exits`: the syscall exits', whenOn). */
  setOn(on: boolean, exits = on): void {
    const v = Buffer.alloc(4);
    v.writeUInt32LE(exits ? 1 : 0, 0);
    this.on.update(u32Key(1), v);
    v.writeUInt32LE(on ? 1 : 0, 0);
    this.on.update(u32Key(0), v);
  }

  /**
   * Stops every program (the objects stay: the ring can still be read). Each detach waits for
   * the kernel (tens of ms): `between` runs after each one (the recorder reads the ring).
   */
  detach(between?: () => void): void {
    this.linkScope.close(between);
  }

  close(): void {
    try {
      this.linkScope.close();
    } finally {
      this.scope.close();
    }
  }

  get programCount(): number {
    return this.programs.length;
  }
}

/** The ftrace id of `system:event`, or undefined when this kernel lacks it. */
export function tracepointId(tracefsRoot: string, ftrace: string): number | undefined {
  const [s, e] = ftrace.split(':') as [string, string];
  try {
    return Number(fs.readFileSync(path.join(tracefsRoot, 'events', s, e, 'id'), 'utf8').trim());
  } catch {
    return undefined;
  }
}
