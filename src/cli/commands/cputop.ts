import type { Command } from 'commander';
import { cputopMeta, cputopMi, cputopText } from '../../analyses/reports.js';
import type { AnalysisCliOptions } from './analysis-shared.js';
import { addAnalysisOptions, runAnalysisCommand } from './analysis-shared.js';

export function register(program: Command): void {
  const cmd = program
    .command('cputop')
    .description(
      "CPU usage per thread, per CPU, in total and per container (lttng-cputop's tables plus per-container usage)",
    )
    .argument('[trace...]', 'trace directories (every trace below them is read)');
  addAnalysisOptions(cmd, { limitDefault: 10 });
  cmd.action(async (paths: string[], o: AnalysisCliOptions) => {
    await runAnalysisCommand(paths, o, ['cputop'], cputopMeta, {
      text: (r, ro) => cputopText(r.cputop!, ro),
      mi: (r, ro) => cputopMi(r.cputop!, ro),
    });
  });
}
