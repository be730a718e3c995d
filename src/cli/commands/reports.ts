/**
 * `cputop`, `memtop`, `syscallstats`: lttng-analyses' tables of one analysis each, then the
 * per-container ones.
 */
import type { Command } from 'commander';
import {
  cputopMeta,
  cputopMi,
  cputopText,
  memtopMeta,
  memtopMi,
  memtopText,
  syscallstatsMeta,
  syscallstatsMi,
  syscallstatsText,
} from '../../analyses/reports.js';
import type { AnalysisCliOptions } from './analysis-shared.js';
import { addAnalysisOptions, rendered, runAnalysisCommand, traceCommand } from './analysis-shared.js';

const REPORTS = {
  cputop: {
    description:
      "CPU usage per thread, per CPU, in total and per container (lttng-cputop's tables plus per-container usage)",
    limitDefault: 10,
    meta: cputopMeta,
    render: rendered(
      (r) => r.cputop!,
      (_r, ro) => ro,
      cputopText,
      cputopMi,
    ),
  },
  memtop: {
    description:
      "Pages allocated and freed per thread and per container (lttng-memtop's tables plus per-container ones)",
    limitDefault: 10,
    meta: memtopMeta,
    render: rendered(
      (r) => r.memtop!,
      (_r, ro) => ro,
      memtopText,
      memtopMi,
    ),
  },
  syscallstats: {
    description:
      "System call counts, durations and return values per thread and per container (lttng-syscallstats' tables plus per-container ones)",
    limitDefault: 0,
    meta: syscallstatsMeta,
    render: rendered(
      (r) => r.syscallstats!,
      (_r, ro) => ro,
      syscallstatsText,
      syscallstatsMi,
    ),
  },
};

export type ReportCommand = keyof typeof REPORTS;

export function registerReport(program: Command, name: ReportCommand): void {
  const { description, limitDefault, meta, render } = REPORTS[name];
  const cmd = traceCommand(program, name, description);
  addAnalysisOptions(cmd, { limitDefault });
  cmd.action(async (paths: string[], o: AnalysisCliOptions) => {
    await runAnalysisCommand(paths, o, [name], meta, render);
  });
}
