import type { Command } from 'commander';

type Registrar = (program: Command) => void | Promise<void>;

/**
 * Every subcommand lives in its own file under `src/cli/commands/` and exports
 * `register(program)`; add one entry here per subcommand, in the order `--help` lists them.
 * Modules load lazily: `nstrace cputop TRACE` loads only what cputop needs, which matters for
 * start-up time (loading every command's library costs about 0.2 s).
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Registrar>]> = [
  ['top', async () => (await import('./top.js')).register],
  ['cputop', async () => (await import('./cputop.js')).register],
  ['memtop', async () => (await import('./memtop.js')).register],
  ['syscallstats', async () => (await import('./syscallstats.js')).register],
  ['spans', async () => (await import('./spans.js')).register],
  ...(['schedtop', 'schedstats', 'schedlog', 'schedfreq'] as const).map(
    (n) =>
      [
        n,
        async () => {
          const m = await import('./sched.js');
          return (p: Command) => m.registerSched(p, n);
        },
      ] as const,
  ),
  ...(['iousagetop', 'iolatencytop', 'iolatencystats', 'iolatencyfreq', 'iolog'] as const).map(
    (n) =>
      [
        n,
        async () => {
          const m = await import('./io.js');
          return (p: Command) => m.registerIo(p, n);
        },
      ] as const,
  ),
  ...(['irqstats', 'irqfreq', 'irqlog'] as const).map(
    (n) =>
      [
        n,
        async () => {
          const m = await import('./irq.js');
          return (p: Command) => m.registerIrq(p, n);
        },
      ] as const,
  ),
  ...(['periodlog', 'periodtop', 'periodstats', 'periodfreq'] as const).map(
    (n) =>
      [
        n,
        async () => {
          const m = await import('./periods.js');
          return (p: Command) => m.registerPeriod(p, n);
        },
      ] as const,
  ),
  [
    'containers',
    async () => {
      const [c, t] = await Promise.all([import('./containers.js'), import('./trace-containers.js')]);
      c.traceContainers.lister = t.traceContainerLister;
      return c.register;
    },
  ],
  ['sql', async () => (await import('./sql.js')).register],
  ['export', async () => (await import('./export.js')).register],
  ['print', async () => (await import('./print.js')).register],
  ['view', async () => (await import('./view.js')).register],
  ['record', async () => (await import('./record.js')).register],
  ['relayd', async () => (await import('./relayd.js')).register],
];

/**
 * Registers the subcommand named in `argv` (the first argument that is not an option), or all
 * of them when there is none or it is unknown (`nstrace --help`, `nstrace help`, typos).
 */
export async function registerCommands(program: Command, argv: readonly string[] = []): Promise<void> {
  const name = argv.slice(2).find((a) => !a.startsWith('-'));
  const one = COMMANDS.find(([n]) => n === name);
  for (const [, load] of one !== undefined ? [one] : COMMANDS) await (await load())(program);
}
