/**
 * The view's collector: an analysis handler that keeps, in one pass with the model and the other
 * analyses, what the timelines draw (ViewStore): each CPU's slices (which thread ran from when to
 * when), each thread's states (running, runnable, asleep or blocked in a syscall), and the times
 * of page allocations and system calls with the thread that made them. Containers come from the
 * model at the end (a thread's final container, as the analyses count it).
 *
 * `prev_state` of `sched_switch` is read as Linux >= 4.14 reports it (ftrace and lttng-modules
 * alike): 0 runnable (yield), 0x100 preempted, 1 interruptible sleep (S), 2 uninterruptible (D),
 * 0x80 idle kernel wait (I, shown as asleep), 0x10/0x20 exiting (X/Z); anything else is
 * `other`, with the raw value.
 */
import type { AnalysisContext, AnalysisHandler } from '../analyses/handler.js';
import type { ClassInfo, EventFn } from '../model/dispatch.js';
import { compose } from '../model/dispatch.js';
import { findField, payloadField, readNum, toNum } from '../model/fields.js';
import type { SystemModel } from '../model/model.js';
import { isSyscallExit } from '../model/model.js';
import type { Thread } from '../model/threads.js';
import type { Lane, ViewStore } from './store.js';
import { f64, i32, u8 } from './store.js';
import { ThreadState } from './types.js';
import { StringCodes } from '../util/string-codes.js';

const UNKNOWN = -1;
const DEAD = -2;

/** A `prev_state` as a thread state (or DEAD). */
export function switchedOutState(prevState: number): number {
  switch (prevState) {
    case 0:
    case 0x100:
      return ThreadState.preempted;
    case 1:
    case 0x80:
      return ThreadState.sleeping;
    case 2:
      return ThreadState.blocked;
    case 0x10:
    case 0x20:
      return DEAD;
    default:
      return ThreadState.other;
  }
}

class LaneBuilder {
  readonly start = f64();
  readonly end = f64();
  readonly uid = i32();
  /** Thread on the CPU since `since` (-1: idle or unknown). */
  cur = -1;
  since = 0;
  /** Whether a sched_switch was seen on this CPU. */
  switched = false;
  constructor(readonly cpu: number) {}
  push(s: number, e: number, uid: number): void {
    if (!(e >= s)) return;
    this.start.push(s);
    this.end.push(e);
    this.uid.push(uid);
  }
}

export interface CollectStats {
  /** `sched_switch` events whose previous task was not the one the CPU's last switch brought in. */
  chainBreaks: number;
}

export class ViewCollector implements AnalysisHandler {
  readonly name = 'view';
  /** The view sees every event (it has no event filter). */
  readonly filtersEvents = true;
  store: ViewStore | undefined;
  readonly stats: CollectStats = { chainBreaks: 0 };
  /** Syscall names, by the ids thread states carry. */
  readonly syscalls = new StringCodes();
  /** CPU time of each thread uid (running intervals), ns. */
  cpuNs: number[] = [];

  private model!: SystemModel;
  private readonly lanes: LaneBuilder[] = [];
  /** First event time per CPU (the start of a task's slice when the CPU's first switch takes it out). */
  private readonly firstTs: number[] = [];
  // Current state per thread uid.
  private readonly state: number[] = [];
  private readonly since: number[] = [];
  private readonly arg: number[] = [];
  // Closed intervals, in the order they closed.
  private readonly iUid = i32();
  private readonly iStart = f64();
  private readonly iEnd = f64();
  private readonly iState = u8();
  private readonly iArg = i32();
  private readonly allocTs = f64();
  private readonly allocUid = i32();
  private readonly sysTs = f64();
  private readonly sysUid = i32();
  private readonly sysErr = u8();
  private readonly payloadClasses = new Set<ClassInfo['eventClass']>();

  reset(ctx: AnalysisContext): void {
    this.model = ctx.model;
  }

  begin(): void {}

  needsPayload(info: ClassInfo): boolean {
    return this.payloadClasses.has(info.eventClass);
  }

  bind(info: ClassInfo): EventFn | undefined {
    const fns: EventFn[] = [];
    const iCpu = findField(info.streamClass.packetContext, 'cpu_id');
    if (iCpu >= 0) {
      const first = this.firstTs;
      fns.push((ev) => {
        const c = toNum(ev.packet.context?.[iCpu]);
        if (first[c] === undefined && c >= 0 && c < 1 << 16) first[c] = ev.ts;
      });
    }
    const specific = this.bindSpecific(info);
    if (specific !== undefined) fns.push(specific);
    return compose(fns) ?? undefined;
  }

  private bindSpecific(info: ClassInfo): EventFn | undefined {
    const m = (): SystemModel => this.model;
    const name = info.name;
    const ec = info.eventClass;
    if (name === 'sched_switch') {
      const stateF = payloadField(ec, 'prev_state');
      this.payloadClasses.add(ec);
      return (ev) => this.onSwitch(ev.ts, readNum(stateF, ev));
    }
    if (name === 'sched_wakeup' || name === 'sched_waking' || name === 'sched_wakeup_new') {
      const tidF = payloadField(ec, 'tid');
      const cpuF = payloadField(ec, 'target_cpu');
      if (tidF === undefined) return undefined;
      this.payloadClasses.add(ec);
      return (ev) => {
        const tid = readNum(tidF, ev);
        if (!(tid > 0)) return;
        const t = m().threads.get(tid);
        if (t === undefined) return;
        const s = this.state[t.uid];
        if (s === ThreadState.running || s === ThreadState.woken) return;
        const cpu = readNum(cpuF, ev);
        this.transition(t.uid, ev.ts, ThreadState.woken, Number.isFinite(cpu) ? cpu : -1);
      };
    }
    if (isSyscallExit(name)) {
      return (ev) => {
        const t = m().exitThread;
        if (t === undefined) return;
        this.sysTs.push(ev.ts);
        this.sysUid.push(t.uid);
        this.sysErr.push(m().exitRet < 0 ? 1 : 0);
      };
    }
    if (name === 'kmem_mm_page_alloc' || name === 'mm_page_alloc') {
      return (ev) => {
        const t = m().memThread;
        if (t === undefined) return;
        this.allocTs.push(ev.ts);
        this.allocUid.push(t.uid);
      };
    }
    return undefined;
  }

  private lane(cpu: number): LaneBuilder | undefined {
    if (!(cpu >= 0) || cpu > 1 << 16 || !Number.isInteger(cpu)) return undefined;
    let l = this.lanes[cpu];
    if (l === undefined) {
      l = new LaneBuilder(cpu);
      this.lanes[cpu] = l;
    }
    return l;
  }

  private onSwitch(ts: number, prevState: number): void {
    const model = this.model;
    const prev = model.switchPrev;
    const next = model.switchNext;
    const lane = this.lane(model.cpuId);
    if (prev === undefined || next === undefined || lane === undefined) return;
    if (lane.cur !== prev.uid && (prev.tid !== 0 || lane.cur >= 0)) {
      if (lane.switched) {
        // The task switched out is not the one the CPU's last switch brought in (lost
        // events): neither when that one stopped nor when this one started is known, so
        // neither is drawn over the gap.
        this.stats.chainBreaks++;
        if (lane.cur >= 0) this.transition(lane.cur, lane.since, UNKNOWN, -1);
        lane.cur = -1;
      } else if (prev.tid !== 0) {
        // The CPU's first switch: the task it takes out ran since the CPU's first event.
        const since = this.firstTs[lane.cpu] ?? ts;
        if (this.state[prev.uid] !== ThreadState.running)
          this.transition(prev.uid, since, ThreadState.running, lane.cpu);
        lane.cur = prev.uid;
        lane.since = since;
      }
    }
    if (prev.tid !== 0 && lane.cur === prev.uid) {
      lane.push(lane.since, ts, prev.uid);
      const s = switchedOutState(prevState);
      if (s === DEAD) this.transition(prev.uid, ts, UNKNOWN, -1);
      else {
        const arg =
          s === ThreadState.sleeping || s === ThreadState.blocked
            ? prev.sysName === undefined
              ? -1
              : this.syscalls.code(prev.sysName)
            : s === ThreadState.other
              ? prevState
              : -1;
        this.transition(prev.uid, ts, s, arg);
      }
    } else if (prev.tid !== 0) {
      // After a break: switched out in a known state from now on.
      const s = switchedOutState(prevState);
      if (s !== DEAD) this.transition(prev.uid, ts, s, -1);
    }
    lane.switched = true;
    lane.since = ts;
    if (next.tid !== 0) {
      lane.cur = next.uid;
      this.transition(next.uid, ts, ThreadState.running, lane.cpu);
    } else {
      lane.cur = -1;
    }
  }

  /** Ends the thread's current state at `ts` and starts `state` (UNKNOWN: none). */
  private transition(uid: number, ts: number, state: number, arg: number): void {
    const cur = this.state[uid];
    if (cur !== undefined && cur >= 0) {
      if (cur === state && this.arg[uid] === arg) return;
      const s = this.since[uid]!;
      if (ts > s) {
        this.iUid.push(uid);
        this.iStart.push(s);
        this.iEnd.push(ts);
        this.iState.push(cur);
        this.iArg.push(this.arg[uid]!);
      }
    }
    this.state[uid] = state;
    this.since[uid] = ts;
    this.arg[uid] = arg;
  }

  finalize(lastTs: number): void {
    const model = this.model;
    for (const l of this.lanes) {
      if (l === undefined || l.cur < 0) continue;
      l.push(l.since, lastTs, l.cur);
    }
    for (let uid = 0; uid < this.state.length; uid++) {
      const s = this.state[uid];
      if (s !== undefined && s >= 0) this.transition(uid, lastTs, UNKNOWN, -1);
    }
    const nThreads = model.allThreads.length;
    // Group the intervals by thread (counting sort, stable: each thread's stay in time order).
    const uids = this.iUid.done();
    const n = uids.length;
    const off = new Int32Array(nThreads + 1);
    for (let i = 0; i < n; i++) off[uids[i]! + 1]!++;
    for (let u = 0; u < nThreads; u++) off[u + 1]! += off[u]!;
    const pos = off.slice(0, nThreads);
    const starts = this.iStart.done();
    const ends = this.iEnd.done();
    const states = this.iState.done();
    const args = this.iArg.done();
    const stStart = new Float64Array(n);
    const stEnd = new Float64Array(n);
    const stState = new Uint8Array(n);
    const stArg = new Int32Array(n);
    const cpuNs = new Array<number>(nThreads).fill(0);
    for (let i = 0; i < n; i++) {
      const u = uids[i]!;
      const p = pos[u]!++;
      stStart[p] = starts[i]!;
      stEnd[p] = ends[i]!;
      stState[p] = states[i]!;
      stArg[p] = args[i]!;
      if (states[i] === ThreadState.running) cpuNs[u]! += ends[i]! - starts[i]!;
    }
    this.cpuNs = cpuNs;
    const uidCkey = new Int32Array(nThreads);
    for (const t of model.allThreads) uidCkey[t.uid] = model.containerOf(t).key;
    const lanes: Lane[] = this.lanes
      .filter((l): l is LaneBuilder => l !== undefined)
      .map((l) => ({ cpu: l.cpu, start: l.start.done(), end: l.end.done(), uid: l.uid.done() }));
    this.store = {
      lanes,
      stOff: off,
      stStart,
      stEnd,
      stState,
      stArg,
      uidCkey,
      allocTs: this.allocTs.done(),
      allocUid: this.allocUid.done(),
      sysTs: this.sysTs.done(),
      sysUid: this.sysUid.done(),
      sysErr: this.sysErr.done(),
      spOff: new Int32Array(nThreads + 1),
      spStart: new Float64Array(0),
      spEnd: new Float64Array(0),
      spDepth: new Uint8Array(0),
      spName: new Int32Array(0),
      spanNames: [],
    };
  }

  /** Whether the thread did anything the page shows. */
  active(t: Thread): boolean {
    const st = this.store;
    if (st === undefined) return false;
    return st.stOff[t.uid + 1]! > st.stOff[t.uid]!;
  }
}
