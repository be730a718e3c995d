/**
 * `irqstats`, `irqfreq`, `irqlog`: lttng-analyses' interrupt commands (their options, text and
 * LAMI), then the interrupt time per container interrupted.
 */
import type { Command } from 'commander';
import type { ReportOptions } from '../../analyses/format/common.js';
import type { IrqReportOptions } from '../../analyses/irq-report.js';
import { irqMeta, irqMi, irqText } from '../../analyses/irq-report.js';
import type { AnalyseResult } from '../../analyses/session.js';
import { addAnalysisOptions, runAnalysisCommand } from './analysis-shared.js';
import type { LttngCliOptions } from './lttng-options.js';
import { addFreqOptions, addMinMaxOptions, addPeriodOptions, familyOptions } from './lttng-options.js';
import { multiDay } from './report-dates.js';

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
    log: flag === 'log' || o.log === true,
    stats: flag === 'stats' || o.stats === true,
    freq: flag === 'freq' || o.freq === true,
    freqResolution: o.freqResolution,
    freqUniform: o.freqUniform === true || o.freqSeries === true,
    freqSeries: o.freqSeries === true,
    min: o.min === undefined ? undefined : o.min * 1000,
    max: o.max === undefined ? undefined : o.max * 1000,
    irqList: o.irq?.split(','),
    softirqList: o.softirq?.split(','),
    multiDay: multiDay(r),
  };
}

export function registerIrq(program: Command, cmd: IrqCommand): void {
  const c = program
    .command(cmd)
    .description(`Interrupts: ${COMMANDS[cmd].what} (lttng-${cmd}'s tables), then per container interrupted`)
    .argument('[trace...]', 'trace directories (every trace below them is read)');
  addAnalysisOptions(c, {
    limitDefault: 10,
    procFilter: false,
    examples: `  nstrace ${cmd} TRACE
  nstrace irqstats --irq 36,41 --softirq 1 TRACE     only these IRQs and softirq vectors
  nstrace irqfreq --min 1 --max 100 TRACE
  nstrace irqstats --container web TRACE             the interrupts that hit container web
  nstrace irqlog --cpu 0 TRACE`,
  });
  addMinMaxOptions(c, 'interrupts');
  addFreqOptions(c, 'also output the frequency distribution of handler durations');
  c.option('--log', 'also output the interrupts in time order')
    .option('--stats', 'also output interrupt statistics')
    .option('--irq <list>', 'only these IRQ numbers (comma-separated)')
    .option('--softirq <list>', 'only these softirq vectors (comma-separated)');
  addPeriodOptions(c);
  c.action(async (paths: string[], o: IrqCliOptions) => {
    await runAnalysisCommand(
      paths,
      o,
      ['irq'],
      irqMeta,
      {
        text: (r, ro) => irqText(r.irq!, reportOptions(o, r, ro, cmd)),
        mi: (r, ro) => irqMi(r.irq!, reportOptions(o, r, ro, cmd)),
      },
      { family: familyOptions(o) },
    );
  });
}
