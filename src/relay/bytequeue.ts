/**
 * A FIFO of received socket chunks from which whole messages are cut. TCP hands us arbitrary
 * fragments; this keeps them without copying until a message is complete, and copies only when
 * a message spans chunks. Small fragments are copied together into 16 KiB buffers, so that a
 * peer sending a command a few bytes at a time costs bytes, not a buffer object per fragment.
 */
const SMALL = 4096;
const TAIL_CAPACITY = 16 * 1024;

export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // read offset inside chunks[0]
  private total = 0;
  /** Buffer that small fragments are copied into; the last chunk is a view of it when `tailIsLast`. */
  private tail: Buffer | null = null;
  private tailStart = 0;
  private tailUsed = 0;
  private tailIsLast = false;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    this.total += n;
    if (n >= SMALL) {
      this.chunks.push(chunk);
      this.tailIsLast = false;
      return;
    }
    const t = this.tail;
    if (this.tailIsLast && t !== null && this.tailUsed + n <= t.length) {
      chunk.copy(t, this.tailUsed);
      this.tailUsed += n;
      this.chunks[this.chunks.length - 1] = t.subarray(this.tailStart, this.tailUsed);
      return;
    }
    const fresh = Buffer.allocUnsafeSlow(TAIL_CAPACITY);
    chunk.copy(fresh, 0);
    this.tail = fresh;
    this.tailStart = 0;
    this.tailUsed = n;
    this.tailIsLast = true;
    this.chunks.push(fresh.subarray(0, n));
  }

  /** The next `n` bytes as one buffer (a view when they sit in one chunk), consumed. */
  take(n: number): Buffer {
    if (n > this.total) throw new RangeError(`ByteQueue.take(${n}) with ${this.total} buffered`);
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    const avail = first.length - this.head;
    if (avail >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.head, n - o);
      c.copy(out, o, this.head, this.head + k);
      o += k;
      this.advance(k);
    }
    return out;
  }

  /** Up to `n` bytes from the first chunk (a view, no copy), consumed. */
  takeSome(n: number): Buffer {
    const first = this.chunks[0];
    if (first === undefined || n <= 0) return Buffer.alloc(0);
    const k = Math.min(first.length - this.head, n);
    const out = first.subarray(this.head, this.head + k);
    this.advance(k);
    return out;
  }

  /** Looks at `n` bytes without consuming them (copies when they span chunks). */
  peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    let i = 0;
    let h = this.head;
    while (o < n) {
      const c = this.chunks[i]!;
      const k = Math.min(c.length - h, n - o);
      c.copy(out, o, h, h + k);
      o += k;
      i++;
      h = 0;
    }
    return out;
  }

  /** Drops `n` bytes. */
  skip(n: number): void {
    let left = Math.min(n, this.total);
    while (left > 0) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.head, left);
      this.advance(k);
      left -= k;
    }
  }

  /** Copies the buffered bytes that live in `shared` (a read buffer about to be reused). */
  detach(shared: ArrayBufferLike): void {
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      if (c.buffer !== shared) continue;
      const from = i === 0 ? this.head : 0;
      this.chunks[i] = Buffer.from(c.subarray(from));
      if (i === 0) this.head = 0;
    }
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.total = 0;
    this.tail = null;
    this.tailIsLast = false;
  }

  private advance(k: number): void {
    this.head += k;
    this.total -= k;
    if (this.head === this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
      if (this.chunks.length === 0) this.tailIsLast = false;
    }
  }
}
