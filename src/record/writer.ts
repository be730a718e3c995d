/**
 * The writer glue of both capture backends: the CTF trace writer of a kernel trace with
 * LTTng's layout (clock offset, env block) and the stream class whose event context holds the
 * recorded context fields.
 */
import os from 'node:os';
import path from 'node:path';
import type { NamedField } from '../ctf/ir.js';
import { TraceWriter, lttngLayout } from '../ctf/writer/index.js';
import { structFC } from './types.js';
import type { RecordOptions } from './options.js';

/** The trace writer of a recording into `traceDir` (or `o.sink`), times from `cyclesBase`. */
export function createKernelTraceWriter(
  o: RecordOptions,
  traceDir: string,
  ctxFields: NamedField[],
  packetSize: number,
  cyclesBase: bigint,
  source: 'ftrace' | 'bpf',
): TraceWriter {
  // realtime - monotonic, measured the way LTTng does (as close together as possible).
  const realNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  const monoNs = process.hrtime.bigint();
  const tw = TraceWriter.create({
    ...(o.sink ? { sink: o.sink } : { dir: traceDir }),
    layout: lttngLayout({
      domain: 'kernel',
      hostname: os.hostname(),
      clock: { offsetCycles: realNs - monoNs },
      traceName: o.traceName ?? path.basename(path.resolve(o.outDir)),
      env: {
        nstrace_recorder: `nstrace-record ${o.recorderVersion ?? ''}`.trim(),
        nstrace_source: source,
      },
    }),
    packetSize,
    cyclesBase,
  });
  tw.addStreamClass({ header: 'compact', context: structFC(ctxFields) });
  return tw;
}
