import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  TraceWriter,
  charArray,
  lttngField,
  lttngLayout,
  lttngSequence,
  s32,
  s64,
  string,
  u32,
  u8,
} from '../../../src/ctf/writer/index.js';
import { afterName, bt2, bt2Lines, tempDir } from './peers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('TraceWriter basics', () => {
  it('writes a kernel-like trace that babeltrace2 reads cleanly, with the values written', () => {
    const dir = join(tmp.dir, 'basic');
    const tw = TraceWriter.create({
      dir,
      layout: lttngLayout({ domain: 'kernel', hostname: 'box', clock: { offsetCycles: 0n } }),
      packetSize: 4096,
    });
    tw.addStreamClass({
      context: [
        lttngField('pid_ns', u32()),
        lttngField('vtid', s32()),
        lttngField('procname', charArray(16)),
      ],
    });
    const ev = tw.addEventClass({
      name: 'sched_switch',
      fields: [
        lttngField('prev_comm', charArray(16)),
        lttngField('prev_tid', s32()),
        lttngField('prev_state', s64()),
        lttngField('name', string()),
        ...lttngSequence('vtids', s32(), u8()),
      ],
    });
    const cpu = [tw.stream(0, 0), tw.stream(0, 1)];
    for (let i = 0; i < 500; i++) {
      cpu[i % 2]!.write(
        ev,
        1000 + i * 7919,
        [`comm${i}`, i, -i, `n${i}`, 0, [1, -2, i]],
        [4026531836 + (i % 2), 100 + i, 'proc'],
      );
    }
    tw.close();
    const lines = bt2Lines(dir);
    expect(lines).toHaveLength(500);
    lines.forEach((l, i) => {
      expect(l.startsWith(`[${String(1000 + i * 7919).padStart(20, '0')}]`)).toBe(true);
      expect(afterName(l, 'sched_switch')).toBe(
        `{ cpu_id = ${i % 2} }, { pid_ns = ${4026531836 + (i % 2)}, vtid = ${100 + i}, procname = "proc" }, ` +
          `{ prev_comm = "comm${i}", prev_tid = ${i}, prev_state = ${-i}, name = "n${i}", _vtids_length = 3, vtids = [ [0] = 1, [1] = -2, [2] = ${i} ] }`,
      );
    });
    const meta = bt2('--output-format=ctf-metadata', dir);
    expect(meta.code).toBe(0);
    expect(meta.stderr).toBe('');
    // babeltrace2 prints the metadata text it read, plus a newline.
    expect(meta.stdout).toBe(`${tw.metadataText}\n`);
  });
});
