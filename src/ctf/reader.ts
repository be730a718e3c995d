/**
 * Opens CTF traces and merges their streams by time, as `babeltrace2 PATH...` does: every
 * directory holding a `metadata` file below the given paths is a trace; traces sharing a UUID
 * are merged into one (LTTng session rotation chunks); stream files of the same stream
 * (tracefile rotation) are chained; events and lost-event reports come out in time order with
 * babeltrace2's tie-breaking.
 */
import { existsSync, opendirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { NstraceError, TraceFormatError } from '../util/errors.js';
import type { DiscardedRecord, EventRecord, StreamInstance, TimeBase, Trace, TraceRecord } from './event.js';
import type { ClockClass, EventClass, StreamClass, TraceClass } from './ir.js';
import { TracePlan } from './decode/plan.js';
import {
  HEAD_DISCARD,
  HEAD_END,
  HEAD_EVENT,
  StreamCursor,
  type TracerQuirks,
  firstPacketProps,
} from './stream-cursor.js';

import { readMetadataFile } from './metadata/index.js';

export interface OpenOptions {
  /** Added to every clock's offset, like babeltrace2's `--clock-offset` (seconds). */
  clockOffsetSeconds?: number;
  /** Added to every clock's offset, like babeltrace2's `--clock-offset-ns`. */
  clockOffsetNs?: number;
  /** Target bytes of stream data held in memory over all streams (default 16 MiB). */
  memoryBudget?: number;
  /** Window of each stream, overriding the one derived from `memoryBudget` (tests, tuning). */
  windowBytes?: number;
  /**
   * Added to the clock offset of one trace (ns): puts traces of one machine on one clock
   * (src/model/machines.ts). Not a babeltrace2 option: `print` never sets it.
   */
  clockShiftNs?: (trace: { readonly path: string; readonly cls: TraceClass }) => bigint;
  /**
   * Order of simultaneous events of different streams: `babeltrace2` (default, deterministic
   * by stream) or `babeltrace1`, whose heap (lib/prio_heap, streams inserted per stream class in
   * directory order, ties "greater" whenever the file paths differ) lttng-analyses reads through.
   */
  order?: 'babeltrace2' | 'babeltrace1';
}

/** A trace found on disk, before opening. */
export interface FoundTrace {
  dir: string;
  /** Path relative to the input path it was found under ('' when the input is the trace). */
  suffix: string;
}

/** Finds the trace directories below `input` (the input itself if it holds a `metadata`). */
export function findTraces(input: string): FoundTrace[] {
  const root = resolve(input);
  if (!existsSync(root)) throw new NstraceError(`${input}: no such file or directory`);
  const st = statSync(root);
  if (!st.isDirectory()) {
    throw new NstraceError(
      `${input}: not a directory (give the directory that holds the trace's \`metadata\` file)`,
    );
  }
  const out: FoundTrace[] = [];
  const walk = (dir: string, depth: number): void => {
    if (existsSync(join(dir, 'metadata')) && statSync(join(dir, 'metadata')).isFile()) {
      out.push({ dir, suffix: relative(root, dir) });
      return;
    }
    if (depth > 32) return;
    let names: string[];
    try {
      names = readdirRaw(dir);
    } catch {
      return;
    }
    names.sort();
    for (const n of names) {
      const p = join(dir, n);
      let s;
      try {
        s = statSync(p);
      } catch {
        continue;
      }
      if (s.isDirectory()) walk(p, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/** Directory entries in the order the file system returns them (like g_dir_read_name). */
function readdirRaw(dir: string): string[] {
  const d = opendirSync(dir);
  const names: string[] = [];
  try {
    for (let e = d.readSync(); e !== null; e = d.readSync()) names.push(e.name);
  } finally {
    d.closeSync();
  }
  return names;
}

function uuidHex(u: Uint8Array | undefined): string | undefined {
  if (u === undefined) return undefined;
  return Buffer.from(u).toString('hex');
}

interface StreamFile {
  path: string;
  size: number;
  beginNs: bigint | undefined;
  /** Position in the directory listing (raw readdir order). */
  dirPos: number;
}

interface Group {
  sc: StreamClass;
  /** stream_instance_id, or -1 for a file that forms its own stream. */
  instanceId: number;
  files: StreamFile[];
}

/** Loaded trace: a metadata and its (possibly merged) stream file groups. */
interface LoadedTrace {
  trace: Trace;
  plan: TracePlan;
  groups: Group[];
  quirks: TracerQuirks;
}

const NS = 1_000_000_000n;

/** Clock offset from the origin in ns, normalised like babeltrace2 (offset cycles < freq). */
export function clockBaseNs(
  c: ClockClass,
  opts: Pick<OpenOptions, 'clockOffsetSeconds' | 'clockOffsetNs'>,
): bigint {
  let s = BigInt(Math.trunc(c.offsetSeconds));
  let cyc = c.offsetCycles;
  if (cyc >= c.freq) {
    const whole = Math.floor(cyc / c.freq);
    s += BigInt(whole);
    cyc -= whole * c.freq;
  }
  const cycNs = c.freq === 1e9 ? BigInt(cyc) : BigInt(Math.trunc((1e9 * cyc) / c.freq));
  return (
    s * NS +
    cycNs +
    BigInt(Math.trunc(opts.clockOffsetSeconds ?? 0)) * NS +
    BigInt(Math.trunc(opts.clockOffsetNs ?? 0))
  );
}

function nsOfCycles(c: ClockClass, cycles: number, opts: OpenOptions): bigint {
  const v = c.freq === 1e9 ? BigInt(cycles) : BigInt(Math.trunc((1e9 * cycles) / c.freq));
  return clockBaseNs(c, opts) + v;
}

function envString(cls: TraceClass, key: string): string | undefined {
  const v = cls.env.get(key);
  return typeof v === 'string' ? v : undefined;
}

function envInt(cls: TraceClass, key: string): number | undefined {
  const v = cls.env.get(key);
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

/** Tracer bugs babeltrace2 works around, from the trace's env. */
function tracerQuirks(cls: TraceClass): TracerQuirks {
  const name = envString(cls, 'tracer_name');
  const major = envInt(cls, 'tracer_major');
  if (name === undefined || major === undefined) return { lttngCrash: false, lttngEventAfterPacket: false };
  const minor = envInt(cls, 'tracer_minor') ?? 0;
  const patch = envInt(cls, 'tracer_patch') ?? envInt(cls, 'tracer_patchlevel') ?? 0;
  let after = false;
  if (name === 'lttng-ust') after = major < 2 || (major === 2 && minor < 11);
  else if (name === 'lttng-modules') {
    after =
      major < 2 ||
      (major === 2 && ((minor === 10 && patch < 10) || (minor === 9 && patch < 13) || minor < 9));
  }
  return { lttngCrash: name === 'lttng-ust' || name === 'lttng-modules', lttngEventAfterPacket: after };
}

function countClasses(cls: TraceClass): number {
  let n = cls.streamClasses.size;
  for (const sc of cls.streamClasses.values()) n += sc.eventClasses.size;
  return n;
}

/** Per event-class information, by dense key. */
export interface EventClassInfo {
  readonly key: number;
  readonly eventClass: EventClass;
  readonly streamClass: StreamClass;
  readonly trace: Trace;
}

/** Heap entry ordering: time, then babeltrace2's deterministic tie-break. */
function tieCompare(a: StreamCursor, b: StreamCursor): number {
  const ta = a.stream.trace;
  const tb = b.stream.trace;
  if (ta !== tb) {
    const ua = uuidHex(ta.cls.uuid);
    const ub = uuidHex(tb.cls.uuid);
    if (ua !== undefined && ub === undefined) return -1;
    if (ua === undefined && ub !== undefined) return 1;
    if (ua !== undefined && ub !== undefined && ua !== ub) return ua < ub ? -1 : 1;
    if (ta.name !== tb.name) return ta.name < tb.name ? -1 : 1;
  }
  const sa = a.stream.streamClass.id;
  const sb = b.stream.streamClass.id;
  if (sa !== sb) return sa < sb ? -1 : 1;
  const ia = a.stream.id;
  const ib = b.stream.id;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const wa = a.headKind === HEAD_EVENT ? 5 : a.headDiscard?.kind === 'discarded-events' ? 4 : 1;
  const wb = b.headKind === HEAD_EVENT ? 5 : b.headDiscard?.kind === 'discarded-events' ? 4 : 1;
  if (wa !== wb) return wb - wa;
  if (a.headKind === HEAD_EVENT && b.headKind === HEAD_EVENT) {
    const ea = a.headPlan!.ec;
    const eb = b.headPlan!.ec;
    if (ea.id !== eb.id) return ea.id < eb.id ? -1 : 1;
    if (ea.name !== eb.name) return ea.name < eb.name ? -1 : 1;
    if (ea.logLevel !== eb.logLevel) {
      if (ea.logLevel === undefined) return 1;
      if (eb.logLevel === undefined) return -1;
      return ea.logLevel - eb.logLevel;
    }
    if (ea.emfUri !== eb.emfUri) {
      if (ea.emfUri === undefined) return -1;
      if (eb.emfUri === undefined) return 1;
      return ea.emfUri < eb.emfUri ? -1 : 1;
    }
  }
  const na = a.stream.files[0] ?? '';
  const nb = b.stream.files[0] ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  return 0;
}

/** Window of the cursors that only scan packet headers (`streamRanges`). */
const SCAN_WINDOW_BYTES = 4096;

function before(a: StreamCursor, b: StreamCursor): boolean {
  if (a.headTs !== b.headTs) return a.headTs < b.headTs;
  return tieCompare(a, b) < 0;
}

export class TraceSet {
  readonly traces: readonly Trace[];
  readonly streams: readonly StreamInstance[];
  readonly base: TimeBase;
  /** Every event class of every trace, by dense key. */
  readonly eventClasses: readonly EventClassInfo[];
  /** Total bytes of all stream files. */
  readonly totalBytes: number;

  private readonly cursors: StreamCursor[];
  /** Makes a fresh cursor for stream `i` (for scans that must not disturb the iteration). */
  private readonly cursorFactory: Array<(windowBytes?: number) => StreamCursor> = [];
  private readonly heap: StreamCursor[] = [];
  private lastTs = Number.NEGATIVE_INFINITY;
  private started = false;
  private readonly bt1: boolean = false;
  private bt1Order: StreamCursor[] = [];
  /** babeltrace 1 order: discarded-events records met while moving a stream, to return first. */
  private readonly pending: DiscardedRecord[] = [];
  /** babeltrace 1 order: per stream index, events before `lo` are skipped, after `hi` end it. */
  private winLo: ArrayLike<number> | undefined;
  private winHi: ArrayLike<number> | undefined;
  private readonly rec: EventRecord;

  private constructor(loaded: LoadedTrace[], opts: OpenOptions) {
    this.traces = loaded.map((l) => l.trace);
    // Time base: the earliest clock offset of all traces.
    let baseNs: bigint | undefined;
    for (const l of loaded) {
      for (const c of l.plan.clocks.values()) {
        const b = clockBaseNs(c, opts) + (l.trace.clockShiftNs ?? 0n);
        if (baseNs === undefined || b < baseNs) baseNs = b;
      }
    }
    baseNs ??= 0n;
    let sec = baseNs / NS;
    let rem = baseNs - sec * NS;
    if (rem < 0n) {
      rem += NS;
      sec -= 1n;
    }
    this.base = { seconds: Number(sec), ns: Number(rem) };
    const baseAbs = baseNs;

    const infos: EventClassInfo[] = [];
    for (const l of loaded) {
      for (const sc of l.trace.cls.streamClasses.values()) {
        for (const ec of sc.eventClasses.values()) {
          infos.push({ key: l.plan.keys.get(ec)!, eventClass: ec, streamClass: sc, trace: l.trace });
        }
      }
    }
    infos.sort((a, b) => a.key - b.key);
    this.eventClasses = infos;

    this.payloadWanted = new Uint8Array(infos.length).fill(1);
    const groupCount = loaded.reduce((n, l) => n + l.groups.length, 0);
    const budget = opts.memoryBudget ?? 16 * 1024 * 1024;
    const windowBytes =
      opts.windowBytes ??
      Math.min(4 * 1024 * 1024, Math.max(64 * 1024, Math.floor(budget / Math.max(1, groupCount))));
    const streams: StreamInstance[] = [];
    this.cursors = [];
    let total = 0;
    for (const l of loaded) {
      let nextId = 0;
      for (const g of l.groups) {
        const sp = l.plan.streams.get(g.sc.id)!;
        const stream: StreamInstance = {
          trace: l.trace,
          streamClass: g.sc,
          instanceId: g.instanceId >= 0 ? g.instanceId : undefined,
          id: g.instanceId >= 0 ? g.instanceId : nextId++,
          files: g.files.map((f) => f.path),
          clock: sp.clock,
          index: streams.length,
        };
        streams.push(stream);
        const rel =
          sp.clock === undefined
            ? 0
            : Number(clockBaseNs(sp.clock, opts) + (l.trace.clockShiftNs ?? 0n) - baseAbs);
        const make = (win = windowBytes): StreamCursor =>
          new StreamCursor(stream, l.plan, sp, g.files, rel, l.quirks, win, this.payloadWanted);
        this.cursorFactory.push(make);
        this.cursors.push(make());
        for (const f of g.files) total += f.size;
      }
    }
    this.streams = streams;
    this.totalBytes = total;
    this.bt1 = opts.order === 'babeltrace1';
    if (this.bt1) {
      // babeltrace 1 inserts the streams per trace, per stream class id, in directory order.
      const key = new Map<StreamCursor, [number, number, number]>();
      let ci = 0;
      loaded.forEach((l, ti) => {
        for (const g of l.groups) key.set(this.cursors[ci++]!, [ti, g.sc.id, g.files[0]?.dirPos ?? 0]);
      });
      this.bt1Order = [...this.cursors].sort((a, b) => {
        const x = key.get(a)!;
        const y = key.get(b)!;
        return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
      });
    }
    this.rec = {
      kind: 'event',
      eventClass: undefined as unknown as EventClass,
      classKey: 0,
      stream: undefined as unknown as StreamInstance,
      packet: undefined as unknown as EventRecord['packet'],
      cycles: 0,
      ts: 0,
      header: undefined,
      streamContext: undefined,
      context: undefined,
      payload: undefined,
    };
  }

  /** Opens every trace found below `paths`. */
  static open(paths: readonly string[], opts: OpenOptions = {}): TraceSet {
    if (paths.length === 0) throw new NstraceError('no trace path given');
    const found: FoundTrace[] = [];
    for (const p of paths) {
      const f = findTraces(p);
      if (f.length === 0)
        throw new NstraceError(`${p}: no CTF trace found (no directory with a \`metadata\` file)`);
      found.push(...f);
    }
    // Load metadata, then merge traces that share a UUID (session rotation chunks).
    let nextKey = 0;
    const byUuid = new Map<string, Array<{ f: FoundTrace; cls: TraceClass; metadataPath: string }>>();
    const order: Array<{ f: FoundTrace; cls: TraceClass; metadataPath: string } | string> = [];
    for (const f of found) {
      const metadataPath = join(f.dir, 'metadata');
      const { cls } = readMetadataFile(metadataPath);
      const u = uuidHex(cls.uuid);
      const item = { f, cls, metadataPath };
      if (u === undefined) {
        order.push(item);
      } else {
        const g = byUuid.get(u);
        if (g === undefined) {
          byUuid.set(u, [item]);
          order.push(u);
        } else g.push(item);
      }
    }
    const loaded: LoadedTrace[] = [];
    for (const o of order) {
      const members = typeof o === 'string' ? byUuid.get(o)! : [o];
      // The winner is the trace with the largest metadata (first on ties).
      let winner = members[0]!;
      for (const m of members) if (countClasses(m.cls) > countClasses(winner.cls)) winner = m;
      const hostname = envString(winner.cls, 'hostname');
      // babeltrace2's CLI names a trace `hostname/path-below-the-input` only when its group has
      // a single directory; merged chunks (same UUID) are named by the hostname alone.
      const suffix = members.length === 1 ? winner.f.suffix : '';
      const name = hostname !== undefined ? (suffix !== '' ? `${hostname}/${suffix}` : hostname) : suffix;
      const shift = opts.clockShiftNs?.({ path: winner.f.dir, cls: winner.cls }) ?? 0n;
      const trace: Trace = {
        path: winner.f.dir,
        name,
        cls: winner.cls,
        metadataPath: winner.metadataPath,
        ...(shift !== 0n ? { clockShiftNs: shift } : {}),
      };
      const plan = new TracePlan(winner.cls, winner.metadataPath, nextKey);
      nextKey += plan.keys.size;
      const groups: Group[] = [];
      for (const m of [winner, ...members.filter((x) => x !== winner)]) {
        addStreamFiles(m.f.dir, plan, opts, groups, m === winner);
      }
      // babeltrace2 sorts the stream groups by their first file's path: this fixes the order of
      // automatic stream ids (traces without stream_instance_id) whatever the file system.
      groups.sort((a, b) =>
        a.files[0]!.path < b.files[0]!.path ? -1 : a.files[0]!.path > b.files[0]!.path ? 1 : 0,
      );
      loaded.push({ trace, plan, groups, quirks: tracerQuirks(winner.cls) });
    }
    return new TraceSet(loaded, opts);
  }

  /** By event-class key: 1 when the payload and event context are decoded into values. */
  private readonly payloadWanted: Uint8Array;

  /**
   * Says whether records of event class `key` need their payload and event context. When not,
   * the reader still decodes the event (and its stream event context, which it returns) but
   * produces no payload values: `rec.payload` and `rec.context` are undefined. Consumers that
   * read only the stream contexts of most events (the system model) save the cost of values
   * they would never look at.
   */
  setPayloadWanted(key: number, wanted: boolean): void {
    if (key >= 0 && key < this.payloadWanted.length) this.payloadWanted[key] = wanted ? 1 : 0;
  }

  /** Number of dense event-class keys (see `EventRecord.classKey`). */
  get eventClassCount(): number {
    return this.eventClasses.length;
  }

  private push(c: StreamCursor): void {
    if (c.headKind === HEAD_END) {
      c.close();
      return;
    }
    if (Number.isNaN(c.headTs)) c.headTs = this.lastTs;
    const h = this.heap;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  /** Restores the heap order after the root's head changed (or removes an ended root). */
  private fixRoot(): void {
    const h = this.heap;
    const root = h[0]!;
    if (root.headKind === HEAD_END) {
      root.close();
      const last = h.pop()!;
      if (h.length === 0) return;
      h[0] = last;
    } else if (Number.isNaN(root.headTs)) {
      root.headTs = this.lastTs;
    }
    const n = h.length;
    let i = 0;
    const c = h[0]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[m]!, c)) break;
      h[i] = h[m]!;
      i = m;
    }
    h[i] = c;
  }

  /**
   * babeltrace 1 order with stream intersection: its iterator seeks every stream to the first
   * event of its window before filling the heap, and drops a stream when it moves past it.
   * Call before the first `next()`.
   */
  setWindows(lo: ArrayLike<number>, hi: ArrayLike<number>): void {
    this.winLo = lo;
    this.winHi = hi;
  }

  /** Moves a cursor to its next event, setting aside discarded-events heads (babeltrace 1 order). */
  private bt1Advance(c: StreamCursor): void {
    c.advance();
    while (c.headKind === HEAD_DISCARD) {
      const d: DiscardedRecord = c.headDiscard!;
      this.pending.push(Number.isNaN(d.ts) ? { ...d, ts: c.headTs } : d);
      c.advance();
    }
  }

  /** babeltrace 1's comparison: earlier first; equal times "greater" whenever the paths differ. */
  private static gt1(a: StreamCursor, b: StreamCursor): boolean {
    if (a.headTs < b.headTs) return true;
    if (a.headTs > b.headTs) return false;
    return a.stream.files[0] !== b.stream.files[0];
  }

  private heapify1(): void {
    const h = this.heap;
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = l < n && TraceSet.gt1(h[l]!, h[i]!) ? l : i;
      if (r < n && TraceSet.gt1(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }

  private next1(): TraceRecord | null {
    const h = this.heap;
    if (!this.started) {
      this.started = true;
      for (const c of this.bt1Order) {
        this.bt1Advance(c);
        const lo = this.winLo?.[c.stream.index];
        if (lo !== undefined) {
          while (c.headKind === HEAD_EVENT && c.headTs < lo) {
            c.skipEvent();
            this.bt1Advance(c);
          }
        }
        if (c.headKind === HEAD_END) {
          c.close();
          continue;
        }
        h.push(c);
        let pos = h.length - 1;
        while (pos > 0 && TraceSet.gt1(c, h[(pos - 1) >> 1]!)) {
          h[pos] = h[(pos - 1) >> 1]!;
          pos = (pos - 1) >> 1;
        }
        h[pos] = c;
      }
    } else if (h.length > 0) {
      const c = h[0]!;
      this.bt1Advance(c);
      const hi = this.winHi?.[c.stream.index];
      if (c.headKind === HEAD_END || (hi !== undefined && c.headTs > hi)) {
        c.close();
        const last = h.pop()!;
        if (h.length > 0) {
          h[0] = last;
          this.heapify1();
        }
      } else this.heapify1();
    }
    const d = this.pending.shift();
    if (d !== undefined) {
      // Returned before the event at the top of the heap, which the next call returns (the
      // cursor does not move then).
      this.replay = true;
      return d;
    }
    const c = h[0];
    if (c === undefined) return null;
    if (c.headTs > this.lastTs || this.lastTs === Number.NEGATIVE_INFINITY) this.lastTs = c.headTs;
    c.takeEvent(this.rec);
    return this.rec;
  }

  private replay = false;

  /** The next record in time order, or null at the end. */
  next(): TraceRecord | null {
    if (this.bt1) {
      if (this.replay) {
        this.replay = false;
        const d = this.pending.shift();
        if (d !== undefined) {
          this.replay = true;
          return d;
        }
        const c = this.heap[0];
        if (c === undefined) return null;
        if (c.headTs > this.lastTs || this.lastTs === Number.NEGATIVE_INFINITY) this.lastTs = c.headTs;
        c.takeEvent(this.rec);
        return this.rec;
      }
      return this.next1();
    }
    if (!this.started) {
      this.started = true;
      for (const c of this.cursors) {
        c.advance();
        this.push(c);
      }
    } else if (this.heap.length > 0) {
      // The root produced the previous record: move it to its next head.
      this.heap[0]!.advance();
      this.fixRoot();
    }
    const c = this.heap[0];
    if (c === undefined) return null;
    if (c.headTs > this.lastTs || this.lastTs === Number.NEGATIVE_INFINITY) this.lastTs = c.headTs;
    if (c.headKind === HEAD_DISCARD) {
      const d: DiscardedRecord = c.headDiscard!;
      return Number.isNaN(d.ts) ? { ...d, ts: c.headTs } : d;
    }
    c.takeEvent(this.rec);
    return this.rec;
  }

  /**
   * Time range of every stream (by `StreamInstance.index`) from its packet timestamps: the
   * first packet's beginning and the last packet's end, or null without timestamps. Reads only
   * packet headers and contexts, independently of the iteration.
   */
  streamRanges(): Array<{ begin: number; end: number } | null> {
    // A small window: the scan reads packet headers and contexts only, not the events.
    return this.cursorFactory.map((make) => make(SCAN_WINDOW_BYTES).scanPacketRange());
  }

  /** Bytes of stream data consumed so far, and the total. */
  progress(): { done: number; total: number } {
    let done = 0;
    for (const c of this.cursors) done += c.doneBytes;
    return { done, total: this.totalBytes };
  }

  close(): void {
    for (const c of this.cursors) c.close();
    this.heap.length = 0;
  }
}

/** Adds the stream files of the trace directory `dir` to `groups`, the babeltrace2 way. */
function addStreamFiles(
  dir: string,
  plan: TracePlan,
  opts: OpenOptions,
  groups: Group[],
  own: boolean,
): void {
  void own;
  let dirPos = 0;
  for (const name of readdirRaw(dir)) {
    dirPos++;
    if (name === 'metadata' || name.startsWith('.')) continue;
    const path = join(dir, name);
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new TraceFormatError(path, undefined, `cannot read stream file: ${(e as Error).message}`);
    }
    if (!st.isFile() || st.size === 0) continue;
    const props = firstPacketProps(plan, path, st.size);
    const sp = plan.streams.get(props.streamClassId)!;
    let beginNs: bigint | undefined;
    if (props.beginClk >= 0 && sp.clock !== undefined) beginNs = nsOfCycles(sp.clock, props.beginClk, opts);
    const file: StreamFile = { path, size: st.size, beginNs, dirPos };
    const instance = beginNs === undefined ? -1 : props.instanceId;
    let g = instance >= 0 ? groups.find((x) => x.sc === sp.sc && x.instanceId === instance) : undefined;
    if (g === undefined) {
      g = { sc: sp.sc, instanceId: instance, files: [] };
      groups.push(g);
    }
    // Keep files sorted by their first packet's beginning time (stable).
    let i = 0;
    while (
      i < g.files.length &&
      !(beginNs !== undefined && g.files[i]!.beginNs !== undefined && beginNs < g.files[i]!.beginNs!)
    )
      i++;
    g.files.splice(i, 0, file);
  }
}
