/**
 * The cgroups of the unified (v2) hierarchy, for the `nstrace_statedump_cgroup { id, path }`
 * statedump: `id` is the inode number of the cgroup's directory, which is what the kernel's
 * cgroup id (`cgroup->kn->id`, `bpf_get_current_cgroup_id()`) is on 64-bit hosts, and what the
 * `cgroup_id` context holds; `path` is the one `/proc/<pid>/cgroup`'s `0::` line names.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface CgroupEntry {
  id: bigint;
  path: string;
}

/** Where the unified (v2) cgroup hierarchy is mounted, if it is. */
export function cgroup2Root(mounts = '/proc/self/mounts'): string | undefined {
  try {
    for (const l of fs.readFileSync(mounts, 'utf8').split('\n')) {
      const f = l.split(' ');
      if (f[2] === 'cgroup2' && f[1]) return f[1];
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** Every cgroup directory under the v2 root (the root is `/`), parents before children. */
export function cgroupStatedump(root = cgroup2Root(), limit = 100_000): CgroupEntry[] {
  const out: CgroupEntry[] = [];
  if (!root) return out;
  const walk = (rel: string): void => {
    if (out.length >= limit) return;
    let st: fs.Stats;
    try {
      st = fs.statSync(path.join(root, rel), { bigint: true }) as unknown as fs.Stats;
    } catch {
      return; // removed meanwhile
    }
    out.push({ id: BigInt(st.ino), path: rel === '' ? '/' : `/${rel}` });
    let es: fs.Dirent[];
    try {
      es = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of es) if (e.isDirectory()) walk(rel === '' ? e.name : `${rel}/${e.name}`);
  };
  walk('');
  return out;
}

/** The id of the cgroup at `cgPath` (as `/proc/<pid>/cgroup` names it), if it exists. */
export function cgroupIdOf(cgPath: string, root = cgroup2Root()): bigint | undefined {
  if (!root) return undefined;
  try {
    return BigInt((fs.statSync(path.join(root, cgPath), { bigint: true }) as unknown as { ino: bigint }).ino);
  } catch {
    return undefined;
  }
}

/** The v2 cgroup path of a task (`0::` line of /proc/<pid>/cgroup), if it has one. */
export function taskCgroupPath(pid: number | 'self'): string | undefined {
  try {
    return /^0::(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
