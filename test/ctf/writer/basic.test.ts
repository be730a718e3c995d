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
  u64,
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

describe('namespace contexts', () => {
  const NS = ['pid_ns', 'user_ns', 'mnt_ns', 'net_ns', 'uts_ns', 'ipc_ns', 'cgroup_ns', 'time_ns'];
  it.each([
    ['kernel', 32],
    ['ust', 64],
  ] as const)('%s: every namespace context, vpid, vtid, procname on every event', (domain, nsBits) => {
    const dir = join(tmp.dir, `ns-${domain}`);
    const tw = TraceWriter.create({
      dir,
      layout: lttngLayout({ domain, hostname: 'box', clock: { offsetCycles: 0n } }),
      packetSize: 4096,
    });
    tw.addStreamClass({
      header: domain === 'ust' ? 'large' : 'compact',
      context: [
        ...NS.map((n) => lttngField(n, nsBits === 32 ? u32() : u64())),
        lttngField('vpid', s32()),
        lttngField('vtid', s32()),
        lttngField('procname', charArray(domain === 'ust' ? 17 : 16)),
      ],
    });
    const ev = tw.addEventClass({
      name: domain === 'ust' ? 'app:tick' : 'sched_wakeup',
      fields: [lttngField('n', u32())],
    });
    const inode = (k: number, i: number): number => 4026531835 + k + (i % 3) * 1000;
    for (let i = 0; i < 300; i++) {
      const ctx = [...NS.map((_, k) => inode(k, i)), 100 + (i % 3), 1000 + i, `worker-${i % 3}`];
      tw.stream(0, i % 2).write(ev, 10 + i, [i], ctx);
    }
    tw.close();
    const lines = bt2Lines(dir);
    expect(lines).toHaveLength(300);
    lines.forEach((l, i) => {
      const ns = NS.map((n, k) => `${n} = ${inode(k, i)}`).join(', ');
      expect(afterName(l, ev.name)).toBe(
        `{ cpu_id = ${i % 2} }, { ${ns}, vpid = ${100 + (i % 3)}, vtid = ${1000 + i}, procname = "worker-${i % 3}" }, { n = ${i} }`,
      );
    });
  });
});
