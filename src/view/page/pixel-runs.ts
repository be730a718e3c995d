/**
 * Many intervals drawn at screen-pixel resolution (the CPU and thread rows: a zoomed-out row
 * has thousands): an interval is cut into the part in its first pixel, the whole pixels and the
 * part in its last pixel; a pixel shared by several intervals gets the key that covers most of
 * it, and neighbouring pixels of one key are drawn as one rectangle, by `draw(key, a, b)`.
 */

/** How much of the current pixel each key covers; `best()`: the key that covers most, or -1. */
export interface PixelShares {
  add(key: number, width: number): void;
  best(): number;
  clear(): void;
}

/** Shares of any keys; the best is the first one to reach the largest share. */
export class MapShares implements PixelShares {
  private readonly acc = new Map<number, number>();
  private bestKey = -1;
  private bestW = 0;

  add(key: number, width: number): void {
    const v = (this.acc.get(key) ?? 0) + width;
    this.acc.set(key, v);
    if (v > this.bestW) {
      this.bestW = v;
      this.bestKey = key;
    }
  }

  best(): number {
    return this.bestKey;
  }

  clear(): void {
    this.acc.clear();
    this.bestKey = -1;
    this.bestW = 0;
  }
}

/** Shares of the keys 0 to `keys - 1`; the best is the smallest key with the largest share. */
export class ArrayShares implements PixelShares {
  private readonly acc: Float64Array;

  constructor(keys: number) {
    this.acc = new Float64Array(keys);
  }

  add(key: number, width: number): void {
    this.acc[key]! += width;
  }

  best(): number {
    const acc = this.acc;
    let best = -1;
    let bestW = 0;
    for (let k = 0; k < acc.length; k++) {
      if (acc[k]! > bestW) {
        bestW = acc[k]!;
        best = k;
      }
    }
    return best;
  }

  clear(): void {
    this.acc.fill(0);
  }
}

export class PixelRuns {
  /** The run being extended: its key (-1: none) and its pixel range. */
  private key = -1;
  private ra = 0;
  private rb = 0;
  /** The pixel whose shares are being summed (-1: none). */
  private px = -1;

  constructor(
    private readonly shares: PixelShares,
    private readonly draw: (key: number, a: number, b: number) => void,
  ) {}

  /** Adds [a, b) of `key`, in exact pixel coordinates (a < b). */
  add(key: number, a: number, b: number): void {
    const pa = Math.floor(a);
    const pb = Math.floor(b);
    if (pa === pb) {
      this.share(key, a, b);
      return;
    }
    // The first pixel's part, the whole pixels (all this key's), the last pixel's part.
    this.share(key, a, pa + 1);
    this.endPixel();
    if (pb > pa + 1) this.run(key, pa + 1, pb);
    if (b > pb) this.share(key, pb, b);
  }

  /** Draws all that was added (before drawing something else over it, and at the end). */
  finish(): void {
    this.endPixel();
    this.flush();
  }

  /** [a, b) within one pixel. */
  private share(key: number, a: number, b: number): void {
    const p = Math.floor(a);
    if (p !== this.px) {
      this.endPixel();
      this.px = p;
    }
    this.shares.add(key, b - a);
  }

  private endPixel(): void {
    if (this.px < 0) return;
    const best = this.shares.best();
    if (best >= 0) this.run(best, this.px, this.px + 1);
    this.shares.clear();
    this.px = -1;
  }

  private run(key: number, a: number, b: number): void {
    if (key === this.key && a <= this.rb + 0.01) {
      if (b > this.rb) this.rb = b;
      return;
    }
    this.flush();
    this.key = key;
    this.ra = a;
    this.rb = b;
  }

  private flush(): void {
    if (this.key < 0) return;
    const key = this.key;
    this.key = -1;
    this.draw(key, this.ra, this.rb);
  }
}
