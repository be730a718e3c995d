import type { Command } from 'commander';
import { familyCommands } from './family-table.js';

type Registrar = (program: Command) => void | Promise<void>;

/** The entries of a command family: one module registers each of its commands by name. */
function family<const N extends string>(
  names: readonly N[],
  load: () => Promise<(program: Command, name: N) => void>,
): (readonly [string, () => Promise<Registrar>])[] {
  return names.map(
    (n) =>
      [
        n,
        async () => {
          const register = await load();
          return (p: Command) => register(p, n);
        },
      ] as const,
  );
}

/**
 * Every subcommand lives in a file under `src/cli/commands/` that exports `register(program)`
 * (a family of subcommands: one file, registering each by name, see `family`); add one entry
 * here per subcommand, in the order `--help` lists them.
 * Modules load lazily: `nstrace cputop TRACE` loads only what cputop needs, which matters for
 * start-up time (loading every command's library costs about 0.2 s).
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Registrar>]> = [
  ['top', async () => (await import('./top.js')).register],
  ...family(['cputop', 'memtop', 'syscallstats'], async () => (await import('./reports.js')).registerReport),
  ['spans', async () => (await import('./spans.js')).register],
  ...family(familyCommands('sched'), async () => (await import('./sched.js')).registerSched),
  ...family(familyCommands('io'), async () => (await import('./io.js')).registerIo),
  ...family(familyCommands('irq'), async () => (await import('./irq.js')).registerIrq),
  ...family(familyCommands('period'), async () => (await import('./periods.js')).registerPeriod),
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
