/**
 * Traces grouped by machine, and the machine's clock.
 *
 * A machine is one boot of one kernel: LTTng (kernel and userspace) and nstrace's recorder give
 * every trace's clock the boot id (`/proc/sys/kernel/random/boot_id`) as its UUID, and the
 * clock is CLOCK_MONOTONIC of that boot. So traces whose clocks share a UUID belong to one
 * machine whatever their `hostname` (a container with its own UTS namespace writes its own
 * hostname, and the relay files it under that name), and their timestamps are readings of one
 * clock: they go into one model. Traces of other machines (another host, or the same host after
 * a reboot) get their own model; mixing them would replay two kernels as one (tids, CPUs and
 * namespace inodes collide) and stretch the period over months.
 *
 * Traces without a clock UUID are grouped by their `hostname` (all of them together when they
 * have none either): nothing better is known.
 *
 * One clock per machine (docs/adr/0190-machines-and-clocks.md): every trace of a machine is
 * read on the clock of its reference trace (its first kernel trace, else its first trace). A
 * trace's own clock offset (realtime − monotonic measured by its tracer when the session
 * started) differs from the reference's by the measurement error (µs), unless the clock was
 * stepped in between or the tracer ran in a time namespace. Time namespaces (Linux 5.6) shift
 * CLOCK_MONOTONIC by a per-namespace offset (`/proc/PID/timens_offsets`): an application in a
 * container with its own time namespace writes timestamps that are the host's plus that offset.
 * `clockPlan` decides each trace's shift from what is known (see there).
 */
import type { ClockClass, TraceClass } from '../ctf/ir.js';
import { readMetadataFile } from '../ctf/metadata/index.js';
import { clockBaseNs, findTraces } from '../ctf/open.js';

/** What the grouping needs of one trace (from its metadata alone). */
export interface TraceMeta {
  /** Directory of the trace (the one with the `metadata` file). */
  readonly dir: string;
  readonly cls: TraceClass;
  /** `env.domain`: `kernel`, `ust`, or '' when absent. */
  readonly domain: string;
  /** `env.hostname`, when given. */
  readonly hostname: string | undefined;
  /** UUID of the trace's clock (LTTng: the boot id), as 8-4-4-4-12 hex, when given. */
  readonly clockUuid: string | undefined;
  /** The trace's clock (the first one of the metadata), when it has one. */
  readonly clock: ClockClass | undefined;
  /** The clock's offset from the epoch in ns (as the reader computes it), when it has a clock. */
  readonly clockBase: bigint | undefined;
}

export interface Machine {
  /** 0, 1, ... in the order of the traces given. */
  readonly index: number;
  /** The boot id, or `hostname:NAME` for traces without a clock UUID. */
  readonly key: string;
  /** The boot id (clock UUID), when the traces give one. */
  readonly bootId: string | undefined;
  /** The hostname of its kernel trace, else of its first trace with one, else `unknown`. */
  readonly name: string;
  /** Every hostname of its traces (containers with their own UTS namespace have their own). */
  readonly hostnames: readonly string[];
  /** Its traces, kernel traces first, then in the order found. */
  readonly traces: readonly TraceMeta[];
}

function uuidText(u: Uint8Array | undefined): string | undefined {
  if (u === undefined || u.length !== 16) return undefined;
  const h = Buffer.from(u).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function envText(cls: TraceClass, key: string): string | undefined {
  const v = cls.env.get(key);
  return typeof v === 'string' ? v : undefined;
}

/** The metadata facts of one trace directory. */
export function traceMeta(dir: string, cls: TraceClass): TraceMeta {
  const clock = cls.clocks.values().next().value as ClockClass | undefined;
  return {
    dir,
    cls,
    domain: envText(cls, 'domain') ?? '',
    hostname: envText(cls, 'hostname'),
    clockUuid: uuidText(clock?.uuid),
    clock,
    clockBase: clock === undefined ? undefined : clockBaseNs(clock, {}),
  };
}

/** Every trace below `paths` (each directory once), with its metadata. */
export function scanTraces(paths: readonly string[]): TraceMeta[] {
  const seen = new Set<string>();
  const out: TraceMeta[] = [];
  for (const p of paths) {
    for (const f of findTraces(p)) {
      if (seen.has(f.dir)) continue;
      seen.add(f.dir);
      out.push(traceMeta(f.dir, readMetadataFile(`${f.dir}/metadata`).cls));
    }
  }
  return out;
}

/** Groups traces by machine (same clock UUID), in the order of their first trace. */
export function groupByMachine(traces: readonly TraceMeta[]): Machine[] {
  const groups = new Map<string, TraceMeta[]>();
  for (const t of traces) {
    const key = t.clockUuid ?? `hostname:${t.hostname ?? ''}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = [];
      groups.set(key, g);
    }
    g.push(t);
  }
  const out: Machine[] = [];
  for (const [key, list] of groups) {
    const sorted = [
      ...list.filter((t) => t.domain === 'kernel'),
      ...list.filter((t) => t.domain !== 'kernel'),
    ];
    const hostnames = [...new Set(sorted.map((t) => t.hostname).filter((h): h is string => h !== undefined))];
    out.push({
      index: out.length,
      key,
      bootId: sorted[0]!.clockUuid,
      name: sorted.find((t) => t.hostname !== undefined)?.hostname ?? 'unknown',
      hostnames,
      traces: sorted,
    });
  }
  return out;
}

/** `vm (boot 3c7dff94)`: how messages and report sections name a machine. */
export function machineLabel(m: Machine): string {
  return m.bootId === undefined ? m.name : `${m.name} (boot ${m.bootId.slice(0, 8)})`;
}

/** Finds and groups the traces below `paths`. */
export function machinesOf(paths: readonly string[]): Machine[] {
  return groupByMachine(scanTraces(paths));
}

// --- one clock per machine -------------------------------------------------------------------

/** The host's time namespace (`include/linux/proc_ns.h`: PROC_TIME_INIT_INO). */
export const INIT_TIME_NS = 0xeffffffa;

/**
 * Beyond this, two offsets of one machine's clocks are not measurement noise: the clock was
 * stepped between the two sessions, or a tracer measured in a time namespace.
 */
export const OFFSET_TOLERANCE_NS = 10_000_000n;

/** What is known about one trace's time namespace (from its events and the kernel trace's). */
export interface TraceTimeNs {
  /** Inode of the time namespace its events were written in, when known. */
  readonly inum: number | undefined;
  /** CLOCK_MONOTONIC offset of that namespace (ns), when known (0 for the host's). */
  readonly offsetNs: bigint | undefined;
}

/** How a trace is put on its machine's clock. */
export interface TraceClockDecision {
  readonly trace: TraceMeta;
  /** Added to the trace's clock offset when it is read (`OpenOptions.clockShiftNs`). */
  readonly shiftNs: bigint;
  /** One line for the user: why. */
  readonly how: string;
  /** Set when the alignment is a guess the user should know about. */
  readonly warning?: string;
}

function seconds(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  const s = `${a / 1_000_000_000n}.${(a % 1_000_000_000n).toString().padStart(9, '0')}`;
  return `${neg ? '-' : ''}${s} s`;
}

/**
 * The shift of each trace of `m` onto the reference trace's clock. With `d` the difference of
 * a trace's clock offset from the reference's and `off` the CLOCK_MONOTONIC offset of the time
 * namespace its events were written in:
 *
 * - `off` known (0 for the host's time namespace, else the recorder's statedump of
 *   `/proc/PID/timens_offsets`): the trace's cycles minus `off` are the reference clock's
 *   cycles (shift `-d - off`). This holds whether its session daemon measured its offset in
 *   that time namespace (then `d` is about `-off`) or outside (`d` about 0).
 * - time namespace other than the host's, offset unknown, `|d|` beyond the tolerance: the
 *   session daemon measured in the namespace, `off = -d` (shift 0).
 * - otherwise: `|d|` within the tolerance is measurement noise (shift `-d`: the reference
 *   clock's cycles); beyond it, with nothing known, the trace keeps its own offset (shift 0,
 *   what babeltrace2 does), with a warning.
 */
export function clockPlan(
  m: Machine,
  timeNsOf: (t: TraceMeta) => TraceTimeNs | undefined = () => undefined,
): TraceClockDecision[] {
  const ref = m.traces[0]!;
  const out: TraceClockDecision[] = [];
  for (const t of m.traces) {
    if (t === ref || ref.clockBase === undefined || t.clockBase === undefined) {
      out.push({ trace: t, shiftNs: 0n, how: t === ref ? 'reference clock' : 'no clock' });
      continue;
    }
    const d = t.clockBase - ref.clockBase;
    const small = d <= OFFSET_TOLERANCE_NS && d >= -OFFSET_TOLERANCE_NS;
    const tn = timeNsOf(t);
    const inHostNs = tn?.inum === INIT_TIME_NS;
    const off = inHostNs ? 0n : tn?.offsetNs;
    if (off !== undefined) {
      out.push({
        trace: t,
        shiftNs: -d - off,
        how:
          off === 0n
            ? `same clock as the reference (offsets differ by ${seconds(d)})`
            : `time namespace ${tn!.inum} (CLOCK_MONOTONIC offset ${seconds(off)})`,
      });
    } else if (tn?.inum !== undefined && !small) {
      out.push({
        trace: t,
        shiftNs: 0n,
        how: `time namespace ${tn.inum}, offset ${seconds(-d)} from the trace's clock offset`,
      });
    } else if (small) {
      const other = tn?.inum !== undefined;
      out.push({
        trace: t,
        shiftNs: -d,
        how: `same clock as the reference (offsets differ by ${seconds(d)})`,
        ...(other
          ? {
              warning:
                `${t.dir}: written in time namespace ${tn.inum}, whose offsets the kernel trace does not ` +
                'give (nstrace record dumps them): read as if its CLOCK_MONOTONIC offset were 0',
            }
          : {}),
      });
    } else {
      out.push({
        trace: t,
        shiftNs: 0n,
        how: `own clock offset (${seconds(d)} from the reference)`,
        warning:
          `${t.dir}: its clock offset differs from the machine's by ${seconds(d)} and its time namespace ` +
          'is unknown (a clock step between the sessions, or a time namespace): aligned by its own clock ' +
          'offset; add the time_ns context (lttng add-context -u -t time_ns) to know',
      });
    }
  }
  return out;
}

/** The reader option for a clock plan. */
export function clockShiftOption(
  plan: readonly TraceClockDecision[],
): (t: { readonly path: string }) => bigint {
  const byDir = new Map(plan.map((p) => [p.trace.dir, p.shiftNs]));
  return (t) => byDir.get(t.path) ?? 0n;
}
