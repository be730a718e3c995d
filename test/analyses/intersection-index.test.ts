/**
 * Stream ranges from LTTng index files (`rangeFromIndex`) against those of the packet headers
 * (`TraceSet.streamRanges`): equal on every shared trace with index files, and no range (the
 * headers tell then) from an index that is not LTTng's or does not describe its whole file.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rangeFromIndex } from '../../src/analyses/intersection.js';
import { TraceSet } from '../../src/ctf/reader.js';
import { writeBenchTrace } from '../../src/synthetic/simulate.js';
import { SHARED_TRACES, sharedTracesMissing } from '../helpers/require.js';
import { traceDirs } from '../helpers/traces.js';

describe('stream ranges from LTTng index files', () => {
  it.skipIf(sharedTracesMissing() !== undefined)(
    'equal those of the packet headers on every shared trace with index files',
    () => {
      let compared = 0;
      for (const dir of traceDirs(SHARED_TRACES).filter((d) => existsSync(join(d, 'index')))) {
        let ts: TraceSet;
        let scanned: ReturnType<TraceSet['streamRanges']>;
        try {
          ts = TraceSet.open([dir]);
          scanned = ts.streamRanges();
        } catch {
          continue; // a trace made to fail (the ctf-traces `fail` set)
        }
        ts.streams.forEach((s, i) => {
          const r = rangeFromIndex(s, ts.base);
          if (r === undefined) return; // a foreign or partial index
          expect(r, `${s.files[0]}`).toEqual(scanned[i]);
          compared++;
        });
        ts.close();
      }
      expect(compared).toBeGreaterThan(50);
    },
  );

  it("gives no range for an index that is not LTTng's, or that does not end where its file ends", () => {
    const dir = mkdtempSync(join(tmpdir(), 'nstrace-index-range-'));
    try {
      writeBenchTrace(join(dir, 'ok'), 20_000, 5);
      const open = (d: string): TraceSet => TraceSet.open([join(dir, d)]);
      const ok = open('ok');
      const scanned = ok.streamRanges();
      expect(ok.streams.map((s) => rangeFromIndex(s, ok.base))).toEqual(scanned);
      const idx = (d: string): string[] =>
        readdirSync(join(dir, d, 'index')).map((f) => join(dir, d, 'index', f));

      cpSync(join(dir, 'ok'), join(dir, 'foreign'), { recursive: true });
      for (const f of idx('foreign')) writeFileSync(f, 'CTFI not an LTTng index');
      cpSync(join(dir, 'ok'), join(dir, 'short'), { recursive: true });
      for (const f of idx('short')) {
        const b = readFileSync(f);
        writeFileSync(f, b.subarray(0, b.length - b.readUInt32BE(12))); // the last entry dropped
      }
      for (const d of ['foreign', 'short']) {
        const ts = open(d);
        expect(
          ts.streams.map((s) => rangeFromIndex(s, ts.base)),
          d,
        ).toEqual(ts.streams.map(() => undefined));
        ts.close();
      }
      ok.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
