/**
 * Scheduling latency (wake-up to run) per event, per thread, per priority and per container:
 * the data of `schedtop`, `schedstats`, `schedlog` and `schedfreq`.
 *
 * Follows lttng-analyses 0.6.1 (`core/sched.py`, `linuxautomaton/sched.py`): a thread's latency
 * runs from its first wakeup (`sched_wakeup`, `sched_wakeup_new` or `sched_waking`, whichever
 * comes first; a wakeup of a running thread is ignored) to the `sched_switch` that runs it; the
 * waker is the task that ran on the CPU of the wakeup. Per-thread statistics are made for the
 * wakee and the waker when first met (name and pid then, priorities as they change); log and top
 * rows show the wakee's and waker's names as they are when the period ends.
 *
 * Per container (ours): each latency is charged to the wakee's container, and to the container
 * of the task the CPU ran before the switch ("held by"; `[IDLE]` when the CPU was idle), which is
 * what a noisy neighbour looks like.
 */
import type { Container } from '../model/containers.js';
import type { LttProc, LttProcs, SchedSwitchInfo } from '../model/lttng-procs.js';
import type { Thread } from '../model/threads.js';
import { DurationStats } from './stats.js';
import type { PeriodicOptions } from './periodic.js';
import { PeriodicHandler } from './periodic.js';
import type { Tick } from './ticks.js';
import { getOrAdd } from '../util/map.js';

/** A process as shown in a log row (its name and pid when the period ended). */
export interface ProcView {
  readonly tid: number;
  readonly pid: number | undefined;
  readonly comm: string;
}

export interface SchedEvent {
  readonly wakeupTs: number;
  readonly switchTs: number;
  readonly latency: number;
  readonly prio: number | undefined;
  readonly cpu: number;
  /** The live entries: their names are read when the period ends. */
  readonly wakeeProc: LttProc;
  readonly wakerProc: LttProc | undefined;
  readonly wakee: ProcView;
  readonly waker: ProcView | undefined;
  /** Model threads: the wakee, and the task switched out (undefined: idle or unknown). */
  readonly wakeeThread: Thread | undefined;
  readonly holder: Thread | undefined;
  readonly holderIdle: boolean;
}

/**
 * A latency of nstrace's per-container tables: from the first wakeup as it happened (a
 * `SchedEvent` itself when lttng-analyses measured the same).
 */
export interface OwnLatency {
  readonly latency: number;
  readonly wakeeThread: Thread | undefined;
  readonly holder: Thread | undefined;
  readonly holderIdle: boolean;
}

/** lttng-analyses' `ProcessSchedStats`. */
export interface TidSched {
  readonly tid: number;
  readonly pid: number | undefined;
  readonly comm: string;
  /** Priorities in order (`prio_list`). */
  readonly prios: Array<number | undefined>;
  readonly events: SchedEvent[];
  /** The thread, for the container selection. */
  readonly thread: Thread | undefined;
}

export interface ContainerLatency {
  readonly container: Container;
  readonly stats: DurationStats;
}

/** Latency of a container's tasks while the CPU ran another container's task (or idled). */
export interface HolderLatency {
  readonly container: Container;
  /** The container that ran on the CPU before the switch; undefined: the CPU was idle. */
  readonly holder: Container | undefined;
  readonly stats: DurationStats;
}

export interface SchedPeriodResult {
  /** Every latency, in order. */
  readonly events: SchedEvent[];
  /**
   * The latencies of the per-container tables, in order: `events`, except where lttng-analyses
   * lost a wakeup (see `LttProc.wakeup`).
   */
  readonly own: OwnLatency[];
  /** By tid, in order of first appearance (wakees and wakers). */
  readonly tids: TidSched[];
  readonly containers: ContainerLatency[];
  readonly holders: HolderLatency[];
}

export type SchedResult = ReadonlyArray<Tick<SchedPeriodResult>>;

/** A latency while its periods are open: its names are set when they close (`closed`). */
type OpenSchedEvent = { -readonly [K in keyof SchedEvent]: SchedEvent[K] };

/** The names of a latency until its period closes (never given out). */
const UNNAMED: ProcView = { tid: -1, pid: undefined, comm: '' };

class PeriodData {
  readonly events: OpenSchedEvent[] = [];
  readonly own: OwnLatency[] = [];
  readonly tids = new Map<number, TidSched>();
}

function view(p: LttProc): ProcView {
  return { tid: p.tid, pid: p.pid, comm: p.comm };
}

/** The statistics of a process first met (as wakee or waker), with its thread. */
function tidSched(p: LttProc, thread: Thread | undefined): TidSched {
  return { tid: p.tid, pid: p.pid, comm: p.comm, prios: [p.prio], events: [], thread };
}

export class SchedHandler extends PeriodicHandler<LttProcs, PeriodData, SchedPeriodResult> {
  constructor(procs: LttProcs, opts: PeriodicOptions) {
    super('sched', procs, opts, () => new PeriodData());
  }

  protected listen(): void {
    this.tracker.listen({
      schedSwitch: (s) => this.onSwitch(s),
      prioChanged: (ev, tid, prio, ts) => {
        if (!this.counts(ev)) return;
        void ts;
        for (const pd of this.open.values()) pd.tids.get(tid)?.prios.push(prio);
      },
    });
  }

  /** Latencies in more than one open period (overlapping periods), with how many hold them. */
  private readonly shared = new Map<SchedEvent, number>();

  protected closed(pd: PeriodData): SchedPeriodResult {
    // Names as they are now (lttng-analyses prints the live process objects at the tick), one
    // view per process. A latency that another open period holds too gets a copy for this one;
    // the last period to close takes the latency itself.
    const views = new Map<LttProc, ProcView>();
    const viewOf = (p: LttProc): ProcView => getOrAdd(views, p, view);
    let copies: Map<SchedEvent, SchedEvent> | undefined;
    const events = pd.events.map((e): SchedEvent => {
      const wakee = viewOf(e.wakeeProc);
      const waker = e.wakerProc === undefined ? undefined : viewOf(e.wakerProc);
      const n = this.shared.get(e);
      if (n !== undefined) {
        if (n > 1) {
          this.shared.set(e, n - 1);
          const c = { ...e, wakee, waker };
          (copies ??= new Map()).set(e, c);
          return c;
        }
        this.shared.delete(e);
      }
      e.wakee = wakee;
      e.waker = waker;
      return e;
    });
    const cp = copies;
    if (cp === undefined)
      return { events, own: pd.own, tids: [...pd.tids.values()], containers: [], holders: [] };
    const tids = [...pd.tids.values()].map((t) => ({ ...t, events: t.events.map((e) => cp.get(e) ?? e) }));
    const own = pd.own.map((o) => cp.get(o as SchedEvent) ?? o);
    return { events, own, tids, containers: [], holders: [] };
  }

  private onSwitch(s: SchedSwitchInfo): void {
    if (!this.counts(s.ev)) return;
    const wakee = s.wakee;
    if (!this.filter.processIds(wakee.tid, wakee.comm)) return;
    if (!this.filter.cpu(s.cpuId)) return;
    const m = this.model;
    const wakeupTs = wakee.lastWakeup;
    const own = wakee.wakeup ?? wakeupTs;
    if (own !== undefined && own !== wakeupTs) {
      // lttng-analyses lost this wakeup (or the first of them): counted in our tables only.
      const o: OwnLatency = {
        latency: s.ts - own,
        wakeeThread: m.switchNext,
        holder: s.prevTid === 0 ? undefined : m.switchPrev,
        holderIdle: s.prevTid === 0,
      };
      if (this.inRange(o.latency)) for (const pd of this.open.values()) pd.own.push(o);
    }
    if (wakeupTs === undefined) return;
    const latency = s.ts - wakeupTs;
    if (!this.inRange(latency)) return;
    const e: OpenSchedEvent = {
      wakeupTs,
      switchTs: s.ts,
      latency,
      prio: wakee.prio,
      cpu: s.cpuId,
      wakeeProc: wakee,
      wakerProc: s.waker,
      wakee: UNNAMED,
      waker: undefined,
      wakeeThread: m.switchNext,
      holder: s.prevTid === 0 ? undefined : m.switchPrev,
      holderIdle: s.prevTid === 0,
    };
    for (const pd of this.open.values()) {
      const waker = s.waker;
      if (waker !== undefined && !pd.tids.has(waker.tid))
        pd.tids.set(waker.tid, tidSched(waker, waker.thread));
      let t = pd.tids.get(s.nextTid);
      if (t === undefined) {
        t = tidSched(wakee, m.switchNext);
        pd.tids.set(s.nextTid, t);
      }
      t.events.push(e);
      pd.events.push(e);
      if (own === wakeupTs) pd.own.push(e);
    }
    if (this.open.size > 1) this.shared.set(e, this.open.size);
  }

  /** Within `--min`/`--max`. */
  private inRange(latency: number): boolean {
    return !(
      (this.opts.min !== undefined && latency < this.opts.min) ||
      (this.opts.max !== undefined && latency > this.opts.max)
    );
  }

  finalize(lastTs: number): void {
    this.closeAll(lastTs);
    const f = this.filter;
    const m = this.model;
    const sel = f.selectsContainers;
    const selected = (t: Thread | undefined): boolean => t === undefined || f.threadSelected(t);
    this.result = this.ticks.map((tk) => {
      let { events, tids, own } = tk.result;
      if (sel) {
        events = events.filter((e) => e.wakeeThread !== undefined && f.threadSelected(e.wakeeThread));
        own = own.filter((e) => e.wakeeThread !== undefined && f.threadSelected(e.wakeeThread));
        tids = tids
          .filter((t) => selected(t.thread))
          .map((t) => ({
            ...t,
            events: t.events.filter((e) => e.wakeeThread !== undefined && f.threadSelected(e.wakeeThread)),
          }));
      }
      const byC = new Map<Container, ContainerLatency>();
      const byH = new Map<string, HolderLatency>();
      for (const e of own) {
        if (e.wakeeThread === undefined) continue;
        const c = m.containerOf(e.wakeeThread);
        let cl = byC.get(c);
        if (cl === undefined) {
          cl = { container: c, stats: new DurationStats() };
          byC.set(c, cl);
        }
        cl.stats.add(e.latency);
        const h = e.holderIdle || e.holder === undefined ? undefined : m.containerOf(e.holder);
        const key = `${c.key}\u0000${h === undefined ? (e.holderIdle ? 'idle' : '?') : h.key}`;
        let hl = byH.get(key);
        if (hl === undefined) {
          hl = { container: c, holder: h, stats: new DurationStats() };
          byH.set(key, hl);
        }
        hl.stats.add(e.latency);
      }
      const containers = [...byC.values()].filter((c) => f.container(c.container));
      containers.sort((a, b) => b.stats.count - a.stats.count);
      const holders = [...byH.values()].filter((h) => f.container(h.container));
      holders.sort((a, b) => b.stats.sum - a.stats.sum);
      return { ...tk, result: { events, own, tids, containers, holders } };
    });
  }
}
