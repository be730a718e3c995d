/**
 * Opening traces for the analyses (the CTF reader), and the trace mode of `nstrace containers`.
 */
import { TraceSet } from '../ctf/reader.js';
import type { ContainersOptions, TraceContainerInfo } from './containers.js';
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
