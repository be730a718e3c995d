/**
 * The OCI bundle of a running container (`config.json`, what runc was given): its annotations
 * carry the Kubernetes identity for containerd's CRI plugin (`io.kubernetes.cri.*`) and CRI-O
 * (`io.kubernetes.pod.*`, `io.kubernetes.container.name`), without any API call. The bundle is
 * the containerd shim's working directory, conmon's `-b` argument, or one of the well-known
 * state directories.
 */
import { readFileSync } from 'node:fs';
import { isRecord, str, strRecord } from '../http-unix.js';

/** State directories where runtimes keep bundles, `{id}` standing for the container id. */
export const DEFAULT_BUNDLE_DIRS = [
  '/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}',
  '/run/containerd/io.containerd.runtime.v2.task/default/{id}',
  '/run/containerd/io.containerd.runtime.v2.task/moby/{id}',
  '/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/{id}',
  '/run/containers/storage/overlay-containers/{id}/userdata',
  '/var/lib/containers/storage/overlay-containers/{id}/userdata',
];

export interface BundleInfo {
  dir: string;
  annotations: Record<string, string>;
  hostname: string;
  /** `linux.cgroupsPath` as the runtime was asked (e.g. `/docker/<id>`, `slice:prefix:id`). */
  cgroupsPath: string;
  rootfs: string;
}

/** Read `<dir>/config.json`; null when absent or not an OCI config. */
export function readBundle(dir: string): BundleInfo | null {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as unknown;
  } catch {
    return null;
  }
  if (!isRecord(v) || typeof v['ociVersion'] !== 'string') return null;
  const linux = isRecord(v['linux']) ? v['linux'] : {};
  const root = isRecord(v['root']) ? v['root'] : {};
  return {
    dir,
    annotations: strRecord(v['annotations']),
    hostname: str(v['hostname']),
    cgroupsPath: str(linux['cgroupsPath']),
    rootfs: str(root['path']),
  };
}

/** The bundle of container `id`, trying `candidates` (dirs) first, then the default state dirs. */
export function findBundle(
  id: string,
  candidates: readonly string[],
  defaults = DEFAULT_BUNDLE_DIRS,
): BundleInfo | null {
  for (const d of [...candidates, ...defaults.map((t) => t.replace('{id}', id))]) {
    const b = readBundle(d);
    if (b) return b;
  }
  return null;
}
