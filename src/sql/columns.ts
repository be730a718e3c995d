/**
 * Growable typed column buffers for the collectors' rows: one typed array per column, doubled
 * when full, so that a row costs a few stores (no JS array growth or element-kind transitions,
 * nothing for the garbage collector) and a column reaches DuckDB as one block of memory
 * (src/sql/duck.ts copies it into data chunks as it is).
 *
 * Unknown values, by array type (what `BuiltColumn` says): NaN in a `Float64Array`, `NULL_I32`
 * in an `Int32Array`; a `Uint8Array` holds booleans (0/1) and has no unknown.
 */

const FIRST = 1024;

/** The unknown value of an `Int32Array` column (-2^31: no id, CPU or code is). */
export const NULL_I32 = -0x80000000;

/** Numbers (ns relative to a base, durations, return values): NaN for unknown. */
export class F64Column {
  private a = new Float64Array(FIRST);
  length = 0;

  push(v: number): void {
    if (this.length === this.a.length) this.a = grow(this.a, new Float64Array(this.a.length * 2));
    this.a[this.length++] = v;
  }

  /** The values pushed (a view, valid until the next push). */
  values(): Float64Array {
    return this.a.subarray(0, this.length);
  }
}

/**
 * 32-bit integers (ids, CPUs, dictionary codes): `NULL_I32` for unknown. As in any `Int32Array`,
 * a value pushed is truncated to an integer (NaN: 0).
 */
export class I32Column {
  private a = new Int32Array(FIRST);
  length = 0;

  push(v: number): void {
    if (this.length === this.a.length) this.a = grow(this.a, new Int32Array(this.a.length * 2));
    this.a[this.length++] = v;
  }

  values(): Int32Array {
    return this.a.subarray(0, this.length);
  }
}

/** Booleans as 0/1. */
export class BoolColumn {
  private a = new Uint8Array(FIRST);
  length = 0;

  push(v: boolean): void {
    if (this.length === this.a.length) this.a = grow(this.a, new Uint8Array(this.a.length * 2));
    this.a[this.length++] = v ? 1 : 0;
  }

  values(): Uint8Array {
    return this.a.subarray(0, this.length);
  }
}

/** Strings as codes into a dictionary of the distinct strings (null: `NULL_I32`). */
export class DictColumn {
  readonly codes = new I32Column();
  readonly dict: string[] = [];
  private readonly index = new Map<string, number>();

  push(v: string | null): void {
    this.codes.push(v === null ? NULL_I32 : this.code(v));
  }

  /** The code of a string (added to the dictionary when new). */
  code(v: string): number {
    let c = this.index.get(v);
    if (c === undefined) {
      c = this.dict.length;
      this.dict.push(v);
      this.index.set(v, c);
    }
    return c;
  }

  get length(): number {
    return this.codes.length;
  }
}

function grow<T extends Float64Array | Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** The arrays one after the other, in a new array (`make`: an array of that length). */
export function concat<T extends Float64Array | Int32Array | Uint8Array>(
  make: (length: number) => T,
  ...parts: readonly T[]
): T {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
