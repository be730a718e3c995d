/**
 * `RelayClient`: the sending side of the relay protocol, what `lttng-sessiond` and
 * `lttng-consumerd` do together, for nstrace's own recorder. Works against lttng-relayd 2.11+
 * and `nstrace relayd`.
 *
 *   const c = await RelayClient.connect('net://relay', { hostname, sessionName });
 *   const meta = await c.addStream('metadata', 'ust/uid/0/64-bit');
 *   const ch0 = await c.addStream('channel0_0', 'ust/uid/0/64-bit');
 *   await c.streamsSent();
 *   await c.sendMetadata(meta, metadataPacket);
 *   await c.sendPacket(ch0, packetBytes, indexFields);   // data + SEND_INDEX
 *   await c.close();                                     // waits until the relay has it all
 *
 * Commands are pipelined on the control connection (the relay answers in order), so a packet
 * costs no round trip; `flush()` waits for every answer. Any error answer fails the client:
 * the next call (or `flush`/`close`) throws a `RelayError`.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { connect as netConnect } from 'node:net';
import { RelayError } from '../util/errors.js';
import type { IndexEntry } from '../ctf/index-file.js';
import { ByteQueue } from './bytequeue.js';
import {
  AddStream211,
  agreedMinor,
  BeginDataPending,
  CloseStream,
  CreateSession211,
  CreateTraceChunk,
  cstring,
  DataHdr,
  DataPending,
  EndDataPending,
  GetConfiguration,
  GetConfigurationReply,
  LttngErr,
  MetadataPayload,
  QuiescentControl,
  RELAYD_MIN_MINOR,
  RelaydCommand,
  RelaydHdr,
  RelaydIndex,
  StatusStream,
  versionMessage,
  VersionMsg,
} from './codec.js';
import { fixedReply, okReply, pendingReply, sessionReply } from './replies.js';
import type { RelayUrl } from './url.js';
import { parseRelayUrl } from './url.js';

export interface RelayClientOptions {
  /** The host the trace comes from (relay output goes under this name). */
  hostname: string;
  sessionName: string;
  /** Live timer in microseconds; 0 or absent: not a live session. */
  liveTimerUs?: number;
  /** Seconds since the epoch; default now. The relay names the directory after it. */
  creationTime?: number;
  /** The session name already ends with its creation time (no `-DATETIME` suffix added). */
  sessionNameContainsCreationTime?: boolean;
  /** Identifies the sender (16 bytes); random by default. */
  senderUuid?: Uint8Array;
  /** The sender's own session id; default 1. */
  senderSessionId?: number;
  connectTimeoutMs?: number;
  /** Unanswered control commands allowed in flight before `sendPacket` waits. Default 512. */
  maxInFlight?: number;
}

/** The index fields of a packet (the relay computes the offset). Sizes are in bits. */
export type PacketIndexFields = Omit<IndexEntry, 'offset'>;

export interface StreamHandle {
  /** Relay stream handle. */
  readonly id: number;
  readonly channelName: string;
  readonly pathname: string;
  readonly isMetadata: boolean;
  /** Next data `net_seq_num`. */
  nextNetSeq: number;
  closed: boolean;
}

interface Expect {
  parse(q: ByteQueue): unknown;
  resolve(v: unknown): void;
  reject(e: Error): void;
  readonly promise: Promise<unknown>;
}

export class RelayClient {
  private readonly q = new ByteQueue();
  private readonly expects: Expect[] = [];
  private readonly streams: StreamHandle[] = [];
  private error: RelayError | null = null;
  private closed = false;
  private readonly maxInFlight: number;
  /** Bytes of packet payload handed to the data socket. */
  bytesSent = 0;
  packetsSent = 0;

  private constructor(
    private readonly ctrl: Socket,
    private data: Socket | null,
    readonly url: RelayUrl,
    readonly options: RelayClientOptions,
  ) {
    this.maxInFlight = options.maxInFlight ?? 512;
    ctrl.on('data', (chunk: Buffer) => this.onReply(chunk));
    ctrl.on('error', (err) => this.failWith(new RelayError(`relay control connection: ${err.message}`)));
    ctrl.on('close', () => {
      if (!this.closed) this.failWith(new RelayError('relay closed the control connection'));
    });
  }

  /** The error that failed the client (connection lost, error answer), or null while it works. */
  get failure(): RelayError | null {
    return this.error;
  }

  /** Negotiated protocol minor version (13 with a 2.13 relay). */
  minor = 0;
  /** The relay's id for this session. */
  relaySessionId = 0;
  /** Where the relay writes the session, relative to its output directory (e.g. `host/name-DATE`). */
  outputPath = '';

  /**
   * Connects to a relay, negotiates the version, creates the session and its first trace
   * chunk, and opens the data connection.
   */
  static async connect(url: string | RelayUrl, options: RelayClientOptions): Promise<RelayClient> {
    const u = typeof url === 'string' ? parseRelayUrl(url) : url;
    const timeout = options.connectTimeoutMs ?? 10_000;
    const ctrl = await openSocket(u.host, u.controlPort, u.family, timeout, 'control');
    const c = new RelayClient(ctrl, null, u, options);
    try {
      await c.handshake();
      c.data = await openSocket(u.host, u.dataPort, u.family, timeout, 'data');
      c.data.on('error', (err) => c.failWith(new RelayError(`relay data connection: ${err.message}`)));
      c.data.on('close', () => {
        if (!c.closed) c.failWith(new RelayError('relay closed the data connection'));
      });
      await c.command(
        RelaydCommand.CREATE_TRACE_CHUNK,
        CreateTraceChunk.encode({
          chunk_id: 0,
          creation_timestamp: options.creationTime ?? Math.floor(Date.now() / 1000),
          override_name_length: 0,
        }),
        okReply('CREATE_TRACE_CHUNK'),
      );
      return c;
    } catch (err) {
      c.destroy();
      throw err;
    }
  }

  private async handshake(): Promise<void> {
    const v = await this.command(RelaydCommand.VERSION, versionMessage(), fixedReply(VersionMsg));
    const minor = agreedMinor(v);
    if (minor === 'major') throw new RelayError(`relay speaks protocol ${v.major}.${v.minor}, not 2.x`);
    if (minor === 'minor') {
      throw new RelayError(`relay speaks protocol 2.${v.minor}; 2.${RELAYD_MIN_MINOR} or later is needed`);
    }
    this.minor = minor;
    if (this.minor >= 12) {
      const conf = await this.command(
        RelaydCommand.GET_CONFIGURATION,
        GetConfiguration.encode({ query_flags: 0n }),
        fixedReply(GetConfigurationReply),
      );
      if (conf.ret_code !== LttngErr.OK)
        throw new RelayError(`GET_CONFIGURATION failed (code ${conf.ret_code})`);
    }
    const o = this.options;
    const name = cstring(o.sessionName);
    const host = cstring(o.hostname);
    const base = cstring(this.url.basePath);
    const uuid = o.senderUuid ?? randomBytes(16);
    const fixed = CreateSession211.encode({
      session_name_len: name.length,
      hostname_len: host.length,
      base_path_len: base.length,
      live_timer: o.liveTimerUs ?? 0,
      snapshot: 0,
      session_name_contains_creation_time: o.sessionNameContainsCreationTime === true ? 1 : 0,
      sessiond_uuid: uuid,
      session_id: o.senderSessionId ?? 1,
      creation_time: o.creationTime ?? Math.floor(Date.now() / 1000),
      current_chunk_id_is_set: 0,
      current_chunk_id: 0,
    });
    const r = await this.command(
      RelaydCommand.CREATE_SESSION,
      Buffer.concat([fixed, name, host, base]),
      sessionReply,
    );
    if (r.ret_code !== LttngErr.OK)
      throw new RelayError(`relay refused session ${o.sessionName} (code ${r.ret_code})`);
    this.relaySessionId = r.session_id;
    this.outputPath = r.path;
  }

  /** Announces a stream (`channelName` `metadata` makes it the trace's metadata stream). */
  async addStream(
    channelName: string,
    pathname: string,
    opts: { tracefileSize?: number; tracefileCount?: number } = {},
  ): Promise<StreamHandle> {
    this.check();
    const ch = cstring(channelName);
    const path = cstring(pathname);
    const r = await this.command(
      RelaydCommand.ADD_STREAM,
      Buffer.concat([
        AddStream211.encode({
          channel_name_len: ch.length,
          pathname_len: path.length,
          tracefile_size: opts.tracefileSize ?? 0,
          tracefile_count: opts.tracefileCount ?? 0,
          trace_chunk_id: 0,
        }),
        ch,
        path,
      ]),
      fixedReply(StatusStream),
    );
    if (r.ret_code !== LttngErr.OK)
      throw new RelayError(`relay refused stream ${pathname}/${channelName} (code ${r.ret_code})`);
    const h: StreamHandle = {
      id: r.handle,
      channelName,
      pathname,
      isMetadata: channelName === 'metadata',
      nextNetSeq: 0,
      closed: false,
    };
    this.streams.push(h);
    return h;
  }

  /** Makes the streams added so far visible to live viewers. */
  async streamsSent(): Promise<void> {
    this.check();
    await this.command(RelaydCommand.STREAMS_SENT, Buffer.alloc(0), okReply('STREAMS_SENT'));
  }

  /**
   * Sends one metadata packet. `bytes` is the packet without its trailing `paddingSize` zero
   * bytes (the relay adds them back). No reply comes for this command.
   */
  async sendMetadata(stream: StreamHandle, bytes: Uint8Array, paddingSize = 0): Promise<void> {
    this.check();
    if (!stream.isMetadata)
      throw new RelayError(`stream ${stream.pathname}/${stream.channelName} is not a metadata stream`);
    const hdr = RelaydHdr.encode({
      circuit_id: 0,
      data_size: MetadataPayload.size + bytes.length,
      cmd: RelaydCommand.SEND_METADATA,
      cmd_version: 0,
    });
    const sub = MetadataPayload.encode({ stream_id: stream.id, padding_size: paddingSize });
    await this.write(this.ctrl, [hdr, sub, bytes]);
  }

  /**
   * Sends one data packet and its index. `bytes` is the packet content; the rest of the
   * packet (`index.packetSize / 8 - bytes.length` bytes) is zero padding the relay writes.
   */
  async sendPacket(stream: StreamHandle, bytes: Uint8Array, index: PacketIndexFields): Promise<void> {
    const seq = await this.sendData(stream, bytes, index.packetSize / 8 - bytes.length);
    await this.sendIndex(stream, seq, index);
  }

  /**
   * Sends a packet on the data connection only and returns its `net_seq_num`; its index must
   * follow with `sendIndex` (the relay pairs them, in whichever order they arrive).
   */
  async sendData(stream: StreamHandle, bytes: Uint8Array, paddingSize: number): Promise<number> {
    this.check();
    if (stream.isMetadata || stream.closed)
      throw new RelayError(`cannot send data on stream ${stream.channelName}`);
    if (!Number.isInteger(paddingSize) || paddingSize < 0 || paddingSize > 0xffffffff) {
      throw new RelayError(`bad padding size ${paddingSize} for a packet of ${bytes.length} bytes`);
    }
    const seq = stream.nextNetSeq++;
    const hdr = DataHdr.encode({
      circuit_id: 0,
      stream_id: stream.id,
      net_seq_num: seq,
      data_size: bytes.length,
      padding_size: paddingSize,
    });
    await this.write(this.data!, [hdr, bytes]);
    this.bytesSent += bytes.length;
    this.packetsSent++;
    return seq;
  }

  /**
   * Live beacon: tells viewers that `stream` has no event up to `timestampEnd` (clock
   * cycles). `streamClassId` is the CTF stream class id of the stream.
   */
  async sendBeacon(stream: StreamHandle, streamClassId: bigint, timestampEnd: bigint): Promise<void> {
    this.check();
    await this.sendIndex(stream, stream.nextNetSeq - 1, {
      packetSize: 0,
      contentSize: 0,
      timestampBegin: 0n,
      timestampEnd,
      eventsDiscarded: 0n,
      streamId: streamClassId,
      streamInstanceId: 0n,
      packetSeqNum: 0n,
    });
  }

  /** Sends the index of the data packet `seq` of `stream` (not waiting for the answer). */
  async sendIndex(stream: StreamHandle, seq: number, i: PacketIndexFields): Promise<void> {
    this.check();
    const body = RelaydIndex.encode({
      relay_stream_id: stream.id,
      net_seq_num: seq,
      packet_size: i.packetSize,
      content_size: i.contentSize,
      timestamp_begin: i.timestampBegin,
      timestamp_end: i.timestampEnd,
      events_discarded: i.eventsDiscarded,
      stream_id: i.streamId,
      stream_instance_id: i.streamInstanceId ?? 0xffffffffffffffffn,
      packet_seq_num: i.packetSeqNum ?? 0xffffffffffffffffn,
    });
    // Not awaited: a failure surfaces through `this.error` on the next call.
    void this.command(RelaydCommand.SEND_INDEX, body, okReply('SEND_INDEX'));
    if (this.expects.length > this.maxInFlight) await this.expects[0]!.promise;
  }

  /** Waits for an answer to every command sent so far. */
  async flush(): Promise<void> {
    this.check();
    const last = this.expects[this.expects.length - 1];
    if (last !== undefined) await last.promise.catch(() => undefined);
    this.check();
  }

  /** Tells the relay the stream is finished (it closes it once all its data has arrived). */
  async closeStream(stream: StreamHandle): Promise<void> {
    this.check();
    if (stream.closed) return;
    stream.closed = true;
    await this.command(
      RelaydCommand.CLOSE_STREAM,
      CloseStream.encode({ stream_id: stream.id, last_net_seq_num: stream.nextNetSeq - 1 }),
      okReply('CLOSE_STREAM'),
    );
  }

  /**
   * Asks the relay, like `lttng stop` does, whether everything sent has arrived and been
   * indexed. Returns true when nothing is pending.
   */
  async dataDelivered(): Promise<boolean> {
    this.check();
    await this.command(
      RelaydCommand.BEGIN_DATA_PENDING,
      BeginDataPending.encode({ session_id: this.relaySessionId }),
      okReply('BEGIN_DATA_PENDING'),
    );
    for (const s of this.streams) {
      if (s.closed) continue;
      if (s.isMetadata) {
        await this.command(
          RelaydCommand.QUIESCENT_CONTROL,
          QuiescentControl.encode({ stream_id: s.id }),
          okReply('QUIESCENT_CONTROL'),
        );
        continue;
      }
      const pending = await this.command(
        RelaydCommand.DATA_PENDING,
        DataPending.encode({ stream_id: s.id, last_net_seq_num: s.nextNetSeq - 1 }),
        pendingReply,
      );
      if (pending) return false;
    }
    const pending = await this.command(
      RelaydCommand.END_DATA_PENDING,
      EndDataPending.encode({ session_id: this.relaySessionId }),
      pendingReply,
    );
    return !pending;
  }

  /** Polls `dataDelivered()` until true (or `timeoutMs`). */
  async waitDelivered(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.dataDelivered()) return;
      if (Date.now() > deadline) throw new RelayError(`relay still has data pending after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Ends the session cleanly: waits until the relay has every packet and index, closes every
   * stream, then both connections.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
      await this.waitDelivered();
      for (const s of this.streams) await this.closeStream(s);
      await this.flush();
    } finally {
      this.closed = true;
      await Promise.all([endSocket(this.data), endSocket(this.ctrl)]);
    }
  }

  /** Drops both connections at once (no goodbye). */
  destroy(): void {
    this.closed = true;
    this.ctrl.destroy();
    this.data?.destroy();
    this.failWith(new RelayError('relay client destroyed'));
  }

  // ------------------------------------------------------------------ plumbing

  private check(): void {
    if (this.error !== null) throw this.error;
    if (this.closed) throw new RelayError('relay client is closed');
  }

  private failWith(err: RelayError): void {
    this.error ??= err;
    const pending = this.expects.splice(0);
    for (const e of pending) e.reject(err);
  }

  private command<T>(cmd: number, payload: Uint8Array, parse: (q: ByteQueue) => T | undefined): Promise<T> {
    if (this.error !== null) return Promise.reject(this.error);
    let resolve!: (v: T) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers await it; a failure nobody awaits must not become an unhandled rejection.
    promise.catch(() => undefined);
    this.expects.push({ parse, resolve: resolve as (v: unknown) => void, reject, promise });
    const hdr = RelaydHdr.encode({ circuit_id: 0, data_size: payload.length, cmd, cmd_version: 0 });
    this.ctrl.write(payload.length > 0 ? Buffer.concat([hdr, payload]) : hdr);
    return promise;
  }

  private onReply(chunk: Buffer): void {
    this.q.push(chunk);
    while (this.expects.length > 0) {
      const e = this.expects[0]!;
      let v: unknown;
      try {
        v = e.parse(this.q);
      } catch (err) {
        this.failWith(err instanceof RelayError ? err : new RelayError(String(err)));
        this.ctrl.destroy();
        return;
      }
      if (v === undefined) return;
      this.expects.shift();
      e.resolve(v);
    }
    if (this.q.length > 0 && this.error === null) {
      this.failWith(new RelayError(`relay sent ${this.q.length} unexpected bytes`));
      this.ctrl.destroy();
    }
  }

  private write(sock: Socket, parts: Uint8Array[]): Promise<void> {
    let ok = true;
    for (const p of parts) if (p.length > 0) ok = sock.write(p);
    if (ok) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        sock.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        sock.off('drain', onDrain);
        reject(this.error ?? new RelayError('relay connection closed'));
      };
      sock.once('drain', onDrain);
      sock.once('close', onClose);
    });
  }
}

function openSocket(
  host: string,
  port: number,
  family: 0 | 4 | 6,
  timeoutMs: number,
  what: string,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port, family: family === 0 ? undefined : family });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new RelayError(`relay ${what} connection to ${host}:${port} timed out`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.off('error', onError);
      sock.setNoDelay(true);
      resolve(sock);
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      reject(
        new RelayError(
          `cannot connect to relay at ${host.includes(':') ? `[${host}]` : host}:${port}: ${err.code ?? err.message}` +
            (what === 'data' ? ' (data port)' : ''),
        ),
      );
    };
    sock.once('error', onError);
  });
}

function endSocket(sock: Socket | null): Promise<void> {
  if (sock === null || sock.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    sock.once('close', () => resolve());
    sock.end();
    setTimeout(() => sock.destroy(), 5000).unref();
  });
}
