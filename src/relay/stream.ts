/**
 * The relay's sessions, their CTF traces and their streams (session -> trace -> stream), and
 * what each stream has written to disk: its data (or metadata) file, with `--tracefile-size` a
 * rotating set of them (tracefile.ts), its index file(s), and the index halves waiting for
 * their other half (the data connection brings a packet, the control connection its index).
 * Owned by `RelayState` (state.ts, seen here as a `StreamHost`); runs on the one Node event loop.
 */
import { ftruncateSync, mkdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  encodeIndexHeader,
  INDEX_ENTRY_SIZE_1_0,
  INDEX_ENTRY_SIZE_1_1,
  INDEX_HEADER_SIZE,
} from '../ctf/index-file.js';
import { U64_NONE } from './codec.js';
import type { FdCache } from './fdcache.js';
import { CachedFile, readAt, writeAllv } from './fdcache.js';
import type { BudgetHolder, MemoryBudget } from './limits.js';
import { PENDING_INDEX_COST, STREAM_COST } from './limits.js';
import type { LogFn, RelayCounters, TraceChunk } from './types.js';
import type { PendingIndex, Tracefile } from './tracefile.js';
import { closeIdx, flushTracefileIdx, newTracefile } from './tracefile.js';

export const DIR_MODE = 0o770;
const ZEROS = Buffer.alloc(256 * 1024);

export class Session {
  /** Set when the control connection is gone. */
  connectionClosed = false;
  /** The live viewer attached to this session, if any (one at most, as in lttng-relayd). */
  viewer: object | null = null;
  /** Set when streams were published (or got their first packet) since a viewer last asked. */
  newStreams = false;
  readonly traces = new Map<string, CtfTrace>();
  readonly streams: RelayStream[] = [];
  unpublished: RelayStream[] = [];
  currentChunk: TraceChunk | null = null;
  openStreams = 0;
  /** Data connections that carried packets for this session. */
  readonly dataConns = new Set<{ dead: boolean }>();

  constructor(
    readonly id: number,
    readonly name: string,
    readonly hostname: string,
    readonly basePath: string,
    readonly liveTimer: number,
    readonly snapshot: boolean,
    readonly sessiondUuid: string,
    readonly sessiondSessionId: number,
    readonly creationTime: number,
    readonly minor: number,
    /** Relative to the output directory. */
    readonly outputPath: string,
    /** Absolute. */
    readonly dir: string,
  ) {}
}

export class CtfTrace {
  readonly streams: RelayStream[] = [];
  metadataStream: RelayStream | null = null;
  metadataStreamSentToViewer = false;
  /** The attached viewer's stream for this trace's metadata (for NEW_METADATA flags). */
  viewerMetadata: { metadataSent: number } | null = null;

  constructor(
    readonly id: number,
    readonly session: Session,
    readonly pathname: string,
  ) {}
}

/** What a stream uses of the relay that owns it (`RelayState`, state.ts). */
export interface StreamHost {
  readonly files: FdCache;
  readonly budget: MemoryBudget;
  readonly counters: RelayCounters;
  readonly options: { readonly orphanTimeoutMs?: number };
  readonly log: LogFn;
  /** The stream has queued writes (see `RelayState.flushDirty`). */
  markDirty(stream: RelayStream): void;
  streamClosed(stream: RelayStream): void;
}

/** Bound on index halves waiting for their data, per stream (a peer cannot grow it forever). */
const MAX_PENDING_INDEXES = 1 << 16;

export class RelayStream {
  /** The current data (or metadata) file; null once closed. */
  file: CachedFile | null = null;
  fileSize = 0;
  /** The tracefile being written (a stream without `--tracefile-size` has only this one). */
  current: Tracefile = newTracefile(0);
  /** Payload bytes counted against `--tracefile-size` in the current tracefile. */
  private tracefileBytes = 0;
  /**
   * With `--tracefile-size`: where each index entry went, in the order entries were written
   * (entry number `indexBase + i` is `order[i]`), for live viewers.
   */
  private order: { file: Tracefile; local: number }[] = [];
  private indexBase = 0;
  private readonly oldTracefiles: Tracefile[] = [];
  /** Sequence numbers (u64, -1 = none) as in lttng-relayd. */
  prevDataSeq = -1;
  prevIndexSeq = -1;
  lastNetSeqNum = -1;
  closeRequested = false;
  closed = false;
  published = false;
  dataPendingCheckDone = false;
  metadataReceived = 0;
  /** Timestamp of the last live beacon, U64_NONE if none since the last real index. */
  beaconTsEnd: bigint = U64_NONE;
  /** CTF stream class id of the last index (live INACTIVE replies carry it). */
  ctfStreamId = 0n;
  /** Index entries written (what live serves). */
  indexReceivedSeqcount = 0;
  private readonly pending = new Map<number, PendingIndex>();
  /** The data connection currently in the middle of a packet for this stream. */
  writer: object | null = null;
  /** Data bytes appended but not yet written (see RelayState.flushDirty). */
  private wq: Buffer[] = [];
  private wqBytes = 0;
  /** The data connection that last sent a packet for this stream. */
  dataConn: { dead: boolean } | null = null;
  private giveUpTimer: NodeJS.Timeout | null = null;
  packetsWritten = 0;
  bytesWritten = 0;
  /**
   * Who pays for this stream's memory in the relay's budget: the control connection that
   * added it (its pending index halves and the stream itself).
   */
  holder: BudgetHolder | null = null;

  constructor(
    readonly handle: number,
    readonly trace: CtfTrace,
    readonly channelName: string,
    readonly pathname: string,
    readonly tracefileSize: number,
    readonly tracefileCount: number,
    readonly dir: string,
    readonly state: StreamHost,
  ) {}

  get session(): Session {
    return this.trace.session;
  }

  get isMetadata(): boolean {
    return this.channelName === 'metadata';
  }

  /** Entry size of this session's index files (1.0 before peer minor 8). */
  get indexEntrySize(): number {
    return this.session.minor >= 8 ? INDEX_ENTRY_SIZE_1_1 : INDEX_ENTRY_SIZE_1_0;
  }

  get tracefile(): number {
    return this.current.number;
  }

  dataFileName(tracefile = this.tracefile): string {
    return this.tracefileSize > 0 ? `${this.channelName}_${tracefile}` : this.channelName;
  }

  dataFilePath(tracefile = this.tracefile): string {
    return join(this.dir, this.dataFileName(tracefile));
  }

  indexFilePath(tracefile = this.tracefile): string {
    return join(this.dir, 'index', `${this.dataFileName(tracefile)}.idx`);
  }

  /** Creates (truncates) the data or metadata file; called at ADD_STREAM. */
  open(): void {
    mkdirSync(this.dir, { recursive: true, mode: DIR_MODE });
    this.file = new CachedFile(this.dataFilePath(), this.state.files);
    this.fileSize = 0;
  }

  // ------------------------------------------------------------------ data path

  /**
   * Called when a data header arrives: rotates the tracefile if needed and returns the offset
   * at which the packet will be written.
   */
  beginPacket(dataSize: number): number {
    if (this.tracefileSize > 0) {
      // lttng-relayd's accounting: payload bytes only (not the padding), and a new file as
      // soon as the packet would not fit, even into an empty one.
      if (this.tracefileBytes + dataSize > this.tracefileSize) this.nextTracefile();
      this.tracefileBytes += dataSize;
    }
    return this.fileSize;
  }

  /**
   * Appends payload pieces and `padding` zero bytes at the end of the data file. The bytes are
   * queued and written by `flush()` (one `writev` per stream per socket read, see
   * `RelayState.flushDirty`). Large padding extends the file with `ftruncate` instead (the
   * hole reads as zeros), so an absurd padding field costs no memory and no copying.
   */
  append(pieces: Buffer[], padding: number): void {
    // Closed under a data connection that was still sending (memory budget, orphan timeout).
    if (this.file === null) return;
    let total = 0;
    for (const b of pieces) {
      if (b.length === 0) continue;
      this.wq.push(b);
      total += b.length;
    }
    let tail = padding;
    if (padding > 0 && padding <= ZEROS.length) {
      this.wq.push(ZEROS.subarray(0, padding));
      total += padding;
      tail = 0;
    }
    this.wqBytes += total;
    this.fileSize += total;
    if (tail > 0) {
      this.flushData();
      this.fileSize += tail;
      ftruncateSync(this.file!.fd, this.fileSize);
    }
    this.bytesWritten += total + tail;
    this.state.markDirty(this);
  }

  /** Writes what is queued for this stream's data and index files. */
  flush(): void {
    this.flushData();
    this.flushIdx();
  }

  private flushData(): void {
    if (this.wqBytes === 0) return;
    const bufs = this.wq;
    const n = this.wqBytes;
    this.wq = [];
    this.wqBytes = 0;
    writeAllv(this.file!.fd, bufs, this.fileSize - n, n);
  }

  private flushIdx(): void {
    flushTracefileIdx(this.current);
    for (const t of this.oldTracefiles) flushTracefileIdx(t);
  }

  /** Drops a packet that was only partly received: cuts the file back to `offset`. */
  truncateTo(offset: number): void {
    if (this.file === null) return;
    this.flushData();
    if (this.fileSize > offset) {
      ftruncateSync(this.file.fd, offset);
      this.fileSize = offset;
    }
  }

  /** A data packet with `netSeq` is completely on disk at `offset` of the current tracefile. */
  packetWritten(netSeq: number, offset: number): void {
    this.prevDataSeq = netSeq;
    this.packetsWritten++;
    this.state.counters.packetsReceived++;
    if (this.packetsWritten === 1) this.session.newStreams = true;
    if (this.session.minor >= 4 && !this.session.snapshot) {
      const p = this.pending.get(netSeq);
      if (this.current.idx === null && !this.current.gone) this.openIndexFile(this.current);
      this.current.refs++;
      if (p === undefined) {
        if (this.pending.size >= MAX_PENDING_INDEXES) this.dropOldestDataOnly();
        this.setPending(netSeq, { file: this.current, offset, hasData: true, control: null });
      } else {
        p.file = this.current;
        p.offset = offset;
        p.hasData = true;
        this.flushIndex(netSeq, p);
      }
    }
    this.tryClose();
  }

  /** SEND_INDEX: `body` is the 80 (or 64) byte payload. */
  indexReceived(netSeq: number, body: Buffer): void {
    if (body.readUInt32BE(16) === 0 && body.readUInt32BE(20) === 0) {
      // packet_size 0: a live beacon, "no event in this stream up to timestamp_end".
      if (this.indexReceivedSeqcount > 0 && this.indexesInFlight() === 0) {
        this.beaconTsEnd = body.readBigUInt64BE(40);
      }
      return;
    }
    this.beaconTsEnd = U64_NONE;
    // The index entry is the SEND_INDEX payload from packet_size on, after the offset.
    const entrySize = this.indexEntrySize;
    const entry = Buffer.allocUnsafe(entrySize);
    body.copy(entry, 8, 16, 16 + entrySize - 8);
    const p = this.pending.get(netSeq);
    if (p === undefined) {
      if (this.pending.size >= MAX_PENDING_INDEXES) {
        throw new RangeError(`stream ${this.handle}: more than ${MAX_PENDING_INDEXES} indexes without data`);
      }
      this.setPending(netSeq, { file: null, offset: 0, hasData: false, control: entry });
    } else {
      p.control = entry;
      this.flushIndex(netSeq, p);
    }
  }

  /** A sender that never sends indexes must not make the pending map grow forever. */
  private dropOldestDataOnly(): void {
    for (const [seq, p] of this.pending) {
      if (p.hasData && p.control === null) {
        this.dropPending(seq, p);
        return;
      }
    }
  }

  private dropPending(seq: number, p: PendingIndex): void {
    this.deletePending(seq);
    if (p.file !== null) this.release(p.file);
  }

  /** The pending map, with every entry charged to the stream's holder. */
  private setPending(seq: number, p: PendingIndex): void {
    this.pending.set(seq, p);
    if (this.holder !== null) this.state.budget.add(this.holder, PENDING_INDEX_COST);
  }

  private deletePending(seq: number): void {
    if (this.pending.delete(seq) && this.holder !== null) {
      this.state.budget.sub(this.holder, PENDING_INDEX_COST);
    }
  }

  private clearPending(): void {
    if (this.holder !== null) this.state.budget.sub(this.holder, this.pending.size * PENDING_INDEX_COST);
    this.pending.clear();
  }

  /** One pending packet of `t` is settled; an old tracefile nobody waits on gets closed. */
  private release(t: Tracefile): void {
    t.refs--;
    if (t.refs <= 0 && t !== this.current && t.idx !== null) {
      flushTracefileIdx(t);
      closeIdx(t);
      const i = this.oldTracefiles.indexOf(t);
      if (i >= 0) this.oldTracefiles.splice(i, 1);
    }
  }

  private indexesInFlight(): number {
    return this.pending.size;
  }

  /** Both halves of a packet's index are in: queue the entry for its tracefile's index. */
  private flushIndex(netSeq: number, p: PendingIndex): void {
    this.deletePending(netSeq);
    const entry = p.control!;
    const t = p.file!;
    if (t.gone || t.idx === null) {
      // Its tracefile has been overwritten since (--tracefile-count): nothing to index.
      this.release(t);
      return;
    }
    entry.writeUInt32BE(Math.floor(p.offset / 0x100000000), 0);
    entry.writeUInt32BE(p.offset >>> 0, 4);
    t.queue.push(entry);
    if (this.tracefileSize > 0) this.order.push({ file: t, local: t.count });
    t.idxSize += entry.length;
    t.count++;
    this.indexReceivedSeqcount++;
    // Indexes come in packet order from real senders; if not, never move backwards.
    if (netSeq > this.prevIndexSeq) this.prevIndexSeq = netSeq;
    this.ctfStreamId = entry.readBigUInt64BE(48);
    this.state.counters.indexesWritten++;
    this.state.markDirty(this);
    this.release(t);
  }

  private openIndexFile(t: Tracefile): void {
    const dir = join(this.dir, 'index');
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    t.idx = new CachedFile(this.indexFilePath(t.number), this.state.files);
    const hdr = encodeIndexHeader(this.session.minor >= 8 ? 1 : 0);
    writeSync(t.idx.fd, hdr, 0, hdr.length, 0);
    t.idxSize = hdr.length;
  }

  private nextTracefile(): void {
    this.flush();
    this.file?.close();
    const old = this.current;
    let next = old.number + 1;
    if (this.tracefileCount > 0) next %= this.tracefileCount;
    // The file we are about to reuse is gone, with whatever still pointed into it.
    for (const t of [old, ...this.oldTracefiles]) {
      if (t.number !== next) continue;
      t.gone = true;
      closeIdx(t);
      t.queue = [];
    }
    this.oldTracefiles.splice(0, this.oldTracefiles.length, ...this.oldTracefiles.filter((t) => !t.gone));
    if (!old.gone) {
      if (old.refs > 0) this.oldTracefiles.push(old);
      else closeIdx(old);
    }
    this.current = newTracefile(next);
    for (const path of [this.dataFilePath(), this.indexFilePath()]) {
      try {
        unlinkSync(path);
      } catch {
        // not there yet
      }
    }
    this.file = new CachedFile(this.dataFilePath(), this.state.files);
    this.fileSize = 0;
    this.tracefileBytes = 0;
    // As lttng-relayd: the new tracefile's index exists from the start.
    this.openIndexFile(this.current);
    // Forget index entries nobody can read any more.
    let drop = 0;
    while (drop < this.order.length && this.order[drop]!.file.gone) drop++;
    if (drop > 0) {
      this.order = this.order.slice(drop);
      this.indexBase += drop;
    }
  }

  /** Metadata: appends one metadata packet (plus its padding). */
  appendMetadata(payload: Buffer, padding: number): void {
    this.append([payload], padding);
    this.metadataReceived += payload.length + padding;
  }

  /** RESET_METADATA: start the metadata file over. */
  resetMetadata(): void {
    this.flushData();
    ftruncateSync(this.file!.fd, 0);
    this.fileSize = 0;
    this.metadataReceived = 0;
    this.prevDataSeq = 0;
    this.prevIndexSeq = 0;
  }

  /** Reads `len` bytes at `offset` of tracefile `t` (viewers). Short reads allowed. */
  read(t: Tracefile, offset: number, len: number): Buffer {
    if (t.gone) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(len);
    const fd = this.file !== null && t === this.current ? this.file.fd : -1;
    const got = readAt(fd, this.dataFilePath(t.number), out, len, offset);
    return got === len ? out : out.subarray(0, got);
  }

  /** Reads index entry number `seq` (per-stream count from 0), or null if it is not readable. */
  readIndexEntry(seq: number): { entry: Buffer; file: Tracefile } | null {
    let file: Tracefile;
    let local: number;
    if (this.tracefileSize > 0) {
      const o = this.order[seq - this.indexBase];
      if (o === undefined || o.file.gone) return null;
      file = o.file;
      local = o.local;
    } else {
      file = this.current;
      local = seq;
      if (seq >= file.count) return null;
    }
    const entrySize = this.indexEntrySize;
    const entry = Buffer.alloc(entrySize);
    const pos = INDEX_HEADER_SIZE + local * entrySize;
    const fd = file.idx !== null ? file.idx.fd : -1;
    try {
      if (readAt(fd, this.indexFilePath(file.number), entry, entrySize, pos) !== entrySize) return null;
    } catch {
      return null;
    }
    return { entry, file };
  }

  /** Sequence number of the oldest index entry still readable. */
  oldestReadableSeq(): number {
    if (this.tracefileSize === 0) return 0;
    let i = 0;
    while (i < this.order.length && this.order[i]!.file.gone) i++;
    return this.indexBase + i;
  }

  // ------------------------------------------------------------------ closing

  /** All data up to the last packet the sender announced has arrived. */
  dataComplete(): boolean {
    return this.lastNetSeqNum === -1 || this.prevDataSeq - this.lastNetSeqNum >= 0;
  }

  /** CLOSE_STREAM: close now or as soon as the data up to `lastNetSeq` is on disk. */
  requestClose(lastNetSeq: number): void {
    this.lastNetSeqNum = lastNetSeq;
    this.closeRequested = true;
    this.tryClose();
  }

  /** The control connection went away without CLOSE_STREAM (lttng-relayd's rules). */
  connectionClosed(): void {
    if (this.closed) return;
    if (!this.closeRequested) {
      // Packets whose index will never come stay in the data file but get no index entry;
      // indexes still waiting for their data tell how far the data goes.
      let last = -1;
      for (const [seq, p] of this.pending) {
        if (p.hasData && p.control === null) this.dropPending(seq, p);
        else if (p.control !== null && (last === -1 || seq - last > 0)) last = seq;
      }
      this.lastNetSeqNum = last;
      this.closeRequested = true;
    }
    this.tryClose();
  }

  tryClose(): void {
    if (this.closed || !this.closeRequested) return;
    if (this.writer !== null) return;
    if (!this.dataComplete()) {
      // Data still to come, unless the connection that carried it is gone (a consumer has
      // one data connection for all streams of a session).
      const conns = this.dataConn !== null ? [this.dataConn] : [...this.session.dataConns];
      if (conns.length > 0 && conns.every((c) => c.dead)) {
        this.abandon('its data connection is gone');
      } else if (this.session.connectionClosed && this.giveUpTimer === null) {
        // The sender is gone and we cannot tell whether its data connection is: do not keep
        // the files open forever.
        const ms = this.state.options.orphanTimeoutMs ?? 30_000;
        this.giveUpTimer = setTimeout(() => this.abandon(`no data for ${ms} ms after its sender left`), ms);
        this.giveUpTimer.unref();
      }
      return;
    }
    this.close();
  }

  /** Closes although the announced data never fully arrived. */
  abandon(why: string, log = true): void {
    if (this.closed) return;
    if (log)
      this.state.log(
        'warn',
        `stream ${this.pathname}/${this.channelName} of ${this.session.hostname}/${this.session.name}: ` +
          `closed before packet ${this.lastNetSeqNum} arrived (${why})`,
      );
    this.close();
  }

  /** Releases files and forgets the handle (viewers may still read what was written). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.giveUpTimer !== null) clearTimeout(this.giveUpTimer);
    this.giveUpTimer = null;
    try {
      this.flush();
    } catch (err) {
      this.state.log(
        'error',
        `stream ${this.pathname}/${this.channelName}: write failed: ${(err as Error).message}`,
      );
    }
    this.file?.close();
    this.file = null;
    for (const t of [this.current, ...this.oldTracefiles]) closeIdx(t);
    this.oldTracefiles.length = 0;
    this.clearPending();
    if (this.holder !== null) this.state.budget.sub(this.holder, STREAM_COST);
    this.state.streamClosed(this);
  }

  /** Packets whose data is on disk but whose index never came. */
  unindexedPackets(): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.hasData && p.control === null) n++;
    return n;
  }
}
