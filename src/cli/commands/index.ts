import type { Command } from 'commander';
import { register as registerContainers } from './containers.js';

/**
 * Every subcommand lives in its own file under `src/cli/commands/` and exports
 * `register(program)`. Add one line here per subcommand.
 */
export function registerCommands(program: Command): void {
  registerContainers(program);
}
