/**
 * The containers seen in a trace (trace mode of `nstrace containers`): identity, namespaces,
 * lifetime and how many threads and processes ran in each, from one pass of the model.
 */
import type { TimeBase } from '../ctf/event.js';
import { splitTs } from '../ctf/event.js';
import type { Container } from '../model/containers.js';
import { SystemModel } from '../model/model.js';
import { FLAT_NS_TYPES } from '../model/namespaces.js';
import type { FlatNsType } from '../model/namespaces.js';
import { ProcessFilter } from './handler.js';
import type { FilterSpec } from './handler.js';
import { padLeftAlign, padRightAlign } from './format/pyfmt.js';
import { absToBigInt, formatTimestamp } from './format/time.js';
import type { RecordSource } from './runner.js';
import { runAnalyses } from './runner.js';

export interface TraceContainerInfo {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly image: string;
  readonly host: boolean;
  /** `event`: named by a container event; `namespace`: inferred from a pid namespace alone. */
  readonly source: 'host' | 'event' | 'namespace';
  /** Latest pid namespace, and all of them (a restart gives a new one). */
  readonly pidNs: number | undefined;
  readonly pidNsList: readonly number[];
  /** Other namespaces (from the container event, else from its threads). */
  readonly namespaces: Readonly<Partial<Record<FlatNsType, number>>>;
  readonly cgroupPath: string;
  readonly initPid: number;
  readonly pod: { name: string; namespace: string; uid: string } | undefined;
  /** Start time from the runtime, ns since the epoch (0 when unknown). */
  readonly startedAt: bigint;
  /** ns since the epoch. */
  readonly firstSeen: bigint | undefined;
  readonly lastSeen: bigint | undefined;
  readonly stoppedAt: bigint | undefined;
  /** Id of the enclosing container for nested ones. */
  readonly parent: string | undefined;
  /** Nesting level of its pid namespace (1 for a container of the host), when known. */
  readonly level: number | undefined;
  readonly threads: number;
  readonly processes: number;
}

function abs(base: TimeBase, ts: number | undefined): bigint | undefined {
  if (ts === undefined) return undefined;
  const [s, ns] = splitTs(base, ts);
  return absToBigInt({ sec: s, ns });
}

export function describeContainer(model: SystemModel, base: TimeBase, c: Container): TraceContainerInfo {
  const namespaces: Partial<Record<FlatNsType, number>> = { ...c.ns };
  for (const type of FLAT_NS_TYPES) {
    if (namespaces[type] !== undefined) continue;
    const t = c.threads.find((th) => th.ns[type] !== undefined);
    if (t !== undefined) namespaces[type] = t.ns[type];
  }
  const pids = new Set<number>();
  for (const t of c.threads) pids.add(t.pid ?? t.tid);
  const level = c.isHost ? 0 : c.pidNs === undefined ? undefined : model.namespaces.pid.get(c.pidNs)?.level;
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    image: c.image,
    host: c.isHost,
    source: c.source,
    pidNs: c.isHost ? model.namespaces.hostPidNs : c.pidNs,
    pidNsList: c.isHost ? [model.namespaces.hostPidNs] : c.pidNsList.slice(),
    namespaces,
    cgroupPath: c.cgroupPath,
    initPid: c.initPid,
    pod:
      c.podName === '' && c.podUid === ''
        ? undefined
        : { name: c.podName, namespace: c.podNamespace, uid: c.podUid },
    startedAt: c.startedAt,
    firstSeen: abs(base, c.firstSeen),
    lastSeen: abs(base, c.lastSeen),
    stoppedAt: abs(base, c.stoppedAt),
    parent: c.parent?.id,
    level,
    threads: c.threads.length,
    processes: pids.size,
  };
}

export interface ContainersOptions extends FilterSpec {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Replays a trace through the model and lists its containers (the host first). */
export async function containersOfSource(
  src: RecordSource,
  opts: ContainersOptions = {},
): Promise<TraceContainerInfo[]> {
  const model = new SystemModel({ syscalls: false, memory: false });
  const filter = new ProcessFilter(opts, model);
  await runAnalyses(src, model, filter, [], { onProgress: opts.onProgress, signal: opts.signal });
  return model.containers
    .all()
    .filter((c) => filter.container(c))
    .map((c) => describeContainer(model, src.base, c));
}

function fmtTime(t: bigint | undefined, gmt: boolean): string {
  if (t === undefined) return '-';
  const sec = Number(t / 1_000_000_000n);
  const ns = Number(t % 1_000_000_000n);
  return formatTimestamp({ sec, ns }, true, gmt);
}

/** A text table of containers. */
export function containersText(list: readonly TraceContainerInfo[], gmt: boolean): string {
  const rows = list.map((c) => [
    c.name,
    c.type,
    c.host ? '-' : c.id.length > 16 ? c.id.slice(0, 12) : c.id,
    c.pidNsList.join(','),
    String(c.processes),
    String(c.threads),
    fmtTime(c.firstSeen, gmt),
    c.stoppedAt !== undefined ? `${fmtTime(c.lastSeen, gmt)} (stopped)` : fmtTime(c.lastSeen, gmt),
    c.image === '' ? '-' : c.image,
  ]);
  const head = ['NAME', 'TYPE', 'ID', 'PID_NS', 'PROCS', 'THREADS', 'FIRST SEEN', 'LAST SEEN', 'IMAGE'];
  const numeric = new Set([4, 5]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r
      .map((v, i) =>
        i === r.length - 1 ? v : numeric.has(i) ? padRightAlign(v, widths[i]!) : padLeftAlign(v, widths[i]!),
      )
      .join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

/** JSON-friendly form (big integers as strings). */
export function containersJson(list: readonly TraceContainerInfo[]): unknown[] {
  return list.map((c) => ({
    ...c,
    startedAt: c.startedAt === 0n ? null : c.startedAt.toString(),
    firstSeen: c.firstSeen?.toString() ?? null,
    lastSeen: c.lastSeen?.toString() ?? null,
    stoppedAt: c.stoppedAt?.toString() ?? null,
  }));
}
