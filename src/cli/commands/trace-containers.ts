/**
 * The trace mode of `nstrace containers` (the command itself belongs to the containers module:
 * it calls this through its `traceContainers` hook): the containers seen in traces, with their
 * namespaces, in its table; `--json` adds lifetimes, thread and process counts, nesting and
 * every pid namespace a container had.
 */
import { relative } from 'node:path';
import type { TraceContainerInfo } from '../../analyses/containers.js';
import { containersJson, containersText } from '../../analyses/containers.js';
import type { MachineContainers } from '../../analyses/open.js';
import { listMachineContainers, listTraceContainers } from '../../analyses/open.js';
import type { ContainerRow, ContainerType } from '../../containers/index.js';
import type { ReadOptions, TraceContainerLister } from './containers.js';

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
  list: async (paths, o) => (await listTraceContainers(paths, o)).map(row),
  render: (paths, o) => renderTraceContainers(paths, o.json, o),
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

function shortPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r !== '' && !r.startsWith('..') ? r : p;
}

/** `kernel:vm`: how the TRACES column names a trace (numbered when two would read the same). */
function traceNames(m: MachineContainers): string[] {
  const base = m.input.machine.traces.map(
    (t) => `${t.domain === '' ? 'trace' : t.domain}:${t.hostname ?? '?'}`,
  );
  return base.map((b, i) => (base.filter((x) => x === b).length > 1 ? `${b}#${i + 1}` : b));
}

function machineText(m: MachineContainers, gmt: boolean): string {
  const names = traceNames(m);
  const lines = [`Machine ${m.input.label}`];
  const rows = m.input.plan.map((p, i) => [names[i]!, shortPath(p.trace.dir), p.how]);
  const w0 = Math.max(5, ...rows.map((r) => r[0]!.length));
  const w1 = Math.max(4, ...rows.map((r) => r[1]!.length));
  lines.push(`  ${'TRACE'.padEnd(w0)}  ${'PATH'.padEnd(w1)}  CLOCK`);
  for (const r of rows) lines.push(`  ${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]}`);
  lines.push('');
  const table = containersText(m.containers, gmt).trimEnd().split('\n');
  const cover = [
    'TRACES',
    ...m.containers.map(
      (c) =>
        c.coverage
          .filter((x) => x.trace >= 0)
          .map((x) => `${names[x.trace]} (${x.events})`)
          .join(', ') || '-',
    ),
  ];
  const width = Math.max(...table.map((l) => l.length));
  for (let i = 0; i < table.length; i++) lines.push(`  ${table[i]!.padEnd(width)}  ${cover[i]}`);
  return lines.join('\n') + '\n';
}

/**
 * `nstrace containers DIR...`: per machine (src/model/machines.ts), its traces (and how each is
 * put on the machine's clock), then its containers with the traces that have events of their
 * tasks (`kernel:HOST (N)`: N events of that trace).
 */
export async function renderTraceContainers(
  paths: string[],
  json: boolean,
  read: ReadOptions = {},
): Promise<string> {
  const machines = await listMachineContainers(paths, read);
  if (json) {
    return (
      JSON.stringify(
        {
          machines: machines.map((m) => ({
            name: m.input.machine.name,
            bootId: m.input.machine.bootId ?? null,
            hostnames: m.input.machine.hostnames,
            traces: m.input.plan.map((p) => ({
              path: p.trace.dir,
              domain: p.trace.domain,
              hostname: p.trace.hostname ?? null,
              clockShiftNs: p.shiftNs.toString(),
              clock: p.how,
            })),
            containers: containersJson(m.containers).map((c, i) => ({
              ...(c as object),
              coverage: m.containers[i]!.coverage.map((x) => ({
                trace: m.input.machine.traces[x.trace]?.dir ?? null,
                events: x.events,
              })),
            })),
          })),
        },
        null,
        2,
      ) + '\n'
    );
  }
  return machines.map((m) => machineText(m, false)).join('\n');
}
