/**
 * `nstrace spans --begin EVENT --end EVENT [--match FIELD] TRACE...`: application spans and
 * where their time went per container (src/analyses/spans*.ts), one report per machine.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { errorJson, metadataJson, pyJson, resultsJson } from '../../analyses/format/lami.js';
import type { ResultTable } from '../../analyses/format/lami.js';
import { machineInputs, streamRangesOf } from '../../analyses/open.js';
import { spansMeta, spansMi, spansText } from '../../analyses/spans-report.js';
import type { SpansReportOptions } from '../../analyses/spans-report.js';
import { analyseSpans } from '../../analyses/spans-run.js';
import type { FilterOptionValues } from '../../filter/index.js';
import { addFilterOptions } from '../../filter/index.js';
import { NstraceError, UsageError } from '../../util/errors.js';
import { VERSION } from '../version.js';
import { inMachine, machineHeading, selectors, warn, withMachine } from './analysis-shared.js';

interface SpansCliOptions extends FilterOptionValues {
  begin: string;
  end: string;
  match?: string;
  timerange?: string;
  gmt?: boolean;
  limit: number;
  progress: boolean;
  mi?: boolean;
  metadata?: boolean;
}

const HELP = `
A span is the time between a --begin event and the next --end event of the same thread (with
--match, the --end event whose FIELD has the begin event's value). For userspace events the
thread is found on the host through their pid_ns and vtid contexts, so record the application
with:  lttng add-context --userspace --type=vpid --type=vtid --type=pid_ns
and the host kernel (scheduling, wakeups, system calls, statedump) with nstrace record, or
lttng enable-event --kernel sched_switch,sched_waking,sched_wakeup,sched_migrate_task,sched_process_fork,\\
'lttng_statedump_*' --syscall --all. For each span the kernel tells the time on a CPU, the time
runnable but waiting for a CPU (and which container ran on that CPU meanwhile: Preempted by),
and the time blocked (and in which system call). Traces of several machines (relay output
directories) give one report per machine; a relay's directory is read whole.
--container, --container-type and --host select spans by the container of their thread;
--filter, -e/--event and --exclude apply to the begin events (--filter 'id < 100').

Examples:
  nstrace spans --begin myapp:request_begin --end myapp:request_end /srv/traces
  nstrace spans --begin myapp:req_start --end myapp:req_done --match id --container web TRACE...
  nstrace spans --begin myapp:request_begin --end myapp:request_end --mi /srv/traces > spans.json
`;

export function register(program: Command): void {
  const cmd = program
    .command('spans')
    .description(
      'Application spans (a begin and an end event per request) and where their time went per ' +
        'container: on CPU, waiting for a CPU (behind which noisy neighbour), blocked (in which system call)',
    )
    .argument('[trace...]', 'trace directories: kernel and userspace traces, or a relay output directory')
    .option('--begin <event>', 'the event that begins a span (e.g. myapp:request_begin)')
    .option('--end <event>', 'the event that ends it')
    .option('--match <field>', 'pair begin and end events by the value of this field of both')
    .option('--timerange <range>', 'only spans that begin in [begin,end] (lttng-analyses date formats)')
    .option('--gmt', 'show and read times in UTC rather than local time')
    .option('--no-progress', 'no progress bar')
    .option('--mi', 'LAMI 1.0 JSON output')
    .option('--metadata', 'with --mi: print the LAMI metadata document and exit');
  cmd.addOption(
    new Option('--limit <n>', 'rows of the slowest-spans table (0: all)')
      .default(10)
      .argParser((v: string) => {
        if (!/^\d+$/.test(v)) throw new UsageError(`--limit must be an integer, not '${v}'`);
        return Number(v);
      }),
  );
  addFilterOptions(cmd);
  cmd.addHelpText('after', HELP);
  cmd.action(async (paths: string[], o: SpansCliOptions) => {
    await runSpans(paths, o);
  });
}

async function runSpans(paths: string[], o: SpansCliOptions): Promise<void> {
  if (o.metadata === true) {
    if (o.mi !== true) throw new UsageError('--metadata goes with --mi');
    process.stdout.write(pyJson(metadataJson(spansMeta(VERSION))) + '\n');
    return;
  }
  try {
    if (o.begin === undefined || o.end === undefined)
      throw new UsageError('spans needs --begin EVENT and --end EVENT (see nstrace spans --help)');
    if (paths.length === 0) throw new UsageError('give the path of a trace');
    const machines = machineInputs(paths);
    const several = machines.length > 1;
    const tables: ResultTable[] = [];
    let found = 0;
    const unmatched: string[] = [];
    const seen: string[] = [];
    for (const m of machines) {
      const prefix = several ? `${m.label}: ` : '';
      const run = await withMachine(m, o.progress && o.mi !== true, (ts, onProgress, signal) =>
        analyseSpans(ts, {
          // (An option: `streamRangesOf` falls back on the set's own `streamRanges`.)
          streamRanges: () => streamRangesOf(ts),
          begin: o.begin,
          end: o.end,
          match: o.match,
          timerange: o.timerange,
          gmt: o.gmt,
          ...selectors(o),
          onProgress,
          signal,
        }),
      );
      if (run.result === undefined) {
        seen.push(`${m.label}: ${run.events}`);
        continue;
      }
      found++;
      for (const w of m.warnings) warn(prefix + w);
      for (const w of run.warnings) warn(prefix + w);
      if (run.unmatched.length > 0) unmatched.push(prefix + run.unmatched.join('; '));
      const ro: SpansReportOptions = {
        base: run.base,
        gmt: o.gmt ?? false,
        limit: o.limit,
        begin: o.begin,
        end: o.end,
        match: o.match,
      };
      if (o.mi === true) {
        const t = spansMi(run, ro);
        tables.push(...(several ? t.map((x) => inMachine(x, m.label)) : t));
      } else {
        if (several) process.stdout.write(`${found > 1 ? '\n' : ''}${machineHeading(m)}\n`);
        process.stdout.write(spansText(run, ro));
      }
    }
    if (found === 0) {
      throw new UsageError(
        `no trace has both ${o.begin} and ${o.end} events; the traces have ${seen.join('; ')}`,
      );
    }
    if (unmatched.length === found) throw new UsageError(unmatched.join('; '));
    for (const u of unmatched) warn(u);
    if (o.mi === true) process.stdout.write(pyJson(resultsJson(tables)) + '\n');
  } catch (err) {
    if (o.mi === true && err instanceof NstraceError)
      process.stdout.write(pyJson(errorJson(err.message)) + '\n');
    throw err;
  }
}
