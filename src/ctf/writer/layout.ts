/**
 * The trace layouts lttng-modules and lttng-ust 2.13 write (checked against the metadata of a
 * trace recorded here with lttng-tools 2.13.9 / lttng-ust 2.13.5, of the kernel traces in
 * /work/shared/traces, and lttng-modules' `metadata-ctf-1-8.c`):
 *
 * - type aliases `uint8_t ... uint64_t`, `unsigned long`, `uint5_t`, `uint27_t`, then after the
 *   clock `uint27/32/64_clock_monotonic_t` mapped to the clock;
 * - trace packet header `{ uint32_t magic; uint8_t uuid[16]; uint32_t stream_id; uint64_t
 *   stream_instance_id; }`;
 * - `struct packet_context { timestamp_begin, timestamp_end, content_size, packet_size,
 *   packet_seq_num, unsigned long events_discarded, uint32_t cpu_id }`;
 * - `struct event_header_compact` (5-bit id, 31 = extended; 27-bit timestamp) and
 *   `struct event_header_large` (16-bit id, 65535 = extended; 32-bit timestamp), extended form
 *   `{ uint32_t id; uint64_clock_monotonic_t timestamp; }`;
 * - clock `monotonic`, 1 GHz, `offset` = realtime - monotonic in ns, uuid = the boot id;
 * - the `env` block of the kernel tracer or of lttng-sessiond for UST.
 *
 * On x86 LTTng aligns nothing (`align = 8` everywhere: efficient unaligned access); other
 * architectures use natural alignment (`naturalAlignment: true`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { ByteOrder, ClockClass, EnvValue, IntegerFC, StructFC } from '../ir.js';
import { WriterError } from '../../util/errors.js';
import type { EmitStyle, TypeAlias } from './metadata.js';
import { array, enumeration, field, int, struct, variant } from './types.js';

export type HeaderKind = 'compact' | 'large';

/** Everything about a trace class the writer needs beyond its streams and events. */
export interface TraceLayout {
  readonly byteOrder: ByteOrder;
  readonly uuid: Uint8Array;
  readonly env: ReadonlyMap<string, EnvValue>;
  readonly clock: ClockClass;
  readonly packetHeader: StructFC;
  /** The LTTng packet context (shared by every stream class, as LTTng does). */
  readonly packetContext: StructFC;
  readonly eventHeaders: Readonly<Record<HeaderKind, StructFC>>;
  /** Names for TSDL printing. */
  readonly style: EmitStyle;
  /** Whether packetized metadata starts with the `/* CTF 1.8 *\/` signature (sessiond: yes, kernel: no). */
  readonly signatureWhenPacketized: boolean;
  /** Alignments (bits) of the event header pieces, for the hand-written header encoders. */
  readonly align: {
    readonly u16: number;
    readonly u32: number;
    readonly u64: number;
    readonly header: Readonly<Record<HeaderKind, number>>;
  };
  readonly domain: 'kernel' | 'ust';
}

export interface ClockOptions {
  name?: string;
  description?: string;
  /** Default: the boot id (`/proc/sys/kernel/random/boot_id`), as LTTng does; random if unreadable. */
  uuid?: Uint8Array;
  /** Hz, default 1e9. */
  freq?: number;
  /**
   * Offset of the clock's zero from the Unix epoch, in cycles. Default: realtime - monotonic now
   * (what LTTng measures), so that CLOCK_MONOTONIC timestamps print as wall-clock time.
   */
  offsetCycles?: bigint;
}

export interface LttngLayoutOptions {
  domain: 'kernel' | 'ust';
  byteOrder?: ByteOrder;
  /** Natural alignment of integers (non-x86 LTTng). Default false: everything byte-aligned. */
  naturalAlignment?: boolean;
  /** Trace UUID; default random. */
  uuid?: Uint8Array;
  clock?: ClockOptions;
  hostname?: string;
  /** Tracer version written in `env`; default 2.13.9 for the kernel, 2.13 for UST. */
  tracerMajor?: number;
  tracerMinor?: number;
  tracerPatchlevel?: number;
  /** Kernel only; defaults from `os`. */
  sysname?: string;
  kernelRelease?: string;
  kernelVersion?: string;
  /** `trace_name` (the session name); default `nstrace`. */
  traceName?: string;
  /** `trace_creation_datetime`; default now. */
  creationTime?: Date;
  /** UST only: `tracer_buffering_scheme` ('uid' default) and `tracer_buffering_id`. */
  bufferingScheme?: 'uid' | 'pid';
  bufferingId?: number;
  /** Extra `env` entries, appended after LTTng's (e.g. `nstrace_version`). */
  env?: Readonly<Record<string, EnvValue>>;
}

/** `YYYYMMDDTHHMMSS+0000`, the format of `trace_creation_datetime` (UTC). */
export function lttngDatetime(d: Date): string {
  const p = (n: number, w = 2): string => n.toString().padStart(w, '0');
  return (
    `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`
  );
}

export function parseUuid(s: string): Uint8Array {
  const h = s.trim().replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(h)) throw new WriterError(`bad UUID '${s}'`);
  return Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));
}

function bootId(): Uint8Array {
  try {
    return parseUuid(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
  } catch {
    return randomUuid();
  }
}

/** A random (version 4) UUID. */
export function randomUuid(): Uint8Array {
  const u = new Uint8Array(randomBytes(16));
  u[6] = (u[6]! & 0x0f) | 0x40;
  u[8] = (u[8]! & 0x3f) | 0x80;
  return u;
}

/** realtime - monotonic, in ns, as LTTng measures the clock offset. */
export function monotonicOffsetNs(): bigint {
  // Both read as close together as JS allows; ms resolution from Date.
  const mono = process.hrtime.bigint();
  const real = BigInt(Date.now()) * 1_000_000n;
  return real - mono;
}

/** Builds the LTTng trace layout for a kernel or UST trace. */
export function lttngLayout(o: LttngLayoutOptions): TraceLayout {
  const bo = o.byteOrder ?? 'le';
  const nat = o.naturalAlignment === true;
  const al = (size: number): number => (nat ? size : 8);
  const u = (size: number, align: number, mappedClock?: string): IntegerFC =>
    int(size, { signed: false, align, byteOrder: bo, ...(mappedClock !== undefined ? { mappedClock } : {}) });
  const clockName = o.clock?.name ?? 'monotonic';

  const uint8 = u(8, al(8));
  const uint16 = u(16, al(16));
  const uint32 = u(32, al(32));
  const uint64 = u(64, al(64));
  const ulong = u(64, al(64));
  const uint5 = u(5, 1);
  const uint27 = u(27, 1);
  const clk27 = u(27, 1, clockName);
  const clk32 = u(32, al(32), clockName);
  const clk64 = u(64, al(64), clockName);

  const aliases: TypeAlias[] = [
    { name: 'uint8_t', type: uint8 },
    { name: 'uint16_t', type: uint16 },
    { name: 'uint32_t', type: uint32 },
    { name: 'uint64_t', type: uint64 },
    { name: 'unsigned long', type: ulong },
    { name: 'uint5_t', type: uint5 },
    { name: 'uint27_t', type: uint27 },
    { name: 'uint27_clock_monotonic_t', type: clk27, placement: 'after-clocks' },
    { name: 'uint32_clock_monotonic_t', type: clk32, placement: 'after-clocks' },
    { name: 'uint64_clock_monotonic_t', type: clk64, placement: 'after-clocks' },
  ];

  const packetHeader = struct([
    field('magic', uint32),
    field('uuid', array(uint8, 16)),
    field('stream_id', uint32),
    field('stream_instance_id', uint64),
  ]);
  const packetContext = struct([
    field('timestamp_begin', clk64),
    field('timestamp_end', clk64),
    field('content_size', uint64),
    field('packet_size', uint64),
    field('packet_seq_num', uint64),
    field('events_discarded', ulong),
    field('cpu_id', uint32),
  ]);
  const tagRef = { scope: 'stream.event.header' as const, path: ['id'], text: 'id' };
  const extended = struct([field('id', uint32), field('timestamp', clk64)]);
  const compactId = enumeration(uint5, { compact: [0, 30], extended: 31 });
  const largeId = enumeration(uint16, { compact: [0, 65534], extended: 65535 });
  const mkVariant = (ts: IntegerFC): ReturnType<typeof variant> => ({
    ...variant('id', [field('compact', struct([field('timestamp', ts)])), field('extended', extended)]),
    tag: tagRef,
  });
  const headerCompact = struct([field('id', compactId), field('v', mkVariant(clk27))], al(32));
  const headerLarge = struct([field('id', largeId), field('v', mkVariant(clk32))], al(16));

  const env = new Map<string, EnvValue>();
  const created = lttngDatetime(o.creationTime ?? new Date());
  const hostname = o.hostname ?? os.hostname();
  const traceName = o.traceName ?? 'nstrace';
  if (o.domain === 'kernel') {
    env.set('hostname', hostname);
    env.set('domain', 'kernel');
    env.set('sysname', o.sysname ?? os.type());
    env.set('kernel_release', o.kernelRelease ?? os.release());
    env.set('kernel_version', o.kernelVersion ?? os.version());
    env.set('tracer_name', 'lttng-modules');
    env.set('tracer_major', o.tracerMajor ?? 2);
    env.set('tracer_minor', o.tracerMinor ?? 13);
    env.set('tracer_patchlevel', o.tracerPatchlevel ?? 9);
    env.set('trace_buffering_scheme', 'global');
    env.set('trace_name', traceName);
    env.set('trace_creation_datetime', created);
  } else {
    env.set('domain', 'ust');
    env.set('tracer_name', 'lttng-ust');
    env.set('tracer_major', o.tracerMajor ?? 2);
    env.set('tracer_minor', o.tracerMinor ?? 13);
    if (o.tracerPatchlevel !== undefined) env.set('tracer_patchlevel', o.tracerPatchlevel);
    env.set('tracer_buffering_scheme', o.bufferingScheme ?? 'uid');
    env.set('tracer_buffering_id', o.bufferingId ?? 0);
    env.set('architecture_bit_width', 64);
    env.set('trace_name', traceName);
    env.set('trace_creation_datetime', created);
    env.set('hostname', hostname);
  }
  for (const [k, v] of Object.entries(o.env ?? {})) env.set(k, v);

  const freq = o.clock?.freq ?? 1e9;
  const offset = o.clock?.offsetCycles ?? (freq === 1e9 ? monotonicOffsetNs() : 0n);
  const F = BigInt(freq);
  let offS = offset / F;
  let offC = offset % F;
  if (offC < 0n) {
    offC += F;
    offS -= 1n;
  }
  const clock: ClockClass = {
    name: clockName,
    freq,
    offsetSeconds: Number(offS),
    offsetCycles: Number(offC),
    precision: 0,
    absolute: false,
    uuid: o.clock?.uuid ?? bootId(),
    description: o.clock?.description ?? 'Monotonic Clock',
  };

  return {
    byteOrder: bo,
    uuid: o.uuid ?? randomUuid(),
    env,
    clock,
    packetHeader,
    packetContext,
    eventHeaders: { compact: headerCompact, large: headerLarge },
    style: {
      aliases,
      structs: [
        { name: 'packet_context', type: packetContext },
        { name: 'event_header_compact', type: headerCompact },
        { name: 'event_header_large', type: headerLarge },
      ],
      clockOffsetAsCycles: true,
    },
    signatureWhenPacketized: o.domain === 'ust',
    align: { u16: al(16), u32: al(32), u64: al(64), header: { compact: al(32), large: al(16) } },
    domain: o.domain,
  };
}
