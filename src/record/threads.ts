/**
 * The recorder's thread table: for every thread, its ids at every pid-namespace level, its
 * namespaces and its comm, kept up to date from events (task_newtask with clone flags, fork,
 * exec, task_rename, exit/free, unshare, setns, clone's return value), starting from a /proc
 * snapshot. It produces, per thread, the words of the stream event context the recorder
 * writes for every event of that thread.
 *
 * What is exact and what is inferred is documented in docs/record.md ("Namespace contexts").
 */
import { CLONE_NS_FLAGS, NS_INDEX, NS_TYPES, type NsType } from './proc.js';
import { CLONE_PARENT, CLONE_THREAD, Ns, Thread, levelOf } from './thread.js';
import { ALL, PFC_BIT, TFC_BIT, ThreadState } from './thread-state.js';

/** Index in NS_TYPES of each namespace context (`pid_ns` → pid's). */
const NS_OF_CONTEXT: ReadonlyMap<string, number> = new Map(
  NS_TYPES.map((t: NsType) => [`${t}_ns`, NS_INDEX[t]]),
);

export class ThreadTable extends ThreadState {
  rebuild(t: Thread): void {
    const w = t.ctx;
    let k = 0;
    for (const c of this.contexts) {
      const ni = NS_OF_CONTEXT.get(c);
      if (ni !== undefined) {
        w[k++] = t.ns[ni]!.inum | 0;
        continue;
      }
      switch (c) {
        case 'vpid':
        case 'vtid':
        case 'tid':
        case 'pid':
        case 'ppid':
          w[k++] = t[c];
          break;
        case 'vppid': {
          const parent = t.idsUnknown || t.ppid === 0 ? undefined : this.byTid.get(t.ppid);
          w[k++] = parent && !parent.idsUnknown ? this.idAtLevel(parent.nsPids, t.nsPids.length - 1) : 0;
          break;
        }
        case 'procname': {
          const b = t.comm;
          for (let i = 0; i < 16; i += 4) {
            w[k++] = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
          }
          break;
        }
      }
    }
    t.ctxEpoch = this.epoch;
    t.nsAtWrite = t.ns.slice();
    t.commAtWrite = t.comm;
    t.incomplete = this.isIncomplete(t);
  }

  /**
   * Patches context words written at `off` for `t` while some values were unknown: the
   * namespace slots from `ns` (the namespaces the words stood for), vtid/vpid from the thread
   * (its ids never change, they only become known). Nothing else is rewritten. Returns true
   * when some of these values are still unknown (the entry is worth keeping).
   */
  patchContext(t: Thread, ns: readonly Ns[], dv: DataView, off: number, comm?: Uint8Array): boolean {
    let k = 0;
    let unknown = false;
    const put = (v: number): void => {
      if (v === 0) unknown = true;
      else dv.setInt32(off + 4 * k, v | 0, true);
    };
    for (const c of this.contexts) {
      const ni = NS_OF_CONTEXT.get(c);
      if (ni !== undefined) {
        put(ns[ni]?.inum ?? 0);
        k++;
        continue;
      }
      switch (c) {
        case 'vpid':
        case 'vtid':
          put(t[c]);
          break;
        case 'procname':
          // The comm the words stood for: a placeholder is filled in place once learnt (a
          // known comm never changes: a rename makes a new one), so its bytes are the value.
          if (comm !== undefined) {
            if (this.unknownComm.has(comm)) unknown = true;
            else for (let i = 0; i < 16; i++) dv.setUint8(off + 4 * k + i, comm[i]!);
          }
          k += 3;
          break;
        default:
          break;
      }
      k++;
    }
    return unknown;
  }

  /** A context value of `t` is a placeholder (0) that may become known later. */
  isIncomplete(t: Thread): boolean {
    if (t.tid === 0) return false;
    if (this.unknownComm.has(t.comm)) return true;
    for (const n of t.ns) if (n.inum === 0) return true;
    for (const x of t.nsTids) if (x === 0) return true;
    for (const x of t.nsPids) if (x === 0) return true;
    return false;
  }

  /** Id of a task at pid-ns `level` given its root-first id list; 0 when not visible there. */
  idAtLevel(ids: readonly number[], level: number): number {
    return level < ids.length ? ids[level]! : 0;
  }
  onNewTask(parent: Thread, childTid: number, comm: Uint8Array, flags: number, ts: number): Thread {
    const existing = this.byTid.get(childTid);
    if (existing && existing.seenAt > ts) {
      parent.lastChild = existing;
      return existing; // the snapshot already knows it, and knows better
    }
    const isThread = (flags & CLONE_THREAD) !== 0;
    const ns = parent.ns.slice();
    let unknown = false;
    // pid: a child goes to the parent's pid_for_children, or a new one under it; a thread stays
    // in its process's (the kernel refuses CLONE_THREAD when the two differ).
    let pidNs = isThread ? parent.ns[NS_INDEX.pid]! : parent.pidForChildren;
    // A pid_for_children not known yet (read late, not resolved yet): the child's level too.
    const levelUnknown =
      !isThread && parent.pidForChildren.inum === 0 && parent.pidForChildren.parent === undefined;
    if ((flags & CLONE_NS_FLAGS.pid) !== 0 && !isThread) {
      pidNs = new Ns(0, NS_INDEX.pid, parent.pidForChildren.level + 1, parent.pidForChildren);
      unknown = true;
    }
    ns[NS_INDEX.pid] = pidNs;
    let timeNs = parent.ns[NS_INDEX.time]!;
    if (!isThread) timeNs = parent.timeForChildren;
    if ((flags & CLONE_NS_FLAGS.time) !== 0) {
      timeNs = new Ns(0, NS_INDEX.time, 0, undefined);
      unknown = true;
    }
    ns[NS_INDEX.time] = timeNs;
    for (const type of ['user', 'net', 'mnt', 'uts', 'ipc', 'cgroup'] as const) {
      if ((flags & CLONE_NS_FLAGS[type]) !== 0) {
        const i = NS_INDEX[type];
        const old = parent.ns[i]!;
        ns[i] = new Ns(0, i, type === 'user' ? old.level + 1 : 0, type === 'user' ? old : undefined);
        unknown = true;
      }
    }
    // ids: the root level is the global tid; deeper levels are learnt from clone's return,
    // from /proc, or are 1 for the init of a new pid namespace.
    const level = pidNs.level;
    const nsTids = new Array<number>(level + 1).fill(0);
    nsTids[0] = childTid;
    if (level === 0) nsTids[0] = childTid;
    if (pidNs !== parent.pidForChildren && !isThread) nsTids[level] = 1;
    const nsPids = isThread ? parent.nsPids.slice() : nsTids.slice();
    if (isThread && nsPids.length !== nsTids.length) nsPids.length = nsTids.length;
    const child = new Thread(
      childTid,
      {
        pid: isThread ? parent.pid : childTid,
        ppid: isThread || (flags & CLONE_PARENT) !== 0 ? parent.ppid : parent.pid,
        comm: comm.slice(),
        ns,
        pidForChildren: pidNs,
        timeForChildren: timeNs,
        nsTids,
        nsPids,
        seenAt: ts,
      },
      this.ctxWords,
    );
    if (levelUnknown) {
      child.nsTids = [0];
      child.nsPids = [0];
      child.idsUnknown = true;
    }
    if (this.byTid.has(childTid)) this.version++;
    this.byTid.set(childTid, child);
    parent.lastChild = child;
    if (unknown || this.hasUnknown(child)) {
      this.fill(child, ts);
      if (this.hasUnknown(child)) this.stats.nsUnresolved++;
    }
    return child;
  }

  /** clone/fork/vfork/clone3 returned `ret` > 0 in the parent: the child's id at the parent's level. */
  onCloneReturn(parent: Thread, ret: number): void {
    const child = parent.lastChild;
    if (!child || ret <= 0 || child.idsUnknown || parent.idsUnknown) return;
    const level = parent.nsTids.length - 1;
    if (level < child.nsTids.length && child.nsTids[level] === 0) {
      child.nsTids[level] = ret;
      if (child.pid === child.tid && child.nsPids[level] === 0) child.nsPids[level] = ret;
      this.invalidate(child);
      this.learned++;
    }
  }

  /**
   * exec: the task moves to its time_for_children namespace; a non-leader thread that execs
   * takes the leader's tid (old_tid → tid).
   */
  onExec(tid: number, oldTid: number, ts: number): void {
    const self = this.byTid.get(oldTid);
    if (self && self.seenAt <= ts && self.ns[NS_INDEX.time] !== self.timeForChildren) {
      self.ns[NS_INDEX.time] = self.timeForChildren;
      this.invalidate(self);
    }
    if (tid === oldTid) return;
    const t = this.byTid.get(oldTid);
    if (!t || t.seenAt > ts) return;
    this.byTid.delete(oldTid);
    this.version++;
    const leader = this.byTid.get(tid);
    // The leader's ids at every level are the process ids.
    const moved = new Thread(
      tid,
      {
        pid: t.pid,
        ppid: t.ppid,
        comm: t.comm,
        ns: t.ns,
        pidForChildren: t.pidForChildren,
        timeForChildren: t.timeForChildren,
        nsTids: t.nsPids.slice(),
        nsPids: t.nsPids.slice(),
        seenAt: ts,
      },
      this.ctxWords,
    );
    if (leader) leader.exited = true;
    this.byTid.set(tid, moved);
  }

  onRename(t: Thread, comm: Uint8Array, ts: number): void {
    if (t.seenAt > ts) return;
    t.comm = comm.slice();
    this.invalidate(t);
  }

  onExit(t: Thread, ts = 0): void {
    t.exited = true;
    t.exitedAt = ts;
    if (!this.ppidContexts || t.pid === 0) return;
    // The last thread of a process gone: its children are reparented (to a subreaper or the
    // namespace's init), which the trace does not show. Their ppid is unknown from here on.
    for (const o of this.byTid.values()) if (o.pid === t.pid && !o.exited) return;
    for (const c of this.byTid.values()) {
      if (c.ppid === t.pid && c.pid !== t.pid) {
        c.ppid = 0;
        this.invalidate(c);
        this.stats.ppidUnknown++;
      }
    }
  }

  onFree(tid: number, ts: number): void {
    const t = this.byTid.get(tid);
    if (t && t.seenAt <= ts) {
      this.byTid.delete(tid);
      this.version++;
    }
  }

  /** unshare(flags) returned 0. */
  onUnshare(t: Thread, flags: number, ts: number): void {
    if (t.seenAt > ts) return;
    let changed = false;
    for (const type of ['user', 'net', 'mnt', 'uts', 'ipc', 'cgroup'] as const) {
      if ((flags & CLONE_NS_FLAGS[type]) === 0) continue;
      const i = NS_INDEX[type];
      const old = t.ns[i]!;
      t.ns[i] = new Ns(0, i, type === 'user' ? old.level + 1 : 0, type === 'user' ? old : undefined);
      changed = true;
    }
    if ((flags & CLONE_NS_FLAGS.pid) !== 0) {
      t.pidForChildren = new Ns(0, NS_INDEX.pid, t.ns[NS_INDEX.pid]!.level + 1, t.ns[NS_INDEX.pid]);
      changed = true;
    }
    if ((flags & CLONE_NS_FLAGS.time) !== 0) {
      t.timeForChildren = new Ns(0, NS_INDEX.time, 0, undefined);
      changed = true;
    }
    if (changed) {
      this.invalidate(t);
      this.fill(t, ts);
      if (this.hasUnknown(t)) this.stats.nsUnresolved++;
    }
  }

  /**
   * setns() returned 0: the target is an fd we cannot see in the trace, so the namespaces are
   * re-read from /proc (the task must still be alive). `nstype` 0 means "any": all are re-read.
   */
  onSetns(t: Thread, nstype: number, ts: number): void {
    if (t.seenAt > ts) return;
    // Only the watcher's snapshot, taken at the event, can say where it went (the target is an
    // fd the trace does not show); /proc read later may show a later state.
    const r = this.snapshotFn?.(t.tid, ts);
    const mask = r !== undefined && r.pid === t.pid ? (r.mask ?? ALL) : 0;
    let unresolved = false;
    const after = (i: number, bit: number, inum: number | undefined, cur: Ns): Ns => {
      if ((mask & bit) !== 0 && inum !== undefined && inum !== 0) {
        if (inum === cur.inum) return cur;
        const n = this.nsOf(i, inum);
        if (i === NS_INDEX.user || i === NS_INDEX.pid) {
          this.linkParents(n);
          n.level = levelOf(n);
        }
        return n;
      }
      unresolved = true;
      // Unknown, and so is its level (parent undefined).
      return new Ns(0, i, 0, undefined);
    };
    for (let i = 0; i < NS_TYPES.length; i++) {
      const type = NS_TYPES[i]!;
      if (nstype !== 0 && (nstype & CLONE_NS_FLAGS[type]) === 0) continue;
      if (type === 'pid') {
        // A task's own pid namespace never changes: its children's does.
        t.pidForChildren = after(i, PFC_BIT, r?.pidForChildren, t.pidForChildren);
        continue;
      }
      if (type === 'time') {
        // Joining a time namespace moves the task itself, and its future children.
        t.ns[i] = after(i, 1 << i, r?.ns[i], t.ns[i]!);
        t.timeForChildren = after(i, TFC_BIT, r?.timeForChildren, t.timeForChildren);
        continue;
      }
      t.ns[i] = after(i, 1 << i, r?.ns[i], t.ns[i]!);
    }
    if (unresolved) this.stats.nsUnresolved++;
    this.invalidate(t);
  }

  /** The pid namespaces of a thread, deepest first (statedump / fork `vtids` order is root first). */
  pidNsChain(t: Thread): Ns[] {
    const out: Ns[] = [];
    for (let n: Ns | undefined = t.ns[NS_INDEX.pid]; n; n = n.parent) out.push(n);
    return out;
  }
}
