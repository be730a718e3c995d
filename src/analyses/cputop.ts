/**
 * cputop: CPU usage per thread, per CPU, in total and per container.
 *
 * Per-TID, per-CPU and total usage follow lttng-analyses 0.6.1 (`core/cputop.py`) exactly,
 * including its conventions: a thread first met being switched out is charged from the start of
 * the period; the idle task (tid 0) is never charged when switched in; a CPU is busy from the
 * start of the period until its first switch; the total is the mean over the CPUs the trace
 * showed (from `sched_switch`, wakeups and IRQs). Per-container usage sums the CPU time of the
 * threads bound to each container, so each container's time is the sum of its threads'; the
 * idle task (tid 0) is in no container's row (lttng-analyses charges it in its per-TID table
 * from the start of the period to the CPU's first switch).
 */
import { byteStringToText } from '../ctf/event.js';
import type { Container } from '../model/containers.js';
import type { ClassInfo, EventFn } from '../model/dispatch.js';
import type { Thread } from '../model/threads.js';
import type { AnalysisContext } from './handler.js';
import { TopHandler } from './top-handler.js';

const NONE = NaN;

export interface TidCpuUsage {
  readonly tid: number;
  readonly pid: number | undefined;
  readonly comm: string;
  /** CPU time in ns. */
  cpuNs: number;
  /** Percent of the period (lttng-analyses' `usage_percent`). */
  usage: number;
  migrations: number;
  /** Priorities in the order they were seen (lttng-analyses' `prio_list`). */
  readonly prios: number[];
  /** @internal start of the current run, NaN when not running */
  lastSched: number;
}

export interface CpuUsage {
  readonly cpu: number;
  busyNs: number;
  usage: number;
  /** @internal */
  start: number;
}

/** Per-CPU busy time by thread, kept when the tasks are selected by container at the end. */
interface CpuByThread {
  /** uid of the thread switched in at `start` (-1: none known, from the start of the period). */
  startUid: number;
  /** Busy ns per thread uid (key -1: before the CPU's first switch, counted whatever is selected). */
  readonly ns: Map<number, number>;
}

export interface ContainerCpuUsage {
  readonly container: Container;
  /** Sum of the CPU time of the container's threads, ns. */
  cpuNs: number;
  /** Percent of the period (can exceed 100 on several CPUs). */
  usage: number;
  /** Threads of the container that ran in the period. */
  threads: number;
}

export interface CputopResult {
  /** Period, ns relative to the trace set base: first event at/after --begin, last event. */
  readonly begin: number;
  readonly end: number;
  /** Every thread that ran, by decreasing usage (stable on first appearance). */
  readonly tids: TidCpuUsage[];
  /** Every CPU with a `sched_switch`, by id. */
  readonly cpus: CpuUsage[];
  /** Mean usage over the known CPUs, percent; undefined when no CPU is known. */
  readonly total: number | undefined;
  /** Selected containers (the host first when selected), by decreasing usage. */
  readonly containers: ContainerCpuUsage[];
}

export class CputopHandler extends TopHandler<TidCpuUsage> {
  readonly name = 'cputop';
  result: CputopResult | undefined;
  private readonly cpus = new Map<number, CpuUsage>();
  // Per thread lifetime (index = Thread.uid), for per-container sums.
  private thrNs: number[] = [];
  private thrLast: number[] = [];
  private thrSeen: boolean[] = [];
  /** With a container selection: per-CPU busy time by thread. */
  private byThread: Map<number, CpuByThread> | undefined;

  override reset(ctx: AnalysisContext): void {
    super.reset(ctx);
    if (ctx.filter.selectsContainers) this.byThread = new Map();
    this.model.onPrioChanged((t, prio) => {
      if (!this.active) return;
      const s = this.tids.get(t.tid);
      if (s !== undefined) s.prios.push(prio);
    });
  }

  bind(info: ClassInfo): EventFn | undefined {
    if (info.name === 'sched_switch') return (ev) => this.onSwitch(ev.ts);
    if (info.name === 'sched_migrate_task') return () => this.onMigrate();
    return undefined;
  }

  private ensureThread(uid: number): void {
    while (this.thrNs.length <= uid) {
      this.thrNs.push(0);
      this.thrLast.push(NONE);
      this.thrSeen.push(false);
    }
  }

  /** Whether a thread is charged when switched in (lttng-analyses excludes the idle task). */
  private wanted(tid: number, t: Thread): boolean {
    return tid !== 0 && this.filter.process(t);
  }

  private onSwitch(ts: number): void {
    const m = this.model;
    const cpuId = m.cpuId;
    if (!this.filter.cpu(cpuId)) return;
    const prev = m.switchPrev!;
    const next = m.switchNext!;
    const nextWanted = this.wanted(next.tid, next);

    let cpu = this.cpus.get(cpuId);
    if (cpu === undefined) {
      cpu = { cpu: cpuId, busyNs: 0, usage: 0, start: this.periodBegin };
      this.cpus.set(cpuId, cpu);
    }
    const ran = Number.isNaN(cpu.start) ? NONE : ts - cpu.start;
    if (!Number.isNaN(ran)) cpu.busyNs += ran;
    if (this.byThread !== undefined) this.busyBy(cpuId, ran, nextWanted ? next.uid : -1);
    cpu.start = nextWanted ? ts : NONE;

    // lttng-analyses charges the previous thread whatever --tid/--procname say (kept). The
    // container selection applies to the rows at the end.
    let p = this.tids.get(prev.tid);
    if (p === undefined) {
      p = newTid(prev.tid, undefined, byteStringToText(m.switchPrevComm));
      p.lastSched = this.periodBegin;
      this.tids.set(prev.tid, p);
    }
    if (!Number.isNaN(p.lastSched)) {
      p.cpuNs += ts - p.lastSched;
      p.lastSched = NONE;
    }
    this.rowThread.set(prev.tid, prev);
    const pu = prev.uid;
    this.ensureThread(pu);
    if (!this.thrSeen[pu]) {
      this.thrSeen[pu] = true;
      this.thrLast[pu] = this.periodBegin;
    }
    const pl = this.thrLast[pu]!;
    if (!Number.isNaN(pl)) {
      this.thrNs[pu]! += ts - pl;
      this.thrLast[pu] = NONE;
    }

    if (nextWanted) this.switchIn(next, ts);
  }

  private switchIn(next: Thread, ts: number): void {
    const m = this.model;
    let n = this.tids.get(next.tid);
    if (n === undefined) {
      n = newTid(next.tid, undefined, byteStringToText(m.switchNextComm));
      if (next.prio !== undefined) n.prios.push(next.prio);
      else n.prios.push(NaN);
      this.tids.set(next.tid, n);
    }
    n.lastSched = ts;
    this.rowThread.set(next.tid, next);
    const nu = next.uid;
    this.ensureThread(nu);
    this.thrSeen[nu] = true;
    this.thrLast[nu] = ts;
  }

  private onMigrate(): void {
    const m = this.model;
    const t = m.migrated!;
    if (!this.wanted(t.tid, t)) return;
    if (!this.filter.cpu(m.cpuId)) return;
    let s = this.tids.get(t.tid);
    if (s === undefined) {
      s = newTid(t.tid, t.pid, t.comm);
      this.tids.set(t.tid, s);
    }
    s.migrations++;
    this.rowThread.set(t.tid, t);
  }

  /**
   * Adds `ns` (NaN: none) of busy time on `cpuId` to the thread counted since the last switch
   * (`-1` before the CPU's first switch), and records the thread now counted (`-1`: none).
   */
  private busyBy(cpuId: number, ns: number, nextUid: number): void {
    let b = this.byThread!.get(cpuId);
    if (b === undefined) {
      b = { startUid: -1, ns: new Map() };
      this.byThread!.set(cpuId, b);
    }
    if (!Number.isNaN(ns)) b.ns.set(b.startUid, (b.ns.get(b.startUid) ?? 0) + ns);
    b.startUid = nextUid;
  }

  finalize(lastTs: number): void {
    if (!this.active) return;
    const duration = lastTs - this.periodBegin;
    const pct = (ns: number): number => (duration !== 0 ? (ns * 100) / duration : 0);
    const cpus = [...this.cpus.values()];
    const f = this.filter;
    const model = this.model;
    for (const c of cpus) {
      if (!Number.isNaN(c.start)) {
        c.busyNs += lastTs - c.start;
        if (this.byThread !== undefined) this.busyBy(c.cpu, lastTs - c.start, -1);
      }
      const b = this.byThread?.get(c.cpu);
      if (b !== undefined) {
        // The time the CPU ran selected tasks (and, as lttng-analyses counts it whatever the
        // filters, the time before its first switch).
        let ns = 0;
        for (const [uid, v] of b.ns) if (uid < 0 || f.threadSelected(model.allThreads[uid]!)) ns += v;
        c.busyNs = ns;
      }
      c.usage = pct(c.busyNs);
    }
    // --container/--container-type/--host: the rows of the selected tasks (final binding).
    const tids = this.selectedRows();
    for (const t of tids) {
      if (!Number.isNaN(t.lastSched)) t.cpuNs += lastTs - t.lastSched;
      t.usage = pct(t.cpuNs);
    }
    tids.sort((a, b) => b.usage - a.usage);
    cpus.sort((a, b) => a.cpu - b.cpu);

    // lttng-analyses sums the per-CPU percentages in decreasing order, then divides by the
    // number of CPUs it knows (float addition order matters for the last digit).
    let total: number | undefined;
    const n = this.model.knownCpuCount;
    if (n > 0) {
      const byUsage = [...this.cpus.values()].sort((a, b) => b.usage - a.usage);
      let sum = 0;
      for (const c of byUsage) sum += c.usage;
      total = sum / n;
    }

    // Per container: the running threads are charged up to the end, like the per-TID rows.
    const byContainer = this.containerRows(newContainerCpu, true);
    for (let uid = 0; uid < this.thrNs.length; uid++) {
      if (!this.thrSeen[uid]) continue;
      const th = model.allThreads[uid]!;
      // The idle task is nobody's usage: lttng-analyses charges it from the start of the period
      // to the CPU's first switch (kept in the per-TID rows), which made [HOST] exceed the CPUs.
      if (th.tid === 0) continue;
      const e = byContainer.of(th);
      if (e === undefined) continue;
      let ns = this.thrNs[uid]!;
      const last = this.thrLast[uid]!;
      if (!Number.isNaN(last)) ns += lastTs - last;
      e.cpuNs += ns;
      e.threads++;
    }
    const containers = byContainer.list();
    for (const e of containers) e.usage = pct(e.cpuNs);
    containers.sort((a, b) => b.usage - a.usage);

    this.result = { begin: this.periodBegin, end: lastTs, tids, cpus, total, containers };
  }
}

function newContainerCpu(container: Container): ContainerCpuUsage {
  return { container, cpuNs: 0, usage: 0, threads: 0 };
}

function newTid(tid: number, pid: number | undefined, comm: string): TidCpuUsage {
  return { tid, pid, comm, cpuNs: 0, usage: 0, migrations: 0, prios: [], lastSched: NONE };
}

/** lttng-analyses' `format_prio_list`: distinct priorities in increasing order with repeat counts. */
export function formatPrioList(prios: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const p of prios) counts.set(p, (counts.get(p) ?? 0) + 1);
  const keys = [...counts.keys()].sort((a, b) => a - b);
  if (keys.length === 0) return '[]';
  return (
    '[' +
    keys
      .map((k) => {
        const c = counts.get(k)!;
        return c > 1 ? `${fmtPrio(k)} (${c} times)` : fmtPrio(k);
      })
      .join(', ') +
    ']'
  );
}

function fmtPrio(p: number): string {
  return Number.isNaN(p) ? 'None' : String(p);
}
