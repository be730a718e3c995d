/**
 * Stream intersection as babeltrace 1 computes it for lttng-analyses (which uses it unless
 * `--no-intersection`): per trace, the range from the latest first-packet begin to the earliest
 * last-packet end over its streams; events outside their trace's range are skipped (bounds
 * included). A trace with an empty stream gets no range (nothing skipped). When no trace has a
 * non-empty range, the trace set has no intersection.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { StreamInstance, TimeBase } from '../ctf/event.js';
import { parseIndexFile, type IndexEntry } from '../ctf/index-file.js';

/** Time range of a stream's packets, ns relative to the trace set base. */
export interface StreamRange {
  /** `timestamp_begin` of the first packet. */
  readonly begin: number;
  /** `timestamp_end` of the last packet. */
  readonly end: number;
}

export interface Windows {
  /** Lower and upper bound per stream index (inclusive). */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
}

export type IntersectionResult =
  | { kind: 'ok'; windows: Windows }
  | { kind: 'none' }
  /** Some stream's packet range could not be known. */
  | { kind: 'unknown'; why: string };

/**
 * Ranges from the LTTng index files (`index/<stream file>.idx`), when every file of the stream
 * has one that describes it whole; undefined otherwise (the packet headers tell then). An index
 * that cannot be read as LTTng's (Trace Compass writes its own under the same name), or whose
 * last packet does not end where the data file ends (a trace still being written, a partial
 * copy), is not used.
 */
export function rangeFromIndex(stream: StreamInstance, base: TimeBase): StreamRange | undefined {
  const clock = stream.clock;
  if (clock === undefined || stream.files.length === 0) return undefined;
  let first: bigint | undefined;
  let last: bigint | undefined;
  for (const f of stream.files) {
    const idx = join(dirname(f), 'index', basename(f) + '.idx');
    let entries: IndexEntry[];
    let size: number;
    try {
      entries = parseIndexFile(readFileSync(idx), idx).entries;
      size = statSync(f).size;
    } catch {
      return undefined;
    }
    const lastEntry = entries[entries.length - 1];
    if ((lastEntry === undefined ? 0 : lastEntry.offset + lastEntry.packetSize / 8) !== size)
      return undefined;
    if (lastEntry === undefined) continue;
    const b = entries[0]!.timestampBegin;
    const e = lastEntry.timestampEnd;
    if (first === undefined || b < first) first = b;
    if (last === undefined || e > last) last = e;
  }
  if (first === undefined || last === undefined) return undefined;
  const toRel = (cycles: bigint): number => {
    const freq = BigInt(clock.freq);
    const offNs =
      BigInt(Math.trunc(clock.offsetSeconds)) * 1_000_000_000n +
      (BigInt(Math.trunc(clock.offsetCycles)) * 1_000_000_000n) / freq +
      (stream.trace.clockShiftNs ?? 0n);
    const abs = offNs + (cycles * 1_000_000_000n) / freq;
    return Number(abs - (BigInt(base.seconds) * 1_000_000_000n + BigInt(base.ns)));
  };
  return { begin: toRel(first), end: toRel(last) };
}

/**
 * The per-trace windows. `ranges[i]` is the range of stream index i, `null` for a stream with
 * no packet, undefined when unknown.
 */
export function intersect(
  streams: readonly StreamInstance[],
  ranges: ReadonlyArray<StreamRange | null | undefined>,
): IntersectionResult {
  const byTrace = new Map<unknown, StreamInstance[]>();
  for (const s of streams) {
    let l = byTrace.get(s.trace);
    if (l === undefined) {
      l = [];
      byTrace.set(s.trace, l);
    }
    l.push(s);
  }
  const n = streams.reduce((m, s) => Math.max(m, s.index + 1), 0);
  const lo = new Float64Array(n).fill(-Infinity);
  const hi = new Float64Array(n).fill(Infinity);
  let anyOk = false;
  for (const list of byTrace.values()) {
    let b = -Infinity;
    let e = Infinity;
    let empty = false;
    for (const s of list) {
      const r = ranges[s.index];
      if (r === undefined) return { kind: 'unknown', why: `no packet index for ${s.files[0] ?? 'a stream'}` };
      if (r === null) {
        empty = true;
        break;
      }
      if (r.begin > b) b = r.begin;
      if (r.end < e) e = r.end;
    }
    if (empty) continue;
    if (b <= e) anyOk = true;
    for (const s of list) {
      lo[s.index] = b;
      hi[s.index] = e;
    }
  }
  return anyOk ? { kind: 'ok', windows: { lo, hi } } : { kind: 'none' };
}
