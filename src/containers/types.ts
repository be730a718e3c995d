/**
 * Types of the `containers/` module: what nstrace knows about a container on a live host.
 *
 * `ContainerInfo` carries every field of the container events of docs/container-events.md
 * (`toContainerEventPayload` gives them under the event's field names) plus live-only extras.
 */

/** The namespace types of `/proc/<pid>/ns/`, in the order of docs/container-events.md. */
export const NS_TYPES = ['pid', 'user', 'mnt', 'net', 'uts', 'ipc', 'cgroup', 'time'] as const;
export type NsType = (typeof NS_TYPES)[number];

/** Namespace inode numbers of one process (0 when unknown). */
export type Namespaces = Record<NsType, number>;

export function emptyNamespaces(): Namespaces {
  return { pid: 0, user: 0, mnt: 0, net: 0, uts: 0, ipc: 0, cgroup: 0, time: 0 };
}

/**
 * The `type` of a container (the `type` field of the container events).
 * - `docker`, `podman`, `containerd` (ctr/nerdctl/CRI outside a pod), `cri-o`, `lxc`, `lxd`,
 *   `nspawn` (systemd-nspawn / machined), `libvirt-lxc`: the runtime that made it;
 * - `k8s`: a container of a Kubernetes pod (its engine is in `runtime`);
 * - `oci`: an OCI container (bare 64-hex cgroup) whose engine the cgroup path does not tell;
 * - `unshare`: a bare pid namespace with no runtime cgroup (plain `unshare`, custom runtimes).
 */
export type ContainerType =
  | 'docker'
  | 'podman'
  | 'containerd'
  | 'cri-o'
  | 'k8s'
  | 'lxc'
  | 'lxd'
  | 'nspawn'
  | 'libvirt-lxc'
  | 'oci'
  | 'unshare';

/** How a piece of knowledge about a container was obtained. */
export type DiscoverySource =
  | 'cgroup' // a cgroup path rule matched
  | 'pidns' // a non-host pid namespace with no runtime cgroup
  | 'parent' // the container init's parent process told (shim, conmon, lxc monitor, nspawn, unshare)
  | 'docker-api'
  | 'podman-api'
  | 'lxd-api'
  | 'crio-api'
  | 'lxc-config'
  | 'oci-bundle'
  | 'machined';

export interface ContainerInfo {
  /**
   * Identity key, stable across restarts of the same container: `<type>:<id>`, except Kubernetes
   * containers with a known pod uid and container name, `k8s:<pod uid>/<container name>` (the
   * kubelet recreates a restarted container with a new id; `POD` names the pod sandbox). Bare namespaces (`unshare`) have
   * nothing stable: their key holds the pid namespace inode.
   */
  key: string;
  /** Runtime's id: full 64-hex for Docker/Podman/CRI; the name for LXC/LXD/nspawn; `pidns:<inode>` for bare namespaces. */
  id: string;
  /** Runtime's name (`docker ps` NAMES without `/`, LXC name, machine name, ...); '' when unknown. */
  name: string;
  type: ContainerType;
  /** The engine: same as `type`, except for `k8s` (containerd, cri-o, docker or '' when unknown). */
  runtime: string;
  /** Image reference; '' when unknown. */
  image: string;
  /** `running`, or what the runtime says for listed non-running containers (`exited`, `stopped`, `created`, ...). */
  state: string;
  /** Host pid of the container's init (0 when not running). */
  initPid: number;
  /** Namespace inodes of the init (zeros when not running). */
  ns: Namespaces;
  /** The init's cgroup path: the unified `0::` line if present, else `name=systemd`, else the first line. */
  cgroupPath: string;
  podName: string;
  podNamespace: string;
  podUid: string;
  /** Start time, ns since the Unix epoch (0n when unknown). */
  startedAt: bigint;
  /** Host pids of the processes in the container (sorted; empty when not running). */
  pids: number[];
  /** Runtime labels / annotations (Docker labels, Podman labels, OCI annotations). */
  labels: Record<string, string>;
  /** Root filesystem when the runtime tells (LXC config, nspawn directory); '' otherwise. */
  rootfs: string;
  /** How this container was found and enriched. */
  sources: DiscoverySource[];
}

/** The payload of `nstrace_container_{statedump,start,stop}` (docs/container-events.md), field by field. */
export interface ContainerEventPayload {
  id: string;
  name: string;
  type: string;
  image: string;
  init_pid: number;
  pid_ns: number;
  user_ns: number;
  mnt_ns: number;
  net_ns: number;
  uts_ns: number;
  ipc_ns: number;
  cgroup_ns: number;
  time_ns: number;
  cgroup_path: string;
  pod_name: string;
  pod_namespace: string;
  pod_uid: string;
  started_at: bigint;
}

/** The event payload of a container, field names and order as in docs/container-events.md. */
export function toContainerEventPayload(c: ContainerInfo): ContainerEventPayload {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    image: c.image,
    init_pid: c.initPid,
    pid_ns: c.ns.pid,
    user_ns: c.ns.user,
    mnt_ns: c.ns.mnt,
    net_ns: c.ns.net,
    uts_ns: c.ns.uts,
    ipc_ns: c.ns.ipc,
    cgroup_ns: c.ns.cgroup,
    time_ns: c.ns.time,
    cgroup_path: c.cgroupPath,
    pod_name: c.podName,
    pod_namespace: c.podNamespace,
    pod_uid: c.podUid,
    started_at: c.startedAt,
  };
}

/** The identity key of a container (see `ContainerInfo.key`). */
export function identityKey(c: Pick<ContainerInfo, 'type' | 'id' | 'name' | 'podUid'>): string {
  // A Kubernetes container's `name` is its name in the pod spec (`POD` for the sandbox).
  if (c.type === 'k8s' && c.podUid !== '' && c.name !== '') return `k8s:${c.podUid}/${c.name}`;
  return `${c.type}:${c.id}`;
}
