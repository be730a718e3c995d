/**
 * Opening traces for the analyses (the CTF reader), one trace set per machine, and the trace
 * mode of `nstrace containers`.
 */
import { TraceSet } from '../ctf/index.js';
import type { TimeBase } from '../ctf/event.js';
import type { Machine, TraceClockDecision } from '../model/machines.js';
import { clockPlan, clockShiftOption, machineLabel, machinesOf } from '../model/machines.js';
import { hasTimeNsEvents, readTimeNsFacts, timeNsResolver } from '../model/timens.js';
import type { ContainersOptions, CoveredContainer, TraceContainerInfo } from './containers.js';
import type { StreamRange } from './intersection.js';
import { rangeFromIndex } from './intersection.js';
import { containersOfSource, coveredContainersOfSource } from './containers.js';

/**
 * Opens every trace below `paths` as one time-ordered set, simultaneous events in the order
 * babeltrace 1 gives them to lttng-analyses (docs/analyses.md).
 */
export function openTraces(paths: readonly string[]): TraceSet {
  return TraceSet.open(paths, { order: 'babeltrace1' });
}

/** The traces of one machine, ready to open on one clock. */
export interface MachineInput {
  readonly machine: Machine;
  /** `vm (boot 3c7dff94)`. */
  readonly label: string;
  /** How each trace is put on the machine's clock. */
  readonly plan: readonly TraceClockDecision[];
  /** What the user should know about the alignment. */
  readonly warnings: readonly string[];
  /** Opens the machine's traces as one set, each on the machine's clock. */
  open(): TraceSet;
}

/**
 * The machines of the traces below `paths` (src/model/machines.ts), each with its clock plan:
 * time namespaces are looked up (statedump of the kernel traces, first event of the others)
 * only when the machine has kernel and other traces.
 */
export function machineInputs(paths: readonly string[]): MachineInput[] {
  return machinesOf(paths).map((m) => {
    const kernel = m.traces.filter((t) => t.domain === 'kernel');
    let plan: TraceClockDecision[];
    if (m.traces.length === 1) {
      plan = [{ trace: m.traces[0]!, shiftNs: 0n, how: 'reference clock' }];
    } else {
      const facts =
        kernel.length > 0 && kernel.length < m.traces.length && hasTimeNsEvents(kernel)
          ? readTimeNsFacts(kernel.map((t) => t.dir))
          : undefined;
      plan = clockPlan(m, timeNsResolver(facts));
    }
    const dirs = m.traces.map((t) => t.dir);
    const shift = clockShiftOption(plan);
    return {
      machine: m,
      label: machineLabel(m),
      plan,
      warnings: plan.flatMap((p) => (p.warning === undefined ? [] : [p.warning])),
      open: () => TraceSet.open(dirs, { clockShiftNs: shift, order: 'babeltrace1' }),
    };
  });
}

/** One machine of `nstrace containers DIR`: its traces and its containers with their coverage. */
export interface MachineContainers {
  readonly input: MachineInput;
  readonly containers: CoveredContainer[];
}

/** Per machine of the traces below `paths`: its containers and which traces cover them. */
export async function listMachineContainers(
  paths: readonly string[],
  opts: ContainersOptions = {},
): Promise<MachineContainers[]> {
  const out: MachineContainers[] = [];
  for (const input of machineInputs(paths)) {
    const ts = input.open();
    try {
      const dirs = input.machine.traces.map((t) => t.dir);
      const containers = await coveredContainersOfSource(ts, (d) => dirs.indexOf(d), opts);
      out.push({ input, containers });
    } finally {
      ts.close();
    }
  }
  return out;
}

/** The containers seen in the traces below `paths` (the host first). */
export async function listTraceContainers(
  paths: readonly string[],
  opts: ContainersOptions = {},
): Promise<TraceContainerInfo[]> {
  const ts = openTraces(paths);
  try {
    return await containersOfSource(ts, opts);
  } finally {
    ts.close();
  }
}

/**
 * First-packet begin and last-packet end of every stream of `ts` (by stream index): from the
 * LTTng index files when every stream has them, else from the packet headers (traces written
 * without index files, e.g. by babeltrace 1's writer). `null` for a stream without timestamps.
 */
export function streamRangesOf(ts: {
  streams: TraceSet['streams'];
  base: TimeBase;
  streamRanges(): Array<StreamRange | null>;
}): Array<StreamRange | null> {
  const fromIndex = ts.streams.map((s) => rangeFromIndex(s, ts.base));
  if (fromIndex.every((r) => r !== undefined)) return fromIndex as StreamRange[];
  const scanned = ts.streamRanges();
  return ts.streams.map((_, i) => fromIndex[i] ?? scanned[i] ?? null);
}
