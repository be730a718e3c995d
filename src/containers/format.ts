/**
 * Text table (like `docker ps`, across runtimes) and JSON shapes of container lists. Pure
 * functions returning strings/objects: the CLI prints them.
 */
import { NS_TYPES } from './types.js';
import type { ContainerInfo } from './types.js';

/** What a table row needs: live `ContainerInfo`s and containers read from a trace both fit. */
export type ContainerRow = Pick<
  ContainerInfo,
  'id' | 'name' | 'type' | 'image' | 'initPid' | 'ns' | 'cgroupPath' | 'podName' | 'podNamespace'
> &
  Partial<Pick<ContainerInfo, 'runtime' | 'state'>>;

export interface TableOptions {
  /** Full 64-hex ids (default: the first 12 characters, as `docker ps`). */
  noTrunc?: boolean;
}

function shortId(id: string, noTrunc: boolean): string {
  return !noTrunc && /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}

function runtimeLabel(c: ContainerRow): string {
  return c.type === 'k8s' && c.runtime !== undefined && c.runtime !== '' ? `k8s/${c.runtime}` : c.type;
}

/** Columns: RUNTIME ID NAME [POD] IMAGE STATE PID PID_NS USER_NS ... TIME_NS CGROUP. */
export function formatContainersTable(rows: readonly ContainerRow[], opts: TableOptions = {}): string {
  const withPod = rows.some((c) => c.podName !== '' || c.podNamespace !== '');
  const header = [
    'RUNTIME',
    'ID',
    'NAME',
    ...(withPod ? ['POD'] : []),
    'IMAGE',
    'STATE',
    'PID',
    ...NS_TYPES.map((t) => `${t.toUpperCase()}_NS`),
    'CGROUP',
  ];
  const cell = (s: string): string => (s === '' ? '-' : s);
  const num = (n: number): string => (n === 0 ? '-' : String(n));
  const body = rows.map((c) => [
    runtimeLabel(c),
    shortId(c.id, opts.noTrunc === true),
    cell(c.name),
    ...(withPod ? [cell(c.podNamespace !== '' ? `${c.podNamespace}/${c.podName}` : c.podName)] : []),
    cell(c.image),
    cell(c.state ?? ''),
    num(c.initPid),
    ...NS_TYPES.map((t) => num(c.ns[t])),
    cell(c.cgroupPath),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((s, i) => (i === r.length - 1 ? s : s.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n') + '\n';
}

/** A JSON-safe object for one container (`startedAt` as a decimal string of ns, plus ISO time). */
export function containerToJson(c: ContainerInfo): Record<string, unknown> {
  return {
    key: c.key,
    id: c.id,
    name: c.name,
    type: c.type,
    runtime: c.runtime,
    image: c.image,
    state: c.state,
    initPid: c.initPid,
    ns: { ...c.ns },
    cgroupPath: c.cgroupPath,
    podName: c.podName,
    podNamespace: c.podNamespace,
    podUid: c.podUid,
    startedAt: c.startedAt.toString(),
    started: c.startedAt > 0n ? new Date(Number(c.startedAt / 1_000_000n)).toISOString() : null,
    pids: [...c.pids],
    labels: { ...c.labels },
    rootfs: c.rootfs,
    sources: [...c.sources],
  };
}
