/**
 * `schedtop`, `schedstats`, `schedlog`, `schedfreq`: lttng-analyses' scheduling latency commands
 * (their options, text and LAMI), then per-container latency tables.
 */
import type { Command } from 'commander';
import { schedMeta, schedMi, schedText } from '../../analyses/sched-report.js';
import type { LttngCliOptions } from './lttng-options.js';
import type { FamilyCommandName } from './family-table.js';
import { registerFamilyCommand } from './family-command.js';

interface SchedCliOptions extends LttngCliOptions {
  total?: boolean;
  perTid?: boolean;
  perPrio?: boolean;
}

export function registerSched(program: Command, name: FamilyCommandName): void {
  registerFamilyCommand(program, name, {
    examples: `  nstrace ${name} TRACE
  nstrace ${name} --container web TRACE            latencies of the tasks of container web
  nstrace schedstats --per-prio --total TRACE
  nstrace schedtop --limit 20 --min 100 TRACE     the 20 worst latencies above 100 µs
  nstrace schedfreq --freq-resolution 40 TRACE
  nstrace schedstats --refresh 1s TRACE           one table per second`,
    minMax: 'latencies',
    freqHelp: 'also output the frequency distribution of latencies',
    also: {
      top: 'also output the top latencies',
      log: 'also output every latency in time order',
      stats: 'also output latency statistics',
    },
    options: (c) => {
      c.option('--total', 'group all results (stats and freq)')
        .option('--per-tid', 'group results per TID (stats and freq; the default)')
        .option('--per-prio', 'group results per priority (stats and freq)');
    },
    analyses: ['sched'],
    meta: schedMeta,
    pick: (r) => r.sched!,
    reportOptions: (o: SchedCliOptions, _r, common) => ({
      ...common,
      total: o.total === true,
      perTid: o.perTid === true || !(o.total === true || o.perPrio === true),
      perPrio: o.perPrio === true,
    }),
    text: schedText,
    mi: schedMi,
  });
}
