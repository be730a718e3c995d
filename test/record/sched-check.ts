/**
 * Checks of a recorded trace's scheduling data, for every recording in test/record:
 *
 * - the `sched_switch` chain of each CPU: each switch's `prev_tid` is the previous switch's
 *   `next_tid` on that CPU (the chain has a hole where a switch is missing);
 * - the kernel's own view of the same time: a plain tracefs instance with `sched_switch` only,
 *   no pid filter, recorded alongside (`ReferenceSwitches`); the switches the kernel reported
 *   must be exactly its switches over our time range. (This VM's kernel never reports some
 *   switches: out of CPU 1's idle task and out of PID 1's threads. The recorder writes those
 *   it can infer, marked `nstrace_inferred`; they are left out of this comparison.)
 * - CPU accounting: `nstrace cputop`'s per-TID usage sums to at most 100% per CPU, per-CPU
 *   usage is at most 100%, and the per-container usage of `nstrace top` likewise.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TraceSet } from '../../src/ctf/reader.js';
import { fieldIndex } from '../../src/ctf/fields.js';
import type { EventClass } from '../../src/ctf/ir.js';
import { analyse } from '../../src/analyses/session.js';
import { openTraces, streamRangesOf } from '../../src/analyses/open.js';
import { parseEventFormat, parseHeaderEvent, parseHeaderPage, findField } from '../../src/record/format.js';
import { PageCursor } from '../../src/record/tracefs/ringbuf.js';

export interface Switch {
  cpu: number;
  /** CLOCK_MONOTONIC ns (the trace clock's cycles; ftrace's `mono`). */
  ts: number;
  /** ns relative to the trace set's time base (the analyses' time), when read from a trace. */
  rel?: number;
  prev: number;
  next: number;
  /** Written by the recorder where the kernel reported no switch (`nstrace_inferred = 1`). */
  inferred?: boolean;
  prevPrio?: number;
  nextPrio?: number;
  /** An inferred switch's `nstrace_prio_unobserved` (1: prev_prio, 2: next_prio not observed). */
  prioUnobserved?: number;
}

/** The `sched_switch` events of a CTF kernel trace, in time order. */
export function tracedSwitches(traceDir: string): Switch[] {
  const ts = TraceSet.open([traceDir]);
  const out: Switch[] = [];
  try {
    const plans = new Map<
      object,
      {
        prev: number;
        next: number;
        prevPrio: number;
        nextPrio: number;
        inferred: number;
        unobs: number;
      } | null
    >();
    for (;;) {
      const r = ts.next();
      if (r === null) break;
      if (r.kind !== 'event') continue;
      let plan = plans.get(r.eventClass);
      if (plan === undefined) {
        plan =
          r.eventClass.name === 'sched_switch'
            ? {
                prev: payloadIndex(r.eventClass, 'prev_tid'),
                next: payloadIndex(r.eventClass, 'next_tid'),
                prevPrio: payloadIndex(r.eventClass, 'prev_prio'),
                nextPrio: payloadIndex(r.eventClass, 'next_prio'),
                inferred: fieldIndex(r.eventClass.fields, '_nstrace_inferred'),
                unobs: fieldIndex(r.eventClass.fields, '_nstrace_prio_unobserved'),
              }
            : null;
        plans.set(r.eventClass, plan);
      }
      if (plan === null) continue;
      const pc = r.stream.streamClass.packetContext;
      const cpu = r.packet.context![fieldIndex(pc, 'cpu_id')] as number;
      if (typeof cpu !== 'number') throw new Error('sched_switch without a cpu_id');
      const sw: Switch = {
        cpu,
        ts: r.cycles,
        rel: r.ts,
        prev: r.payload![plan.prev] as number,
        next: r.payload![plan.next] as number,
        prevPrio: r.payload![plan.prevPrio] as number,
        nextPrio: r.payload![plan.nextPrio] as number,
      };
      if (plan.inferred >= 0 && r.payload![plan.inferred] === 1) sw.inferred = true;
      if (plan.unobs >= 0) sw.prioUnobserved = r.payload![plan.unobs] as number;
      out.push(sw);
    }
  } finally {
    ts.close();
  }
  return out;
}

/** Index of a payload field (LTTng's metadata names them with a leading underscore). */
function payloadIndex(ec: EventClass, name: string): number {
  const i = fieldIndex(ec.fields, `_${name}`);
  const j = i >= 0 ? i : fieldIndex(ec.fields, name);
  if (j < 0) throw new Error(`${ec.name} has no field ${name}`);
  return j;
}

export interface ChainBreak {
  cpu: number;
  /** The switch whose prev_tid is not the previous next_tid. */
  at: Switch;
  /** next_tid of the previous switch on that CPU. */
  expectedPrev: number;
}

/** Holes in each CPU's switch chain. */
export function chainBreaks(switches: readonly Switch[]): ChainBreak[] {
  const last = new Map<number, number>();
  const out: ChainBreak[] = [];
  for (const s of switches) {
    const l = last.get(s.cpu);
    if (l !== undefined && l !== s.prev) out.push({ cpu: s.cpu, at: s, expectedPrev: l });
    last.set(s.cpu, s.next);
  }
  return out;
}

let refCount = 0;

/**
 * The kernel's own record of every `sched_switch`: a tracefs instance with that event only and
 * no pid filter, read raw after it stops (start it before the recording, stop it after).
 */
export class ReferenceSwitches {
  private readonly dir: string;
  private readonly root: string;
  constructor(root: string) {
    this.root = root;
    this.dir = path.join(root, 'instances', `nstrace-test-ref-${process.pid}-${++refCount}`);
  }

  start(): void {
    fs.mkdirSync(this.dir);
    const w = (f: string, v: string): void => fs.writeFileSync(path.join(this.dir, f), v);
    w('tracing_on', '0');
    w('trace_clock', 'mono');
    w('options/overwrite', '0');
    w('buffer_size_kb', '16384');
    w('events/sched/sched_switch/enable', '1');
    w('tracing_on', '1');
  }

  /** Stops it, reads every CPU's buffer, removes the instance. Also returns its lost count. */
  stop(): { switches: Switch[]; lost: number } {
    const w = (f: string, v: string): void => fs.writeFileSync(path.join(this.dir, f), v);
    w('tracing_on', '0');
    try {
      const page = parseHeaderPage(fs.readFileSync(path.join(this.root, 'events/header_page'), 'utf8'), 'hp');
      const header = parseHeaderEvent(
        fs.readFileSync(path.join(this.root, 'events/header_event'), 'utf8'),
        'he',
      );
      const fmt = parseEventFormat(
        fs.readFileSync(path.join(this.root, 'events/sched/sched_switch/format'), 'utf8'),
        'sched',
        'format',
      );
      const offPrev = findField(fmt, 'prev_pid')!.offset;
      const offNext = findField(fmt, 'next_pid')!.offset;
      const pageSize =
        Number(fs.readFileSync(path.join(this.dir, 'buffer_subbuf_size_kb'), 'utf8').trim()) * 1024;
      const out: Switch[] = [];
      let lost = 0;
      const perCpu = fs.readdirSync(path.join(this.dir, 'per_cpu')).filter((d) => /^cpu\d+$/.test(d));
      for (const d of perCpu) {
        const cpu = Number(d.slice(3));
        const stats = fs.readFileSync(path.join(this.dir, 'per_cpu', d, 'stats'), 'utf8');
        for (const k of ['overrun', 'dropped events']) {
          const m = new RegExp(`^${k}: (\\d+)`, 'm').exec(stats);
          if (m) lost += Number(m[1]);
        }
        const fd = fs.openSync(
          path.join(this.dir, 'per_cpu', d, 'trace_pipe_raw'),
          fs.constants.O_RDONLY | fs.constants.O_NONBLOCK,
        );
        const buf = Buffer.alloc(pageSize);
        const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        const cur = new PageCursor(page, header, 0, 0);
        try {
          for (;;) {
            let n: number;
            try {
              n = fs.readSync(fd, buf, 0, pageSize, null);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
              throw e;
            }
            if (n <= 0) break;
            buf.fill(0, n);
            cur.reset(dv, 0, pageSize);
            while (cur.next()) {
              const s = cur.dataOffset;
              if (dv.getUint16(s, true) !== fmt.id) continue;
              out.push({
                cpu,
                ts: cur.ts,
                prev: dv.getInt32(s + offPrev, true),
                next: dv.getInt32(s + offNext, true),
              });
            }
          }
        } finally {
          fs.closeSync(fd);
        }
      }
      out.sort((a, b) => a.ts - b.ts || a.cpu - b.cpu);
      return { switches: out, lost };
    } finally {
      this.remove();
    }
  }

  remove(): void {
    if (!fs.existsSync(this.dir)) return;
    try {
      fs.writeFileSync(path.join(this.dir, 'tracing_on'), '0');
    } catch {
      // removal below is what matters
    }
    fs.rmdirSync(this.dir);
  }
}

/** Instances take their own clock readings: the same switch differs by up to a few µs. */
const SAME_SWITCH_NS = 1_000_000;

/**
 * Compares our switches with the kernel's over our time range, CPU by CPU, in order (the two
 * instances stamp the same switch a few hundred ns apart): from the reference switch matching
 * our first one, every reference switch must be ours, in the same order, until our last.
 * Returns the reference switches missing from ours and ours that the kernel does not have.
 */
export function compareWithReference(
  ours: readonly Switch[],
  ref: readonly Switch[],
): { missing: Switch[]; extra: Switch[]; compared: number } {
  const missing: Switch[] = [];
  const extra: Switch[] = [];
  let compared = 0;
  const cpus = new Set(ours.map((s) => s.cpu));
  const same = (a: Switch, b: Switch): boolean =>
    a.prev === b.prev && a.next === b.next && Math.abs(a.ts - b.ts) < SAME_SWITCH_NS;
  for (const cpu of cpus) {
    const o = ours.filter((s) => s.cpu === cpu);
    const r = ref.filter((s) => s.cpu === cpu);
    // Start: the reference switch closest in time to our first one, with the same tids.
    let j = -1;
    for (let k = 0; k < r.length; k++) {
      if (same(r[k]!, o[0]!) && (j < 0 || Math.abs(r[k]!.ts - o[0]!.ts) < Math.abs(r[j]!.ts - o[0]!.ts)))
        j = k;
    }
    if (j < 0) {
      extra.push(...o);
      continue;
    }
    let i = 0;
    while (i < o.length) {
      const want = r[j];
      if (want !== undefined && same(want, o[i]!)) {
        compared++;
        i++;
        j++;
      } else if (want !== undefined && want.ts < o[i]!.ts) {
        // The kernel has a switch we lack.
        missing.push(want);
        compared++;
        j++;
      } else {
        extra.push(o[i]!);
        i++;
      }
    }
  }
  return { missing, extra, compared };
}

export interface Accounting {
  /** CPUs cputop knows (with a sched_switch). */
  cpus: number;
  /** Sum of the per-TID usage but the idle task's, percent. */
  tidSum: number;
  /**
   * The idle task's (tid 0) usage: lttng-analyses (and nstrace, which follows it) never charges
   * it when switched in, so it is first met as a `prev` and charged from the period start up
   * to its first switch out, whatever ran meanwhile: not CPU usage, left out of the sums.
   */
  idle: number;
  maxCpu: number;
  /** Sum of the per-container usage (the host included) without the idle task's, percent. */
  containerSum: number;
}

/**
 * CPU accounting of a trace by nstrace's cputop (the numbers `nstrace cputop --limit 0` and
 * `nstrace top` print).
 */
export async function cpuAccounting(traceDir: string): Promise<Accounting> {
  const ts = openTraces([traceDir]);
  try {
    const r = await analyse(ts, ['cputop'], { streamRanges: () => streamRangesOf(ts) });
    const c = r.cputop!;
    let tidSum = 0;
    let idle = 0;
    for (const t of c.tids) {
      if (t.tid === 0) idle += t.usage;
      else tidSum += t.usage;
    }
    let containerSum = 0;
    for (const x of c.containers) containerSum += x.usage;
    return {
      cpus: c.cpus.length,
      tidSum,
      idle,
      maxCpu: Math.max(0, ...c.cpus.map((x) => x.usage)),
      containerSum: containerSum - idle,
    };
  } finally {
    ts.close();
  }
}

/**
 * The priorities of the inferred switches against the kernel's own switches: where an inferred
 * switch says a priority was observed (its `nstrace_prio_unobserved` bit is clear) and a reported
 * switch before it showed that task, the value is the latest one shown (priorities change rarely:
 * a mismatch is a wrong value, not a race). Returns the mismatches and how many inferred switches
 * say a priority was not observed (the summary's `inferredPrioUnobserved`). Idle tasks (tid 0)
 * are left out: their priority is the kernel's constant.
 */
export function inferredPrioCheck(switches: readonly Switch[]): { wrong: string[]; unobserved: number } {
  const last = new Map<number, number>();
  const wrong: string[] = [];
  let unobserved = 0;
  for (const s of switches) {
    if (s.inferred !== true) {
      if (s.prevPrio !== undefined) last.set(s.prev, s.prevPrio);
      if (s.nextPrio !== undefined) last.set(s.next, s.nextPrio);
      continue;
    }
    const flags = s.prioUnobserved;
    if (flags === undefined) {
      wrong.push(`inferred switch at ${s.ts} without nstrace_prio_unobserved`);
      continue;
    }
    if (flags !== 0) unobserved++;
    const sides: Array<[number, number | undefined, number]> = [
      [s.prev, s.prevPrio, 1],
      [s.next, s.nextPrio, 2],
    ];
    for (const [tid, prio, bit] of sides) {
      const shown = last.get(tid);
      if (tid === 0 || (flags & bit) !== 0 || shown === undefined) continue;
      if (prio !== shown) wrong.push(`cpu ${s.cpu} at ${s.ts}: tid ${tid} prio ${prio}, last shown ${shown}`);
    }
  }
  return { wrong, unobserved };
}
