/**
 * One command of an lttng-analyses family (sched, I/O, IRQ, period): the options and the run
 * they all have, around what each family adds (its own options, checks and report).
 */
import type { Command } from 'commander';
import type { FamilyOptions } from '../../analyses/families.js';
import type { FamilyReportOptions } from '../../analyses/family-report.js';
import type { ReportOptions, ReportText } from '../../analyses/format/common.js';
import type { AnalysisMeta, ResultTable } from '../../analyses/format/lami.js';
import type { AnalysisName } from '../../analyses/requirements.js';
import type { AnalyseResult } from '../../analyses/session.js';
import type { AnalysisCliOptions } from './analysis-shared.js';
import { addAnalysisOptions, rendered, runAnalysisCommand, traceCommand } from './analysis-shared.js';
import type { LttngCliOptions } from './lttng-options.js';
import { addFreqOptions, addMinMaxOptions, addPeriodOptions, familyOptions } from './lttng-options.js';
import { multiDay } from './report-dates.js';
import type { FamilyCommandName, FamilyFlag } from './family-table.js';
import { FAMILY_COMMANDS, FAMILY_TITLES } from './family-table.js';

export interface FamilyCommand<O extends LttngCliOptions, R, RO> {
  examples: string;
  /** Whether `--tid`/`--procname` are taken (default: yes). */
  procFilter?: boolean;
  /** What `--min`/`--max` filter, and the help of `--freq`. */
  minMax: string;
  freqHelp: string;
  /** `--usage`, `--top`, `--log`, `--stats` (in this order) where the family has them: their help. */
  also: Readonly<Partial<Record<Exclude<FamilyFlag, 'freq'>, string>>>;
  /** The family's own options (after `also`, before the period ones). */
  options?: (c: Command) => unknown;
  /** Checks of the options beyond their parsers (throw a `UsageError`). */
  check?: (o: O) => void;
  /** The analyses to run. */
  analyses: AnalysisName[];
  meta: (version: string) => AnalysisMeta;
  /** The family's result, its report options (from those every family sets), text and LAMI. */
  pick: (r: AnalyseResult) => R;
  reportOptions: (o: O, r: AnalyseResult, common: FamilyReportOptions, flag: FamilyFlag) => RO;
  text: (x: R, o: RO) => ReportText;
  mi: (x: R, o: RO) => ResultTable[];
  /** What the analyses get instead of the command line and `familyOptions(o)`, if anything. */
  adjust?: (o: O) => { options: AnalysisCliOptions; family: FamilyOptions };
}

/**
 * Registers `nstrace NAME` (described by its row of `FAMILY_COMMANDS`): the analysis options,
 * `--min`/`--max`, frequency, the family's own, period options.
 */
export function registerFamilyCommand<O extends LttngCliOptions, R, RO>(
  program: Command,
  name: FamilyCommandName,
  spec: FamilyCommand<O, R, RO>,
): void {
  const [family, flag, what] = FAMILY_COMMANDS[name];
  const [title, after] = FAMILY_TITLES[family];
  const c = traceCommand(program, name, `${title}: ${what} (lttng-${name}'s tables)${after}`);
  addAnalysisOptions(c, { limitDefault: 10, procFilter: spec.procFilter, examples: spec.examples });
  addMinMaxOptions(c, spec.minMax);
  addFreqOptions(c, spec.freqHelp);
  for (const [f, help] of Object.entries(spec.also)) c.option(`--${f}`, help);
  spec.options?.(c);
  addPeriodOptions(c);
  c.action(async (paths: string[], o: O) => {
    spec.check?.(o);
    const run = spec.adjust?.(o) ?? { options: o, family: familyOptions(o) };
    const render = rendered(
      spec.pick,
      (r, ro) => spec.reportOptions(o, r, familyReportOptions(o, flag, r, ro), flag),
      spec.text,
      spec.mi,
    );
    await runAnalysisCommand(paths, run.options, spec.analyses, spec.meta, render, {
      family: run.family,
    });
  });
}

/**
 * The report options every family command sets alike: its own table (`flag`) plus those asked
 * for with `--top`, `--log`, `--stats`, `--freq`; the frequency options; `--min`/`--max` (µs
 * to ns); and whether log rows need dates.
 */
function familyReportOptions(
  o: LttngCliOptions,
  flag: FamilyFlag,
  r: AnalyseResult,
  ro: ReportOptions,
): FamilyReportOptions {
  return {
    ...ro,
    log: flag === 'log' || o.log === true,
    top: flag === 'top' || o.top === true,
    stats: flag === 'stats' || o.stats === true,
    freq: flag === 'freq' || o.freq === true,
    freqResolution: o.freqResolution,
    freqUniform: o.freqUniform === true || o.freqSeries === true,
    freqSeries: o.freqSeries === true,
    min: o.min === undefined ? undefined : o.min * 1000,
    max: o.max === undefined ? undefined : o.max * 1000,
    multiDay: multiDay(r),
  };
}
