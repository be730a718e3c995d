/**
 * The relay's state: sessions, their CTF traces and streams (the objects: stream.ts), and what
 * each stream has written to disk. Both the control/data receivers and the live server work on
 * these objects; all of it runs on the one Node event loop, so no locking is needed, but every
 * mutation must leave the objects consistent before returning.
 *
 * On disk (lttng-relayd's layout): `<output>/<session output path>/<pathname>/<channel>` per
 * data stream, `<pathname>/metadata` for the metadata stream, and
 * `<pathname>/index/<channel>.idx` with one 72-byte entry per packet (each stream's files:
 * stream.ts).
 */
import { join } from 'node:path';
import { defaultFileBudget, FdCache } from './fdcache.js';
import type { BudgetHolder } from './limits.js';
import { DEFAULT_MEMORY_BUDGET, MemoryBudget, STREAM_COST } from './limits.js';
import { escapeControls } from './logtext.js';
import type { GroupBy } from './paths.js';
import { makeDirs, removeDirs, sessionOutputPath, uniqueDir } from './paths.js';
import { CtfTrace, DIR_MODE, RelayStream, Session } from './stream.js';
import type { LogFn, RelayCounters, TraceChunk } from './types.js';

export interface RelayStateOptions {
  outputDir: string;
  /** Stream and index files kept open at once (default: half the open-files limit). */
  maxOpenFiles?: number;
  groupBy: GroupBy;
  log: LogFn;
  /** Log every control and live command and reply (debug level). */
  traceProtocol?: boolean;
  /**
   * How long a stream whose sender left waits for data it announced (an index without its
   * packet) before it is closed anyway. Default 30 s.
   */
  orphanTimeoutMs?: number;
  /** Bytes held for peers (see limits.ts). Default 192 MiB. */
  memoryBudget?: number;
}

/** Key of a sessiond's trace chunk: all relay sessions of one sessiond session share them. */
function chunkKey(uuid: string, sessiondSessionId: number, chunkId: number): string {
  return `${uuid}:${sessiondSessionId}:${chunkId}`;
}

/** Trace chunks open at once per sessiond session (a real one has one, two while rotating). */
const MAX_OPEN_CHUNKS = 64;

export class RelayState {
  readonly sessions = new Map<number, Session>();
  /** Open streams by handle (the data connection has no other context). */
  readonly streams = new Map<number, RelayStream>();
  readonly chunks = new Map<string, TraceChunk>();
  readonly counters: RelayCounters = {
    bytesReceived: 0,
    packetsReceived: 0,
    metadataBytesReceived: 0,
    indexesWritten: 0,
    sessionsCreated: 0,
    streamsCreated: 0,
    connectionsAccepted: 0,
    protocolErrors: 0,
    closedByLimits: 0,
    connectionsRefused: 0,
  };
  /** Streams with queued writes. */
  private readonly dirty = new Set<RelayStream>();
  private flushScheduled = false;
  private nextSessionId = 1;
  private nextStreamHandle = 1;
  private nextTraceId = 1;
  private nextViewerSessionId = 1;
  /** Output directories claimed in this run, by sessiond uuid + sessiond session id. */
  private readonly dirClaims = new Map<string, string>();
  private readonly claimedDirs = new Set<string>();

  readonly files: FdCache;
  /** Memory held for peers (see limits.ts). */
  readonly budget: MemoryBudget;
  /** The caller's log function, with names from peers made harmless (control characters escaped). */
  readonly log: LogFn;
  /** Open (unclosed) trace chunks per sessiond session. */
  private readonly chunkCounts = new Map<string, number>();

  constructor(readonly options: RelayStateOptions) {
    this.files = new FdCache(options.maxOpenFiles ?? defaultFileBudget());
    this.budget = new MemoryBudget(options.memoryBudget ?? DEFAULT_MEMORY_BUDGET);
    const log = options.log;
    this.log = (level, msg) => log(level, escapeControls(msg));
  }

  markDirty(stream: RelayStream): void {
    this.dirty.add(stream);
    if (!this.flushScheduled) {
      // Connections flush at the end of each callback; this catches any other path (timers).
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flushDirty();
      });
    }
  }

  /**
   * Writes every stream's queued data and index bytes. Called at the end of every socket
   * callback, so that no other callback (a live viewer's) ever sees an index entry or a
   * counter ahead of the files.
   */
  flushDirty(): void {
    if (this.dirty.size === 0) return;
    const streams = [...this.dirty];
    this.dirty.clear();
    for (const st of streams) {
      if (st.closed) continue;
      try {
        st.flush();
      } catch (err) {
        this.counters.protocolErrors++;
        this.log(
          'error',
          `${st.session.outputPath}/${st.pathname}/${st.channelName}: write failed: ${(err as Error).message}`,
        );
      }
    }
  }

  allocViewerSessionId(): number {
    return this.nextViewerSessionId++;
  }

  createSession(p: {
    name: string;
    hostname: string;
    basePath: string;
    liveTimer: number;
    snapshot: boolean;
    sessiondUuid: string;
    sessiondSessionId: number;
    creationTime: number;
    nameContainsCreationTime: boolean;
    minor: number;
  }): Session {
    const claimKey = `${p.sessiondUuid}:${p.sessiondSessionId}`;
    let rel = this.dirClaims.get(claimKey);
    if (rel === undefined) {
      const wanted = sessionOutputPath(
        {
          sessionName: p.name,
          hostname: p.hostname,
          basePath: p.basePath,
          creationTime: p.creationTime,
          sessionNameContainsCreationTime: p.nameContainsCreationTime,
        },
        this.options.groupBy,
      );
      rel = uniqueDir(this.options.outputDir, wanted, (r) => this.claimedDirs.has(r));
    }
    // Only what this attempt created is removed again if a level cannot be created (a name
    // too long with its date suffix, a full disk): no empty host directory is left behind.
    makeDirs(this.options.outputDir, rel, DIR_MODE);
    this.dirClaims.set(claimKey, rel);
    this.claimedDirs.add(rel);
    const dir = join(this.options.outputDir, rel);
    const s = new Session(
      this.nextSessionId++,
      p.name,
      p.hostname,
      p.basePath,
      p.liveTimer,
      p.snapshot,
      p.sessiondUuid,
      p.sessiondSessionId,
      p.creationTime,
      p.minor,
      rel,
      dir,
    );
    this.sessions.set(s.id, s);
    this.counters.sessionsCreated++;
    return s;
  }

  addStream(
    session: Session,
    channelName: string,
    pathname: string,
    tracefileSize: number,
    tracefileCount: number,
    holder: BudgetHolder | null = null,
  ): RelayStream {
    const dir = join(session.dir, pathname);
    // As for sessions: directories created for a stream whose file cannot be created go again.
    const created = makeDirs(session.dir, pathname, DIR_MODE);
    let trace = session.traces.get(pathname);
    const stream = new RelayStream(
      this.nextStreamHandle,
      trace ?? new CtfTrace(this.nextTraceId, session, pathname),
      channelName,
      pathname,
      tracefileSize,
      tracefileCount,
      dir,
      this,
    );
    try {
      stream.open();
    } catch (err) {
      removeDirs(created);
      throw err;
    }
    this.nextStreamHandle++;
    if (trace === undefined) {
      trace = stream.trace;
      this.nextTraceId++;
      session.traces.set(pathname, trace);
    }
    stream.holder = holder;
    if (holder !== null) this.budget.add(holder, STREAM_COST);
    trace.streams.push(stream);
    if (stream.isMetadata) trace.metadataStream = stream;
    session.streams.push(stream);
    session.unpublished.push(stream);
    session.openStreams++;
    this.streams.set(stream.handle, stream);
    this.counters.streamsCreated++;
    return stream;
  }

  /** STREAMS_SENT: viewers may now see every stream added so far. */
  publishStreams(session: Session): void {
    for (const s of session.unpublished) s.published = true;
    if (session.unpublished.length > 0 && session.viewer !== null) session.newStreams = true;
    session.unpublished = [];
  }

  getChunk(uuid: string, sessiondSessionId: number, chunkId: number): TraceChunk | undefined {
    return this.chunks.get(chunkKey(uuid, sessiondSessionId, chunkId));
  }

  /** Records an open chunk; false when the sessiond session already has too many open. */
  putChunk(uuid: string, sessiondSessionId: number, chunk: TraceChunk): boolean {
    const owner = `${uuid}:${sessiondSessionId}`;
    const n = this.chunkCounts.get(owner) ?? 0;
    if (n >= MAX_OPEN_CHUNKS) return false;
    this.chunks.set(chunkKey(uuid, sessiondSessionId, chunk.id), chunk);
    this.chunkCounts.set(owner, n + 1);
    return true;
  }

  deleteChunk(uuid: string, sessiondSessionId: number, chunkId: number): void {
    if (!this.chunks.delete(chunkKey(uuid, sessiondSessionId, chunkId))) return;
    const owner = `${uuid}:${sessiondSessionId}`;
    const n = (this.chunkCounts.get(owner) ?? 1) - 1;
    if (n <= 0) this.chunkCounts.delete(owner);
    else this.chunkCounts.set(owner, n);
  }

  streamClosed(stream: RelayStream): void {
    this.streams.delete(stream.handle);
    const s = stream.session;
    s.openStreams--;
    this.maybeForgetSession(s);
  }

  /** Control connection of `session` is gone. */
  sessionConnectionClosed(session: Session): void {
    if (session.connectionClosed) return;
    session.connectionClosed = true;
    for (const st of session.streams) st.connectionClosed();
    this.maybeForgetSession(session);
  }

  /** Drops a session nobody can reach any more (closed, all streams closed, no viewer). */
  maybeForgetSession(session: Session): void {
    if (session.connectionClosed && session.openStreams === 0 && session.viewer === null) {
      this.sessions.delete(session.id);
      // Chunks of a sessiond session are forgotten with its last relay session.
      let shared = false;
      for (const o of this.sessions.values()) {
        if (o.sessiondUuid === session.sessiondUuid && o.sessiondSessionId === session.sessiondSessionId)
          shared = true;
      }
      if (!shared) {
        const owner = `${session.sessiondUuid}:${session.sessiondSessionId}`;
        const prefix = `${owner}:`;
        for (const k of [...this.chunks.keys()]) if (k.startsWith(prefix)) this.chunks.delete(k);
        this.chunkCounts.delete(owner);
        // Its directory exists now, so `uniqueDir` keeps later sessions out of it anyway.
        const rel = this.dirClaims.get(owner);
        this.dirClaims.delete(owner);
        if (rel !== undefined) this.claimedDirs.delete(rel);
      }
    }
  }

  /** Live sessions visible to viewers (control connection still up). */
  visibleSessions(): Session[] {
    return [...this.sessions.values()].filter((s) => !s.connectionClosed);
  }

  /** Closes every stream's files (daemon shutdown). */
  closeAll(): void {
    for (const st of [...this.streams.values()]) {
      st.writer = null;
      st.close();
    }
  }
}
