/** Shared helpers of the text-printer tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TraceRecord } from '../../src/ctf/event.js';
import type { PrintCliOptions, PrettyOptions, TerminalInfo } from '../../src/text/options.js';
import { prettyOptionsFromCli } from '../../src/text/options.js';
import { PRETTY_TUNING, PrettyPrinter } from '../../src/text/pretty.js';
import type { SynthRecords } from './synth.js';

export const NO_TERMINAL: TerminalInfo = {
  term: undefined,
  termColor: undefined,
  stdoutIsTty: false,
  stderrIsTty: false,
  toStdout: true,
};

export function cliOptions(cli: PrintCliOptions): PrettyOptions {
  return prettyOptionsFromCli(cli, NO_TERMINAL);
}

/** babeltrace2 arguments for the same options. */
export function bt2Args(cli: PrintCliOptions): string[] {
  const a: string[] = [];
  for (const n of cli.names ?? []) a.push(`--names=${n}`);
  for (const f of cli.fields ?? []) a.push(`--fields=${f}`);
  if (cli.noDelta) a.push('--no-delta');
  if (cli.clockCycles) a.push('--clock-cycles');
  if (cli.clockSeconds) a.push('--clock-seconds');
  if (cli.clockDate) a.push('--clock-date');
  if (cli.clockGmt) a.push('--clock-gmt');
  if (cli.color !== undefined) a.push(`--color=${cli.color}`);
  return a;
}

/**
 * Runs the printer over records; returns stdout and stderr text. Prints twice, with shared
 * formatters and with hot (constant-inlined) ones from the first event, and checks both agree.
 */
export function printRecords(
  recs: SynthRecords | { base: SynthRecords['base']; records: TraceRecord[] },
  opts: PrettyOptions,
): { out: string; err: string } {
  const a = printOnce(recs, opts);
  const saved = PRETTY_TUNING.hotEvents;
  PRETTY_TUNING.hotEvents = 1;
  try {
    const b = printOnce(recs, opts);
    if (a.out !== b.out || a.err !== b.err) throw new Error('hot and shared formatters disagree');
  } finally {
    PRETTY_TUNING.hotEvents = saved;
  }
  return a;
}

function printOnce(
  recs: SynthRecords | { base: SynthRecords['base']; records: TraceRecord[] },
  opts: PrettyOptions,
): { out: string; err: string } {
  const out: Buffer[] = [];
  let err = '';
  const p = new PrettyPrinter(
    opts,
    recs.base,
    {
      out: (c) => {
        out.push(Buffer.from(c));
      },
      err: (t) => {
        err += t;
      },
    },
    undefined,
    64, // small chunks: exercise chunking
  );
  for (const r of recs.records) void p.print(r);
  void p.flush();
  return { out: Buffer.concat(out).toString('latin1'), err };
}

/**
 * undefined when equal, else a description of the first differing line. Strings are byte
 * strings (the printer's output).
 */
export function firstDifference(actual: Buffer | string, expected: Buffer | string): string | undefined {
  const a = typeof actual === 'string' ? Buffer.from(actual, 'latin1') : actual;
  const e = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : expected;
  if (a.equals(e)) return undefined;
  const al = a.toString('latin1').split('\n');
  const el = e.toString('latin1').split('\n');
  for (let i = 0; i < Math.max(al.length, el.length); i++) {
    if (al[i] !== el[i]) {
      const show = (s: string | undefined): string =>
        s === undefined ? '<none>' : JSON.stringify(Buffer.from(s, 'latin1').toString('utf8'));
      return `line ${i + 1} differs (nstrace has ${al.length - 1} lines, babeltrace2 ${el.length - 1}):\n  nstrace:     ${show(al[i])}\n  babeltrace2: ${show(el[i])}`;
    }
  }
  return 'outputs differ';
}

export function withTmpDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'nstrace-text-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
