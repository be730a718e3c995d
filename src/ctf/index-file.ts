/**
 * LTTng packet index files (`index/<stream>.idx`): a 16-byte header then one fixed-size entry
 * per packet, all big-endian. Version 1.0 entries are 56 bytes, 1.1 adds
 * `stream_instance_id` and `packet_seq_num` (72 bytes). Readers accept any entry length of at
 * least 56 bytes and ignore trailing fields they do not know.
 */
import { TraceFormatError } from '../util/errors.js';

export const INDEX_MAGIC = 0xc1f1dcc1;
export const INDEX_HEADER_SIZE = 16;
export const INDEX_ENTRY_SIZE_1_0 = 56;
export const INDEX_ENTRY_SIZE_1_1 = 72;

export interface IndexEntry {
  /** Byte offset of the packet in its data file. */
  offset: number;
  /** Bits. */
  packetSize: number;
  /** Bits. */
  contentSize: number;
  timestampBegin: bigint;
  timestampEnd: bigint;
  eventsDiscarded: bigint;
  streamId: bigint;
  /** 1.1 only. */
  streamInstanceId?: bigint;
  /** 1.1 only. */
  packetSeqNum?: bigint;
}

export interface IndexFile {
  major: number;
  minor: number;
  entrySize: number;
  entries: IndexEntry[];
}

function u64(view: DataView, off: number): bigint {
  return view.getBigUint64(off, false);
}

function safeNumber(v: bigint, file: string, off: number, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new TraceFormatError(file, off, `index ${what} too large`);
  return Number(v);
}

/** Parses the bytes of an index file. `file` is used in error messages. */
export function parseIndexFile(bytes: Uint8Array, file: string): IndexFile {
  if (bytes.length < INDEX_HEADER_SIZE) {
    throw new TraceFormatError(file, 0, `index file too short (${bytes.length} bytes, header needs 16)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== INDEX_MAGIC) {
    throw new TraceFormatError(file, 0, `bad index magic 0x${magic.toString(16)} (expected 0xc1f1dcc1)`);
  }
  const major = view.getUint32(4, false);
  const minor = view.getUint32(8, false);
  const entrySize = view.getUint32(12, false);
  if (major !== 1) throw new TraceFormatError(file, 4, `unsupported index version ${major}.${minor}`);
  if (entrySize < INDEX_ENTRY_SIZE_1_0 || entrySize > 4096) {
    throw new TraceFormatError(file, 12, `bad index entry size ${entrySize}`);
  }
  const body = bytes.length - INDEX_HEADER_SIZE;
  if (body % entrySize !== 0) {
    throw new TraceFormatError(
      file,
      INDEX_HEADER_SIZE + body - (body % entrySize),
      `index file ends in the middle of an entry (${body % entrySize} stray bytes)`,
    );
  }
  const n = body / entrySize;
  const entries: IndexEntry[] = [];
  for (let i = 0; i < n; i++) {
    const off = INDEX_HEADER_SIZE + i * entrySize;
    const e: IndexEntry = {
      offset: safeNumber(u64(view, off), file, off, 'offset'),
      packetSize: safeNumber(u64(view, off + 8), file, off + 8, 'packet size'),
      contentSize: safeNumber(u64(view, off + 16), file, off + 16, 'content size'),
      timestampBegin: u64(view, off + 24),
      timestampEnd: u64(view, off + 32),
      eventsDiscarded: u64(view, off + 40),
      streamId: u64(view, off + 48),
    };
    if (entrySize >= INDEX_ENTRY_SIZE_1_1) {
      e.streamInstanceId = u64(view, off + 56);
      e.packetSeqNum = u64(view, off + 64);
    }
    entries.push(e);
  }
  return { major, minor, entrySize, entries };
}

/** Encodes an index file header (version 1.1 unless `minor` is 0). */
export function encodeIndexHeader(minor: 0 | 1 = 1): Uint8Array {
  const out = new Uint8Array(INDEX_HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(0, INDEX_MAGIC, false);
  view.setUint32(4, 1, false);
  view.setUint32(8, minor, false);
  view.setUint32(12, minor === 1 ? INDEX_ENTRY_SIZE_1_1 : INDEX_ENTRY_SIZE_1_0, false);
  return out;
}

/** Encodes one entry (72 bytes for 1.1, 56 for 1.0). */
export function encodeIndexEntry(e: IndexEntry, minor: 0 | 1 = 1): Uint8Array {
  const out = new Uint8Array(minor === 1 ? INDEX_ENTRY_SIZE_1_1 : INDEX_ENTRY_SIZE_1_0);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(e.offset), false);
  view.setBigUint64(8, BigInt(e.packetSize), false);
  view.setBigUint64(16, BigInt(e.contentSize), false);
  view.setBigUint64(24, e.timestampBegin, false);
  view.setBigUint64(32, e.timestampEnd, false);
  view.setBigUint64(40, e.eventsDiscarded, false);
  view.setBigUint64(48, e.streamId, false);
  if (minor === 1) {
    view.setBigUint64(56, e.streamInstanceId ?? 0n, false);
    view.setBigUint64(64, e.packetSeqNum ?? 0n, false);
  }
  return out;
}
