/**
 * Puts each CPU's records back in time order before they are written (the bpf backend).
 *
 * The programs read the clock just before they hand a record to the ring (layout.ts), and all
 * CPUs share one ring. An interrupt between a program's clock read and its ring write runs its
 * own programs first: their later records land in the ring before the interrupted one's earlier
 * record. Nesting is bounded (task, softirq, hardirq, NMI), so a window of a few records per CPU,
 * kept sorted by time, gives every record its place; records also leave the window once they are
 * older than a margin (a quiet CPU). The recorder used to write such a record at its CPU's
 * previous time instead: a timestamp nobody observed.
 *
 * Records in the window point into the ring while the batch that delivered them is being read
 * (no copy on the hot path); `settle()` copies those still waiting before the ring space is
 * released. Pure logic: the recorder gives it a writer.
 */

export type EmitFn = (buf: Uint8Array, view: DataView, off: number, len: number, ts: number, cpu: number) => void;

class CpuQueue {
  n = 0;
  readonly ts: Float64Array;
  readonly buf: Uint8Array[];
  readonly view: DataView[];
  readonly off: Int32Array;
  readonly len: Int32Array;
  /** The entry is a copy (not a view of the ring). */
  readonly own: Uint8Array;

  constructor(size: number, empty: Uint8Array, emptyView: DataView) {
    this.ts = new Float64Array(size);
    this.buf = new Array<Uint8Array>(size).fill(empty);
    this.view = new Array<DataView>(size).fill(emptyView);
    this.off = new Int32Array(size);
    this.len = new Int32Array(size);
    this.own = new Uint8Array(size);
  }

  /** Moves entry `from` to slot `to`. */
  move(from: number, to: number): void {
    this.ts[to] = this.ts[from]!;
    this.buf[to] = this.buf[from]!;
    this.view[to] = this.view[from]!;
    this.off[to] = this.off[from]!;
    this.len[to] = this.len[from]!;
    this.own[to] = this.own[from]!;
  }
}

export class ReorderWindow {
  private readonly queues: Array<CpuQueue | undefined> = [];
  private readonly empty = new Uint8Array(0);
  private readonly emptyView = new DataView(new ArrayBuffer(0));
  /** CPUs whose queue holds an entry pointing into the ring. */
  private readonly unsettled: number[] = [];
  private readonly unsettledMark: Uint8Array;
  /** Records that came behind a later record of their CPU and were put back in place. */
  reordered = 0;
  /** Records held at most, all CPUs (the memory bound: depth x CPUs). */
  maxHeld = 0;

  /**
   * `depth`: records a CPU's queue holds before it writes its oldest (the deepest nesting of
   * programs that can interrupt each other on a CPU, plus one).
   */
  constructor(
    private readonly emit: EmitFn,
    cpuCount: number,
    private readonly depth = 4,
  ) {
    this.unsettledMark = new Uint8Array(Math.max(cpuCount, 1));
  }

  /** Takes a record of `cpu` at time `ts`; `own`: `buf` is the caller's copy (kept as is). */
  push(buf: Uint8Array, view: DataView, off: number, len: number, ts: number, cpu: number, own: boolean): void {
    let q = this.queues[cpu];
    if (q === undefined) {
      if (cpu >= this.unsettledMark.length) {
        // Not a CPU of the trace: the writer counts it.
        this.emit(buf, view, off, len, ts, cpu);
        return;
      }
      q = this.queues[cpu] = new CpuQueue(this.depth + 1, this.empty, this.emptyView);
    }
    let i = q.n;
    while (i > 0 && q.ts[i - 1]! > ts) {
      q.move(i - 1, i);
      i--;
    }
    if (i < q.n) this.reordered++;
    q.ts[i] = ts;
    q.buf[i] = buf;
    q.view[i] = view;
    q.off[i] = off;
    q.len[i] = len;
    q.own[i] = own ? 1 : 0;
    q.n++;
    if (!own && this.unsettledMark[cpu] === 0) {
      this.unsettledMark[cpu] = 1;
      this.unsettled.push(cpu);
    }
    if (q.n > this.depth) this.shift(q, cpu);
  }

  /** Writes the oldest entry of `q`. */
  private shift(q: CpuQueue, cpu: number): void {
    const buf = q.buf[0]!;
    const view = q.view[0]!;
    const off = q.off[0]!;
    const len = q.len[0]!;
    const ts = q.ts[0]!;
    for (let k = 1; k < q.n; k++) q.move(k, k - 1);
    q.n--;
    q.buf[q.n] = this.empty;
    q.view[q.n] = this.emptyView;
    this.emit(buf, view, off, len, ts, cpu);
  }

  /** Copies the entries that point into the ring (call before the ring space is released). */
  settle(): void {
    const list = this.unsettled;
    let held = 0;
    for (let j = 0; j < list.length; j++) {
      const cpu = list[j]!;
      this.unsettledMark[cpu] = 0;
      const q = this.queues[cpu]!;
      for (let k = 0; k < q.n; k++) {
        if (q.own[k] === 1) continue;
        const off = q.off[k]!;
        const copy = q.buf[k]!.slice(off, off + q.len[k]!);
        q.buf[k] = copy;
        q.view[k] = new DataView(copy.buffer);
        q.off[k] = 0;
        q.own[k] = 1;
      }
    }
    list.length = 0;
    for (const q of this.queues) if (q !== undefined) held += q.n;
    if (held > this.maxHeld) this.maxHeld = held;
  }

  /** Writes every entry of time ≤ `limit`, CPU by CPU. */
  flushUpTo(limit: number): void {
    for (let cpu = 0; cpu < this.queues.length; cpu++) {
      const q = this.queues[cpu];
      if (q === undefined) continue;
      while (q.n > 0 && q.ts[0]! <= limit) this.shift(q, cpu);
    }
  }

  /** Writes everything held. */
  flushAll(): void {
    this.flushUpTo(Infinity);
  }

  /** Time of the oldest entry of `cpu` (Infinity: none). */
  oldest(cpu: number): number {
    const q = this.queues[cpu];
    return q === undefined || q.n === 0 ? Infinity : q.ts[0]!;
  }
}
