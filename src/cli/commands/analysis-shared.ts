/**
 * What the analysis commands (`top`, `cputop`, `memtop`, `syscallstats`, the lttng-analyses
 * families) share: options (those of lttng-analyses plus the filter module's: `--filter`,
 * `-e/--event`, `--exclude`, `--container`, `--container-type`, `--host`), one analysis per
 * machine with progress and Ctrl-C (progress.ts), warnings, and text or LAMI output.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { reportString, type ReportText } from '../../analyses/format/common.js';
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
import { collect, intArg } from './args.js';
import { withProgress } from './progress.js';
import type { TraceSet } from '../../ctf/index.js';

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

/** `nstrace NAME [trace...]`: an analysis command over the traces below the directories given. */
export function traceCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('[trace...]', 'trace directories (every trace below them is read)');
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

export interface Rendered {
  text: (r: AnalyseResult, o: ReportOptions) => ReportText;
  mi: (r: AnalyseResult, o: ReportOptions) => ResultTable[];
}

/**
 * The renderers of one analysis's report: `pick` takes its result out of the session's,
 * `options` makes its report options from the common ones.
 */
export function rendered<R, O>(
  pick: (r: AnalyseResult) => R,
  options: (r: AnalyseResult, ro: ReportOptions) => O,
  text: (x: R, o: O) => ReportText,
  mi: (x: R, o: O) => ResultTable[],
): Rendered {
  return {
    text: (r, ro) => text(pick(r), options(r, ro)),
    mi: (r, ro) => mi(pick(r), options(r, ro)),
  };
}

/** The tasks and events the filter options select, as `analyse` and `analyseSpans` take them. */
export function selectors(o: FilterOptionValues): {
  containers: FilterOptionValues['container'];
  containerTypes: FilterOptionValues['containerType'];
  host: FilterOptionValues['host'];
  filter: FilterOptionValues['filter'];
  event: FilterOptionValues['event'];
  exclude: FilterOptionValues['exclude'];
} {
  return {
    containers: o.container,
    containerTypes: o.containerType,
    host: o.host,
    filter: o.filter,
    event: o.event,
    exclude: o.exclude,
  };
}

/**
 * Opens machine `m`'s traces for `work` with a progress bar and Ctrl-C (`withProgress`), and
 * closes them again.
 */
export function withMachine<T>(
  m: MachineInput,
  progress: boolean,
  work: (ts: TraceSet, onProgress: (done: number, total: number) => void, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  return withProgress(progress, async (onProgress, signal) => {
    const ts = m.open();
    try {
      return await work(ts, onProgress, signal);
    } finally {
      ts.close();
    }
  });
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
  return withMachine(m, o.progress && o.mi !== true, (ts, onProgress, signal) =>
    analyse(ts, names, {
      begin: o.begin,
      end: o.end,
      timerange: o.timerange,
      gmt: o.gmt,
      intersection: o.intersection,
      tids: intList('--tid', o.tid),
      procnames: splitList(o.procname),
      cpus: intList('--cpu', o.cpu),
      ...selectors(o),
      partial,
      family,
      unmatched: several ? 'return' : 'error',
      streamRanges: () => streamRangesOf(ts),
      onProgress,
      signal,
    }),
  );
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
          writeReportText(render.text(result, ro), (b) => {
            process.stdout.write(b);
            // Nothing left queued: the stream (a file, a pipe on Linux) wrote the bytes at once.
            return process.stdout.writableLength === 0;
          });
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

/** Output pieces of about this many characters (one write each). */
const WRITE_PIECE = 64 * 1024;

/**
 * Writes a report's text as lttng-analyses would print it: names keep their invalid UTF-8
 * bytes (surrogateescape, `pyTextBytes`). Lines go out in pieces of about 64 K characters as
 * they are joined, never as one string of the whole text, each encoded into the same buffer:
 * a fresh buffer per piece costs more in page faults than the encoding (iolog writes 28 MB).
 * `write` says whether it is done with the bytes when it returns (else the buffer is not reused).
 */
export function writeReportText(t: ReportText, write: (b: Buffer) => boolean): void {
  if (typeof t === 'string' || t.lines.length === 0) {
    write(pyTextBytes(reportString(t)));
    return;
  }
  let buf: Buffer | undefined;
  const emit = (text: string): void => {
    if (/[\ud800-\udfff]/.test(text)) {
      write(pyTextBytes(text));
      return;
    }
    // At most 3 bytes of UTF-8 per UTF-16 unit outside surrogate pairs.
    const need = text.length * 3;
    if (buf === undefined || buf.length < need)
      buf = Buffer.allocUnsafeSlow(Math.max(need, 2 * (buf?.length ?? 0), 8 * WRITE_PIECE));
    const n = buf.write(text, 0, 'utf8');
    if (!write(buf.subarray(0, n))) buf = undefined;
  };
  let piece: string[] = [];
  let size = 0;
  for (const line of t.lines) {
    piece.push(line);
    size += line.length + 1;
    if (size >= WRITE_PIECE) {
      piece.push('');
      emit(piece.join('\n'));
      piece = [];
      size = 0;
    }
  }
  if (piece.length > 0) {
    piece.push('');
    emit(piece.join('\n'));
  }
}
