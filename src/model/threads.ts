/**
 * The thread tracker: the table of threads (one `Thread` per lifetime of a host tid) and
 * processes, with each thread's pid-namespace levels and the (pid namespace, vtid) join. It reads
 * the lifecycle events (`sched_process_fork`/`exec`/`exit`/`free`) and the process statedump
 * (`lttng_statedump_process_state` in both layouts, `lttng_statedump_process_pid_ns`).
 */
import type { EventRecord } from '../ctf/event.js';
import type { ContainerRegistry } from './containers.js';
import type { ModelCoverage } from './current.js';
import type { ClassInfo, EventFn } from './dispatch.js';
import { Thread } from './entities.js';
import type { FieldLocation } from './fields.js';
import { anyFields, optNum, payloadField, payloadFields, readNum, toNumArray, toStr } from './fields.js';
import { FLAT_NS_TYPES } from './namespaces.js';
import type { NamespaceRegistry, PidLevel } from './namespaces.js';
import { VtidJoin } from './ust-join.js';

export { Thread } from './entities.js';

export class ThreadTracker {
  /** Current thread per host tid. */
  readonly threads = new Map<number, Thread>();
  /** Every thread lifetime ever created, in creation order (index = uid). */
  readonly allThreads: Thread[] = [];
  /** Per host tid: every lifetime, in creation order (`Thread.lifetime` indexes it). */
  readonly lifetimes = new Map<number, Thread[]>();
  /** Host thread of each (pid namespace, vtid), with validity intervals (the UST join). */
  readonly vtids = new VtidJoin();
  private pidGroupTid = -1;
  private legacyGroupTid = -1;

  constructor(
    private readonly namespaces: NamespaceRegistry,
    private readonly containers: ContainerRegistry,
    private readonly coverage: ModelCoverage,
  ) {}

  /** The current thread of a tid, created if needed. */
  thread(tid: number, ts: number): Thread {
    let t = this.threads.get(tid);
    if (t === undefined) {
      t = this.newThread(tid, ts);
    }
    return t;
  }

  /** Starts a new lifetime for `tid` (fork). */
  newThread(tid: number, ts: number): Thread {
    const t = new Thread(this.allThreads.length, tid, ts);
    if (tid === 0) t.pid = 0;
    this.allThreads.push(t);
    let all = this.lifetimes.get(tid);
    if (all === undefined) {
      all = [];
      this.lifetimes.set(tid, all);
    }
    t.lifetime = all.length;
    all.push(t);
    this.threads.set(tid, t);
    return t;
  }

  /**
   * The thread whose tid in pid namespace `pidNs` is `vtid` at `ts` (without `ts`: the latest
   * one known), when known.
   */
  threadByVtid(pidNs: number, vtid: number, ts?: number): Thread | undefined {
    return this.vtids.lookup(pidNs, vtid, ts);
  }

  /** Thread lifetimes grouped by process (host pid; a thread whose pid is unknown is its own). */
  processes(): Map<number, Thread[]> {
    const m = new Map<number, Thread[]>();
    for (const t of this.allThreads) {
      const pid = t.pid ?? t.tid;
      let l = m.get(pid);
      if (l === undefined) {
        l = [];
        m.set(pid, l);
      }
      l.push(t);
    }
    return m;
  }

  setPidNs(t: Thread, inum: number, ts: number): void {
    if (!(inum > 0) || t.pidNs === inum) return;
    t.pidNs = inum;
    const c = this.containers.forPidNs(inum, ts);
    this.containers.bind(t, c);
    c.seen(ts);
    this.indexVtid(t);
  }

  indexVtid(t: Thread): void {
    const ns = t.pidNs;
    const v = t.vtid;
    if (ns === undefined || v === undefined) return;
    this.vtids.note(ns, v, t);
  }

  private setPidLevel(t: Thread, level: number, entry: PidLevel, ts: number, group: 'pid' | 'legacy'): void {
    if (!(level >= 0) || level > 64) return;
    const groupTid = group === 'pid' ? this.pidGroupTid : this.legacyGroupTid;
    let lv = t.pidLevels;
    if (groupTid !== t.tid || lv === undefined) {
      // First (deepest) event of this task's group: its level is the active one.
      lv = new Array<PidLevel>(level + 1);
      for (let i = 0; i <= level; i++)
        lv[i] = { inum: undefined, vtid: undefined, vpid: undefined, vppid: undefined };
      t.pidLevels = lv;
      if (group === 'pid') this.pidGroupTid = t.tid;
      else this.legacyGroupTid = t.tid;
    }
    while (lv.length <= level)
      lv.push({ inum: undefined, vtid: undefined, vpid: undefined, vppid: undefined });
    lv[level] = entry;
    const reg = this.namespaces;
    if (entry.inum !== undefined) {
      const parent = level > 0 ? lv[level - 1]!.inum : undefined;
      reg.note('pid', entry.inum, level, parent);
      const child = lv[level + 1]?.inum;
      if (child !== undefined) reg.note('pid', child, level + 1, entry.inum);
      if (level === lv.length - 1) this.setPidNs(t, entry.inum, ts);
    }
    if (level === lv.length - 1) this.indexVtid(t);
  }

  /** `sched_process_exec`. */
  bindExec(info: ClassInfo): EventFn {
    const [tidF, fileF] = payloadFields(info, 'tid', 'filename');
    const [procnameF] = anyFields(info, 'procname');
    return (ev) => {
      const t = this.thread(readNum(tidF, ev), ev.ts);
      if (procnameF !== undefined) t.comm = toStr(procnameF.get(ev));
      else if (fileF !== undefined) {
        const file = toStr(fileF.get(ev));
        t.comm = file.slice(file.lastIndexOf('/') + 1).slice(0, 15);
      }
      t.execed = ev.ts;
      t.lastSeen = ev.ts;
    };
  }

  /** `sched_process_exit` and `sched_process_free`. */
  bindExit(info: ClassInfo): EventFn {
    const tidF = payloadField(info.eventClass, 'tid');
    const exit = info.name === 'sched_process_exit';
    return (ev) => {
      const t = this.threads.get(readNum(tidF, ev));
      if (t === undefined) return;
      if (exit) t.exited = ev.ts;
      else t.freed = ev.ts;
      t.lastSeen = ev.ts;
    };
  }

  /** `lttng_statedump_process_pid_ns`: one event per pid-namespace level of a task. */
  bindPidNsStatedump(info: ClassInfo): EventFn {
    this.coverage.pidNsStatedump = true;
    const tidF = payloadField(info.eventClass, 'tid');
    const lf = levelFields(info);
    return (ev) => {
      const t = this.thread(readNum(tidF, ev), ev.ts);
      this.setPidLevel(t, readNum(lf.level, ev), pidLevel(lf, ev), ev.ts, 'pid');
    };
  }

  /** `sched_process_fork`. */
  bindFork(info: ClassInfo): EventFn {
    const parentF = forkSide(info, 'parent');
    const childF = forkSide(info, 'child');
    const vtidsF = payloadField(info.eventClass, 'vtids');
    const childNsF = childF.ns;
    if (childNsF !== undefined || vtidsF !== undefined) this.coverage.forkNs = true;
    return (ev) => {
      const ts = ev.ts;
      const parent = this.forkThread(parentF, ev, false);
      const parentTid = parent.tid;
      const parentPid = parent.pid!;
      parent.lastSeen = ts;
      if (parentPid !== parentTid && !this.threads.has(parentPid)) {
        const leader = this.newThread(parentPid, ts);
        leader.pid = parentPid;
        leader.comm = parent.comm;
      }
      const parentNs = readNum(parentF.ns, ev);
      if (parentNs > 0 && parent.pidNs === undefined) this.setPidNs(parent, parentNs, ts);

      const child = this.forkThread(childF, ev, true);
      const childTid = child.tid;
      const childPid = child.pid!;
      child.born = ts;
      child.prio = undefined;
      const isProcess = childPid === childTid;
      child.ppid = isProcess ? parentPid : parent.ppid;

      const vtids = vtidsF === undefined ? [] : toNumArray(vtidsF.get(ev));
      const childNs = readNum(childNsF, ev);
      const pl = parent.pidLevels;
      if (vtids.length > 0) {
        const n = vtids.length;
        let inums: Array<number | undefined>;
        if (pl !== undefined && pl.length === n && (childNs === parentNs || !(childNs > 0))) {
          inums = pl.map((l) => l.inum);
        } else if (pl !== undefined && pl.length === n - 1) {
          inums = [...pl.map((l) => l.inum), childNs > 0 ? childNs : undefined];
        } else {
          inums =
            (childNs > 0 ? this.namespaces.pidChainOf(childNs) : undefined) ?? new Array(n).fill(undefined);
          if (inums.length !== n) inums = new Array(n).fill(undefined);
          if (childNs > 0) inums[n - 1] = childNs;
        }
        const levels: PidLevel[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const pli = pl !== undefined && pl.length > i && pl[i]!.inum === inums[i] ? pl[i] : undefined;
          levels[i] = {
            inum: inums[i],
            vtid: vtids[i],
            vpid: isProcess ? vtids[i] : pli?.vpid,
            vppid: isProcess ? pli?.vpid : pli?.vppid,
          };
        }
        child.pidLevels = levels;
        this.namespaces.noteChain('pid', inums);
        const leaf = inums[n - 1];
        if (leaf !== undefined) this.setPidNs(child, leaf, ts);
      } else if (childNs > 0) {
        this.setPidNs(child, childNs, ts);
      } else if (childNsF === undefined) {
        // No namespace information in this trace's fork events: same namespace as the parent.
        if (parent.pidNs !== undefined) {
          // The namespaces are the parent's; the ids at each level are the child's own (unknown),
          // but for the process ids of a thread of the same process.
          if (pl !== undefined)
            child.pidLevels = pl.map((l) => ({
              inum: l.inum,
              vtid: undefined,
              vpid: isProcess ? undefined : l.vpid,
              vppid: isProcess ? l.vpid : l.vppid,
            }));
          this.setPidNs(child, parent.pidNs, ts);
          child.pidNsInherited = true;
        } else {
          child.forkParent = parent;
        }
      }
      if (child.pidNs !== undefined && child.pidNs === parent.pidNs) {
        for (const type of FLAT_NS_TYPES) child.ns[type] = parent.ns[type];
      }
      // Its next context event is read again in full (see the stream-context handler).
      child.ctxSeen = undefined;
      this.indexVtid(child);
    };
  }

  /** The parent's thread (its current one) or the child's (a new one) of a fork, with its pid and name. */
  private forkThread(f: ForkSide, ev: EventRecord, child: boolean): Thread {
    const tid = readNum(f.tid, ev);
    const t = child ? this.newThread(tid, ev.ts) : this.thread(tid, ev.ts);
    t.pid = readNum(f.pid, ev);
    if (f.comm !== undefined) t.comm = toStr(f.comm.get(ev));
    return t;
  }

  /** `lttng_statedump_process_state` (with the pid-namespace fields of LTTng before 2.12). */
  bindStatedumpProcess(info: ClassInfo): EventFn {
    const [tidF, pidF, ppidF, nameF, prioF] = payloadFields(info, 'tid', 'pid', 'ppid', 'name', 'prio');
    const lf = levelFields(info);
    if (lf.level !== undefined && lf.inum !== undefined) this.coverage.legacyNsStatedump = true;
    return (ev) => {
      const ts = ev.ts;
      const tid = readNum(tidF, ev);
      const pid = readNum(pidF, ev);
      const name = nameF === undefined ? '' : toStr(nameF.get(ev));
      const t = this.thread(tid, ts);
      t.pid = pid;
      t.comm = name;
      if (t.prio === undefined && prioF !== undefined) t.prio = readNum(prioF, ev);
      const ppid = readNum(ppidF, ev);
      if (ppid >= 0) t.ppid = ppid;
      if (pid !== tid && !this.threads.has(pid)) {
        const leader = this.newThread(pid, ts);
        leader.pid = pid;
        leader.comm = name;
      }
      if (lf.level !== undefined) this.setPidLevel(t, readNum(lf.level, ev), pidLevel(lf, ev), ts, 'legacy');
    };
  }
}

/** The fields of the parent or the child in `sched_process_fork`. */
export interface ForkSide {
  readonly tid: FieldLocation | undefined;
  readonly pid: FieldLocation | undefined;
  readonly comm: FieldLocation | undefined;
  readonly ns: FieldLocation | undefined;
}

/** `SIDE_tid`, `SIDE_pid`, `SIDE_comm`, `SIDE_ns_inum` (found by `lookup`: in the payload by default). */
export function forkSide(
  info: ClassInfo,
  side: 'parent' | 'child',
  lookup: (info: ClassInfo, ...names: string[]) => Array<FieldLocation | undefined> = payloadFields,
): ForkSide {
  const [tid, pid, comm, ns] = lookup(info, `${side}_tid`, `${side}_pid`, `${side}_comm`, `${side}_ns_inum`);
  return { tid, pid, comm, ns };
}

/** The fields of one pid-namespace level in a statedump event (both layouts). */
interface LevelFields {
  readonly level: FieldLocation | undefined;
  readonly inum: FieldLocation | undefined;
  readonly vtid: FieldLocation | undefined;
  readonly vpid: FieldLocation | undefined;
  readonly vppid: FieldLocation | undefined;
}

function levelFields(info: ClassInfo): LevelFields {
  const [level, inum, vtid, vpid, vppid] = payloadFields(
    info,
    'ns_level',
    'ns_inum',
    'vtid',
    'vpid',
    'vppid',
  );
  return { level, inum, vtid, vpid, vppid };
}

/** One pid-namespace level as a statedump event gives it (`ns_inum` and the optional ids). */
function pidLevel(f: LevelFields, ev: EventRecord): PidLevel {
  const inum = readNum(f.inum, ev);
  return {
    inum: inum > 0 ? inum : undefined,
    vtid: optNum(f.vtid, ev),
    vpid: optNum(f.vpid, ev),
    vppid: optNum(f.vppid, ev),
  };
}
