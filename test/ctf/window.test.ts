/**
 * The reader's window (the part of a packet held in memory) must not change what is read:
 * every trace read with the smallest window (4 KiB, far smaller than its packets and than some
 * of its events) gives the very records of a read with the default window. Covers the refill
 * ahead of the window's end, the refill when an event outgrows the window, and windows that
 * start in the middle of a packet.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TraceSet } from '../../src/ctf/reader.js';
import { writeBenchTrace } from '../../src/synthetic/simulate.js';
import { TraceWriter, lttngField, lttngLayout, s32, string, u32 } from '../../src/ctf/writer/index.js';
import { dumpTraceSet } from './dump.js';
import { rng } from './writer/random.js';
import { tempDir } from './writer/peers.js';

const tmp = tempDir('nstrace-window-');
afterAll(() => tmp.cleanup());

function dump(dir: string, windowBytes?: number): string[] {
  const ts = TraceSet.open([dir], windowBytes === undefined ? {} : { windowBytes });
  try {
    return dumpTraceSet(ts, 0);
  } finally {
    ts.close();
  }
}

/** Big packets (1 MiB) of events from a few bytes to 40 KiB, on two CPUs. */
function writeMixedTrace(dir: string): number {
  const tw = TraceWriter.create({
    dir,
    layout: lttngLayout({ domain: 'kernel', byteOrder: 'le', hostname: 'w' }),
    packetSize: 1 << 20,
  });
  tw.addStreamClass({ header: 'compact', context: [lttngField('tid', s32())] });
  const small = tw.addEventClass({ name: 'small', streamClassId: 0, fields: [lttngField('n', u32())] });
  const text = tw.addEventClass({ name: 'text', streamClassId: 0, fields: [lttngField('s', string())] });
  const r = rng(5);
  let ts = 1000;
  let n = 0;
  for (let i = 0; i < 30_000; i++) {
    ts += 1 + Math.floor(r() * 5000);
    const cpu = i % 2;
    if (r() < 0.9) tw.stream(0, cpu).write(small, ts, [i], [100 + cpu]);
    else {
      // Mostly short strings, some longer than the refill margin, a few than the window.
      const len = r() < 0.95 ? Math.floor(r() * 600) : Math.floor(r() * 40_000);
      tw.stream(0, cpu).write(text, ts, ['x'.repeat(len) + String(i)], [100 + cpu]);
    }
    n++;
  }
  tw.close();
  return n;
}

describe('the reader window does not change what is read', () => {
  it('big packets, events larger than the window', () => {
    const dir = join(tmp.dir, 'mixed');
    const n = writeMixedTrace(dir);
    const ref = dump(dir);
    expect(ref.length).toBe(n);
    for (const w of [4096, 4096 + 8, 65536]) expect(dump(dir, w), `window ${w}`).toEqual(ref);
  });

  it('a simulated kernel trace (1 MiB packets, per-CPU streams, many event classes)', () => {
    const dir = join(tmp.dir, 'kernel');
    writeBenchTrace(dir, 60_000);
    const ref = dump(dir);
    expect(ref.length).toBeGreaterThan(60_000);
    expect(dump(dir, 4096)).toEqual(ref);
  });

  const fixtures = [
    'test/fixtures/tracecompass-test-traces/flipping-endianness',
    'test/fixtures/tracecompass-test-traces/mpi_gather',
    'test/fixtures/babeltrace/ctf-traces/succeed/wk-heartbeat-u',
    'test/fixtures/babeltrace/ctf-traces/succeed/smalltrace',
    'test/fixtures/babeltrace/ctf-traces/succeed/lttng-crash',
    'test/fixtures/babeltrace/ctf-traces/succeed/multi-domains',
  ].map((p) => resolve(p));
  for (const f of fixtures) {
    it(f.replace(/.*fixtures\//, ''), () => {
      expect(existsSync(f)).toBe(true);
      expect(dump(f, 4096)).toEqual(dump(f));
    });
  }
});
