/**
 * Event headers: compact vs extended and large vs extended chosen like lttng-modules/lttng-ust
 * (extended when the id does not fit, or when the timestamp bits above the low 27 differ from
 * the previous event's), exact 64-bit timestamps (with `cyclesBase`), checked by parsing the
 * bytes here and by babeltrace2.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TraceWriter, lttngLayout } from '../../../src/ctf/writer/index.js';
import type { HeaderKind } from '../../../src/ctf/writer/index.js';
import { WriterError } from '../../../src/util/errors.js';
import { bt2Dump, tempDir } from './peers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

interface Parsed {
  id: number;
  ext: boolean;
  ts: bigint;
}

/**
 * Parses a stream file of events without payload/context (x86 layout: no alignment), returning
 * each event's id, header form, and timestamp as babeltrace would reconstruct it.
 */
function parseHeaders(bytes: Uint8Array, kind: HeaderKind, le: boolean): Parsed[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Parsed[] = [];
  let off = 0;
  const u64 = (o: number): bigint => dv.getBigUint64(o, le);
  while (off < bytes.length) {
    const contentBits = Number(u64(off + 48));
    const packetBits = Number(u64(off + 56));
    const end = off + contentBits / 8;
    let clock = u64(off + 32);
    let p = off + 84; // header 40 + context 44
    while (p < end) {
      if (kind === 'compact') {
        const w = dv.getUint32(p, le);
        const id = le ? w & 31 : w >>> 27;
        if (id !== 31) {
          const low = BigInt(le ? w >>> 5 : w & 0x7ffffff);
          let t = (clock & ~0x7ffffffn) | low;
          if (t < clock) t += 1n << 27n;
          clock = t;
          out.push({ id, ext: false, ts: t });
          p += 4;
        } else {
          clock = u64(p + 5);
          out.push({ id: dv.getUint32(p + 1, le), ext: true, ts: clock });
          p += 13;
        }
      } else {
        const id = dv.getUint16(p, le);
        if (id !== 65535) {
          const low = BigInt(dv.getUint32(p + 2, le));
          let t = (clock & ~0xffffffffn) | low;
          if (t < clock) t += 1n << 32n;
          clock = t;
          out.push({ id, ext: false, ts: t });
          p += 6;
        } else {
          clock = u64(p + 6);
          out.push({ id: dv.getUint32(p + 2, le), ext: true, ts: clock });
          p += 14;
        }
      }
    }
    off += packetBits / 8;
  }
  return out;
}

/** LTTng's rule, computed independently: extended iff the id does not fit or ts>>27 changed. */
function lttngExtended(kind: HeaderKind, id: number, ts: bigint, prev: bigint): boolean {
  return id > (kind === 'compact' ? 30 : 65534) || ts >> 27n !== prev >> 27n;
}

describe.each([
  ['compact', 'le'],
  ['compact', 'be'],
  ['large', 'le'],
  ['large', 'be'],
] as const)('%s event headers (%s)', (kind, bo) => {
  it('choose the extended form exactly when LTTng does, and round-trip every timestamp', () => {
    const dir = join(tmp.dir, `hdr-${kind}-${bo}`);
    const base = kind === 'large' ? (1n << 62n) + 12345n : 0n;
    const tw = TraceWriter.create({
      dir,
      layout: lttngLayout({ domain: 'kernel', byteOrder: bo, hostname: 'h', clock: { offsetCycles: 0n } }),
      packetSize: 4096,
      cyclesBase: base,
    });
    tw.addStreamClass({ header: kind });
    const ids = [0, 1, 29, 30, 31, 32, 200, 65534, 65535, 70000];
    const ecs = new Map(ids.map((id) => [id, tw.addEventClass({ name: `e${id}`, id })]));
    const s = tw.stream(0, 0);
    // Small steps, steps across 2^27 boundaries, huge jumps, equal timestamps.
    const steps = [
      0,
      1,
      1000,
      2 ** 27 - 5,
      3,
      2 ** 27,
      7,
      2 ** 32 + 9,
      0,
      2 ** 40,
      1,
      2 ** 26,
      2 ** 26,
      2 ** 26,
    ];
    const written: Array<{ id: number; ts: bigint }> = [];
    let ts = 17;
    for (let i = 0; i < 600; i++) {
      ts += steps[i % steps.length]!;
      const id = ids[(i * 7) % ids.length]!;
      expect(s.write(ecs.get(id)!, ts, [])).toBe(true);
      written.push({ id, ts: base + BigInt(ts) });
    }
    tw.close();
    const parsed = parseHeaders(readFileSync(join(dir, 'channel0_0')), kind, bo === 'le');
    expect(parsed.map((p) => ({ id: p.id, ts: p.ts }))).toEqual(written);
    let prev = 0n;
    const expectedExt = written.map((w) => {
      const e = lttngExtended(kind, w.id, w.ts, prev);
      prev = w.ts;
      return e;
    });
    expect(parsed.map((p) => p.ext)).toEqual(expectedExt);
    // Both forms occur.
    expect(expectedExt.filter((e) => e).length).toBeGreaterThan(10);
    expect(expectedExt.filter((e) => !e).length).toBeGreaterThan(10);
    const events = bt2Dump(dir).filter((r) => r.t === 'e');
    expect(events.map((e) => [e.name, e.cs])).toEqual(written.map((w) => [`e${w.id}`, w.ts.toString()]));
  });
});

describe('timestamps', () => {
  it('must not go backwards within a stream, and must be integers', () => {
    const tw = TraceWriter.create({
      dir: join(tmp.dir, 'back'),
      layout: lttngLayout({ domain: 'kernel', hostname: 'h', clock: { offsetCycles: 0n } }),
    });
    tw.addStreamClass({});
    const e = tw.addEventClass({ name: 'e' });
    const s = tw.stream(0, 0);
    s.write(e, 100);
    expect(() => s.write(e, 99)).toThrow(WriterError);
    expect(() => s.write(e, 100.5)).toThrow(WriterError);
    expect(() => s.write(e, Number.NaN)).toThrow(WriterError);
    expect(s.write(e, 100)).toBe(true);
    // Other streams have their own clock position.
    expect(tw.stream(0, 1).write(e, 5)).toBe(true);
    tw.close();
    expect(() => s.write(e, 200)).toThrow(/closed/);
  });
});
