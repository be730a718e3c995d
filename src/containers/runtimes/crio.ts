/**
 * CRI-O's inspect endpoint on its socket (`GET /containers/<id>` on /var/run/crio/crio.sock, the
 * one `crictl` does not use: CRI itself is gRPC). It answers `{name, pid, image, created_time,
 * labels, annotations, sandbox, ...}`; the labels carry the pod identity.
 */
import { getJson, isRecord, num, str, strRecord } from '../http-unix.js';
import { kubernetesFromLabels, runtimeContainer } from './types.js';
import type { RuntimeContainer } from './types.js';

export const DEFAULT_CRIO_SOCKETS = ['/var/run/crio/crio.sock'];

export async function inspectCrio(
  socketPath: string,
  id: string,
  timeoutMs: number,
): Promise<RuntimeContainer> {
  const d = await getJson(socketPath, `/containers/${encodeURIComponent(id)}`, timeoutMs);
  if (!isRecord(d)) throw new Error(`${socketPath}: /containers/${id} is not an object`);
  const labels = { ...strRecord(d['annotations']), ...strRecord(d['labels']) };
  const k = kubernetesFromLabels(labels);
  const pid = num(d['pid']);
  const created = num(d['created_time']);
  return runtimeContainer('crio-api', k.podUid !== '' || k.podName !== '' ? 'k8s' : 'cri-o', id, {
    runtime: 'cri-o',
    name: k.containerName !== '' ? k.containerName : str(d['name']),
    image: str(d['image']) || k.image,
    state: pid > 0 ? 'running' : '',
    running: pid > 0,
    pid,
    startedAt: created > 0 ? BigInt(Math.round(created)) : 0n,
    labels,
    podName: k.podName,
    podNamespace: k.podNamespace,
    podUid: k.podUid,
  });
}
