/**
 * The control connection (port 5342): `lttng-sessiond` sets the session up on it and hands it
 * to `lttng-consumerd`, which adds streams, sends metadata and packet indexes, and polls for
 * data still in flight. Request/response, strictly in order; SEND_METADATA has no reply.
 */
import type { Socket } from 'node:net';
import {
  AddStream211,
  agreedMinor,
  BeginDataPending,
  CloseStream,
  CloseTraceChunk,
  CloseTraceChunkReply,
  CreateSession211,
  CreateSessionReply211,
  CreateTraceChunk,
  cstring,
  DataPending,
  EndDataPending,
  GenericReply,
  GetConfiguration,
  GetConfigurationReply,
  LttngErr,
  MAX_CONTROL_PAYLOAD,
  MetadataPayload,
  QuiescentControl,
  readCString,
  RELAYD_INDEX_SIZE_1_0,
  RELAYD_MIN_MINOR,
  RelaydCommand,
  RelaydHdr,
  RelaydIndex,
  ResetMetadata,
  ROTATE_STREAMS_HDR_SIZES,
  StatusStream,
  StreamRotationPosition,
  TraceChunkExists,
  TraceChunkExistsReply,
  readU64n,
  versionMessage,
  VersionMsg,
} from './codec.js';
import { type CommandHeader, type Conn, ProtocolError, RequestConn } from './conn.js';
import { isSafeComponent, safeRelativePath } from './paths.js';
import type { RelayState } from './state.js';
import type { RelayStream, Session } from './stream.js';

const MAX_CHANNEL_NAME = 264;
const MAX_PATHNAME = 4096;
/** LTTNG_NAME_MAX, with its NUL. */
const MAX_CHUNK_NAME = 256;

/** Generic replies by code, shared (never modified after creation). */
const REPLIES = new Map<number, Buffer>();

/** `min` of two u64 sequence numbers where -1 stands for all-ones (the largest). */
function u64min(a: number, b: number): number {
  if (a === -1) return b;
  if (b === -1) return a;
  return Math.min(a, b);
}

export class ControlConnection extends RequestConn {
  private minor = -1;
  session: Session | null = null;
  private warnedRotation = false;

  constructor(sock: Socket, state: RelayState, onGone: (c: Conn) => void) {
    super(sock, state, 'control', onGone, RelaydHdr.size);
  }

  protected readHeader(b: Buffer): CommandHeader {
    const h = RelaydHdr.decode(b);
    if (h.data_size < 0 || h.data_size > MAX_CONTROL_PAYLOAD) {
      throw new ProtocolError(`command ${h.cmd}: payload size ${h.data_size} exceeds ${MAX_CONTROL_PAYLOAD}`);
    }
    return { cmd: h.cmd, size: h.data_size };
  }

  describeCommand(): string {
    if (this.hdr === null) return `a command header (${this.q.length} of ${RelaydHdr.size} bytes)`;
    return `command ${this.hdr.cmd} (${this.q.length} of ${this.hdr.size} payload bytes)`;
  }

  hasSession(): boolean {
    return this.session !== null;
  }

  /** Evicted for memory: its session's streams stop waiting for data (their state is freed). */
  protected override releaseHeld(reason: string): void {
    const s = this.session;
    if (s === null) return;
    const open = s.streams.filter((st) => !st.closed);
    if (open.length === 0) return;
    this.state.log(
      'warn',
      `session ${this.describeSession(s)}: closing its ${open.length} streams: ${reason}`,
    );
    for (const st of open) st.abandon('memory budget', false);
  }

  protected onClose(): void {
    if (this.session !== null) {
      this.state.log('info', `session ${this.describeSession(this.session)}: control connection closed`);
      this.state.sessionConnectionClosed(this.session);
    }
  }

  private describeSession(s: Session): string {
    return `${s.hostname}/${s.name} (#${s.id})`;
  }

  private reply(code: number): void {
    let b = REPLIES.get(code);
    if (b === undefined) {
      b = GenericReply.encode({ ret_code: code });
      REPLIES.set(code, b);
    }
    this.send(b);
  }

  private need(payload: Buffer, size: number, what: string): void {
    if (payload.length < size)
      throw new ProtocolError(`${what}: payload of ${payload.length} bytes, need ${size}`);
  }

  /** The payload of command `what` decoded as `s` (a shorter payload is a protocol error). */
  private decode<T>(payload: Buffer, s: { readonly size: number; decode(b: Buffer): T }, what: string): T {
    this.need(payload, s.size, what);
    return s.decode(payload);
  }

  private requireSession(what: string): Session {
    if (this.session === null) throw new ProtocolError(`${what} before CREATE_SESSION`);
    return this.session;
  }

  private stream(id: number): RelayStream | undefined {
    const s = this.state.streams.get(id);
    // A peer only ever talks about streams of its own session.
    if (s !== undefined && this.session !== null && s.session !== this.session) return undefined;
    return s;
  }

  protected dispatch(cmd: number, p: Buffer): void {
    if (this.minor < 0 && cmd !== RelaydCommand.VERSION) {
      throw new ProtocolError(`command ${cmd} before VERSION`);
    }
    switch (cmd) {
      case RelaydCommand.VERSION:
        return this.cmdVersion(p);
      case RelaydCommand.GET_CONFIGURATION:
        return this.cmdGetConfiguration(p);
      case RelaydCommand.CREATE_SESSION:
        return this.cmdCreateSession(p);
      case RelaydCommand.CREATE_TRACE_CHUNK:
        return this.cmdCreateTraceChunk(p);
      case RelaydCommand.ADD_STREAM:
        return this.cmdAddStream(p);
      case RelaydCommand.STREAMS_SENT:
        this.state.publishStreams(this.requireSession('STREAMS_SENT'));
        return this.reply(LttngErr.OK);
      case RelaydCommand.SEND_METADATA:
        return this.cmdSendMetadata(p);
      case RelaydCommand.SEND_INDEX:
        return this.cmdSendIndex(p);
      case RelaydCommand.CLOSE_STREAM:
        return this.cmdCloseStream(p);
      case RelaydCommand.DATA_PENDING:
        return this.cmdDataPending(p);
      case RelaydCommand.QUIESCENT_CONTROL: {
        const s = this.stream(this.decode(p, QuiescentControl, 'QUIESCENT_CONTROL').stream_id);
        if (s !== undefined) s.dataPendingCheckDone = true;
        return this.reply(LttngErr.OK);
      }
      case RelaydCommand.BEGIN_DATA_PENDING: {
        const s = this.state.sessions.get(this.decode(p, BeginDataPending, 'BEGIN_DATA_PENDING').session_id);
        if (s !== undefined) for (const st of s.streams) st.dataPendingCheckDone = false;
        return this.reply(LttngErr.OK);
      }
      case RelaydCommand.END_DATA_PENDING:
        return this.cmdEndDataPending(p);
      case RelaydCommand.RESET_METADATA:
        return this.cmdResetMetadata(p);
      case RelaydCommand.ROTATE_STREAMS:
        return this.cmdRotateStreams(p);
      case RelaydCommand.CLOSE_TRACE_CHUNK:
        return this.cmdCloseTraceChunk(p);
      case RelaydCommand.TRACE_CHUNK_EXISTS: {
        this.need(p, TraceChunkExists.size, 'TRACE_CHUNK_EXISTS');
        // Chunks never move here, so once closed they have nothing left pending.
        return this.send(TraceChunkExistsReply.encode({ ret_code: LttngErr.OK, trace_chunk_exists: 0 }));
      }
      case RelaydCommand.START_DATA:
        return this.reply(LttngErr.OK);
      default:
        // As lttng-relayd: say "unknown", then hang up.
        this.reply(LttngErr.UNK);
        this.state.counters.protocolErrors++;
        this.state.log('warn', `control connection ${this.peer}: unknown command ${cmd}; closing it`);
        this.end();
    }
  }

  private cmdVersion(p: Buffer): void {
    const v = this.decode(p, VersionMsg, 'VERSION');
    this.send(versionMessage());
    const minor = agreedMinor(v);
    if (minor === 'major') {
      this.state.log(
        'warn',
        `control connection ${this.peer}: protocol ${v.major}.${v.minor} is not 2.x; closing it`,
      );
      return this.end();
    }
    if (minor === 'minor') {
      this.state.log(
        'warn',
        `control connection ${this.peer}: peer speaks 2.${v.minor}, need 2.${RELAYD_MIN_MINOR}+; closing it`,
      );
      return this.end();
    }
    this.minor = minor;
  }

  private cmdGetConfiguration(p: Buffer): void {
    const q = this.decode(p, GetConfiguration, 'GET_CONFIGURATION');
    // No flags: "clear" is not allowed, so the session daemon refuses `lttng clear` itself.
    this.send(
      GetConfigurationReply.encode({
        ret_code: q.query_flags === 0n ? LttngErr.OK : LttngErr.INVALID_PROTOCOL,
        relayd_configuration_flags: 0n,
      }),
    );
  }

  private createSessionFailed(reason: string): never {
    const path = cstring('');
    this.send(
      Buffer.concat([
        CreateSessionReply211.encode({
          session_id: 0,
          ret_code: LttngErr.FATAL,
          output_path_length: path.length,
        }),
        path,
      ]),
    );
    throw new ProtocolError(`CREATE_SESSION: ${reason}`);
  }

  private cmdCreateSession(p: Buffer): void {
    if (this.session !== null) this.createSessionFailed('a session already exists on this connection');
    if (p.length < CreateSession211.size) this.createSessionFailed(`payload of ${p.length} bytes`);
    const c = CreateSession211.decode(p);
    if (c.session_name_len < 1 || c.session_name_len > 255)
      this.createSessionFailed('bad session name length');
    if (c.hostname_len < 1 || c.hostname_len > 256) this.createSessionFailed('bad hostname length');
    if (c.base_path_len > 4096) this.createSessionFailed('bad base path length');
    let off = CreateSession211.size;
    const name = readCString(p, off, c.session_name_len);
    off += c.session_name_len;
    const hostname = readCString(p, off, c.hostname_len);
    off += c.hostname_len;
    const basePathRaw = c.base_path_len === 0 ? '' : readCString(p, off, c.base_path_len);
    if (name === null || hostname === null || basePathRaw === null) {
      return this.createSessionFailed('names are truncated or not NUL-terminated');
    }
    if (!isSafeComponent(name)) return this.createSessionFailed(`unsafe session name "${name}"`);
    if (!isSafeComponent(hostname)) return this.createSessionFailed(`unsafe hostname "${hostname}"`);
    const basePath = safeRelativePath(basePathRaw, true);
    if (basePath === null) return this.createSessionFailed(`unsafe base path "${basePathRaw}"`);
    if (c.sessiond_uuid.every((b) => b === 0)) return this.createSessionFailed('nil session daemon UUID');
    const uuid = Buffer.from(c.sessiond_uuid).toString('hex');
    let session: Session;
    try {
      session = this.state.createSession({
        name,
        hostname,
        basePath,
        liveTimer: c.live_timer,
        snapshot: c.snapshot !== 0,
        sessiondUuid: uuid,
        sessiondSessionId: c.session_id,
        creationTime: c.creation_time,
        nameContainsCreationTime: c.session_name_contains_creation_time !== 0,
        minor: this.minor,
      });
    } catch (err) {
      return this.createSessionFailed(`cannot create the output directory: ${(err as Error).message}`);
    }
    if (c.current_chunk_id_is_set !== 0) {
      let chunk = this.state.getChunk(uuid, c.session_id, c.current_chunk_id);
      if (chunk === undefined) {
        chunk = {
          id: c.current_chunk_id,
          creationTimestamp: c.creation_time,
          overrideName: null,
        };
        if (!this.state.putChunk(uuid, c.session_id, chunk)) this.tooManyChunks();
      }
      session.currentChunk = chunk;
    }
    this.session = session;
    const live = session.liveTimer > 0 ? `, live every ${session.liveTimer / 1000} ms` : '';
    this.state.log(
      'info',
      `session ${this.describeSession(session)} from ${this.peer} -> ${session.outputPath}${live}`,
    );
    const path = cstring(session.outputPath);
    this.send(
      Buffer.concat([
        CreateSessionReply211.encode({
          session_id: session.id,
          ret_code: LttngErr.OK,
          output_path_length: path.length,
        }),
        path,
      ]),
    );
  }

  private tooManyChunks(): never {
    throw new ProtocolError('too many trace chunks open at once for one session');
  }

  private cmdCreateTraceChunk(p: Buffer): void {
    const session = this.requireSession('CREATE_TRACE_CHUNK');
    const c = this.decode(p, CreateTraceChunk, 'CREATE_TRACE_CHUNK');
    let overrideName: string | null = null;
    if (c.override_name_length > MAX_CHUNK_NAME) {
      throw new ProtocolError(`CREATE_TRACE_CHUNK: chunk name of ${c.override_name_length} bytes`);
    }
    if (c.override_name_length > 0) {
      overrideName = readCString(p, CreateTraceChunk.size, c.override_name_length);
      if (overrideName === null) throw new ProtocolError('CREATE_TRACE_CHUNK: bad chunk name');
    }
    if (session.currentChunk !== null && session.currentChunk.id !== c.chunk_id) this.warnRotation(session);
    let chunk = this.state.getChunk(session.sessiondUuid, session.sessiondSessionId, c.chunk_id);
    if (chunk === undefined) {
      chunk = { id: c.chunk_id, creationTimestamp: c.creation_timestamp, overrideName };
      if (!this.state.putChunk(session.sessiondUuid, session.sessiondSessionId, chunk)) this.tooManyChunks();
    }
    session.currentChunk = chunk;
    this.reply(LttngErr.OK);
  }

  private cmdAddStream(p: Buffer): void {
    const session = this.requireSession('ADD_STREAM');
    const a = this.decode(p, AddStream211, 'ADD_STREAM');
    const fail = (why: string): void => {
      this.state.log('warn', `session ${this.describeSession(session)}: ADD_STREAM refused: ${why}`);
      this.send(StatusStream.encode({ handle: -1, ret_code: LttngErr.UNK }));
    };
    if (a.channel_name_len < 1 || a.channel_name_len > MAX_CHANNEL_NAME)
      return fail('bad channel name length');
    if (a.pathname_len < 1 || a.pathname_len > MAX_PATHNAME) return fail('bad path name length');
    const channel = readCString(p, AddStream211.size, a.channel_name_len);
    const pathnameRaw = readCString(p, AddStream211.size + a.channel_name_len, a.pathname_len);
    if (channel === null || pathnameRaw === null) return fail('names are truncated or not NUL-terminated');
    if (!isSafeComponent(channel)) return fail(`unsafe channel name "${channel}"`);
    const pathname = safeRelativePath(pathnameRaw, false);
    if (pathname === null) return fail(`unsafe path name "${pathnameRaw}"`);
    let stream: RelayStream;
    try {
      stream = this.state.addStream(session, channel, pathname, a.tracefile_size, a.tracefile_count, this);
    } catch (err) {
      return fail(`cannot create its file: ${(err as Error).message}`);
    }
    this.state.log(
      'debug',
      `session ${this.describeSession(session)}: stream ${stream.handle} ${pathname}/${channel}`,
    );
    this.send(StatusStream.encode({ handle: stream.handle, ret_code: LttngErr.OK }));
  }

  private cmdSendMetadata(p: Buffer): void {
    this.requireSession('SEND_METADATA');
    const m = this.decode(p, MetadataPayload, 'SEND_METADATA');
    const s = this.stream(m.stream_id);
    if (s === undefined || !s.isMetadata)
      throw new ProtocolError(`SEND_METADATA for unknown metadata stream ${m.stream_id}`);
    const body = p.subarray(MetadataPayload.size);
    s.appendMetadata(body, m.padding_size);
    this.state.counters.metadataBytesReceived += body.length;
    // No reply: the next command follows immediately.
  }

  private cmdSendIndex(p: Buffer): void {
    this.requireSession('SEND_INDEX');
    const size = this.minor >= 8 ? RelaydIndex.size : RELAYD_INDEX_SIZE_1_0;
    this.need(p, size, 'SEND_INDEX');
    const streamId = readU64n(p, 0);
    const netSeq = readU64n(p, 8);
    const s = this.stream(streamId);
    if (s === undefined) return this.reply(LttngErr.UNK);
    s.indexReceived(netSeq, p.subarray(0, size));
    this.reply(LttngErr.OK);
  }

  private cmdCloseStream(p: Buffer): void {
    this.requireSession('CLOSE_STREAM');
    const c = this.decode(p, CloseStream, 'CLOSE_STREAM');
    const s = this.stream(c.stream_id);
    if (s === undefined) return this.reply(LttngErr.UNK);
    s.requestClose(c.last_net_seq_num);
    this.reply(LttngErr.OK);
  }

  private cmdDataPending(p: Buffer): void {
    this.requireSession('DATA_PENDING');
    const d = this.decode(p, DataPending, 'DATA_PENDING');
    const s = this.stream(d.stream_id);
    // Unknown (already closed) stream: nothing is pending for it.
    if (s === undefined) return this.reply(0);
    const useIndex = s.session.minor >= 4 && !s.session.snapshot;
    const seq = useIndex ? u64min(s.prevDataSeq, s.prevIndexSeq) : s.prevDataSeq;
    s.dataPendingCheckDone = true;
    this.reply(seq - d.last_net_seq_num < 0 ? 1 : 0);
  }

  private cmdEndDataPending(p: Buffer): void {
    const s = this.state.sessions.get(this.decode(p, EndDataPending, 'END_DATA_PENDING').session_id);
    let inflight = 0;
    if (s !== undefined) {
      for (const st of s.streams) {
        if (!st.closed && !st.dataPendingCheckDone) {
          inflight = 1;
          break;
        }
      }
    }
    this.reply(inflight);
  }

  private cmdResetMetadata(p: Buffer): void {
    const session = this.requireSession('RESET_METADATA');
    const r = this.decode(p, ResetMetadata, 'RESET_METADATA');
    const s = this.stream(r.stream_id);
    if (session.liveTimer > 0 || s === undefined || !s.isMetadata) return this.reply(LttngErr.UNK);
    s.resetMetadata();
    this.reply(LttngErr.OK);
  }

  private cmdRotateStreams(p: Buffer): void {
    const session = this.requireSession('ROTATE_STREAMS');
    this.need(p, 4, 'ROTATE_STREAMS');
    const count = p.readUInt32BE(0);
    const hdr = p.length - StreamRotationPosition.size * count;
    if (!(ROTATE_STREAMS_HDR_SIZES as readonly number[]).includes(hdr)) {
      this.reply(LttngErr.INVALID_PROTOCOL);
      throw new ProtocolError(`ROTATE_STREAMS: ${p.length} bytes for ${count} streams`);
    }
    const isSet = p[4] !== 0;
    if (isSet) this.warnRotation(session);
    this.reply(LttngErr.OK);
  }

  /** Says once per connection that rotations are not done. */
  private warnRotation(session: Session): void {
    if (this.warnedRotation) return;
    this.warnedRotation = true;
    this.state.log(
      'warn',
      `session ${this.describeSession(session)}: session rotation is not supported; ` +
        'every chunk stays in the session directory',
    );
  }

  private cmdCloseTraceChunk(p: Buffer): void {
    const session = this.requireSession('CLOSE_TRACE_CHUNK');
    const c = this.decode(p, CloseTraceChunk, 'CLOSE_TRACE_CHUNK');
    // A closed chunk is never looked up again: forget it (a peer cannot grow the table).
    this.state.deleteChunk(session.sessiondUuid, session.sessiondSessionId, c.chunk_id);
    if (session.currentChunk !== null && session.currentChunk.id === c.chunk_id) session.currentChunk = null;
    const path = cstring(session.outputPath);
    this.send(
      Buffer.concat([CloseTraceChunkReply.encode({ ret_code: LttngErr.OK, path_length: path.length }), path]),
    );
  }
}
