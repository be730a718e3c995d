/**
 * What `cputop`, `memtop`, `syscallstats` and `top` share: options (those of lttng-analyses plus
 * the filter module's: `--filter`, `-e/--event`, `--exclude`, `--container`, `--container-type`,
 * `--host`), progress on stderr, Ctrl-C, warnings, and text or LAMI output.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { AnalysisMeta, ResultTable } from '../../analyses/format/lami.js';
import { errorJson, metadataJson, pyJson, resultsJson } from '../../analyses/format/lami.js';
import type { MachineInput } from '../../analyses/open.js';
import { machineInputs, streamRangesOf } from '../../analyses/open.js';
import type { AnalysisName } from '../../analyses/requirements.js';
import type { ReportOptions } from '../../analyses/reports.js';
import type { FamilyOptions } from '../../analyses/families.js';
import { analyse } from '../../analyses/session.js';
import type { AnalyseResult } from '../../analyses/session.js';
import type { FilterOptionValues } from '../../filter/index.js';
import { addFilterOptions } from '../../filter/index.js';
import { MissingEventsError, NstraceError, UsageError } from '../../util/errors.js';
import { pyTextBytes } from '../../model/fields.js';
import { VERSION } from '../version.js';

export interface AnalysisCliOptions extends FilterOptionValues {
  begin?: string;
  end?: string;
  timerange?: string;
  limit: number;
  tid?: string[];
  procname?: string[];
  cpu?: string[];
  gmt?: boolean;
  intersection: boolean;
  progress: boolean;
  mi?: boolean;
  metadata?: boolean;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

function intArg(name: string) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v)) throw new UsageError(`${name} must be an integer, not '${v}'`);
    return Number(v);
  };
}

/** Adds the options every analysis command takes. */
export function addAnalysisOptions(
  cmd: Command,
  opts: { limitDefault: number; procFilter?: boolean; examples?: string },
): Command {
  cmd
    .option(
      '--begin <date>',
      'start of the analysis: YYYY-MM-DD hh:mm:ss[.nnnnnnnnn], hh:mm:ss[.nnnnnnnnn] or ns',
    )
    .option('--end <date>', 'end of the analysis (same formats)')
    .option('--timerange <range>', 'time range [begin,end] (same formats)');
  if (opts.procFilter !== false) {
    cmd
      .option('--tid <list>', 'only these threads (comma-separated tids; repeatable)', collect)
      .option('--procname <list>', 'only these process names (comma-separated; repeatable)', collect);
  }
  cmd
    .option('--cpu <list>', 'only these CPUs (comma-separated ids; repeatable)', collect)
    .option('--gmt', 'show and read times in UTC rather than local time')
    .option('--no-intersection', 'analyse all events, not only the range where all the streams have data')
    .option('--no-progress', 'no progress bar')
    .option('--mi', 'LAMI 1.0 JSON output (the machine interface of lttng-analyses)')
    .option('--metadata', 'with --mi: print the LAMI metadata document and exit');
  cmd.addOption(
    new Option('--limit <n>', 'rows per top table (0: all)')
      .default(opts.limitDefault)
      .argParser(intArg('--limit')),
  );
  // The filter module's options, as print has them: -e is --event here (no -e/--end clash).
  // --container/--container-type/--host select tasks; --filter/-e/--exclude select the events
  // the analysis sees (docs/adr/0180-one-filter-for-every-command.md).
  addFilterOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Filtering: --container, --container-type and --host select tasks, by the container each thread
belongs to at the end of the trace (per-TID rows of those tasks, per-CPU time spent on them,
their containers' rows); --filter, -e/--event and --exclude select the events the analysis counts
(syscallstats counts a system call when its entry or its exit is kept).

Examples:
${
  opts.examples ??
  `  nstrace cputop --container web --container 'ci-*' TRACE
  nstrace syscallstats --container-type docker --filter 'ret < 0' TRACE     failed calls in docker containers
  nstrace memtop --host --exclude kmem_mm_page_free TRACE`
}
`,
  );
  return cmd;
}

function splitList(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function intList(name: string, values: string[] | undefined): number[] | undefined {
  const l = splitList(values);
  return l?.map((s) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`${name}: '${s}' is not a number`);
    return Number(s);
  });
}

export function warn(msg: string): void {
  process.stderr.write(`nstrace: warning: ${msg}\n`);
}

/** A progress bar on a TTY, nothing otherwise. */
export function progressReporter(enabled: boolean): {
  update: (done: number, total: number) => void;
  stop: () => void;
} {
  if (!enabled || process.stderr.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'reading [{bar}] {percentage}% | {value}/{total} MiB | ETA {eta}s',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total) => {
      const mib = (n: number): number => Math.round((n / 1048576) * 10) / 10;
      if (!started) {
        bar.start(mib(total), 0);
        started = true;
      }
      bar.update(mib(done));
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export interface Rendered {
  text: (r: AnalyseResult, o: ReportOptions) => string;
  mi: (r: AnalyseResult, o: ReportOptions) => ResultTable[];
}

/** One machine's analysis: open its traces on one clock, run, close. */
async function analyseMachine(
  m: MachineInput,
  o: AnalysisCliOptions,
  names: readonly AnalysisName[],
  partial: boolean | undefined,
  several: boolean,
  family: FamilyOptions | undefined,
): Promise<AnalyseResult> {
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  const progress = progressReporter(o.progress && o.mi !== true);
  const ts = m.open();
  try {
    return await analyse(ts, names, {
      begin: o.begin,
      end: o.end,
      timerange: o.timerange,
      gmt: o.gmt,
      intersection: o.intersection,
      tids: intList('--tid', o.tid),
      procnames: splitList(o.procname),
      cpus: intList('--cpu', o.cpu),
      containers: o.container,
      containerTypes: o.containerType,
      host: o.host,
      filter: o.filter,
      event: o.event,
      exclude: o.exclude,
      partial,
      family,
      unmatched: several ? 'return' : 'error',
      streamRanges: () => streamRangesOf(ts),
      onProgress: progress.update,
      signal: ac.signal,
    });
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
    ts.close();
  }
}

/** The line that starts a machine's report when the traces come from several machines. */
export function machineHeading(m: MachineInput): string {
  const traces = m.machine.traces.map((t) => t.dir).join(', ');
  return `=== Machine ${m.label}: ${traces}`;
}

/** A LAMI table of one machine among several: its subtitle names the machine. */
export function inMachine(t: ResultTable, label: string): ResultTable {
  return {
    ...t,
    subtitle: t.subtitle === undefined ? `machine ${label}` : `machine ${label}: ${t.subtitle}`,
  };
}

/**
 * Runs an analysis command: `--mi --metadata`, else open, analyse, print: one report per
 * machine (src/model/machines.ts) when the traces come from several. In MI mode errors are
 * also written as a LAMI error object on stdout.
 */
export async function runAnalysisCommand(
  paths: readonly string[],
  o: AnalysisCliOptions,
  names: readonly AnalysisName[],
  meta: (version: string) => AnalysisMeta,
  render: Rendered,
  extra: { partial?: boolean; notice?: string; family?: FamilyOptions } = {},
): Promise<void> {
  if (o.metadata === true) {
    if (o.mi !== true) throw new UsageError('--metadata goes with --mi');
    process.stdout.write(pyJson(metadataJson(meta(VERSION))) + '\n');
    return;
  }
  try {
    if (paths.length === 0) throw new UsageError('give the path of a trace');
    if (extra.notice !== undefined) process.stderr.write(`nstrace: ${extra.notice}\n`);
    const machines = machineInputs(paths);
    const several = machines.length > 1;
    if (several) {
      process.stderr.write(
        `nstrace: the traces come from ${machines.length} machines (${machines.map((m) => m.label).join(', ')}): ` +
          'one report each\n',
      );
    }
    const miTables: ResultTable[] = [];
    const unmatched: string[] = [];
    const missing: MissingEventsError[] = [];
    let shown = 0;
    for (const m of machines) {
      const prefix = several ? `${m.label}: ` : '';
      let result: AnalyseResult;
      try {
        result = await analyseMachine(m, o, names, extra.partial, several, extra.family);
      } catch (e) {
        // One machine among several without the events (a host that sent userspace traces
        // only): the others are still reported.
        if (!several || !(e instanceof MissingEventsError)) throw e;
        missing.push(e);
        warn(`${prefix}not analysed: ${e.message}`);
        continue;
      }
      for (const w of m.warnings) warn(prefix + w);
      for (const w of result.warnings) warn(prefix + w);
      const um = result.unmatched ?? [];
      if (um.length > 0) unmatched.push(um.map((u) => prefix + u).join('; '));
      const ro: ReportOptions = { base: result.base, gmt: o.gmt ?? false, limit: o.limit };
      if (o.mi === true) {
        const tables = result.summary.periodBegin === undefined ? [] : render.mi(result, ro);
        miTables.push(...(several ? tables.map((t) => inMachine(t, m.label)) : tables));
      } else {
        if (several) process.stdout.write(`${shown++ === 0 ? '' : '\n'}${machineHeading(m)}\n`);
        // Names read as lttng-analyses reads them keep invalid UTF-8 bytes (surrogateescape).
        if (result.summary.periodBegin !== undefined)
          process.stdout.write(pyTextBytes(render.text(result, ro)));
        else if (several) process.stdout.write('(no event in the requested time range)\n');
      }
    }
    if (missing.length === machines.length) throw missing[0]!;
    // A selector that matched nothing on every machine analysed is a typo; on some, a warning.
    if (several && unmatched.length > 0 && unmatched.length === machines.length - missing.length)
      throw new UsageError(unmatched.join('; '));
    for (const u of unmatched) warn(u);
    if (o.mi === true) process.stdout.write(pyJson(resultsJson(miTables)) + '\n');
  } catch (err) {
    if (o.mi === true && err instanceof NstraceError) {
      process.stdout.write(pyJson(errorJson(err.message)) + '\n');
    }
    throw err;
  }
}
