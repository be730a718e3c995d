/**
 * Userspace traces for a synthetic kernel trace (src/synthetic/simulate.ts), for the spans
 * benchmark and tests: the applications of the simulated containers "serve requests", writing
 * `bench:request_begin`/`bench:request_end { id }` with lttng-ust's layout and the contexts
 * `vpid`, `vtid`, `pid_ns` (64-bit), `procname`, on the CPU their thread runs on, with the
 * kernel trace's clock (same boot id, same offset).
 *
 * The kernel trace is read back through the model, so a request begins only while its thread
 * runs (a tracepoint is code the thread executes): at a switch out of a container thread, the
 * thread begins a request during the slice that just ended (with probability `begin`), or ends
 * its open request there (probability `end`). A request thus spans several slices, waits and
 * sleeps, as real ones do.
 */
import { mkdirSync } from 'node:fs';
import { TraceSet } from '../ctf/reader.js';
import { TraceWriter, charArray, lttngField, lttngLayout, s32, u64 } from '../ctf/writer/index.js';
import type { EventClassWriter, StreamWriter } from '../ctf/writer/index.js';
import { Dispatcher } from '../model/dispatch.js';
import type { Subscriber } from '../model/dispatch.js';
import { SystemModel } from '../model/model.js';
import type { Thread } from '../model/threads.js';
import { prng } from './simulate.js';

export const BENCH_BEGIN = 'bench:request_begin';
export const BENCH_END = 'bench:request_end';

export interface UstSpansOptions {
  /** Probability that a container thread begins a request during a slice (default 0.3). */
  begin?: number;
  /** Probability that it ends its open request during a slice (default 0.3). */
  end?: number;
  seed?: number;
  /** Hostname of the userspace trace (default `app`). */
  hostname?: string;
}

/**
 * Writes the userspace trace of the container applications of `kernelDir` into `ustDir`.
 * Returns the events and requests written.
 */
export function writeUstSpans(
  kernelDir: string,
  ustDir: string,
  o: UstSpansOptions = {},
): { events: number; requests: number } {
  const rnd = prng(o.seed ?? 11);
  const pBegin = o.begin ?? 0.3;
  const pEnd = o.end ?? 0.3;
  const set = TraceSet.open([kernelDir]);
  const clock = set.traces[0]!.cls.clocks.values().next().value!;
  const baseNs = BigInt(set.base.seconds) * 1_000_000_000n + BigInt(set.base.ns);
  mkdirSync(ustDir, { recursive: true });
  const offset = BigInt(clock.offsetSeconds) * 1_000_000_000n + BigInt(clock.offsetCycles);
  const tw = TraceWriter.create({
    dir: ustDir,
    layout: lttngLayout({
      domain: 'ust',
      hostname: o.hostname ?? 'app',
      traceName: 'bench-app',
      creationTime: new Date(Number(offset / 1_000_000n)),
      clock: { offsetCycles: offset, ...(clock.uuid !== undefined ? { uuid: clock.uuid } : {}) },
    }),
    packetSize: 256 * 1024,
    strings: 'utf8',
  });
  tw.addStreamClass({
    header: 'compact',
    context: [
      lttngField('vpid', s32()),
      lttngField('vtid', s32()),
      lttngField('pid_ns', u64()),
      lttngField('procname', charArray(17)),
    ],
  });
  const beginEc: EventClassWriter = tw.addEventClass({
    name: BENCH_BEGIN,
    fields: [lttngField('id', s32())],
  });
  const endEc: EventClassWriter = tw.addEventClass({ name: BENCH_END, fields: [lttngField('id', s32())] });
  const streams: StreamWriter[] = [];
  const stream = (cpu: number): StreamWriter => {
    while (streams.length <= cpu) streams.push(tw.stream(0, streams.length));
    return streams[cpu]!;
  };
  const model = new SystemModel({ syscalls: false, memory: false });
  /** Per CPU: the time the current thread was switched in. */
  const since: number[] = [];
  const open = new Map<Thread, number>();
  let events = 0;
  let requests = 0;
  let nextId = 1;
  // Reader time (ns relative to the set's base) → cycles of the userspace clock.
  const cyclesOf = (ts: number): number => Number(baseNs - offset) + ts;
  const spans: Subscriber = {
    bind: (info) => {
      if (info.name !== 'sched_switch') return undefined;
      return (ev) => {
        const cpu = model.cpuId;
        const prev = model.switchPrev;
        const start = since[cpu];
        since[cpu] = ev.ts;
        if (prev === undefined || prev.tid === 0 || start === undefined) return;
        const c = model.containerOf(prev);
        const ns = prev.pidNs;
        const vtid = prev.vtid;
        if (c.isHost || ns === undefined || vtid === undefined) return;
        const len = ev.ts - start;
        if (len < 4) return;
        const ctx = [prev.vpid ?? vtid, vtid, BigInt(ns), prev.comm];
        const id = open.get(prev);
        if (id !== undefined) {
          if (rnd() < pEnd) {
            stream(cpu).write(endEc, cyclesOf(ev.ts - 1 - Math.floor(rnd() * (len / 2))), [id], ctx);
            open.delete(prev);
            events++;
          }
        } else if (rnd() < pBegin) {
          const id2 = nextId++;
          stream(cpu).write(beginEc, cyclesOf(start + 1 + Math.floor(rnd() * (len / 2))), [id2], ctx);
          open.set(prev, id2);
          events++;
          requests++;
        }
      };
    },
  };
  const d = new Dispatcher([model.pre, spans, model.post]);
  try {
    for (let r = set.next(); r !== null; r = set.next()) if (r.kind === 'event') d.dispatch(r);
  } finally {
    set.close();
  }
  tw.close();
  return { events, requests };
}
