/**
 * LXD (and Incus, its fork, same API) over the local REST socket:
 * `GET /1.0/instances?recursion=2&all-projects=true` gives every instance with its state (init pid).
 * LXD runs containers with liblxc, so their cgroup is `lxc.payload.<name>` (`<project>_<name>`
 * outside the default project): the id we give is that liblxc name, which the cgroup rule finds.
 */
import { getJson, isRecord, num, rfc3339ToNs, str, strRecord } from '../http-unix.js';
import { RuntimeApiError } from '../http-unix.js';
import { runtimeContainer } from './types.js';
import type { RuntimeContainer } from './types.js';

export const DEFAULT_LXD_SOCKETS = [
  '/var/snap/lxd/common/lxd/unix.socket',
  '/var/lib/lxd/unix.socket',
  '/var/lib/incus/unix.socket',
];

function metadataOf(v: unknown, socketPath: string, path: string): unknown {
  if (!isRecord(v)) throw new RuntimeApiError(socketPath, path, 'answer is not an LXD response');
  if (str(v['type']) === 'error') throw new RuntimeApiError(socketPath, path, str(v['error']) || 'error');
  return v['metadata'];
}

export async function listLxd(socketPath: string, timeoutMs: number): Promise<RuntimeContainer[]> {
  let path = '/1.0/instances?recursion=2&all-projects=true';
  let body: unknown;
  try {
    body = await getJson(socketPath, path, timeoutMs);
  } catch (e) {
    // Servers before the `all-projects` extension answer 400: ask for the default project only.
    if (!(e instanceof RuntimeApiError) || e.status !== 400) throw e;
    path = '/1.0/instances?recursion=2';
    body = await getJson(socketPath, path, timeoutMs);
  }
  const list = metadataOf(body, socketPath, path);
  if (!Array.isArray(list)) throw new RuntimeApiError(socketPath, path, 'metadata is not a list');
  const incus = socketPath.includes('incus');
  const out: RuntimeContainer[] = [];
  for (const inst of list) {
    if (!isRecord(inst)) continue;
    if (str(inst['type']) !== '' && str(inst['type']) !== 'container') continue; // virtual machines
    const name = str(inst['name']);
    if (name === '') continue;
    const project = str(inst['project']) || 'default';
    const config = strRecord(inst['config']);
    const state = isRecord(inst['state']) ? inst['state'] : {};
    const status = (str(inst['status']) || str(state['status'])).toLowerCase();
    const labels: Record<string, string> = { 'lxd.project': project };
    if (incus) labels['lxd.server'] = 'incus';
    const image =
      config['image.description'] ??
      [config['image.os'], config['image.release']].filter((x) => x !== undefined).join(' ');
    out.push(
      runtimeContainer('lxd-api', 'lxd', project === 'default' ? name : `${project}_${name}`, {
        name,
        image: image !== '' ? image : (config['volatile.base_image'] ?? ''),
        state: status,
        running: status === 'running' || status === 'frozen',
        pid: num(state['pid']),
        startedAt: status === 'running' ? rfc3339ToNs(str(inst['last_used_at'])) : 0n,
        labels,
      }),
    );
  }
  return out;
}
