/**
 * `schedtop`, `schedstats`, `schedlog`, `schedfreq`: lttng-analyses' scheduling latency commands
 * (their options, text and LAMI), then per-container latency tables.
 */
import type { Command } from 'commander';
import type { AnalyseResult } from '../../analyses/session.js';
import type { ReportOptions } from '../../analyses/format/common.js';
import type { SchedReportOptions } from '../../analyses/sched-report.js';
import { schedMeta, schedMi, schedText } from '../../analyses/sched-report.js';
import { rendered } from './analysis-shared.js';
import type { LttngCliOptions } from './lttng-options.js';
import { familyReportOptions, registerFamilyCommand } from './family-command.js';

interface SchedCliOptions extends LttngCliOptions {
  total?: boolean;
  perTid?: boolean;
  perPrio?: boolean;
}

const COMMANDS = {
  schedtop: { flag: 'top', what: 'the longest scheduling latencies (wakeup to switch-in)' },
  schedstats: { flag: 'stats', what: 'scheduling latency statistics per thread (or in total, per priority)' },
  schedlog: { flag: 'log', what: 'every scheduling latency in time order' },
  schedfreq: { flag: 'freq', what: 'the frequency distribution of scheduling latencies' },
} as const;

export type SchedCommand = keyof typeof COMMANDS;

function reportOptions(
  o: SchedCliOptions,
  r: AnalyseResult,
  ro: ReportOptions,
  cmd: SchedCommand,
): SchedReportOptions {
  const flag = COMMANDS[cmd].flag;
  const perTid = o.perTid === true || !(o.total === true || o.perPrio === true);
  const freqUniform = o.freqUniform === true || o.freqSeries === true;
  return {
    ...ro,
    ...familyReportOptions(o, flag, r),
    top: flag === 'top' || o.top === true,
    total: o.total === true,
    perTid,
    perPrio: o.perPrio === true,
    freqUniform,
    freqSeries: o.freqSeries === true,
  };
}

export function registerSched(program: Command, cmd: SchedCommand): void {
  registerFamilyCommand(program, cmd, {
    description: `Scheduling latency: ${COMMANDS[cmd].what} (lttng-${cmd}'s tables), then per container, with the container that held the CPU`,
    examples: `  nstrace ${cmd} TRACE
  nstrace ${cmd} --container web TRACE            latencies of the tasks of container web
  nstrace schedstats --per-prio --total TRACE
  nstrace schedtop --limit 20 --min 100 TRACE     the 20 worst latencies above 100 µs
  nstrace schedfreq --freq-resolution 40 TRACE
  nstrace schedstats --refresh 1s TRACE           one table per second`,
    minMax: 'latencies',
    freqHelp: 'also output the frequency distribution of latencies',
    options: (c) => {
      c.option('--top', 'also output the top latencies')
        .option('--log', 'also output every latency in time order')
        .option('--stats', 'also output latency statistics')
        .option('--total', 'group all results (stats and freq)')
        .option('--per-tid', 'group results per TID (stats and freq; the default)')
        .option('--per-prio', 'group results per priority (stats and freq)');
    },
    analyses: () => ['sched'],
    meta: schedMeta,
    render: (o: SchedCliOptions) =>
      rendered(
        (r) => r.sched!,
        (r, ro) => reportOptions(o, r, ro, cmd),
        schedText,
        schedMi,
      ),
  });
}

export function register(program: Command): void {
  for (const name of Object.keys(COMMANDS) as SchedCommand[]) registerSched(program, name);
}
