/**
 * Real metadata from the shared traces directory (/work/shared/traces, see its CATALOGUE.md):
 *
 * - every CTF 1.8 metadata file parses unless it is a known-bad case (the `fail` directories of
 *   the babeltrace test data, and the cases listed below with their reason);
 * - CTF 2 metadata is refused with "CTF 2 is not supported";
 * - facts recorded in _reference/index.json agree (event-class names, stream classes, stream
 *   event context fields, byte order, packetization, clock offsets);
 * - differential against babeltrace2 itself: for a spread of traces, the trace class that
 *   babeltrace2 2.0.4 builds (dumped by bt2-classes.py through its Python bindings) has the same
 *   stream classes, event classes and field classes as ours.
 *
 * Skipped, loudly, when the shared directory is absent (the fixtures-based tests still run).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { FieldClass, TraceClass } from '../../../src/ctf/ir.js';
import { readMetadataFile } from '../../../src/ctf/metadata/index.js';
import { MetadataError, TraceFormatError } from '../../../src/util/errors.js';
import { requireCapability } from '../../helpers/require.js';

const SHARED = '/work/shared/traces';
// The shared collection is not part of the repository (CI may not have it): optional.
const present = requireCapability(
  'the shared trace collection',
  () => (existsSync(join(SHARED, '_reference/index.json')) ? undefined : `${SHARED} is absent`),
  { optional: true },
);

interface IndexEntry {
  path: string;
  ctf_version: string | null;
  metadata_packetized: boolean | null;
  byte_order: string | null;
  clocks: Array<{ name: string; freq: string; offset?: string; offset_s?: string }> | null;
  stream_classes: number | null;
  event_class_names: string[] | null;
  stream_event_context_fields: string[] | null;
  data_stream_files: number | null;
  bt2_run: { exit_status: number } | null;
}

/** Metadata that must be rejected, with the reason (all in `fail` test directories or noted). */
const REJECTED: Record<string, RegExp> = {
  'babeltrace/master/ctf-traces/fail/fail1': /unknown type 'void'/,
  'babeltrace/stable-1.5/ctf-traces/fail/fail1': /unknown type 'void'/,
  'babeltrace/master/ctf-traces/fail/fail2': /invalid escape sequence/,
  'babeltrace/stable-1.5/ctf-traces/fail/fail2': /invalid escape sequence/,
  'babeltrace/master/ctf-traces/fail/integer-range': /out of range/,
  'babeltrace/stable-1.5/ctf-traces/fail/integer-range': /out of range/,
  'babeltrace/master/ctf-traces/fail/invalid-sequence-length-field-class':
    /must be an unsigned integer field/,
  'babeltrace/master/ctf-traces/fail/invalid-variant-selector-field-class': /must be an enumeration field/,
  'babeltrace/master/ctf-traces/fail/lttng-modules-2.0-pre1': /packet version 116\.121/,
  'babeltrace/stable-1.5/ctf-traces/fail/lttng-modules-2.0-pre1': /packet version 116\.121/,
  'babeltrace/master/ctf-traces/fail/packet-based-metadata': /packet version 116\.121/,
  'babeltrace/stable-1.5/ctf-traces/fail/packet-based-metadata': /packet version 116\.121/,
  'babeltrace/master/ctf-traces/fail/metadata-syntax-error': /unexpected '\]'/,
  // 1024-bit integers: beyond the IR's 64 bits; babeltrace2 and babeltrace 1 fail on it too.
  'ctf-testsuite/1.8/regression/stream/pass/integer-large-size': /between 1 and 64 bits/,
};

function loadIndex(): IndexEntry[] {
  return JSON.parse(readFileSync(join(SHARED, '_reference/index.json'), 'utf8')) as IndexEntry[];
}

describe.skipIf(!present)('metadata of the shared traces', () => {
  // Metadata-only conformance cases are tested from the fixtures (testsuite.test.ts); traces
  // listed in the catalogue but not shipped (no licence) are skipped.
  const entries = present
    ? loadIndex().filter(
        (e) =>
          !e.path.startsWith('ctf-testsuite/1.8/regression/metadata/') &&
          existsSync(join(SHARED, e.path, 'metadata')),
      )
    : [];

  it('covers the catalogue', () => {
    expect(entries.length).toBeGreaterThan(180);
  });

  it.each(entries.map((e) => [e.path, e] as const))('%s', (path, e) => {
    const file = join(SHARED, path, 'metadata');
    let cls: TraceClass;
    let packetized: boolean;
    try {
      ({ cls, packetized } = readMetadataFile(file));
    } catch (err) {
      if (e.ctf_version === '2') {
        expect((err as Error).message).toMatch(/CTF 2 is not supported/);
        return;
      }
      const why = REJECTED[path];
      if (why === undefined) throw err;
      expect(err instanceof MetadataError || err instanceof TraceFormatError).toBe(true);
      expect((err as Error).message).toMatch(why);
      return;
    }
    expect(e.ctf_version).not.toBe('2');
    expect(REJECTED[path]).toBeUndefined();
    if (e.metadata_packetized !== null) expect(packetized).toBe(e.metadata_packetized);
    if (e.byte_order === 'le' || e.byte_order === 'be') expect(cls.byteOrder).toBe(e.byte_order);
    const names = new Set<string>();
    for (const sc of cls.streamClasses.values())
      for (const ec of sc.eventClasses.values()) names.add(ec.name);
    if (e.event_class_names !== null)
      expect([...names].sort()).toEqual([...new Set(e.event_class_names)].sort());
    if (e.stream_classes !== null && e.stream_classes > 0)
      expect(cls.streamClasses.size).toBe(e.stream_classes);
    if (e.stream_event_context_fields !== null) {
      const ctx = new Set<string>();
      for (const sc of cls.streamClasses.values())
        for (const f of sc.eventContext?.fields ?? []) ctx.add(f.name);
      expect([...ctx].sort()).toEqual([...e.stream_event_context_fields].sort());
    }
    for (const c of e.clocks ?? []) {
      const ours = cls.clocks.get(c.name);
      expect(ours).toBeDefined();
      expect(ours!.freq).toBe(Number(c.freq));
      // The catalogue gives the offset as offset_s * freq + offset, or as two parts.
      const total =
        c.offset_s !== undefined
          ? BigInt(c.offset_s) * BigInt(c.freq) + BigInt(c.offset ?? 0)
          : BigInt(c.offset ?? 0);
      if (Number.isSafeInteger(ours!.offsetSeconds)) {
        expect(BigInt(ours!.offsetSeconds) * BigInt(ours!.freq) + BigInt(ours!.offsetCycles)).toBe(total);
      }
    }
  });
});

// ---- differential against babeltrace2 ----

const DIFF_TRACES = [
  'tracecompass-test-traces/many-threads',
  'tracecompass-test-traces/bug446190',
  'tracecompass-test-traces/flipping-endianness',
  'tracecompass-test-traces/ros2',
  'tracecompass-test-traces/memory',
  'tracecompass-test-traces/ctf-sequence-empty',
  'tracecompass-test-traces/debuginfo-test-app4',
  'tracecompass-test-traces/dpdk_service_cores',
  'tracecompass-test-traces/mpi_gather',
  'tracecompass-incubator/ros-pub-sub-10',
  'babeltrace/master/ctf-traces/succeed/multi-domains/kernel',
  'babeltrace/master/ctf-traces/succeed/multi-domains/ust',
  'babeltrace/master/ctf-traces/succeed/lttng-tracefile-rotation/kernel',
  'babeltrace/master/ctf-traces/succeed/session-rotation/a/1/ust/pid/10352',
  'babeltrace/master/ctf-traces/succeed/trace-with-index',
  'babeltrace/master/ctf-traces/succeed/meta-variant-reserved-keywords',
  'babeltrace/master/ctf-traces/succeed/meta-variant-two-underscores',
  'babeltrace/master/ctf-traces/succeed/array-align-elem',
  'babeltrace/master/ctf-traces/succeed/sequence',
  'babeltrace/master/ctf-traces/succeed/debug-info',
  'lttng-analyses-synthetic/cputop/kernel',
  'ctf-testsuite/1.8/regression/stream/pass/in-bound-variant-selected-element',
  'ctf-testsuite/1.8/regression/stream/pass/sequence-with-empty-struct',
];

/** Fields babeltrace2 consumes for its own use (packet context meanings) and does not show. */
const BT2_HIDDEN_PACKET_CONTEXT = new Set([
  'timestamp_begin',
  'timestamp_end',
  'content_size',
  'packet_size',
  'packet_seq_num',
  'events_discarded',
]);

type Shape =
  | { kind: 'int'; signed: boolean; size: number; base: number }
  | { kind: 'enum'; signed: boolean; size: number; labels: string[] }
  | { kind: 'float'; single: boolean }
  | { kind: 'string' }
  | { kind: 'array'; length: number; element: Shape }
  | { kind: 'sequence'; element: Shape }
  | { kind: 'struct'; members: Array<[string, Shape]> }
  | { kind: 'variant'; options: Array<[string, Shape]> };

interface Bt2Dump {
  streams: Array<{
    id: number;
    packet_context: Shape | null;
    event_common_context: Shape | null;
    events: Array<{ id: number; name: string; context: Shape | null; payload: Shape | null }>;
  }>;
}

/** Our field class as babeltrace2 2.0 shows it (CTF 1.8 rules: one leading `_` dropped). */
function shape(fc: FieldClass): Shape {
  const name = (n: string): string => (n.startsWith('_') ? n.slice(1) : n);
  switch (fc.kind) {
    case 'int':
      return { kind: 'int', signed: fc.signed, size: fc.size, base: fc.base };
    case 'enum':
      return {
        kind: 'enum',
        signed: fc.container.signed,
        size: fc.container.size,
        labels: [...new Set(fc.mappings.map((m) => m.label))].sort(),
      };
    case 'float':
      return { kind: 'float', single: fc.mantDig === 24 };
    case 'string':
      return { kind: 'string' };
    case 'array':
    case 'sequence': {
      const e = fc.element;
      // Text arrays and sequences (8-bit integers with an encoding) are strings in babeltrace2.
      if (e.kind === 'int' && e.size === 8 && e.encoding !== 'none') return { kind: 'string' };
      return fc.kind === 'array'
        ? { kind: 'array', length: fc.length, element: shape(e) }
        : { kind: 'sequence', element: shape(e) };
    }
    case 'struct':
      return { kind: 'struct', members: fc.fields.map((f) => [name(f.name), shape(f.type)]) };
    case 'variant':
      return { kind: 'variant', options: fc.options.map((o) => [name(o.name), shape(o.type)]) };
  }
}

function withoutHidden(s: Shape | null): Shape | null {
  if (s === null || s.kind !== 'struct') return s;
  return { kind: 'struct', members: s.members.filter(([n]) => !BT2_HIDDEN_PACKET_CONTEXT.has(n)) };
}

/** babeltrace2 shows an empty scope structure as no structure (and vice versa). */
function orNull(x: Shape | null): Shape | null {
  return x !== null && x.kind === 'struct' && x.members.length === 0 ? null : x;
}

const run = promisify(execFile);

describe.skipIf(!present)('field classes against babeltrace2', () => {
  it.each(DIFF_TRACES)('%s', async (path) => {
    const dir = join(SHARED, path);
    const { stdout } = await run('/usr/bin/python3', [join(import.meta.dirname, 'bt2-classes.py'), dir], {
      maxBuffer: 1 << 28,
    });
    const bt2 = JSON.parse(stdout) as Bt2Dump;
    expect(bt2.streams.length).toBeGreaterThan(0);
    const { cls } = readMetadataFile(join(dir, 'metadata'));
    expect(cls.streamClasses.size).toBe(bt2.streams.length);
    for (const s of bt2.streams) {
      const sc = cls.streamClasses.get(s.id);
      expect(sc, `stream class ${s.id}`).toBeDefined();
      expect(orNull(withoutHidden(sc!.packetContext ? shape(sc!.packetContext) : null))).toEqual(
        orNull(s.packet_context),
      );
      expect(orNull(sc!.eventContext ? shape(sc!.eventContext) : null)).toEqual(
        orNull(s.event_common_context),
      );
      expect(sc!.eventClasses.size).toBe(s.events.length);
      for (const e of s.events) {
        const ec = sc!.eventClasses.get(e.id);
        expect(ec?.name, `event class ${e.id} of stream ${s.id}`).toBe(e.name);
        expect(orNull(ec!.context ? shape(ec!.context) : null)).toEqual(orNull(e.context));
        expect(orNull(ec!.fields ? shape(ec!.fields) : null)).toEqual(orNull(e.payload));
      }
    }
  });
});
