/**
 * `irqstats`, `irqfreq`, `irqlog`: lttng-analyses' interrupt commands (their options, text and
 * LAMI), then the interrupt time per container interrupted.
 */
import type { Command } from 'commander';
import type { ReportOptions } from '../../analyses/format/common.js';
import type { IrqReportOptions } from '../../analyses/irq-report.js';
import { irqMeta, irqMi, irqText } from '../../analyses/irq-report.js';
import type { AnalyseResult } from '../../analyses/session.js';
import { rendered } from './analysis-shared.js';
import type { LttngCliOptions } from './lttng-options.js';
import { familyReportOptions, registerFamilyCommand } from './family-command.js';

interface IrqCliOptions extends LttngCliOptions {
  irq?: string;
  softirq?: string;
}

const COMMANDS = {
  irqstats: { flag: 'stats', what: 'hard IRQ and softirq handler durations and raise latencies' },
  irqfreq: { flag: 'freq', what: 'the frequency distribution of handler durations' },
  irqlog: { flag: 'log', what: 'every interrupt in time order' },
} as const;

export type IrqCommand = keyof typeof COMMANDS;

function reportOptions(
  o: IrqCliOptions,
  r: AnalyseResult,
  ro: ReportOptions,
  cmd: IrqCommand,
): IrqReportOptions {
  const flag = COMMANDS[cmd].flag;
  return {
    ...ro,
    ...familyReportOptions(o, flag, r),
    freqUniform: o.freqUniform === true || o.freqSeries === true,
    freqSeries: o.freqSeries === true,
    irqList: o.irq?.split(','),
    softirqList: o.softirq?.split(','),
  };
}

export function registerIrq(program: Command, cmd: IrqCommand): void {
  registerFamilyCommand(program, cmd, {
    description: `Interrupts: ${COMMANDS[cmd].what} (lttng-${cmd}'s tables), then per container interrupted`,
    procFilter: false,
    examples: `  nstrace ${cmd} TRACE
  nstrace irqstats --irq 36,41 --softirq 1 TRACE     only these IRQs and softirq vectors
  nstrace irqfreq --min 1 --max 100 TRACE
  nstrace irqstats --container web TRACE             the interrupts that hit container web
  nstrace irqlog --cpu 0 TRACE`,
    minMax: 'interrupts',
    freqHelp: 'also output the frequency distribution of handler durations',
    options: (c) => {
      c.option('--log', 'also output the interrupts in time order')
        .option('--stats', 'also output interrupt statistics')
        .option('--irq <list>', 'only these IRQ numbers (comma-separated)')
        .option('--softirq <list>', 'only these softirq vectors (comma-separated)');
    },
    analyses: () => ['irq'],
    meta: irqMeta,
    render: (o: IrqCliOptions) =>
      rendered(
        (r) => r.irq!,
        (r, ro) => reportOptions(o, r, ro, cmd),
        irqText,
        irqMi,
      ),
  });
}
