/**
 * `cputop`, `memtop`, `syscallstats`: lttng-analyses' tables of one analysis each, then the
 * per-container ones.
 */
import type { Command } from 'commander';
import type { ReportOptions } from '../../analyses/format/common.js';
import type { AnalysisMeta, ResultTable } from '../../analyses/format/lami.js';
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
import type { AnalyseResult } from '../../analyses/session.js';
import type { AnalysisCliOptions } from './analysis-shared.js';
import { addAnalysisOptions, rendered, runAnalysisCommand, traceCommand } from './analysis-shared.js';

const DESCRIPTIONS = {
  cputop:
    "CPU usage per thread, per CPU, in total and per container (lttng-cputop's tables plus per-container usage)",
  memtop:
    "Pages allocated and freed per thread and per container (lttng-memtop's tables plus per-container ones)",
  syscallstats:
    "System call counts, durations and return values per thread and per container (lttng-syscallstats' tables plus per-container ones)",
};

export type ReportCommand = keyof typeof DESCRIPTIONS;

/** Registers `nstrace NAME` of analysis NAME: `--limit`'s default, its metadata, text and LAMI. */
function registerOne<N extends ReportCommand>(
  program: Command,
  name: N,
  limitDefault: number,
  meta: (version: string) => AnalysisMeta,
  text: (x: NonNullable<AnalyseResult[N]>, o: ReportOptions) => string,
  mi: (x: NonNullable<AnalyseResult[N]>, o: ReportOptions) => ResultTable[],
): void {
  const cmd = traceCommand(program, name, DESCRIPTIONS[name]);
  addAnalysisOptions(cmd, { limitDefault });
  const render = rendered(
    (r) => r[name]!,
    (_r, ro) => ro,
    text,
    mi,
  );
  cmd.action(async (paths: string[], o: AnalysisCliOptions) => {
    await runAnalysisCommand(paths, o, [name], meta, render);
  });
}

export function registerReport(program: Command, name: ReportCommand): void {
  if (name === 'cputop') registerOne(program, name, 10, cputopMeta, cputopText, cputopMi);
  else if (name === 'memtop') registerOne(program, name, 10, memtopMeta, memtopText, memtopMi);
  else registerOne(program, name, 0, syscallstatsMeta, syscallstatsText, syscallstatsMi);
}
