/**
 * Wire structs of the LTTng 2.13 relay protocols (control, data and live), described once as
 * field lists from which both the byte size and a typed decoder/encoder are derived.
 *
 * Every struct on these wires is packed and big-endian. A struct is declared as an ordered
 * record of field kinds; `Decoded<typeof S>` is the TypeScript type of its decoded value, so a
 * handler that reads a field the struct does not have, or treats a u64 as a number where it is
 * a bigint, does not compile. Sizes are checked against the C layouts in the tests.
 */

/** How one field is stored and what it decodes to. */
export interface FieldKind<T> {
  readonly size: number;
  read(view: DataView, off: number): T;
  write(view: DataView, off: number, v: T): void;
}

export const u8: FieldKind<number> = {
  size: 1,
  read: (v, o) => v.getUint8(o),
  write: (v, o, x) => v.setUint8(o, x),
};

export const u32: FieldKind<number> = {
  size: 4,
  read: (v, o) => v.getUint32(o, false),
  write: (v, o, x) => v.setUint32(o, x >>> 0, false),
};

/** A u64 kept exact, as a bigint (timestamps, counters that may exceed 2^53). */
export const u64: FieldKind<bigint> = {
  size: 8,
  read: (v, o) => v.getBigUint64(o, false),
  write: (v, o, x) => v.setBigUint64(o, BigInt.asUintN(64, x), false),
};

/** The all-ones u64 (`-1ULL`), the protocol's "none" value. */
export const U64_NONE = 0xffffffffffffffffn;

/**
 * A u64 identifier or sequence number read as a JS number: exact below 2^53, `-1` for the
 * all-ones "none" value (so wrap-around comparisons `(int64)(a - b) < 0` stay right when
 * written `a - b < 0`), otherwise the nearest double. Ids and sequence numbers never reach
 * 2^53 in practice; a peer that sends one only gets "unknown stream".
 */
export const u64n: FieldKind<number> = {
  size: 8,
  read: (v, o) => {
    const hi = v.getUint32(o, false);
    const lo = v.getUint32(o + 4, false);
    if (hi === 0xffffffff && lo === 0xffffffff) return -1;
    return hi * 0x100000000 + lo;
  },
  write: (v, o, x) => {
    if (x < 0) {
      v.setUint32(o, 0xffffffff, false);
      v.setUint32(o + 4, 0xffffffff, false);
    } else {
      v.setUint32(o, Math.floor(x / 0x100000000) >>> 0, false);
      v.setUint32(o + 4, x >>> 0, false);
    }
  },
};

/** `u64n` read straight from a buffer (hot paths: no DataView). */
export function readU64n(b: Uint8Array, off: number): number {
  const hi = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
  const lo = ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
  if (hi === 0xffffffff && lo === 0xffffffff) return -1;
  return hi * 0x100000000 + lo;
}

/** `char[n]`, NUL-padded; decodes to the text before the first NUL (UTF-8). */
export function chars(n: number): FieldKind<string> {
  return {
    size: n,
    read: (v, o) => {
      const bytes = new Uint8Array(v.buffer, v.byteOffset + o, n);
      let end = bytes.indexOf(0);
      if (end < 0) end = n;
      return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8');
    },
    write: (v, o, x) => {
      const dst = new Uint8Array(v.buffer, v.byteOffset + o, n);
      dst.fill(0);
      // Leave room for the terminating NUL, never split a UTF-8 sequence.
      const enc = utf8Truncate(x, n - 1);
      dst.set(enc);
    },
  };
}

/** Raw `uint8_t[n]` (UUIDs). */
export function bytes(n: number): FieldKind<Uint8Array> {
  return {
    size: n,
    read: (v, o) => new Uint8Array(v.buffer.slice(v.byteOffset + o, v.byteOffset + o + n)),
    write: (v, o, x) => {
      const dst = new Uint8Array(v.buffer, v.byteOffset + o, n);
      dst.fill(0);
      dst.set(x.subarray(0, n));
    },
  };
}

/** UTF-8 bytes of `s`, cut to at most `max` bytes on a character boundary. */
export function utf8Truncate(s: string, max: number): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

type Fields = Record<string, FieldKind<unknown>>;

/** The decoded value of a struct declared with fields `F`. */
export type Decoded<S> =
  S extends Struct<infer F> ? { [K in keyof F]: F[K] extends FieldKind<infer T> ? T : never } : never;

export interface Struct<F extends Fields> {
  readonly name: string;
  readonly size: number;
  readonly fields: F;
  /** Byte offset of each field. */
  readonly offsets: { readonly [K in keyof F]: number };
  /** Decodes `size` bytes at `off` of `buf` (caller checks that they are there). */
  decode(buf: Uint8Array, off?: number): { [K in keyof F]: F[K] extends FieldKind<infer T> ? T : never };
  /** Encodes into a new buffer of `size` bytes. */
  encode(value: { [K in keyof F]: F[K] extends FieldKind<infer T> ? T : never }): Buffer;
  /** Encodes into `buf` at `off`. */
  encodeInto(
    value: { [K in keyof F]: F[K] extends FieldKind<infer T> ? T : never },
    buf: Uint8Array,
    off: number,
  ): void;
}

/** Declares a packed big-endian struct. Field order is the declaration order. */
export function struct<F extends Fields>(name: string, fields: F): Struct<F> {
  type V = { [K in keyof F]: F[K] extends FieldKind<infer T> ? T : never };
  const names = Object.keys(fields) as (keyof F & string)[];
  const kinds = names.map((n) => fields[n]!);
  const offs: number[] = [];
  let size = 0;
  for (const k of kinds) {
    offs.push(size);
    size += k.size;
  }
  const offsets = Object.fromEntries(names.map((n, i) => [n, offs[i]!])) as { [K in keyof F]: number };
  const n = names.length;
  return {
    name,
    size,
    fields,
    offsets,
    decode(buf, off = 0) {
      if (off + size > buf.length) {
        throw new RangeError(`${name}: need ${size} bytes at ${off}, have ${buf.length - off}`);
      }
      const view = new DataView(buf.buffer, buf.byteOffset + off, size);
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) out[names[i]!] = kinds[i]!.read(view, offs[i]!);
      return out as V;
    },
    encode(value) {
      const b = Buffer.alloc(size);
      this.encodeInto(value, b, 0);
      return b;
    },
    encodeInto(value, buf, off) {
      const view = new DataView(buf.buffer, buf.byteOffset + off, size);
      const rec = value as Record<string, unknown>;
      for (let i = 0; i < n; i++) kinds[i]!.write(view, offs[i]!, rec[names[i]!]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Constants

/** lttng-relayd's default ports. */
export const DEFAULT_CONTROL_PORT = 5342;
export const DEFAULT_DATA_PORT = 5343;
export const DEFAULT_LIVE_PORT = 5344;

/** Relay protocol version we speak (lttng-tools 2.13). */
export const RELAYD_VERSION_MAJOR = 2;
export const RELAYD_VERSION_MINOR = 13;
/** Lowest negotiated minor we accept: 2.11 brought trace chunks and the current layouts. */
export const RELAYD_MIN_MINOR = 11;

/** `enum lttcomm_relayd_command`. */
export const RelaydCommand = {
  ADD_STREAM: 1,
  CREATE_SESSION: 2,
  START_DATA: 3,
  UPDATE_SYNC_INFO: 4,
  VERSION: 5,
  SEND_METADATA: 6,
  CLOSE_STREAM: 7,
  DATA_PENDING: 8,
  QUIESCENT_CONTROL: 9,
  BEGIN_DATA_PENDING: 10,
  END_DATA_PENDING: 11,
  ADD_INDEX: 12,
  SEND_INDEX: 13,
  CLOSE_INDEX: 14,
  LIST_SESSIONS: 15,
  STREAMS_SENT: 16,
  RESET_METADATA: 17,
  ROTATE_STREAMS: 18,
  CREATE_TRACE_CHUNK: 19,
  CLOSE_TRACE_CHUNK: 20,
  TRACE_CHUNK_EXISTS: 21,
  GET_CONFIGURATION: 22,
} as const;

/** Reply codes (`enum lttng_error_code`) used on the control connection. */
export const LttngErr = {
  OK: 10,
  UNK: 11,
  FATAL: 25,
  NOMEM: 26,
  INVALID: 97,
  INVALID_PROTOCOL: 152,
  FILE_CREATION_ERROR: 153,
} as const;

/** `enum lttng_trace_chunk_command_type`. */
export const ChunkCommand = { MOVE_TO_COMPLETED: 0, NO_OPERATION: 1, DELETE: 2 } as const;

/** Largest control payload the relay accepts (`DEFAULT_NETWORK_RELAYD_CTRL_MAX_PAYLOAD_SIZE`). */
export const MAX_CONTROL_PAYLOAD = 128 * 1024 * 1024;

/** `enum lttng_viewer_command`. */
export const ViewerCommand = {
  CONNECT: 1,
  LIST_SESSIONS: 2,
  ATTACH_SESSION: 3,
  GET_NEXT_INDEX: 4,
  GET_PACKET: 5,
  GET_METADATA: 6,
  GET_NEW_STREAMS: 7,
  CREATE_SESSION: 8,
  DETACH_SESSION: 9,
} as const;

export const ViewerAttach = { OK: 1, ALREADY: 2, UNK: 3, NOT_LIVE: 4, SEEK_ERR: 5, NO_SESSION: 6 } as const;
export const ViewerIndexStatus = { OK: 1, RETRY: 2, HUP: 3, ERR: 4, INACTIVE: 5, EOF: 6 } as const;
export const ViewerPacketStatus = { OK: 1, RETRY: 2, ERR: 3, EOF: 4 } as const;
export const ViewerMetadataStatus = { OK: 1, NO_NEW: 2, ERR: 3 } as const;
export const ViewerNewStreams = { OK: 1, NO_NEW: 2, ERR: 3, HUP: 4 } as const;
export const ViewerCreateSession = { OK: 1, ERR: 2 } as const;
export const ViewerDetach = { OK: 1, UNK: 2, ERR: 3 } as const;
export const ViewerSeek = { BEGINNING: 1, LAST: 2 } as const;
export const ViewerFlag = { NEW_METADATA: 1, NEW_STREAM: 2 } as const;
export const ViewerConnType = { COMMAND: 1, NOTIFICATION: 2 } as const;

export const LTTNG_VIEWER_PATH_MAX = 4096;
export const LTTNG_VIEWER_NAME_MAX = 255;
export const LTTNG_VIEWER_HOST_NAME_MAX = 64;

// ---------------------------------------------------------------------------------------------
// Control and data connections (src/common/sessiond-comm/relayd.h)

export const RelaydHdr = struct('lttcomm_relayd_hdr', {
  circuit_id: u64n,
  data_size: u64n,
  cmd: u32,
  cmd_version: u32,
});

export const DataHdr = struct('lttcomm_relayd_data_hdr', {
  circuit_id: u64n,
  stream_id: u64n,
  net_seq_num: u64n,
  data_size: u32,
  padding_size: u32,
});

export const GenericReply = struct('lttcomm_relayd_generic_reply', { ret_code: u32 });

export const StatusSession = struct('lttcomm_relayd_status_session', { session_id: u64n, ret_code: u32 });

export const StatusStream = struct('lttcomm_relayd_status_stream', { handle: u64n, ret_code: u32 });

export const VersionMsg = struct('lttcomm_relayd_version', { major: u32, minor: u32 });

/** Our VERSION message (the same from both ends of a control connection). */
export function versionMessage(): Buffer {
  return VersionMsg.encode({ major: RELAYD_VERSION_MAJOR, minor: RELAYD_VERSION_MINOR });
}

/**
 * The minor version both ends speak once each has the other's VERSION (the lower of the two),
 * or why they cannot talk: the peer does not speak 2.x (`major`) or is older than
 * 2.RELAYD_MIN_MINOR (`minor`).
 */
export function agreedMinor(peer: {
  readonly major: number;
  readonly minor: number;
}): number | 'major' | 'minor' {
  if (peer.major !== RELAYD_VERSION_MAJOR) return 'major';
  const minor = Math.min(peer.minor, RELAYD_VERSION_MINOR);
  return minor < RELAYD_MIN_MINOR ? 'minor' : minor;
}

export const GetConfiguration = struct('lttcomm_relayd_get_configuration', { query_flags: u64 });

export const GetConfigurationReply = struct('lttcomm_relayd_get_configuration_reply', {
  ret_code: u32,
  relayd_configuration_flags: u64,
});

export const CreateSession211 = struct('lttcomm_relayd_create_session_2_11', {
  session_name_len: u32,
  hostname_len: u32,
  base_path_len: u32,
  live_timer: u32,
  snapshot: u8,
  session_name_contains_creation_time: u8,
  sessiond_uuid: bytes(16),
  session_id: u64n,
  creation_time: u64n,
  current_chunk_id_is_set: u8,
  current_chunk_id: u64n,
});

export const CreateSessionReply211 = struct('lttcomm_relayd_create_session_reply_2_11', {
  session_id: u64n,
  ret_code: u32,
  output_path_length: u32,
});

export const AddStream211 = struct('lttcomm_relayd_add_stream_2_11', {
  channel_name_len: u32,
  pathname_len: u32,
  tracefile_size: u64n,
  tracefile_count: u64n,
  trace_chunk_id: u64n,
});

export const MetadataPayload = struct('lttcomm_relayd_metadata_payload', {
  stream_id: u64n,
  padding_size: u32,
});

/** SEND_INDEX payload for negotiated minor >= 8 (index format 1.1). */
export const RelaydIndex = struct('lttcomm_relayd_index', {
  relay_stream_id: u64n,
  net_seq_num: u64n,
  packet_size: u64n,
  content_size: u64n,
  timestamp_begin: u64,
  timestamp_end: u64,
  events_discarded: u64,
  stream_id: u64,
  stream_instance_id: u64,
  packet_seq_num: u64,
});
/** SEND_INDEX payload size for negotiated minor < 8. */
export const RELAYD_INDEX_SIZE_1_0 = 64;

export const CloseStream = struct('lttcomm_relayd_close_stream', { stream_id: u64n, last_net_seq_num: u64n });

export const DataPending = struct('lttcomm_relayd_data_pending', { stream_id: u64n, last_net_seq_num: u64n });

export const QuiescentControl = struct('lttcomm_relayd_quiescent_control', { stream_id: u64n });

export const BeginDataPending = struct('lttcomm_relayd_begin_data_pending', { session_id: u64n });

export const EndDataPending = struct('lttcomm_relayd_end_data_pending', { session_id: u64n });

export const ResetMetadata = struct('lttcomm_relayd_reset_metadata', { stream_id: u64n, version: u64 });

export const StreamRotationPosition = struct('lttcomm_relayd_stream_rotation_position', {
  stream_id: u64n,
  rotate_at_seq_num: u64n,
});

/** The x86-64 layout of `lttcomm_relayd_rotate_streams` (7 bytes of padding after is_set). */
export const RotateStreamsHdr = struct('lttcomm_relayd_rotate_streams_7_bytes_padding', {
  stream_count: u32,
  new_chunk_id_is_set: u8,
  padding: bytes(7),
  new_chunk_id: u64n,
});
/** Header sizes a 2.13 relay accepts: packed, i386, x86-64/aarch64. */
export const ROTATE_STREAMS_HDR_SIZES = [13, 16, 20] as const;

export const CreateTraceChunk = struct('lttcomm_relayd_create_trace_chunk', {
  chunk_id: u64n,
  creation_timestamp: u64n,
  override_name_length: u32,
});

export const CloseTraceChunk = struct('lttcomm_relayd_close_trace_chunk', {
  chunk_id: u64n,
  close_timestamp: u64n,
  close_command_is_set: u8,
  close_command: u32,
});

export const CloseTraceChunkReply = struct('lttcomm_relayd_close_trace_chunk_reply', {
  ret_code: u32,
  path_length: u32,
});

export const TraceChunkExists = struct('lttcomm_relayd_trace_chunk_exists', { chunk_id: u64n });

export const TraceChunkExistsReply = struct('lttcomm_relayd_trace_chunk_exists_reply', {
  ret_code: u32,
  trace_chunk_exists: u8,
});

// ---------------------------------------------------------------------------------------------
// Live (viewer) connection (src/bin/lttng-relayd/lttng-viewer-abi.h)

export const ViewerCmd = struct('lttng_viewer_cmd', { data_size: u64n, cmd: u32, cmd_version: u32 });

export const ViewerConnect = struct('lttng_viewer_connect', {
  viewer_session_id: u64n,
  major: u32,
  minor: u32,
  type: u32,
});

export const ViewerSessionRec = struct('lttng_viewer_session', {
  id: u64n,
  live_timer: u32,
  clients: u32,
  streams: u32,
  hostname: chars(LTTNG_VIEWER_HOST_NAME_MAX),
  session_name: chars(LTTNG_VIEWER_NAME_MAX),
});

export const ViewerListSessions = struct('lttng_viewer_list_sessions', { sessions_count: u32 });

export const ViewerAttachRequest = struct('lttng_viewer_attach_session_request', {
  session_id: u64n,
  offset: u64,
  seek: u32,
});

export const ViewerAttachResponse = struct('lttng_viewer_attach_session_response', {
  status: u32,
  streams_count: u32,
});

export const ViewerStreamRec = struct('lttng_viewer_stream', {
  id: u64n,
  ctf_trace_id: u64n,
  metadata_flag: u32,
  path_name: chars(LTTNG_VIEWER_PATH_MAX),
  channel_name: chars(LTTNG_VIEWER_NAME_MAX),
});

export const ViewerGetNextIndex = struct('lttng_viewer_get_next_index', { stream_id: u64n });

export const ViewerIndex = struct('lttng_viewer_index', {
  offset: u64,
  packet_size: u64,
  content_size: u64,
  timestamp_begin: u64,
  timestamp_end: u64,
  events_discarded: u64,
  stream_id: u64,
  status: u32,
  flags: u32,
});

export const ViewerGetPacket = struct('lttng_viewer_get_packet', { stream_id: u64n, offset: u64n, len: u32 });

export const ViewerTracePacket = struct('lttng_viewer_trace_packet', { status: u32, len: u32, flags: u32 });

export const ViewerGetMetadata = struct('lttng_viewer_get_metadata', { stream_id: u64n });

export const ViewerMetadataPacket = struct('lttng_viewer_metadata_packet', { len: u64n, status: u32 });

export const ViewerNewStreamsRequest = struct('lttng_viewer_new_streams_request', { session_id: u64n });

export const ViewerNewStreamsResponse = struct('lttng_viewer_new_streams_response', {
  status: u32,
  streams_count: u32,
});

export const ViewerCreateSessionResponse = struct('lttng_viewer_create_session_response', { status: u32 });

export const ViewerDetachRequest = struct('lttng_viewer_detach_session_request', { session_id: u64n });

export const ViewerDetachResponse = struct('lttng_viewer_detach_session_response', { status: u32 });

/** Request payload size per viewer command (the relay ignores the header's `data_size`). */
export const VIEWER_REQUEST_SIZE: Readonly<Record<number, number>> = {
  [ViewerCommand.CONNECT]: ViewerConnect.size,
  [ViewerCommand.LIST_SESSIONS]: 0,
  [ViewerCommand.ATTACH_SESSION]: ViewerAttachRequest.size,
  [ViewerCommand.GET_NEXT_INDEX]: ViewerGetNextIndex.size,
  [ViewerCommand.GET_PACKET]: ViewerGetPacket.size,
  [ViewerCommand.GET_METADATA]: ViewerGetMetadata.size,
  [ViewerCommand.GET_NEW_STREAMS]: ViewerNewStreamsRequest.size,
  [ViewerCommand.CREATE_SESSION]: 0,
  [ViewerCommand.DETACH_SESSION]: ViewerDetachRequest.size,
};

/** Reads the NUL-terminated string of exactly `len` bytes (NUL included) at `off`, or null. */
export function readCString(buf: Uint8Array, off: number, len: number): string | null {
  if (len < 1 || off + len > buf.length) return null;
  if (buf[off + len - 1] !== 0) return null;
  const nul = buf.indexOf(0, off);
  return Buffer.from(buf.buffer, buf.byteOffset + off, nul - off).toString('utf8');
}

/** `s` as UTF-8 bytes followed by a NUL. */
export function cstring(s: string): Buffer {
  const b = Buffer.alloc(Buffer.byteLength(s, 'utf8') + 1);
  b.write(s, 0, 'utf8');
  return b;
}
