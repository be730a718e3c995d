/**
 * lttng-analyses' family commands, listed once: the family each belongs to, the table it shows
 * (`--top`, `--log`, ... turn on the others) and what that is. `index.ts` registers them by
 * these names, `family-command.ts` describes each from its row.
 */

/** The table a family command shows. */
export type FamilyFlag = 'usage' | 'top' | 'log' | 'stats' | 'freq';

export type FamilyName = 'sched' | 'io' | 'irq' | 'period';

/** A command's description: `TITLE: WHAT (lttng-NAME's tables)AFTER`. */
export const FAMILY_TITLES: Readonly<Record<FamilyName, readonly [title: string, after: string]>> = {
  sched: ['Scheduling latency', ', then per container, with the container that held the CPU'],
  io: ['I/O', ', then per container'],
  irq: ['Interrupts', ', then per container interrupted'],
  period: ['Periods', ', periods defined with --period'],
};

/** In the order of `nstrace --help`. */
export const FAMILY_COMMANDS = {
  schedtop: ['sched', 'top', 'the longest scheduling latencies (wakeup to switch-in)'],
  schedstats: ['sched', 'stats', 'scheduling latency statistics per thread (or in total, per priority)'],
  schedlog: ['sched', 'log', 'every scheduling latency in time order'],
  schedfreq: ['sched', 'freq', 'the frequency distribution of scheduling latencies'],
  iousagetop: ['io', 'usage', 'bytes read and written per process, file, disk and network interface'],
  iolatencytop: ['io', 'top', 'the slowest I/O system calls (open, read, write, sync)'],
  iolatencystats: ['io', 'stats', 'I/O system call and disk request latency statistics'],
  iolatencyfreq: ['io', 'freq', 'the frequency distribution of I/O latencies'],
  iolog: ['io', 'log', 'every I/O system call in time order'],
  irqstats: ['irq', 'stats', 'hard IRQ and softirq handler durations and raise latencies'],
  irqfreq: ['irq', 'freq', 'the frequency distribution of handler durations'],
  irqlog: ['irq', 'log', 'every interrupt in time order'],
  periodlog: ['period', 'log', 'every period in time order'],
  periodtop: ['period', 'top', 'the longest periods'],
  periodstats: ['period', 'stats', 'period statistics, per period and per parent period'],
  periodfreq: ['period', 'freq', 'the frequency distribution of period durations, counts and ratios'],
} as const satisfies Record<string, readonly [family: FamilyName, flag: FamilyFlag, what: string]>;

export type FamilyCommandName = keyof typeof FAMILY_COMMANDS;

/** The commands of a family, in table order. */
export function familyCommands(family: FamilyName): FamilyCommandName[] {
  return (Object.keys(FAMILY_COMMANDS) as FamilyCommandName[]).filter(
    (n) => FAMILY_COMMANDS[n][0] === family,
  );
}
