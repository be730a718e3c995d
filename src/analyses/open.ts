/**
 * Opening traces for the analyses (the CTF reader), and the trace mode of `nstrace containers`.
 */
import { TraceSet } from '../ctf/index.js';
import type { TimeBase } from '../ctf/event.js';
import type { ContainersOptions, TraceContainerInfo } from './containers.js';
import type { StreamRange } from './intersection.js';
import { rangeFromIndex } from './intersection.js';
import { containersOfSource } from './containers.js';

/**
 * Opens every trace below `paths` as one time-ordered set, simultaneous events in the order
 * babeltrace 1 gives them to lttng-analyses (docs/analyses.md).
 */
export function openTraces(paths: readonly string[]): TraceSet {
  return TraceSet.open(paths, { order: 'babeltrace1' });
}

/** The containers seen in the traces below `paths` (the host first). */
export async function listTraceContainers(
  paths: readonly string[],
  opts: ContainersOptions = {},
): Promise<TraceContainerInfo[]> {
  const ts = openTraces(paths);
  try {
    return await containersOfSource(ts, opts);
  } finally {
    ts.close();
  }
}

/**
 * First-packet begin and last-packet end of every stream of `ts` (by stream index): from the
 * LTTng index files when every stream has them, else from the packet headers (traces written
 * without index files, e.g. by babeltrace 1's writer). `null` for a stream without timestamps.
 */
export function streamRangesOf(ts: {
  streams: TraceSet['streams'];
  base: TimeBase;
  streamRanges(): Array<StreamRange | null>;
}): Array<StreamRange | null> {
  const fromIndex = ts.streams.map((s) => rangeFromIndex(s, ts.base));
  if (fromIndex.every((r) => r !== undefined)) return fromIndex as StreamRange[];
  const scanned = ts.streamRanges();
  return ts.streams.map((_, i) => fromIndex[i] ?? scanned[i] ?? null);
}
