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
 * - `thread_state`: the states off the CPU between the slices (src/sql/states.ts).
 *
 * Threads and containers are attached at the end (the model's final binding, as the analyses'
 * per-container tables use).
 */
import type { EventRecord } from '../ctf/event.js';
import { byteStringToText } from '../ctf/event.js';
import type { ClassInfo, EventFn } from '../model/dispatch.js';
import { anyField, payloadField, readNum } from '../model/fields.js';
import { isSyscallExit, syscallEntryName } from '../model/model.js';
import type { SystemModel } from '../model/model.js';
import type { AnalysisContext, AnalysisHandler } from '../analyses/handler.js';
import { shownName } from '../text/plan.js';
import { BoolColumn, DictColumn, F64Column, I32Column, IntervalColumns, NULL_I32 } from './columns.js';
import { ThreadStates } from './states.js';

/** Column buffers of the slices, before the container is known. */
export class SliceColumns extends IntervalColumns {
  readonly startKnown = new BoolColumn();
  readonly endKnown = new BoolColumn();
}

export class SyscallColumns extends IntervalColumns {
  readonly name = new DictColumn();
  /** NaN: none. */
  readonly ret = new F64Column();
  /** The entry's string arguments as a JSON object (null: none). */
  readonly args = new DictColumn();
}

/** The `kind` of a page row, by code. */
export const PAGE_KINDS: readonly string[] = ['alloc', 'free'];

/** Page allocations and frees (one page per event, as memtop counts them). */
export class PageColumns {
  /** NULL_I32: unknown. */
  readonly cpu = new I32Column();
  readonly ts = new F64Column();
  /** Code into `PAGE_KINDS`. */
  readonly kind = new I32Column();
  /** NULL_I32: memtop charges no thread. */
  readonly uid = new I32Column();
}

const WAKEUPS = new Set(['sched_waking', 'sched_wakeup', 'sched_wakeup_new']);

export class TableCollector implements AnalysisHandler {
  readonly name = 'sql-tables';
  readonly slices = new SliceColumns();
  readonly syscalls = new SyscallColumns();
  /** Off-CPU thread states (with `states`). */
  readonly states: ThreadStates | undefined;
  readonly pages = new PageColumns();
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
  /** Per thread uid: the string arguments (code in `syscalls.args`) of the syscall entry in flight, and its time. */
  private argsOf: number[] = [];
  private argsTs: number[] = [];

  constructor(want: { slices: boolean; syscalls: boolean; pages?: boolean; states?: boolean }) {
    this.wantSlices = want.slices || want.states === true;
    this.wantSyscalls = want.syscalls;
    this.wantPages = want.pages ?? false;
    this.states = want.states === true ? new ThreadStates() : undefined;
  }

  reset(ctx: AnalysisContext): void {
    this.model = ctx.model;
  }

  begin(ts: number): void {
    this.periodBegin = ts;
  }

  bind(info: ClassInfo): EventFn | undefined {
    if (this.wantSlices && info.name === 'sched_switch') {
      const stateF = payloadField(info.eventClass, 'prev_state');
      return (ev) => this.onSwitch(ev.ts, stateF === undefined ? NaN : readNum(stateF, ev));
    }
    if (this.wantSyscalls && isSyscallExit(info.name)) return (ev) => this.onExit(ev.ts);
    if (this.wantSyscalls && syscallEntryName(info.name) !== undefined) return this.bindEntry(info);
    if (this.states !== undefined && WAKEUPS.has(info.name)) return this.bindWakeup(info);
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

  /** Entries with string arguments only (the others need no payload and cost nothing). */
  private bindEntry(info: ClassInfo): EventFn | undefined {
    const fields = info.eventClass.fields?.fields ?? [];
    const idx: number[] = [];
    const keys: string[] = [];
    fields.forEach((f, i) => {
      if (f.type.kind === 'string') {
        idx.push(i);
        keys.push(JSON.stringify(shownName(f.name)) + ':');
      }
    });
    if (idx.length === 0) return undefined;
    return (ev: EventRecord) => {
      const t = this.model.entryThread;
      if (t === undefined) return;
      const pl = ev.payload;
      let s = '{';
      for (let i = 0; i < idx.length; i++) {
        const v = pl?.[idx[i]!];
        s +=
          (i > 0 ? ',' : '') +
          keys[i]! +
          (typeof v === 'string' ? JSON.stringify(byteStringToText(v)) : 'null');
      }
      while (this.argsOf.length <= t.uid) {
        this.argsOf.push(NULL_I32);
        this.argsTs.push(NaN);
      }
      this.argsOf[t.uid] = this.syscalls.args.code(s + '}');
      this.argsTs[t.uid] = ev.ts;
    };
  }

  private bindWakeup(info: ClassInfo): EventFn | undefined {
    const tidF = payloadField(info.eventClass, 'tid');
    const cpuF = anyField(info.streamClass, info.eventClass, 'cpu_id');
    if (tidF === undefined) return undefined;
    return (ev) => {
      const m = this.model;
      const tid = readNum(tidF, ev);
      // A thread running on a CPU is not woken (lttng-analyses' rule).
      const cpus = m.cpus;
      for (let i = 0; i < cpus.length; i++) {
        const c = cpus[i];
        if (c !== undefined && c.known && c.currentTid > 0 && c.currentTid === tid) return;
      }
      const t = m.threads.get(tid);
      if (t === undefined || tid === 0) return;
      const waker = cpuF === undefined ? undefined : m.cpus[readNum(cpuF, ev)]?.current;
      this.states!.wakeup(t.uid, ev.ts, waker === undefined ? -1 : waker.uid);
    };
  }

  private onSwitch(ts: number, prevState: number): void {
    const m = this.model;
    const cpu = m.cpuId;
    const prev = m.switchPrev!;
    const next = m.switchNext!;
    const st = this.states;
    if (st !== undefined) {
      if (prev.tid !== 0) st.switchOut(prev.uid, ts, cpu, prevState);
      if (next.tid !== 0) st.switchIn(next.uid, ts);
    }
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
    const uid = t.uid;
    s.cpu.push(m.cpuId);
    s.ts.push(t.sysEntry);
    s.dur.push(ts - t.sysEntry);
    s.name.push(t.sysName!);
    s.ret.push(m.exitRet);
    s.uid.push(uid);
    const a = this.argsOf[uid];
    s.args.codes.push(a !== undefined && this.argsTs[uid] === t.sysEntry ? a : NULL_I32);
  }

  private onPage(ts: number, alloc: boolean): void {
    const m = this.model;
    const t = m.memThread;
    const p = this.pages;
    // The model leaves cpuId as it was for a free it ignores (no page allocated yet).
    p.cpu.push(t === undefined || Number.isNaN(m.cpuId) ? NULL_I32 : m.cpuId);
    p.ts.push(ts);
    p.kind.push(alloc ? 0 : 1);
    p.uid.push(t === undefined ? NULL_I32 : t.uid);
  }

  finalize(lastTs: number): void {
    this.lastTs = lastTs;
    for (let uid = 0; uid < this.start.length; uid++) {
      const st = this.start[uid]!;
      if (!Number.isNaN(st)) this.pushSlice(this.startCpu[uid]!, st, lastTs - st, uid, true, false);
    }
    this.states?.finalize(lastTs);
  }
}
