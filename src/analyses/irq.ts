/**
 * Interrupts: hard IRQ handler durations, softirq durations and raise latencies, per IRQ and per
 * container interrupted: the data of `irqstats`, `irqfreq` and `irqlog`.
 *
 * Follows lttng-analyses 0.6.1 (`core/irq.py` over `linuxautomaton/irq.py`, via
 * src/model/irqs.ts): per period, every completed interrupt in order, and per IRQ number (hard)
 * or vector (soft) its statistics; a hard IRQ's name is every name its handler entries gave,
 * joined. `--cpu` and `--min`/`--max` select interrupts as there.
 *
 * Per container (ours): the interrupts that hit each container's tasks (the task running on the
 * CPU when the handler started), and those that hit an idle CPU (`[IDLE]`).
 */
import type { Container } from '../model/containers.js';
import type { Irq, IrqTracker } from '../model/irqs.js';
import { SOFTIRQ_NAMES } from '../model/irqs.js';
import type { RecordFilter } from '../filter/options.js';
import type { PeriodicOptions } from './periodic.js';
import { PeriodicHandler } from './periodic.js';
import type { Tick } from './ticks.js';
import { getOrAdd } from '../util/map.js';

/** lttng-analyses' `HardIrqStats`/`SoftIrqStats`: the interrupts of one number or vector. */
export interface IrqStats {
  /** Hard IRQs: every handler name seen, in order (joined with ', '); soft: the vector's name. */
  readonly names: string[];
  readonly irqs: Irq[];
}

/** Interrupt time of the tasks of a container (or of idle CPUs when `container` is undefined). */
export interface ContainerIrq {
  readonly container: Container | undefined;
  hardCount: number;
  hardNs: number;
  softCount: number;
  softNs: number;
}

export interface IrqPeriodResult {
  /** Every interrupt counted, in order of completion. */
  readonly irqs: Irq[];
  readonly hard: ReadonlyMap<number, IrqStats>;
  readonly soft: ReadonlyMap<number, IrqStats>;
  readonly containers: ContainerIrq[];
}

export type IrqResult = ReadonlyArray<Tick<IrqPeriodResult>>;

class PeriodData {
  readonly irqs: Irq[] = [];
  readonly hard = new Map<number, IrqStats>();
  readonly soft = new Map<number, IrqStats>();
}

export class IrqHandler extends PeriodicHandler<IrqTracker, PeriodData, IrqPeriodResult> {
  constructor(irqs: IrqTracker, opts: PeriodicOptions) {
    super('irq', irqs, opts, () => new PeriodData());
  }

  protected listen(): void {
    this.tracker.listen({
      entry: (ev, id, name) => {
        if (!this.counts(ev)) return;
        for (const pd of this.open.values()) {
          const s = pd.hard.get(id);
          if (s === undefined) pd.hard.set(id, { names: [name], irqs: [] });
          else if (!s.names.includes(name)) s.names.push(name);
        }
      },
      hardExit: (ev, irq) => this.onExit(ev, irq),
      softExit: (ev, irq) => this.onExit(ev, irq),
    });
  }

  /** A completed hard IRQ or softirq. */
  private onExit(ev: Parameters<RecordFilter>[0], irq: Irq): void {
    if (!this.counted(ev, irq)) return;
    for (const pd of this.open.values()) {
      pd.irqs.push(irq);
      getOrAdd(irq.hard ? pd.hard : pd.soft, irq.id, newIrqStats, irq.hard).irqs.push(irq);
    }
  }

  private counted(ev: Parameters<RecordFilter>[0], irq: Irq): boolean {
    if (!this.counts(ev)) return false;
    if (!this.filter.cpu(irq.cpuId)) return false;
    const d = irq.duration;
    if (d === undefined) return false;
    if (this.opts.min !== undefined && d < this.opts.min) return false;
    if (this.opts.max !== undefined && d > this.opts.max) return false;
    return true;
  }

  protected closed(pd: PeriodData): IrqPeriodResult {
    return { ...snapshot(pd), containers: [] };
  }

  finalize(lastTs: number): void {
    this.closeAll(lastTs);
    const f = this.filter;
    const m = this.model;
    this.result = this.ticks.map((tk) => {
      let r = tk.result;
      if (f.selectsContainers) {
        const sel = (irq: Irq): boolean => irq.thread !== undefined && f.threadSelected(irq.thread);
        const pick = (s: ReadonlyMap<number, IrqStats>): Map<number, IrqStats> =>
          new Map([...s].map(([k, v]) => [k, { names: v.names, irqs: v.irqs.filter(sel) }]));
        r = {
          irqs: r.irqs.filter(sel),
          hard: pick(r.hard),
          soft: pick(r.soft),
          containers: [],
        };
      }
      const byC = new Map<Container | undefined, ContainerIrq>();
      for (const irq of r.irqs) {
        if (irq.thread === undefined && !irq.idle) continue;
        const c = irq.thread === undefined ? undefined : m.containerOf(irq.thread);
        if (c !== undefined && !f.container(c)) continue;
        const x = getOrAdd(byC, c, newContainerIrq);
        if (irq.hard) {
          x.hardCount++;
          x.hardNs += irq.duration!;
        } else {
          x.softCount++;
          x.softNs += irq.duration!;
        }
      }
      const containers = [...byC.values()].sort((a, b) => b.hardNs + b.softNs - (a.hardNs + a.softNs));
      return { ...tk, result: { ...r, containers } };
    });
  }
}

/** The statistics of an IRQ number or softirq vector first met at its end (hard: no entry seen). */
function newIrqStats(id: number, hard: boolean): IrqStats {
  return { names: [hard ? 'unknown' : (SOFTIRQ_NAMES.get(id) ?? String(id))], irqs: [] };
}

function newContainerIrq(container: Container | undefined): ContainerIrq {
  return { container, hardCount: 0, hardNs: 0, softCount: 0, softNs: 0 };
}

/** Hard IRQ names as the period ends (later entries may add names). */
function snapshot(pd: PeriodData): Omit<IrqPeriodResult, 'containers'> {
  const copy = (s: Map<number, IrqStats>): Map<number, IrqStats> =>
    new Map([...s].map(([k, v]) => [k, { names: [...v.names], irqs: v.irqs }]));
  return { irqs: pd.irqs, hard: copy(pd.hard), soft: copy(pd.soft) };
}
