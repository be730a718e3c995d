/**
 * spans: application spans (a begin and an end event of one thread, optionally paired by the
 * value of a field) and, for each, what the kernel says its thread did meanwhile: time on a
 * CPU, time runnable but waiting for a CPU (and who ran on that CPU meanwhile: the noisy
 * neighbour), time blocked (and in which system call).
 *
 * The begin/end events are usually userspace events: their host thread is found through their
 * `pid_ns`/`vtid` contexts (src/model/ust-join.ts, through `ModelContainerLookup.threadOf`);
 * kernel events work too (their task). A thread is followed only while it has an open span:
 *
 * - at a begin event the thread is running (it emitted the event): on the CPU the kernel trace
 *   shows it on, else the CPU of the event's stream;
 * - `sched_switch` out of it: runnable (`prev_state` without a sleeping bit: preempted) → waiting
 *   for a CPU on that CPU; else blocked (in the system call in flight, if any);
 * - `sched_waking`/`sched_wakeup[_new]` of a blocked thread: waiting for a CPU on the target CPU
 *   (`sched_migrate_task` moves a waiting thread to another CPU's queue);
 * - `sched_switch` into it: running.
 *
 * While a thread waits on a CPU, each switch on that CPU charges the time since the last one to
 * the thread that ran (the idle task: to nobody); per container at the end, with each thread's
 * final container. Without wakeup events the time between a sleep and the switch back in is all
 * "blocked"; without a kernel trace covering the span, the breakdown is unknown.
 */
import type { EventRecord } from '../ctf/event.js';
import type { RecordFilter } from '../filter/options.js';
import type { ClassInfo, EventFn } from '../model/dispatch.js';
import { findField, toNum } from '../model/fields.js';
import type { ModelContainerLookup } from '../model/lookup.js';
import { isSyscallExit, syscallEntryName } from '../model/model.js';
import type { Thread } from '../model/threads.js';
import type { AnalysisContext } from './handler.js';
import { OnePeriodHandler } from './top-handler.js';

const RUN = 0;
const WAIT = 1;
const BLOCK = 2;

/** Key of the "no system call" bucket of blocked time (a sleep outside any syscall: page fault, ...). */
export const NO_SYSCALL = '';

/** One span, as measured. Durations in ns; `undefined` where the kernel trace cannot tell. */
export interface Span {
  /** Order of its begin event (0, 1, ...). */
  readonly index: number;
  readonly begin: number;
  end: number | undefined;
  /** The host thread of the begin event, when the join found it. */
  readonly thread: Thread | undefined;
  /** pid namespace and vtid of the begin event (userspace contexts), when it has them. */
  readonly pidNs: number | undefined;
  readonly vtid: number | undefined;
  /** Value of the `--match` field, as text. */
  readonly key: string | undefined;
  /** The kernel trace followed the thread over the whole span. */
  covered: boolean;
  onCpu: number;
  waiting: number;
  blocked: number;
  /** Time the thread's state was not known (not covered by the kernel trace). */
  unknown: number;
  /** Waiting time per thread (uid) that ran on the CPU meanwhile; -1: the CPU was idle. */
  readonly waitBy: Map<number, number>;
  /** Blocked time per system call name (`NO_SYSCALL`: outside one). */
  readonly blockedIn: Map<string, number>;
}

/** Per followed thread: its state since `since`, and its open spans. */
interface Track {
  readonly thread: Thread;
  state: number;
  since: number;
  /** RUN: the CPU it runs on; WAIT: the CPU whose queue it is in; BLOCK: -1. */
  cpu: number;
  /** The syscall in flight (from the entry/exit events seen while followed). */
  sys: string | undefined;
  /** BLOCK: the syscall it blocked in. */
  blockedSys: string;
  readonly open: Span[];
}

export interface SpansOptions {
  /** Begin and end event names. */
  readonly begin: string;
  readonly end: string;
  /** Pair begin and end by the value of this payload field (else: the last open span of the thread). */
  readonly match?: string | undefined;
  /**
   * The time range where the kernel trace has data on every CPU (ns relative to the set's base);
   * spans outside have no breakdown. Absent: no kernel trace.
   */
  readonly kernelRange?: { readonly begin: number; readonly end: number } | undefined;
}

export interface SpansResult {
  readonly begin: number;
  readonly end: number;
  /** Closed spans, in begin order. */
  readonly spans: Span[];
  /** Begin events with no end by the end of the trace. */
  readonly unfinished: number;
  /** End events with no open span (their begin was before the trace or filtered out). */
  readonly unmatchedEnds: number;
  /** Of those, end events whose `--match` value is open on another thread (a request handed over). */
  readonly crossThreadEnds: number;
  /** Begin events whose host thread the join did not find (their spans have no breakdown). */
  readonly unattributed: number;
  /** Spans begun while the kernel trace did not show their thread on a CPU (it runs: taken as running). */
  readonly notRunningAtBegin: number;
}

/** Whether a `sched_switch` `prev_state` leaves the task runnable (preempted), as opposed to sleeping. */
export function preempted(prevState: number): boolean {
  // S D T t X Z P I are bits 0-7 (TASK_REPORT); preemption is TASK_REPORT_MAX or 0.
  return (prevState & 0xff) === 0;
}

export class SpansHandler extends OnePeriodHandler {
  readonly name = 'spans';
  /** The handler applies `--filter` itself, to begin events only. */
  readonly filtersEvents = true;
  result: SpansResult | undefined;
  private keep: RecordFilter | undefined;
  private readonly spans: Span[] = [];
  /** Open spans without a thread (no breakdown), by pairing key. */
  private readonly orphans = new Map<string, Span[]>();
  /** Followed threads by uid. */
  private readonly tracks: Array<Track | undefined> = [];
  /** Threads waiting in each CPU's queue (followed ones only). */
  private readonly waiters: Track[][] = [];
  private unmatchedEnds = 0;
  private crossThreadEnds = 0;
  /** `--match` values of the open spans of followed threads (to tell a hand-off between threads). */
  private readonly openKeys = new Map<string, number>();

  /** An end event that closes no span: one of another thread's (a hand-off), or none. */
  private unmatched(key: string | undefined): void {
    this.unmatchedEnds++;
    if (key !== undefined && (this.openKeys.get(key) ?? 0) > 0) this.crossThreadEnds++;
  }
  private unattributed = 0;
  private notRunning = 0;
  /** Where the kernel trace has every CPU's data (the breakdown is unknown outside). */
  private readonly kernelFirst: number;
  private readonly kernelLast: number;

  constructor(
    private readonly opts: SpansOptions,
    private readonly lookup: ModelContainerLookup,
  ) {
    super();
    this.kernelFirst = opts.kernelRange?.begin ?? Infinity;
    this.kernelLast = opts.kernelRange?.end ?? -Infinity;
  }

  override reset(ctx: AnalysisContext): void {
    super.reset(ctx);
    this.keep = ctx.keep;
  }

  needsPayload(info: ClassInfo): boolean {
    const n = info.name;
    return (
      n === this.opts.begin || n === this.opts.end || (syscallEntryName(n) === undefined && !isSyscallExit(n))
    );
  }

  bind(info: ClassInfo): EventFn | undefined {
    const n = info.name;
    const fns: EventFn[] = [];
    if (n === this.opts.begin) fns.push(this.bindBegin(info));
    if (n === this.opts.end) fns.push(this.bindEnd(info));
    const k = this.bindKernel(info);
    if (k !== undefined) fns.push(k);
    if (fns.length === 0) return undefined;
    if (fns.length === 1) return fns[0];
    return (ev) => {
      for (const f of fns) f(ev);
    };
  }

  private matchGetter(info: ClassInfo): (ev: EventRecord) => string | undefined {
    const f = this.opts.match;
    if (f === undefined) return () => undefined;
    const i = findField(info.eventClass.fields, f);
    if (i < 0) return () => undefined;
    return (ev) => {
      const v = ev.payload?.[i];
      return v === undefined ? undefined : typeof v === 'string' ? v : String(v);
    };
  }

  private bindBegin(info: ClassInfo): EventFn {
    const key = this.matchGetter(info);
    const ec = info.streamClass.eventContext;
    const iPidNs = findField(ec, 'pid_ns');
    const iVtid = findField(ec, 'vtid');
    const iCpu = findField(info.streamClass.packetContext, 'cpu_id');
    return (ev) => {
      if (!this.active) return;
      if (this.keep !== undefined && !this.keep(ev)) return;
      const ctx = ev.streamContext;
      const thread = this.lookup.threadOf(ev);
      const span: Span = {
        index: this.spans.length,
        begin: ev.ts,
        end: undefined,
        thread,
        pidNs: iPidNs < 0 ? undefined : toNum(ctx?.[iPidNs]),
        vtid: iVtid < 0 ? undefined : toNum(ctx?.[iVtid]),
        key: key(ev),
        covered:
          thread !== undefined && thread.tid !== 0 && ev.ts >= this.kernelFirst && ev.ts <= this.kernelLast,
        onCpu: 0,
        waiting: 0,
        blocked: 0,
        unknown: 0,
        waitBy: new Map(),
        blockedIn: new Map(),
      };
      this.spans.push(span);
      if (thread === undefined || thread.tid === 0) {
        this.unattributed++;
        const k = span.key ?? `ns${String(span.pidNs)}/${String(span.vtid)}`;
        let l = this.orphans.get(k);
        if (l === undefined) {
          l = [];
          this.orphans.set(k, l);
        }
        l.push(span);
        return;
      }
      let tr = this.tracks[thread.uid];
      if (tr === undefined) tr = this.follow(thread, ev.ts, iCpu < 0 ? -1 : toNum(ev.packet.context?.[iCpu]));
      else this.settle(tr, ev.ts, this.runnerOf(tr));
      tr.open.push(span);
      if (span.key !== undefined) this.openKeys.set(span.key, (this.openKeys.get(span.key) ?? 0) + 1);
    };
  }

  private bindEnd(info: ClassInfo): EventFn {
    const key = this.matchGetter(info);
    const ec = info.streamClass.eventContext;
    const iPidNs = findField(ec, 'pid_ns');
    const iVtid = findField(ec, 'vtid');
    return (ev) => {
      if (!this.active) return;
      const thread = this.lookup.threadOf(ev);
      const k = key(ev);
      const tr = thread === undefined ? undefined : this.tracks[thread.uid];
      if (tr === undefined) {
        const ctx = ev.streamContext;
        const ok =
          k ??
          `ns${iPidNs < 0 ? 'undefined' : toNum(ctx?.[iPidNs])}/${iVtid < 0 ? 'undefined' : toNum(ctx?.[iVtid])}`;
        const l = this.orphans.get(ok);
        const s = l?.pop();
        if (s !== undefined) s.end = ev.ts;
        else this.unmatched(k);
        return;
      }
      let i = tr.open.length - 1;
      if (k !== undefined) while (i >= 0 && tr.open[i]!.key !== k) i--;
      if (i < 0) {
        this.unmatched(k);
        return;
      }
      if (k !== undefined) this.openKeys.set(k, this.openKeys.get(k)! - 1);
      this.settle(tr, ev.ts, this.runnerOf(tr));
      const s = tr.open[i]!;
      tr.open.splice(i, 1);
      s.end = ev.ts;
      if (ev.ts > this.kernelLast) s.covered = false;
      if (tr.open.length === 0) this.unfollow(tr);
    };
  }

  /** Starts following a thread that is running at `ts` (it emitted a begin event). */
  private follow(thread: Thread, ts: number, eventCpu: number): Track {
    let cpu = -1;
    const cpus = this.model.cpus;
    for (let i = 0; i < cpus.length; i++) {
      if (cpus[i]?.current === thread) {
        cpu = i;
        break;
      }
    }
    if (cpu < 0) {
      this.notRunning++;
      cpu = eventCpu;
    }
    const tr: Track = {
      thread,
      state: RUN,
      since: ts,
      cpu,
      sys: undefined,
      blockedSys: NO_SYSCALL,
      open: [],
    };
    this.tracks[thread.uid] = tr;
    return tr;
  }

  private unfollow(tr: Track): void {
    if (tr.state === WAIT) this.removeWaiter(tr);
    this.tracks[tr.thread.uid] = undefined;
  }

  /** The thread running on the CPU a waiting thread waits for (undefined: idle or not waiting). */
  private runnerOf(tr: Track): Thread | undefined {
    return tr.state === WAIT ? this.model.cpus[tr.cpu]?.current : undefined;
  }

  /** Charges the time since `tr.since` to its state (waiting: to `runner`), in every open span. */
  private settle(tr: Track, ts: number, runner: Thread | undefined): void {
    const dt = ts - tr.since;
    tr.since = ts;
    if (!(dt > 0)) return;
    const open = tr.open;
    for (let i = 0; i < open.length; i++) {
      const s = open[i]!;
      switch (tr.state) {
        case RUN:
          s.onCpu += dt;
          break;
        case WAIT: {
          s.waiting += dt;
          const k = runner === undefined ? -1 : runner.uid;
          s.waitBy.set(k, (s.waitBy.get(k) ?? 0) + dt);
          break;
        }
        default:
          s.blocked += dt;
          s.blockedIn.set(tr.blockedSys, (s.blockedIn.get(tr.blockedSys) ?? 0) + dt);
      }
    }
  }

  private addWaiter(tr: Track, cpu: number): void {
    tr.state = WAIT;
    tr.cpu = cpu;
    let l = this.waiters[cpu];
    if (l === undefined) {
      l = [];
      while (this.waiters.length < cpu) this.waiters.push([]);
      this.waiters[cpu] = l;
    }
    l.push(tr);
  }

  private removeWaiter(tr: Track): void {
    const l = this.waiters[tr.cpu];
    if (l === undefined) return;
    const i = l.indexOf(tr);
    if (i >= 0) l.splice(i, 1);
  }

  /**
   * The handler of an event about thread `tid` and a CPU (field `cpuField`): `move` gets the
   * thread's track when it is followed and in `state`.
   */
  private bindMove(
    ec: ClassInfo['eventClass'],
    cpuField: string,
    state: number,
    move: (tr: Track, ts: number, cpu: number) => void,
  ): EventFn | undefined {
    const iTid = findField(ec.fields, 'tid');
    const iCpu = findField(ec.fields, cpuField);
    if (iTid < 0 || iCpu < 0) return undefined;
    return (ev) => {
      const t = this.model.threads.get(toNum(ev.payload![iTid]));
      if (t === undefined) return;
      const tr = this.tracks[t.uid];
      if (tr === undefined || tr.state !== state) return;
      move(tr, ev.ts, toNum(ev.payload![iCpu]));
    };
  }

  private bindKernel(info: ClassInfo): EventFn | undefined {
    const n = info.name;
    const ec = info.eventClass;
    if (n === 'sched_switch') {
      const iState = findField(ec.fields, 'prev_state');
      if (iState < 0) return undefined;
      return (ev) => this.onSwitch(ev.ts, toNum(ev.payload![iState]));
    }
    if (n === 'sched_waking' || n === 'sched_wakeup' || n === 'sched_wakeup_new') {
      // A blocked span's thread becomes runnable: it waits for `target_cpu`.
      return this.bindMove(ec, 'target_cpu', BLOCK, (tr, ts, cpu) => {
        this.settle(tr, ts, undefined);
        this.addWaiter(tr, cpu);
      });
    }
    if (n === 'sched_migrate_task') {
      // A waiting span's thread moves: it waits for `dest_cpu` now.
      return this.bindMove(ec, 'dest_cpu', WAIT, (tr, ts, cpu) => {
        this.settle(tr, ts, this.runnerOf(tr));
        this.removeWaiter(tr);
        this.addWaiter(tr, cpu);
      });
    }
    const iCpu = findField(info.streamClass.packetContext, 'cpu_id');
    if (iCpu < 0) return undefined;
    const sys = syscallEntryName(n);
    const exit = sys === undefined && isSyscallExit(n);
    if (sys === undefined && !exit) return undefined;
    // Hot (every system call of the trace): the CPU's thread, then whether it is followed.
    const cpus = this.model.cpus;
    const tracks = this.tracks;
    return (ev) => {
      const t = cpus[ev.packet.context![iCpu] as number]?.current;
      if (t === undefined) return;
      const tr = tracks[t.uid];
      if (tr !== undefined) tr.sys = sys;
    };
  }

  private onSwitch(ts: number, prevState: number): void {
    const m = this.model;
    const cpu = m.cpuId;
    const prev = m.switchPrev;
    const next = m.switchNext;
    const w = this.waiters[cpu];
    if (w !== undefined && w.length > 0) {
      // Whoever waited on this CPU waited while `prev` ran.
      for (let i = w.length - 1; i >= 0; i--) {
        const tr = w[i]!;
        this.settle(tr, ts, prev === undefined || prev.tid === 0 ? undefined : prev);
        if (tr.thread === next) {
          w.splice(i, 1);
          tr.state = RUN;
          tr.cpu = cpu;
        }
      }
    }
    if (prev !== undefined) {
      const tr = this.tracks[prev.uid];
      if (tr !== undefined && tr.state === RUN) {
        this.settle(tr, ts, undefined);
        if (preempted(prevState)) this.addWaiter(tr, cpu);
        else {
          tr.state = BLOCK;
          tr.cpu = -1;
          tr.blockedSys = tr.sys ?? NO_SYSCALL;
        }
      }
    }
    if (next !== undefined) {
      const tr = this.tracks[next.uid];
      if (tr !== undefined && tr.state !== RUN) {
        // Switched in from a state the trace did not end (no wakeup event seen).
        if (tr.state === WAIT) this.removeWaiter(tr);
        this.settle(tr, ts, undefined);
        tr.state = RUN;
        tr.cpu = cpu;
      }
    }
  }

  finalize(lastTs: number): void {
    if (!this.active) return;
    let unfinished = 0;
    const closed: Span[] = [];
    for (const s of this.spans) {
      if (s.end === undefined) unfinished++;
      else {
        if (!s.covered || s.thread === undefined) {
          s.unknown = s.end - s.begin - s.onCpu - s.waiting - s.blocked;
          if (s.thread === undefined) s.covered = false;
        }
        closed.push(s);
      }
    }
    this.result = {
      begin: this.periodBegin,
      end: lastTs,
      spans: closed,
      unfinished,
      unmatchedEnds: this.unmatchedEnds,
      crossThreadEnds: this.crossThreadEnds,
      unattributed: this.unattributed,
      notRunningAtBegin: this.notRunning,
    };
  }
}
