/**
 * A stream's tracefiles: one data file and its index file each (`--tracefile-size` rotates
 * through several), with the index entries queued for writing, and the index halves waiting
 * for their other half.
 */
import type { CachedFile } from './fdcache.js';
import { writeAllv } from './fdcache.js';

/**
 * One data file of a stream and its index file. A stream has one; with `--tracefile-size` it
 * gets a new one each time the current is full (`CHANNEL_0`, `CHANNEL_1`, ... and their
 * `.idx`), and with `--tracefile-count` the oldest are overwritten.
 */
export interface Tracefile {
  readonly number: number;
  /** Index file (null until created or once closed), bytes and entries written or queued. */
  idx: CachedFile | null;
  idxSize: number;
  queue: Buffer[];
  count: number;
  /** Packets whose index half may still come for this file. */
  refs: number;
  /** Overwritten by a later tracefile with the same number. */
  gone: boolean;
}

/** The half of an index entry each connection brings. */
export interface PendingIndex {
  /** Data half: the tracefile the packet was written to, and its offset there. */
  file: Tracefile | null;
  offset: number;
  hasData: boolean;
  /**
   * Control half: the index entry built from SEND_INDEX (packet_size .. packet_seq_num at 8..),
   * its offset filled in once the data half is known; null until SEND_INDEX comes.
   */
  control: Buffer | null;
}

export function newTracefile(n: number): Tracefile {
  return { number: n, idx: null, idxSize: 0, queue: [], count: 0, refs: 0, gone: false };
}

export function flushTracefileIdx(t: Tracefile): void {
  if (t.queue.length === 0 || t.idx === null) return;
  const bufs = t.queue;
  t.queue = [];
  let n = 0;
  for (const b of bufs) n += b.length;
  writeAllv(t.idx.fd, bufs, t.idxSize - n, n);
}

export function closeIdx(t: Tracefile): void {
  t.idx?.close();
  t.idx = null;
}
