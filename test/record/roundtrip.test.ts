/**
 * A recorded trace read back three ways: its metadata by nstrace's TSDL parser and by
 * babeltrace2 (`--output-format=ctf-metadata`), and its events by nstrace's reader and by
 * babeltrace2, which must agree event for event.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/tracefs/recorder.js';
import type { RecordSummary } from '../../src/record/options.js';
import { readMetadataFile } from '../../src/ctf/metadata/index.js';
import { TraceSet } from '../../src/ctf/reader.js';
import { parseIndexFile } from '../../src/ctf/index-file.js';
import { babeltrace2, parseBt2Lines, skipReason, tmpDir, tracefsRoot } from './helpers.js';
import { ReferenceSwitches, type Switch } from './sched-check.js';
import { expectCompleteScheduling } from './scheduling.js';

const reason = skipReason();
if (reason) console.warn(`SKIPPING record round-trip tests: ${reason}`);

let out = '';
let summary: RecordSummary;
let ref: { switches: Switch[]; lost: number } | undefined;

beforeAll(async () => {
  if (reason) return;
  out = tmpDir('rt');
  const reference = new ReferenceSwitches(tracefsRoot()!);
  reference.start();
  try {
    summary = await record({
      outDir: out,
      durationMs: 1500,
      events: ['sched_*', 'irq_*', 'syscall_entry_openat', 'syscall_entry_read', 'syscall_entry_write'],
      containers: false,
      packetSize: 64 * 1024,
      onStarted: () => {
        // Some activity of our own kind: a child that opens and reads files.
        execFileSync('sh', ['-c', 'for i in 1 2 3 4 5; do cat /proc/version >/dev/null; done']);
      },
      excludeChildren: false,
    });
  } finally {
    ref = reference.stop();
  }
}, 60_000);

afterAll(() => {
  if (out) fs.rmSync(out, { recursive: true, force: true });
});

describe.skipIf(reason !== undefined)('recorded trace round trip', () => {
  it('metadata: nstrace TSDL parser and babeltrace2 both accept it, with the LTTng kernel layout', () => {
    const file = path.join(out, 'kernel', 'metadata');
    // Packetized, like LTTng's.
    expect(fs.readFileSync(file).readUInt32LE(0)).toBe(0x75d11d57);
    const { cls: tc, packetized } = readMetadataFile(file);
    expect(packetized).toBe(true);
    expect(tc.env.get('domain')).toBe('kernel');
    expect(tc.env.get('tracer_name')).toBe('lttng-modules');
    expect(tc.env.get('tracer_major')).toBe(2);
    const sc = tc.streamClasses.get(0)!;
    expect(sc.eventClasses.size).toBe(summary.eventClasses);
    const ctxNames = sc.eventContext!.fields.map((f) => f.name);
    expect(ctxNames).toEqual([
      '_pid_ns',
      '_user_ns',
      '_net_ns',
      '_mnt_ns',
      '_uts_ns',
      '_ipc_ns',
      '_cgroup_ns',
      '_time_ns',
      '_vpid',
      '_vtid',
      '_tid',
      '_pid',
      '_procname',
    ]);
    expect(sc.packetContext!.fields.map((f) => f.name)).toEqual([
      'timestamp_begin',
      'timestamp_end',
      'content_size',
      'packet_size',
      'packet_seq_num',
      'events_discarded',
      'cpu_id',
    ]);
    const bt = babeltrace2(['--output-format=ctf-metadata', path.join(out, 'kernel')]);
    expect(bt.status).toBe(0);
    expect(bt.stderr).toBe('');
  });

  it('events: nstrace reader and babeltrace2 agree on every event', () => {
    const bt = babeltrace2([out]);
    expect(bt.status).toBe(0);
    const bev = parseBt2Lines(bt.stdout);
    expect(bev.length).toBe(summary.events);
    const ts = TraceSet.open([out]);
    const names: string[] = [];
    const tids: number[] = [];
    let discarded = 0;
    try {
      for (let r = ts.next(); r; r = ts.next()) {
        if (r.kind !== 'event') {
          discarded++;
          continue;
        }
        names.push(r.eventClass.name);
        const tidIdx = r.stream.streamClass.eventContext!.fields.findIndex((f) => f.name === '_tid');
        tids.push(Number(r.streamContext![tidIdx]));
      }
    } finally {
      ts.close();
    }
    expect(discarded).toBe(0);
    expect(names.length).toBe(bev.length);
    // Same order (both merge the per-CPU streams by time, ties by stream).
    expect(names).toEqual(bev.map((e) => e.name));
    expect(tids).toEqual(bev.map((e) => Number(e.ctx.get('tid'))));
    expect(names).toContain('sched_switch');
    expect(names).toContain('syscall_entry_openat');
    expect(names).toContain('lttng_statedump_end');
  });

  it("scheduling: the kernel's switches, whole chains, CPU usage that adds up", async () => {
    await expectCompleteScheduling(out, ref, undefined, summary);
  });

  it('packets: the index files describe the streams packet by packet', () => {
    const dir = path.join(out, 'kernel');
    let packets = 0;
    for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('channel0_'))) {
      const size = fs.statSync(path.join(dir, f)).size;
      const idx = parseIndexFile(fs.readFileSync(path.join(dir, 'index', `${f}.idx`)), f);
      let off = 0;
      idx.entries.forEach((e, i) => {
        expect(e.offset).toBe(off);
        expect(e.packetSeqNum).toBe(BigInt(i));
        expect(e.contentSize).toBeLessThanOrEqual(e.packetSize);
        expect(e.packetSize).toBeLessThanOrEqual(64 * 1024 * 8);
        off += e.packetSize / 8;
      });
      expect(off).toBe(size);
      packets += idx.entries.length;
    }
    expect(packets).toBe(summary.packets);
  });
});
