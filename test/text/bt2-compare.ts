/**
 * Comparing `nstrace print` with `babeltrace2` on real traces: running both, normalising the
 * one known babeltrace2 2.0.4 bug (docs/babeltrace2-deviations.md), reporting the first
 * differing line.
 */
import { TraceSet } from '../../src/ctf/index.js';
import type { PrintCliOptions } from '../../src/text/options.js';
import { printRecords } from '../../src/text/run.js';
import { parseTimeBound } from '../../src/text/time.js';
import { babeltrace2, BT2_ENV } from './synth.js';
import { bt2Args, cliOptions } from './helpers.js';

export interface PrintResult {
  out: Buffer;
  /** Standard error text (byte string). */
  err: string;
  error: Error | undefined;
}

export interface CompareOptions extends PrintCliOptions {
  begin?: string;
  end?: string;
  /** `--clock-offset` (seconds) and `--clock-offset-ns`. */
  clockOffset?: number;
  clockOffsetNs?: number;
}

/** `nstrace print` in this process (same code path as the CLI, text collected). */
export async function nstracePrint(paths: string[], cli: CompareOptions = {}): Promise<PrintResult> {
  const chunks: Buffer[] = [];
  let err = '';
  let error: Error | undefined;
  const gmt = cli.clockGmt === true;
  try {
    const set = TraceSet.open(paths, {
      ...(cli.clockOffset !== undefined ? { clockOffsetSeconds: cli.clockOffset } : {}),
      ...(cli.clockOffsetNs !== undefined ? { clockOffsetNs: cli.clockOffsetNs } : {}),
    });
    try {
      await printRecords(
        set,
        {
          pretty: cliOptions(cli),
          begin: cli.begin === undefined ? undefined : parseTimeBound(cli.begin, gmt),
          end: cli.end === undefined ? undefined : parseTimeBound(cli.end, gmt),
          gmt,
          clockOffset: { seconds: cli.clockOffset ?? 0, ns: cli.clockOffsetNs ?? 0 },
        },
        { out: (c) => void chunks.push(Buffer.from(c)), err: (t) => void (err += t) },
      );
    } finally {
      set.close();
    }
  } catch (e) {
    error = e as Error;
  }
  return { out: Buffer.concat(chunks), err, error };
}

export function bt2Print(
  paths: string[],
  cli: CompareOptions = {},
  env = BT2_ENV,
): ReturnType<typeof babeltrace2> {
  const args = bt2Args(cli);
  if (cli.begin !== undefined) args.push(`--begin=${cli.begin}`);
  if (cli.end !== undefined) args.push(`--end=${cli.end}`);
  if (cli.clockOffset !== undefined) args.push(`--clock-offset=${cli.clockOffset}`);
  if (cli.clockOffsetNs !== undefined) args.push(`--clock-offset-ns=${cli.clockOffsetNs}`);
  return babeltrace2([...args, ...paths], env);
}

/**
 * babeltrace2 2.0.4 shows stale text for an empty string (docs/babeltrace2-deviations.md):
 * where nstrace prints `""`, babeltrace2 may print an earlier event's string. True when
 * babeltrace2's line equals ours except that some of our `""` are other strings there.
 */
export function differsOnlyByStaleText(ours: string, bt2: string): boolean {
  if (!ours.includes('""')) return false;
  const QUOTED = /"(?:[^"\\]|\\.)*"/g;
  let re = '^';
  let last = 0;
  for (const m of ours.matchAll(QUOTED)) {
    re += escapeRe(ours.slice(last, m.index)) + (m[0] === '""' ? '"(?:[^"\\\\]|\\\\.)*"' : escapeRe(m[0]));
    last = m.index + m[0].length;
  }
  re += escapeRe(ours.slice(last)) + '$';
  return new RegExp(re, 's').test(bt2);
}

function escapeRe(t: string): string {
  return t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface Comparison {
  /** undefined when identical (after the allowed normalisation). */
  diff: string | undefined;
  /** Lines that differed only by babeltrace2's stale-text bug. */
  staleTextLines: number;
}

/** Compares outputs line by line (bytes, latin1), allowing only the stale-text normalisation. */
export function compareOutputs(ours: Buffer, theirs: Buffer): Comparison {
  if (ours.equals(theirs)) return { diff: undefined, staleTextLines: 0 };
  const a = ours.toString('latin1').split('\n');
  const b = theirs.toString('latin1').split('\n');
  let stale = 0;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x !== undefined && y !== undefined && differsOnlyByStaleText(x, y)) {
      stale++;
      continue;
    }
    const show = (s: string | undefined): string =>
      s === undefined ? '<no line>' : JSON.stringify(Buffer.from(s, 'latin1').toString('utf8')).slice(0, 600);
    return {
      diff: `line ${i + 1} (nstrace ${a.length - 1} lines, babeltrace2 ${b.length - 1}):\n  nstrace:     ${show(x)}\n  babeltrace2: ${show(y)}`,
      staleTextLines: stale,
    };
  }
  return { diff: undefined, staleTextLines: stale };
}

/** babeltrace2's lost-items warnings (its other stderr lines are logging). */
export function warningLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('WARNING: ') || l.startsWith('[warning] '));
}
