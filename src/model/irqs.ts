/**
 * Interrupt state per CPU, kept as lttng-analyses 0.6.1 keeps it (`linuxautomaton/irq.py`): the
 * hard IRQ in progress, and per softirq vector the raised or running softirqs in order (a raise
 * while one is pending is ignored: softirqs are level-triggered). Listeners get lttng-analyses'
 * notifications: a handler entry (id and name), a completed hard IRQ, a completed softirq.
 *
 * lttng-modules names the softirq events `irq_softirq_{raise,entry,exit}` since 2.7;
 * lttng-analyses 0.6.1 only reads `softirq_*` and so sees no softirq in newer traces. Both names
 * are read here (docs/analyses.md). Each interrupt records the task it interrupted (the model's
 * current thread of its CPU), for the per-container tables.
 */
import type { EventRecord } from '../ctf/event.js';
import type { ClassInfo, EventFn, Subscriber } from './dispatch.js';
import { anyField, anyFields, readNum, toPyStr } from './fields.js';
import type { SystemModel } from './model.js';
import type { Thread } from './threads.js';

export class Irq {
  readonly hard: boolean;
  /** IRQ number, or softirq vector. */
  readonly id: number;
  readonly cpuId: number;
  beginTs: number | undefined;
  endTs: number | undefined;
  /** Softirqs: when raised (undefined: entry without a raise). */
  readonly raiseTs: number | undefined;
  /** Task running on the CPU when the handler started (undefined: idle or unknown). */
  thread: Thread | undefined;
  /** The CPU was idle (tid 0) when the handler started. */
  idle = false;

  constructor(
    hard: boolean,
    id: number,
    cpuId: number,
    beginTs: number | undefined,
    raiseTs: number | undefined,
  ) {
    this.hard = hard;
    this.id = id;
    this.cpuId = cpuId;
    this.beginTs = beginTs;
    this.raiseTs = raiseTs;
  }

  /** `end_ts - begin_ts`, or undefined when one is missing (as lttng-analyses' `duration`). */
  get duration(): number | undefined {
    if (this.endTs === undefined || this.beginTs === undefined) return undefined;
    return this.endTs - this.beginTs;
  }
}

export interface IrqListener {
  /** `irq_handler_entry` (every entry, before any filter). */
  entry?(ev: EventRecord, id: number, name: string): void;
  /** A hard IRQ handler returned (`irq_handler_exit`). */
  hardExit?(ev: EventRecord, irq: Irq): void;
  /** A softirq ended (`softirq_exit`). */
  softExit?(ev: EventRecord, irq: Irq): void;
}

interface CpuIrqs {
  hard: Irq | undefined;
  /** By vector: pending/running softirqs, oldest first. */
  readonly soft: Map<number, Irq[]>;
}

/** Names of softirq vectors (include/linux/interrupt.h), as lttng-analyses lists them. */
export const SOFTIRQ_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'HI_SOFTIRQ'],
  [1, 'TIMER_SOFTIRQ'],
  [2, 'NET_TX_SOFTIRQ'],
  [3, 'NET_RX_SOFTIRQ'],
  [4, 'BLOCK_SOFTIRQ'],
  [5, 'BLOCK_IOPOLL_SOFTIRQ'],
  [6, 'TASKLET_SOFTIRQ'],
  [7, 'SCHED_SOFTIRQ'],
  [8, 'HRTIMER_SOFTIRQ'],
  [9, 'RCU_SOFTIRQ'],
]);

/** The raised or running softirqs of a vector on a CPU (made empty when first asked). */
function softList(c: CpuIrqs, vec: number): Irq[] {
  let l = c.soft.get(vec);
  if (l === undefined) {
    l = [];
    c.soft.set(vec, l);
  }
  return l;
}

export class IrqTracker implements Subscriber {
  private readonly cpus: CpuIrqs[] = [];
  private readonly listeners: IrqListener[] = [];

  constructor(private readonly model: SystemModel) {}

  listen(l: IrqListener): void {
    this.listeners.push(l);
  }

  private cpu(id: number): CpuIrqs {
    let c = this.cpus[id];
    if (c === undefined) {
      c = { hard: undefined, soft: new Map() };
      if (id >= 0 && id < 1 << 20) this.cpus[id] = c;
    }
    return c;
  }

  private interrupted(irq: Irq): void {
    const c = this.model.cpus[irq.cpuId];
    if (c === undefined) return;
    irq.thread = c.current;
    irq.idle = c.currentTid === 0;
  }

  /** A softirq raise or entry: `fn` gets the vector's raised or running softirqs on the CPU. */
  private bindSoft(
    info: ClassInfo,
    fn: (ev: EventRecord, l: Irq[], vec: number, cpuId: number) => void,
  ): EventFn {
    const [cpuF, vecF] = anyFields(info, 'cpu_id', 'vec');
    return (ev) => {
      const cpuId = readNum(cpuF, ev);
      const vec = readNum(vecF, ev);
      fn(ev, softList(this.cpu(cpuId), vec), vec, cpuId);
    };
  }

  bind(info: ClassInfo): EventFn | undefined {
    const f = (n: string) => anyField(info.streamClass, info.eventClass, n);
    const ls = this.listeners;
    switch (info.name) {
      case 'irq_handler_entry': {
        const cpuF = f('cpu_id');
        const irqF = f('irq');
        const nameF = f('name');
        return (ev) => {
          const cpuId = readNum(cpuF, ev);
          const c = this.cpu(cpuId);
          const id = readNum(irqF, ev);
          const irq = new Irq(true, id, cpuId, ev.ts, undefined);
          this.interrupted(irq);
          c.hard = irq;
          const name = nameF === undefined ? '' : toPyStr(nameF.get(ev));
          for (let i = 0; i < ls.length; i++) ls[i]!.entry?.(ev, id, name);
        };
      }
      case 'irq_handler_exit': {
        const cpuF = f('cpu_id');
        const irqF = f('irq');
        return (ev) => {
          const c = this.cpu(readNum(cpuF, ev));
          const irq = c.hard;
          c.hard = undefined;
          if (irq === undefined || irq.id !== readNum(irqF, ev)) return;
          irq.endTs = ev.ts;
          for (let i = 0; i < ls.length; i++) ls[i]!.hardExit?.(ev, irq);
        };
      }
      case 'softirq_raise':
      case 'irq_softirq_raise': {
        return this.bindSoft(info, (ev, l, vec, cpuId) => {
          if (l.length > 0 && l[0]!.beginTs === undefined) return;
          l.push(new Irq(false, vec, cpuId, undefined, ev.ts));
        });
      }
      case 'softirq_entry':
      case 'irq_softirq_entry': {
        return this.bindSoft(info, (ev, l, vec, cpuId) => {
          let irq = l[0];
          if (irq !== undefined) irq.beginTs = ev.ts;
          else {
            irq = new Irq(false, vec, cpuId, ev.ts, undefined);
            l.push(irq);
          }
          this.interrupted(irq);
        });
      }
      case 'softirq_exit':
      case 'irq_softirq_exit': {
        const cpuF = f('cpu_id');
        const vecF = f('vec');
        return (ev) => {
          const c = this.cpu(readNum(cpuF, ev));
          const l = c.soft.get(readNum(vecF, ev));
          if (l === undefined || l.length === 0) return;
          const irq = l[0]!;
          irq.endTs = ev.ts;
          for (let i = 0; i < ls.length; i++) ls[i]!.softExit?.(ev, irq);
          l.shift();
        };
      }
      default:
        return undefined;
    }
  }
}
