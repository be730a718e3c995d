/**
 * Linux namespaces as seen in LTTng traces.
 *
 * A namespace is identified by the inode number of `/proc/<pid>/ns/<type>` (32-bit in kernel
 * traces, 64-bit in UST traces; compared as numbers). pid and user namespaces nest: a task has
 * one pid (and user) namespace per level, from the root (level 0) to its active one, and a
 * different tid at each level. The registry remembers, per pid/user namespace, its level and its
 * parent when a statedump or a fork told us.
 */

/** The eight namespace types of Linux, in the order LTTng lists them. */
export const NS_TYPES = ['pid', 'user', 'mnt', 'net', 'uts', 'ipc', 'cgroup', 'time'] as const;
export type NsType = (typeof NS_TYPES)[number];

/** Namespace types other than pid, which a task holds one of (no per-level ids). */
export const FLAT_NS_TYPES = ['user', 'mnt', 'net', 'uts', 'ipc', 'cgroup', 'time'] as const;
export type FlatNsType = (typeof FLAT_NS_TYPES)[number];

/**
 * Fixed inodes of the initial namespaces (Linux >= 3.8, `include/linux/proc_ns.h`): every task
 * of the host sees these.
 */
export const INIT_NS_INODES: Readonly<Record<NsType, number>> = {
  ipc: 0xefffffff,
  uts: 0xeffffffe,
  user: 0xeffffffd,
  pid: 0xeffffffc,
  cgroup: 0xeffffffb,
  time: 0xeffffffa,
  // mnt and net have no fixed inode; 0 never matches a real one.
  mnt: 0,
  net: 0,
};

/** One level of a task's pid namespace chain: the ids of the task as seen from that namespace. */
export interface PidLevel {
  /** Inode of the pid namespace of this level, when known. */
  inum: number | undefined;
  vtid: number | undefined;
  vpid: number | undefined;
  vppid: number | undefined;
}

/** One level of a task's user namespace chain. */
export interface UserLevel {
  inum: number | undefined;
  vuid: number | undefined;
  vgid: number | undefined;
}

export interface NsInfo {
  readonly type: 'pid' | 'user';
  readonly inum: number;
  /** Nesting level (0 = root), when known. */
  level: number | undefined;
  /** Inode of the parent namespace, when known. */
  parent: number | undefined;
}

/** What is known about the hierarchy of pid and user namespaces. */
export class NamespaceRegistry {
  readonly pid = new Map<number, NsInfo>();
  readonly user = new Map<number, NsInfo>();
  /** Every inode seen per flat type (for listings). */
  readonly seen: Record<FlatNsType, Set<number>> = {
    user: new Set(),
    mnt: new Set(),
    net: new Set(),
    uts: new Set(),
    ipc: new Set(),
    cgroup: new Set(),
    time: new Set(),
  };
  /** Inode of the root pid namespace (level 0); the kernel's fixed one until a statedump says. */
  hostPidNs: number = INIT_NS_INODES.pid;

  /** Records a pid/user namespace and what we know of its place in the tree. */
  note(type: 'pid' | 'user', inum: number, level: number | undefined, parent: number | undefined): NsInfo {
    const map = type === 'pid' ? this.pid : this.user;
    let info = map.get(inum);
    if (info === undefined) {
      info = { type, inum, level, parent };
      map.set(inum, info);
    } else {
      if (level !== undefined) info.level = level;
      if (parent !== undefined) info.parent = parent;
    }
    if (type === 'pid' && level === 0) this.hostPidNs = inum;
    return info;
  }

  /** Records a whole chain (index = level) of pid or user namespace inodes. */
  noteChain(type: 'pid' | 'user', inums: ReadonlyArray<number | undefined>): void {
    for (let lvl = 0; lvl < inums.length; lvl++) {
      const inum = inums[lvl];
      if (inum === undefined || inum === 0) continue;
      const parent = lvl > 0 ? inums[lvl - 1] : undefined;
      this.note(type, inum, lvl, parent === 0 ? undefined : parent);
    }
  }

  /** Inodes from the root to `inum` (index = level) as far as the registry knows the parents. */
  pidChainOf(inum: number): Array<number | undefined> | undefined {
    const info = this.pid.get(inum);
    if (info === undefined || info.level === undefined) return undefined;
    const chain = new Array<number | undefined>(info.level + 1).fill(undefined);
    let cur: NsInfo | undefined = info;
    for (let lvl = info.level; lvl >= 0 && cur !== undefined; lvl--) {
      chain[lvl] = cur.inum;
      cur = cur.parent === undefined ? undefined : this.pid.get(cur.parent);
    }
    return chain;
  }

  isHostPidNs(inum: number): boolean {
    if (inum === this.hostPidNs || inum === INIT_NS_INODES.pid) return true;
    const info = this.pid.get(inum);
    return info !== undefined && info.level === 0;
  }
}
