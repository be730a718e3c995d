/**
 * Where a trace writer's bytes go. The default writes an LTTng trace directory (`metadata`,
 * `<channel>_<cpu>` stream files, `index/<file>.idx`) with synchronous large writes, so that
 * `close()` can finish from a signal handler. A relay client implements `TraceSink` to send
 * packets, index entries and metadata over the network instead.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { IndexEntry } from '../index-file.js';
import { encodeIndexEntry, encodeIndexHeader, INDEX_ENTRY_SIZE_1_1 } from '../index-file.js';
import { WriterError } from '../../util/errors.js';
import { concatBytes } from '../bytes.js';

export interface StreamSinkInfo {
  /** File name, e.g. `channel0_3`. */
  readonly name: string;
  readonly streamClassId: number;
  readonly instanceId: number;
}

export interface StreamSink {
  /**
   * Whole packets, contiguous in the stream starting at `fileOffset`, with one index entry per
   * packet (its `offset` is the packet's offset in the stream file). `bytes` is only valid during
   * the call.
   */
  writePackets(bytes: Uint8Array, fileOffset: number, entries: readonly IndexEntry[]): void;
  close(): void;
}

export interface TraceSink {
  openStream(info: StreamSinkInfo): StreamSink;
  /** New metadata bytes, to append to what was sent before (new packets when packetized). */
  writeMetadata(bytes: Uint8Array): void;
  close(): void;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Writes an LTTng-style trace directory. */
export class DirectorySink implements TraceSink {
  readonly dir: string;
  readonly #index: boolean;
  #metadataFd = -1;
  readonly #streams: DirectoryStreamSink[] = [];

  /**
   * `dir` must not exist or be empty (stale stream files would be read as part of the new
   * trace); with `overwrite`, an existing directory is removed first.
   */
  constructor(dir: string, o: { index?: boolean; overwrite?: boolean } = {}) {
    this.dir = dir;
    this.#index = o.index ?? true;
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      if (o.overwrite !== true) throw new WriterError(`${dir} is not empty (pass overwrite to replace it)`);
      rmSync(dir, { recursive: true, force: true });
    }
    mkdirSync(dir, { recursive: true });
    if (this.#index) mkdirSync(join(dir, 'index'), { recursive: true });
  }

  openStream(info: StreamSinkInfo): StreamSink {
    const s = new DirectoryStreamSink(
      join(this.dir, info.name),
      this.#index ? join(this.dir, 'index', `${info.name}.idx`) : undefined,
    );
    this.#streams.push(s);
    return s;
  }

  writeMetadata(bytes: Uint8Array): void {
    if (this.#metadataFd < 0) this.#metadataFd = openSync(join(this.dir, 'metadata'), 'w');
    writeAll(this.#metadataFd, bytes);
  }

  close(): void {
    for (const s of this.#streams) s.close();
    if (this.#metadataFd >= 0) closeSync(this.#metadataFd);
    this.#metadataFd = -1;
  }
}

class DirectoryStreamSink implements StreamSink {
  #fd: number;
  #idxFd: number;
  readonly #scratch = new Uint8Array(INDEX_ENTRY_SIZE_1_1 * 64);

  constructor(path: string, indexPath: string | undefined) {
    this.#fd = openSync(path, 'w');
    this.#idxFd = -1;
    if (indexPath !== undefined) {
      this.#idxFd = openSync(indexPath, 'w');
      writeAll(this.#idxFd, encodeIndexHeader(1));
    }
  }

  writePackets(bytes: Uint8Array, _fileOffset: number, entries: readonly IndexEntry[]): void {
    if (this.#fd < 0) return;
    writeAll(this.#fd, bytes);
    if (this.#idxFd >= 0 && entries.length > 0) {
      const per = this.#scratch.length / INDEX_ENTRY_SIZE_1_1;
      for (let i = 0; i < entries.length; i += per) {
        const n = Math.min(per, entries.length - i);
        for (let j = 0; j < n; j++)
          this.#scratch.set(encodeIndexEntry(entries[i + j]!, 1), j * INDEX_ENTRY_SIZE_1_1);
        writeAll(this.#idxFd, this.#scratch.subarray(0, n * INDEX_ENTRY_SIZE_1_1));
      }
    }
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    if (this.#idxFd >= 0) closeSync(this.#idxFd);
    this.#fd = -1;
    this.#idxFd = -1;
  }
}

/** Keeps everything in memory (tests, relay experiments). */
export class MemorySink implements TraceSink {
  metadata: Uint8Array[] = [];
  readonly streams = new Map<
    string,
    { info: StreamSinkInfo; chunks: Uint8Array[]; entries: IndexEntry[]; closed: boolean }
  >();
  closed = false;

  openStream(info: StreamSinkInfo): StreamSink {
    const rec = { info, chunks: [] as Uint8Array[], entries: [] as IndexEntry[], closed: false };
    this.streams.set(info.name, rec);
    return {
      writePackets: (bytes, _off, entries) => {
        rec.chunks.push(bytes.slice());
        rec.entries.push(...entries);
      },
      close: () => {
        rec.closed = true;
      },
    };
  }

  writeMetadata(bytes: Uint8Array): void {
    this.metadata.push(bytes.slice());
  }

  close(): void {
    this.closed = true;
  }

  /** Concatenated bytes of a stream or of the metadata. */
  bytes(name?: string): Uint8Array {
    const parts = name === undefined ? this.metadata : (this.streams.get(name)?.chunks ?? []);
    return concatBytes(parts);
  }
}
