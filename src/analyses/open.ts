/**
 * Opening traces for the analyses (the CTF reader), and the trace mode of `nstrace containers`.
 */
import { TraceSet } from '../ctf/index.js';
import type { TimeBase } from '../ctf/event.js';
import type { ContainersOptions, TraceContainerInfo } from './containers.js';
import type { StreamRange } from './intersection.js';
import { rangeFromIndex } from './intersection.js';
import { containersOfSource } from './containers.js';

/** Opens every trace below `paths` as one time-ordered set. */
export function openTraces(paths: readonly string[]): TraceSet {
  return TraceSet.open(paths);
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
 * First-packet begin and last-packet end of every stream of the trace set opened from `paths`
 * (same stream indexes as `ts`): from the LTTng index files when every stream has them, else by
 * reading the traces once more (traces written without index files, e.g. by babeltrace 1's
 * writer). `null` for a stream without events.
 */
export function streamRangesOf(
  paths: readonly string[],
  ts: { streams: TraceSet['streams']; base: TimeBase },
): Array<StreamRange | null> {
  const fromIndex = ts.streams.map((s) => rangeFromIndex(s, ts.base));
  if (fromIndex.every((r) => r !== undefined)) return fromIndex as StreamRange[];
  const lo = new Array<number>(ts.streams.length).fill(Infinity);
  const hi = new Array<number>(ts.streams.length).fill(-Infinity);
  const again = TraceSet.open(paths);
  try {
    for (let r = again.next(); r !== null; r = again.next()) {
      if (r.kind !== 'event') continue;
      const i = r.stream.index;
      const p = r.packet;
      const b = p.beginTs ?? r.ts;
      const e = p.endTs ?? r.ts;
      if (b < lo[i]!) lo[i] = b;
      if (e > hi[i]!) hi[i] = e;
    }
  } finally {
    again.close();
  }
  return ts.streams.map(
    (_, i) => fromIndex[i] ?? (lo[i] === Infinity ? null : { begin: lo[i]!, end: hi[i]! }),
  );
}
