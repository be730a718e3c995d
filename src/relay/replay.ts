/**
 * Streams a CTF trace directory written by LTTng (data files with `index/*.idx`) through a
 * `RelayClient`, packet by packet, as a consumer daemon would: metadata packets first, then the
 * data packets of all streams in timestamp order, each with its index. Used to test relays
 * against each other and by the relay benchmark.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { IndexEntry } from '../ctf/index-file.js';
import { parseIndexFile } from '../ctf/index-file.js';
import { TraceFormatError } from '../util/errors.js';
import type { RelayClient, StreamHandle } from './client.js';

const METADATA_PACKET_MAGIC = 0x75d11d57;
const METADATA_PACKET_HEADER_SIZE = 37;

export interface ReplayOptions {
  /**
   * Relay path name of a trace found at `rel` below the root ('' for the root itself).
   * Default: `rel`, or the root directory's name for the root.
   */
  pathnameFor?: (rel: string) => string;
  /** Send only the packet content, letting the relay write the padding (as UST consumers do). */
  trimPadding?: boolean;
  /** Send every packet this many times (benchmarks: a bigger load from a small trace). */
  repeat?: number;
  /** Announce the data streams with `--tracefile-size` / `--tracefile-count` limits. */
  tracefileSize?: number;
  tracefileCount?: number;
}

export interface ReplayResult {
  traces: number;
  streams: number;
  packets: number;
  /** Packet bytes (including padding) the relay must write. */
  bytes: number;
  metadataBytes: number;
}

interface DataStreamFile {
  path: string;
  channel: string;
  entries: IndexEntry[];
}

interface FoundTrace {
  dir: string;
  rel: string;
  metadata: string;
  streams: DataStreamFile[];
}

/** Every trace below `root` (directories with a `metadata` file), with their indexed streams. */
export function findTraces(root: string): FoundTrace[] {
  const out: FoundTrace[] = [];
  const walk = (dir: string): void => {
    const names = readdirSync(dir).sort();
    if (names.includes('metadata') && statSync(join(dir, 'metadata')).isFile()) {
      const streams: DataStreamFile[] = [];
      for (const n of names) {
        if (n === 'metadata' || n === 'index' || n.startsWith('.')) continue;
        const p = join(dir, n);
        if (!statSync(p).isFile()) continue;
        const idx = join(dir, 'index', `${n}.idx`);
        if (!existsSync(idx))
          throw new TraceFormatError(p, undefined, 'no index file (index/<stream>.idx) to cut packets');
        streams.push({ path: p, channel: n, entries: parseIndexFile(readFileSync(idx), idx).entries });
      }
      out.push({ dir, rel: relative(root, dir), metadata: join(dir, 'metadata'), streams });
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

/** Cuts a packetized metadata file into `{content, padding}` packets (text metadata: one piece). */
export function metadataPackets(bytes: Buffer, file: string): { content: Buffer; padding: number }[] {
  if (bytes.length < 4) return bytes.length === 0 ? [] : [{ content: bytes, padding: 0 }];
  const le = bytes.readUInt32LE(0) === METADATA_PACKET_MAGIC;
  const be = bytes.readUInt32BE(0) === METADATA_PACKET_MAGIC;
  if (!le && !be) return [{ content: bytes, padding: 0 }];
  const out: { content: Buffer; padding: number }[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (off + METADATA_PACKET_HEADER_SIZE > bytes.length) {
      throw new TraceFormatError(file, off, 'truncated metadata packet header');
    }
    const contentBits = le ? bytes.readUInt32LE(off + 24) : bytes.readUInt32BE(off + 24);
    const packetBits = le ? bytes.readUInt32LE(off + 28) : bytes.readUInt32BE(off + 28);
    const content = Math.ceil(contentBits / 8);
    const size = packetBits / 8;
    if (
      !Number.isInteger(size) ||
      size < METADATA_PACKET_HEADER_SIZE ||
      content > size ||
      off + size > bytes.length
    ) {
      throw new TraceFormatError(
        file,
        off,
        `bad metadata packet sizes (content ${contentBits} bits, packet ${packetBits} bits)`,
      );
    }
    out.push({ content: bytes.subarray(off, off + content), padding: size - content });
    off += size;
  }
  return out;
}

/** A replay whose streams and metadata are announced; `sendPackets()` sends the data. */
export interface PreparedReplay {
  sendPackets(): Promise<ReplayResult>;
  /**
   * Live beacon for every data stream at the end of its last packet (a consumer's live timer
   * sends these for idle streams: they let viewers go past a stream with no new data).
   */
  sendBeacons(): Promise<void>;
}

/**
 * Announces every trace below `root` to the relay (streams, STREAMS_SENT, metadata) without
 * sending data yet, as a consumer does before tracing starts.
 */
export async function prepareReplay(
  client: RelayClient,
  root: string,
  opts: ReplayOptions = {},
): Promise<PreparedReplay> {
  const traces = findTraces(root);
  const result: ReplayResult = { traces: traces.length, streams: 0, packets: 0, bytes: 0, metadataBytes: 0 };
  const pathnameFor = opts.pathnameFor ?? ((rel: string) => (rel === '' ? basename(root) : rel));
  const items: { handle: StreamHandle; file: DataStreamFile; entry: IndexEntry }[] = [];
  for (const t of traces) {
    const pathname = pathnameFor(t.rel);
    const meta = await client.addStream('metadata', pathname);
    const handles = new Map<DataStreamFile, StreamHandle>();
    for (const s of t.streams) {
      handles.set(
        s,
        await client.addStream(s.channel, pathname, {
          tracefileSize: opts.tracefileSize,
          tracefileCount: opts.tracefileCount,
        }),
      );
      result.streams++;
    }
    await client.streamsSent();
    const metaBytes = readFileSync(t.metadata);
    for (const p of metadataPackets(metaBytes, t.metadata)) {
      await client.sendMetadata(meta, p.content, p.padding);
      result.metadataBytes += p.content.length + p.padding;
    }
    for (const s of t.streams)
      for (const e of s.entries) items.push({ handle: handles.get(s)!, file: s, entry: e });
  }
  items.sort((a, b) =>
    a.entry.timestampBegin < b.entry.timestampBegin
      ? -1
      : a.entry.timestampBegin > b.entry.timestampBegin
        ? 1
        : 0,
  );
  const last = new Map<StreamHandle, IndexEntry>();
  for (const it of items) last.set(it.handle, it.entry);
  return {
    async sendBeacons() {
      for (const [h, e] of last) await client.sendBeacon(h, e.streamId, e.timestampEnd);
    },
    async sendPackets() {
      const fds = new Map<string, number>();
      try {
        for (let rep = 0; rep < (opts.repeat ?? 1); rep++) {
          for (const it of items) {
            let fd = fds.get(it.file.path);
            if (fd === undefined) {
              fd = openSync(it.file.path, 'r');
              fds.set(it.file.path, fd);
            }
            const size = it.entry.packetSize / 8;
            const send = opts.trimPadding === true ? Math.ceil(it.entry.contentSize / 8) : size;
            // socket.write keeps a reference to what it is given: each packet gets its own buffer.
            const buf = Buffer.allocUnsafe(send);
            const got = readSync(fd, buf, 0, send, it.entry.offset);
            if (got !== send) {
              throw new TraceFormatError(
                it.file.path,
                it.entry.offset,
                'packet extends past the end of the file',
              );
            }
            await client.sendPacket(it.handle, buf, it.entry);
            result.packets++;
            result.bytes += size;
          }
        }
      } finally {
        for (const fd of fds.values()) closeSync(fd);
      }
      return result;
    },
  };
}

/** Sends every trace below `root` through `client` (which must be connected). */
export async function replayTrace(
  client: RelayClient,
  root: string,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  return (await prepareReplay(client, root, opts)).sendPackets();
}
