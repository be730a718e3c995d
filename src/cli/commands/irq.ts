/**
 * `irqstats`, `irqfreq`, `irqlog`: lttng-analyses' interrupt commands (their options, text and
 * LAMI), then the interrupt time per container interrupted.
 */
import type { Command } from 'commander';
import { irqMeta, irqMi, irqText } from '../../analyses/irq-report.js';
import type { LttngCliOptions } from './lttng-options.js';
import type { FamilyCommandName } from './family-table.js';
import { registerFamilyCommand } from './family-command.js';

interface IrqCliOptions extends LttngCliOptions {
  irq?: string;
  softirq?: string;
}

export function registerIrq(program: Command, name: FamilyCommandName): void {
  registerFamilyCommand(program, name, {
    procFilter: false,
    examples: `  nstrace ${name} TRACE
  nstrace irqstats --irq 36,41 --softirq 1 TRACE     only these IRQs and softirq vectors
  nstrace irqfreq --min 1 --max 100 TRACE
  nstrace irqstats --container web TRACE             the interrupts that hit container web
  nstrace irqlog --cpu 0 TRACE`,
    minMax: 'interrupts',
    freqHelp: 'also output the frequency distribution of handler durations',
    also: {
      log: 'also output the interrupts in time order',
      stats: 'also output interrupt statistics',
    },
    options: (c) => {
      c.option('--irq <list>', 'only these IRQ numbers (comma-separated)').option(
        '--softirq <list>',
        'only these softirq vectors (comma-separated)',
      );
    },
    analyses: ['irq'],
    meta: irqMeta,
    pick: (r) => r.irq!,
    reportOptions: (o: IrqCliOptions, _r, common) => ({
      ...common,
      irqList: o.irq?.split(','),
      softirqList: o.softirq?.split(','),
    }),
    text: irqText,
    mi: irqMi,
  });
}
