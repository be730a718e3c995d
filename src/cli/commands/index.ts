import type { Command } from 'commander';
import { register as registerRelayd } from './relayd.js';

/**
 * Every subcommand lives in its own file under `src/cli/commands/` and exports
 * `register(program)`. Add one line here per subcommand.
 */
export function registerCommands(program: Command): void {
  registerRelayd(program);
}
