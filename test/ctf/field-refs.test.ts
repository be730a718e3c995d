/**
 * Sequence lengths and variant tags wherever CTF 1.8 lets them be (issue 11's three crash
 * classes and their siblings): in the packet header, inside array elements, inside variant
 * options that are not selected; and alignments beyond what nstrace accepts. Each case either
 * decodes exactly like babeltrace2 or fails with one typed error naming the file and position;
 * none may throw anything else or print a value that was not decoded (`undefined`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TraceSet } from '../../src/ctf/index.js';
import { MetadataError, NstraceError, TraceFormatError } from '../../src/util/errors.js';
import { thrownBy } from '../helpers/errors.js';
import { bt2Print, nstracePrint } from '../text/bt2-compare.js';
import { babeltrace2Check, requireCapability } from '../helpers/require.js';

const HAVE_BT2 = requireCapability('babeltrace2 2.0.x', babeltrace2Check);

const work = mkdtempSync(join(tmpdir(), 'nstrace-refs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A one-packet, one-event trace whose payload is `fields` and whose payload bytes are `hex`. */
function trace(
  name: string,
  fields: string,
  hex: string,
  header: { tsdl: string; hex: string } = { tsdl: '', hex: '' },
): string {
  const metadata = `/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
trace { major = 1; minor = 8; byte_order = le;
  packet.header := struct { uint32_t magic; uint32_t stream_id; ${header.tsdl} }; };
clock { name = c; freq = 1000000000; };
typealias integer { size = 64; align = 8; signed = false; map = clock.c.value; } := uint64_clock_t;
stream { id = 0;
  packet.context := struct { uint64_t packet_size; uint64_t content_size; };
  event.header := struct { uint32_t id; uint64_clock_t timestamp; }; };
event { name = "ev"; id = 0; stream_id = 0; fields := struct { ${fields} }; };
`;
  const extra = Buffer.from(header.hex, 'hex');
  const body = Buffer.from(hex, 'hex');
  const h = 8 + extra.length;
  const content = h + 16 + 12 + body.length;
  const p = Buffer.alloc(content);
  p.writeUInt32LE(0xc1fc1fc1, 0);
  p.writeUInt32LE(0, 4);
  extra.copy(p, 8);
  p.writeBigUInt64LE(BigInt(content * 8), h);
  p.writeBigUInt64LE(BigInt(content * 8), h + 8);
  p.writeUInt32LE(0, h + 16);
  p.writeBigUInt64LE(10n, h + 20);
  body.copy(p, h + 28);
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'metadata'), metadata);
  writeFileSync(join(dir, 'stream_0'), p);
  return dir;
}

function drain(dir: string): number {
  const ts = TraceSet.open([dir]);
  let n = 0;
  try {
    for (let r = ts.next(); r !== null; r = ts.next()) n++;
  } finally {
    ts.close();
  }
  return n;
}

/** Cases where babeltrace2 decodes the event: nstrace must print the same line. */
const SAME_AS_BT2: Array<[string, string, string, string]> = [
  ['length in the packet header (absolute path)', 'uint8_t d[trace.packet.header.stream_id];', '', 'd = [ ]'],
  [
    'length in the packet header, non-zero',
    'uint8_t d[trace.packet.header.n];',
    '0102',
    'd = [ [0] = 1, [1] = 2 ]',
  ],
  [
    'length inside the same array element',
    'struct { uint8_t l; uint8_t d[l]; } arr[2];',
    '0201020103',
    'arr = [ [0] = { l = 2, d = [ [0] = 1, [1] = 2 ] }, [1] = { l = 1, d = [ [0] = 3 ] } ]',
  ],
  [
    'variant tag inside the same array element',
    'struct { enum : uint8_t { A = 0, B = 1 } t; variant <t> { uint8_t A; uint32_t B; } v; } arr[2];',
    '0007010a000000',
    'arr = [ [0] = { t = ( "A" : container = 0 ), v = { 7 } }, [1] = { t = ( "B" : container = 1 ), v = { 10 } } ]',
  ],
  [
    'length inside the selected variant option',
    'enum : uint8_t { A = 0, B = 1 } t; variant <t> { struct { uint8_t l; } A; uint8_t B; } v; uint8_t d[v.A.l];',
    '000105',
    't = ( "A" : container = 0 ), v = { { l = 1 } }, d = [ [0] = 5 ]',
  ],
  [
    'nested elements: lengths in arrays of arrays',
    'struct { uint8_t n; struct { uint8_t m; uint8_t d[m]; } in[n]; } arr[1];',
    '02010902 0a0b'.replace(/ /g, ''),
    'arr = [ [0] = { n = 2, in = [ [0] = { m = 1, d = [ [0] = 9 ] }, [1] = { m = 2, d = [ [0] = 10, [1] = 11 ] } ] } ]',
  ],
];

describe('sequence lengths and variant tags', () => {
  for (const [title, fields, hex, expected] of SAME_AS_BT2) {
    it(`${title}: decoded, as babeltrace2 does`, async () => {
      const header = fields.includes('header.n') ? { tsdl: 'uint8_t n;', hex: '02' } : undefined;
      const dir = trace(title.replace(/\W+/g, '-'), fields, hex, header);
      const ours = await nstracePrint([dir]);
      expect(ours.error).toBeUndefined();
      const line = ours.out.toString('latin1');
      expect(line).toContain(`ev: { ${expected} }`);
      expect(line).not.toContain('undefined');
      if (HAVE_BT2) {
        const bt2 = bt2Print([dir]);
        expect(bt2.status).toBe(0);
        expect(line).toBe(bt2.stdout.toString('latin1'));
      }
    });
  }

  it('a length naming the packet magic (issue 11, crash 1): a clean length error', () => {
    const dir = trace('magic', 'uint8_t d[trace.packet.header.magic];', '00');
    const e = thrownBy(NstraceError, () => drain(dir));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toBe(
      `${join(dir, 'stream_0')}: at byte 36: event.fields field \`d\`: length 3254525889 does not fit in the rest of the packet`,
    );
  });

  it('a relative length naming stream_id of the packet header (issue 11, crash 2): decoded', async () => {
    // CTF 1.8 §7.3.2 searches the earlier scopes for relative paths; babeltrace2 only the
    // current one (it refuses this metadata): a documented deviation, never a crash.
    const dir = trace('rel-stream-id', 'uint8_t d[stream_id];', '');
    const ours = await nstracePrint([dir]);
    expect(ours.error).toBeUndefined();
    expect(ours.out.toString('latin1')).toContain('ev: { d = [ ] }');
  });

  it('a length inside a variant option that is not selected has no value: an error, not a stale value', () => {
    const fields =
      'enum : uint8_t { A = 0, B = 1 } t; variant <t> { struct { uint8_t l; } A; uint8_t B; } v; uint8_t d[v.A.l];';
    const dir = trace('unselected', fields, '0105');
    const e = thrownBy(NstraceError, () => drain(dir));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toBe(
      `${join(dir, 'stream_0')}: at byte 38: event.fields field \`d\`: its length \`v.A.l\` has no value (not decoded for this event)`,
    );
  });

  it('a tag inside a variant option that is not selected has no value', () => {
    const fields =
      'enum : uint8_t { A = 0, B = 1 } t; variant <t> { struct { enum : uint8_t { X = 0 } u; } A; uint8_t B; } v; variant <v.A.u> { uint8_t X; } w;';
    const dir = trace('unselected-tag', fields, '010500');
    const e = thrownBy(NstraceError, () => drain(dir));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toMatch(/event\.fields field `w`: its tag `v\.A\.u` has no value/);
  });

  it('nested arrays of empty structures are bounded per event (they multiply), not a hang', () => {
    const dir = trace('nested-empty', 'struct { } fz[1000000][1000000];', '00');
    const e = thrownBy(NstraceError, () => drain(dir));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toMatch(
      /event\.fields field `fz\.\[\]`: more than 1000000 elements without data in one event$/,
    );
    // Under the budget it decodes: 999 x 1000 empty structures and one byte.
    expect(drain(trace('nested-empty-ok', 'struct { } fz[999][1000]; uint8_t x;', '00'))).toBe(1);
  });

  it('an alignment of 2^31 (issue 11, crash 3) is a metadata error; 2^20 decodes or fails cleanly', () => {
    const big = trace('align31', 'uint8_t x;', '00', {
      tsdl: 'integer { size = 8; align = 2147483648; } fz;',
      hex: '',
    });
    const e = thrownBy(NstraceError, () => drain(big));
    expect(e).toBeInstanceOf(MetadataError);
    expect(e.message).toMatch(
      /metadata:6:\d+: metadata: integer alignment 2147483648 is too large \(at most 1048576 bits\)$/,
    );
    for (const [name, fields] of [
      ['align20-int', 'integer { size = 8; align = 1048576; } x;'],
      ['align20-empty-array', 'struct {} align(1048576) s[0]; uint8_t x;'],
      ['align20-struct', 'uint8_t x; struct {} align(1048576) s;'],
    ] as const) {
      const e2 = thrownBy(NstraceError, () => drain(trace(name, fields, '00')));
      expect(e2).toBeInstanceOf(TraceFormatError);
      expect(e2.message).toMatch(
        /at byte 131072: event\.fields field `[xs]` goes past the end of the packet content$/,
      );
    }
  });
});
