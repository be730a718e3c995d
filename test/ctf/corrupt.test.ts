/**
 * Bad input never crashes, hangs or allocates without bound: each corruption gives one
 * `TraceFormatError`/`MetadataError` naming the file and the byte offset (or metadata line).
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TraceSet } from '../../src/ctf/index.js';
import { MetadataError, NstraceError, TraceFormatError } from '../../src/util/errors.js';
import { thrownBy } from '../helpers/errors.js';

const work = mkdtempSync(join(tmpdir(), 'nstrace-corrupt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const METADATA = `/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 32; align = 8; signed = true; } := int32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
trace {
  major = 1; minor = 8; byte_order = le;
  packet.header := struct { uint32_t magic; uint32_t stream_id; };
};
clock { name = c; freq = 1000000000; };
typealias integer { size = 64; align = 8; signed = false; map = clock.c.value; } := uint64_clock_t;
stream {
  id = 0;
  packet.context := struct { uint64_t packet_size; uint64_t content_size; };
  event.header := struct { uint32_t id; uint64_clock_t timestamp; };
};
event {
  name = "ev"; id = 0; stream_id = 0;
  fields := struct { uint32_t len; int32_t seq[len]; };
};
`;

/** A packet of events `ev { len; seq[len] }`; returns its bytes (packet_size = bytes.length). */
function packet(events: Array<{ ts: number; seq: number[]; len?: number }>, padTo = 0): Buffer {
  const body: number[][] = [];
  for (const e of events) {
    const b = Buffer.alloc(4 + 8 + 4 + 4 * e.seq.length);
    b.writeUInt32LE(0, 0);
    b.writeBigUInt64LE(BigInt(e.ts), 4);
    b.writeUInt32LE(e.len ?? e.seq.length, 12);
    e.seq.forEach((v, i) => b.writeInt32LE(v, 16 + 4 * i));
    body.push([...b]);
  }
  const content = 8 + 16 + body.reduce((n, b) => n + b.length, 0);
  const size = Math.max(content, padTo);
  const p = Buffer.alloc(size);
  p.writeUInt32LE(0xc1fc1fc1, 0);
  p.writeUInt32LE(0, 4);
  p.writeBigUInt64LE(BigInt(size * 8), 8);
  p.writeBigUInt64LE(BigInt(content * 8), 16);
  let o = 24;
  for (const b of body) {
    Buffer.from(b).copy(p, o);
    o += b.length;
  }
  return p;
}

function makeTrace(name: string, stream: Buffer, metadata = METADATA): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'metadata'), metadata);
  writeFileSync(join(dir, 'stream_0'), stream);
  return dir;
}

function drain(dir: string): number {
  const ts = TraceSet.open([dir]);
  let n = 0;
  try {
    for (let r = ts.next(); r !== null; r = ts.next()) n++;
  } finally {
    ts.close();
  }
  return n;
}

describe('corrupt and hostile traces', () => {
  const good = Buffer.concat([
    packet(
      [
        { ts: 10, seq: [1, 2] },
        { ts: 20, seq: [] },
      ],
      64,
    ),
    packet([{ ts: 30, seq: [3] }], 64),
  ]);

  it('reads the well-formed reference trace', () => {
    expect(drain(makeTrace('good', good))).toBe(3);
  });

  it('a truncated packet names the file and the packet offset', () => {
    const dir = makeTrace('truncated', good.subarray(0, 64 + 40));
    const e = thrownBy(NstraceError, () => drain(dir));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toBe(
      `${join(dir, 'stream_0')}: at byte 64: truncated packet: packet size is 64 bytes but the file has only 40 bytes left`,
    );
  });

  it('a file cut inside a packet header is an error, not a hang', () => {
    const dir = makeTrace('cut-header', good.subarray(0, 64 + 6));
    const e = thrownBy(NstraceError, () => drain(dir));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toMatch(
      /stream_0: at byte 68: trace\.packet\.header field `stream_id` goes past the end of the packet content/,
    );
  });

  it('bad magic names the packet offset', () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(0xdeadbeef, 64);
    const e = thrownBy(NstraceError, () => drain(makeTrace('magic', bad)));
    expect(e.message).toMatch(/stream_0: at byte 64: bad packet magic 0xdeadbeef \(expected 0xc1fc1fc1\)/);
  });

  it('a sequence length of 2^32-1 is refused without allocating', () => {
    const p = packet([{ ts: 10, seq: [1], len: 0xffffffff }], 64);
    const e = thrownBy(NstraceError, () => drain(makeTrace('seqlen', p)));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toMatch(
      /stream_0: at byte 40: event\.fields field `seq`: length 4294967295 does not fit in the rest of the packet/,
    );
  });

  it('content size larger than packet size is refused', () => {
    const p = Buffer.from(good);
    p.writeBigUInt64LE(BigInt(4096 * 8), 16);
    const e = thrownBy(NstraceError, () => drain(makeTrace('content', p)));
    expect(e.message).toMatch(
      /at byte 0: content size \(32768 bits\) is larger than packet size \(512 bits\)/,
    );
  });

  it('an absurd packet size is refused', () => {
    const p = Buffer.from(good);
    p.writeBigUInt64LE(2n ** 62n, 8);
    const e = thrownBy(NstraceError, () => drain(makeTrace('huge', p)));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toMatch(/stream_0: at byte 0: /);
  });

  it('an unknown event id names the offset', () => {
    const p = Buffer.from(good);
    p.writeUInt32LE(7, 24);
    const e = thrownBy(NstraceError, () => drain(makeTrace('evid', p)));
    expect(e.message).toMatch(/stream_0: at byte 24: unknown event class id 7 in stream class 0/);
  });

  it('a metadata syntax error names the metadata line', () => {
    const dir = makeTrace('meta', good, METADATA.replace('stream {', 'stream {\n  id = = 0;'));
    const e = thrownBy(NstraceError, () => TraceSet.open([dir]));
    expect(e).toBeInstanceOf(MetadataError);
    expect(e.message).toMatch(new RegExp(`^${join(dir, 'metadata')}:13:8: metadata: `));
  });

  it('a missing path and a dangling stream file are named', () => {
    expect(thrownBy(NstraceError, () => TraceSet.open([join(work, 'nope')])).message).toBe(
      `${join(work, 'nope')}: no such file or directory`,
    );
    const dir = makeTrace('dangling', good);
    symlinkSync(join(work, 'does-not-exist'), join(dir, 'stream_1'));
    const e = thrownBy(NstraceError, () => TraceSet.open([dir]));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toMatch(/stream_1: cannot read stream file: ENOENT/);
  });

  it('random corruption of real traces never crashes or hangs', () => {
    // Flip bytes of a real LTTng trace at pseudo-random places; each run must end with
    // records or a typed error, never another exception.
    const src = new URL('../fixtures/babeltrace/trace-with-index', import.meta.url).pathname;
    const files = readdirSync(src).filter((f) => f.startsWith('ust_chan'));
    expect(files.length).toBe(4);
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 40; round++) {
      const dir = join(work, `fuzz-${round}`);
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(src, 'metadata'), join(dir, 'metadata'));
      for (const f of files) copyFileSync(join(src, f), join(dir, f));
      const victim = join(dir, files[rnd(files.length)]!);
      const bytes = readFileSync(victim);
      for (let k = 0; k < 1 + rnd(8); k++) bytes[rnd(bytes.length)] = rnd(256);
      writeFileSync(victim, bytes);
      if (rnd(3) === 0) truncateSync(victim, rnd(bytes.length));
      try {
        drain(dir);
      } catch (e) {
        expect(e).toBeInstanceOf(NstraceError);
        expect((e as Error).message.split('\n')).toHaveLength(1);
      }
    }
  });
});
