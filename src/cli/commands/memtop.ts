import type { Command } from 'commander';
import { memtopMeta, memtopMi, memtopText } from '../../analyses/reports.js';
import type { AnalysisCliOptions } from './analysis-shared.js';
import { addAnalysisOptions, runAnalysisCommand } from './analysis-shared.js';

export function register(program: Command): void {
  const cmd = program
    .command('memtop')
    .description(
      "Pages allocated and freed per thread and per container (lttng-memtop's tables plus per-container ones)",
    )
    .argument('[trace...]', 'trace directories (every trace below them is read)');
  addAnalysisOptions(cmd, { limitDefault: 10 });
  cmd.action(async (paths: string[], o: AnalysisCliOptions) => {
    await runAnalysisCommand(paths, o, ['memtop'], memtopMeta, {
      text: (r, ro) => memtopText(r.memtop!, ro),
      mi: (r, ro) => memtopMi(r.memtop!, ro),
    });
  });
}
