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
import { UsageError } from '../../util/errors.js';
import { addAnalysisOptions, runAnalysisCommand } from './analysis-shared.js';
import type { LttngCliOptions } from './lttng-options.js';
import { addFreqOptions, addMinMaxOptions, addPeriodOptions, familyOptions } from './lttng-options.js';
import { multiDay } from './report-dates.js';

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
    usage: flag === 'usage' || o.usage === true,
    stats: flag === 'stats' || o.stats === true,
    top: flag === 'top' || o.top === true,
    log: flag === 'log' || o.log === true,
    freq: flag === 'freq' || o.freq === true,
    freqResolution: o.freqResolution,
    min: o.min === undefined ? undefined : o.min * 1000,
    max: o.max === undefined ? undefined : o.max * 1000,
    minSize: o.minsize,
    maxSize: o.maxsize,
    begin: r.begin,
    end: r.end,
    multiDay: multiDay(r),
  };
}

function floatArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name} must be a number, not '${v}'`);
    return n;
  };
}

export function registerIo(program: Command, cmd: IoCommand): void {
  const c = program
    .command(cmd)
    .description(`I/O: ${COMMANDS[cmd].what} (lttng-${cmd}'s tables), then per container`)
    .argument('[trace...]', 'trace directories (every trace below them is read)');
  addAnalysisOptions(c, {
    limitDefault: 10,
    procFilter: false,
    examples: `  nstrace ${cmd} TRACE
  nstrace iousagetop --container-type docker TRACE     I/O of the tasks of docker containers
  nstrace iolatencytop --limit 5 --min 1000 TRACE      the slowest calls above 1 ms
  nstrace iolatencystats --minsize 4096 TRACE
  nstrace iolog --container web TRACE`,
  });
  addMinMaxOptions(c, 'I/O requests');
  addFreqOptions(c, 'also output the frequency distribution of latencies');
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
  addPeriodOptions(c);
  c.action(async (paths: string[], o: IoCliOptions) => {
    if (o.cpu !== undefined)
      process.stderr.write('nstrace: warning: the CPU filter does not apply to I/O analyses\n');
    const fam = { ...familyOptions(o), minSize: o.minsize, maxSize: o.maxsize };
    await runAnalysisCommand(
      paths,
      { ...o, cpu: undefined },
      [cmd === 'iousagetop' ? 'iousage' : 'io'],
      ioMeta,
      {
        text: (r, ro) => ioText(r.io!, reportOptions(o, r, ro, cmd)),
        mi: (r, ro) => ioMi(r.io!, reportOptions(o, r, ro, cmd)),
      },
      { family: fam },
    );
  });
}
