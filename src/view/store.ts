/**
 * The columnar data behind the timelines: what the collector (collect.ts) keeps of a trace, in
 * typed arrays, and how it is packed into bytes for a static export (`nstrace view --html`) and
 * unpacked in the page. No Node or DOM types: the page bundles this file.
 */

/** One CPU's slices: the thread running, sorted by start, not overlapping. */
export interface Lane {
  readonly cpu: number;
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly uid: Int32Array;
}

export interface ViewStore {
  readonly lanes: Lane[];
  /**
   * Thread state intervals grouped by thread uid: those of uid `u` are at
   * [stOff[u], stOff[u + 1]), sorted by start, not overlapping.
   */
  readonly stOff: Int32Array;
  readonly stStart: Float64Array;
  readonly stEnd: Float64Array;
  readonly stState: Uint8Array;
  readonly stArg: Int32Array;
  /** Container key of each thread uid. */
  readonly uidCkey: Int32Array;
  /** Page allocations: time and thread uid (sorted by time). */
  readonly allocTs: Float64Array;
  readonly allocUid: Int32Array;
  /** Completed system calls: time of the exit, thread uid, 1 when the return value is negative. */
  readonly sysTs: Float64Array;
  readonly sysUid: Int32Array;
  readonly sysErr: Uint8Array;
  /** App spans grouped by thread uid like the states (empty until `nstrace spans` feeds them). */
  readonly spOff: Int32Array;
  readonly spStart: Float64Array;
  readonly spEnd: Float64Array;
  readonly spDepth: Uint8Array;
  readonly spName: Int32Array;
  readonly spanNames: string[];
}

/** A growable column of numbers. */
export class Column<T extends Float64Array | Int32Array | Uint8Array> {
  private buf: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.buf = make(1024);
  }
  push(v: number): void {
    if (this.length === this.buf.length) {
      const b = this.make(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.length++] = v;
  }
  /** The values, trimmed (a copy the column no longer touches). */
  done(): T {
    return this.buf.slice(0, this.length) as T;
  }
}

export const f64 = (): Column<Float64Array> => new Column((n) => new Float64Array(n));
export const i32 = (): Column<Int32Array> => new Column((n) => new Int32Array(n));
export const u8 = (): Column<Uint8Array> => new Column((n) => new Uint8Array(n));

/** Index of the first element of the sorted `a` that is > `v` (in [lo, hi)). */
export function upperBound(a: ArrayLike<number>, v: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m]! <= v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** Index of the first element of the sorted `a` that is >= `v` (in [lo, hi)). */
export function lowerBound(a: ArrayLike<number>, v: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m]! < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** An empty store (no CPU, no thread). */
export function emptyStore(): ViewStore {
  return {
    lanes: [],
    stOff: new Int32Array(1),
    stStart: new Float64Array(0),
    stEnd: new Float64Array(0),
    stState: new Uint8Array(0),
    stArg: new Int32Array(0),
    uidCkey: new Int32Array(0),
    allocTs: new Float64Array(0),
    allocUid: new Int32Array(0),
    sysTs: new Float64Array(0),
    sysUid: new Int32Array(0),
    sysErr: new Uint8Array(0),
    spOff: new Int32Array(1),
    spStart: new Float64Array(0),
    spEnd: new Float64Array(0),
    spDepth: new Uint8Array(0),
    spName: new Int32Array(0),
    spanNames: [],
  };
}

// --- packing (static export) ----------------------------------------------------------------

type Typed = Float64Array | Int32Array | Uint8Array;
const KINDS = { f64: Float64Array, i32: Int32Array, u8: Uint8Array } as const;
type Kind = keyof typeof KINDS;

function kindOf(a: Typed): Kind {
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int32Array) return 'i32';
  return 'u8';
}

interface PackedHeader {
  json: unknown;
  arrays: Array<{ name: string; kind: Kind; length: number; offset: number }>;
  lanes: number[];
}

const ARRAY_FIELDS = [
  'stOff',
  'stStart',
  'stEnd',
  'stState',
  'stArg',
  'uidCkey',
  'allocTs',
  'allocUid',
  'sysTs',
  'sysUid',
  'sysErr',
  'spOff',
  'spStart',
  'spEnd',
  'spDepth',
  'spName',
] as const;

/**
 * Packs a store and a JSON value into one byte array: a 4-byte little-endian header length, the
 * header (JSON, UTF-8), then every array 8-byte aligned.
 */
export function packStore(store: ViewStore, json: unknown): Uint8Array {
  const arrays: Array<[string, Typed]> = [];
  for (const l of store.lanes) {
    arrays.push([`lane${l.cpu}.start`, l.start], [`lane${l.cpu}.end`, l.end], [`lane${l.cpu}.uid`, l.uid]);
  }
  for (const f of ARRAY_FIELDS) arrays.push([f, store[f]]);
  const entries: PackedHeader['arrays'] = [];
  let off = 0;
  for (const [name, a] of arrays) {
    off = (off + 7) & ~7;
    entries.push({ name, kind: kindOf(a), length: a.length, offset: off });
    off += a.byteLength;
  }
  const header: PackedHeader = {
    json: { value: json, spanNames: store.spanNames },
    arrays: entries,
    lanes: store.lanes.map((l) => l.cpu),
  };
  const hb = new TextEncoder().encode(JSON.stringify(header));
  const start = (4 + hb.length + 7) & ~7;
  const out = new Uint8Array(start + off);
  new DataView(out.buffer).setUint32(0, hb.length, true);
  out.set(hb, 4);
  arrays.forEach(([, a], i) => {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), start + entries[i]!.offset);
  });
  return out;
}

/** The inverse of `packStore` (little-endian machines: the page runs where the export was written). */
export function unpackStore(bytes: Uint8Array): { store: ViewStore; json: unknown } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hl = dv.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + hl))) as PackedHeader;
  const start = (4 + hl + 7) & ~7;
  // Copy into an aligned buffer of its own (the bytes may sit at any offset).
  const body = bytes.slice(start);
  const got = new Map<string, Typed>();
  for (const e of header.arrays) {
    const C = KINDS[e.kind];
    got.set(e.name, new C(body.buffer, e.offset, e.length));
  }
  const arr = <T extends Typed>(name: string): T => {
    const a = got.get(name);
    if (a === undefined) throw new Error(`static export: array ${name} missing`);
    return a as T;
  };
  const lanes: Lane[] = header.lanes.map((cpu) => ({
    cpu,
    start: arr<Float64Array>(`lane${cpu}.start`),
    end: arr<Float64Array>(`lane${cpu}.end`),
    uid: arr<Int32Array>(`lane${cpu}.uid`),
  }));
  const j = header.json as { value: unknown; spanNames: string[] };
  const store: ViewStore = {
    lanes,
    stOff: arr('stOff'),
    stStart: arr('stStart'),
    stEnd: arr('stEnd'),
    stState: arr('stState'),
    stArg: arr('stArg'),
    uidCkey: arr('uidCkey'),
    allocTs: arr('allocTs'),
    allocUid: arr('allocUid'),
    sysTs: arr('sysTs'),
    sysUid: arr('sysUid'),
    sysErr: arr('sysErr'),
    spOff: arr('spOff'),
    spStart: arr('spStart'),
    spEnd: arr('spEnd'),
    spDepth: arr('spDepth'),
    spName: arr('spName'),
    spanNames: j.spanNames,
  };
  return { store, json: j.value };
}
