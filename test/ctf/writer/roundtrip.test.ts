/**
 * TSDL round trips with the metadata parser (src/ctf/metadata): what the writer emits parses
 * back to the very trace class it holds, and every real metadata the parser reads, printed by
 * the emitter and parsed again, gives the same trace class.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseMetadata, readMetadataFile } from '../../../src/ctf/metadata/index.js';
import type { TraceClass } from '../../../src/ctf/ir.js';
import { sharedTracesMissing } from '../../helpers/require.js';
import {
  MemorySink,
  TraceWriter,
  array,
  char,
  charArray,
  emitTsdl,
  enumeration,
  field,
  float32,
  float64,
  hex,
  lttngField,
  lttngLayout,
  lttngSequence,
  s32,
  s64,
  sint,
  string,
  struct,
  u16,
  u32,
  u8,
  uint,
  variant,
} from '../../../src/ctf/writer/index.js';

const SHARED = '/work/shared/traces';

function kitchen(tw: TraceWriter): void {
  const tag = enumeration(u8(), { a: 0, b: [1, 5], c: 9 });
  tw.addStreamClass({
    header: 'compact',
    context: [lttngField('pid_ns', u32()), lttngField('procname', charArray(16))],
  });
  tw.addStreamClass({ header: 'large' });
  tw.addEventClass({
    name: 'sched_switch',
    fields: [
      lttngField('prev_comm', charArray(16)),
      lttngField('prev_tid', s32()),
      lttngField('prev_state', s64()),
      lttngField('bits', uint(3)),
      lttngField('sbits', sint(13)),
      lttngField('h', hex(64)),
      lttngField('f', float32()),
      lttngField('d', float64()),
      lttngField('s', string('ascii')),
      lttngField('arr', array(array(u16(), 2), 3)),
      ...lttngSequence('vtids', s32(), u8()),
      ...lttngSequence('msg', char(), u32()),
      lttngField('tag', tag),
      lttngField(
        'v',
        variant('_tag', [
          field('a', u8()),
          field('b', string()),
          field('c', struct([field('_x', u8())], 32)),
        ]),
      ),
      lttngField('en', enumeration(s32(), { 'with space': 1, 'quote"d': [2, 10], neg: [-5, -1] })),
    ],
  });
  tw.addEventClass({
    name: 'p:ust',
    streamClassId: 1,
    logLevel: 13,
    emfUri: 'http://x/y',
    context: [lttngField('c', u8())],
  });
}

describe('writer metadata parses back to the writer trace class', () => {
  it.each([
    ['kernel', 'le', false, 'packetized'],
    ['kernel', 'be', true, 'packetized'],
    ['ust', 'le', false, 'text'],
    ['ust', 'be', false, 'text'],
  ] as const)('%s %s natural=%s %s', (domain, bo, natural, metadata) => {
    const sink = new MemorySink();
    const tw = TraceWriter.create({
      sink,
      metadata,
      layout: lttngLayout({ domain, byteOrder: bo, naturalAlignment: natural }),
    });
    kitchen(tw);
    // Appended after data.
    tw.stream(0, 0).write(tw.eventClasses[0]!, 1, []);
    tw.flush();
    tw.addEventClass({ name: 'late', streamClassId: 0, fields: [lttngField('x', u32())] });
    tw.close();
    const parsed = parseMetadata(tw.metadataText, 'metadata');
    expect(parsed).toEqual(tw.traceClass);
    // And printing the parsed class without the layout's names gives the same class again.
    expect(parseMetadata(emitTsdl(parsed), 'again')).toEqual(tw.traceClass);
  });
});

/**
 * The class with FieldRef texts dropped: the emitter prints a reference as an absolute path when
 * its relative text would find another field at the point of use (a typedef'd type used inside
 * a structure that has a field of the same name), so only the text may change.
 */
function refsWithoutText(x: unknown): unknown {
  if (x instanceof Map) return new Map([...x].map(([k, v]) => [k, refsWithoutText(v)]));
  if (Array.isArray(x)) return x.map(refsWithoutText);
  if (x !== null && typeof x === 'object' && !(x instanceof Uint8Array)) {
    const o = x as Record<string, unknown>;
    const isRef = 'scope' in o && 'path' in o && 'text' in o;
    return Object.fromEntries(
      Object.entries(o).map(([k, v]) => [k, isRef && k === 'text' ? '' : refsWithoutText(v)]),
    );
  }
  return x;
}

function metadataFiles(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    const s = statSync(p);
    if (s.isDirectory()) metadataFiles(p, out);
    else if (n === 'metadata') out.push(p);
  }
  return out;
}

describe('real metadata: parse → emit → parse', () => {
  it('gives the same trace class for the fixture', () => {
    const path = new URL('../../fixtures/babeltrace/multi-domains-kernel/metadata', import.meta.url).pathname;
    const cls = readMetadataFile(path).cls;
    expect(parseMetadata(emitTsdl(cls), 'emitted')).toEqual(cls);
  });

  // The shared collection is not part of the repository (CI may not have it): optional.
  it.skipIf(sharedTracesMissing() !== undefined)(
    'gives the same trace class for every metadata in /work/shared/traces the parser reads',
    () => {
      let checked = 0;
      const failures: string[] = [];
      for (const path of metadataFiles(SHARED)) {
        let cls: TraceClass;
        try {
          cls = readMetadataFile(path).cls;
        } catch {
          continue; // rejected by the parser (CTF 2, fail cases): nothing to print
        }
        let again: TraceClass;
        try {
          again = parseMetadata(emitTsdl(cls), `${path} (emitted)`);
        } catch (e) {
          failures.push(`${path}: ${(e as Error).message}`);
          continue;
        }
        try {
          expect(refsWithoutText(again)).toEqual(refsWithoutText(cls));
        } catch {
          failures.push(`${path}: trace class differs`);
        }
        checked++;
      }
      expect(failures).toEqual([]);
      expect(checked).toBeGreaterThan(100);
    },
  );
});
