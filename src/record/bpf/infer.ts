/**
 * The switches the kernel did not report, in the bpf backend (ADR 0161 for the tracefs backend,
 * ADR 0167 here). Every record is made in the context of the task running on its CPU: when a
 * CPU's record is of another task than the one its last switch (or its last record) put there,
 * the kernel ran a switch it did not report (this VM's kernel never reports those out of PID 1's
 * threads and out of one CPU's idle task). The recorder then writes one at that record's time,
 * marked `nstrace_inferred = 1`, in the previous task's context as a real switch has it.
 *
 * That context is the one the previous task's own last record on a CPU carried (copied when a
 * CPU's records change task, and before the ring space is released): a value observed in the
 * kernel, never read from /proc. A task with no such record yet: no switch is written, the hole
 * is counted (`skipped`). Not done on a CPU whose records were lost (a lost switch is not a
 * missing one), nor under record-time selection (the records of the tasks not selected are
 * missing on purpose).
 *
 * Pure logic: fed records in time order per CPU (after the reorder window), it calls `write`.
 */
import { readProcPrio } from '../proc.js';
import { PRIO_UNOBSERVED_NEXT, PRIO_UNOBSERVED_PREV } from '../lttng-events.js';

export interface SwitchLayout {
  /** ftrace id of sched:sched_switch. */
  id: number;
  prevComm: number;
  prevPid: number;
  prevPrio: number;
  nextComm: number;
  nextPid: number;
  nextPrio: number;
}

/** One inferred switch: the LTTng sched_switch payload (prio as LTTng writes it: kernel - 100). */
export interface InferredSwitch {
  prevComm: string;
  prevTid: number;
  prevPrio: number;
  nextComm: string;
  nextTid: number;
  nextPrio: number;
  /** `nstrace_prio_unobserved`: which priority no record had shown (lttng-events.ts's bits). */
  prioUnobserved: number;
}

export type InferredWrite = (cpu: number, ts: number, sw: InferredSwitch, prevCtx: Uint8Array) => void;

const NONE = -2;
/** Tasks whose context is kept, at most (beyond: forgotten, learnt again from their records). */
const MAX_TASKS = 1 << 16;

export class SwitchInference {
  /** Task running on each CPU, as its last switch or record says (NONE: not known yet). */
  private readonly cur: Int32Array;
  /** The CPU's last record: its task, and where its context block is. */
  private readonly lastTid: Int32Array;
  private readonly lastBuf: Uint8Array[];
  private readonly lastAt: Int32Array;
  private readonly lossy: Uint8Array;
  /** Per task (idle tasks per CPU): the context of its last record on a CPU before it left. */
  private readonly ctxOf = new Map<number, Uint8Array>();
  private readonly commOf = new Map<number, string>();
  private readonly prioOf = new Map<number, number>();
  /** Tasks whose priority came from /proc, not from the kernel's records. */
  private readonly guessed = new Set<number>();
  private readonly empty = new Uint8Array(0);
  /** Switches written. */
  inferred = 0;
  /** Holes left: the previous task's context was never observed. */
  skipped = 0;
  /**
   * Switches written with a priority not observed in the kernel (a task no switch, switch-in
   * record or earlier switch showed: /proc's at that moment, else 20).
   */
  prioUnobserved = 0;

  constructor(
    cpuCount: number,
    private readonly ctxSize: number,
    /** Offset of `procname` (16 bytes) in the context block, when recorded. */
    private readonly procnameAt: number | undefined,
    private readonly sw: SwitchLayout | undefined,
    private readonly write: InferredWrite,
  ) {
    this.cur = new Int32Array(cpuCount).fill(NONE);
    this.lastTid = new Int32Array(cpuCount).fill(NONE);
    this.lastBuf = new Array<Uint8Array>(cpuCount).fill(this.empty);
    this.lastAt = new Int32Array(cpuCount);
    this.lossy = new Uint8Array(cpuCount);
  }

  /** Records of `cpu` were lost: no more inference there. */
  markLossy(cpu: number): void {
    if (cpu < this.lossy.length) this.lossy[cpu] = 1;
  }

  /**
   * One record of `cpu` at `ts`, of task `tid`, its context block at `buf[ctxAt]`; `raw`: the
   * ftrace record's offset (its id first) when it is one (else -1).
   */
  see(
    cpu: number,
    tid: number,
    ts: number,
    buf: Uint8Array,
    view: DataView,
    ctxAt: number,
    raw: number,
  ): void {
    const last = this.lastTid[cpu]!;
    if (last !== tid && last !== NONE) this.keep(last, cpu, this.lastBuf[cpu]!, this.lastAt[cpu]!);
    const cur = this.cur[cpu]!;
    if (cur !== tid && cur !== NONE && this.lossy[cpu] === 0) this.infer(cpu, cur, tid, ts, buf, ctxAt);
    this.cur[cpu] = tid;
    this.lastTid[cpu] = tid;
    this.lastBuf[cpu] = buf;
    this.lastAt[cpu] = ctxAt;
    const sw = this.sw;
    if (raw >= 0 && sw !== undefined && view.getUint16(raw, true) === sw.id) {
      const next = view.getInt32(raw + sw.nextPid, true);
      this.cur[cpu] = next;
      const prev = view.getInt32(raw + sw.prevPid, true);
      this.observedPrio(this.key(prev, cpu), view.getInt32(raw + sw.prevPrio, true));
      this.observedPrio(this.key(next, cpu), view.getInt32(raw + sw.nextPrio, true));
      // Names from the contexts when they hold procname; else from the switches.
      if (this.procnameAt === undefined) {
        this.commOf.set(this.key(prev, cpu), comm(buf, raw + sw.prevComm));
        this.commOf.set(this.key(next, cpu), comm(buf, raw + sw.nextComm));
      }
    }
  }

  /**
   * The context of `tid` as a switch to it on `cpu` saw it (a KIND_SWITCH_IN record): kept for
   * a switch out of it that the kernel may not report, should it have no record of its own.
   */
  switchedIn(cpu: number, tid: number, kernelPrio: number, buf: Uint8Array, ctxAt: number): void {
    this.keep(tid, cpu, buf, ctxAt);
    this.observedPrio(this.key(tid, cpu), kernelPrio);
  }

  /** A priority the kernel showed (kernel value: LTTng writes it - 100). */
  private observedPrio(k: number, kernelPrio: number): void {
    this.prioOf.set(k, kernelPrio - 100);
    this.guessed.delete(k);
  }

  /** Copies the context blocks that point into the ring (before the ring space is released). */
  settle(ring: Uint8Array): void {
    for (let cpu = 0; cpu < this.lastTid.length; cpu++) {
      if (this.lastBuf[cpu] !== ring) continue;
      const copy = this.keep(this.lastTid[cpu]!, cpu, ring, this.lastAt[cpu]!);
      this.lastBuf[cpu] = copy;
      this.lastAt[cpu] = 0;
    }
  }

  /** Idle tasks (tid 0) are one per CPU. */
  private key(tid: number, cpu: number): number {
    return tid > 0 ? tid : -1 - cpu;
  }

  /** Saves the context of `tid` (a copy, reused per task). */
  private keep(tid: number, cpu: number, buf: Uint8Array, at: number): Uint8Array {
    const k = this.key(tid, cpu);
    let c = this.ctxOf.get(k);
    if (c === undefined) {
      if (this.ctxOf.size >= MAX_TASKS) {
        this.ctxOf.clear();
        this.commOf.clear();
        this.prioOf.clear();
        this.guessed.clear();
      }
      c = new Uint8Array(this.ctxSize);
      this.ctxOf.set(k, c);
    }
    if (c !== buf) c.set(buf.subarray(at, at + this.ctxSize));
    return c;
  }

  private infer(cpu: number, prev: number, next: number, ts: number, buf: Uint8Array, ctxAt: number): void {
    const pk = this.key(prev, cpu);
    const ctx = this.ctxOf.get(pk);
    if (ctx === undefined) {
      this.skipped++;
      return;
    }
    const nk = this.key(next, cpu);
    const pn = this.procnameAt;
    const prevComm = pn !== undefined ? comm(ctx, pn) : (this.commOf.get(pk) ?? '');
    const nextComm = pn !== undefined ? comm(buf, ctxAt + pn) : (this.commOf.get(nk) ?? '');
    const prevPrio = this.prio(pk, prev);
    const nextPrio = this.prio(nk, next);
    const unobserved =
      (this.guessed.has(pk) ? PRIO_UNOBSERVED_PREV : 0) | (this.guessed.has(nk) ? PRIO_UNOBSERVED_NEXT : 0);
    this.write(
      cpu,
      ts,
      { prevComm, prevTid: prev, prevPrio, nextComm, nextTid: next, nextPrio, prioUnobserved: unobserved },
      ctx,
    );
    if (unobserved !== 0) this.prioUnobserved++;
    this.inferred++;
  }

  /**
   * LTTng priority of a task: the last switch that showed it; else (a task never switched in
   * or out in the trace yet) /proc's, as the tracefs backend does; else 20 (nice 0).
   */
  private prio(k: number, tid: number): number {
    const p = this.prioOf.get(k);
    if (p !== undefined) return p;
    const v = tid === 0 ? 20 : (readProcPrio(tid) ?? 20);
    this.prioOf.set(k, v);
    if (tid !== 0) this.guessed.add(k);
    return v;
  }
}

/** 16 bytes of a comm, NUL padded, as text. */
function comm(b: Uint8Array, at: number): string {
  let e = at;
  while (e < at + 16 && e < b.length && b[e] !== 0) e++;
  return Buffer.from(b.buffer, b.byteOffset + at, e - at).toString('utf8');
}
