import { describe, expect, it } from 'vitest';
import { thrownBy } from '../../../test/helpers/errors.js';
import { MetadataError, TraceFormatError } from '../../util/errors.js';
import type { ByteOrder } from '../ir.js';
import { METADATA_PACKET_HEADER_SIZE, METADATA_PACKET_MAGIC, readMetadataBytes } from './packetized.js';
import { concatBytes } from '../bytes.js';

const UUID = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

interface PacketSpec {
  text: string;
  order?: ByteOrder;
  /** Padding bytes after the content. */
  pad?: number;
  uuid?: Uint8Array;
  magic?: number;
  contentBits?: number;
  packetBits?: number;
  compression?: number;
  encryption?: number;
  checksumScheme?: number;
  major?: number;
  minor?: number;
}

function packet(p: PacketSpec): Uint8Array {
  const body = new TextEncoder().encode(p.text);
  const content = METADATA_PACKET_HEADER_SIZE + body.length;
  const size = content + (p.pad ?? 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  const le = (p.order ?? 'le') === 'le';
  v.setUint32(0, p.magic ?? METADATA_PACKET_MAGIC, le);
  out.set(p.uuid ?? UUID, 4);
  v.setUint32(20, 0, le);
  v.setUint32(24, p.contentBits ?? content * 8, le);
  v.setUint32(28, p.packetBits ?? size * 8, le);
  out[32] = p.compression ?? 0;
  out[33] = p.encryption ?? 0;
  out[34] = p.checksumScheme ?? 0;
  out[35] = p.major ?? 1;
  out[36] = p.minor ?? 8;
  out.set(body, METADATA_PACKET_HEADER_SIZE);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

function formatError(bytes: Uint8Array): TraceFormatError {
  return thrownBy(TraceFormatError, () => readMetadataBytes(bytes, 'metadata'));
}

describe('packetized metadata', () => {
  it('passes plain text through', () => {
    const m = readMetadataBytes(new TextEncoder().encode('/* CTF 1.8 */ trace {};'), 'm');
    expect(m).toEqual({ text: '/* CTF 1.8 */ trace {};', packetized: false });
  });

  it('concatenates packet contents, skipping padding, in both byte orders', () => {
    for (const order of ['le', 'be'] as const) {
      const bytes = concat(
        packet({ text: '/* CTF 1.8 */\ntrace { ', order, pad: 100 }),
        packet({ text: 'major = 1; ', order, pad: 0 }),
        packet({ text: '', order, pad: 7 }),
        packet({ text: 'minor = 8; };', order, pad: 3 }),
      );
      const m = readMetadataBytes(bytes, 'm');
      expect(m.text).toBe('/* CTF 1.8 */\ntrace { major = 1; minor = 8; };');
      expect(m.packetized).toBe(true);
      expect(m.byteOrder).toBe(order);
      expect(m.uuid).toEqual(UUID);
    }
  });

  it('rejects malformed packets with the byte offset of the bad field', () => {
    const ok = packet({ text: 'abc', pad: 5 });
    const cases: Array<[Uint8Array, number, RegExp]> = [
      [concat(ok, packet({ text: 'x', magic: 0x12345678 })), ok.length, /bad metadata packet magic/],
      [concat(ok, packet({ text: 'x', uuid: new Uint8Array(16) })), ok.length + 4, /UUID differs/],
      [concat(ok, packet({ text: 'x', order: 'be' })), ok.length, /bad metadata packet magic/],
      [packet({ text: 'x', contentBits: 20 * 8 }), 24, /smaller than its header/],
      [packet({ text: 'x', contentBits: 1000 * 8, packetBits: 100 * 8 }), 24, /exceeds its packet size/],
      [packet({ text: 'xy', contentBits: 38 * 8 + 3 }), 24, /whole bytes/],
      [packet({ text: 'x', packetBits: 4096 * 8 }), 28, /goes past the end of the file/],
      [packet({ text: 'x', compression: 1 }), 32, /compressed/],
      [packet({ text: 'x', encryption: 1 }), 33, /encrypted/],
      [packet({ text: 'x', checksumScheme: 3 }), 34, /checksums are not supported/],
      [packet({ text: 'x', major: 1, minor: 9 }), 35, /version 1\.9/],
      [packet({ text: 'x', major: 2, minor: 0 }), 35, /CTF 2 is not supported/],
      [concat(ok, ok.subarray(0, 20)), ok.length, /truncated metadata packet header/],
    ];
    for (const [bytes, offset, reason] of cases) {
      const e = formatError(bytes);
      expect(e.message).toMatch(reason);
      expect(e.offset).toBe(offset);
    }
  });

  it('refuses CTF 2 JSON metadata clearly', () => {
    const json = new TextEncoder().encode('\u001e{ "type": "preamble", "version": 2 }');
    expect(() => readMetadataBytes(json, 'm')).toThrow(MetadataError);
    expect(() => readMetadataBytes(json, 'm')).toThrow(/CTF 2 is not supported/);
    expect(() => readMetadataBytes(new TextEncoder().encode('  {"type":"preamble"}'), 'm')).toThrow(/CTF 2/);
  });
});
