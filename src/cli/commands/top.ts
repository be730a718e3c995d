import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { topMeta, topMi, topText } from '../../analyses/top-report.js';
import { NstraceError } from '../../util/errors.js';
import { samplePath } from '../paths.js';
import type { AnalysisCliOptions } from './analysis-shared.js';
import { addAnalysisOptions, runAnalysisCommand } from './analysis-shared.js';

/**
 * The sample trace bundled in the package (`samples/containers-live`): a real recording by
 * `nstrace record` (`scripts/record-sample.ts`, see its README).
 */
export const SAMPLE_TRACE = samplePath('containers-live');

export function register(program: Command): void {
  const cmd = program
    .command('top')
    .description(
      'Per-container report: CPU usage, memory allocations, system calls, scheduling latency (wake-up to run) ' +
        'and I/O of every container (and the host), in one pass over the trace. ' +
        'Without TRACE, analyses the bundled sample trace.',
    )
    .argument('[trace...]', 'trace directories (default: the bundled sample trace)');
  addAnalysisOptions(cmd, { limitDefault: 10 });
  cmd.action(async (paths: string[], o: AnalysisCliOptions) => {
    let notice: string | undefined;
    if (paths.length === 0 && o.metadata !== true) {
      if (!existsSync(SAMPLE_TRACE)) {
        throw new NstraceError(`no trace given and the bundled sample trace is missing (${SAMPLE_TRACE})`);
      }
      paths = [SAMPLE_TRACE];
      notice =
        `no trace given: analysing the bundled sample trace ${SAMPLE_TRACE}, a real 2-second recording ` +
        '(nstrace record, scripts/record-sample.ts) of a 2-CPU Debian 12 build machine running Docker, ' +
        'Podman, LXC and unshare containers with small workloads, plus whatever else that host ran';
    }
    await runAnalysisCommand(
      paths,
      o,
      ['cputop', 'memtop', 'syscallstats', 'sched', 'io'],
      topMeta,
      { text: (r, ro) => topText(r, ro), mi: (r, ro) => topMi(r, ro) },
      { partial: true, notice },
    );
  });
}
