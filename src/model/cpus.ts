/**
 * The CPU tracker: per-CPU state (which thread runs where, which CPUs lttng-analyses would
 * know) and the scheduling events that change it or a thread's priority: `sched_switch`,
 * `sched_migrate_task`, `sched_wakeup`/`_new`/`sched_waking`, `sched_pi_setprio`, and the hard
 * and soft IRQ events (only to learn CPUs, as lttng-analyses does).
 */
import type { EventFn, ClassInfo } from './dispatch.js';
import type { EventOutputs, ModelCoverage } from './current.js';
import type { Thread } from './entities.js';
import type { FieldLocation } from './fields.js';
import {
  anyField,
  anyFields,
  classAt,
  isIntegerClass,
  isTextClass,
  payloadField,
  payloadFields,
  readNum,
  toStr,
} from './fields.js';
import type { ThreadTracker } from './threads.js';
import type { FieldClass } from '../ctf/ir.js';
import { TraceFormatError } from '../util/errors.js';

export type PrioListener = (thread: Thread, prio: number, ts: number) => void;

const SOFT_HARD_IRQ_EVENTS = new Set([
  'irq_handler_entry',
  'irq_handler_exit',
  'softirq_raise',
  'softirq_entry',
  'softirq_exit',
]);

const KIND_TEXT: Record<FieldClass['kind'], string> = {
  int: 'an integer',
  enum: 'an enumeration',
  float: 'a floating point number',
  string: 'a string',
  struct: 'a structure',
  variant: 'a variant',
  array: 'an array',
  sequence: 'a sequence',
};

/** `lttng-modules` fixed the priority offset of `sched_wak*` events in 2.7.1. */
export function wakeupPrioOffset(info: ClassInfo): number {
  const env = info.trace.cls.env;
  const major = Number(env.get('tracer_major'));
  const minor = Number(env.get('tracer_minor'));
  const patch = Number(env.get('tracer_patchlevel'));
  if (!Number.isFinite(major) || !Number.isFinite(minor) || !Number.isFinite(patch)) return 0;
  if (major !== 2) return major < 2 ? -100 : 0;
  if (minor !== 7) return minor < 7 ? -100 : 0;
  return patch < 1 ? -100 : 0;
}

/** Per-CPU state. */
export class CpuState {
  readonly id: number;
  /**
   * Whether lttng-analyses would know this CPU (it learns CPUs from `sched_switch`,
   * `sched_wakeup*`/`sched_waking` and hard/soft IRQ events; the total CPU usage divides by
   * their count).
   */
  known = false;
  /** Thread running on the CPU; undefined when idle (swapper) or unknown. */
  current: Thread | undefined;
  /** tid of the task running on the CPU (0 when idle), or -1 before the first `sched_switch`. */
  currentTid = -1;

  constructor(id: number) {
    this.id = id;
  }
}

export class CpuTracker {
  /** CPU state by id (sparse). */
  readonly cpus: CpuState[] = [];
  private knownCpus = 0;
  private readonly prioListeners: PrioListener[] = [];

  constructor(
    private readonly tt: ThreadTracker,
    private readonly out: EventOutputs,
    private readonly coverage: ModelCoverage,
  ) {}

  /** Calls `fn` whenever a thread's priority changes (lttng-analyses' `prio_changed`). */
  onPrioChanged(fn: PrioListener): void {
    this.prioListeners.push(fn);
  }

  /** Number of CPUs lttng-analyses would know at this point. */
  get knownCpuCount(): number {
    return this.knownCpus;
  }

  cpu(id: number): CpuState {
    let c = this.cpus[id];
    if (c === undefined) {
      c = new CpuState(id);
      this.cpus[id] = c;
    }
    return c;
  }

  private markCpu(id: number): CpuState | undefined {
    let c = this.cpus[id];
    if (c === undefined) {
      if (!(id >= 0) || !Number.isInteger(id) || id > 1 << 20) return undefined;
      c = this.cpu(id);
    }
    if (!c.known) {
      c.known = true;
      this.knownCpus++;
    }
    return c;
  }

  private prioCheck(t: Thread, prio: number, ts: number): void {
    if (t.tid === 0 || Number.isNaN(prio)) return;
    if (t.prio !== prio) {
      t.prio = prio;
      const ls = this.prioListeners;
      for (let i = 0; i < ls.length; i++) ls[i]!(t, prio, ts);
    }
  }

  /** `sched_switch`. */
  bindSwitch(info: ClassInfo): EventFn {
    const { streamClass: sc, eventClass: ec } = info;
    const f = (n: string): FieldLocation | undefined => anyField(sc, ec, n);
    const p = (n: string): FieldLocation | undefined => payloadField(ec, n);
    const tt = this.tt;
    const out = this.out;
    this.coverage.schedSwitch = true;
    // The hot path reads values by index without looking at them: each field must have the
    // class its use needs (a corrupt or foreign trace may say otherwise). The tids must be
    // there: the analyses read the threads of every switch.
    const typed = (
      loc: FieldLocation | undefined,
      n: string,
      text: boolean,
      required = false,
    ): FieldLocation | undefined => {
      if (loc === undefined) {
        if (!required) return undefined;
        // Skipping the event instead left the analyses reading the threads of a switch the
        // model never saw (cputop crashed on it; fuzz case tc-flipping-endianness-s3003-460).
        throw new TraceFormatError(
          info.trace.metadataPath,
          undefined,
          `event 'sched_switch' has no field '${n}': the analyses need the threads of every switch`,
        );
      }
      const fc = classAt(sc, ec, loc);
      if (text ? isTextClass(fc) : isIntegerClass(fc)) return loc;
      throw new TraceFormatError(
        info.trace.metadataPath,
        undefined,
        `event 'sched_switch': field '${n}' is ${fc === undefined ? 'absent' : KIND_TEXT[fc.kind]}, not ${text ? 'text' : 'an integer'}`,
      );
    };
    const cpuF = typed(f('cpu_id'), 'cpu_id', false);
    const prevTidF = typed(p('prev_tid'), 'prev_tid', false, true)!;
    const nextTidF = typed(p('next_tid'), 'next_tid', false, true)!;
    // Hot path: payload fields read by index (LTTng has them all); optional ones as -1.
    const iPrevTid = prevTidF.index;
    const iNextTid = nextTidF.index;
    const iPrevComm = typed(p('prev_comm'), 'prev_comm', true)?.index ?? -1;
    const iNextComm = typed(p('next_comm'), 'next_comm', true)?.index ?? -1;
    const iPrevPrio = typed(p('prev_prio'), 'prev_prio', false)?.index ?? -1;
    const iNextPrio = typed(p('next_prio'), 'next_prio', false)?.index ?? -1;
    const cpuGet = cpuF?.get;
    return (ev) => {
      const ts = ev.ts;
      const pl = ev.payload!;
      const cpuId = cpuGet === undefined ? NaN : (cpuGet(ev) as number);
      out.cpuId = cpuId;
      const cpu = this.markCpu(cpuId);
      const prevTid = pl[iPrevTid] as number;
      const nextTid = pl[iNextTid] as number;
      const prev = tt.thread(prevTid, ts);
      const next = tt.thread(nextTid, ts);
      const prevComm = iPrevComm < 0 ? '' : (pl[iPrevComm] as string);
      const nextComm = iNextComm < 0 ? '' : (pl[iNextComm] as string);
      if (iNextComm >= 0) next.setRawComm(nextComm);
      if (prev.comm === '') prev.setRawComm(prevComm);
      out.switchPrevComm = prevComm;
      out.switchNextComm = nextComm;
      if (cpu !== undefined) {
        cpu.current = nextTid === 0 ? undefined : next;
        cpu.currentTid = nextTid;
      }
      prev.lastSeen = ts;
      next.lastSeen = ts;
      if (iPrevPrio >= 0) this.prioCheck(prev, pl[iPrevPrio] as number, ts);
      if (iNextPrio >= 0) this.prioCheck(next, pl[iNextPrio] as number, ts);
      out.switchPrev = prev;
      out.switchNext = next;
    };
  }

  /** `sched_migrate_task`, before the analyses. */
  bindMigrate(info: ClassInfo): EventFn {
    const tt = this.tt;
    const out = this.out;
    const [cpuF] = anyFields(info, 'cpu_id');
    const [tidF, commF] = payloadFields(info, 'tid', 'comm');
    return (ev) => {
      out.cpuId = readNum(cpuF, ev);
      const tid = readNum(tidF, ev);
      let t = tt.threads.get(tid);
      if (t === undefined) {
        t = tt.newThread(tid, ev.ts);
        if (commF !== undefined) t.comm = toStr(commF.get(ev));
      }
      out.migrated = t;
    };
  }

  /** `sched_migrate_task`, after the analyses (cputop counted the migration). */
  bindMigratePost(info: ClassInfo): EventFn {
    const out = this.out;
    const [prio] = anyFields(info, 'prio');
    return (ev) => {
      const t = out.migrated;
      if (t !== undefined) this.prioCheck(t, readNum(prio, ev), ev.ts);
    };
  }

  /** `sched_wakeup`, `sched_wakeup_new`, `sched_waking`. */
  bindWakeup(info: ClassInfo): EventFn {
    const tt = this.tt;
    const [cpuF, targetF] = anyFields(info, 'cpu_id', 'target_cpu');
    const [tidF, prioF] = payloadFields(info, 'tid', 'prio');
    const offset = wakeupPrioOffset(info);
    return (ev) => {
      this.markCpu(readNum(targetF, ev));
      this.markCpu(readNum(cpuF, ev));
      const tid = readNum(tidF, ev);
      const cpus = this.cpus;
      for (let i = 0; i < cpus.length; i++) {
        const c = cpus[i];
        if (c !== undefined && c.known && c.current !== undefined && c.current.tid === tid) return;
      }
      const t = tt.thread(tid, ev.ts);
      this.prioCheck(t, readNum(prioF, ev) + offset, ev.ts);
    };
  }

  /** `sched_pi_setprio`. */
  bindPiSetprio(info: ClassInfo): EventFn {
    const tt = this.tt;
    const [tidF, prioF] = payloadFields(info, 'tid', 'newprio');
    return (ev) => {
      const t = tt.thread(readNum(tidF, ev), ev.ts);
      this.prioCheck(t, readNum(prioF, ev), ev.ts);
    };
  }

  /** Hard and soft IRQ events: only to learn CPUs. */
  bindIrq(info: ClassInfo): EventFn | undefined {
    if (!SOFT_HARD_IRQ_EVENTS.has(info.name)) return undefined;
    const [cpuF] = anyFields(info, 'cpu_id');
    return (ev) => {
      this.markCpu(readNum(cpuF, ev));
    };
  }
}
