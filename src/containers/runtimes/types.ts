import type { ContainerType, DiscoverySource } from '../types.js';

/** A container as a runtime API (or a runtime's files) describes it. */
export interface RuntimeContainer {
  source: DiscoverySource;
  type: ContainerType;
  /** Engine under `k8s`; same as `type` otherwise. */
  runtime: string;
  id: string;
  name: string;
  image: string;
  /** The runtime's state word (`running`, `exited`, `Stopped`, ...), lower-cased. */
  state: string;
  running: boolean;
  /** Host pid of the init (0 when unknown or not running). */
  pid: number;
  /** ns since the epoch; 0n when unknown. */
  startedAt: bigint;
  labels: Record<string, string>;
  podName: string;
  podNamespace: string;
  podUid: string;
  rootfs: string;
}

export function runtimeContainer(
  source: DiscoverySource,
  type: ContainerType,
  id: string,
  fields: Partial<RuntimeContainer> = {},
): RuntimeContainer {
  return {
    source,
    type,
    runtime: type,
    id,
    name: '',
    image: '',
    state: '',
    running: false,
    pid: 0,
    startedAt: 0n,
    labels: {},
    podName: '',
    podNamespace: '',
    podUid: '',
    rootfs: '',
    ...fields,
  };
}

/** Kubernetes identity from Docker labels (dockershim), CRI-O labels/annotations or containerd CRI annotations. */
export function kubernetesFromLabels(labels: Record<string, string>): {
  podName: string;
  podNamespace: string;
  podUid: string;
  containerName: string;
  image: string;
  sandbox: boolean;
} {
  const podName = labels['io.kubernetes.pod.name'] ?? labels['io.kubernetes.cri.sandbox-name'] ?? '';
  const podNamespace =
    labels['io.kubernetes.pod.namespace'] ?? labels['io.kubernetes.cri.sandbox-namespace'] ?? '';
  const podUid = labels['io.kubernetes.pod.uid'] ?? labels['io.kubernetes.cri.sandbox-uid'] ?? '';
  const sandbox =
    labels['io.kubernetes.cri.container-type'] === 'sandbox' ||
    labels['io.kubernetes.docker.type'] === 'podsandbox' ||
    labels['io.kubernetes.cri-o.ContainerType'] === 'sandbox';
  const containerName =
    labels['io.kubernetes.container.name'] ??
    labels['io.kubernetes.cri.container-name'] ??
    (sandbox ? 'POD' : '');
  const image = labels['io.kubernetes.cri.image-name'] ?? labels['io.kubernetes.cri-o.ImageName'] ?? '';
  return { podName, podNamespace, podUid, containerName, image, sandbox };
}

/** Run `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
