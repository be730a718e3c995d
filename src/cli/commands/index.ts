import type { Command } from 'commander';
import { register as registerContainers } from './containers.js';
import { register as registerPrint } from './print.js';
import { register as registerRelayd } from './relayd.js';

/**
 * Every subcommand lives in its own file under `src/cli/commands/` and exports
 * `register(program)`. Add one line here per subcommand.
 */
export function registerCommands(program: Command): void {
  registerPrint(program);
  registerContainers(program);
  registerRelayd(program);
}
