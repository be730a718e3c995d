/**
 * What the reports of lttng-analyses' families (sched, I/O, IRQ, period: src/analyses/*-report.ts,
 * src/analyses/periods/report.ts) share: the options every family command sets alike.
 */
import type { ReportOptions } from './format/common.js';

/**
 * The tables asked for (each command shows one, `--top`, `--log`, `--stats`, `--freq` add the
 * others), the frequency distributions' options, `--min`/`--max`, and the dates of log rows.
 */
export interface FamilyReportOptions extends ReportOptions {
  readonly log: boolean;
  readonly top: boolean;
  readonly stats: boolean;
  readonly freq: boolean;
  readonly freqResolution: number;
  readonly freqUniform: boolean;
  /** `--freq-series` (LAMI: the distributions as one table). */
  readonly freqSeries: boolean;
  /** `--min`/`--max` in ns. */
  readonly min: number | undefined;
  readonly max: number | undefined;
  /** Timestamps of log rows with their date (the trace spans several days). */
  readonly multiDay: boolean;
}
