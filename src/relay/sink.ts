/**
 * A CTF writer sink that streams to a relay daemon (ours or lttng-relayd) instead of writing
 * files: what `nstrace record --url net://HOST` uses. The writer calls its sink synchronously;
 * the relay client is asynchronous, so every call is queued in order on one promise chain and
 * `finished()` waits for the queue (and reports the first failure).
 *
 * Back-pressure: the queue is not bounded by the sink itself (the writer cannot wait), but a
 * producer that can wait asks `ready()` between batches: past `maxPendingBytes` it gets a
 * promise that resolves once the queue is down to half of it (or rejects when the relay fails).
 */
import type { IndexEntry } from '../ctf/index-file.js';
import type { StreamSink, StreamSinkInfo, TraceSink } from '../ctf/writer/sink.js';
import type { RelayClient, StreamHandle } from './client.js';
import { metadataPackets } from './replay.js';

export interface RelayTraceSinkOptions {
  /** Queue size past which `ready()` asks the producer to wait. Default 64 MiB. */
  maxPendingBytes?: number;
}

export class RelayTraceSink implements TraceSink {
  private chain: Promise<void> = Promise.resolve();
  private firstFailure: unknown;
  private readonly meta: Promise<StreamHandle>;
  private announced = false;
  private waiter: { resolve: () => void; reject: (e: unknown) => void; since: number } | undefined;
  readonly maxPendingBytes: number;
  /** Bytes queued and not yet handed to the client. */
  pendingBytes = 0;
  /** Largest `pendingBytes` seen. */
  maxPendingSeen = 0;
  packetsSent = 0;
  /** Packet bytes handed to the client (content only: the relay writes the padding). */
  bytesSent = 0;
  /** Times `ready()` made the producer wait, and for how long in all (ms). */
  waits = 0;
  waitedMs = 0;

  /** The first failure (the relay's error), undefined while all goes well. */
  get failure(): unknown {
    return this.firstFailure ?? this.client.failure ?? undefined;
  }

  /** `pathname`: the trace's directory in the session, `kernel` for a kernel trace. */
  constructor(
    private readonly client: RelayClient,
    private readonly pathname: string,
    options: RelayTraceSinkOptions = {},
  ) {
    this.maxPendingBytes = options.maxPendingBytes ?? 64 << 20;
    let resolveMeta!: (h: StreamHandle) => void;
    this.meta = new Promise((r) => (resolveMeta = r));
    this.enqueue(async () => resolveMeta(await client.addStream('metadata', pathname)));
  }

  private enqueue(op: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.firstFailure === undefined) await op();
    });
    this.chain = this.chain.catch((e: unknown) => {
      this.firstFailure ??= e;
      this.wake();
    });
  }

  /** Releases a waiting producer once the queue is down to half the limit, or on failure. */
  private wake(): void {
    const w = this.waiter;
    if (w === undefined) return;
    const err = this.firstFailure ?? this.client.failure ?? undefined;
    if (err === undefined && this.pendingBytes > this.maxPendingBytes / 2) return;
    this.waiter = undefined;
    this.waitedMs += Date.now() - w.since;
    if (err !== undefined) w.reject(err);
    else w.resolve();
  }

  /**
   * For a producer that can wait: undefined when it may go on; a promise when the queue is
   * over `maxPendingBytes` (resolves when it is down to half) or when the relay failed
   * (rejects with the failure, also noticed while the queue is idle).
   */
  ready(): Promise<void> | undefined {
    const err = this.firstFailure ?? this.client.failure ?? undefined;
    if (err !== undefined) return Promise.reject(err as Error);
    if (this.pendingBytes <= this.maxPendingBytes) return undefined;
    this.waits++;
    return new Promise<void>((resolve, reject) => {
      this.waiter = { resolve, reject, since: Date.now() };
    });
  }

  openStream(info: StreamSinkInfo): StreamSink {
    let handle: StreamHandle | undefined;
    this.enqueue(async () => {
      handle = await this.client.addStream(info.name, this.pathname);
      if (!this.announced) {
        this.announced = true;
        await this.client.streamsSent();
      }
    });
    return {
      writePackets: (bytes: Uint8Array, fileOffset: number, entries: readonly IndexEntry[]): void => {
        // The writer reuses `bytes` after the call, and sockets keep what they are given: copy.
        const copy = Buffer.from(bytes);
        this.pendingBytes += copy.length;
        if (this.pendingBytes > this.maxPendingSeen) this.maxPendingSeen = this.pendingBytes;
        for (const e of entries) {
          const start = e.offset - fileOffset;
          const size = e.packetSize / 8;
          // Only the content goes on the wire; the rest of the packet is zeros the relay adds.
          const content = copy.subarray(start, start + Math.ceil(e.contentSize / 8));
          const { offset: _offset, ...fields } = e;
          this.enqueue(async () => {
            await this.client.sendPacket(handle!, content, fields);
            this.pendingBytes -= size;
            this.bytesSent += content.length;
            this.packetsSent++;
            this.wake();
          });
        }
      },
      close: (): void => {
        this.enqueue(async () => {
          if (handle !== undefined) await this.client.closeStream(handle);
        });
      },
    };
  }

  writeMetadata(bytes: Uint8Array): void {
    const copy = Buffer.from(bytes);
    this.enqueue(async () => {
      const meta = await this.meta;
      for (const p of metadataPackets(copy, 'metadata'))
        await this.client.sendMetadata(meta, p.content, p.padding);
    });
  }

  close(): void {
    this.enqueue(async () => {
      await this.client.waitDelivered();
    });
  }

  /** Waits until everything queued so far is sent; throws the first failure. */
  async finished(): Promise<void> {
    await this.chain;
    if (this.firstFailure !== undefined) throw this.firstFailure;
  }
}
