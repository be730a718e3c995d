/**
 * Typed column buffers for the collectors' rows: a column is a list of typed-array blocks of
 * `BLOCK` values, so that a row costs a few stores (no JS array growth or element-kind
 * transitions, nothing for the garbage collector), filling a column touches its memory once (no
 * copy when it grows: doubling one array touched 2.5x the memory, page faults that cost as much
 * as the stores in this VM), and DuckDB gets each 2048-row chunk as one block of memory
 * (src/sql/duck.ts).
 *
 * Unknown values, by array type (what `BuiltColumn` says): NaN in a `Float64Array`, `NULL_I32`
 * in an `Int32Array`; a `Uint8Array` holds booleans (0/1) and has no unknown.
 */
import { Buffer } from 'node:buffer';
import { StringCodes } from '../util/string-codes.js';

export type TypedArray = Float64Array | Int32Array | Uint8Array;

/** Values per block: a multiple of DuckDB's data chunk (2048 rows), so a chunk is in one block. */
export const BLOCK = 1 << 16;

/** The unknown value of an `Int32Array` column (-2^31: no id, CPU or code is). */
export const NULL_I32 = -0x80000000;

/** A column's values: blocks of `BLOCK` values, the last one holding the rest. */
export class Typed<T extends TypedArray = TypedArray> {
  constructor(
    readonly blocks: readonly T[],
    readonly length: number,
  ) {}

  /**
   * One array as a column (any length), in views of `BLOCK` values: the scan that hands DuckDB
   * a chunk finds it in block `row / BLOCK` (src/sql/duck.ts). A single block of more than
   * `BLOCK` values broke every table past 65,536 rows made this way (`thread_state`, whose
   * columns are built by `concat`: "Cannot read properties of undefined" on a 4.3 M-event
   * recording).
   */
  static of<T extends TypedArray>(a: T): Typed<T> {
    if (a.length <= BLOCK) return new Typed([a], a.length);
    const blocks: T[] = [];
    for (let i = 0; i < a.length; i += BLOCK) blocks.push(a.subarray(i, i + BLOCK) as T);
    return new Typed(blocks, a.length);
  }

  /** Whether the values are float64, int32 or booleans. */
  get kind(): 'f64' | 'i32' | 'u8' {
    const b = this.blocks[0];
    return b instanceof Float64Array ? 'f64' : b instanceof Int32Array ? 'i32' : 'u8';
  }

  /** Whether every value is unknown (true for none). */
  allNull(): boolean {
    for (const b of this.blocks) {
      if (b instanceof Float64Array) {
        for (let i = 0; i < b.length; i++) if (!Number.isNaN(b[i])) return false;
      } else if (b instanceof Int32Array) {
        for (let i = 0; i < b.length; i++) if (b[i] !== NULL_I32) return false;
      } else if (b.length > 0) return false;
    }
    return true;
  }
}

class BlockColumn<T extends TypedArray> {
  private readonly full: T[] = [];
  protected cur: T;
  protected pos = 0;

  constructor(private readonly make: (length: number) => T) {
    this.cur = make(BLOCK);
  }

  /** A new block when the current one is full. */
  protected next(): void {
    this.full.push(this.cur);
    this.cur = this.make(BLOCK);
    this.pos = 0;
  }

  get length(): number {
    return this.full.length * BLOCK + this.pos;
  }

  /** Block `b` (values `b * BLOCK` on; the last one is the current block, in full). */
  block(b: number): T {
    return b === this.full.length ? this.cur : this.full[b]!;
  }

  /** The values pushed (views, valid until the next push). */
  values(): Typed<T> {
    return new Typed([...this.full, this.cur.subarray(0, this.pos) as T], this.length);
  }

  /** The values pushed, in one new array. */
  array(): T {
    const out = this.make(this.length);
    let off = 0;
    for (const b of this.values().blocks) {
      out.set(b, off);
      off += b.length;
    }
    return out;
  }
}

// Each column type has its own push: a store into one typed-array type stays monomorphic in the
// collectors' hot paths (a shared push measured about 1.6x slower).

/** Numbers (ns relative to a base, durations, return values): NaN for unknown. */
export class F64Column extends BlockColumn<Float64Array> {
  constructor() {
    super((n) => new Float64Array(n));
  }

  push(v: number): void {
    if (this.pos === BLOCK) this.next();
    this.cur[this.pos++] = v;
  }
}

/**
 * 32-bit integers (ids, CPUs, dictionary codes): `NULL_I32` for unknown. As in any `Int32Array`,
 * a value pushed is truncated to an integer (NaN: 0).
 */
export class I32Column extends BlockColumn<Int32Array> {
  constructor() {
    super((n) => new Int32Array(n));
  }

  /** NaN (an unknown number: a CPU the trace does not say) is NULL, not the 0 a cast makes. */
  push(v: number): void {
    if (this.pos === BLOCK) this.next();
    this.cur[this.pos++] = v === v ? v : NULL_I32;
  }
}

/** Booleans as 0/1. */
export class BoolColumn extends BlockColumn<Uint8Array> {
  constructor() {
    super((n) => new Uint8Array(n));
  }

  push(v: boolean): void {
    if (this.pos === BLOCK) this.next();
    this.cur[this.pos++] = v ? 1 : 0;
  }
}

/** Strings as codes into a dictionary of the distinct strings (`strings`; null: `NULL_I32`). */
export class DictColumn extends StringCodes {
  readonly codes = new I32Column();

  push(v: string | null): void {
    this.codes.push(v === null ? NULL_I32 : this.code(v));
  }

  get length(): number {
    return this.codes.length;
  }
}

/**
 * The columns every collected interval has (slices, syscalls, thread states): its CPU, start
 * and duration (ns from the trace's base) and thread uid.
 */
export class IntervalColumns {
  readonly cpu = new I32Column();
  readonly ts = new F64Column();
  readonly dur = new F64Column();
  readonly uid = new I32Column();
}

/** The arrays one after the other, as a column (`make`: an array of that length). */
export function concat<T extends TypedArray>(make: (length: number) => T, ...parts: readonly T[]): Typed<T> {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return Typed.of(out);
}

/** Bytes per block of a `TextColumn` (a longer string gets a block of its own size). */
export const TEXT_BLOCK = 1 << 20;

/**
 * Strings (null: unknown) as UTF-8 bytes in blocks, with each row's block, offset and length in
 * typed columns: held outside the JavaScript heap, at their UTF-8 size. The `event` table's
 * JSON text is most of a large trace's rows: as JavaScript strings, built by concatenation,
 * a 4.3 M-event recording's took more than V8's 4 GB heap (`nstrace sql` stopped, out of
 * memory). `slice` gives DuckDB the strings of one chunk at a time.
 */
export class TextColumn {
  private readonly blocks: Buffer[] = [];
  private cur: Buffer = Buffer.allocUnsafe(TEXT_BLOCK);
  private used = 0;
  private readonly blk = new I32Column();
  private readonly pos = new I32Column();
  /** Byte length; `NULL_I32`: null. */
  private readonly len = new I32Column();
  private nonNull = 0;

  get length(): number {
    return this.len.length;
  }

  push(s: string | null): void {
    if (s === null) {
      this.blk.push(0);
      this.pos.push(0);
      this.len.push(NaN);
      return;
    }
    // A UTF-16 code unit takes at most 3 UTF-8 bytes.
    const max = s.length * 3;
    if (this.used + max > this.cur.length) {
      this.blocks.push(this.cur.subarray(0, this.used));
      this.cur = Buffer.allocUnsafe(Math.max(TEXT_BLOCK, max));
      this.used = 0;
    }
    const n = this.cur.write(s, this.used, 'utf8');
    this.blk.push(this.blocks.length);
    this.pos.push(this.used);
    this.len.push(n);
    this.used += n;
    this.nonNull++;
  }

  /** Whether every value is null (true for none). */
  allNull(): boolean {
    return this.nonNull === 0;
  }

  /** Rows `off` to `off + n` as strings (null: unknown). */
  slice(off: number, n: number): Array<string | null> {
    const out = new Array<string | null>(n);
    for (let i = 0; i < n; i++) out[i] = this.at(off + i);
    return out;
  }

  /** Row `i`'s string. */
  at(i: number): string | null {
    const b = Math.floor(i / BLOCK);
    const j = i % BLOCK;
    const len = this.len.block(b)[j]!;
    if (len === NULL_I32) return null;
    const k = this.blk.block(b)[j]!;
    const buf = k === this.blocks.length ? this.cur : this.blocks[k]!;
    const p = this.pos.block(b)[j]!;
    return buf.toString('utf8', p, p + len);
  }
}
