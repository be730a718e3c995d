/**
 * A second kernel trace for a simulated host (src/synthetic/simulate.ts), with what the
 * simulation does not write: hard and soft interrupts and block requests. The host's trace is
 * read back through the model, and during each slice the trace shows (or idle time of a CPU),
 * with seeded probabilities: a hard IRQ handler runs (interrupting the thread, or an idle CPU),
 * a softirq is raised and runs, a container or host thread issues a block request that
 * completes later on that CPU. Same clock (boot id and offset) as the host's trace, so both are
 * one machine; a block-device statedump at the first and last time of the host's trace on every
 * CPU keeps the stream intersection of the pair that of the host's trace.
 */
import { TraceSet } from '../../src/ctf/reader.js';
import {
  TraceWriter,
  lttngField,
  lttngLayout,
  charArray,
  s32,
  string,
  u32,
  u64,
} from '../../src/ctf/writer/index.js';
import type { EventClassWriter, StreamWriter } from '../../src/ctf/writer/index.js';
import { Dispatcher } from '../../src/model/dispatch.js';
import type { Subscriber } from '../../src/model/dispatch.js';
import { SystemModel } from '../../src/model/model.js';
import { prng } from '../../src/synthetic/simulate.js';

interface Ev {
  readonly cpu: number;
  readonly ts: number;
  readonly ec: EventClassWriter;
  readonly payload: Parameters<StreamWriter['write']>[2];
}

const DISKS: Array<[number, string]> = [
  [(8 << 20) | 0, 'sda'],
  [(259 << 20) | 1, 'nvme0n1'],
];
const IRQS: Array<[number, string]> = [
  [27, 'eth0-rx'],
  [28, 'nvme0q1'],
  [9, 'acpi'],
];

export function writeIrqIoTrace(
  kernelDir: string,
  outDir: string,
  seed = 5,
  /**
   * `nstrace_kernel_skipped { count, tracepoints }` markers to write at the end, on CPU 0, as the
   * bpf recorder does for the events the kernel skipped.
   */
  kernelSkipped: ReadonlyArray<readonly [number, string]> = [],
): { events: number } {
  const rnd = prng(seed);
  const set = TraceSet.open([kernelDir]);
  const clock = set.traces[0]!.cls.clocks.values().next().value!;
  const baseNs = BigInt(set.base.seconds) * 1_000_000_000n + BigInt(set.base.ns);
  const offset = BigInt(clock.offsetSeconds) * 1_000_000_000n + BigInt(clock.offsetCycles);
  const tw = TraceWriter.create({
    dir: outDir,
    layout: lttngLayout({
      domain: 'kernel',
      hostname: 'demo-host',
      traceName: 'irq-io',
      creationTime: new Date(Number(offset / 1_000_000n)),
      clock: { offsetCycles: offset, ...(clock.uuid !== undefined ? { uuid: clock.uuid } : {}) },
    }),
    packetSize: 64 * 1024,
    strings: 'utf8',
  });
  tw.addStreamClass({ header: 'compact', context: [] });
  const ec = (name: string, fields: Array<[string, Parameters<typeof lttngField>[1]]>): EventClassWriter =>
    tw.addEventClass({ name, fields: fields.map(([n, t]) => lttngField(n, t)) });
  const blockDev = ec('lttng_statedump_block_device', [
    ['dev', u32()],
    ['diskname', string()],
  ]);
  const irqEntry = ec('irq_handler_entry', [
    ['irq', s32()],
    ['name', string()],
  ]);
  const irqExit = ec('irq_handler_exit', [
    ['irq', s32()],
    ['ret', s32()],
  ]);
  const vec = (n: string): EventClassWriter => ec(n, [['vec', u32()]]);
  const raise = vec('irq_softirq_raise');
  const softEntry = vec('irq_softirq_entry');
  const softExit = vec('irq_softirq_exit');
  const issue = ec('block_rq_issue', [
    ['dev', u32()],
    ['sector', u64()],
    ['nr_sector', u32()],
    ['bytes', u32()],
    ['tid', s32()],
    ['rwbs', u32()],
    ['comm', charArray(16)],
  ]);
  const complete = ec('block_rq_complete', [
    ['dev', u32()],
    ['sector', u64()],
    ['nr_sector', u32()],
    ['error', s32()],
    ['rwbs', u32()],
  ]);
  const skippedMark = ec('nstrace_kernel_skipped', [
    ['count', u64()],
    ['tracepoints', string()],
  ]);
  const evs: Ev[] = [];
  const model = new SystemModel({ syscalls: false, memory: false });
  const since: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  let sector = 1000;
  const sub: Subscriber = {
    bind: (info) => {
      if (info.name !== 'sched_switch') return undefined;
      return (ev) => {
        const cpu = model.cpuId;
        const prev = model.switchPrev;
        const start = since[cpu];
        since[cpu] = ev.ts;
        if (prev === undefined || start === undefined) return;
        const len = ev.ts - start;
        if (len < 40) return;
        const at = (): number => start + 1 + Math.floor(rnd() * (len - 20));
        if (rnd() < 0.25) {
          const [irq, name] = IRQS[Math.floor(rnd() * IRQS.length)]!;
          const b = at();
          const e = b + 1 + Math.floor(rnd() * 9);
          evs.push({ cpu, ts: b, ec: irqEntry, payload: [irq, name] });
          evs.push({ cpu, ts: e, ec: irqExit, payload: [irq, 1] });
        }
        if (rnd() < 0.2) {
          const v = [1, 3, 4, 7, 9][Math.floor(rnd() * 5)]!;
          const r = at();
          const b = r + Math.floor(rnd() * 5);
          evs.push({ cpu, ts: r, ec: raise, payload: [v] });
          evs.push({ cpu, ts: b, ec: softEntry, payload: [v] });
          evs.push({ cpu, ts: b + 1 + Math.floor(rnd() * 7), ec: softExit, payload: [v] });
        }
        if (prev.tid !== 0 && rnd() < 0.15) {
          const [dev] = DISKS[Math.floor(rnd() * DISKS.length)]!;
          const nr = 8 * (1 + Math.floor(rnd() * 16));
          const rwbs = rnd() < 0.5 ? 0 : 1;
          const b = at();
          sector += 4096;
          evs.push({
            cpu,
            ts: b,
            ec: issue,
            payload: [dev, sector, nr, nr * 512, prev.tid, rwbs, prev.comm],
          });
          const done = b + 1000 + Math.floor(rnd() * 100_000);
          evs.push({ cpu, ts: done, ec: complete, payload: [dev, sector, nr, 0, rwbs] });
        }
      };
    },
  };
  const d = new Dispatcher([model.pre, sub, model.post]);
  try {
    for (let r = set.next(); r !== null; r = set.next()) {
      if (r.kind !== 'event') continue;
      first = Math.min(first, r.ts);
      last = Math.max(last, r.ts);
      d.dispatch(r);
    }
  } finally {
    set.close();
  }
  const cpus = since.length;
  for (let cpu = 0; cpu < cpus; cpu++) {
    for (const [dev, name] of DISKS) {
      evs.push({ cpu, ts: first, ec: blockDev, payload: [dev, name] });
      evs.push({ cpu, ts: last, ec: blockDev, payload: [dev, name] });
    }
  }
  for (const [count, tracepoints] of kernelSkipped) {
    evs.push({ cpu: 0, ts: last, ec: skippedMark, payload: [BigInt(count), tracepoints] });
  }
  const kept = evs.filter((e) => e.ts >= first && e.ts <= last);
  kept.sort((a, b) => a.ts - b.ts);
  const streams = Array.from({ length: cpus }, (_, cpu) => tw.stream(0, cpu));
  const cycles = (ts: number): number => Number(baseNs - offset) + ts;
  for (const e of kept) streams[e.cpu]!.write(e.ec, cycles(e.ts), e.payload, []);
  tw.close();
  return { events: kept.length };
}
