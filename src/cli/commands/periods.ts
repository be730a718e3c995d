/**
 * `periodlog`, `periodtop`, `periodstats`, `periodfreq`: lttng-analyses' period commands (their
 * options, text and LAMI) over the periods that `--period` defines.
 */
import type { Command } from 'commander';
import { periodMeta, periodMi, periodText } from '../../analyses/periods/report.js';
import { UsageError } from '../../util/errors.js';
import type { LttngCliOptions } from './lttng-options.js';
import { addNumberOptions } from './lttng-options.js';
import type { FamilyCommandName } from './family-table.js';
import { registerFamilyCommand } from './family-command.js';

interface PeriodCliOptions extends LttngCliOptions {
  minDuration?: number;
  maxDuration?: number;
  select?: string;
  groupBy?: string;
  aggregateBy?: string;
  orderBy?: string;
}

export function registerPeriod(program: Command, name: FamilyCommandName): void {
  registerFamilyCommand(program, name, {
    procFilter: false,
    examples: `  nstrace ${name} --period 'irq:$evt.$name == "irq_handler_entry":$evt.$name == "irq_handler_exit" && $evt.irq == $begin.$evt.irq' TRACE
  nstrace periodstats --period 'rd:$evt.$name == "syscall_entry_read":$evt.$name == "syscall_exit_read" && $evt.tid == $begin.$evt.tid' TRACE
  nstrace periodlog --period 'sw:$evt.$name == "sched_switch" && $evt.next_tid == 1234:$evt.$name == "sched_switch" && $evt.prev_tid == 1234' \\
      --period-captures 'sw:cpu=$evt.cpu_id:state=$evt.prev_state' TRACE
  nstrace periodstats --period 'p:$evt.$name == "a":$evt.$name == "b"' --period 'c(p):$evt.$name == "x":$evt.$name == "y"' TRACE
                                                  a child period c inside p: per-parent statistics`,
    minMax: 'periods (bounds of the distributions)',
    freqHelp: 'also output the frequency distributions',
    also: {
      top: 'also output the longest periods',
      log: 'also output every period in time order',
      stats: 'also output period statistics',
    },
    options: (c) => {
      addNumberOptions(
        c,
        ['--min-duration <us>', 'leave out periods shorter than this (µs)'],
        ['--max-duration <us>', 'leave out periods longer than this (µs)'],
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
          `${name} needs period definitions: --period 'NAME:BEGIN-EXPR:END-EXPR' (see nstrace ${name} --help)`,
        );
      }
    },
    analyses: ['period'],
    meta: periodMeta,
    pick: (r) => r.period!,
    reportOptions: (o: PeriodCliOptions, r, common) => ({
      ...common,
      minDuration: o.minDuration,
      maxDuration: o.maxDuration,
      select: o.select,
      orderByHierarchy: o.orderBy === 'hierarchy',
      firstTs: r.firstTs ?? r.summary.periodBegin ?? 0,
    }),
    text: periodText,
    mi: periodMi,
  });
}
