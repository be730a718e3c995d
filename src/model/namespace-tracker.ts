/**
 * The namespace tracker: the namespaces of each thread other than its pid-namespace levels
 * (threads.ts): user-namespace levels and the flat namespaces (mnt, net, uts, ipc, cgroup,
 * time), from `lttng_statedump_process_{user,mnt,net,uts,ipc,cgroup,time}_ns`; and the stream
 * event context fields `_tid _pid _ppid _vtid _vpid _procname _<type>_ns`, which give the ids and
 * namespaces of the task that produced each event.
 */
import type { CpuState } from './cpus.js';
import type { ModelCoverage } from './current.js';
import type { ClassInfo, EventFn } from './dispatch.js';
import type { Thread } from './entities.js';
import { anyField, optNum, payloadFields, readNum, streamContextField, toNum, toStr } from './fields.js';
import { FLAT_NS_TYPES } from './namespaces.js';
import type { FlatNsType, NamespaceRegistry, UserLevel } from './namespaces.js';
import type { ThreadTracker } from './threads.js';

export class NamespaceTracker {
  private userGroupTid = -1;

  constructor(
    private readonly namespaces: NamespaceRegistry,
    private readonly tt: ThreadTracker,
    private readonly cpus: CpuState[],
    private readonly coverage: ModelCoverage,
  ) {}

  /** One level of a thread's user namespace chain. */
  setUserLevel(t: Thread, level: number, entry: UserLevel): void {
    if (!(level >= 0) || level > 64) return;
    let lv = t.userLevels;
    if (this.userGroupTid !== t.tid || lv === undefined) {
      lv = new Array<UserLevel>(level + 1);
      for (let i = 0; i <= level; i++) lv[i] = { inum: undefined, vuid: undefined, vgid: undefined };
      t.userLevels = lv;
      this.userGroupTid = t.tid;
    }
    while (lv.length <= level) lv.push({ inum: undefined, vuid: undefined, vgid: undefined });
    lv[level] = entry;
    if (entry.inum !== undefined) {
      this.namespaces.note('user', entry.inum, level, level > 0 ? lv[level - 1]!.inum : undefined);
      if (level === lv.length - 1) {
        t.ns.user = entry.inum;
        this.namespaces.seen.user.add(entry.inum);
      }
    }
  }

  setFlatNs(t: Thread, type: FlatNsType, inum: number): void {
    if (!(inum > 0) || t.ns[type] === inum) return;
    t.ns[type] = inum;
    this.namespaces.seen[type].add(inum);
  }

  /** `lttng_statedump_process_user_ns`: one event per user-namespace level of a task. */
  bindUserNsStatedump(info: ClassInfo): EventFn {
    const tt = this.tt;
    const [tidF, levelF, inumF] = payloadFields(info, 'tid', 'ns_level', 'ns_inum');
    const [vuidF, vgidF] = payloadFields(info, 'vuid', 'vgid');
    return (ev) => {
      const t = tt.thread(readNum(tidF, ev), ev.ts);
      const inum = readNum(inumF, ev);
      this.setUserLevel(t, readNum(levelF, ev), {
        inum: inum > 0 ? inum : undefined,
        vuid: optNum(vuidF, ev),
        vgid: optNum(vgidF, ev),
      });
    };
  }

  /** `lttng_statedump_process_<type>_ns` of a flat namespace type. */
  bindFlatNsStatedump(info: ClassInfo, type: FlatNsType): EventFn {
    const tt = this.tt;
    const [tidF, inumF] = payloadFields(info, 'tid', 'ns_inum');
    return (ev) => {
      const t = tt.thread(readNum(tidF, ev), ev.ts);
      this.setFlatNs(t, type, readNum(inumF, ev));
    };
  }

  /**
   * By stream index: the thread whose context the stream's last record carried (undefined: none
   * known). Its `lastSeen` follows every event of the stream until the context changes, those
   * the reader skipped included (`EventRecord.quietBefore`, `quietTails`).
   */
  private readonly runs: Array<Thread | undefined> = [];

  /**
   * By stream index, for the context callbacks of all the classes of the stream (one stream
   * class, so one layout): the watched raw values of the stream's previous record (and its CPU's
   * current tid), their thread (undefined: none), and the reader's context version of that
   * record (see `EventRecord.streamContextVersion`). Shared, a record whose context version is
   * that of the previous record of its stream costs a comparison whatever its class: kept per
   * class, the events of a task, which take turns between classes (a system call's entry and
   * exit, the packets it sends), each went the whole way to the thread table. (Fields of the
   * language's own privacy: this follows how the records were read, it is no result.)
   */
  readonly #ctxLast: Array<unknown[] | undefined> = [];
  readonly #ctxThread: Array<Thread | undefined> = [];
  readonly #ctxVersion: Array<number | undefined> = [];

  /** The last events of streams, skipped by the reader: see `SystemModel.quietTails`. */
  quietTails(tails: readonly number[]): void {
    for (let si = 0; si < tails.length; si++) {
      const r = this.runs[si];
      const ts = tails[si]!;
      if (r !== undefined && ts > r.lastSeen) r.lastSeen = ts;
    }
  }

  /** Stream classes whose context callback returns at once on an unchanged context version. */
  private readonly versionGated = new Set<ClassInfo['streamClass']>();

  /**
   * After `bindContext`: whether its callback does nothing when the context did not change but
   * follow the thread's `lastSeen` (which skipped events reach through `quietBefore` and
   * `quietTails`).
   */
  idleOnSameContext(info: ClassInfo): boolean {
    return info.streamClass.eventContext === undefined || this.versionGated.has(info.streamClass);
  }

  /**
   * Stream event context fields: namespaces and ids of the current task. Runs on every event of
   * a stream with such contexts, so the common case (same task, same values as the previous
   * event of that stream) is a few comparisons of raw values.
   */
  bindContext(info: ClassInfo): EventFn | undefined {
    const sc = info.streamClass;
    if (sc.eventContext === undefined) return undefined;
    const tidF = streamContextField(sc, 'tid');
    const pidF = streamContextField(sc, 'pid');
    const ppidF = streamContextField(sc, 'ppid');
    const vtidF = streamContextField(sc, 'vtid');
    const vpidF = streamContextField(sc, 'vpid');
    const procnameF = streamContextField(sc, 'procname');
    const pidNsF = streamContextField(sc, 'pid_ns');
    const flat: Array<[FlatNsType, number]> = [];
    for (const type of FLAT_NS_TYPES) {
      const f = streamContextField(sc, `${type}_ns`);
      if (f !== undefined) flat.push([type, f.index]);
    }
    const useful = pidNsF !== undefined || flat.length > 0 || vtidF !== undefined || vpidF !== undefined;
    const ids = tidF !== undefined || pidF !== undefined || ppidF !== undefined || procnameF !== undefined;
    if (!useful && !ids) return undefined;
    if (pidNsF !== undefined) this.coverage.pidNsContext = true;
    const cpuF = anyField(sc, info.eventClass, 'cpu_id');
    const isUst = info.trace.cls.env.get('domain') === 'ust';
    const tt = this.tt;
    // Watched raw values: the tid (or, without it, the CPU's current tid), then every context.
    const watched: number[] = [];
    for (const f of [tidF, pidF, ppidF, vtidF, vpidF, procnameF, pidNsF])
      if (f !== undefined) watched.push(f.index);
    for (const [, i] of flat) watched.push(i);
    const n = watched.length;
    const useCpu = tidF === undefined && !isUst;
    if (!useCpu) this.versionGated.add(sc);
    const iTid = tidF?.index ?? -1;
    const iPidNs = pidNsF?.index ?? -1;
    const iVtid = vtidF?.index ?? -1;
    // Shared by the callbacks of every class (see `#ctxLast`): same stream, same stream class.
    const last = this.#ctxLast;
    const lastVersion = this.#ctxVersion;
    const lastThread = this.#ctxThread;
    const runs = this.runs;
    return (ev) => {
      const ctx = ev.streamContext;
      if (ctx === undefined) return;
      const si = ev.stream.index;
      const run = runs[si];
      if (run !== undefined) {
        // The events skipped since the previous record of the stream had its context.
        const q = ev.quietBefore;
        if (q !== undefined && q > run.lastSeen) run.lastSeen = q;
      }
      const ver = ev.streamContextVersion;
      if (ver !== undefined && !useCpu) {
        if (lastVersion[si] === ver) {
          if (run !== undefined && ev.ts > run.lastSeen) run.lastSeen = ev.ts;
          return;
        }
        lastVersion[si] = ver;
      }
      let prev = last[si];
      if (prev === undefined) {
        prev = new Array<unknown>(n + 1).fill(undefined);
        last[si] = prev;
      }
      let changed = false;
      for (let i = 0; i < n; i++) {
        const v = ctx[watched[i]!];
        if (prev[i] !== v) {
          prev[i] = v;
          changed = true;
        }
      }
      let cpuTid = -1;
      if (useCpu) {
        const cpu = this.cpus[readNum(cpuF, ev)];
        cpuTid = cpu === undefined ? -1 : cpu.currentTid;
        if (prev[n] !== cpuTid) {
          prev[n] = cpuTid;
          changed = true;
        }
      }
      if (!changed) {
        // The values of the stream's previous record: their thread.
        const t = lastThread[si];
        runs[si] = t;
        if (t !== undefined && ev.ts > t.lastSeen) t.lastSeen = ev.ts;
        return;
      }
      runs[si] = undefined;
      lastThread[si] = undefined;
      let t: Thread | undefined;
      if (iTid >= 0) {
        const tid = toNum(ctx[iTid]);
        if (!(tid >= 0)) return;
        t = tt.thread(tid, ev.ts);
      } else if (isUst) {
        if (iPidNs < 0 || iVtid < 0) return;
        t = tt.threadByVtid(toNum(ctx[iPidNs]), toNum(ctx[iVtid]), ev.ts);
        if (t === undefined) return;
      } else {
        if (cpuTid < 0) return;
        t = tt.thread(cpuTid, ev.ts);
      }
      runs[si] = t;
      lastThread[si] = t;
      if (ev.ts > t.lastSeen) t.lastSeen = ev.ts;
      // The same values as this thread's last event (threads taking turns on a CPU): nothing new.
      const seen = t.ctxSeen;
      if (seen !== undefined && seen.length === n + 1) {
        let same = true;
        for (let i = 0; i < n; i++) {
          if (seen[i] !== prev[i]) {
            same = false;
            break;
          }
        }
        if (same) return;
        for (let i = 0; i < n; i++) seen[i] = prev[i];
      } else t.ctxSeen = prev.slice();
      if (pidF !== undefined && t.pid === undefined) t.pid = toNum(ctx[pidF.index]);
      if (ppidF !== undefined && t.ppid === undefined) t.ppid = toNum(ctx[ppidF.index]);
      if (procnameF !== undefined && t.comm === '') t.comm = toStr(ctx[procnameF.index]);
      if (iVtid >= 0) {
        const v = toNum(ctx[iVtid]);
        if (v >= 0) t.vtidCtx = v;
      }
      if (vpidF !== undefined) {
        const v = toNum(ctx[vpidF.index]);
        if (v >= 0) t.vpidCtx = v;
      }
      for (let i = 0; i < flat.length; i++) this.setFlatNs(t, flat[i]![0], toNum(ctx[flat[i]![1]]));
      const pidNs = iPidNs >= 0 ? toNum(ctx[iPidNs]) : NaN;
      if (pidNs > 0 && (t.pidNs === undefined || (t.pidNsInherited && t.pidNs !== pidNs))) {
        if (t.pidNsInherited) {
          // Its own context says otherwise: a fork into a new pid namespace (clone with
          // CLONE_NEWPID) whose event had no namespace fields.
          t.pidNsInherited = false;
          t.pidLevels = undefined;
        }
        tt.setPidNs(t, pidNs, ev.ts);
      } else tt.indexVtid(t);
    };
  }
}
