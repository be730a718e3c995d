/**
 * `periodlog`, `periodtop`, `periodstats`, `periodfreq`: lttng-analyses' period commands (their
 * options, text and LAMI) over the periods that `--period` defines.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { ReportOptions } from '../../analyses/format/common.js';
import type { PeriodReportOptions } from '../../analyses/periods/report-common.js';
import { periodMeta, periodMi, periodText } from '../../analyses/periods/report.js';
import type { AnalyseResult } from '../../analyses/session.js';
import { UsageError } from '../../util/errors.js';
import { rendered } from './analysis-shared.js';
import type { LttngCliOptions } from './lttng-options.js';
import { familyReportOptions, registerFamilyCommand } from './family-command.js';
import { floatArg } from './args.js';

interface PeriodCliOptions extends LttngCliOptions {
  minDuration?: number;
  maxDuration?: number;
  select?: string;
  groupBy?: string;
  aggregateBy?: string;
  orderBy?: string;
}

const COMMANDS = {
  periodlog: { flag: 'log', what: 'every period in time order' },
  periodtop: { flag: 'top', what: 'the longest periods' },
  periodstats: { flag: 'stats', what: 'period statistics, per period and per parent period' },
  periodfreq: { flag: 'freq', what: 'the frequency distribution of period durations, counts and ratios' },
} as const;

export type PeriodCommand = keyof typeof COMMANDS;

function reportOptions(
  o: PeriodCliOptions,
  r: AnalyseResult,
  ro: ReportOptions,
  cmd: PeriodCommand,
): PeriodReportOptions {
  const flag = COMMANDS[cmd].flag;
  return {
    ...ro,
    ...familyReportOptions(o, flag, r),
    top: flag === 'top' || o.top === true,
    freqUniform: o.freqUniform === true || o.freqSeries === true,
    minDuration: o.minDuration,
    maxDuration: o.maxDuration,
    select: o.select,
    orderByHierarchy: o.orderBy === 'hierarchy',
    firstTs: r.firstTs ?? r.summary.periodBegin ?? 0,
  };
}

export function registerPeriod(program: Command, cmd: PeriodCommand): void {
  registerFamilyCommand(program, cmd, {
    description: `Periods: ${COMMANDS[cmd].what} (lttng-${cmd}'s tables), periods defined with --period`,
    procFilter: false,
    examples: `  nstrace ${cmd} --period 'irq:$evt.$name == "irq_handler_entry":$evt.$name == "irq_handler_exit" && $evt.irq == $begin.$evt.irq' TRACE
  nstrace periodstats --period 'rd:$evt.$name == "syscall_entry_read":$evt.$name == "syscall_exit_read" && $evt.tid == $begin.$evt.tid' TRACE
  nstrace periodlog --period 'sw:$evt.$name == "sched_switch" && $evt.next_tid == 1234:$evt.$name == "sched_switch" && $evt.prev_tid == 1234' \\
      --period-captures 'sw:cpu=$evt.cpu_id:state=$evt.prev_state' TRACE
  nstrace periodstats --period 'p:$evt.$name == "a":$evt.$name == "b"' --period 'c(p):$evt.$name == "x":$evt.$name == "y"' TRACE
                                                  a child period c inside p: per-parent statistics`,
    minMax: 'periods (bounds of the distributions)',
    freqHelp: 'also output the frequency distributions',
    options: (c) => {
      c.option('--top', 'also output the longest periods')
        .option('--log', 'also output every period in time order')
        .option('--stats', 'also output period statistics');
      c.addOption(
        new Option('--min-duration <us>', 'leave out periods shorter than this (µs)').argParser(
          floatArg('--min-duration'),
        ),
      );
      c.addOption(
        new Option('--max-duration <us>', 'leave out periods longer than this (µs)').argParser(
          floatArg('--max-duration'),
        ),
      );
      c.option(
        '--select <names>',
        'only these periods (comma-separated names; matched as lttng-analyses does, by substring)',
      )
        .option('--order-by <order>', 'log order: time (default) or hierarchy')
        .option('--group-by <fields>', 'not implemented (lttng-analyses: group by captured fields)')
        .option(
          '--aggregate-by <name>',
          'not implemented (lttng-analyses: aggregate children by parent period)',
        );
    },
    check: (o: PeriodCliOptions) => {
      if (o.groupBy !== undefined) throw new UsageError('--group-by is not implemented');
      if (o.aggregateBy !== undefined) throw new UsageError('--aggregate-by is not implemented');
      if (o.orderBy !== undefined && o.orderBy !== 'time' && o.orderBy !== 'hierarchy') {
        throw new UsageError('Invalid order-by value (time or hierarchy)');
      }
      if (o.metadata !== true && (o.period ?? []).length === 0) {
        throw new UsageError(
          `${cmd} needs period definitions: --period 'NAME:BEGIN-EXPR:END-EXPR' (see nstrace ${cmd} --help)`,
        );
      }
    },
    analyses: () => ['period'],
    meta: periodMeta,
    render: (o: PeriodCliOptions) =>
      rendered(
        (r) => r.period!,
        (r, ro) => reportOptions(o, r, ro, cmd),
        periodText,
        periodMi,
      ),
  });
}
