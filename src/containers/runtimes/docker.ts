/**
 * Docker Engine API over its unix socket: `GET /containers/json?all=1` for the list, then
 * `GET /containers/<id>/json` for each running container (init pid, exact start time).
 * Event stream: `GET /events?filters={"type":["container"]}`.
 */
import { getJson, isRecord, num, rfc3339ToNs, str, streamJsonLines, strRecord } from '../http-unix.js';
import type { JsonStream, RuntimeApiError } from '../http-unix.js';
import { kubernetesFromLabels, mapLimit, runtimeContainer } from './types.js';
import type { RuntimeContainer } from './types.js';

export const DEFAULT_DOCKER_SOCKETS = ['/var/run/docker.sock'];

/** Docker container states that have a live init. */
const LIVE = new Set(['running', 'paused', 'restarting']);

export async function listDocker(socketPath: string, timeoutMs: number): Promise<RuntimeContainer[]> {
  const out: RuntimeContainer[] = [];
  const list = await listApiContainers(socketPath, '/containers/json?all=1', '/containers/json', timeoutMs);
  for (const { c, id, names, state, labels } of list) {
    const k = kubernetesFromLabels(labels);
    const isPod = k.podUid !== '' || k.podName !== '';
    out.push(
      runtimeContainer('docker-api', isPod ? 'k8s' : 'docker', id, {
        runtime: 'docker',
        name: isPod && k.containerName !== '' ? k.containerName : (names[0] ?? '').replace(/^\//, ''),
        image: str(c['Image']),
        state,
        running: LIVE.has(state),
        labels,
        podName: k.podName,
        podNamespace: k.podNamespace,
        podUid: k.podUid,
      }),
    );
  }
  // Init pid and start time with ns precision come from inspect, for live containers only.
  await mapLimit(
    out.filter((c) => c.running),
    8,
    async (c) => {
      try {
        const d = await getJson(socketPath, `/containers/${c.id}/json`, timeoutMs);
        if (!isRecord(d) || !isRecord(d['State'])) return;
        c.pid = num(d['State']['Pid']);
        c.startedAt = rfc3339ToNs(str(d['State']['StartedAt']));
      } catch {
        // Gone meanwhile, or slow: keep what the list said; procfs fills the pid.
      }
    },
  );
  return out;
}

/** One entry of a Docker-style container list, with the fields both APIs give alike. */
export interface ApiContainer {
  readonly c: Record<string, unknown>;
  readonly id: string;
  readonly names: string[];
  /** Lower-cased. */
  readonly state: string;
  readonly labels: Record<string, string>;
}

/**
 * The container list of a Docker-style API (Docker's, Podman's libpod one) at `path`; entries
 * without an id are skipped. `what` names the list in the error when it is not one.
 */
export async function listApiContainers(
  socketPath: string,
  path: string,
  what: string,
  timeoutMs: number,
): Promise<ApiContainer[]> {
  const list = await getJson(socketPath, path, timeoutMs);
  if (!Array.isArray(list)) throw new Error(`${socketPath}: ${what} is not a list`);
  const out: ApiContainer[] = [];
  for (const c of list) {
    if (!isRecord(c)) continue;
    const id = str(c['Id']);
    if (id === '') continue;
    const names = Array.isArray(c['Names']) ? c['Names'].map(str) : [];
    out.push({ c, id, names, state: str(c['State']).toLowerCase(), labels: strRecord(c['Labels']) });
  }
  return out;
}

export interface RuntimeEvent {
  /** `start`, `die`, `destroy`, ... (Docker `Action`, Podman `Status`), lower-cased. */
  action: string;
  id: string;
  name: string;
  image: string;
  /** Event time, ns since the epoch (0n when absent). */
  timeNano: bigint;
}

/** Subscribes to container events of one runtime socket; `onEvent` gets each one as it comes. */
export type EventWatcher = (
  socketPath: string,
  timeoutMs: number,
  onEvent: (e: RuntimeEvent) => void,
  onError: (e: RuntimeApiError) => void,
) => JsonStream;

/**
 * The watcher of the container events of a Docker-style events API (Docker's, Podman's libpod
 * one) at `path`; `withFrom`: an event without an image attribute takes Docker's older `from`
 * field.
 */
export function eventWatcher(path: string, withFrom: boolean): EventWatcher {
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'] }));
  const sep = path.includes('?') ? '&' : '?';
  return (socketPath, timeoutMs, onEvent, onError) =>
    streamJsonLines(
      socketPath,
      `${path}${sep}filters=${filters}`,
      timeoutMs,
      (v) => {
        if (!isRecord(v)) return;
        const actor = isRecord(v['Actor']) ? v['Actor'] : {};
        const attrs = strRecord(actor['Attributes']);
        const id = str(actor['ID']) || str(v['id']);
        if (id === '') return;
        const tn = v['timeNano'];
        onEvent({
          action: (str(v['Action']) || str(v['status'])).toLowerCase(),
          id,
          name: attrs['name'] ?? '',
          image: attrs['image'] ?? (withFrom ? str(v['from']) : ''),
          timeNano: typeof tn === 'number' ? BigInt(Math.round(tn)) : 0n,
        });
      },
      onError,
    );
}

/** Docker's container events. */
export const watchDockerEvents: EventWatcher = eventWatcher('/events', true);
