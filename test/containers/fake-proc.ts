/**
 * A fake `/proc` tree for unit tests of discovery and the watcher: per process `stat`, `status`
 * (NSpid), `cgroup`, `cmdline`, `ns/<type>` symlinks (`pid:[<inode>]`, as the kernel shows them)
 * and an optional `cwd` symlink; plus `uptime`.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Namespaces } from '../../src/containers/types.js';

export const HOST_NS: Namespaces = {
  pid: 4026531836,
  user: 4026531837,
  mnt: 4026531841,
  net: 4026531840,
  uts: 4026531838,
  ipc: 4026531839,
  cgroup: 4026531835,
  time: 4026531834,
};

export interface FakeProcess {
  pid: number;
  ppid: number;
  comm: string;
  /** Content of /proc/<pid>/cgroup. */
  cgroup: string;
  /** Namespaces differing from the host's. */
  ns?: Partial<Namespaces>;
  /** NSpid line (default: [pid], or [pid, 1] style must be given for namespaced processes). */
  nsPids?: number[];
  cmdline?: string[];
  startTicks?: number;
  cwd?: string;
  /** Make /proc/<pid>/ns unreadable (as for pid 1 on some hosts). */
  noNs?: boolean;
  /** `state` and `flags` of /proc/<pid>/stat (default `S` and 0). */
  state?: string;
  flags?: number;
}

/** cgroup file content with the same path on every hierarchy of a v1/v2 hybrid host like ours. */
export function hybridCgroup(path: string, opts: { systemd?: string; unified?: string } = {}): string {
  const ctrl = ['pids', 'blkio', 'freezer', 'devices', 'memory', 'cpuset', 'cpuacct', 'cpu'];
  return [
    `9:name=systemd:${opts.systemd ?? path}`,
    ...ctrl.map((c, i) => `${8 - i}:${c}:${path}`),
    `0::${opts.unified ?? path}`,
    '',
  ].join('\n');
}

export class FakeProc {
  readonly root: string;
  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'nstrace-fakeproc-'));
    writeFileSync(join(this.root, 'uptime'), '1000.00 1900.00\n');
  }

  add(p: FakeProcess): this {
    const d = join(this.root, String(p.pid));
    rmSync(d, { recursive: true, force: true });
    mkdirSync(join(d, 'ns'), { recursive: true });
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    // cutime cstime priority nice threads itrealvalue starttime ...
    const f = [
      p.state ?? 'S',
      p.ppid,
      p.pid,
      p.pid,
      0,
      -1,
      p.flags ?? 0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      20,
      0,
      1,
      0,
      p.startTicks ?? 100 + p.pid,
      0,
    ];
    writeFileSync(join(d, 'stat'), `${p.pid} (${p.comm}) ${f.join(' ')}\n`);
    writeFileSync(
      join(d, 'status'),
      `Name:\t${p.comm}\nTgid:\t${p.pid}\nNSpid:\t${(p.nsPids ?? [p.pid]).join('\t')}\n`,
    );
    writeFileSync(join(d, 'cgroup'), p.cgroup);
    writeFileSync(join(d, 'cmdline'), (p.cmdline ?? [p.comm]).map((a) => `${a}\0`).join(''));
    if (!p.noNs) {
      const ns = { ...HOST_NS, ...p.ns };
      for (const [t, inode] of Object.entries(ns)) symlinkSync(`${t}:[${inode}]`, join(d, 'ns', t));
    }
    if (p.cwd !== undefined) symlinkSync(p.cwd, join(d, 'cwd'));
    return this;
  }

  remove(pid: number): this {
    rmSync(join(this.root, String(pid)), { recursive: true, force: true });
    return this;
  }

  /** The host's usual processes: an unreadable pid 1 (as here), kthreadd, a shell. */
  host(): this {
    this.add({ pid: 1, ppid: 0, comm: 'init', cgroup: hybridCgroup('/'), noNs: true });
    this.add({ pid: 2, ppid: 0, comm: 'kthreadd', cgroup: hybridCgroup('/') });
    this.add({ pid: 300, ppid: 1, comm: 'bash', cgroup: hybridCgroup('/') });
    return this;
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
