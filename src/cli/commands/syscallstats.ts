import type { Command } from 'commander';
import { syscallstatsMeta, syscallstatsMi, syscallstatsText } from '../../analyses/reports.js';
import type { AnalysisCliOptions } from './analysis-shared.js';
import { addAnalysisOptions, runAnalysisCommand } from './analysis-shared.js';

export function register(program: Command): void {
  const cmd = program
    .command('syscallstats')
    .description(
      "System call counts, durations and return values per thread and per container (lttng-syscallstats' tables plus per-container ones)",
    )
    .argument('[trace...]', 'trace directories (every trace below them is read)');
  addAnalysisOptions(cmd, { limitDefault: 0 });
  cmd.action(async (paths: string[], o: AnalysisCliOptions) => {
    await runAnalysisCommand(paths, o, ['syscallstats'], syscallstatsMeta, {
      text: (r, ro) => syscallstatsText(r.syscallstats!, ro),
      mi: (r, ro) => syscallstatsMi(r.syscallstats!, ro),
    });
  });
}
