/**
 * The data connection (port 5343): a one-way stream of `lttcomm_relayd_data_hdr` + packet,
 * no handshake, no replies. Each packet goes to its stream's file once it is complete (one
 * `writev` per stream per socket read; packets over 128 KiB are written as they arrive); a
 * packet cut short by a disconnect is removed again, so data files only ever hold whole packets.
 */
import type { Socket } from 'node:net';
import { DataHdr, readU64n } from './codec.js';
import { Conn, ProtocolError } from './conn.js';
import type { RelayState } from './state.js';
import type { RelayStream, Session } from './stream.js';

/**
 * Write a packet that is still arriving once this much of it is buffered. Below it a packet
 * reaches the file in one piece (a relay killed with SIGKILL leaves whole packets); above it
 * the bytes are written while they are still in the CPU cache (copying a cold megabyte into
 * the page cache costs more than the rest of the relay's work).
 */
const FLUSH_BYTES = 128 * 1024;

interface PacketInProgress {
  stream: RelayStream;
  netSeq: number;
  offset: number;
  remaining: number;
  padding: number;
  pieces: Buffer[];
  buffered: number;
  /** Payload bytes received so far. */
  got: number;
  /** Some of it is already in the file (a packet larger than FLUSH_BYTES). */
  flushed: boolean;
}

export class DataConnection extends Conn {
  private cur: PacketInProgress | null = null;
  /** Streams this connection carried data for. */
  private readonly served = new Set<RelayStream>();

  constructor(sock: Socket, state: RelayState, onGone: (c: Conn) => void) {
    super(sock, state, 'data', onGone);
  }

  override ingest(chunk: Buffer): void {
    if (!this.dead) this.state.counters.bytesReceived += chunk.length;
    super.ingest(chunk);
  }

  protected process(): void {
    while (!this.dead) {
      const cur = this.cur;
      if (cur === null) {
        if (this.q.length < DataHdr.size) return;
        this.startPacket(this.q.take(DataHdr.size));
        continue;
      }
      if (cur.remaining > 0) {
        if (this.q.length === 0) return;
        const piece = this.q.takeSome(cur.remaining);
        cur.pieces.push(piece);
        cur.buffered += piece.length;
        cur.got += piece.length;
        cur.remaining -= piece.length;
        if (cur.remaining > 0) {
          if (cur.buffered >= FLUSH_BYTES) {
            cur.stream.append(cur.pieces, 0);
            cur.pieces = [];
            cur.buffered = 0;
            cur.flushed = true;
          }
          continue;
        }
      }
      this.finishPacket(cur);
    }
  }

  protected inCommand(): boolean {
    return this.cur !== null || this.q.length > 0;
  }

  protected override heldInput(): number {
    return this.cur?.buffered ?? 0;
  }

  describeCommand(): string {
    const c = this.cur;
    if (c === null) return `a packet header (${this.q.length} of ${DataHdr.size} bytes)`;
    const size = c.got + c.remaining;
    return `packet ${c.netSeq} of stream ${c.stream.handle} (${c.got} of ${size} bytes)`;
  }

  /**
   * Carried packets of a session still known, or comes from an address that has a session on
   * the control port (a session daemon connects its data socket right after CREATE_SESSION;
   * the first packet may come hours later).
   */
  hasSession(sessionAddrs: ReadonlySet<string>): boolean {
    for (const s of this.served) if (this.state.sessions.has(s.session.id)) return true;
    return sessionAddrs.has(this.sock.remoteAddress ?? '');
  }

  /**
   * The read buffer `shared` is about to be reused: copy what this connection still holds of
   * it (a partial header, the start of an incomplete packet). Everything else was written.
   */
  detach(shared: ArrayBufferLike): void {
    this.q.detach(shared);
    const cur = this.cur;
    if (cur !== null) {
      for (let i = 0; i < cur.pieces.length; i++) {
        const p = cur.pieces[i]!;
        if (p.buffer === shared) cur.pieces[i] = Buffer.from(p);
      }
    }
  }

  private startPacket(b: Buffer): void {
    // The per-packet hot path: read the fields directly (same layout as DataHdr).
    const h = {
      stream_id: readU64n(b, 8),
      net_seq_num: readU64n(b, 16),
      data_size: b.readUInt32BE(24),
      padding_size: b.readUInt32BE(28),
    };
    const stream = this.state.streams.get(h.stream_id);
    if (stream === undefined) throw new ProtocolError(`data for unknown stream ${h.stream_id}`);
    if (stream.isMetadata) throw new ProtocolError(`data packet for metadata stream ${h.stream_id}`);
    if (stream.writer !== null && stream.writer !== this) {
      throw new ProtocolError(`stream ${h.stream_id} is being written by another data connection`);
    }
    stream.writer = this;
    if (stream.dataConn !== this) {
      stream.dataConn = this;
      this.served.add(stream);
      stream.session.dataConns.add(this);
    }
    const offset = stream.beginPacket(h.data_size);
    this.cur = {
      stream,
      netSeq: h.net_seq_num,
      offset,
      remaining: h.data_size,
      padding: h.padding_size,
      pieces: [],
      buffered: 0,
      got: 0,
      flushed: false,
    };
  }

  private finishPacket(cur: PacketInProgress): void {
    this.cur = null;
    this.commandsDone++;
    const stream = cur.stream;
    stream.writer = null;
    if (stream.closed) return;
    stream.append(cur.pieces, cur.padding);
    stream.packetWritten(cur.netSeq, cur.offset);
  }

  protected onClose(): void {
    const cur = this.cur;
    this.cur = null;
    if (cur !== null) {
      const stream = cur.stream;
      stream.writer = null;
      if (!stream.closed) {
        if (cur.flushed) stream.truncateTo(cur.offset);
        this.state.log(
          'warn',
          `data connection ${this.peer}: closed in the middle of packet ${cur.netSeq} of stream ${stream.handle}; dropped it`,
        );
      }
    }
    // Streams whose sender already said goodbye will get no more data.
    const sessions = new Set<Session>();
    for (const s of this.served) sessions.add(s.session);
    this.served.clear();
    for (const session of sessions) for (const s of session.streams) s.tryClose();
  }
}
