/**
 * Options the sched, I/O, IRQ and period commands share with lttng-analyses 0.6.1: `--period`,
 * `--period-captures`, `-r/--refresh`, `--min`/`--max` (µs), the frequency distribution options,
 * `--top`/`--log`/`--stats`/`--freq` (each command turns one on; the others add tables), and
 * `--skip-validation` (accepted: nstrace never replays the trace to check for lost events, it
 * counts them while reading).
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { FamilyOptions } from '../../analyses/families.js';
import { PeriodDefs } from '../../analyses/periods/engine.js';
import { UsageError } from '../../util/errors.js';
import type { AnalysisCliOptions } from './analysis-shared.js';
import { collect, floatArg, intArg } from './args.js';

export interface LttngCliOptions extends AnalysisCliOptions {
  period?: string[];
  periodCaptures?: string[];
  refresh?: string;
  min?: number;
  max?: number;
  freq?: boolean;
  freqResolution: number;
  freqUniform?: boolean;
  freqSeries?: boolean;
  top?: boolean;
  log?: boolean;
  stats?: boolean;
  skipValidation?: boolean;
}

/** `--period`, `--period-captures`, `--refresh`, `--skip-validation`. */
export function addPeriodOptions(cmd: Command): Command {
  return cmd
    .option(
      '--period <def>',
      "period definition, as lttng-analyses: '[NAME[(PARENT)]]:BEGIN-EXPR[:END-EXPR]' (repeatable)",
      collect,
    )
    .option(
      '--period-captures <def>',
      "captures of a named period: 'NAME:[CAPTURES][:CAPTURES]' (repeatable)",
      collect,
    )
    .option(
      '-r, --refresh <duration>',
      'cut the analysis in periods of this length (units s, ms, us, ns; default s)',
    )
    .option('--skip-validation', 'accepted for compatibility (nstrace counts lost events while reading)');
}

/** Options that take a number (`floatArg`): `[flags, help]` each, e.g. `['--min <us>', '...']`. */
export function addNumberOptions(
  cmd: Command,
  ...options: ReadonlyArray<readonly [string, string]>
): Command {
  for (const [flags, help] of options) {
    const o = new Option(flags, help);
    cmd.addOption(o.argParser(floatArg(o.long!)));
  }
  return cmd;
}

/** `--min`/`--max` (µs). */
export function addMinMaxOptions(cmd: Command, what: string): Command {
  return addNumberOptions(
    cmd,
    ['--min <us>', `filter out ${what} shorter than this (µs)`],
    ['--max <us>', `filter out ${what} longer than this (µs)`],
  );
}

/** `--freq`, `--freq-resolution`, `--freq-uniform`, `--freq-series`. */
export function addFreqOptions(cmd: Command, help: string): Command {
  cmd.option('--freq', help);
  cmd.addOption(
    new Option('--freq-resolution <n>', 'frequency distribution resolution (buckets)')
      .default(20)
      .argParser(intArg('--freq-resolution')),
  );
  cmd.option('--freq-uniform', 'use a uniform resolution across distributions');
  cmd.option('--freq-series', 'consolidate the distributions as a single one (LAMI; implies --freq-uniform)');
  return cmd;
}

/** `parse_duration`: a number with an optional unit (s, ms, us, µs, ns; default s), to ns. */
export function parseDuration(v: string): number {
  const i = [...v].findIndex((c) => /\p{L}/u.test(c));
  const num = i < 0 ? v : v.slice(0, i);
  const unit = i < 0 ? undefined : v.slice(i);
  const x = Number(num);
  if (num.trim() === '' || !Number.isFinite(x)) throw new UsageError(`invalid duration: ${num}`);
  const exp =
    unit === undefined || unit === 's'
      ? 3
      : unit === 'ms'
        ? 2
        : unit === 'us' || unit === 'µs'
          ? 1
          : unit === 'ns'
            ? 0
            : -1;
  if (exp < 0) throw new UsageError(`unrecognised units: ${unit}`);
  return Math.trunc(x * 1000 ** exp);
}

/** The family options from the command line (`--min`/`--max` to ns, as lttng-analyses converts them). */
export function familyOptions(o: LttngCliOptions): FamilyOptions {
  const periods = o.period ?? [];
  if ((o.periodCaptures ?? []).length > 0 && periods.length === 0) {
    throw new UsageError('--period-captures needs --period definitions');
  }
  const periodDefs = periods.length > 0 ? PeriodDefs.fromArgs(periods, o.periodCaptures) : undefined;
  const refresh = o.refresh === undefined ? undefined : parseDuration(o.refresh);
  if (refresh !== undefined && periodDefs !== undefined) {
    throw new UsageError('Cannot specify --period* and --refresh arguments at the same time');
  }
  if (refresh !== undefined && !(refresh > 0)) throw new UsageError('--refresh must be a positive duration');
  return {
    minDuration: o.min === undefined ? undefined : o.min * 1000,
    maxDuration: o.max === undefined ? undefined : o.max * 1000,
    refresh,
    periodDefs,
  };
}
