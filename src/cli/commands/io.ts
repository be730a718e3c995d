/**
 * `iousagetop`, `iolatencytop`, `iolatencystats`, `iolatencyfreq`, `iolog`: lttng-analyses' I/O
 * commands (their options, text and LAMI), then per-container I/O tables.
 */
import type { Command } from 'commander';
import { ioMeta, ioMi, ioText } from '../../analyses/io-report.js';
import type { LttngCliOptions } from './lttng-options.js';
import { addNumberOptions, familyOptions } from './lttng-options.js';
import type { FamilyCommandName } from './family-table.js';
import { registerFamilyCommand } from './family-command.js';

interface IoCliOptions extends LttngCliOptions {
  usage?: boolean;
  minsize?: number;
  maxsize?: number;
}

export function registerIo(program: Command, name: FamilyCommandName): void {
  registerFamilyCommand(program, name, {
    procFilter: false,
    examples: `  nstrace ${name} TRACE
  nstrace iousagetop --container-type docker TRACE     I/O of the tasks of docker containers
  nstrace iolatencytop --limit 5 --min 1000 TRACE      the slowest calls above 1 ms
  nstrace iolatencystats --minsize 4096 TRACE
  nstrace iolog --container web TRACE`,
    minMax: 'I/O requests',
    freqHelp: 'also output the frequency distribution of latencies',
    also: {
      usage: 'also output the I/O usage',
      top: 'also output the top latencies by category',
      log: 'also output the I/O requests in time order',
      stats: 'also output latency statistics',
    },
    options: (c) =>
      addNumberOptions(
        c,
        ['--minsize <bytes>', 'filter out I/O operations of fewer bytes'],
        ['--maxsize <bytes>', 'filter out I/O operations of more bytes'],
      ),
    analyses: [name === 'iousagetop' ? 'iousage' : 'io'],
    meta: ioMeta,
    pick: (r) => r.io!,
    reportOptions: (o: IoCliOptions, r, common, flag) => ({
      ...common,
      usage: flag === 'usage' || o.usage === true,
      minSize: o.minsize,
      maxSize: o.maxsize,
      begin: r.begin,
      end: r.end,
    }),
    text: ioText,
    mi: ioMi,
    adjust: (o) => {
      if (o.cpu !== undefined)
        process.stderr.write('nstrace: warning: the CPU filter does not apply to I/O analyses\n');
      const fam = { ...familyOptions(o), minSize: o.minsize, maxSize: o.maxsize };
      return { options: { ...o, cpu: undefined }, family: fam };
    },
  });
}
