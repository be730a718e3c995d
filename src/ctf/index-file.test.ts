import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodeIndexEntry, encodeIndexHeader, parseIndexFile } from './index-file.js';
import { TraceFormatError } from '../util/errors.js';
import { concatBytes } from './bytes.js';

const concat = concatBytes;

describe('index files', () => {
  it('round-trips 1.1 and 1.0 entries', () => {
    const e = {
      offset: 4096,
      packetSize: 32768,
      contentSize: 30000,
      timestampBegin: 1234567890123n,
      timestampEnd: 1234567899999n,
      eventsDiscarded: 7n,
      streamId: 2n,
      streamInstanceId: 3n,
      packetSeqNum: 11n,
    };
    const f = parseIndexFile(concat([encodeIndexHeader(1), encodeIndexEntry(e, 1)]), 'x.idx');
    expect(f).toMatchObject({ major: 1, minor: 1, entrySize: 72 });
    expect(f.entries).toEqual([e]);
    const f0 = parseIndexFile(concat([encodeIndexHeader(0), encodeIndexEntry(e, 0)]), 'x.idx');
    expect(f0.entrySize).toBe(56);
    expect(f0.entries[0]).not.toHaveProperty('packetSeqNum');
  });

  it('rejects bad magic and torn entries with the byte offset', () => {
    const good = concat([encodeIndexHeader(1), new Uint8Array(72)]);
    const bad = good.slice();
    bad[0] = 0;
    expect(() => parseIndexFile(bad, 'a.idx')).toThrow(/a\.idx: at byte 0: bad index magic/);
    expect(() => parseIndexFile(good.subarray(0, 50), 'b.idx')).toThrow(TraceFormatError);
    expect(() => parseIndexFile(good.subarray(0, 50), 'b.idx')).toThrow(/at byte 16: .*middle of an entry/);
  });

  it('reads a real LTTng index (trace-with-index fixture) consistently with its stream file', () => {
    const dir = new URL('../../test/fixtures/babeltrace/trace-with-index', import.meta.url).pathname;
    const files = readdirSync(join(dir, 'index'));
    expect(files.length).toBe(4);
    for (const name of files) {
      const idx = parseIndexFile(readFileSync(join(dir, 'index', name)), name);
      const data = readFileSync(join(dir, name.replace(/\.idx$/, '')));
      let expectOffset = 0;
      for (const e of idx.entries) {
        expect(e.offset).toBe(expectOffset);
        expect(e.contentSize).toBeLessThanOrEqual(e.packetSize);
        expectOffset += e.packetSize / 8;
      }
      expect(expectOffset).toBe(data.length);
    }
  });
});
