/**
 * The live (viewer) connection (port 5344), what `babeltrace2 net://RELAY/host/HOST/SESSION`
 * talks to: list sessions, attach, then per stream "next index?" / "packet bytes" and per trace
 * "new metadata?", with RETRY / INACTIVE / HUP telling the viewer how to wait. Semantics follow
 * lttng-relayd 2.13's live.c (see docs/research/relayd-protocol.md §9).
 */
import type { Socket } from 'node:net';
import {
  GenericReply,
  LttngErr,
  RELAYD_VERSION_MAJOR,
  RELAYD_VERSION_MINOR,
  U64_NONE,
  VIEWER_REQUEST_SIZE,
  ViewerAttach,
  ViewerAttachRequest,
  ViewerAttachResponse,
  ViewerCmd,
  ViewerCommand,
  ViewerConnect,
  ViewerConnType,
  ViewerCreateSession,
  ViewerCreateSessionResponse,
  ViewerDetach,
  ViewerDetachRequest,
  ViewerDetachResponse,
  ViewerFlag,
  ViewerGetMetadata,
  ViewerGetNextIndex,
  ViewerGetPacket,
  ViewerIndex,
  ViewerIndexStatus,
  ViewerListSessions,
  ViewerMetadataPacket,
  ViewerMetadataStatus,
  ViewerNewStreams,
  ViewerNewStreamsRequest,
  ViewerNewStreamsResponse,
  ViewerPacketStatus,
  ViewerSeek,
  ViewerSessionRec,
  ViewerStreamRec,
  ViewerTracePacket,
} from './codec.js';
import { type CommandHeader, type Conn, ProtocolError, RequestConn } from './conn.js';
import type { RelayState } from './state.js';
import type { RelayStream, Session } from './stream.js';
import type { Tracefile } from './tracefile.js';

/** Largest GET_PACKET / GET_METADATA answer we build in memory. */
const MAX_VIEWER_READ = 64 * 1024 * 1024;

/** A viewer's cursor on one relay stream. */
class ViewerStream {
  /** Index entries already handed out (lttng-relayd's `index_sent_seqcount`). */
  indexSent = 0;
  metadataSent = 0;
  /** Told to the viewer (in an ATTACH or GET_NEW_STREAMS reply). */
  sentFlag = false;
  /** Tracefile the last index came from: GET_PACKET reads there. */
  file: Tracefile | null = null;
  /**
   * The viewer was told the stream ended (HUP, or "no new metadata" after the close): it is
   * kept only so that it is never announced again; requests for it get ERR.
   */
  released = false;

  constructor(readonly stream: RelayStream) {}

  /** Still worth telling the viewer about: open, or with something left to read. */
  hasMore(): boolean {
    if (this.released) return false;
    const s = this.stream;
    if (!s.closed) return true;
    if (s.isMetadata) return s.metadataReceived > this.metadataSent;
    return s.indexReceivedSeqcount > this.indexSent;
  }
}

/** What one viewer connection has attached to. */
class ViewerSession {
  readonly sessions = new Set<Session>();
  readonly streams = new Map<number, ViewerStream>();

  constructor(readonly id: number) {}
}

export class LiveConnection extends RequestConn {
  private connected = false;
  private viewer: ViewerSession | null = null;

  constructor(sock: Socket, state: RelayState, onGone: (c: Conn) => void) {
    super(sock, state, 'live', onGone, ViewerCmd.size);
  }

  protected readHeader(b: Buffer): CommandHeader | null {
    const h = ViewerCmd.decode(b);
    const size = VIEWER_REQUEST_SIZE[h.cmd];
    if (size === undefined) {
      // As lttng-relayd: a 4-byte "unknown", then hang up.
      this.send(GenericReply.encode({ ret_code: LttngErr.UNK }));
      this.state.counters.protocolErrors++;
      this.state.log('warn', `live connection ${this.peer}: unknown command ${h.cmd}; closing it`);
      this.end();
      return null;
    }
    if (!this.connected && h.cmd !== ViewerCommand.CONNECT) {
      throw new ProtocolError(`command ${h.cmd} before CONNECT`);
    }
    return { cmd: h.cmd, size };
  }

  describeCommand(): string {
    if (this.hdr === null) return `a request header (${this.q.length} of ${ViewerCmd.size} bytes)`;
    return `request ${this.hdr.cmd} (${this.q.length} of ${this.hdr.size} bytes)`;
  }

  /** Attached to a relay session (an attached viewer may pause for as long as it likes). */
  hasSession(): boolean {
    return this.viewer !== null && this.viewer.sessions.size > 0;
  }

  protected onClose(): void {
    this.dropViewer();
  }

  private dropViewer(): void {
    const v = this.viewer;
    this.viewer = null;
    if (v === null) return;
    for (const s of v.sessions) this.detach(v, s);
  }

  private detach(v: ViewerSession, s: Session): void {
    v.sessions.delete(s);
    for (const [id, vs] of v.streams) if (vs.stream.session === s) v.streams.delete(id);
    for (const t of s.traces.values()) t.viewerMetadata = null;
    if (s.viewer === v) s.viewer = null;
    this.state.maybeForgetSession(s);
  }

  protected dispatch(cmd: number, p: Buffer): void {
    switch (cmd) {
      case ViewerCommand.CONNECT:
        return this.cmdConnect(p);
      case ViewerCommand.CREATE_SESSION:
        this.dropViewer();
        this.viewer = new ViewerSession(this.state.allocViewerSessionId());
        return this.send(ViewerCreateSessionResponse.encode({ status: ViewerCreateSession.OK }));
      case ViewerCommand.LIST_SESSIONS:
        return this.cmdListSessions();
      case ViewerCommand.ATTACH_SESSION:
        return this.cmdAttach(p);
      case ViewerCommand.GET_NEW_STREAMS:
        return this.cmdGetNewStreams(p);
      case ViewerCommand.GET_METADATA:
        return this.cmdGetMetadata(p);
      case ViewerCommand.GET_NEXT_INDEX:
        return this.cmdGetNextIndex(p);
      case ViewerCommand.GET_PACKET:
        return this.cmdGetPacket(p);
      case ViewerCommand.DETACH_SESSION:
        return this.cmdDetach(p);
    }
  }

  private cmdConnect(p: Buffer): void {
    const c = ViewerConnect.decode(p);
    if (c.major !== RELAYD_VERSION_MAJOR)
      throw new ProtocolError(`viewer protocol ${c.major}.${c.minor} is not 2.x`);
    if (c.type !== ViewerConnType.COMMAND && c.type !== ViewerConnType.NOTIFICATION) {
      throw new ProtocolError(`unknown viewer connection type ${c.type}`);
    }
    this.connected = true;
    let id = 0;
    if (c.type === ViewerConnType.COMMAND) {
      this.viewer ??= new ViewerSession(this.state.allocViewerSessionId());
      id = this.viewer.id;
    }
    this.send(
      ViewerConnect.encode({
        viewer_session_id: id,
        major: RELAYD_VERSION_MAJOR,
        minor: RELAYD_VERSION_MINOR,
        type: 0,
      }),
    );
  }

  private cmdListSessions(): void {
    const list = this.state.visibleSessions();
    const out = Buffer.alloc(ViewerListSessions.size + list.length * ViewerSessionRec.size);
    ViewerListSessions.encodeInto({ sessions_count: list.length }, out, 0);
    let off = ViewerListSessions.size;
    for (const s of list) {
      ViewerSessionRec.encodeInto(
        {
          id: s.id,
          live_timer: s.liveTimer,
          clients: s.viewer !== null ? 1 : 0,
          streams: s.openStreams,
          hostname: s.hostname,
          session_name: s.name,
        },
        out,
        off,
      );
      off += ViewerSessionRec.size;
    }
    this.send(out);
  }

  /**
   * Creates viewer streams for the published streams of `s` this viewer does not have yet
   * (traces without a metadata stream are skipped until they get one).
   */
  private makeViewerStreams(v: ViewerSession, s: Session, seek: number): { created: number } {
    let created = 0;
    for (const trace of s.traces.values()) {
      if (trace.metadataStream === null && !trace.metadataStreamSentToViewer) continue;
      for (const rs of trace.streams) {
        if (!rs.published || v.streams.has(rs.handle)) continue;
        const vs = new ViewerStream(rs);
        if (rs.isMetadata) {
          trace.metadataStreamSentToViewer = true;
          trace.viewerMetadata = vs;
        } else if (seek === ViewerSeek.LAST) {
          vs.indexSent = rs.indexReceivedSeqcount;
        } else {
          vs.indexSent = rs.oldestReadableSeq();
        }
        v.streams.set(rs.handle, vs);
        created++;
      }
    }
    return { created };
  }

  private streamRecords(list: ViewerStream[]): Buffer {
    const out = Buffer.alloc(list.length * ViewerStreamRec.size);
    let off = 0;
    for (const vs of list) {
      const rs = vs.stream;
      ViewerStreamRec.encodeInto(
        {
          id: rs.handle,
          ctf_trace_id: rs.trace.id,
          metadata_flag: rs.isMetadata ? 1 : 0,
          path_name: rs.pathname,
          channel_name: rs.channelName,
        },
        out,
        off,
      );
      vs.sentFlag = true;
      off += ViewerStreamRec.size;
    }
    return out;
  }

  private viewerStreamsOf(v: ViewerSession, s: Session): ViewerStream[] {
    return [...v.streams.values()].filter((vs) => vs.stream.session === s);
  }

  private cmdAttach(p: Buffer): void {
    const r = ViewerAttachRequest.decode(p);
    const reply = (status: number): void =>
      this.send(ViewerAttachResponse.encode({ status, streams_count: 0 }));
    const v = this.viewer;
    if (v === null) return reply(ViewerAttach.NO_SESSION);
    const s = this.state.sessions.get(r.session_id);
    if (s === undefined) return reply(ViewerAttach.UNK);
    if (s.liveTimer === 0) return reply(ViewerAttach.NOT_LIVE);
    if (s.viewer !== null) return reply(ViewerAttach.ALREADY);
    if (r.seek !== ViewerSeek.BEGINNING && r.seek !== ViewerSeek.LAST) return reply(ViewerAttach.SEEK_ERR);
    if (s.connectionClosed) return reply(ViewerAttach.UNK);
    s.viewer = v;
    v.sessions.add(s);
    this.makeViewerStreams(v, s, r.seek);
    const mine = this.viewerStreamsOf(v, s);
    const list = mine.filter((vs) => vs.hasMore());
    this.state.log('info', `live viewer ${this.peer} attached to ${s.hostname}/${s.name} (#${s.id})`);
    this.sendStreams(
      mine,
      ViewerAttachResponse.encode({ status: ViewerAttach.OK, streams_count: list.length }),
      list,
    );
  }

  /**
   * Sends `head` and the records of `list`; the finished streams of `mine` are never announced
   * (not now, not as "new" later).
   */
  private sendStreams(mine: ViewerStream[], head: Buffer, list: ViewerStream[]): void {
    for (const vs of mine) if (!vs.hasMore()) vs.sentFlag = true;
    this.send(Buffer.concat([head, this.streamRecords(list)]));
  }

  private cmdGetNewStreams(p: Buffer): void {
    const r = ViewerNewStreamsRequest.decode(p);
    const reply = (status: number): void =>
      this.send(ViewerNewStreamsResponse.encode({ status, streams_count: 0 }));
    const v = this.viewer;
    const s = this.state.sessions.get(r.session_id);
    if (v === null || s === undefined || !v.sessions.has(s)) return reply(ViewerNewStreams.ERR);
    this.makeViewerStreams(v, s, ViewerSeek.BEGINNING);
    s.newStreams = false;
    const mine = this.viewerStreamsOf(v, s);
    if (s.connectionClosed && !mine.some((vs) => vs.hasMore())) return reply(ViewerNewStreams.HUP);
    const unsent = mine.filter((vs) => !vs.sentFlag && vs.hasMore());
    this.sendStreams(
      mine,
      ViewerNewStreamsResponse.encode({ status: ViewerNewStreams.OK, streams_count: unsent.length }),
      unsent,
    );
  }

  private cmdGetMetadata(p: Buffer): void {
    const r = ViewerGetMetadata.decode(p);
    const reply = (status: number): void => this.send(ViewerMetadataPacket.encode({ len: 0, status }));
    const v = this.viewer;
    const vs = v?.streams.get(r.stream_id);
    if (v === null || vs === undefined || vs.released || !vs.stream.isMetadata)
      return reply(ViewerMetadataStatus.ERR);
    const rs = vs.stream;
    if (vs.metadataSent >= rs.metadataReceived) {
      if (rs.closed) {
        // Told "nothing new" once after the end: the next ask gets ERR (viewer stops asking).
        vs.released = true;
        if (rs.trace.viewerMetadata === vs) rs.trace.viewerMetadata = null;
      }
      return reply(ViewerMetadataStatus.NO_NEW);
    }
    const len = Math.min(rs.metadataReceived - vs.metadataSent, MAX_VIEWER_READ);
    let data: Buffer;
    try {
      data = rs.read(rs.current, vs.metadataSent, len);
    } catch {
      return reply(ViewerMetadataStatus.ERR);
    }
    if (data.length === 0) return reply(ViewerMetadataStatus.ERR);
    vs.metadataSent += data.length;
    this.send(
      Buffer.concat([
        ViewerMetadataPacket.encode({ len: data.length, status: ViewerMetadataStatus.OK }),
        data,
      ]),
    );
  }

  private cmdGetNextIndex(p: Buffer): void {
    const r = ViewerGetNextIndex.decode(p);
    const v = this.viewer;
    const vs = v?.streams.get(r.stream_id);
    const idx = {
      offset: 0n,
      packet_size: 0n,
      content_size: 0n,
      timestamp_begin: 0n,
      timestamp_end: 0n,
      events_discarded: 0n,
      stream_id: 0n,
      status: ViewerIndexStatus.ERR as number,
      flags: 0,
    };
    if (v === null || vs === undefined || vs.released) return this.send(ViewerIndex.encode(idx));
    const rs = vs.stream;
    let raw: Buffer | null = null;
    const recv = rs.indexReceivedSeqcount;
    // Entries lost to tracefile overwrite are skipped.
    if (!rs.isMetadata && vs.indexSent < rs.oldestReadableSeq()) vs.indexSent = rs.oldestReadableSeq();
    const sent = vs.indexSent;
    if (rs.isMetadata) {
      idx.status = ViewerIndexStatus.HUP;
    } else if ((rs.session.connectionClosed || rs.closed) && recv <= sent) {
      idx.status = ViewerIndexStatus.HUP;
      vs.released = true;
    } else if (rs.beaconTsEnd !== U64_NONE && (recv === 0 || (sent !== 0 && recv <= sent))) {
      idx.status = ViewerIndexStatus.INACTIVE;
      idx.timestamp_end = rs.beaconTsEnd;
      idx.stream_id = rs.ctfStreamId;
    } else if (recv === 0 || recv <= sent) {
      idx.status = ViewerIndexStatus.RETRY;
    } else {
      if (this.anyNewStreams(v)) idx.flags |= ViewerFlag.NEW_STREAM;
      const got = rs.readIndexEntry(sent);
      if (got === null) {
        idx.status = rs.closed ? ViewerIndexStatus.HUP : ViewerIndexStatus.RETRY;
      } else {
        raw = got.entry;
        vs.file = got.file;
        vs.indexSent++;
        idx.status = ViewerIndexStatus.OK;
      }
    }
    const meta = rs.trace.viewerMetadata;
    const mstream = rs.trace.metadataStream;
    if (meta !== null && mstream !== null) {
      if (mstream.metadataReceived === 0 || mstream.metadataReceived > meta.metadataSent) {
        idx.flags |= ViewerFlag.NEW_METADATA;
      }
    }
    const out = ViewerIndex.encode(idx);
    // The first seven fields come verbatim from the .idx entry.
    if (raw !== null) raw.copy(out, 0, 0, 56);
    this.send(out);
  }

  private anyNewStreams(v: ViewerSession): boolean {
    for (const s of v.sessions) {
      if (s.newStreams) {
        s.newStreams = false;
        return true;
      }
    }
    return false;
  }

  private cmdGetPacket(p: Buffer): void {
    const r = ViewerGetPacket.decode(p);
    const err = (): void =>
      this.send(ViewerTracePacket.encode({ status: ViewerPacketStatus.ERR, len: 0, flags: 0 }));
    const vs = this.viewer?.streams.get(r.stream_id);
    if (
      vs === undefined ||
      vs.released ||
      vs.stream.isMetadata ||
      r.len === 0 ||
      r.len > MAX_VIEWER_READ ||
      r.offset < 0
    ) {
      return err();
    }
    let data: Buffer;
    try {
      data = vs.stream.read(vs.file ?? vs.stream.current, r.offset, r.len);
    } catch {
      return err();
    }
    if (data.length !== r.len) return err();
    this.send(
      Buffer.concat([
        ViewerTracePacket.encode({ status: ViewerPacketStatus.OK, len: data.length, flags: 0 }),
        data,
      ]),
    );
  }

  private cmdDetach(p: Buffer): void {
    const r = ViewerDetachRequest.decode(p);
    const reply = (status: number): void => this.send(ViewerDetachResponse.encode({ status }));
    const v = this.viewer;
    if (v === null) return reply(ViewerDetach.ERR);
    const s = this.state.sessions.get(r.session_id);
    if (s === undefined) return reply(ViewerDetach.UNK);
    if (!v.sessions.has(s)) return reply(ViewerDetach.ERR);
    this.detach(v, s);
    reply(ViewerDetach.OK);
  }
}
