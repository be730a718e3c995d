/**
 * Readers of /proc for the recorder: every thread with its ids at every pid-namespace level,
 * its namespace inodes and credentials; the namespace hierarchy (parents of pid and user
 * namespaces, from `lsns`); file descriptors; block devices; network interfaces; CPUs.
 *
 * Everything here is a snapshot taken at one moment; the thread table keeps it up to date from
 * events afterwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

/** Namespace types in the order the recorder keeps them everywhere. */
export const NS_TYPES = ['pid', 'user', 'net', 'mnt', 'uts', 'ipc', 'cgroup', 'time'] as const;
export type NsType = (typeof NS_TYPES)[number];
export const NS_INDEX = Object.fromEntries(NS_TYPES.map((t, i) => [t, i])) as Readonly<
  Record<NsType, number>
>;

/** clone(2)/unshare(2) flag of each namespace type. */
export const CLONE_NS_FLAGS: Readonly<Record<NsType, number>> = {
  mnt: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  net: 0x40000000,
  time: 0x00000080,
};

export interface ProcThread {
  tid: number;
  /** Thread-group id (the process id). */
  pid: number;
  /** Parent process id (tgid of the real parent), 0 for the roots. */
  ppid: number;
  comm: string;
  /** `NSpid`: the tid at each pid-namespace level, root level first. */
  nsTids: number[];
  /** `NStgid`: the pid at each level, root level first. */
  nsPids: number[];
  /** Namespace inodes indexed like {@link NS_TYPES}; 0 when unreadable. */
  ns: number[];
  /** Inode of `pid_for_children` (0 when unreadable). */
  pidForChildren: number;
  timeForChildren: number;
  /** Real uid and gid as seen from the initial user namespace. */
  uid: number;
  gid: number;
  /** First letter of the `State:` line (R, S, D, Z, ...). */
  state: string;
  /** Kernel thread (`Kthread: 1`, or no `mm`). */
  kthread: boolean;
  /** CPU it last ran on (`stat` field 39). */
  cpu: number;
  /** Start time, ns since boot (CLOCK_BOOTTIME, `stat` field 22 in clock ticks). */
  startNs: number;
  /**
   * When the read began, on the clock given to {@link walkThreads}: everything read holds at
   * that time (give or take the few microseconds of the read) and after it, until it changes.
   */
  readAt?: number;
}

let ticks: number | undefined;
/** Clock ticks per second of /proc times (sysconf(_SC_CLK_TCK)). */
export function clockTicksPerSec(): number {
  if (ticks === undefined) {
    try {
      ticks =
        Number(
          execFileSync('getconf', ['CLK_TCK'], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
          }).trim(),
        ) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/**
 * CLOCK_BOOTTIME - CLOCK_MONOTONIC in ns (the time spent suspended), from /proc/uptime: good
 * to about 10 ms, enough to tell a task that started after an event from one that did not.
 */
export function boottimeMinusMonoNs(): number {
  try {
    const up = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const mono = Number(process.hrtime.bigint());
    return Math.max(0, Math.round(up * 1e9 - mono));
  } catch {
    return 0;
  }
}

export function nsInode(link: string): number {
  const m = /\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : 0;
}

function readlinkQuiet(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** Reads the namespace inodes of one task (`/proc/<pid>/task/<tid>` or `/proc/<tid>`). */
export function readTaskNs(dir: string): { ns: number[]; pidForChildren: number; timeForChildren: number } {
  const ns = NS_TYPES.map((t) => {
    const l = readlinkQuiet(`${dir}/ns/${t}`);
    return l === undefined ? 0 : nsInode(l);
  });
  const pfc = readlinkQuiet(`${dir}/ns/pid_for_children`);
  const tfc = readlinkQuiet(`${dir}/ns/time_for_children`);
  return {
    ns,
    pidForChildren: pfc === undefined ? 0 : nsInode(pfc),
    timeForChildren: tfc === undefined ? 0 : nsInode(tfc),
  };
}

function parseIdList(v: string | undefined): number[] {
  if (!v) return [];
  return v
    .trim()
    .split(/\s+/)
    .filter((s) => s.length > 0)
    .map(Number);
}

/** A file's text, or undefined when it cannot be read (the task or the file is gone). */
function readText(file: string, encoding: BufferEncoding = 'utf8'): string | undefined {
  try {
    return fs.readFileSync(file, encoding);
  } catch {
    return undefined;
  }
}

/**
 * Reads one task. `dir` is `/proc/<pid>/task/<tid>` (or `/proc/<tid>`); undefined when the task
 * is gone.
 */
export function readTask(dir: string): ProcThread | undefined {
  const status = readText(`${dir}/status`, 'latin1');
  if (status === undefined) return undefined;
  const kv = new Map<string, string>();
  for (const line of status.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1).replace(/^\t/, ''));
  }
  const tid = Number(kv.get('Pid'));
  const pid = Number(kv.get('Tgid'));
  if (!Number.isInteger(tid) || !Number.isInteger(pid)) return undefined;
  const nsTids = parseIdList(kv.get('NSpid'));
  const nsPids = parseIdList(kv.get('NStgid'));
  const uids = parseIdList(kv.get('Uid'));
  const gids = parseIdList(kv.get('Gid'));
  // The comm in status escapes some bytes; read the raw one.
  const comm = readText(`${dir}/comm`, 'latin1')?.replace(/\n$/, '') ?? kv.get('Name') ?? '';
  const nsr = readTaskNs(dir);
  let cpu = 0;
  let startNs = 0;
  try {
    const stat = fs.readFileSync(`${dir}/stat`, 'latin1');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state): field 22 (starttime) is rest[19], 39 (processor) rest[36].
    cpu = Number(rest[36] ?? 0) || 0;
    startNs = ((Number(rest[19] ?? 0) || 0) * 1e9) / clockTicksPerSec();
  } catch {
    // gone meanwhile
  }
  return {
    tid,
    pid,
    ppid: Number(kv.get('PPid') ?? 0),
    comm,
    nsTids: nsTids.length > 0 ? nsTids : [tid],
    nsPids: nsPids.length > 0 ? nsPids : [pid],
    ns: nsr.ns,
    pidForChildren: nsr.pidForChildren,
    timeForChildren: nsr.timeForChildren,
    uid: uids[0] ?? 0,
    gid: gids[0] ?? 0,
    state: (kv.get('State') ?? '?').trim().charAt(0),
    kthread: kv.get('Kthread') === '1' || (kv.get('Kthread') === undefined && !kv.has('VmSize')),
    cpu,
    startNs,
  };
}

/**
 * Every thread of every process, in pid then tid order; with `clock`, each one's `readAt` is
 * the time its read began; with `only`, just the tids it accepts are read.
 */
export function walkThreads(
  procRoot = '/proc',
  clock?: () => number,
  only?: (tid: number) => boolean,
): ProcThread[] {
  const out: ProcThread[] = [];
  const pids = fs
    .readdirSync(procRoot)
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    let tids: number[];
    try {
      tids = fs
        .readdirSync(`${procRoot}/${pid}/task`)
        .filter((d) => /^\d+$/.test(d))
        .map(Number)
        .sort((a, b) => a - b);
    } catch {
      continue;
    }
    for (const tid of tids) {
      if (only !== undefined && !only(tid)) continue;
      const at = clock?.();
      const t = readTask(`${procRoot}/${pid}/task/${tid}`);
      if (t) {
        if (at !== undefined) t.readAt = at;
        out.push(t);
      }
    }
  }
  return out;
}

/** Reads one thread by tid, wherever its process is. */
export function readThread(tid: number, procRoot = '/proc'): ProcThread | undefined {
  return readTask(`${procRoot}/${tid}`);
}

export interface NsHierarchy {
  /** pid and user namespaces: inode → parent inode (0 for the root). */
  parent: Map<number, number>;
}

/**
 * The parents of pid and user namespaces, from `lsns` (which asks the kernel with
 * NS_GET_PARENT). Empty when lsns is missing or too old.
 */
export function readNsHierarchy(): NsHierarchy {
  const parent = new Map<number, number>();
  try {
    const out = execFileSync('lsns', ['-J', '-t', 'pid', '-t', 'user', '-o', 'NS,TYPE,PNS'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    const j = JSON.parse(out) as { namespaces?: Array<{ ns: number | string; pns: number | string | null }> };
    for (const n of j.namespaces ?? []) {
      parent.set(Number(n.ns), n.pns === null ? 0 : Number(n.pns));
    }
  } catch {
    // Leave it empty: callers fall back to inference.
  }
  return { parent };
}

export interface IdMapEntry {
  inside: number;
  outside: number;
  count: number;
}

/** `/proc/<pid>/uid_map` (or gid_map) as seen from the initial user namespace. */
export function readIdMap(file: string): IdMapEntry[] | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  const out: IdMapEntry[] = [];
  for (const line of text.split('\n')) {
    const p = line.trim().split(/\s+/).map(Number);
    if (p.length === 3 && p.every((x) => Number.isFinite(x)))
      out.push({ inside: p[0]!, outside: p[1]!, count: p[2]! });
  }
  return out;
}

/** Maps a global id into a namespace with `map`; 65534 (overflow id) when unmapped. */
export function mapIdInto(map: readonly IdMapEntry[], globalId: number): number {
  for (const e of map) {
    if (globalId >= e.outside && globalId < e.outside + e.count) return e.inside + (globalId - e.outside);
  }
  return 65534;
}

export interface ProcFd {
  fd: number;
  path: string;
  /** open flags (octal in fdinfo). */
  flags: number;
}

/** File descriptors of a process, with their flags from fdinfo. */
export function readFds(pid: number, procRoot = '/proc'): ProcFd[] {
  let names: string[];
  try {
    names = fs.readdirSync(`${procRoot}/${pid}/fd`);
  } catch {
    return [];
  }
  const out: ProcFd[] = [];
  for (const n of names) {
    const fd = Number(n);
    if (!Number.isInteger(fd)) continue;
    const target = readlinkQuiet(`${procRoot}/${pid}/fd/${n}`);
    if (target === undefined) continue;
    let flags = 0;
    try {
      const info = fs.readFileSync(`${procRoot}/${pid}/fdinfo/${n}`, 'utf8');
      const m = /^flags:\s*([0-7]+)/m.exec(info);
      if (m) flags = parseInt(m[1]!, 8);
    } catch {
      // gone meanwhile
    }
    out.push({ fd, path: target, flags });
  }
  return out.sort((a, b) => a.fd - b.fd);
}

export interface BlockDevice {
  /** Kernel dev_t: major << 20 | minor. */
  dev: number;
  name: string;
}

export function readBlockDevices(procRoot = '/proc'): BlockDevice[] {
  // Unreadable: read as empty, no entries.
  const text = readText(`${procRoot}/partitions`) ?? '';
  const out: BlockDevice[] = [];
  for (const line of text.split('\n').slice(1)) {
    const p = line.trim().split(/\s+/);
    if (p.length < 4) continue;
    const major = Number(p[0]);
    const minor = Number(p[1]);
    if (!Number.isInteger(major) || !Number.isInteger(minor)) continue;
    out.push({ dev: major * 1048576 + minor, name: p[3]! });
  }
  return out;
}

export interface NetInterface {
  name: string;
  /** IPv4 address as a host-order u32 (0 when none). */
  ipv4: number;
}

/** Network interfaces of the recorder's network namespace, one entry per IPv4 address. */
export function readNetInterfaces(): NetInterface[] {
  const out: NetInterface[] = [];
  const ifs = os.networkInterfaces();
  let names: string[] = Object.keys(ifs);
  try {
    names = fs.readdirSync('/sys/class/net').sort();
  } catch {
    // keep os' list
  }
  for (const name of names) {
    const addrs = (ifs[name] ?? []).filter((a) => a.family === 'IPv4');
    if (addrs.length === 0) {
      out.push({ name, ipv4: 0 });
      continue;
    }
    for (const a of addrs) {
      const p = a.address.split('.').map(Number);
      out.push({ name, ipv4: ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0 });
    }
  }
  return out;
}

export interface CpuTopology {
  cpu: number;
  vendor: string;
  family: number;
  model: number;
  modelName: string;
  physicalId: number;
  coreId: number;
  cores: number;
}

export function readCpuTopology(procRoot = '/proc'): CpuTopology[] {
  // Unreadable: read as empty, no entries.
  const text = readText(`${procRoot}/cpuinfo`) ?? '';
  const out: CpuTopology[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const kv = new Map<string, string>();
    for (const line of block.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    const cpu = Number(kv.get('processor'));
    if (!Number.isInteger(cpu)) continue;
    out.push({
      cpu,
      vendor: kv.get('vendor_id') ?? 'unknown',
      family: Number(kv.get('cpu family') ?? 0) & 0xff,
      model: Number(kv.get('model') ?? 0) & 0xff,
      modelName: kv.get('model name') ?? 'unknown',
      physicalId: Number(kv.get('physical id') ?? 0) & 0xffff,
      coreId: Number(kv.get('core id') ?? 0) & 0xffff,
      cores: Number(kv.get('cpu cores') ?? 1) & 0xffff,
    });
  }
  return out;
}

export interface Interrupt {
  irq: number;
  chip: string;
  action: string;
}

/** Numbered interrupts from /proc/interrupts (chip name and action names). */
export function readInterrupts(procRoot = '/proc'): Interrupt[] {
  // Unreadable: read as empty, no entries.
  const text = readText(`${procRoot}/interrupts`) ?? '';
  const lines = text.split('\n');
  const ncpu = (lines[0] ?? '').trim().split(/\s+/).length;
  const out: Interrupt[] = [];
  for (const line of lines.slice(1)) {
    const m = /^\s*(\d+):(.*)$/.exec(line);
    if (!m) continue;
    const rest = m[2]!.trim().split(/\s+/).slice(ncpu);
    // chip, hwirq/type..., then action names (comma separated, may contain spaces).
    const chip = rest[0] ?? '';
    const actions = rest.slice(2).join(' ');
    for (const a of actions.split(',').map((s) => s.trim())) {
      out.push({ irq: Number(m[1]), chip, action: a });
    }
  }
  return out;
}

/** `priority` of /proc/<tid>/stat (field 18: prio - 100, LTTng's value), if readable. */
export function readProcPrio(tid: number): number | undefined {
  const text = readText(`/proc/${tid}/stat`);
  if (text === undefined) return undefined;
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field 18 is rest[15].
  const v = Number(rest[15]);
  return Number.isInteger(v) ? v : undefined;
}
