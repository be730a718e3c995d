/**
 * What the analyses of one period share (cputop.ts, memtop.ts, syscallstats.ts, spans.ts): the
 * period runs from `begin` to the last event; and, for the per-thread tops, a row per tid (with
 * the thread of its latest lifetime, for the container selection at the end) and a row per
 * container summing the usage of its threads.
 */
import type { Container } from '../model/containers.js';
import type { ClassInfo, EventFn } from '../model/dispatch.js';
import type { SystemModel } from '../model/model.js';
import type { Thread } from '../model/threads.js';
import type { AnalysisContext, AnalysisHandler, ProcessFilter } from './handler.js';
import { getOrAdd } from '../util/map.js';

export abstract class OnePeriodHandler implements AnalysisHandler {
  abstract readonly name: string;
  protected model!: SystemModel;
  protected filter!: ProcessFilter;
  /** Whether the period has begun. */
  protected active = false;
  protected periodBegin = 0;

  reset(ctx: AnalysisContext): void {
    this.model = ctx.model;
    this.filter = ctx.filter;
  }

  begin(ts: number): void {
    this.active = true;
    this.periodBegin = ts;
  }

  abstract bind(info: ClassInfo): EventFn | undefined;
  abstract finalize(lastTs: number): void;
}

export abstract class TopHandler<Row extends { readonly tid: number }> extends OnePeriodHandler {
  /** Per tid, in order of first appearance. */
  protected readonly tids = new Map<number, Row>();
  /** The thread (latest lifetime) of each row, for the container selection at the end. */
  protected readonly rowThread = new Map<number, Thread>();

  /** The per-tid rows of the selected tasks (--container/--container-type/--host: final binding). */
  protected selectedRows(): Row[] {
    const f = this.filter;
    return [...this.tids.values()].filter((r) => f.threadSelected(this.rowThread.get(r.tid)!));
  }

  /** The per-container table, its rows made by `make` (see `ContainerRows`). */
  protected containerRows<E>(make: (c: Container) => E, selectedOnly = false): ContainerRows<E> {
    return new ContainerRows(this.model, this.filter, make, selectedOnly);
  }
}

/**
 * A row per container: one per selected container of the model (in discovery order, the host
 * first), then one per container of a selected thread met later by `of`. With `selectedOnly`,
 * a thread whose container has no row yet and is not selected has no row.
 */
export class ContainerRows<E> {
  private readonly rows = new Map<Container, E>();

  constructor(
    private readonly model: SystemModel,
    private readonly filter: ProcessFilter,
    private readonly make: (c: Container) => E,
    private readonly selectedOnly: boolean,
  ) {
    for (const c of model.containers.all()) if (filter.container(c)) this.rows.set(c, make(c));
  }

  /** The row of a thread's container; undefined when the thread (or its container) is not selected. */
  of(th: Thread): E | undefined {
    if (!this.filter.threadSelected(th)) return undefined;
    const c = this.model.containerOf(th);
    if (this.selectedOnly && !this.rows.has(c) && !this.filter.container(c)) return undefined;
    return getOrAdd(this.rows, c, this.make);
  }

  list(): E[] {
    return [...this.rows.values()];
  }
}
