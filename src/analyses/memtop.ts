/**
 * memtop: pages allocated and freed per thread and per container.
 *
 * Follows lttng-analyses 0.6.1 (`core/memtop.py`, `linuxautomaton/mem.py`): a page event is
 * charged to the thread running on its CPU (nothing when idle or before the CPU's first
 * `sched_switch`), and a free is ignored while the count of pages allocated minus freed since
 * the start of the trace is 0.
 */
import type { Container } from '../model/containers.js';
import type { ClassInfo, EventFn } from '../model/dispatch.js';
import { TopHandler } from './top-handler.js';

export interface TidMemUsage {
  readonly tid: number;
  readonly pid: number | undefined;
  readonly comm: string;
  allocated: number;
  freed: number;
}

export interface ContainerMemUsage {
  readonly container: Container;
  allocated: number;
  freed: number;
  threads: number;
}

export interface MemtopResult {
  readonly begin: number;
  readonly end: number;
  /** Every charged thread, in order of first charge. */
  readonly tids: TidMemUsage[];
  readonly totalAllocated: number;
  readonly totalFreed: number;
  /** Selected containers in discovery order (the host first). */
  readonly containers: ContainerMemUsage[];
}

export class MemtopHandler extends TopHandler<TidMemUsage> {
  readonly name = 'memtop';
  result: MemtopResult | undefined;
  private thrAlloc: number[] = [];
  private thrFree: number[] = [];

  bind(info: ClassInfo): EventFn | undefined {
    switch (info.name) {
      case 'mm_page_alloc':
      case 'kmem_mm_page_alloc':
        return () => this.charge(true);
      case 'mm_page_free':
      case 'kmem_mm_page_free':
        return () => this.charge(false);
      default:
        return undefined;
    }
  }

  private charge(alloc: boolean): void {
    const m = this.model;
    const t = m.memThread;
    if (t === undefined) return;
    if (!this.filter.process(t) || !this.filter.cpu(m.cpuId)) return;
    let s = this.tids.get(t.tid);
    if (s === undefined) {
      s = { tid: t.tid, pid: t.pid, comm: t.comm, allocated: 0, freed: 0 };
      this.tids.set(t.tid, s);
    }
    const uid = t.uid;
    while (this.thrAlloc.length <= uid) {
      this.thrAlloc.push(0);
      this.thrFree.push(0);
    }
    this.rowThread.set(t.tid, t);
    if (alloc) {
      s.allocated++;
      this.thrAlloc[uid]!++;
    } else {
      s.freed++;
      this.thrFree[uid]!++;
    }
  }

  finalize(lastTs: number): void {
    if (!this.active) return;
    const tids = this.selectedRows();
    let totalAllocated = 0;
    let totalFreed = 0;
    for (const t of tids) {
      totalAllocated += t.allocated;
      totalFreed += t.freed;
    }
    const byContainer = this.containerRows(newContainerMem);
    for (let uid = 0; uid < this.thrAlloc.length; uid++) {
      const a = this.thrAlloc[uid]!;
      const fr = this.thrFree[uid]!;
      if (a === 0 && fr === 0) continue;
      const e = byContainer.of(this.model.allThreads[uid]!);
      if (e === undefined) continue;
      e.allocated += a;
      e.freed += fr;
      e.threads++;
    }
    this.result = {
      begin: this.periodBegin,
      end: lastTs,
      tids,
      totalAllocated,
      totalFreed,
      containers: byContainer.list(),
    };
  }
}

function newContainerMem(container: Container): ContainerMemUsage {
  return { container, allocated: 0, freed: 0, threads: 0 };
}

/** Rows sorted by a key, decreasing, stable (Python's `sorted(..., reverse=True)`). */
export function sortedDesc<T>(rows: readonly T[], key: (r: T) => number): T[] {
  return rows.slice().sort((a, b) => key(b) - key(a));
}
