/**
 * The `print` loop: records from a trace set, through the optional trimmer, into the printer.
 */
import type { TimeBase, TraceRecord } from '../ctf/event.js';
import type { PrettyOptions } from './options.js';
import type { ClockOffset } from './clock.js';
import type { PrettySink } from './pretty.js';
import { PrettyPrinter } from './pretty.js';
import type { TimeBound } from './time.js';
import { TRIM_END, Trimmer } from './time.js';

/** What `print` reads: a `TraceSet` or anything shaped like it. */
export interface RecordSource {
  readonly base: TimeBase;
  next(): TraceRecord | null;
}

export interface PrintRun {
  readonly pretty: PrettyOptions;
  readonly begin?: TimeBound | undefined;
  readonly end?: TimeBound | undefined;
  /** Bounds given as dates/times of day are UTC (`--clock-gmt`), else local time. */
  readonly gmt?: boolean | undefined;
  /** Decode everything but print nothing (babeltrace2's `-o dummy`). */
  readonly dummy?: boolean | undefined;
  /** `--clock-offset`/`--clock-offset-ns` given to the reader (for exact far times). */
  readonly clockOffset?: ClockOffset | undefined;
}

export interface PrintStats {
  events: number;
  discarded: number;
}

/**
 * Prints every record of `source` to `sink`. On a read error, what was printed before it is
 * flushed first (babeltrace2 writes every line before it fails), then the error is thrown.
 */
export async function printRecords(
  source: RecordSource,
  run: PrintRun,
  sink: PrettySink,
): Promise<PrintStats> {
  const stats: PrintStats = { events: 0, discarded: 0 };
  const printer = new PrettyPrinter(run.pretty, source.base, sink, run.clockOffset);
  const trimmer =
    run.begin !== undefined || run.end !== undefined
      ? new Trimmer(run.begin, run.end, run.gmt ?? false, source.base)
      : undefined;
  try {
    for (let rec = source.next(); rec !== null; rec = source.next()) {
      let r: TraceRecord | null | typeof TRIM_END = rec;
      if (trimmer !== undefined) {
        r = trimmer.filter(rec);
        if (r === TRIM_END) break;
        if (r === null) continue;
      }
      if (r.kind === 'event') stats.events++;
      else stats.discarded++;
      if (run.dummy) continue;
      const wait = printer.print(r);
      if (wait !== undefined) await wait;
    }
  } finally {
    const wait = printer.flush();
    if (wait !== undefined) await wait;
  }
  return stats;
}
