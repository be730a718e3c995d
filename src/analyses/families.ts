/**
 * The analyses of lttng-analyses beyond cputop/memtop/syscallstats (scheduling latency, I/O,
 * interrupts, periods): which model-level trackers each needs (lttng-analyses' process table,
 * its I/O and IRQ state), their handlers, and the period driver (`--refresh`, `--period`). All
 * run in the one pass of `runAnalyses`, whatever the set.
 */
import { IrqTracker } from '../model/irqs.js';
import { LttIo } from '../model/lttng-io.js';
import { LttProcs } from '../model/lttng-procs.js';
import type { Subscriber } from '../model/dispatch.js';
import type { SystemModel } from '../model/model.js';
import type { AnalysisHandler } from './handler.js';
import type { IrqResult } from './irq.js';
import { IrqHandler } from './irq.js';
import type { IoResult } from './io.js';
import { IoHandler } from './io.js';
import type { PeriodResult } from './periods/analysis.js';
import { PeriodHandler } from './periods/analysis.js';
import type { PeriodDefs } from './periods/engine.js';
import { EngineDriver, RefreshDriver } from './periods/engine.js';
import type { PeriodDriver } from './runner.js';
import type { SchedResult } from './sched.js';
import { SchedHandler } from './sched.js';
import type { PeriodMode, PeriodSink } from './ticks.js';

export type FamilyName = 'sched' | 'io' | 'irq' | 'period';

export interface FamilyOptions {
  /** `--min`/`--max` durations, ns (sched, I/O, IRQ). */
  readonly minDuration?: number;
  readonly maxDuration?: number;
  /** `--minsize`/`--maxsize`, bytes (I/O). */
  readonly minSize?: number;
  readonly maxSize?: number;
  /** `--refresh`, ns. */
  readonly refresh?: number;
  /** `--period` definitions (and their captures). */
  readonly periodDefs?: PeriodDefs;
}

export interface FamilyResults {
  readonly sched?: SchedResult;
  readonly io?: IoResult;
  readonly irq?: IrqResult;
  readonly period?: PeriodResult;
}

export interface Families {
  readonly trackers: Subscriber[];
  readonly handlers: AnalysisHandler[];
  readonly driver: PeriodDriver | undefined;
  results(): FamilyResults;
}

export function buildFamilies(names: readonly string[], model: SystemModel, opts: FamilyOptions): Families {
  const want = (n: FamilyName): boolean => names.includes(n) || (n === 'io' && names.includes('iousage'));
  const defs = opts.periodDefs;
  const hasDefs = defs !== undefined && !defs.isEmpty;
  const periods: PeriodMode = { defined: hasDefs || opts.refresh !== undefined };
  const procs = want('sched') || want('io') ? new LttProcs(model) : undefined;
  const io = want('io') ? new LttIo(procs!) : undefined;
  const irqs = want('irq') ? new IrqTracker(model) : undefined;
  const trackers: Subscriber[] = [];
  if (procs !== undefined) trackers.push(procs);
  if (io !== undefined) trackers.push(io);
  if (irqs !== undefined) trackers.push(irqs);

  const mm = { min: opts.minDuration, max: opts.maxDuration, periods };
  const sched = want('sched') ? new SchedHandler(procs!, mm) : undefined;
  const period = want('period') ? new PeriodHandler(defs) : undefined;
  const irqH = want('irq') ? new IrqHandler(irqs!, mm) : undefined;
  const ioH = want('io')
    ? new IoHandler(io!, procs!, { ...mm, minSize: opts.minSize, maxSize: opts.maxSize })
    : undefined;
  const sinks: PeriodSink[] = [];
  const handlers: AnalysisHandler[] = [];
  for (const h of [sched, ioH, irqH]) {
    if (h !== undefined) {
      handlers.push(h);
      sinks.push(h);
    }
  }
  if (period !== undefined) {
    handlers.push(period);
    sinks.push(period);
  }
  let driver: PeriodDriver | undefined;
  if (hasDefs) driver = new EngineDriver(defs, sinks);
  else if (opts.refresh !== undefined) driver = new RefreshDriver(opts.refresh, sinks);
  return {
    trackers,
    handlers,
    driver,
    results: () => ({ sched: sched?.result, io: ioH?.result, irq: irqH?.result, period: period?.result }),
  };
}
