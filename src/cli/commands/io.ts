/**
 * `iousagetop`, `iolatencytop`, `iolatencystats`, `iolatencyfreq`, `iolog`: lttng-analyses' I/O
 * commands (their options, text and LAMI), then per-container I/O tables.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { ReportOptions } from '../../analyses/format/common.js';
import type { IoReportOptions } from '../../analyses/io-report.js';
import { ioMeta, ioMi, ioText } from '../../analyses/io-report.js';
import type { AnalyseResult } from '../../analyses/session.js';
import { rendered } from './analysis-shared.js';
import type { LttngCliOptions } from './lttng-options.js';
import { familyOptions } from './lttng-options.js';
import { familyReportOptions, registerFamilyCommand } from './family-command.js';
import { floatArg } from './args.js';

interface IoCliOptions extends LttngCliOptions {
  usage?: boolean;
  minsize?: number;
  maxsize?: number;
}

const COMMANDS = {
  iousagetop: { flag: 'usage', what: 'bytes read and written per process, file, disk and network interface' },
  iolatencytop: { flag: 'top', what: 'the slowest I/O system calls (open, read, write, sync)' },
  iolatencystats: { flag: 'stats', what: 'I/O system call and disk request latency statistics' },
  iolatencyfreq: { flag: 'freq', what: 'the frequency distribution of I/O latencies' },
  iolog: { flag: 'log', what: 'every I/O system call in time order' },
} as const;

export type IoCommand = keyof typeof COMMANDS;

function reportOptions(
  o: IoCliOptions,
  r: AnalyseResult,
  ro: ReportOptions,
  cmd: IoCommand,
): IoReportOptions {
  const flag = COMMANDS[cmd].flag;
  return {
    ...ro,
    ...familyReportOptions(o, flag, r),
    usage: flag === 'usage' || o.usage === true,
    top: flag === 'top' || o.top === true,
    minSize: o.minsize,
    maxSize: o.maxsize,
    begin: r.begin,
    end: r.end,
  };
}

export function registerIo(program: Command, cmd: IoCommand): void {
  registerFamilyCommand(program, cmd, {
    description: `I/O: ${COMMANDS[cmd].what} (lttng-${cmd}'s tables), then per container`,
    procFilter: false,
    examples: `  nstrace ${cmd} TRACE
  nstrace iousagetop --container-type docker TRACE     I/O of the tasks of docker containers
  nstrace iolatencytop --limit 5 --min 1000 TRACE      the slowest calls above 1 ms
  nstrace iolatencystats --minsize 4096 TRACE
  nstrace iolog --container web TRACE`,
    minMax: 'I/O requests',
    freqHelp: 'also output the frequency distribution of latencies',
    options: (c) => {
      c.option('--usage', 'also output the I/O usage')
        .option('--top', 'also output the top latencies by category')
        .option('--log', 'also output the I/O requests in time order')
        .option('--stats', 'also output latency statistics');
      c.addOption(
        new Option('--minsize <bytes>', 'filter out I/O operations of fewer bytes').argParser(
          floatArg('--minsize'),
        ),
      );
      c.addOption(
        new Option('--maxsize <bytes>', 'filter out I/O operations of more bytes').argParser(
          floatArg('--maxsize'),
        ),
      );
    },
    analyses: () => [cmd === 'iousagetop' ? 'iousage' : 'io'],
    meta: ioMeta,
    render: (o: IoCliOptions) =>
      rendered(
        (r) => r.io!,
        (r, ro) => reportOptions(o, r, ro, cmd),
        ioText,
        ioMi,
      ),
    adjust: (o) => {
      if (o.cpu !== undefined)
        process.stderr.write('nstrace: warning: the CPU filter does not apply to I/O analyses\n');
      const fam = { ...familyOptions(o), minSize: o.minsize, maxSize: o.maxsize };
      return { options: { ...o, cpu: undefined }, family: fam };
    },
  });
}
