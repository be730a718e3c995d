/**
 * syscallstats: system call counts, durations and return values per thread and per container.
 *
 * Follows lttng-analyses 0.6.1 (`core/syscalls.py`, `linuxautomaton/syscalls.py`): an entry
 * (`syscall_entry_*`, `sys_*`) starts a call for the thread running on its CPU; an exit
 * (`syscall_exit_*`, `exit_syscall`) ends the running thread's call and is counted under the
 * entry's name. Compat (32-bit) syscalls are ignored, as there.
 */
import type { Container } from '../model/containers.js';
import type { ClassInfo, EventFn } from '../model/dispatch.js';
import type { RecordFilter } from '../filter/options.js';
import { isSyscallExit, syscallEntryName } from '../model/model.js';
import { returnKey } from './format/errno.js';
import type { AnalysisContext } from './handler.js';
import { TopHandler } from './top-handler.js';
import { getOrAdd } from '../util/map.js';
import { DurationStats } from './stats.js';

export class SyscallStats {
  readonly name: string;
  readonly durations = new DurationStats();
  /** Return value key (`success`, errno name, number) → count, in order of first appearance. */
  readonly returns = new Map<string, number>();

  constructor(name: string) {
    this.name = name;
  }

  get count(): number {
    return this.durations.count;
  }

  add(duration: number, ret: number): void {
    this.durations.add(duration);
    const key = Number.isNaN(ret) ? 'None' : returnKey(ret);
    this.returns.set(key, (this.returns.get(key) ?? 0) + 1);
  }

  merge(o: SyscallStats): void {
    this.durations.merge(o.durations);
    for (const [k, v] of o.returns) this.returns.set(k, (this.returns.get(k) ?? 0) + v);
  }
}

export interface TidSyscalls {
  readonly tid: number;
  readonly pid: number | undefined;
  readonly comm: string;
  total: number;
  /** By name, in order of first exit. */
  readonly syscalls: Map<string, SyscallStats>;
}

export interface ContainerSyscalls {
  readonly container: Container;
  total: number;
  /** Calls that returned an error (negative value). */
  errors: number;
  readonly syscalls: Map<string, SyscallStats>;
  /** All calls together. */
  readonly all: DurationStats;
  threads: number;
}

export interface SyscallstatsResult {
  readonly begin: number;
  readonly end: number;
  /** Threads in order of their first syscall exit. */
  readonly tids: TidSyscalls[];
  readonly total: number;
  /** Selected containers in discovery order (the host first). */
  readonly containers: ContainerSyscalls[];
}

interface ThreadSyscalls {
  total: number;
  errors: number;
  readonly syscalls: Map<string, SyscallStats>;
}

export class SyscallstatsHandler extends TopHandler<TidSyscalls> {
  readonly name = 'syscallstats';
  result: SyscallstatsResult | undefined;
  private readonly threads = new Map<number, ThreadSyscalls>();

  /**
   * With an event filter, a system call is counted when its entry or its exit event is kept
   * (`--filter 'fd == 3'` selects on the entry's arguments, `--filter 'ret < 0'` on the exit's),
   * so the handler sees both and applies the filter itself.
   */
  get filtersEvents(): boolean {
    return this.keep !== undefined;
  }
  private keep: RecordFilter | undefined;
  /** Per thread uid: whether the entry of its syscall in flight was kept (with a filter). */
  private entryKept: boolean[] = [];

  override reset(ctx: AnalysisContext): void {
    super.reset(ctx);
    this.keep = ctx.keep;
  }

  bind(info: ClassInfo): EventFn | undefined {
    const keep = this.keep;
    if (keep === undefined) {
      if (!isSyscallExit(info.name)) return undefined;
      return (ev) => this.onExit(ev.ts);
    }
    if (syscallEntryName(info.name) !== undefined) {
      return (ev) => {
        const t = this.model.entryThread;
        if (t === undefined) return;
        while (this.entryKept.length <= t.uid) this.entryKept.push(false);
        this.entryKept[t.uid] = keep(ev);
      };
    }
    if (!isSyscallExit(info.name)) return undefined;
    return (ev) => {
      const t = this.model.exitThread;
      if (t === undefined) return;
      const entryKept = this.entryKept[t.uid] === true;
      if (entryKept) this.entryKept[t.uid] = false;
      if (entryKept || keep(ev)) this.onExit(ev.ts);
    };
  }

  private onExit(ts: number): void {
    const m = this.model;
    const t = m.exitThread;
    if (t === undefined) return;
    if (!this.filter.process(t) || !this.filter.cpu(m.cpuId)) return;
    const name = t.sysName!;
    const duration = ts - t.sysEntry;
    const ret = m.exitRet;

    let s = this.tids.get(t.tid);
    if (s === undefined) {
      s = { tid: t.tid, pid: t.pid, comm: t.comm, total: 0, syscalls: new Map() };
      this.tids.set(t.tid, s);
    }
    getOrAdd(s.syscalls, name, newSyscallStats).add(duration, ret);
    s.total++;
    this.rowThread.set(t.tid, t);

    let th = this.threads.get(t.uid);
    if (th === undefined) {
      th = { total: 0, errors: 0, syscalls: new Map() };
      this.threads.set(t.uid, th);
    }
    getOrAdd(th.syscalls, name, newSyscallStats).add(duration, ret);
    th.total++;
    if (ret < 0) th.errors++;
  }

  finalize(lastTs: number): void {
    if (!this.active) return;
    const byContainer = this.containerRows(newContainerSyscalls);
    for (const [uid, th] of this.threads) {
      const e = byContainer.of(this.model.allThreads[uid]!);
      if (e === undefined) continue;
      e.total += th.total;
      e.errors += th.errors;
      e.threads++;
      for (const [name, st] of th.syscalls) {
        getOrAdd(e.syscalls, name, newSyscallStats).merge(st);
        e.all.merge(st.durations);
      }
    }
    const tids = this.selectedRows();
    let total = 0;
    for (const r of tids) total += r.total;
    this.result = {
      begin: this.periodBegin,
      end: lastTs,
      tids,
      total,
      containers: byContainer.list(),
    };
  }
}

function newSyscallStats(name: string): SyscallStats {
  return new SyscallStats(name);
}

function newContainerSyscalls(container: Container): ContainerSyscalls {
  return { container, total: 0, errors: 0, syscalls: new Map(), all: new DurationStats(), threads: 0 };
}
