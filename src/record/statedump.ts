/**
 * The statedump at the start of a recording, built from /proc: the events lttng-modules emits
 * from the kernel (`lttng_statedump_*`), in the same order, with the 2.12+ namespace events
 * (one `lttng_statedump_process_pid_ns` / `_user_ns` per nesting level, deepest first).
 */
import { readFileSync } from 'node:fs';
import {
  mapIdInto,
  readBlockDevices,
  readCpuTopology,
  readFds,
  readIdMap,
  readInterrupts,
  readNetInterfaces,
  NS_INDEX,
  type IdMapEntry,
  type ProcThread,
} from './proc.js';
import { STATEDUMP_EVENTS } from './lttng-events.js';
import type { SimpleValue } from './encode.js';
import { toContainerEventPayload, type ContainerInfo } from '../containers/index.js';
import type { Ns } from './thread.js';
import type { ThreadTable } from './threads.js';

export interface InjectedEvent {
  readonly name: string;
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly values: SimpleValue[];
  /** Relative ns. */
  readonly ts: number;
}

/** lttng-modules' enum lttng_process_status. */
const STATUS = { UNNAMED: 0, WAIT_CPU: 2, ZOMBIE: 4, WAIT: 5, DEAD: 7 } as const;

function statusOf(state: string): number {
  switch (state) {
    case 'R':
      return STATUS.WAIT_CPU;
    case 'S':
    case 'D':
    case 'I':
      return STATUS.WAIT;
    case 'Z':
      return STATUS.ZOMBIE;
    case 'X':
      return STATUS.DEAD;
    default:
      return STATUS.UNNAMED;
  }
}

export interface StatedumpOptions {
  /** Relative-ns clock. */
  now: () => number;
  /** When the walk began (the `lttng_statedump_start` time; default: now). */
  begin?: number;
  fds?: boolean;
  procRoot?: string;
}

/**
 * Builds the statedump events for `threads` (a /proc walk; `table` knows its namespaces'
 * hierarchy). A thread's events take the time its read began (`readAt`), when its values held;
 * the others are stamped as they are built, so the dump spans the time it took, like LTTng's.
 */
export function buildStatedump(
  threads: readonly ProcThread[],
  table: ThreadTable,
  opts: StatedumpOptions,
): InjectedEvent[] {
  const out: InjectedEvent[] = [];
  let last = -Infinity;
  const push = (name: string, values: SimpleValue[], at?: number): void => {
    const fields = STATEDUMP_EVENTS[name];
    if (!fields) throw new Error(`unknown statedump event ${name}`);
    // Never before an event already built (readers want them in order).
    last = Math.max(last, at ?? opts.now());
    out.push({ name, fields, values, ts: last });
  };
  push('lttng_statedump_start', [], opts.begin);

  // A process of each user namespace, to read its uid/gid maps.
  const userNsMember = new Map<number, number>();
  for (const p of threads) {
    const u = p.ns[NS_INDEX.user] ?? 0;
    if (u !== 0 && !userNsMember.has(u)) userNsMember.set(u, p.pid);
  }
  const mapCache = new Map<number, { uid: IdMapEntry[] | undefined; gid: IdMapEntry[] | undefined }>();
  const mapsOf = (ns: Ns): { uid: IdMapEntry[] | undefined; gid: IdMapEntry[] | undefined } => {
    let m = mapCache.get(ns.inum);
    if (!m) {
      const pid = userNsMember.get(ns.inum);
      const root = opts.procRoot ?? '/proc';
      m =
        pid === undefined
          ? { uid: undefined, gid: undefined }
          : { uid: readIdMap(`${root}/${pid}/uid_map`), gid: readIdMap(`${root}/${pid}/gid_map`) };
      mapCache.set(ns.inum, m);
    }
    return m;
  };

  for (const p of threads) {
    if (!table.byTid.has(p.tid)) continue;
    // Every event of the thread at the time of its read: the values held then.
    const put = (name: string, values: SimpleValue[]): void => push(name, values, p.readAt);
    put('lttng_statedump_process_state', [
      p.tid,
      p.pid,
      p.ppid,
      p.comm,
      p.kthread ? 1 : 0,
      5,
      1,
      statusOf(p.state),
      p.cpu,
      p.pid,
    ]);
    // pid namespaces, deepest level first.
    const parent = table.byTid.get(p.ppid);
    let level = p.nsTids.length - 1;
    for (
      let ns: Ns | undefined = table.nsFromRead(NS_INDEX.pid, p.ns[NS_INDEX.pid] ?? 0);
      ns && level >= 0;
      ns = ns.parent, level--
    ) {
      put('lttng_statedump_process_pid_ns', [
        p.tid,
        p.nsTids[level] ?? 0,
        p.nsPids[level] ?? 0,
        parent && !parent.idsUnknown ? table.idAtLevel(parent.nsPids, level) : 0,
        level,
        // Levels above the task's own: from the hierarchy (0 when lsns did not know it).
        ns.inum,
      ]);
    }
    put('lttng_statedump_process_cgroup_ns', [p.tid, p.ns[NS_INDEX.cgroup] ?? 0]);
    put('lttng_statedump_process_ipc_ns', [p.tid, p.ns[NS_INDEX.ipc] ?? 0]);
    put('lttng_statedump_process_mnt_ns', [p.tid, p.ns[NS_INDEX.mnt] ?? 0]);
    put('lttng_statedump_process_net_ns', [p.tid, p.ns[NS_INDEX.net] ?? 0]);
    // user namespaces, deepest first; ids as seen from each.
    for (
      let ns: Ns | undefined = table.nsFromRead(NS_INDEX.user, p.ns[NS_INDEX.user] ?? 0);
      ns;
      ns = ns.parent
    ) {
      let vuid = p.uid;
      let vgid = p.gid;
      if (ns.parent) {
        const m = mapsOf(ns);
        vuid = m.uid ? mapIdInto(m.uid, p.uid) : 65534;
        vgid = m.gid ? mapIdInto(m.gid, p.gid) : 65534;
      }
      put('lttng_statedump_process_user_ns', [p.tid, vuid, vgid, ns.level, ns.inum]);
    }
    put('lttng_statedump_process_uts_ns', [p.tid, p.ns[NS_INDEX.uts] ?? 0]);
    put('lttng_statedump_process_time_ns', [p.tid, p.ns[NS_INDEX.time] ?? 0]);
  }

  // Time namespaces: one event each, with the offsets a task of the namespace reads.
  const timeNs = new Map<number, number>();
  for (const p of threads) {
    const t = p.ns[NS_INDEX.time] ?? 0;
    if (t !== 0 && !timeNs.has(t)) timeNs.set(t, p.pid);
  }
  for (const [inum, pid] of timeNs) {
    const off = readTimeNsOffsets(`${opts.procRoot ?? '/proc'}/${pid}/timens_offsets`);
    if (off !== undefined)
      push('nstrace_statedump_timens', [
        inum,
        off.monotonic[0],
        off.monotonic[1],
        off.boottime[0],
        off.boottime[1],
      ]);
  }

  if (opts.fds !== false) {
    for (const p of threads) {
      if (p.tid !== p.pid || p.kthread) continue;
      for (const fd of readFds(p.pid, opts.procRoot)) {
        // fmode is not in /proc: FMODE_READ (1) / FMODE_WRITE (2) from the access mode.
        const acc = fd.flags & 3;
        const fmode = acc === 0 ? 1 : acc === 1 ? 2 : 3;
        push('lttng_statedump_file_descriptor', [p.pid, fd.fd, fd.flags, fmode, fd.path]);
      }
    }
  }
  for (const irq of readInterrupts(opts.procRoot)) {
    push('lttng_statedump_interrupt', [irq.irq, irq.chip, irq.action, 0]);
  }
  for (const nif of readNetInterfaces()) push('lttng_statedump_network_interface', [nif.name, nif.ipv4]);
  for (const bd of readBlockDevices(opts.procRoot)) push('lttng_statedump_block_device', [bd.dev, bd.name]);
  for (const c of readCpuTopology(opts.procRoot)) {
    push('lttng_statedump_cpu_topology', [
      'x86',
      c.cpu,
      c.vendor,
      c.family,
      c.model,
      c.modelName,
      c.physicalId,
      c.coreId,
      c.cores,
    ]);
  }
  return out;
}

/**
 * `/proc/PID/timens_offsets`: `monotonic SEC NSEC` and `boottime SEC NSEC` lines (clock names, or
 * the clock ids 1 and 7 on the first kernels with time namespaces). Undefined when unreadable
 * (a kernel without time namespaces, a task gone).
 */
export function readTimeNsOffsets(
  file: string,
): { monotonic: [bigint, number]; boottime: [bigint, number] } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let monotonic: [bigint, number] | undefined;
  let boottime: [bigint, number] | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*(\w+)\s+(-?\d+)\s+(\d+)\s*$/.exec(line);
    if (m === null) continue;
    const v: [bigint, number] = [BigInt(m[2]!), Number(m[3])];
    if (m[1] === 'monotonic' || m[1] === '1') monotonic = v;
    else if (m[1] === 'boottime' || m[1] === '7') boottime = v;
  }
  return monotonic === undefined || boottime === undefined ? undefined : { monotonic, boottime };
}

/** The closing event (emitted after the container statedump, if any). */
export function statedumpEnd(now: number): InjectedEvent {
  return { name: 'lttng_statedump_end', fields: [], values: [], ts: now };
}

/** A container start, stop or statedump event (`nstrace_container_*`), at `ts`. */
export function containerEvent(name: string, c: ContainerInfo, ts: number): InjectedEvent {
  const fields = STATEDUMP_EVENTS[name]!;
  const p = toContainerEventPayload(c);
  return {
    name,
    fields,
    ts,
    values: fields.map(([f]) => {
      const v = (p as unknown as Record<string, string | number | bigint>)[f];
      return v === undefined ? 0 : v;
    }),
  };
}
