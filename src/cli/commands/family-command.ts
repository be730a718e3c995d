/**
 * One command of an lttng-analyses family (sched, I/O, IRQ, period): the options and the run
 * they all have, around what each command adds (its own options, checks and report).
 */
import type { Command } from 'commander';
import type { FamilyOptions } from '../../analyses/families.js';
import type { AnalysisMeta } from '../../analyses/format/lami.js';
import type { AnalysisName } from '../../analyses/requirements.js';
import type { AnalyseResult } from '../../analyses/session.js';
import type { AnalysisCliOptions, Rendered } from './analysis-shared.js';
import { addAnalysisOptions, runAnalysisCommand, traceCommand } from './analysis-shared.js';
import type { LttngCliOptions } from './lttng-options.js';
import { addFreqOptions, addMinMaxOptions, addPeriodOptions, familyOptions } from './lttng-options.js';
import { multiDay } from './report-dates.js';

export interface FamilyCommand<O extends LttngCliOptions> {
  description: string;
  examples: string;
  /** Whether `--tid`/`--procname` are taken (default: yes). */
  procFilter?: boolean;
  /** What `--min`/`--max` filter, and the help of `--freq`. */
  minMax: string;
  freqHelp: string;
  /** The command's own options (after the frequency ones, before the period ones). */
  options: (c: Command) => void;
  /** Checks of the options beyond their parsers (throw a `UsageError`). */
  check?: (o: O) => void;
  /** The analyses to run. */
  analyses: (o: O) => AnalysisName[];
  meta: (version: string) => AnalysisMeta;
  render: (o: O) => Rendered;
  /** What the analyses get instead of the command line and `familyOptions(o)`, if anything. */
  adjust?: (o: O) => { options: AnalysisCliOptions; family: FamilyOptions };
}

/** Registers `nstrace NAME`: the analysis options, `--min`/`--max`, frequency, period options. */
export function registerFamilyCommand<O extends LttngCliOptions>(
  program: Command,
  name: string,
  spec: FamilyCommand<O>,
): void {
  const c = traceCommand(program, name, spec.description);
  addAnalysisOptions(c, { limitDefault: 10, procFilter: spec.procFilter, examples: spec.examples });
  addMinMaxOptions(c, spec.minMax);
  addFreqOptions(c, spec.freqHelp);
  spec.options(c);
  addPeriodOptions(c);
  c.action(async (paths: string[], o: O) => {
    spec.check?.(o);
    const analyses = spec.analyses(o);
    const run = spec.adjust?.(o) ?? { options: o, family: familyOptions(o) };
    await runAnalysisCommand(paths, run.options, analyses, spec.meta, spec.render(o), { family: run.family });
  });
}

/**
 * The report options every family command sets alike: its own table (`flag`) plus those asked
 * for with `--log`, `--stats`, `--freq`; `--freq-resolution`; `--min`/`--max` (µs to ns); and
 * whether log rows need dates.
 */
export function familyReportOptions(
  o: LttngCliOptions,
  flag: string,
  r: AnalyseResult,
): {
  log: boolean;
  stats: boolean;
  freq: boolean;
  freqResolution: number;
  min: number | undefined;
  max: number | undefined;
  multiDay: boolean;
} {
  return {
    log: flag === 'log' || o.log === true,
    stats: flag === 'stats' || o.stats === true,
    freq: flag === 'freq' || o.freq === true,
    freqResolution: o.freqResolution,
    min: o.min === undefined ? undefined : o.min * 1000,
    max: o.max === undefined ? undefined : o.max * 1000,
    multiDay: multiDay(r),
  };
}
