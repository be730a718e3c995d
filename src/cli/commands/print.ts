/**
 * `nstrace print`: the events of CTF traces as text, byte for byte what `babeltrace2 TRACE...`
 * (2.0.4) writes, with babeltrace2's option names.
 */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { TraceSet } from '../../ctf/index.js';
import { colorsSupported, prettyOptionsFromCli } from '../../text/options.js';
import type { PrettySink } from '../../text/pretty.js';
import { printRecords } from '../../text/run.js';
import type { TimeBound } from '../../text/time.js';
import { parseTimeBound } from '../../text/time.js';
import { UsageError } from '../../util/errors.js';
import {
  type FilterOptionValues,
  addFilterOptions,
  buildRecordFilter,
  compileContainerMatcher,
  containerSelectionOf,
  filterRecords,
  needsContainerLookup,
} from '../../filter/index.js';
import { SystemModel } from '../../model/model.js';
import { laterKnowledgeMatters } from '../../model/lookup.js';
import { MachineLookup } from '../../model/machine-lookup.js';
import { collect } from './args.js';

interface PrintOptions extends FilterOptionValues {
  names?: string[];
  fields?: string[];
  delta: boolean;
  clockCycles?: boolean;
  clockSeconds?: boolean;
  clockDate?: boolean;
  clockGmt?: boolean;
  clockOffset?: string;
  clockOffsetNs?: string;
  color?: string;
  begin?: string;
  end?: string;
  timerange?: string;
  output?: string;
  outputFormat?: string;
}

const HELP_AFTER = `
Prints every event of the traces in time order, one line each, exactly like babeltrace2 2.0.4
(\`babeltrace2 TRACE...\`). TRACE is a trace directory (the one holding \`metadata\`) or a
directory above traces: every trace found below it is read. Lost events and packets are
reported on standard error, like babeltrace2.

Time formats for --begin/--end (local time unless --clock-gmt):
  YYYY-MM-DD hh:mm[:ss[.nnnnnnnnn]]   a date and time
  YYYY-MM-DD                         midnight of a date
  hh:mm[:ss[.nnnnnnnnn]]             a time on the day of the first event
  [-]SEC[.nnnnnnnnn]                 seconds from the clock origin (usually the Unix epoch)
Both bounds are inclusive.

Examples:
  nstrace print ~/lttng-traces/my-session            all traces of a session, merged by time
  nstrace print --clock-date --clock-gmt TRACE      UTC date and time on each line
  nstrace print -n all -f all TRACE                 every field name and header field
  nstrace print --begin 14:03:10 --end 14:03:12.5 TRACE
  nstrace print TRACE | grep sched_switch | head    (stops quietly when head exits)
  nstrace print --filter '$ctx.pid_ns != 4026531836 && fd >= 3' TRACE
                                                    events from other pid namespaces only
  nstrace print --container web --host TRACE        events of the tasks of container web and of the host
  nstrace print --filter '$container.type == "docker" && ret < 0' TRACE

Container options and $container use the system model replayed from the trace (twice for kernel
traces): an event belongs to the task that produced it (the task switched out, for sched_switch),
and a task to the container the whole trace says it ran in.
`;

export function register(program: Command): void {
  const cmd = program
    .command('print')
    .description('print the events of CTF traces as text, exactly like babeltrace2')
    .argument('<trace...>', 'trace directories (or directories above traces)')
    .option(
      '-n, --names <list>',
      'print field names: payload (arg, args), context (ctx), header, scope, all, none',
      collect,
    )
    .option(
      '-f, --fields <list>',
      'print additional fields: trace, trace:hostname, trace:domain, trace:procname, trace:vpid, loglevel, emf, callsite, all',
      collect,
    )
    .option('--no-delta', 'do not print the time since the previous event')
    .option('--clock-cycles', 'print timestamps in clock cycles')
    .option('--clock-seconds', 'print timestamps as SEC.NS instead of hh:mm:ss.nnnnnnnnn')
    .option('--clock-date', 'print the date too')
    .option('--clock-gmt', 'print and parse times in UTC instead of the local time zone (TZ)')
    .option('--clock-offset <sec>', 'add SEC seconds to every clock offset')
    .option('--clock-offset-ns <ns>', 'add NS nanoseconds to every clock offset')
    .addOption(
      new Option('--color <when>', 'colour codes: never, auto (terminals only), always').choices([
        'never',
        'auto',
        'always',
      ]),
    )
    .option('-b, --begin <time>', 'start at this time (see the formats below)')
    .option('-e, --end <time>', 'stop after this time')
    .option('-t, --timerange <range>', 'BEGIN,END or [BEGIN,END]')
    .option('-w, --output <path>', 'write the text to PATH instead of standard output')
    .addOption(
      new Option(
        '-o, --output-format <format>',
        'text, or dummy (read and decode everything, print nothing)',
      ).choices(['text', 'dummy']),
    )
    .addHelpText('after', HELP_AFTER);
  // After print's own options, so that -e stays babeltrace2's --end.
  addFilterOptions(cmd).action(async (paths: string[], opts: PrintOptions) => {
    await runPrint(paths, opts);
  });
}

function intOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[-+]?\d+$/.test(text.trim())) throw new UsageError(`${name} expects an integer, got '${text}'`);
  return Number(text);
}

async function runPrint(paths: string[], opts: PrintOptions): Promise<void> {
  let beginText = opts.begin;
  let endText = opts.end;
  if (opts.timerange !== undefined) {
    const m = /^\[?([^,\]]*),([^,\]]*)\]?$/.exec(opts.timerange.trim());
    if (!m)
      throw new UsageError(`invalid --timerange '${opts.timerange}' (expected BEGIN,END or [BEGIN,END])`);
    beginText = m[1]!.trim();
    endText = m[2]!.trim();
  }
  const gmt = opts.clockGmt === true;
  const terminal = {
    term: process.env.TERM,
    termColor: process.env.BABELTRACE_TERM_COLOR,
    stdoutIsTty: isRealTty(1),
    stderrIsTty: isRealTty(2),
    toStdout: opts.output === undefined,
  };
  // babeltrace2 resets the terminal's colours on both outputs when it exits.
  if (colorsSupported(terminal)) {
    process.once('exit', () => {
      writeSync(1, '\x1b[0m');
      writeSync(2, '\x1b[0m');
    });
  }
  const begin: TimeBound | undefined =
    beginText === undefined ? undefined : parseTimeBound(beginText, gmt, '--begin');
  const end: TimeBound | undefined =
    endText === undefined ? undefined : parseTimeBound(endText, gmt, '--end');
  if (begin?.kind === 'ns' && end?.kind === 'ns' && begin.ns > end.ns) {
    throw new UsageError('the --begin time is after the --end time');
  }
  const pretty = prettyOptionsFromCli(
    {
      names: opts.names,
      fields: opts.fields,
      noDelta: !opts.delta,
      clockCycles: opts.clockCycles,
      clockSeconds: opts.clockSeconds,
      clockDate: opts.clockDate,
      clockGmt: opts.clockGmt,
      color: opts.color,
    },
    terminal,
  );
  const clockOffsetSeconds = intOption('--clock-offset', opts.clockOffset);
  const clockOffsetNs = intOption('--clock-offset-ns', opts.clockOffsetNs);
  const openOptions = {
    ...(clockOffsetSeconds !== undefined ? { clockOffsetSeconds } : {}),
    ...(clockOffsetNs !== undefined ? { clockOffsetNs } : {}),
  };
  const set = TraceSet.open(paths, openOptions);
  let keep;
  let lookup: MachineLookup | undefined;
  let source: Parameters<typeof filterRecords>[0] = set;
  try {
    // The container model runs only when a selector, $container or $ctx.host_tid asks for it:
    // plain print stays a decode-and-format loop. One model per machine (src/model/machines.ts).
    if (needsContainerLookup(opts)) {
      lookup = new MachineLookup(() => new SystemModel(MODEL_OPTIONS));
      source = lookup.feed(set);
    }
    keep = buildRecordFilter(opts, set, {
      containers: lookup,
      onWarning: (m) => process.stderr.write(`nstrace: warning: ${m}\n`),
    });
    if (lookup !== undefined) {
      // Two replays when the trace can tell a task's container after its first events (a
      // container event after its tasks started, a statedump after tasks ran): the first reads
      // the whole trace, the second, as the events are printed, finds the task of each event
      // and answers with its final container (docs/adr/0180-one-filter-for-every-command.md).
      if (laterKnowledgeMatters(set)) lookup.useFinal(replayAll(paths, openOptions));
    }
  } catch (e) {
    set.close();
    throw e;
  }
  const fd = opts.output === undefined ? undefined : openOutput(opts.output);
  try {
    await printRecords(
      filterRecords(source, keep),
      {
        pretty,
        begin,
        end,
        gmt,
        dummy: opts.outputFormat === 'dummy',
        clockOffset: { seconds: clockOffsetSeconds ?? 0, ns: clockOffsetNs ?? 0 },
      },
      makeSink(fd),
    );
  } finally {
    set.close();
    if (fd !== undefined) closeSync(fd);
  }
  if (lookup !== undefined) warnUnmatched(opts, lookup);
}

/** The model needs no syscall or memory accounting to know containers. */
const MODEL_OPTIONS = { syscalls: false, memory: false };

/** Replays every record of the traces through new models (one per machine), and finishes them. */
function replayAll(paths: string[], options: Parameters<typeof TraceSet.open>[1]): MachineLookup {
  const models = new MachineLookup(() => new SystemModel(MODEL_OPTIONS));
  const set = TraceSet.open(paths, options);
  try {
    const src = models.feed(set);
    while (src.next() !== null);
  } finally {
    set.close();
  }
  models.finish();
  return models;
}

/** A `--container`/`--container-type` that selected no container of the trace is probably a typo. */
function warnUnmatched(opts: PrintOptions, lookup: MachineLookup): void {
  const m = compileContainerMatcher(containerSelectionOf(opts));
  for (const msg of lookup.unmatchedMessages(m)) process.stderr.write(`nstrace: warning: ${msg}\n`);
}
function openOutput(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

function isRealTty(fd: number): boolean {
  try {
    return (
      (fd === 1 ? process.stdout.isTTY : process.stderr.isTTY) === true && fstatSync(fd).isCharacterDevice()
    );
  } catch {
    return false;
  }
}

/**
 * The output: a file descriptor written synchronously (a file, /dev/null, `-w PATH`), or
 * standard output as a stream (pipes, terminals), waiting for each chunk to be written.
 */
function makeSink(fd: number | undefined): PrettySink {
  const err = (text: string): void => {
    process.stderr.write(Buffer.from(text, 'latin1'));
  };
  const syncFd = fd ?? (stdoutIsFile() ? 1 : undefined);
  if (syncFd !== undefined) {
    return {
      out: (chunk) => {
        let off = 0;
        while (off < chunk.length) off += writeSync(syncFd, chunk, off);
      },
      err,
    };
  }
  const out = process.stdout;
  return {
    out: (chunk) =>
      new Promise<void>((resolve, reject) => {
        out.write(chunk, (e) => (e ? reject(e) : resolve()));
      }),
    err,
  };
}

/** Standard output is a regular file or a non-terminal character device (/dev/null). */
function stdoutIsFile(): boolean {
  try {
    const st = fstatSync(1);
    return st.isFile() || (st.isCharacterDevice() && !process.stdout.isTTY);
  } catch {
    return false;
  }
}
