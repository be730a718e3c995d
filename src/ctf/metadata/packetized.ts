/**
 * The two physical forms of a CTF 1.8 metadata file: plain TSDL text, or a sequence of metadata
 * packets (each a 37-byte header followed by a slice of the TSDL text, then padding).
 *
 * This module only turns bytes into TSDL text; it does not look at the text (except to refuse
 * CTF 2 JSON metadata early with a clear message). It does not parse TSDL.
 */
import { MetadataError, TraceFormatError } from '../../util/errors.js';
import type { ByteOrder } from '../ir.js';

/** Magic number of a metadata packet header, read in the packet's byte order. */
export const METADATA_PACKET_MAGIC = 0x75d11d57;
/** Size of the metadata packet header in bytes. */
export const METADATA_PACKET_HEADER_SIZE = 37;

export interface MetadataText {
  /** The TSDL text (concatenated packet contents for packetized metadata). */
  readonly text: string;
  readonly packetized: boolean;
  /** Byte order of the packet headers (packetized metadata only). */
  readonly byteOrder?: ByteOrder;
  /** UUID of the packet headers (packetized metadata only). */
  readonly uuid?: Uint8Array;
}

/** Record separator that starts a CTF 2 metadata stream (RFC 7464 JSON text sequence). */
const RS = 0x1e;

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Reads metadata bytes in either form. `file` is only used in error messages.
 *
 * Packet validation: magic in either byte order (the first packet decides it, later packets
 * must agree), `content_size` a multiple of 8 and at least the header, `content_size <=
 * packet_size`, the packet within the file, the same UUID in every packet, no compression,
 * encryption or checksum scheme, and version 1.8.
 */
export function readMetadataBytes(bytes: Uint8Array, file: string): MetadataText {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let byteOrder: ByteOrder | undefined;
  if (bytes.length >= 4) {
    if (view.getUint32(0, true) === METADATA_PACKET_MAGIC) byteOrder = 'le';
    else if (view.getUint32(0, false) === METADATA_PACKET_MAGIC) byteOrder = 'be';
  }
  if (byteOrder === undefined) return { text: plainText(bytes, file), packetized: false };

  const le = byteOrder === 'le';
  const parts: string[] = [];
  let uuid: Uint8Array | undefined;
  let off = 0;
  while (off < bytes.length) {
    const remaining = bytes.length - off;
    if (remaining < METADATA_PACKET_HEADER_SIZE) {
      throw new TraceFormatError(
        file,
        off,
        `truncated metadata packet header (${remaining} bytes left, header needs ${METADATA_PACKET_HEADER_SIZE})`,
      );
    }
    const magic = view.getUint32(off, le);
    if (magic !== METADATA_PACKET_MAGIC) {
      throw new TraceFormatError(
        file,
        off,
        `bad metadata packet magic 0x${magic.toString(16).padStart(8, '0')} (expected 0x75d11d57 in the first packet's byte order)`,
      );
    }
    const pktUuid = bytes.subarray(off + 4, off + 20);
    if (uuid === undefined) uuid = pktUuid.slice();
    else if (!sameBytes(uuid, pktUuid)) {
      throw new TraceFormatError(file, off + 4, 'metadata packet UUID differs from the first packet UUID');
    }
    const contentBits = view.getUint32(off + 24, le);
    const packetBits = view.getUint32(off + 28, le);
    const compression = view.getUint8(off + 32);
    const encryption = view.getUint8(off + 33);
    const checksumScheme = view.getUint8(off + 34);
    const major = view.getUint8(off + 35);
    const minor = view.getUint8(off + 36);
    if (major !== 1 || minor !== 8) {
      if (major === 2)
        throw new TraceFormatError(file, off + 35, 'CTF 2 is not supported (metadata packet version 2)');
      throw new TraceFormatError(
        file,
        off + 35,
        `unsupported metadata packet version ${major}.${minor} (expected 1.8)`,
      );
    }
    if (compression !== 0) {
      throw new TraceFormatError(
        file,
        off + 32,
        `compressed metadata packets are not supported (scheme ${compression})`,
      );
    }
    if (encryption !== 0) {
      throw new TraceFormatError(
        file,
        off + 33,
        `encrypted metadata packets are not supported (scheme ${encryption})`,
      );
    }
    if (checksumScheme !== 0) {
      throw new TraceFormatError(
        file,
        off + 34,
        `metadata packet checksums are not supported (scheme ${checksumScheme})`,
      );
    }
    if (contentBits % 8 !== 0 || packetBits % 8 !== 0) {
      throw new TraceFormatError(
        file,
        off + 24,
        `metadata packet sizes must be whole bytes (content ${contentBits} bits, packet ${packetBits} bits)`,
      );
    }
    const contentBytes = contentBits / 8;
    const packetBytes = packetBits / 8;
    if (contentBytes < METADATA_PACKET_HEADER_SIZE) {
      throw new TraceFormatError(
        file,
        off + 24,
        `metadata packet content size ${contentBits} bits is smaller than its header (${METADATA_PACKET_HEADER_SIZE * 8} bits)`,
      );
    }
    if (contentBytes > packetBytes) {
      throw new TraceFormatError(
        file,
        off + 24,
        `metadata packet content size ${contentBits} bits exceeds its packet size ${packetBits} bits`,
      );
    }
    if (packetBytes > remaining) {
      throw new TraceFormatError(
        file,
        off + 28,
        `metadata packet of ${packetBytes} bytes goes past the end of the file (${remaining} bytes left)`,
      );
    }
    parts.push(decoder.decode(bytes.subarray(off + METADATA_PACKET_HEADER_SIZE, off + contentBytes)));
    off += packetBytes;
  }
  const text = parts.join('');
  return { text, packetized: true, byteOrder, uuid: uuid ?? new Uint8Array(16) };
}

function plainText(bytes: Uint8Array, file: string): string {
  // Skip leading white space to recognise CTF 2 (RS-prefixed or bare JSON object).
  let i = 0;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
  )
    i++;
  if (i < bytes.length && (bytes[i] === RS || bytes[i] === 0x7b) /* { */) {
    throw new MetadataError(file, undefined, undefined, 'CTF 2 is not supported (JSON metadata)');
  }
  return decoder.decode(bytes);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
