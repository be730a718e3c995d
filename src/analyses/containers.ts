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
import { findField, toNum } from '../model/fields.js';
import { ModelContainerLookup } from '../model/lookup.js';
import { ProcessFilter } from './handler.js';
import type { AnalysisHandler, FilterSpec } from './handler.js';
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

/** Events of one trace attributed to one container. */
export interface TraceCoverage {
  /** Index of the trace in the machine's list. */
  readonly trace: number;
  readonly events: number;
}

/** A container of one machine and the traces that have events of its tasks. */
export interface CoveredContainer extends TraceContainerInfo {
  readonly coverage: readonly TraceCoverage[];
}

/**
 * Replays one machine's traces through the model and lists its containers (the host first)
 * with, for each, how many events of each trace its tasks produced (userspace events through
 * their pid_ns/vtid contexts, src/model/ust-join.ts; without a kernel trace, their pid_ns).
 * `traceIndex` gives the machine's index of a trace directory.
 */
export async function coveredContainersOfSource(
  src: RecordSource,
  traceIndex: (dir: string) => number,
  opts: ContainersOptions = {},
): Promise<CoveredContainer[]> {
  const model = new SystemModel({ syscalls: false, memory: false });
  const lookup = new ModelContainerLookup(model);
  const filter = new ProcessFilter(opts, model, lookup);
  /** Per trace index: events per thread uid, and per pid namespace of unattributed UST events. */
  const byThread: Array<Map<number, number>> = [];
  const byNs: Array<Map<number, number>> = [];
  const bump = (m: Array<Map<number, number>>, i: number, k: number): void => {
    let x = m[i];
    if (x === undefined) {
      x = new Map();
      m[i] = x;
    }
    x.set(k, (x.get(k) ?? 0) + 1);
  };
  const counter: AnalysisHandler = {
    name: 'coverage',
    reset: () => undefined,
    begin: () => undefined,
    finalize: () => undefined,
    needsPayload: () => false,
    bind: (info) => {
      const ti = traceIndex(info.trace.path);
      const iPidNs = findField(info.streamClass.eventContext, 'pid_ns');
      return (ev) => {
        const t = lookup.threadOf(ev);
        if (t !== undefined && t.tid !== 0) bump(byThread, ti, t.uid);
        else if (iPidNs >= 0) bump(byNs, ti, toNum(ev.streamContext?.[iPidNs]));
        else bump(byThread, ti, -1);
      };
    },
  };
  await runAnalyses(src, model, filter, [counter], { onProgress: opts.onProgress, signal: opts.signal });
  const cov = new Map<Container, Map<number, number>>();
  const add = (c: Container, ti: number, n: number): void => {
    let m = cov.get(c);
    if (m === undefined) {
      m = new Map();
      cov.set(c, m);
    }
    m.set(ti, (m.get(ti) ?? 0) + n);
  };
  byThread.forEach((m, ti) => {
    for (const [uid, n] of m)
      add(uid < 0 ? model.containers.host : model.containerOf(model.allThreads[uid]!), ti, n);
  });
  byNs.forEach((m, ti) => {
    for (const [ns, n] of m) {
      const c = model.namespaces.isHostPidNs(ns) ? model.containers.host : model.containers.peekNs(ns);
      if (c !== undefined) add(c, ti, n);
      else add(model.containers.forPidNs(ns, 0), ti, n);
    }
  });
  return model.containers
    .all()
    .filter((c) => filter.container(c))
    .map((c) => ({
      ...describeContainer(model, src.base, c),
      coverage: [...(cov.get(c) ?? new Map<number, number>())]
        .sort((a, b) => a[0] - b[0])
        .map(([trace, events]) => ({ trace, events })),
    }));
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
