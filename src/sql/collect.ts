/**
 * Table rows from one pass of the analyses' runner: a handler that runs beside cputop and
 * syscallstats (src/analyses/session.ts `extraHandlers`) over the same model, with the same
 * charging rules, so that the sums of its rows are their numbers:
 *
 * - `sched_slice`: a slice ends where cputop adds to a thread's CPU time (the thread switched
 *   out, or still running at the last event) and starts where cputop started counting (its
 *   switch in, or the period begin for a thread first met being switched out); the idle task
 *   (tid 0) is not charged when switched in, as there.
 * - `syscall`: a row per system call exit of a thread with a call in flight, as syscallstats.
 * - `page_alloc`: a row per page allocation or free event, charged to the thread memtop charges.
 *
 * Threads and containers are attached at the end (the model's final binding, as the analyses'
 * per-container tables use).
 */
import type { ClassInfo, EventFn } from '../model/dispatch.js';
import { isSyscallExit } from '../model/model.js';
import type { SystemModel } from '../model/model.js';
import type { AnalysisContext, AnalysisHandler } from '../analyses/handler.js';

/** Column arrays of the slices, before the container is known. */
export interface SliceColumns {
  readonly cpu: number[];
  readonly ts: number[];
  readonly dur: number[];
  readonly uid: number[];
  readonly startKnown: boolean[];
  readonly endKnown: boolean[];
}

export interface SyscallColumns {
  readonly cpu: number[];
  readonly ts: number[];
  readonly dur: number[];
  readonly name: string[];
  /** NaN: none. */
  readonly ret: number[];
  readonly uid: number[];
}

/** Page allocations and frees (one page per event, as memtop counts them). */
export interface PageColumns {
  readonly cpu: number[];
  readonly ts: number[];
  readonly alloc: boolean[];
  /** -1: memtop charges no thread. */
  readonly uid: number[];
}

export class TableCollector implements AnalysisHandler {
  readonly name = 'sql-tables';
  readonly slices: SliceColumns = { cpu: [], ts: [], dur: [], uid: [], startKnown: [], endKnown: [] };
  readonly syscalls: SyscallColumns = { cpu: [], ts: [], dur: [], name: [], ret: [], uid: [] };
  readonly pages: PageColumns = { cpu: [], ts: [], alloc: [], uid: [] };
  model!: SystemModel;
  periodBegin: number | undefined;
  lastTs: number | undefined;
  private readonly wantSlices: boolean;
  private readonly wantSyscalls: boolean;
  private readonly wantPages: boolean;
  /** Per thread uid: start of the current run (NaN: not running), its CPU, and whether it was seen. */
  private start: number[] = [];
  private startCpu: number[] = [];
  private seen: boolean[] = [];

  constructor(want: { slices: boolean; syscalls: boolean; pages?: boolean }) {
    this.wantSlices = want.slices;
    this.wantSyscalls = want.syscalls;
    this.wantPages = want.pages ?? false;
  }

  reset(ctx: AnalysisContext): void {
    this.model = ctx.model;
  }

  begin(ts: number): void {
    this.periodBegin = ts;
  }

  bind(info: ClassInfo): EventFn | undefined {
    if (this.wantSlices && info.name === 'sched_switch') return (ev) => this.onSwitch(ev.ts);
    if (this.wantSyscalls && isSyscallExit(info.name)) return (ev) => this.onExit(ev.ts);
    if (this.wantPages) {
      if (info.name === 'mm_page_alloc' || info.name === 'kmem_mm_page_alloc')
        return (ev) => this.onPage(ev.ts, true);
      if (info.name === 'mm_page_free' || info.name === 'kmem_mm_page_free')
        return (ev) => this.onPage(ev.ts, false);
    }
    return undefined;
  }

  private ensure(uid: number): void {
    while (this.start.length <= uid) {
      this.start.push(NaN);
      this.startCpu.push(-1);
      this.seen.push(false);
    }
  }

  private pushSlice(
    cpu: number,
    ts: number,
    dur: number,
    uid: number,
    startKnown: boolean,
    endKnown: boolean,
  ): void {
    const s = this.slices;
    s.cpu.push(cpu);
    s.ts.push(ts);
    s.dur.push(dur);
    s.uid.push(uid);
    s.startKnown.push(startKnown);
    s.endKnown.push(endKnown);
  }

  private onSwitch(ts: number): void {
    const m = this.model;
    const cpu = m.cpuId;
    const prev = m.switchPrev!;
    const next = m.switchNext!;
    const pu = prev.uid;
    this.ensure(pu);
    if (!this.seen[pu]) {
      // First met being switched out: cputop charges it from the period begin.
      this.seen[pu] = true;
      this.pushSlice(cpu, this.periodBegin!, ts - this.periodBegin!, pu, false, true);
      this.start[pu] = NaN;
    } else {
      const st = this.start[pu]!;
      if (!Number.isNaN(st)) {
        this.pushSlice(this.startCpu[pu]!, st, ts - st, pu, true, true);
        this.start[pu] = NaN;
      }
    }
    if (next.tid !== 0) {
      const nu = next.uid;
      this.ensure(nu);
      this.seen[nu] = true;
      this.start[nu] = ts;
      this.startCpu[nu] = cpu;
    }
  }

  private onExit(ts: number): void {
    const m = this.model;
    const t = m.exitThread;
    if (t === undefined) return;
    const s = this.syscalls;
    s.cpu.push(m.cpuId);
    s.ts.push(t.sysEntry);
    s.dur.push(ts - t.sysEntry);
    s.name.push(t.sysName!);
    s.ret.push(m.exitRet);
    s.uid.push(t.uid);
  }

  private onPage(ts: number, alloc: boolean): void {
    const m = this.model;
    const t = m.memThread;
    const p = this.pages;
    // The model leaves cpuId as it was for a free it ignores (no page allocated yet).
    p.cpu.push(t === undefined ? NaN : m.cpuId);
    p.ts.push(ts);
    p.alloc.push(alloc);
    p.uid.push(t === undefined ? -1 : t.uid);
  }

  finalize(lastTs: number): void {
    this.lastTs = lastTs;
    for (let uid = 0; uid < this.start.length; uid++) {
      const st = this.start[uid]!;
      if (!Number.isNaN(st)) this.pushSlice(this.startCpu[uid]!, st, lastTs - st, uid, true, false);
    }
  }
}
