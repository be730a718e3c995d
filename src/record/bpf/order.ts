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

export type EmitFn = (
  buf: Uint8Array,
  view: DataView,
  off: number,
  len: number,
  ts: number,
  cpu: number,
) => void;

/** Slots per CPU queue (a power of two, above the depth). */
const SLOTS = 8;
const MASK = SLOTS - 1;

/** A CPU's records not written yet, oldest first, in a circular buffer (logical index k). */
class CpuQueue {
  head = 0;
  n = 0;
  readonly ts = new Float64Array(SLOTS);
  readonly buf: Uint8Array[];
  readonly view: DataView[];
  readonly off = new Int32Array(SLOTS);
  readonly len = new Int32Array(SLOTS);
  /** The entry is a copy (not a view of the ring). */
  readonly own = new Uint8Array(SLOTS);

  constructor(empty: Uint8Array, emptyView: DataView) {
    this.buf = new Array<Uint8Array>(SLOTS).fill(empty);
    this.view = new Array<DataView>(SLOTS).fill(emptyView);
  }

  /** Slot of the k-th oldest entry. */
  at(k: number): number {
    return (this.head + k) & MASK;
  }

  /** Moves the entry of slot `from` to slot `to`. */
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
  /** The view of the ring the records not copied are in. */
  ringView: DataView;

  /**
   * `depth`: records a CPU's queue holds before it writes its oldest (the deepest nesting of
   * programs that can interrupt each other on a CPU, plus one); below SLOTS.
   */
  constructor(
    private readonly emit: EmitFn,
    cpuCount: number,
    private readonly depth = 4,
  ) {
    if (depth >= SLOTS) throw new RangeError(`reorder depth ${depth} >= ${SLOTS}`);
    this.unsettledMark = new Uint8Array(Math.max(cpuCount, 1));
    this.ringView = this.emptyView;
  }

  /**
   * Takes a record of `cpu` at time `ts`: in the ring (`copy` undefined: `buf` is the ring's
   * bytes, viewed by `ringView`), or the caller's copy with its view (kept as it is).
   */
  push(buf: Uint8Array, off: number, len: number, ts: number, cpu: number, copy: DataView | undefined): void {
    let q = this.queues[cpu];
    if (q === undefined) {
      if (cpu >= this.unsettledMark.length) {
        // Not a CPU of the trace: the writer counts it.
        this.emit(buf, copy ?? this.ringView, off, len, ts, cpu);
        return;
      }
      q = this.queues[cpu] = new CpuQueue(this.empty, this.emptyView);
    }
    // In order (nearly always): at the tail. Else moved back past the later ones.
    let k = q.n;
    let slot = q.at(k);
    while (k > 0 && q.ts[q.at(k - 1)]! > ts) {
      const prev = q.at(k - 1);
      q.move(prev, slot);
      slot = prev;
      k--;
    }
    if (k < q.n) this.reordered++;
    q.ts[slot] = ts;
    q.buf[slot] = buf;
    q.view[slot] = copy ?? this.ringView;
    q.off[slot] = off;
    q.len[slot] = len;
    q.own[slot] = copy !== undefined ? 1 : 0;
    q.n++;
    if (copy === undefined && this.unsettledMark[cpu] === 0) {
      this.unsettledMark[cpu] = 1;
      this.unsettled.push(cpu);
    }
    if (q.n > this.depth) this.shift(q, cpu);
  }

  /** Writes the oldest entry of `q`. */
  private shift(q: CpuQueue, cpu: number): void {
    const h = q.head;
    const buf = q.buf[h]!;
    const view = q.view[h]!;
    q.buf[h] = this.empty;
    q.view[h] = this.emptyView;
    q.head = (h + 1) & MASK;
    q.n--;
    this.emit(buf, view, q.off[h]!, q.len[h]!, q.ts[h]!, cpu);
  }

  /** Copies the entries that point into the ring (call before the ring space is released). */
  settle(): void {
    const list = this.unsettled;
    let held = 0;
    for (let j = 0; j < list.length; j++) {
      const cpu = list[j]!;
      this.unsettledMark[cpu] = 0;
      const q = this.queues[cpu]!;
      for (let m = 0; m < q.n; m++) {
        const k = q.at(m);
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
      while (q.n > 0 && q.ts[q.head]! <= limit) this.shift(q, cpu);
    }
  }

  /** Writes everything held. */
  flushAll(): void {
    this.flushUpTo(Infinity);
  }

  /** Time of the oldest entry of `cpu` (Infinity: none). */
  oldest(cpu: number): number {
    const q = this.queues[cpu];
    return q === undefined || q.n === 0 ? Infinity : q.ts[q.head]!;
  }
}
