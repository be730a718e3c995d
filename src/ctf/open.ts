/**
 * Finds CTF traces on disk and loads them for the reader (reader.ts), as `babeltrace2 PATH...`
 * does: every directory holding a `metadata` file below the given paths is a trace; traces
 * sharing a UUID are merged into one (LTTng session rotation chunks); stream files of the same
 * stream (tracefile rotation) are grouped and chained by their first packet's time.
 */
import { existsSync, opendirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { NstraceError, TraceFormatError } from '../util/errors.js';
import type { Trace } from './event.js';
import type { ClockClass, StreamClass, TraceClass } from './ir.js';
import { TracePlan } from './decode/plan.js';
import { firstPacketProps, type TracerQuirks } from './packet.js';
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

export function uuidHex(u: Uint8Array | undefined): string | undefined {
  if (u === undefined) return undefined;
  return Buffer.from(u).toString('hex');
}

export interface StreamFile {
  path: string;
  size: number;
  beginNs: bigint | undefined;
  /** Position in the directory listing (raw readdir order). */
  dirPos: number;
}

export interface Group {
  sc: StreamClass;
  /** stream_instance_id, or -1 for a file that forms its own stream. */
  instanceId: number;
  files: StreamFile[];
}

/** Loaded trace: a metadata and its (possibly merged) stream file groups. */
export interface LoadedTrace {
  trace: Trace;
  plan: TracePlan;
  groups: Group[];
  quirks: TracerQuirks;
}

export const NS = 1_000_000_000n;

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

/** Finds and loads every trace below `paths`: metadata, UUID merging, stream file groups. */
export function loadTraces(paths: readonly string[], opts: OpenOptions): LoadedTrace[] {
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
  return loaded;
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
