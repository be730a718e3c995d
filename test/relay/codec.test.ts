/** Wire struct layouts, URL and path rules of the relay module. */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../src/relay/bytequeue.js';
import * as C from '../../src/relay/codec.js';
import {
  datetimeString,
  isSafeComponent,
  safeRelativePath,
  sessionOutputPath,
  uniqueDir,
} from '../../src/relay/paths.js';
import { parseRelayUrl } from '../../src/relay/url.js';
import { UsageError } from '../../src/util/errors.js';
import { tempDir } from './helpers.js';

describe('wire structs', () => {
  it('have the sizes of the packed C structs of lttng-tools 2.13', () => {
    // relayd.h and lttng-viewer-abi.h @ v2.13.9 (docs/research/relayd-protocol.md).
    const sizes: [C.Struct<never>, number][] = [
      [C.RelaydHdr, 24],
      [C.DataHdr, 32],
      [C.GenericReply, 4],
      [C.StatusSession, 12],
      [C.StatusStream, 12],
      [C.VersionMsg, 8],
      [C.GetConfiguration, 8],
      [C.GetConfigurationReply, 12],
      [C.CreateSession211, 59],
      [C.CreateSessionReply211, 16],
      [C.AddStream211, 32],
      [C.MetadataPayload, 12],
      [C.RelaydIndex, 80],
      [C.CloseStream, 16],
      [C.DataPending, 16],
      [C.QuiescentControl, 8],
      [C.BeginDataPending, 8],
      [C.EndDataPending, 8],
      [C.ResetMetadata, 16],
      [C.StreamRotationPosition, 16],
      [C.RotateStreamsHdr, 20],
      [C.CreateTraceChunk, 20],
      [C.CloseTraceChunk, 21],
      [C.CloseTraceChunkReply, 8],
      [C.TraceChunkExists, 8],
      [C.TraceChunkExistsReply, 5],
      [C.ViewerCmd, 16],
      [C.ViewerConnect, 20],
      [C.ViewerSessionRec, 339],
      [C.ViewerListSessions, 4],
      [C.ViewerAttachRequest, 20],
      [C.ViewerAttachResponse, 8],
      [C.ViewerStreamRec, 4371],
      [C.ViewerGetNextIndex, 8],
      [C.ViewerIndex, 64],
      [C.ViewerGetPacket, 20],
      [C.ViewerTracePacket, 12],
      [C.ViewerGetMetadata, 8],
      [C.ViewerMetadataPacket, 12],
      [C.ViewerNewStreamsRequest, 8],
      [C.ViewerNewStreamsResponse, 8],
      [C.ViewerCreateSessionResponse, 4],
      [C.ViewerDetachRequest, 8],
      [C.ViewerDetachResponse, 4],
    ] as unknown as [C.Struct<never>, number][];
    for (const [s, n] of sizes) expect(s.size, s.name).toBe(n);
  });

  it('put fields at the C offsets', () => {
    expect(C.CreateSession211.offsets.sessiond_uuid).toBe(18);
    expect(C.CreateSession211.offsets.session_id).toBe(34);
    expect(C.CreateSession211.offsets.creation_time).toBe(42);
    expect(C.CreateSession211.offsets.current_chunk_id_is_set).toBe(50);
    expect(C.CreateSession211.offsets.current_chunk_id).toBe(51);
    expect(C.RelaydIndex.offsets.packet_size).toBe(16);
    expect(C.RelaydIndex.offsets.packet_seq_num).toBe(72);
    expect(C.RotateStreamsHdr.offsets.new_chunk_id).toBe(12);
    expect(C.CloseTraceChunk.offsets.close_command).toBe(17);
    expect(C.ViewerSessionRec.offsets.hostname).toBe(20);
    expect(C.ViewerSessionRec.offsets.session_name).toBe(84);
    expect(C.ViewerStreamRec.offsets.path_name).toBe(20);
    expect(C.ViewerStreamRec.offsets.channel_name).toBe(4116);
    expect(C.ViewerIndex.offsets.status).toBe(56);
    expect(C.ViewerGetPacket.offsets.len).toBe(16);
    expect(C.ViewerMetadataPacket.offsets.status).toBe(8);
  });

  it('encode big-endian and decode what they encode', () => {
    const b = C.DataHdr.encode({
      circuit_id: 0,
      stream_id: 7,
      net_seq_num: 0x123456789,
      data_size: 4096,
      padding_size: 12,
    });
    expect(b.toString('hex')).toBe(
      '0000000000000000' + '0000000000000007' + '0000000123456789' + '00001000' + '0000000c',
    );
    expect(C.DataHdr.decode(b)).toEqual({
      circuit_id: 0,
      stream_id: 7,
      net_seq_num: 0x123456789,
      data_size: 4096,
      padding_size: 12,
    });
    fc.assert(
      fc.property(
        fc.record({
          status: fc.integer({ min: 0, max: 0xffffffff }),
          len: fc.integer({ min: 0, max: 0xffffffff }),
          flags: fc.integer({ min: 0, max: 0xffffffff }),
        }),
        (v) => {
          expect(C.ViewerTracePacket.decode(C.ViewerTracePacket.encode(v))).toEqual(v);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
        (ver, id) => {
          expect(C.ResetMetadata.decode(C.ResetMetadata.encode({ stream_id: id, version: ver }))).toEqual({
            stream_id: id,
            version: ver,
          });
        },
      ),
    );
  });

  it('read the all-ones u64 as -1 and round-trip it', () => {
    const b = Buffer.alloc(8, 0xff);
    expect(C.u64n.read(new DataView(b.buffer), 0)).toBe(-1);
    const out = C.CloseStream.encode({ stream_id: 3, last_net_seq_num: -1 });
    expect(out.subarray(8).toString('hex')).toBe('ffffffffffffffff');
  });

  it('NUL-pad char[] fields and cut them on a UTF-8 boundary', () => {
    const rec = C.ViewerSessionRec.encode({
      id: 1,
      live_timer: 2,
      clients: 0,
      streams: 3,
      hostname: 'h'.repeat(63) + 'é',
      session_name: 'sess',
    });
    const d = C.ViewerSessionRec.decode(rec);
    expect(d.hostname).toBe('h'.repeat(63));
    expect(d.session_name).toBe('sess');
    expect(rec[C.ViewerSessionRec.offsets.session_name + 4]).toBe(0);
  });

  it('decodes only complete buffers', () => {
    expect(() => C.RelaydHdr.decode(Buffer.alloc(23))).toThrow(RangeError);
  });

  it('reads NUL-terminated names of an exact announced length', () => {
    const b = Buffer.from('abc\0xyz\0', 'latin1');
    expect(C.readCString(b, 0, 4)).toBe('abc');
    expect(C.readCString(b, 4, 4)).toBe('xyz');
    expect(C.readCString(b, 0, 3)).toBeNull(); // not NUL-terminated at its length
    expect(C.readCString(b, 4, 5)).toBeNull(); // past the end
    expect(C.readCString(b, 0, 0)).toBeNull();
  });
});

describe('VERSION', () => {
  it('both ends send 2.13 and speak the lower minor, 2.11 at the least', () => {
    expect(C.VersionMsg.decode(C.versionMessage())).toEqual({ major: 2, minor: 13 });
    expect(C.agreedMinor({ major: 2, minor: 15 })).toBe(13);
    expect(C.agreedMinor({ major: 2, minor: 12 })).toBe(12);
    expect(C.agreedMinor({ major: 2, minor: 11 })).toBe(11);
    expect(C.agreedMinor({ major: 2, minor: 10 })).toBe('minor');
    expect(C.agreedMinor({ major: 3, minor: 0 })).toBe('major');
    expect(C.agreedMinor({ major: 1, minor: 13 })).toBe('major');
  });
});

describe('ByteQueue', () => {
  it('cuts messages across arbitrary fragments', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 40 })),
        (data, cuts) => {
          const q = new ByteQueue();
          let o = 0;
          for (const c of cuts) {
            if (o >= data.length) break;
            q.push(Buffer.from(data.subarray(o, o + c)));
            o += c;
          }
          if (o < data.length) q.push(Buffer.from(data.subarray(o)));
          expect(q.length).toBe(data.length);
          const a = q.take(Math.min(17, data.length));
          const rest: Buffer[] = [];
          while (q.length > 0) rest.push(q.takeSome(5));
          expect(Buffer.concat([a, ...rest])).toEqual(Buffer.from(data));
        },
      ),
    );
  });

  it('keeps the byte stream intact when small fragments are coalesced between takes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            push: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 3000, max: 9000 })),
            take: fc.integer({ min: 0, max: 12_000 }),
            how: fc.constantFrom('take', 'takeSome', 'peek+skip'),
          }),
          { maxLength: 40 },
        ),
        (ops) => {
          const q = new ByteQueue();
          const sent: number[] = [];
          const got: number[] = [];
          let next = 0;
          for (const op of ops) {
            const frag = Buffer.alloc(op.push);
            for (let i = 0; i < frag.length; i++) frag[i] = (next + i) % 251;
            next += frag.length;
            for (const b of frag) sent.push(b);
            q.push(frag);
            // Small fragments are copied (their buffer may be reused, like the data port's shared
            // read buffer); big ones are kept by reference. Spoil the caller's copy.
            frag.fill(0);
            const n = Math.min(op.take, q.length);
            let out: Buffer;
            if (op.how === 'take') out = q.take(n);
            else if (op.how === 'takeSome') out = q.takeSome(n);
            else {
              out = Buffer.from(q.peek(n));
              q.skip(n);
            }
            for (const b of out) got.push(b);
          }
          while (q.length > 0) for (const b of q.takeSome(q.length)) got.push(b);
          // Every byte comes out once, in order; the small fragments' bytes as they were pushed.
          expect(got.length).toBe(sent.length);
          let o = 0;
          for (const op of ops) {
            if (op.push < 4096) expect(got.slice(o, o + op.push)).toEqual(sent.slice(o, o + op.push));
            o += op.push;
          }
        },
      ),
    );
  });
});

describe('relay URLs', () => {
  it('parse like lttng create --set-url', () => {
    expect(parseRelayUrl('net://relay')).toEqual({
      host: 'relay',
      controlPort: 5342,
      dataPort: 5343,
      basePath: '',
      family: 0,
    });
    expect(parseRelayUrl('net://10.0.0.1:6000:6001/some/path/')).toMatchObject({
      host: '10.0.0.1',
      controlPort: 6000,
      dataPort: 6001,
      basePath: 'some/path',
    });
    expect(parseRelayUrl('net://h:7000')).toMatchObject({ controlPort: 7000, dataPort: 5343 });
    expect(parseRelayUrl('net6://[::1]:7000:7001')).toMatchObject({ host: '::1', family: 6 });
    for (const bad of ['tcp://h', 'net://', 'net://h:0', 'net://h:70000', 'h:5342']) {
      expect(() => parseRelayUrl(bad), bad).toThrow(UsageError);
    }
  });
});

describe('output paths', () => {
  const n = {
    sessionName: 'mysess',
    hostname: 'myhost',
    basePath: '',
    creationTime: Date.UTC(2024, 0, 2, 3, 4, 5) / 1000,
    sessionNameContainsCreationTime: false,
  };

  it('follow lttng-relayd grouping', () => {
    const dt = datetimeString(n.creationTime);
    expect(dt).toMatch(/^\d{8}-\d{6}$/);
    expect(sessionOutputPath(n, 'host')).toBe(`myhost/mysess-${dt}`);
    expect(sessionOutputPath({ ...n, basePath: '/a/b/' }, 'host')).toBe('myhost/a/b');
    expect(
      sessionOutputPath(
        { ...n, sessionName: 'auto-20240102-030405', sessionNameContainsCreationTime: true },
        'host',
      ),
    ).toBe('myhost/auto-20240102-030405');
    expect(sessionOutputPath(n, 'session')).toBe(`mysess/myhost-${dt}`);
    expect(sessionOutputPath({ ...n, basePath: 'x' }, 'session')).toBe(`mysess/myhost-${dt}/x`);
  });

  it('formats the creation time in local time like strftime', () => {
    const t = new Date(2023, 10, 5, 7, 8, 9).getTime() / 1000;
    expect(datetimeString(t)).toBe('20231105-070809');
  });

  it('refuse names that escape the output directory', () => {
    for (const bad of ['', '.', '..', '.hidden', 'a/b', 'x\ny'])
      expect(isSafeComponent(bad), bad).toBe(false);
    expect(isSafeComponent('ctr-web_1.example')).toBe(true);
    expect(safeRelativePath('/ust/uid/0/64-bit', false)).toBe('ust/uid/0/64-bit');
    for (const bad of ['../x', 'a/../b', 'a//b', 'a/./b', '..', '//etc'])
      expect(safeRelativePath(bad, false), bad).toBeNull();
    expect(safeRelativePath('', false)).toBeNull();
    expect(safeRelativePath('', true)).toBe('');
  });

  it('never reuse a directory that exists', () => {
    const dir = tempDir('relay-paths');
    try {
      expect(uniqueDir(dir, 'h/s', () => false)).toBe('h/s');
      mkdirSync(join(dir, 'h/s'), { recursive: true });
      expect(uniqueDir(dir, 'h/s', () => false)).toBe('h/s-1');
      expect(uniqueDir(dir, 'h/s', (r) => r === 'h/s-1')).toBe('h/s-2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
