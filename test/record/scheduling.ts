/** The scheduling checks of sched-check.ts as vitest assertions, for every recording test. */
import os from 'node:os';
import { expect } from 'vitest';
import type { RecordSummary } from '../../src/record/options.js';
import {
  chainBreaks,
  compareWithReference,
  cpuAccounting,
  inferredPrioCheck,
  tracedSwitches,
  type Accounting,
  type Switch,
} from './sched-check.js';

/** Float slack for sums of percentages (the printed values are rounded to 0.01). */
const EPS = 1e-6;

/**
 * The checks above on a trace recorded while `ref` ran: our kernel-reported switches are the
 * kernel's, every CPU's chain is whole (the recorder's inferred switches fill the kernel's own
 * holes) with the priorities the kernel showed (or marked not observed, as many as `summary`
 * counts), and the CPU accounting is possible. `cpus`: CPUs of this machine.
 */
export async function expectCompleteScheduling(
  traceDir: string,
  ref: { switches: Switch[]; lost: number } | undefined,
  cpus = os.cpus().length,
  summary?: Pick<RecordSummary, 'inferredPrioUnobserved'>,
): Promise<{ switches: number; inferred: number; accounting: Accounting }> {
  const sw = tracedSwitches(traceDir);
  expect(sw.length, 'sched_switch events in the trace').toBeGreaterThan(0);
  if (ref !== undefined) {
    expect(ref.lost, 'the reference instance lost events').toBe(0);
    const cmp = compareWithReference(
      sw.filter((s) => s.inferred !== true),
      ref.switches,
    );
    expect(cmp.compared).toBeGreaterThan(0);
    expect(cmp.missing.slice(0, 5), `${cmp.missing.length} switches the kernel reported are missing`).toEqual(
      [],
    );
    expect(cmp.extra.slice(0, 5), `${cmp.extra.length} switches the kernel did not report`).toEqual([]);
  }
  const breaks = chainBreaks(sw);
  expect(
    breaks
      .slice(0, 5)
      .map((b) => `cpu ${b.cpu}: ${b.expectedPrev} then ${b.at.prev}->${b.at.next} at ${b.at.ts}`),
    `${breaks.length} holes in the switch chains`,
  ).toEqual([]);
  const prio = inferredPrioCheck(sw);
  expect(prio.wrong.slice(0, 5), `${prio.wrong.length} inferred priorities unlike the kernel's`).toEqual([]);
  if (summary !== undefined)
    expect(prio.unobserved, 'inferred switches with a priority not observed').toBe(
      summary.inferredPrioUnobserved,
    );
  const a = await cpuAccounting(traceDir);
  expect(a.cpus).toBeLessThanOrEqual(cpus);
  expect(a.maxCpu, 'per-CPU usage').toBeLessThanOrEqual(100 + EPS);
  // Without the idle task's row (see Accounting.idle).
  expect(a.tidSum, 'sum of the per-TID usage').toBeLessThanOrEqual(100 * cpus + EPS);
  expect(a.containerSum, 'sum of the per-container usage').toBeLessThanOrEqual(100 * cpus + EPS);
  return { switches: sw.length, inferred: sw.filter((s) => s.inferred === true).length, accounting: a };
}
