/**
 * The low-latency watcher: what ftrace does not record (namespace inodes of new tasks, the
 * strings syscalls point to) can only be read from /proc, and a read is worth writing only if
 * it provably shows what the event saw (watch-logic.ts, ADR 0165).
 *
 * A second, tiny tracefs instance carries only the events that need it (task_newtask,
 * unshare/setns exits, the entries of syscalls with string arguments) and those that can void
 * a read (those syscalls' exits, exec, exit). A worker thread polls it every 2 ms:
 * - a string is copied from `/proc/<tid>/mem` only while `/proc/<tid>/syscall` shows the
 *   thread blocked in that very syscall with the same arguments, before and after the copy,
 *   the same task (start time) throughout, and the address space opened in between; the copy
 *   then waits until the trace shows that the thread did not leave the syscall (no exit, exec
 *   or exit of the thread) between the event and the last check;
 * - a namespace snapshot (`/proc/<tid>/status`, `ns/*`) keeps the values no unshare/setns
 *   (nor, for the time namespace, exec) of the task came to change in between.
 * Results (and the reason when there is none) go to the main thread, which matches them with
 * the same events of the main instances (same tid, timestamps within a fraction of a ms).
 */
import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import fs from 'node:fs';
import { clockTicksPerSec } from '../proc.js';
import { watchLogic } from './watch-logic.js';
import { workerMain, type Msg, type NsSnapshot, type StrCapture, type WorkerInit } from './watch-worker.js';

/** The worker's settings the recorder gives (the watcher adds the channel and the clock tick). */
export interface WatcherOptions
  extends
    Omit<WorkerInit, 'port' | 'shared' | 'clkTck' | 'pollMs' | 'maxAgeNs'>,
    Partial<Pick<WorkerInit, 'pollMs' | 'maxAgeNs'>> {
  /** Called if the worker dies (the recorder then goes on without it). */
  onError?: (err: unknown) => void;
}

/** Timestamps of the same tracepoint hit in two instances differ by the two clock reads. */
const MATCH_WINDOW_NS = 200_000;

export class Watcher {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly shared = new SharedArrayBuffer(8);
  /** Everything known up to this time (relative ns) has been received. */
  progress = -Infinity;
  private readonly ns = new Map<number, NsSnapshot[]>();
  private readonly strs = new Map<number, StrCapture[]>();
  stats = {
    strEvents: 0,
    strOk: 0,
    late: 0,
    lost: 0,
    matched: 0,
    unmatched: 0,
    /** Unmatched, though a result of the same task (and pointer) was there, further than the window. */
    outsideWindow: 0,
    /** Results forgotten unclaimed (their events were not written, or came too late). */
    pruned: 0,
    /** Times the converter went on without the worker (no progress from it for seconds). */
    starved: 0,
  };
  private exited = false;
  private error: unknown;

  constructor(o: WatcherOptions) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const { onError, pollMs, maxAgeNs, ...given } = o;
    const init: WorkerInit = {
      ...given,
      port: port2,
      shared: this.shared,
      pollMs: pollMs ?? 2,
      maxAgeNs: maxAgeNs ?? 2_000_000_000,
      clkTck: clockTicksPerSec(),
    };
    // The worker runs the same verification code as the tests (watch-logic.ts).
    this.worker = new Worker(`(${workerMain.toString()})((${watchLogic.toString()})())`, {
      eval: true,
      workerData: init,
      transferList: [port2],
    });
    this.worker.on('error', (e) => {
      this.error = e;
      this.exited = true;
      onError?.(e);
    });
    this.worker.on('exit', () => {
      this.exited = true;
    });
  }

  /**
   * Pulls every pending message (synchronously) and returns the time up to which every
   * watched event has been handled: the converter waits for it.
   */
  drain(): number {
    this.receive();
    if (this.exited) this.progress = Infinity;
    // A worker that stopped making progress (starved for seconds) must not stall the converter.
    if (Date.now() - this.progressAt > 3000) {
      this.stats.starved++;
      return Infinity;
    }
    return this.progress;
  }

  private progressAt = Date.now();

  private receive(): void {
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const msg = m.message as Msg;
      for (const r of msg.results) {
        const map = r.kind === 'ns' ? this.ns : this.strs;
        let l = map.get(r.tid);
        if (!l) map.set(r.tid, (l = []));
        (l as Array<typeof r>).push(r);
      }
      if (msg.progress > this.progress) {
        this.progress = msg.progress;
        this.progressAt = Date.now();
      }
      this.stats.strEvents = msg.stats.strEvents;
      this.stats.strOk = msg.stats.strOk;
      this.stats.late = msg.stats.late;
      this.stats.lost = msg.stats.lost;
    }
  }

  get failed(): unknown {
    return this.error;
  }

  private take<T extends { ts: number }>(
    map: Map<number, T[]>,
    tid: number,
    ts: number,
    ok: (x: T) => boolean,
  ): T | undefined {
    const l = map.get(tid);
    if (!l) return undefined;
    // Results of one tid arrive in no strict time order (reads settle when they can).
    // The same tracepoint hit gives (almost) the same timestamp in both instances: take the
    // closest result, not the first in the window (a task's earlier syscall may be close too).
    let best = -1;
    let bestD = Infinity;
    let near = false;
    for (let k = 0; k < l.length; k++) {
      const x = l[k]!;
      const dist = Math.abs(x.ts - ts);
      if (!ok(x)) continue;
      if (dist <= MATCH_WINDOW_NS && dist < bestD) {
        best = k;
        bestD = dist;
      } else near = true;
    }
    if (best < 0) {
      if (near) this.stats.outsideWindow++;
      return undefined;
    }
    const x = l[best]!;
    l.splice(best, 1);
    if (l.length === 0) map.delete(tid);
    return x;
  }

  /**
   * The /proc snapshot taken for an event of `tid` at `ts` (child of a newtask, or
   * unshare/setns), with the mask of the values that hold for it.
   */
  snapshot(tid: number, ts: number): NsSnapshot | undefined {
    const r = this.take(this.ns, tid, ts, () => true);
    if (r) this.stats.matched++;
    else this.stats.unmatched++;
    return r;
  }

  /** The watcher's verdict on the string the syscall of `tid` at `ts` pointed to at `ptr`. */
  string(tid: number, ts: number, ptr: number): StrCapture | undefined {
    const r = this.take(this.strs, tid, ts, (x) => x.ptr === ptr);
    if (r) this.stats.matched++;
    else this.stats.unmatched++;
    return r;
  }

  /** Forgets results older than `ts` that nothing claimed (tasks whose events were not written). */
  prune(ts: number): void {
    for (const map of [this.ns, this.strs] as Array<Map<number, Array<{ ts: number }>>>) {
      for (const [tid, l] of map) {
        let keep = 0;
        for (const x of l) if (x.ts >= ts) l[keep++] = x;
        this.stats.pruned += l.length - keep;
        l.length = keep;
        if (keep === 0) map.delete(tid);
      }
    }
  }

  /** Asks the worker to make one last pass and stop. */
  requestStop(): void {
    Atomics.store(new Int32Array(this.shared, 0, 1), 0, 1);
  }

  /** Waits for the worker's last pass (after requestStop) and takes its results. */
  async stop(): Promise<void> {
    this.requestStop();
    if (!this.exited) {
      await new Promise<void>((res) => {
        const t = setTimeout(() => {
          void this.worker.terminate().then(() => res());
        }, 5000);
        this.worker.once('exit', () => {
          clearTimeout(t);
          res();
        });
      });
    }
    this.drain();
  }
}

/** True when `file` can be opened (per-CPU files of offline CPUs may be missing). */
export function readable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
