/**
 * Per-CPU reading state of the tracefs recorder: the pages read from one CPU's
 * `trace_pipe_raw` and not yet converted, the cursor over them, and the CPU's switch chain.
 */
import type { StreamWriter } from '../../ctf/writer/index.js';
import type { TraceInstance } from '../tracefs.js';
import type { Thread } from '../thread.js';
import type { PageCursor } from './ringbuf.js';

export const TWO32 = 4294967296;

export /** What the switch events of one CPU say runs on it. */
class CpuSched {
  /** Task running per the last sched_switch (its next_tid); -1 before the first one. */
  cur = -1;
  /** Events were lost on this CPU: no more inference (the chain may have lost a real switch). */
  lossy = false;
}

export class CpuReader {
  readonly pool: Buffer;
  sched: CpuSched = new CpuSched();
  readonly pv: DataView;
  readonly queue: Int32Array;
  head = 0;
  count = 0;
  hasCur = false;
  curSlot = -1;
  readUntil = -Infinity;
  lost = 0;
  lastStatLost = 0;
  /** Last thread looked up on this CPU (valid while the table's version is `thVersion`). */
  lastTid = -2;
  lastTh: Thread | undefined = undefined;
  thVersion = -1;
  constructor(
    readonly inst: TraceInstance,
    readonly cpu: number,
    readonly fd: number,
    readonly pageSize: number,
    readonly slots: number,
    readonly cursor: PageCursor,
    readonly stream: StreamWriter,
  ) {
    this.pool = Buffer.alloc(pageSize * slots);
    this.pv = new DataView(this.pool.buffer, this.pool.byteOffset, this.pool.byteLength);
    this.queue = new Int32Array(slots);
  }
}
