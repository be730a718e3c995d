/**
 * The `thread_state` rows other than Running (those are the `sched_slice` rows): what each
 * thread was doing off the CPU, as Perfetto's trace_processor keeps it, by the events of the
 * analysed period:
 *
 * - a switch out starts the state its `prev_state` gives (Linux >= 4.14, ftrace and lttng-modules
 *   alike: 0 runnable, 0x100 preempted, else the lowest TASK_REPORT bit: S D T t X Z P I);
 * - a wakeup (`sched_waking`, `sched_wakeup`, `sched_wakeup_new`) of a thread that is not
 *   running ends its state and starts R, unless an R begun by a wakeup is already open: the
 *   first wakeup since the thread's last switch in, as lttng-analyses' sched analysis takes it
 *   (a thread running on a CPU is not woken); the waker is the thread running on the CPU of the
 *   wakeup;
 * - a switch in ends the state (and starts a Running row, a slice).
 *
 * Nothing is known of a thread before its first event: its first row starts there.
 */
import { BoolColumn, DictColumn, F64Column, I32Column, IntervalColumns, NULL_I32 } from './columns.js';

/** Column buffers of the rows, before the threads' columns are attached (`cpu`: NULL_I32 for none). */
export class StateColumns extends IntervalColumns {
  readonly state = new DictColumn();
  readonly wakeup = new BoolColumn();
  /** NULL_I32: none. */
  readonly waker = new I32Column();
  /** NaN: none. */
  readonly prevState = new F64Column();
  readonly endKnown = new BoolColumn();
}

/** A CPU or thread uid, or none (negative, NaN). */
const id = (v: number): number => (v < 0 || Number.isNaN(v) ? NULL_I32 : v);

const STATE_BITS = ['S', 'D', 'T', 't', 'X', 'Z', 'P', 'I'];

/** A `prev_state` as a state letter (Perfetto's). */
export function stateOf(prevState: number): string {
  if (prevState === 0) return 'R';
  if (prevState === 0x100) return 'R+';
  for (let i = 0; i < STATE_BITS.length; i++) if ((prevState & (1 << i)) !== 0) return STATE_BITS[i]!;
  return '?';
}

export class ThreadStates {
  readonly rows = new StateColumns();
  // The open row of each thread uid (since: NaN when none).
  private since: number[] = [];
  private state: string[] = [];
  private cpu: number[] = [];
  private woken: boolean[] = [];
  private waker: number[] = [];
  private prev: number[] = [];

  private close(uid: number, ts: number, endKnown: boolean): void {
    const s = this.since[uid];
    if (s === undefined || Number.isNaN(s)) return;
    const r = this.rows;
    r.ts.push(s);
    r.dur.push(ts - s);
    r.uid.push(uid);
    r.state.push(this.state[uid]!);
    r.cpu.push(id(this.cpu[uid]!));
    r.wakeup.push(this.woken[uid]!);
    r.waker.push(id(this.waker[uid]!));
    const p = this.prev[uid]!;
    r.prevState.push(p < 0 ? NaN : p);
    r.endKnown.push(endKnown);
    this.since[uid] = NaN;
  }

  private open(
    uid: number,
    ts: number,
    state: string,
    cpu: number,
    woken: boolean,
    waker: number,
    prev: number,
  ): void {
    this.since[uid] = ts;
    this.state[uid] = state;
    this.cpu[uid] = cpu;
    this.woken[uid] = woken;
    this.waker[uid] = waker;
    this.prev[uid] = prev;
  }

  /** A switch out of the thread (not the idle task) on `cpu`. */
  switchOut(uid: number, ts: number, cpu: number, prevState: number): void {
    this.close(uid, ts, true);
    const st = stateOf(prevState);
    this.open(uid, ts, st, st === 'R+' ? cpu : -1, false, -1, prevState);
  }

  switchIn(uid: number, ts: number): void {
    this.close(uid, ts, true);
  }

  /** A wakeup of a thread that is not running; `waker`: the uid running on the wakeup's CPU (-1: none). */
  wakeup(uid: number, ts: number, waker: number): void {
    const s = this.since[uid];
    if (s !== undefined && !Number.isNaN(s) && this.woken[uid] === true) return;
    this.close(uid, ts, true);
    this.open(uid, ts, 'R', -1, true, waker, NaN);
  }

  finalize(lastTs: number): void {
    for (let uid = 0; uid < this.since.length; uid++) this.close(uid, lastTs, false);
  }
}
