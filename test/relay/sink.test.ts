/**
 * The CTF writer streaming through a relay (`RelayTraceSink`, what `nstrace record --url` uses):
 * the same trace written to a directory and sent to nstrace relayd and to the real lttng-relayd
 * must give the same stream and index files and print the same in babeltrace2.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RelayClient, RelayDaemon } from '../../src/relay/index.js';
import { RelayTraceSink } from '../../src/relay/sink.js';
import { DirectorySink } from '../../src/ctf/writer/sink.js';
import type { TraceSink } from '../../src/ctf/writer/sink.js';
import { TraceWriter, charArray, lttngField, lttngLayout, s32, u32 } from '../../src/ctf/writer/index.js';
import { LttngRelayd, babeltrace, freePort, tempDir } from './helpers.js';

const work = tempDir('relay-sink');
const TRACE_UUID = Uint8Array.from({ length: 16 }, (_, i) => i * 17);

/** Writes a small two-CPU kernel-style trace with many packets into `sink`. */
function writeTrace(sink: TraceSink): void {
  const tw = TraceWriter.create({
    sink,
    layout: lttngLayout({
      domain: 'kernel',
      hostname: 'sinkhost',
      uuid: TRACE_UUID,
      clock: { offsetCycles: 1_700_000_000_000_000_000n, uuid: TRACE_UUID },
      creationTime: new Date(Date.UTC(2026, 10, 27)),
    }),
    packetSize: 4096,
  });
  tw.addStreamClass({ header: 'compact', context: [lttngField('pid_ns', u32()), lttngField('vtid', s32())] });
  const ev = tw.addEventClass({
    name: 'sched_switch',
    fields: [
      lttngField('prev_comm', charArray(16)),
      lttngField('prev_tid', s32()),
      lttngField('next_tid', s32()),
    ],
  });
  for (let i = 0; i < 3000; i++) {
    const cpu = i % 2;
    tw.stream(0, cpu).write(ev, 1000 + i * 10, [`task${i % 7}`, i, i + 1], [4026531836 + (i % 3), i]);
    if (i === 1500) {
      // An event class appended mid-trace: new metadata must reach the relay before its packets.
      const late = tw.addEventClass({ name: 'late_event', fields: [lttngField('x', u32())] });
      tw.stream(0, 0).write(late, 1000 + i * 10 + 1, [i], [4026531836, i]);
    }
  }
  tw.close();
}

/** Every stream and index file below `dir`, relative path → bytes (metadata compared separately). */
function dataFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, rel === '' ? n : `${rel}/${n}`);
      else if (n !== 'metadata') out.set(rel === '' ? n : `${rel}/${n}`, readFileSync(p));
    }
  };
  walk(dir, '');
  return out;
}

async function viaRelay(control: number, data: number, outputRoot: string): Promise<string> {
  const client = await RelayClient.connect(`net://127.0.0.1:${control}:${data}`, {
    hostname: 'sinkhost',
    sessionName: 'sinktest',
  });
  const sink = new RelayTraceSink(client, 'kernel');
  writeTrace(sink);
  await sink.finished();
  await client.close();
  expect(sink.packetsSent).toBeGreaterThan(10);
  return join(outputRoot, client.outputPath, 'kernel');
}

describe('CTF writer through a relay', () => {
  it(
    'gives the same trace as a local write, with nstrace relayd and lttng-relayd',
    { timeout: 120_000 },
    async () => {
      const local = join(work, 'local');
      writeTrace(new DirectorySink(local));

      const oursOut = join(work, 'ours');
      const ports = { control: await freePort(), data: await freePort(), live: await freePort() };
      const daemon = await RelayDaemon.start({
        outputDir: oursOut,
        control: { host: '127.0.0.1', port: ports.control },
        data: { host: '127.0.0.1', port: ports.data },
        live: { host: '127.0.0.1', port: ports.live },
      });
      let ours: string;
      try {
        ours = await viaRelay(ports.control, ports.data, oursOut);
      } finally {
        await daemon.close();
      }

      const theirsOut = join(work, 'theirs');
      const relayd = await LttngRelayd.start(theirsOut);
      let theirs: string;
      try {
        theirs = await viaRelay(relayd.ports.control, relayd.ports.data, theirsOut);
      } finally {
        await relayd.stop();
      }

      const want = dataFiles(local);
      expect(want.size).toBeGreaterThanOrEqual(4); // 2 stream files + 2 index files
      expect(dataFiles(ours)).toEqual(want);
      expect(dataFiles(theirs)).toEqual(want);
      const text = (await babeltrace([local])).stdout;
      expect(text.split('\n').filter((l) => l !== '')).toHaveLength(3001);
      expect((await babeltrace([ours])).stdout).toBe(text);
      expect((await babeltrace([theirs])).stdout).toBe(text);
    },
  );
});
