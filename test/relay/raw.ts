/**
 * A hand-driven relay peer for the limits tests: raw control / data / live messages, written
 * byte by byte if need be, and the time at which the relay hangs up.
 */
import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import * as C from '../../src/relay/codec.js';

// (No import of helpers.ts: it imports vitest, and compare-limits.ts runs outside it.)
export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `-C -D -L -o` for a relay on 127.0.0.1 (lttng-relayd and `nstrace relayd` take the same form). */
export function relayArgs(ports: { control: number; data: number; live: number }, out: string): string[] {
  const at = (port: number): string => `tcp://127.0.0.1:${port}`;
  return ['-C', at(ports.control), '-D', at(ports.data), '-L', at(ports.live), '-o', out];
}

export function ctrl(cmd: number, payload: Buffer, dataSize = payload.length): Buffer {
  return Buffer.concat([
    C.RelaydHdr.encode({ circuit_id: 0, data_size: dataSize, cmd, cmd_version: 0 }),
    payload,
  ]);
}

export function live(cmd: number, payload: Buffer): Buffer {
  return Buffer.concat([C.ViewerCmd.encode({ data_size: payload.length, cmd, cmd_version: 0 }), payload]);
}

export const VERSION = ctrl(C.RelaydCommand.VERSION, C.VersionMsg.encode({ major: 2, minor: 13 }));
export const CONNECT = live(
  C.ViewerCommand.CONNECT,
  C.ViewerConnect.encode({ viewer_session_id: -1, major: 2, minor: 4, type: 1 }),
);

let uuidSeed = 1;

/** A CREATE_SESSION command (2.11 layout) with raw names (any bytes). */
export function createSession(
  name: string | Buffer,
  hostname: string | Buffer,
  opts: { basePath?: string; liveTimerUs?: number } = {},
): Buffer {
  const z = (s: string | Buffer): Buffer => Buffer.concat([Buffer.from(s), Buffer.alloc(1)]);
  const n = z(name);
  const h = z(hostname);
  const b = z(opts.basePath ?? '');
  const fixed = Buffer.alloc(C.CreateSession211.size);
  const uuid = Buffer.alloc(16, 0);
  uuid.writeUInt32BE(uuidSeed++, 12);
  C.CreateSession211.encodeInto(
    {
      session_name_len: n.length,
      hostname_len: h.length,
      base_path_len: b.length,
      live_timer: opts.liveTimerUs ?? 0,
      snapshot: 0,
      session_name_contains_creation_time: 0,
      sessiond_uuid: uuid,
      session_id: 1,
      creation_time: 1_700_000_000,
      current_chunk_id_is_set: 0,
      current_chunk_id: 0,
    },
    fixed,
    0,
  );
  return ctrl(C.RelaydCommand.CREATE_SESSION, Buffer.concat([fixed, n, h, b]));
}

/** An ADD_STREAM command (2.11 layout). */
export function addStream(channel: string, pathname: string): Buffer {
  const c = Buffer.from(`${channel}\0`);
  const p = Buffer.from(`${pathname}\0`);
  return ctrl(
    C.RelaydCommand.ADD_STREAM,
    Buffer.concat([
      C.AddStream211.encode({
        channel_name_len: c.length,
        pathname_len: p.length,
        tracefile_size: 0,
        tracefile_count: 0,
        trace_chunk_id: 0,
      }),
      c,
      p,
    ]),
  );
}

/** A SEND_INDEX command for `stream` and `netSeq` (a plausible 4 KiB packet). */
export function sendIndex(stream: number, netSeq: number): Buffer {
  return ctrl(
    C.RelaydCommand.SEND_INDEX,
    C.RelaydIndex.encode({
      relay_stream_id: stream,
      net_seq_num: netSeq,
      packet_size: 32768,
      content_size: 32768,
      timestamp_begin: 0n,
      timestamp_end: 0n,
      events_discarded: 0n,
      stream_id: 0n,
      stream_instance_id: 0n,
      packet_seq_num: BigInt(netSeq),
    }),
  );
}

export class RawPeer {
  private readonly got: Buffer[] = [];
  private length = 0;
  /** Date.now() when the relay closed the connection (end or reset), null while open. */
  closedAt: number | null = null;

  private constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.got.push(d);
      this.length += d.length;
    });
    const gone = (): void => {
      this.closedAt ??= Date.now();
    };
    sock.on('end', gone);
    sock.on('close', gone);
    sock.on('error', gone);
  }

  static connect(port: number, opts: { paused?: boolean } = {}): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port });
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        const p = new RawPeer(sock);
        // A peer that does not read its replies.
        if (opts.paused === true) sock.pause();
        resolve(p);
      });
    });
  }

  get closed(): boolean {
    return this.closedAt !== null;
  }

  /** Writes and waits until the bytes are handed to the kernel (or the socket broke). */
  write(b: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.sock.destroyed) return resolve();
      this.sock.write(b, () => resolve());
    });
  }

  /** Waits for `n` bytes of reply and consumes them. */
  async read(n: number, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.length < n) {
      if (Date.now() > deadline || (this.closed && this.length < n)) {
        throw new Error(`wanted ${n} reply bytes, got ${this.length}${this.closed ? ' (closed)' : ''}`);
      }
      await sleep(10);
    }
    const all = Buffer.concat(this.got);
    this.got.length = 0;
    this.got.push(all.subarray(n));
    this.length -= n;
    return all.subarray(0, n);
  }

  /** Waits until the relay closes the connection; resolves to Date.now() then, or null after `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) return null;
      await sleep(20);
    }
    return this.closedAt;
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** VERSION then CREATE_SESSION on a fresh control connection; returns the peer and the session id. */
export async function rawSession(
  port: number,
  name: string,
  hostname: string,
  opts: { liveTimerUs?: number } = {},
): Promise<{ peer: RawPeer; sessionId: number }> {
  const peer = await RawPeer.connect(port);
  await peer.write(Buffer.concat([VERSION, createSession(name, hostname, opts)]));
  await peer.read(C.VersionMsg.size);
  const reply = C.CreateSessionReply211.decode(await peer.read(C.CreateSessionReply211.size));
  if (reply.ret_code !== C.LttngErr.OK) throw new Error(`CREATE_SESSION failed: ${reply.ret_code}`);
  await peer.read(reply.output_path_length);
  return { peer, sessionId: reply.session_id };
}
