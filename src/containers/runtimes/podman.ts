/**
 * Podman's libpod API over its unix socket (`podman system service`): one
 * `GET /v4.0.0/libpod/containers/json?all=true` gives ids, names, images, labels, state and the
 * init pid. Events: `GET /v4.0.0/libpod/events?stream=true&filters={"type":["container"]}`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { num, str } from '../http-unix.js';
import type { EventWatcher } from './docker.js';
import { eventWatcher, listApiContainers } from './docker.js';
import { runtimeContainer } from './types.js';
import type { RuntimeContainer } from './types.js';

/** The rootful socket and every rootless user's (`/run/user/<uid>/podman/podman.sock`). */
export function defaultPodmanSockets(): string[] {
  const out = ['/run/podman/podman.sock'];
  try {
    for (const uid of readdirSync('/run/user')) {
      const p = `/run/user/${uid}/podman/podman.sock`;
      if (existsSync(p)) out.push(p);
    }
  } catch {
    // no /run/user
  }
  return out;
}

const LIVE = new Set(['running', 'paused', 'stopping']);

export async function listPodman(socketPath: string, timeoutMs: number): Promise<RuntimeContainer[]> {
  const out: RuntimeContainer[] = [];
  const list = await listApiContainers(
    socketPath,
    '/v4.0.0/libpod/containers/json?all=true',
    'libpod/containers/json',
    timeoutMs,
  );
  for (const { c, id, names, state, labels } of list) {
    const podName = str(c['PodName']);
    if (podName !== '') labels['io.podman.pod.name'] = podName;
    const startedS = num(c['StartedAt']);
    out.push(
      runtimeContainer('podman-api', 'podman', id, {
        name: names[0] ?? '',
        image: str(c['Image']),
        state,
        running: LIVE.has(state),
        pid: LIVE.has(state) ? num(c['Pid']) : 0,
        startedAt: startedS > 0 ? BigInt(startedS) * 1_000_000_000n : 0n,
        labels,
      }),
    );
  }
  return out;
}

/** Podman's container events (libpod API). */
export const watchPodmanEvents: EventWatcher = eventWatcher('/v4.0.0/libpod/events?stream=true', false);
