/**
 * A CTF writer sink that streams to a relay daemon (ours or lttng-relayd) instead of writing
 * files: what `nstrace record --url net://HOST` uses. The writer calls its sink synchronously;
 * the relay client is asynchronous, so every call is queued in order on one promise chain and
 * `finished()` waits for the queue (and reports the first failure).
 */
import type { IndexEntry } from '../ctf/index-file.js';
import type { StreamSink, StreamSinkInfo, TraceSink } from '../ctf/writer/sink.js';
import type { RelayClient, StreamHandle } from './client.js';
import { metadataPackets } from './replay.js';

export class RelayTraceSink implements TraceSink {
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly meta: Promise<StreamHandle>;
  private announced = false;
  /** Bytes queued and not yet handed to the client. */
  pendingBytes = 0;
  packetsSent = 0;

  /** `pathname`: the trace's directory in the session, `kernel` for a kernel trace. */
  constructor(
    private readonly client: RelayClient,
    private readonly pathname: string,
  ) {
    let resolveMeta!: (h: StreamHandle) => void;
    this.meta = new Promise((r) => (resolveMeta = r));
    this.enqueue(async () => resolveMeta(await client.addStream('metadata', pathname)));
  }

  private enqueue(op: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failure === undefined) await op();
    });
    this.chain = this.chain.catch((e: unknown) => {
      this.failure ??= e;
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
        for (const e of entries) {
          const start = e.offset - fileOffset;
          const packet = copy.subarray(start, start + e.packetSize / 8);
          const { offset: _offset, ...fields } = e;
          this.enqueue(async () => {
            await this.client.sendPacket(handle!, packet, fields);
            this.pendingBytes -= packet.length;
            this.packetsSent++;
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
    if (this.failure !== undefined) throw this.failure;
  }
}
