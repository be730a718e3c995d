import type { Command } from 'commander';
import { register as registerContainers, traceContainers } from './containers.js';
import { register as registerPrint } from './print.js';
import { register as registerCputop } from './cputop.js';
import { register as registerMemtop } from './memtop.js';
import { register as registerSyscallstats } from './syscallstats.js';
import { register as registerTop } from './top.js';
import { traceContainerLister } from './trace-containers.js';
import { register as registerRelayd } from './relayd.js';
import { register as registerRecord } from './record.js';

/**
 * Every subcommand lives in its own file under `src/cli/commands/` and exports
 * `register(program)`. Add one line here per subcommand.
 */
export function registerCommands(program: Command): void {
  registerPrint(program);
  registerContainers(program);
  traceContainers.lister = traceContainerLister;
  registerCputop(program);
  registerMemtop(program);
  registerSyscallstats(program);
  registerTop(program);
  registerRelayd(program);
  registerRecord(program);
}
