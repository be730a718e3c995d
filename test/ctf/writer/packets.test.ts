/**
 * Packets, streams, index files, lost events, metadata appends, sinks: checked by parsing the
 * packet contexts here, by the index reader of src/ctf/index-file.ts, and by babeltrace2.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseIndexFile } from '../../../src/ctf/index-file.js';
import type { IndexEntry } from '../../../src/ctf/index-file.js';
import {
  METADATA_PACKET_HEADER_SIZE,
  METADATA_PACKET_MAGIC,
  MemorySink,
  TraceWriter,
  charArray,
  lttngField,
  lttngLayout,
  lttngSequence,
  char,
  s32,
  string,
  u8,
  u32,
  u64,
  uint,
  sint,
  uuidString,
} from '../../../src/ctf/writer/index.js';
import type { TraceWriterOptions } from '../../../src/ctf/writer/index.js';
import { rng } from './random.js';
import { bt2, bt2Dump, tempDir } from './peers.js';
import type { DumpRecord } from './peers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const FIXED_UUID = Uint8Array.from({ length: 16 }, (_, i) => i * 17);

function layout(o: Partial<Parameters<typeof lttngLayout>[0]> = {}): ReturnType<typeof lttngLayout> {
  return lttngLayout({
    domain: 'kernel',
    hostname: 'host',
    uuid: FIXED_UUID,
    clock: { offsetCycles: 1_600_000_000_000_000_000n, uuid: FIXED_UUID },
    creationTime: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    sysname: 'Linux',
    kernelRelease: '6.1.0',
    kernelVersion: '#1 SMP',
    ...o,
  });
}

/** Packet contexts of an x86 LTTng stream file (header 32 bytes + context 52 bytes). */
function packets(file: string): IndexEntry[] {
  const b = readFileSync(file);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: IndexEntry[] = [];
  for (let off = 0; off < b.length;) {
    expect(dv.getUint32(off, true)).toBe(0xc1fc1fc1);
    expect(uuidString(b.subarray(off + 4, off + 20))).toBe(uuidString(FIXED_UUID));
    const e: IndexEntry = {
      offset: off,
      timestampBegin: dv.getBigUint64(off + 32, true),
      timestampEnd: dv.getBigUint64(off + 40, true),
      contentSize: Number(dv.getBigUint64(off + 48, true)),
      packetSize: Number(dv.getBigUint64(off + 56, true)),
      packetSeqNum: dv.getBigUint64(off + 64, true),
      eventsDiscarded: dv.getBigUint64(off + 72, true),
      streamId: BigInt(dv.getUint32(off + 20, true)),
      streamInstanceId: dv.getBigUint64(off + 24, true),
    };
    out.push(e);
    expect(e.packetSize).toBeGreaterThan(0);
    off += e.packetSize / 8;
  }
  return out;
}

function cpuIdOf(file: string, packetOffset: number): number {
  const b = readFileSync(file);
  return new DataView(b.buffer, b.byteOffset).getUint32(packetOffset + 80, true);
}

describe('streams and packets', () => {
  it('many per-CPU streams of two channels, many small packets, index files agree', () => {
    const dir = join(tmp.dir, 'many');
    const tw = TraceWriter.create({ dir, layout: layout(), packetSize: 4096, chunkSize: 16384 });
    tw.addStreamClass({ channel: 'chan', header: 'compact' });
    tw.addStreamClass({
      channel: 'ctx',
      header: 'large',
      context: [
        lttngField('pid_ns', u32()),
        lttngField('vtid', s32()),
        lttngField('procname', charArray(16)),
      ],
    });
    const a = tw.addEventClass({
      name: 'a',
      streamClassId: 0,
      fields: [lttngField('n', u64()), lttngField('s', string())],
    });
    const b = tw.addEventClass({
      name: 'b',
      streamClassId: 1,
      fields: [lttngField('n', u64()), ...lttngSequence('msg', char(), u32())],
    });
    const r = rng(7);
    const expected: Array<{ name: string; cs: bigint; sid: number; cpu: number; n: number; text: string }> =
      [];
    const CPUS = 4;
    let ts = 1;
    for (let i = 0; i < 8000; i++) {
      ts += 1 + Math.floor(r() * 5000);
      const cpu = Math.floor(r() * CPUS);
      const text = 'x'.repeat(1 + Math.floor(r() * 300));
      if (r() < 0.5) {
        tw.stream(0, cpu).write(a, ts, [i, text]);
        expected.push({ name: 'a', cs: BigInt(ts), sid: 0, cpu, n: i, text });
      } else {
        tw.stream(1, cpu).write(b, ts, [i, 0, text], [4026531836 + cpu, 1000 + cpu, `p${cpu}`]);
        expected.push({ name: 'b', cs: BigInt(ts), sid: 1, cpu, n: i, text });
      }
    }
    tw.close();
    const files = readdirSync(dir)
      .filter((f) => f !== 'metadata' && f !== 'index')
      .sort();
    expect(files).toEqual(
      [...['chan', 'ctx'].flatMap((c) => Array.from({ length: CPUS }, (_, k) => `${c}_${k}`))].sort(),
    );
    let totalPackets = 0;
    for (const f of files) {
      const pk = packets(join(dir, f));
      totalPackets += pk.length;
      const idx = parseIndexFile(readFileSync(join(dir, 'index', `${f}.idx`)), f);
      expect(idx.minor).toBe(1);
      expect(idx.entries).toEqual(pk);
      const cpu = Number(f.split('_')[1]);
      pk.forEach((p, k) => {
        expect(p.packetSeqNum).toBe(BigInt(k));
        expect(p.streamInstanceId).toBe(BigInt(cpu));
        expect(cpuIdOf(join(dir, f), p.offset)).toBe(cpu);
        expect(p.contentSize).toBeLessThanOrEqual(p.packetSize);
        // LTTng writes packet_size = content rounded up to a page.
        expect(p.packetSize).toBe(Math.ceil(p.contentSize / 8 / 4096) * 4096 * 8);
        expect(p.timestampBegin <= p.timestampEnd).toBe(true);
        if (k > 0) expect(pk[k - 1]!.timestampEnd <= p.timestampBegin).toBe(true);
        expect(p.eventsDiscarded).toBe(0n);
      });
      expect(statSync(join(dir, f)).size).toBe(pk.reduce((s, p) => s + p.packetSize / 8, 0));
    }
    expect(totalPackets).toBeGreaterThan(100);
    const recs = bt2Dump(dir);
    expect(recs.filter((x) => x.t === 'd' || x.t === 'dp')).toEqual([]);
    expect(recs.filter((x) => x.t === 'pb')).toHaveLength(totalPackets);
    const events = recs.filter((x) => x.t === 'e');
    expect(events).toHaveLength(expected.length);
    events.forEach((e, i) => {
      const x = expected[i]!;
      expect([e.name, e.cs, e.sid, e.cpu]).toEqual([x.name, x.cs.toString(), x.sid, x.cpu]);
      const payload = e.payload as Array<[string, unknown]>;
      expect(payload[0]).toEqual(['n', String(x.n)]);
      expect(payload[payload.length - 1]![1]).toBe(x.text);
      if (x.name === 'b')
        expect(e.sctx).toEqual([
          ['pid_ns', String(4026531836 + x.cpu)],
          ['vtid', String(1000 + x.cpu)],
          ['procname', `p${x.cpu}`],
        ]);
    });
    // Every packet's events lie within [timestamp_begin, timestamp_end] (babeltrace2 checks it too).
    const packetTimes = recs.filter((x) => x.t === 'pb' || x.t === 'pe');
    expect(packetTimes.length).toBe(2 * totalPackets);
  });

  it('fixed packet size: every packet has the full size', () => {
    const dir = join(tmp.dir, 'fixed');
    const tw = TraceWriter.create({ dir, layout: layout(), packetSize: 8192, fixedPacketSize: true });
    tw.addStreamClass({});
    const e = tw.addEventClass({ name: 'e', fields: [lttngField('s', string())] });
    for (let i = 0; i < 2000; i++) tw.stream(0, i % 2).write(e, 100 + i, [`event number ${i}`]);
    tw.close();
    for (const f of ['channel0_0', 'channel0_1']) {
      const pk = packets(join(dir, f));
      expect(pk.length).toBeGreaterThan(1);
      for (const p of pk) expect(p.packetSize).toBe(8192 * 8);
    }
    expect(bt2Dump(dir).filter((r) => r.t === 'e')).toHaveLength(2000);
  });
});

describe('lost events', () => {
  it('events_discarded is a cumulative per-stream counter; babeltrace2 reports each increase', () => {
    const dir = join(tmp.dir, 'lost');
    const tw = TraceWriter.create({ dir, layout: layout(), packetSize: 4096 });
    tw.addStreamClass({});
    const e = tw.addEventClass({ name: 'e', fields: [lttngField('pad', charArray(200))] });
    const s = tw.stream(0, 0);
    const quiet = tw.stream(0, 1);
    quiet.write(e, 5, ['q']);
    const losses = new Map<number, number>([
      [30, 5],
      [31, 2],
      [90, 1000],
    ]);
    for (let i = 0; i < 150; i++) {
      const lost = losses.get(i);
      if (lost !== undefined) s.discard(lost);
      s.write(e, 1000 * (i + 1), ['x']);
    }
    s.discard(3); // after the last event: goes into the final packet
    tw.close();
    const pk = packets(join(dir, 'channel0_0'));
    const counters = pk.map((p) => Number(p.eventsDiscarded));
    // Non-decreasing, ends at the total.
    counters.forEach((c, i) => i > 0 && expect(c).toBeGreaterThanOrEqual(counters[i - 1]!));
    expect(counters[counters.length - 1]).toBe(5 + 2 + 1000 + 3);
    const recs = bt2Dump(dir);
    const disc = recs.filter((r) => r.t === 'd');
    // One record per packet whose counter increased, with the increase, from the previous packet's end to this one's.
    const expected: DumpRecord[] = [];
    for (let k = 1; k < pk.length; k++) {
      const inc = counters[k]! - counters[k - 1]!;
      if (inc > 0) {
        expected.push({
          t: 'd',
          sid: 0,
          count: inc,
          begin: pk[k - 1]!.timestampEnd.toString(),
          end: pk[k]!.timestampEnd.toString(),
        });
      }
    }
    expect(disc).toEqual(expected);
    expect(disc.reduce((n, d) => n + d.count!, 0)).toBe(1010);
    // The CLI says it on stderr, nothing else.
    const cli = bt2(dir);
    expect(cli.code).toBe(0);
    const warnings = cli.stderr.split('\n').filter((l) => l !== '');
    expect(warnings).toHaveLength(expected.length);
    warnings.forEach((w, i) =>
      expect(w).toMatch(new RegExp(`^WARNING: Tracer discarded ${expected[i]!.count} events between`)),
    );
  });

  it('an event larger than a packet is dropped and counted as lost, like LTTng', () => {
    const dir = join(tmp.dir, 'big');
    const tw = TraceWriter.create({ dir, layout: layout(), packetSize: 4096 });
    tw.addStreamClass({});
    const e = tw.addEventClass({ name: 'e', fields: [lttngField('s', string())] });
    const s = tw.stream(0, 0);
    expect(s.write(e, 10, ['small'])).toBe(true);
    expect(s.write(e, 20, ['y'.repeat(5000)])).toBe(false);
    expect(s.write(e, 30, ['z'.repeat(4000)])).toBe(true);
    expect(s.write(e, 40, ['w'.repeat(4100)])).toBe(false);
    expect(s.write(e, 50, ['after'])).toBe(true);
    expect(s.droppedTooBig).toBe(2);
    expect(s.discarded).toBe(2);
    tw.close();
    const recs = bt2Dump(dir);
    expect(
      recs.filter((r) => r.t === 'e').map((r) => (r.payload as Array<[string, string]>)[0]![1].length),
    ).toEqual([5, 4000, 5]);
    expect(recs.filter((r) => r.t === 'd').reduce((n, r) => n + r.count!, 0)).toBe(2);
  });
});

function metadataPackets(bytes: Uint8Array): { text: string; sizes: number[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  const sizes: number[] = [];
  for (let off = 0; off < bytes.length;) {
    expect(dv.getUint32(off, true)).toBe(METADATA_PACKET_MAGIC);
    const content = dv.getUint32(off + 24, true) / 8;
    const size = dv.getUint32(off + 28, true) / 8;
    expect([bytes[off + 32], bytes[off + 33], bytes[off + 34], bytes[off + 35], bytes[off + 36]]).toEqual([
      0, 0, 0, 1, 8,
    ]);
    expect(content).toBeLessThanOrEqual(size);
    parts.push(bytes.subarray(off + METADATA_PACKET_HEADER_SIZE, off + content));
    sizes.push(size);
    off += size;
  }
  return { text: Buffer.concat(parts).toString('utf8'), sizes };
}

describe('metadata', () => {
  it.each(['packetized', 'text'] as const)(
    '%s: event classes added after data was written are appended',
    (mode) => {
      const dir = join(tmp.dir, `append-${mode}`);
      const tw = TraceWriter.create({ dir, layout: layout(), metadata: mode, packetSize: 4096 });
      tw.addStreamClass({});
      const first = tw.addEventClass({ name: 'first', fields: [lttngField('v', u32())] });
      const s = tw.stream(0, 0);
      s.write(first, 10, [1]);
      tw.flush();
      const before = readFileSync(join(dir, 'metadata'));
      const late = [];
      for (let i = 0; i < 60; i++) {
        late.push(
          tw.addEventClass({
            name: `late_${i}`,
            fields: [lttngField('v', u32()), lttngField('name', string())],
          }),
        );
      }
      tw.flushMetadata();
      const after = readFileSync(join(dir, 'metadata'));
      // Appended, never rewritten.
      expect(after.subarray(0, before.length).equals(before)).toBe(true);
      expect(after.length).toBeGreaterThan(before.length);
      for (let i = 0; i < late.length; i++) s.write(late[i]!, 20 + i, [i, `n${i}`]);
      tw.close();
      const bytes = readFileSync(join(dir, 'metadata'));
      const text = mode === 'packetized' ? metadataPackets(bytes).text : bytes.toString('utf8');
      expect(text).toBe(tw.metadataText);
      if (mode === 'packetized') {
        expect(metadataPackets(bytes).sizes.every((n) => n === 4096)).toBe(true);
        // lttng-modules does not start its metadata with the signature.
        expect(text.startsWith('typealias integer')).toBe(true);
      } else {
        expect(text.startsWith('/* CTF 1.8 */')).toBe(true);
      }
      const evs = bt2Dump(dir).filter((r) => r.t === 'e');
      expect(evs.map((e) => e.name)).toEqual(['first', ...late.map((l) => l.name)]);
      const meta = bt2('--output-format=ctf-metadata', dir);
      expect(meta.code).toBe(0);
      expect(meta.stdout).toBe(`${tw.metadataText}\n`);
    },
  );

  it('UST traces start their packetized metadata with the signature, like lttng-sessiond', () => {
    const sink = new MemorySink();
    const tw = TraceWriter.create({ sink, layout: layout({ domain: 'ust' }) });
    tw.addStreamClass({});
    tw.close();
    expect(metadataPackets(sink.bytes()).text.startsWith('/* CTF 1.8 */\n\n')).toBe(true);
  });
});

describe('output', () => {
  function writeSample(o: Pick<TraceWriterOptions, 'dir' | 'sink'>): TraceWriter {
    const tw = TraceWriter.create({ ...o, layout: layout(), packetSize: 4096 });
    tw.addStreamClass({});
    const e = tw.addEventClass({ name: 'e', fields: [lttngField('s', string())] });
    for (let i = 0; i < 300; i++) tw.stream(0, i % 3).write(e, 10 * i, [`value ${i}`]);
    tw.stream(0, 3); // a stream without events
    tw.close();
    return tw;
  }

  it('a memory sink receives exactly the bytes of the directory output', () => {
    const dir = join(tmp.dir, 'same');
    writeSample({ dir });
    const sink = new MemorySink();
    writeSample({ sink });
    expect(Buffer.from(sink.bytes()).equals(readFileSync(join(dir, 'metadata')))).toBe(true);
    for (let cpu = 0; cpu < 4; cpu++) {
      const name = `channel0_${cpu}`;
      expect(Buffer.from(sink.bytes(name)).equals(readFileSync(join(dir, name)))).toBe(true);
      const rec = sink.streams.get(name)!;
      expect(rec.closed).toBe(true);
      expect(rec.entries).toEqual(
        parseIndexFile(readFileSync(join(dir, 'index', `${name}.idx`)), name).entries,
      );
    }
    expect(sink.closed).toBe(true);
  });

  it('a stream without events gets one empty packet ending with the others; close() twice is fine', () => {
    const dir = join(tmp.dir, 'empty-stream');
    const tw = writeSample({ dir });
    tw.close();
    const pk = packets(join(dir, 'channel0_3'));
    expect(pk).toHaveLength(1);
    expect(pk[0]!.contentSize).toBe(84 * 8);
    const last = packets(join(dir, 'channel0_2'));
    expect(pk[0]!.timestampEnd).toBe(last[last.length - 1]!.timestampEnd);
    expect(bt2Dump(dir).filter((r) => r.t === 'e')).toHaveLength(300);
  });

  it('flush() makes what was written so far readable while the trace goes on', () => {
    const dir = join(tmp.dir, 'flush');
    const tw = TraceWriter.create({ dir, layout: layout(), packetSize: 4096 });
    tw.addStreamClass({});
    const e = tw.addEventClass({ name: 'e', fields: [lttngField('v', u32())] });
    const s0 = tw.stream(0, 0);
    const s1 = tw.stream(0, 1);
    for (let i = 0; i < 1000; i++) (i % 2 ? s1 : s0).write(e, 100 + i, [i]);
    tw.flush();
    const mid = bt2Dump(dir).filter((r) => r.t === 'e');
    expect(mid.map((r) => (r.payload as Array<[string, string]>)[0]![1])).toEqual(
      Array.from({ length: 1000 }, (_, i) => String(i)),
    );
    for (let i = 1000; i < 1500; i++) (i % 2 ? s1 : s0).write(e, 100 + i, [i]);
    tw.close(5000);
    const all = bt2Dump(dir);
    expect(all.filter((r) => r.t === 'e')).toHaveLength(1500);
    expect(packets(join(dir, 'channel0_0')).at(-1)!.timestampEnd).toBe(5000n);
  });
});

describe('output directory', () => {
  it('refuses a non-empty directory unless told to overwrite it', () => {
    const dir = join(tmp.dir, 'reuse');
    const mk = (overwrite?: boolean): TraceWriter => {
      const tw = TraceWriter.create({
        dir,
        layout: layout(),
        ...(overwrite !== undefined ? { overwrite } : {}),
      });
      tw.addStreamClass({});
      const e = tw.addEventClass({ name: 'e' });
      tw.stream(0, overwrite === true ? 0 : 5).write(e, 1);
      return tw;
    };
    mk().close();
    expect(() => mk()).toThrow(/not empty/);
    mk(true).close();
    // The stale stream of the first trace is gone.
    expect(readdirSync(dir).sort()).toEqual(['channel0_0', 'index', 'metadata']);
  });
});

describe('raw payloads', () => {
  it('beginRaw/commitRaw produce the same bytes as write()', () => {
    const mk = (): { tw: TraceWriter; sink: MemorySink } => {
      const sink = new MemorySink();
      const tw = TraceWriter.create({ sink, layout: layout(), packetSize: 4096 });
      tw.addStreamClass({ context: [lttngField('pid_ns', u32()), lttngField('vtid', s32())] });
      return { tw, sink };
    };
    const fields = [lttngField('comm', charArray(16)), lttngField('tid', s32()), lttngField('state', u64())];
    const a = mk();
    const b = mk();
    const ea = a.tw.addEventClass({ name: 'sched', fields });
    const eb = b.tw.addEventClass({ name: 'sched', fields });
    const r = rng(3);
    let ts = 10;
    for (let i = 0; i < 3000; i++) {
      ts += 1 + Math.floor(r() * (r() < 0.02 ? 2 ** 30 : 1000));
      const cpu = i % 2;
      const comm = `task-${i % 7}`;
      a.tw.stream(0, cpu).write(ea, ts, [comm, i, i * 3], [4026531836, i]);
      const s = b.tw.stream(0, cpu);
      const at = s.beginRaw(eb, ts, 28, [4026531836, i]);
      expect(at).toBeGreaterThan(0);
      const u8 = s.bytes;
      const dv = s.view;
      for (let k = 0; k < comm.length; k++) u8[at + k] = comm.charCodeAt(k);
      dv.setInt32(at + 16, i, true);
      dv.setBigUint64(at + 20, BigInt(i * 3), true);
      s.commitRaw(at + 28);
    }
    a.tw.close();
    b.tw.close();
    for (const name of ['channel0_0', 'channel0_1']) {
      expect(Buffer.from(b.sink.bytes(name)).equals(Buffer.from(a.sink.bytes(name)))).toBe(true);
    }
    expect(a.sink.bytes('channel0_0').length).toBeGreaterThan(4096 * 10);
  });

  for (const natural of [false, true]) {
    it(`beginRawBytes (context copied verbatim) produces the same bytes as write()${natural ? ', natural alignment' : ''}`, () => {
      // With natural alignment the context (u8, u64, s32) is 64-bit aligned and padded inside.
      const mk = (): { tw: TraceWriter; sink: MemorySink } => {
        const sink = new MemorySink();
        const tw = TraceWriter.create({
          sink,
          layout: layout({ naturalAlignment: natural }),
          packetSize: 4096,
        });
        const al = (n: number): number => (natural ? n : 8);
        tw.addStreamClass({
          context: [
            lttngField('flag', u8()),
            lttngField('ino', uint(64, { align: al(64) })),
            lttngField('vtid', sint(32, { align: al(32) })),
          ],
        });
        return { tw, sink };
      };
      const fields = [lttngField('comm', charArray(16)), lttngField('tid', s32())];
      const a = mk();
      const b = mk();
      const ea = a.tw.addEventClass({ name: 'sched', fields });
      const eb = b.tw.addEventClass({ name: 'sched', fields });
      const ctxLen = natural ? 20 : 13;
      const r = rng(5);
      let ts = 10;
      for (let i = 0; i < 3000; i++) {
        ts += 1 + Math.floor(r() * (r() < 0.02 ? 2 ** 30 : 1000));
        const cpu = i % 2;
        const comm = `task-${i % 7}`;
        const ino = 4026531836 + i;
        a.tw.stream(0, cpu).write(ea, ts, [comm, i], [i & 0xff, ino, -i]);
        const ctx = new Uint8Array(ctxLen);
        const cv = new DataView(ctx.buffer);
        ctx[0] = i & 0xff;
        const o = natural ? 8 : 1;
        cv.setBigUint64(o, BigInt(ino), true);
        cv.setInt32(o + 8, -i, true);
        const s = b.tw.stream(0, cpu);
        expect(s.hasContextBytes).toBe(true);
        const at = s.beginRawBytes(eb, ts, 20, ctx);
        expect(at).toBeGreaterThan(0);
        const u8a = s.bytes;
        for (let k = 0; k < comm.length; k++) u8a[at + k] = comm.charCodeAt(k);
        s.view.setInt32(at + 16, i, true);
        s.commitRaw(at + 20);
      }
      a.tw.close();
      b.tw.close();
      for (const name of ['channel0_0', 'channel0_1']) {
        expect(Buffer.from(b.sink.bytes(name)).equals(Buffer.from(a.sink.bytes(name)))).toBe(true);
      }
      expect(a.sink.bytes('channel0_0').length).toBeGreaterThan(4096 * 10);
    });
  }

  it('beginRawBytes refuses a context of the wrong size or without a fixed byte layout', () => {
    const tw = TraceWriter.create({ sink: new MemorySink(), layout: layout(), packetSize: 4096 });
    tw.addStreamClass({ context: [lttngField('pid_ns', u32())] });
    const sc1 = tw.addStreamClass({ context: [lttngField('name', string())] });
    const e0 = tw.addEventClass({ name: 'a', fields: [], streamClassId: 0 });
    const e1 = tw.addEventClass({ name: 'b', fields: [], streamClassId: sc1.id });
    const s0 = tw.stream(0, 0);
    expect(() => s0.beginRawBytes(e0, 1, 0, new Uint8Array(3))).toThrow(/4/);
    const s1 = tw.stream(sc1.id, 0);
    expect(s1.hasContextBytes).toBe(false);
    expect(() => s1.beginRawBytes(e1, 1, 0, new Uint8Array(4))).toThrow(/no fixed byte layout/);
    // Nothing was begun by the refused calls.
    const at = s0.beginRawBytes(e0, 1, 0, new Uint8Array(4));
    expect(at).toBeGreaterThan(0);
    s0.commitRaw(at);
    expect(s0.events).toBe(1);
    tw.close();
  });
});
