/**
 * The trace mode of `nstrace containers` (the command itself belongs to the containers module:
 * it calls this through its `traceContainers` hook): the containers seen in traces, with their
 * namespaces, in its table; `--json` adds lifetimes, thread and process counts, nesting and
 * every pid namespace a container had.
 */
import type { TraceContainerInfo } from '../../analyses/containers.js';
import { listTraceContainers } from '../../analyses/open.js';
import type { ContainerRow, ContainerType } from '../../containers/index.js';
import type { TraceContainerLister } from './containers.js';

const infos = new WeakMap<object, TraceContainerInfo>();

function row(c: TraceContainerInfo): ContainerRow {
  const r: ContainerRow = {
    id: c.id,
    name: c.name,
    // The host row and namespaces without a runtime keep the trace's words (`host`, `unknown`).
    type: c.type as ContainerType,
    image: c.image,
    initPid: c.initPid,
    ns: {
      pid: c.pidNs ?? 0,
      user: c.namespaces.user ?? 0,
      mnt: c.namespaces.mnt ?? 0,
      net: c.namespaces.net ?? 0,
      uts: c.namespaces.uts ?? 0,
      ipc: c.namespaces.ipc ?? 0,
      cgroup: c.namespaces.cgroup ?? 0,
      time: c.namespaces.time ?? 0,
    },
    cgroupPath: c.cgroupPath,
    podName: c.pod?.name ?? '',
    podNamespace: c.pod?.namespace ?? '',
    state: c.stoppedAt !== undefined ? 'stopped' : c.host ? '' : 'seen',
  };
  infos.set(r, c);
  return r;
}

const big = (v: bigint | undefined): string | null => (v === undefined ? null : v.toString());

export const traceContainerLister: TraceContainerLister = {
  list: async (paths) => (await listTraceContainers(paths)).map(row),
  toJson: (r) => {
    const c = infos.get(r);
    if (c === undefined) return r;
    return {
      id: c.id,
      name: c.name,
      type: c.type,
      image: c.image,
      host: c.host,
      source: c.source,
      pidNs: c.pidNs ?? null,
      pidNsList: c.pidNsList,
      namespaces: c.namespaces,
      cgroupPath: c.cgroupPath,
      initPid: c.initPid,
      pod: c.pod ?? null,
      startedAt: c.startedAt === 0n ? null : c.startedAt.toString(),
      firstSeen: big(c.firstSeen),
      lastSeen: big(c.lastSeen),
      stoppedAt: big(c.stoppedAt),
      parent: c.parent ?? null,
      level: c.level ?? null,
      threads: c.threads,
      processes: c.processes,
    };
  },
};
