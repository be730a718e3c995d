/**
 * TSDL constructs one by one: what each means in the IR, and how each is rejected.
 */
import { describe, expect, it } from 'vitest';
import { thrownBy } from '../../../test/helpers/errors.js';
import { MetadataError } from '../../util/errors.js';
import type {
  ArrayFC,
  EnumFC,
  EventClass,
  FieldClass,
  IntegerFC,
  SequenceFC,
  StructFC,
  TraceClass,
  VariantFC,
} from '../ir.js';
import { parseMetadata, readMetadataFile, type MetadataWarning, type ParseOptions } from './index.js';
import { parse } from './parser.js';
import { resolve } from './resolve.js';

const HEAD = `/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 16; align = 8; signed = false; } := uint16_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
trace { major = 1; minor = 8; byte_order = le; };
`;

function meta(body: string, options?: ParseOptions): TraceClass {
  return parseMetadata(HEAD + body, 'test', options);
}

/** The only event class (or the one named). */
function event(cls: TraceClass, name?: string): EventClass {
  const all = [...cls.streamClasses.values()].flatMap((s) => [...s.eventClasses.values()]);
  const ec = name === undefined ? all[0] : all.find((e) => e.name === name);
  if (ec === undefined) throw new Error('no such event');
  return ec;
}

function field(s: StructFC | undefined, ...path: string[]): FieldClass {
  let cur: FieldClass | undefined = s;
  for (const p of path) {
    if (cur?.kind === 'struct') cur = cur.fields.find((f) => f.name === p)?.type;
    else if (cur?.kind === 'variant') cur = cur.options.find((f) => f.name === p)?.type;
    else if (cur?.kind === 'array' || cur?.kind === 'sequence') cur = cur.element;
    else cur = undefined;
    if (cur === undefined) throw new Error(`no field ${path.join('.')}`);
  }
  return cur!;
}

/** Payload field `path` of the only event, in metadata whose event has `fields` as payload. */
function payload(fields: string, ...path: string[]): FieldClass {
  return field(event(meta(`event { name = e; fields := struct { ${fields} }; };`)).fields, ...path);
}

function error(text: string, full = false): MetadataError {
  return thrownBy(MetadataError, () => parseMetadata(full ? text : HEAD + text, 'test'));
}

/** Line of `needle` in HEAD + body (1-based). */
function lineOf(body: string, needle: string): number {
  return (HEAD + body).split('\n').findIndex((l) => l.includes(needle)) + 1;
}

describe('integers', () => {
  it('reads every attribute, with the defaults of the spec', () => {
    expect(payload('integer { size = 5; } x;', 'x')).toEqual({
      kind: 'int',
      size: 5,
      align: 1,
      signed: false,
      byteOrder: 'le',
      base: 10,
      encoding: 'none',
    });
    expect(payload('integer { size = 16; } x;', 'x')).toMatchObject({ align: 8 });
    expect(
      payload(
        'integer { size = 64; align = 64; signed = true; byte_order = be; base = hex; encoding = ASCII; } x;',
        'x',
      ),
    ).toEqual({
      kind: 'int',
      size: 64,
      align: 64,
      signed: true,
      byteOrder: 'be',
      base: 16,
      encoding: 'ascii',
    });
  });

  it('knows every base spelling and every byte order spelling', () => {
    const base = (b: string) => (payload(`integer { size = 8; base = ${b}; } x;`, 'x') as IntegerFC).base;
    for (const b of ['decimal', 'dec', 'd', 'i', 'u', '10']) expect(base(b)).toBe(10);
    for (const b of ['hexadecimal', 'hex', 'x', 'X', 'p', '16']) expect(base(b)).toBe(16);
    for (const b of ['octal', 'oct', 'o', '8']) expect(base(b)).toBe(8);
    for (const b of ['binary', 'b', '2']) expect(base(b)).toBe(2);
    const bo = (b: string) =>
      (payload(`integer { size = 8; byte_order = ${b}; } x;`, 'x') as IntegerFC).byteOrder;
    expect(['native', 'le', 'little_endian'].map(bo)).toEqual(['le', 'le', 'le']);
    expect(['network', 'be', 'big_endian'].map(bo)).toEqual(['be', 'be', 'be']);
    const signed = (v: string) =>
      (payload(`integer { size = 8; signed = ${v}; } x;`, 'x') as IntegerFC).signed;
    expect(['true', 'TRUE', '1'].map(signed)).toEqual([true, true, true]);
    expect(['false', 'FALSE', '0'].map(signed)).toEqual([false, false, false]);
    const enc = (v: string) =>
      (payload(`integer { size = 8; encoding = ${v}; } x;`, 'x') as IntegerFC).encoding;
    expect(['none', 'UTF8', 'utf8', 'ASCII'].map(enc)).toEqual(['none', 'utf8', 'utf8', 'ascii']);
  });

  it('maps to a clock, which must exist', () => {
    const cls = meta(`clock { name = monotonic; };
      typealias integer { size = 27; align = 1; map = clock.monotonic.value; } := uint27_clock_monotonic_t;
      event { name = e; fields := struct { uint27_clock_monotonic_t ts; }; };`);
    expect(field(event(cls).fields, 'ts')).toMatchObject({ size: 27, mappedClock: 'monotonic' });
    expect(error('typealias integer { size = 8; map = clock.nope.value; } := t;').message).toMatch(
      /clock 'nope', which is not declared/,
    );
    expect(error('typealias integer { size = 8; map = monotonic; } := t;').message).toMatch(
      /clock\.NAME\.value/,
    );
  });

  it('shares one object per distinct integer type', () => {
    const ec = event(
      meta(`event { name = e; fields := struct {
      integer { size = 32; align = 8; signed = 1; encoding = none; base = 10; } a;
      integer { size = 32; align = 8; signed = 1; encoding = none; base = 10; } b;
      integer { size = 32; align = 8; signed = 1; encoding = none; base = 16; } c;
    }; };`),
    );
    expect(field(ec.fields, 'a')).toBe(field(ec.fields, 'b'));
    expect(field(ec.fields, 'a')).not.toBe(field(ec.fields, 'c'));
  });

  it('rejects bad attributes at the attribute', () => {
    const body = 'typealias integer {\n size = 8;\n align = 3;\n} := t;';
    const e = error(body);
    expect(e.message).toMatch(/power of two \(got 3\)/);
    expect(e.line).toBe(lineOf(body, 'align = 3'));
    expect(error('typealias integer { size = 65; } := t;').message).toMatch(/between 1 and 64/);
    expect(error('typealias integer { size = 8; size = 8; } := t;').message).toMatch(
      /duplicate attribute 'size'/,
    );
    expect(error('typealias integer { size = 8; signed = False; } := t;').message).toMatch(/must be true/);
    expect(error('typealias integer { size = 8; align = 4294967296; } := t;').message).toMatch(/too large/);
  });

  it('warns about unknown attributes', () => {
    const warnings: MetadataWarning[] = [];
    meta('typealias integer { size = 8; colour = blue; } := t;', { onWarning: (w) => warnings.push(w) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ file: 'test', line: 7, message: expect.stringMatching(/'colour'/) });
  });
});

describe('native byte order', () => {
  const body = (order: string) => `/* CTF 1.8 */
typealias integer { size = 32; byte_order = native; } := n32;
typealias floating_point { exp_dig = 8; mant_dig = 24; } := f32;
struct hdr { n32 a; f32 b; };
trace { major = 1; minor = 8; byte_order = ${order}; packet.header := struct hdr; };`;

  it('is the byte order of the trace block, even when the trace block comes after', () => {
    for (const order of ['le', 'be'] as const) {
      const cls = parseMetadata(body(order), 'm');
      expect(cls.byteOrder).toBe(order);
      expect(field(cls.packetHeader, 'a')).toMatchObject({ byteOrder: order });
      expect(field(cls.packetHeader, 'b')).toMatchObject({ kind: 'float', byteOrder: order });
    }
  });

  it('is right even when a comment fools the first guess', () => {
    const text = body('be').replace('/* CTF 1.8 */', '/* CTF 1.8 */ /* trace { byte_order = le; } */');
    expect(field(parseMetadata(text, 'm').packetHeader, 'a')).toMatchObject({ byteOrder: 'be' });
    // Same from an AST resolved in one go.
    expect(field(resolve(parse(text, 'm'), 'm').packetHeader, 'a')).toMatchObject({ byteOrder: 'be' });
  });

  it('must agree with the byte order of the metadata packets', () => {
    expect(() => parseMetadata(body('le'), 'm', { packetByteOrder: 'be' })).toThrow(
      /byte order le does not match the byte order of the metadata packets \(be\)/,
    );
  });

  it('is not a valid trace byte order', () => {
    expect(
      error('/* CTF 1.8 */ trace { major = 1; minor = 8; byte_order = native; };', true).message,
    ).toMatch(/trace byte_order must be 'be' or 'le'/);
    expect(error('/* CTF 1.8 */ trace { major = 1; minor = 8; };', true).message).toMatch(/no 'byte_order'/);
  });
});

describe('floating point and strings', () => {
  it('reads 32-bit and 64-bit floats, and refuses other sizes', () => {
    expect(payload('floating_point { exp_dig = 11; mant_dig = 53; align = 64; } d;', 'd')).toEqual({
      kind: 'float',
      expDig: 11,
      mantDig: 53,
      align: 64,
      byteOrder: 'le',
    });
    expect(payload('floating_point { exp_dig = 8; mant_dig = 24; } f;', 'f')).toMatchObject({ align: 8 });
    expect(error('typealias floating_point { exp_dig = 15; mant_dig = 64; } := ld;').message).toMatch(
      /only IEEE 754 binary32/,
    );
  });

  it('reads strings and their encoding', () => {
    expect(payload('string s;', 's')).toEqual({ kind: 'string', encoding: 'utf8', align: 8 });
    expect(payload('string { encoding = ASCII; } s;', 's')).toEqual({
      kind: 'string',
      encoding: 'ascii',
      align: 8,
    });
  });
});

describe('enumerations', () => {
  it('gives implicit values, ranges, quoted labels and merges repeated labels', () => {
    const e = payload(
      'enum : uint8_t { ZERO, ONE, TEN = 10, ELEVEN, "R A N G E" = 20 ... 30, AFTER, ONE = 40, } x;',
      'x',
    ) as EnumFC;
    expect(e.container).toMatchObject({ size: 8, signed: false });
    expect(e.align).toBe(8);
    expect(e.mappings).toEqual([
      { label: 'ZERO', ranges: [[0n, 0n]] },
      {
        label: 'ONE',
        ranges: [
          [1n, 1n],
          [40n, 40n],
        ],
      },
      { label: 'TEN', ranges: [[10n, 10n]] },
      { label: 'ELEVEN', ranges: [[11n, 11n]] },
      { label: 'R A N G E', ranges: [[20n, 30n]] },
      { label: 'AFTER', ranges: [[31n, 31n]] },
    ]);
  });

  it('uses the type named int when there is no container, and checks ranges against the container', () => {
    const e = meta(`typealias integer { size = 16; signed = true; } := int;
      event { name = e; fields := struct { enum { A = -5, B } x; }; };`);
    expect(field(event(e).fields, 'x')).toMatchObject({
      container: { size: 16, signed: true },
      mappings: [
        { label: 'A', ranges: [[-5n, -5n]] },
        { label: 'B', ranges: [[-4n, -4n]] },
      ],
    });
    expect(payload('enum : integer { size = 64; } { MAX = 0xFFFFFFFFFFFFFFFF } x;', 'x')).toMatchObject({
      mappings: [{ ranges: [[(1n << 64n) - 1n, (1n << 64n) - 1n]] }],
    });
    expect(error('event { name = e; fields := struct { enum { A } x; }; };').message).toMatch(
      /type named 'int'/,
    );
    expect(error('enum e : uint8_t { A = 255, B };').message).toMatch(
      /implicit value 256 .* out of the container/,
    );
    expect(error('enum e : uint8_t { A = -1 };').message).toMatch(/out of the container's range \[0, 255\]/);
    expect(error('enum e : uint8_t { A = 5 ... 2 };').message).toMatch(/reversed/);
    expect(
      error('typealias floating_point { exp_dig = 8; mant_dig = 24; } := f; enum e : f { A };').message,
    ).toMatch(/must be an integer type, not a floating point/);
  });

  it('names an enum for later use, in its scope', () => {
    const ec = event(
      meta(`enum color : uint8_t { RED, GREEN };
      event { name = e; fields := struct { enum color a; enum color b; }; };`),
    );
    expect(field(ec.fields, 'a')).toBe(field(ec.fields, 'b'));
    expect(error('enum color : uint8_t { RED }; enum color : uint8_t { BLUE };').message).toMatch(
      /already declared/,
    );
    expect(error('event { name = e; fields := struct { enum nope x; }; };').message).toMatch(
      /unknown enum 'nope'/,
    );
  });
});

describe('structures and arrays', () => {
  it('aligns a struct on max(align attribute, fields)', () => {
    const cls = meta(`struct s { uint8_t a; integer { size = 32; align = 32; } b; } align(16);
      struct t { uint8_t a; } align(64);
      event { name = e; fields := struct { struct s x; struct t y; struct t align(128) z; }; };`);
    expect(field(event(cls).fields, 'x')).toMatchObject({ minAlign: 16, align: 32 });
    expect(field(event(cls).fields, 'y')).toMatchObject({ minAlign: 64, align: 64 });
    expect(field(event(cls).fields, 'z')).toMatchObject({ minAlign: 128, align: 128 });
    expect(event(cls).fields).toMatchObject({ minAlign: 1, align: 128 });
  });

  it('reads multi-dimensional arrays in C order, through typedefs too', () => {
    const a = payload('uint16_t a[2][3];', 'a') as ArrayFC;
    expect(a).toMatchObject({ kind: 'array', length: 2, align: 8, element: { kind: 'array', length: 3 } });
    const cls = meta(`typedef uint32_t A[10]; typedef A X[4];
      event { name = e; fields := struct { X x[2]; }; };`);
    expect(field(event(cls).fields, 'x')).toMatchObject({
      length: 2,
      element: { length: 4, element: { length: 10, element: { kind: 'int', size: 32 } } },
    });
  });

  it('takes a static length from the environment', () => {
    const cls = meta('env { n = 3; }; event { name = e; fields := struct { uint8_t a[env.n]; }; };');
    expect(field(event(cls).fields, 'a')).toMatchObject({ kind: 'array', length: 3 });
    expect(error('event { name = e; fields := struct { uint8_t a[env.n]; }; };').message).toMatch(
      /no environment entry 'n'/,
    );
  });

  it('rejects duplicate fields, absurd lengths and what cannot be a field', () => {
    expect(error('struct s { uint8_t a; uint16_t a; };').message).toMatch(/duplicate field 'a'/);
    expect(error('struct s { uint8_t a[4294967296]; };').message).toMatch(/too large/);
    expect(error('struct s { uint8_t a : 3; };').message).toMatch(/bitfield/);
    expect(error('struct s { uint8_t (a); };').message).toMatch(/parenthesized/);
    expect(error('struct s { uint8_t stream; };').message).toMatch(/reserved keyword/);
    expect(error('uint8_t stray;').message).toMatch(/field 'stray' declared at the top level/);
    expect(error('struct s { nope a; };').message).toMatch(/unknown type 'nope'/);
  });
});

describe('sequences', () => {
  function seq(cls: TraceClass, ...path: string[]): SequenceFC {
    const f = field(event(cls).fields, ...path);
    expect(f.kind).toBe('sequence');
    return f as SequenceFC;
  }

  it('resolves a relative length in the same struct or an enclosing one', () => {
    const cls = meta(`event { name = e; fields := struct {
      uint8_t len;
      uint32_t a[len];
      struct { uint16_t inner; uint8_t b[inner]; uint8_t c[len]; } s;
    }; };`);
    expect(seq(cls, 'a').length).toEqual({ scope: 'event.fields', path: ['len'], text: 'len' });
    expect(seq(cls, 's', 'b').length).toEqual({ scope: 'event.fields', path: ['s', 'inner'], text: 'inner' });
    expect(seq(cls, 's', 'c').length).toEqual({ scope: 'event.fields', path: ['len'], text: 'len' });
  });

  it('resolves a relative length where it is written (CTF 1.8 §4.2.2), not where it is used', () => {
    // ctf-testsuite pass/sequence-typedef-length: the `len` next to the use is a string.
    const cls = meta(`event { name = e; fields := struct {
      uint8_t len;
      typedef struct { uint32_t A[len]; } Field;
      struct { string len; Field x; } field;
    }; };`);
    expect(seq(cls, 'field', 'x', 'A').length.path).toEqual(['len']);
  });

  it('resolves a length inside a named struct for each use of the struct', () => {
    const cls = meta(`struct blob { uint16_t n; uint8_t data[n]; };
      event { name = e; fields := struct { struct blob a; struct blob b[2]; }; };`);
    expect(seq(cls, 'a', 'data').length.path).toEqual(['a', 'n']);
    // Inside an array element: the path names the array field (its element being decoded).
    expect(seq(cls, 'b', '[]', 'data').length.path).toEqual(['b', 'n']);
  });

  it('resolves absolute paths in every earlier scope', () => {
    const cls = meta(
      `
      trace2 {};
      stream {
        packet.context := struct { uint8_t pc; };
        event.header := struct { uint16_t eh; };
        event.context := struct { uint32_t sec; uint8_t s1[stream.event.header.eh]; };
      };
      event { name = e;
        context := struct { uint8_t ec; uint8_t s2[stream.packet.context.pc]; };
        fields := struct {
          uint8_t f;
          uint8_t a[stream.event.context.sec];
          uint8_t b[event.context.ec];
          uint8_t c[event.fields.f];
        };
      };`.replace('trace2 {};', ''),
    );
    const sc = cls.streamClasses.get(0)!;
    expect((field(sc.eventContext, 's1') as SequenceFC).length).toMatchObject({
      scope: 'stream.event.header',
      path: ['eh'],
    });
    expect((field(event(cls).context, 's2') as SequenceFC).length).toMatchObject({
      scope: 'stream.packet.context',
      path: ['pc'],
    });
    expect(seq(cls, 'a').length).toMatchObject({ scope: 'stream.event.context', path: ['sec'] });
    expect(seq(cls, 'b').length).toMatchObject({ scope: 'event.context', path: ['ec'] });
    expect(seq(cls, 'c').length).toMatchObject({
      scope: 'event.fields',
      path: ['f'],
      text: 'event.fields.f',
    });
  });

  it('falls back to where the type is used, then to earlier scopes, for types declared in a block', () => {
    const cls = meta(`stream { event.context := struct { uint16_t _ctxlen; }; };
      event { name = e;
        typedef uint8_t later[len];
        typedef uint8_t outer[_ctxlen];
        fields := struct { uint8_t len; later a; outer b; };
      };`);
    expect(seq(cls, 'a').length).toMatchObject({ scope: 'event.fields', path: ['len'] });
    expect(seq(cls, 'b').length).toMatchObject({ scope: 'stream.event.context', path: ['_ctxlen'] });
  });

  it('rejects lengths that are missing, later, of the wrong type or out of reach', () => {
    const cases: Array<[string, RegExp]> = [
      [
        'event { name = e; fields := struct { uint8_t a[len]; uint8_t len; }; };',
        /no field 'len' before this sequence/,
      ],
      [
        'event { name = e; fields := struct { string len; uint8_t a[len]; }; };',
        /must be an unsigned integer field, not a string/,
      ],
      [
        'event { name = e; fields := struct { integer { size = 8; signed = true; } len; uint8_t a[len]; }; };',
        /not a signed 8-bit integer/,
      ],
      [
        'event { name = e; fields := struct { uint8_t a[event.fields.b]; uint8_t b; }; };',
        /must come before/,
      ],
      [
        'event { name = e; context := struct { uint8_t a[event.fields.n]; }; fields := struct { uint8_t n; }; };',
        /decoded after/,
      ],
      [
        'event { name = e; fields := struct { uint8_t a[stream.event.header.id]; }; };',
        /no stream.event.header structure/,
      ],
      [
        'event { name = e; fields := struct { struct { uint8_t n; } s[2]; uint8_t a[s.n]; }; };',
        /element of an array/,
      ],
      ['event { name = e; fields := struct { uint8_t a[stream.nope.x]; }; };', /invalid absolute path/],
      ['typedef uint8_t t[x];', /no field 'x' precedes this sequence/],
    ];
    for (const [body, reason] of cases) expect(error(body).message).toMatch(reason);
  });
});

describe('variants', () => {
  const HDR = `struct event_header_compact {
  enum : integer { size = 5; align = 1; } { compact = 0 ... 30, extended = 31 } id;
  variant <id> {
    struct { integer { size = 27; align = 1; } timestamp; } compact;
    struct { uint32_t id; uint64_t timestamp; } extended;
  } v;
} align(8);
stream { event.header := struct event_header_compact; };
`;

  it('resolves the LTTng compact event header', () => {
    const cls = meta(`${HDR} event { name = a; id = 0; }; event { name = b; id = 1; };`);
    const v = field(cls.streamClasses.get(0)!.eventHeader, 'v') as VariantFC;
    expect(v.tag).toEqual({ scope: 'stream.event.header', path: ['id'], text: 'id' });
    expect(v.options.map((o) => o.name)).toEqual(['compact', 'extended']);
    expect(v.align).toBe(1);
    expect(cls.streamClasses.get(0)!.eventHeader!.align).toBe(8);
  });

  it('tags a named untagged variant where it is used; tags in nested structs find outer fields', () => {
    const cls = meta(`variant u { uint8_t a; string b; };
      event { name = e; fields := struct {
        enum : uint8_t { a, b } sel;
        variant u <sel> first;
        variant <sel> { struct { variant <sel> { uint8_t a; uint16_t b; } inner; } a; uint8_t b; } second;
        variant u <event.fields.sel> third;
      }; };`);
    const ec = event(cls);
    expect((field(ec.fields, 'first') as VariantFC).tag.path).toEqual(['sel']);
    expect((field(ec.fields, 'second', 'a', 'inner') as VariantFC).tag.path).toEqual(['sel']);
    expect((field(ec.fields, 'third') as VariantFC).tag).toMatchObject({
      scope: 'event.fields',
      path: ['sel'],
    });
  });

  it('refers to a tag in the event header from the event payload', () => {
    const cls = meta(`${HDR} event { name = a; id = 0; fields := struct {
      variant <stream.event.header.id> { uint8_t compact; uint32_t extended; } x; }; };
      event { name = b; id = 1; };`);
    expect((field(event(cls, 'a').fields, 'x') as VariantFC).tag).toMatchObject({
      scope: 'stream.event.header',
      path: ['id'],
    });
  });

  it('rejects variants that cannot be decoded', () => {
    const cases: Array<[string, RegExp]> = [
      [
        'variant u { uint8_t a; }; event { name = e; fields := struct { variant u x; }; };',
        /untagged variant/,
      ],
      [
        'struct s { uint8_t tag; variant <tag> { uint8_t a; } v; };',
        /must be an enumeration field, not a unsigned/,
      ],
      [
        'struct s { enum : uint8_t { x, y } tag; variant <tag> { uint8_t a; uint8_t b; } v; };',
        /no label of the tag/,
      ],
      ['struct s { enum : uint8_t { a } tag; variant <tag> { } v; };', /at least one option/],
      [
        'struct s { enum : uint8_t { a } tag; variant <tag> { uint8_t a; uint16_t a; } v; };',
        /duplicate option/,
      ],
      [
        'struct s { enum : uint8_t { a } tag; variant <tag> { uint8_t a; } v; variant <v> { uint8_t a; } w; };',
        /not a variant/,
      ],
    ];
    for (const [body, reason] of cases) expect(error(body).message).toMatch(reason);
  });
});

describe('type names and scopes', () => {
  it('accepts multi-word and keyword type names, and aliases of aliases', () => {
    const cls = meta(`typealias integer { size = 64; signed = false; } := unsigned long;
      typealias integer { size = 32; signed = true; } := int;
      typealias unsigned long := ulong_t;
      typedef int myint;
      event { name = e; fields := struct { unsigned long a; int b; ulong_t c; myint d; const int e; }; };`);
    const f = event(cls).fields!;
    expect(field(f, 'a')).toMatchObject({ size: 64 });
    expect(field(f, 'c')).toBe(field(f, 'a'));
    expect(field(f, 'd')).toBe(field(f, 'b'));
    expect(field(f, 'e')).toBe(field(f, 'b'));
  });

  it('scopes declarations per block and compound, hiding allowed, redefinition not', () => {
    const cls = meta(`
      event { name = e;
        typealias integer { size = 16; } := local_t;
        fields := struct {
          typealias integer { size = 8; } := uint32_t;
          uint32_t hidden;
          local_t l;
          struct { typedef uint16_t deep_t; deep_t d; } s;
        };
      };`);
    expect(field(event(cls).fields, 'hidden')).toMatchObject({ size: 8 });
    expect(field(event(cls).fields, 'l')).toMatchObject({ size: 16 });
    expect(
      error('event { name = a; typedef uint8_t t; }; event { name = b; fields := struct { t x; }; };')
        .message,
    ).toMatch(/unknown type 't'/);
    expect(error('struct s { typedef uint8_t t; t a; }; struct u { t b; };').message).toMatch(
      /unknown type 't'/,
    );
    expect(error('typedef uint8_t t; typealias uint16_t := t;').message).toMatch(/'t' is already declared/);
    expect(error('struct s { uint8_t a; }; struct s { uint8_t b; };').message).toMatch(
      /struct 's' is already declared/,
    );
  });
});

describe('blocks', () => {
  it('reads trace, env, clock, stream, event and callsite blocks', () => {
    const cls = parseMetadata(
      `/* CTF 1.8 */
typealias integer { size = 32; } := uint32_t;
trace {
  major = 1; minor = 8; byte_order = be;
  uuid = "2a6422d0-6cee-11e0-8c08-cb07d7b3a564";
  packet.header := struct { uint32_t magic; uint32_t stream_id; };
};
env { hostname = "box"; domain = "kernel"; tracer_major = 2; big = -9223372036854775808; };
clock {
  name = monotonic; uuid = "62189bee-96dc-11e0-91a8-cfa3d89f3923";
  description = "mono"; freq = 1000000000; precision = 1000;
  offset_s = 1326476837; offset = 1897235420; absolute = TRUE;
};
clock { name = "neg"; freq = 1000; offset_s = -10; offset = -1; };
event { name = late; id = 3; stream_id = 1; loglevel = 13; model.emf.uri = "http://x"; };
stream { id = 1; };
stream { id = 0; };
event { name = "first"; stream_id = 0; };
callsite { name = "late"; func = "main"; file = "a.c"; line = 39; ip = 0x40096c; };
`,
      'm',
    );
    expect(cls.byteOrder).toBe('be');
    expect([...cls.uuid!].map((b) => b.toString(16).padStart(2, '0')).join('')).toBe(
      '2a6422d06cee11e08c08cb07d7b3a564',
    );
    expect([...cls.env]).toEqual([
      ['hostname', 'box'],
      ['domain', 'kernel'],
      ['tracer_major', 2],
      ['big', -(1n << 63n)],
    ]);
    // Offsets are normalised to whole seconds plus 0 <= cycles < freq.
    expect(cls.clocks.get('monotonic')).toMatchObject({
      freq: 1e9,
      offsetSeconds: 1326476838,
      offsetCycles: 897235420,
      precision: 1000,
      absolute: true,
      description: 'mono',
    });
    expect(cls.clocks.get('neg')).toMatchObject({ offsetSeconds: -11, offsetCycles: 999, absolute: false });
    expect([...cls.streamClasses.keys()]).toEqual([1, 0]);
    expect(cls.streamClasses.get(1)!.eventClasses.get(3)).toEqual({
      id: 3,
      name: 'late',
      streamClassId: 1,
      logLevel: 13,
      emfUri: 'http://x',
    });
    expect(cls.streamClasses.get(0)!.eventClasses.get(0)!.name).toBe('first');
    expect(cls.callsites).toEqual([{ name: 'late', func: 'main', file: 'a.c', line: 39, ip: 0x40096cn }]);
  });

  it('gives events without a stream the only stream, or an implicit stream 0', () => {
    expect(meta('event { name = a; };').streamClasses.get(0)!.eventClasses.get(0)!.name).toBe('a');
    expect(meta('stream { id = 5; }; event { name = a; };').streamClasses.get(5)!.eventClasses.size).toBe(1);
    expect(meta('').streamClasses.size).toBe(0);
  });

  it('rejects inconsistent blocks', () => {
    const cases: Array<[string, RegExp]> = [
      ['trace { major = 1; minor = 8; byte_order = le; };', /duplicate trace block/],
      [
        'stream { id = 0; }; stream { id = 0; };',
        /several streams, so its packet header needs a 'stream_id'/,
      ],
      ['event { name = a; }; event { name = b; };', /duplicate event id 0/],
      [
        'stream { id = 0; event.header := struct { uint8_t x; }; }; event { name = a; id = 0; }; event { name = b; id = 1; };',
        /event header has no 'id' field/,
      ],
      ['event { name = a; stream_id = 3; }; stream { id = 0; };', /stream 3, which is not declared/],
      ['event { id = 0; };', /no 'name' attribute/],
      ['env { a = 1; }; env { b = 2; };', /duplicate env block/],
      ['env { a = x; };', /string or an integer constant/],
      ['env { a = 9223372036854775808; };', /signed 64-bit range/],
      ['clock { freq = 1; };', /no 'name' attribute/],
      ['clock { name = c; }; clock { name = c; };', /duplicate clock 'c'/],
      ['clock { name = c; freq = 0; };', /must not be 0/],
      ['clock { name = c; uuid = "nope"; };', /invalid UUID/],
      ['event { name = a; fields := uint32_t; };', /must be a structure/],
      ['event { name = a; fields = 3; };', /must be assigned a type/],
      ['event { name = a; name = b; };', /duplicate attribute 'name'/],
    ];
    for (const [body, reason] of cases) expect(error(body).message).toMatch(reason);
    expect(error('/* CTF 1.8 */ trace { major = 2; minor = 0; byte_order = le; };', true).message).toMatch(
      /unsupported CTF version 2\.0/,
    );
    expect(error('/* CTF 1.8 */', true).message).toMatch(/no trace block/);
    expect(error('/* CTF 2.0 */ trace {};', true).message).toMatch(/unsupported metadata signature/);
  });

  it('checks the fields the reader gives a meaning to', () => {
    const cases: Array<[string, RegExp]> = [
      ['struct { uint8_t magic; }', /'magic' .* unsigned 32-bit/],
      ['struct { uint8_t x; uint32_t magic; }', /'magic' must be the first field/],
      ['struct { uint8_t uuid[15]; }', /array of 16 unsigned 8-bit/],
      ['struct { string stream_id; }', /'stream_id' .* unsigned integer/],
    ];
    for (const [header, reason] of cases) {
      const text = `/* CTF 1.8 */ typealias integer { size = 8; } := uint8_t; typealias integer { size = 32; } := uint32_t;
        trace { major = 1; minor = 8; byte_order = le; packet.header := ${header}; };`;
      expect(error(text, true).message).toMatch(reason);
    }
    expect(error('stream { packet.context := struct { string content_size; }; };').message).toMatch(
      /'content_size' in stream.packet.context must be an unsigned integer/,
    );
  });

  it('warns about unknown block attributes and reports warnings once', () => {
    const warnings: string[] = [];
    const text = `/* CTF 1.8 */ /* trace { byte_order = le; } */
      stream { colour = 1; };
      trace { major = 1; minor = 8; byte_order = be; hat = "x"; };`;
    parseMetadata(text, 'm', { onWarning: (w) => warnings.push(w.message) });
    expect(warnings).toEqual([
      "unknown attribute 'colour' in stream block ignored",
      "unknown attribute 'hat' in trace block ignored",
    ]);
  });

  it('reads old CTF 0.1 (LTTng 2.0 pre-release) metadata as 1.8, with a warning', () => {
    const warnings: string[] = [];
    const cls = parseMetadata('/* CTF 1.8 */ trace { major = 0; minor = 1; byte_order = le; };', 'm', {
      onWarning: (w) => warnings.push(w.message),
    });
    expect([cls.major, cls.minor]).toEqual([1, 8]);
    expect(warnings).toEqual(['CTF 0.1 (LTTng 2.0 pre-release) metadata read as CTF 1.8']);
  });
});

describe('files', () => {
  it('reports an unreadable metadata file as a trace format error', () => {
    expect(() => readMetadataFile('/nonexistent/metadata')).toThrow(
      /cannot read the metadata file \(ENOENT\)/,
    );
  });
});

describe('limits', () => {
  it('refuses very deep nesting instead of overflowing the stack', () => {
    const deep = 'struct a { '.repeat(100) + 'uint8_t x;' + ' } f;'.repeat(99) + ' };';
    expect(error(deep).message).toMatch(/nesting deeper than 64/);
    expect(error(`env { x = ${'('.repeat(200)}1${')'.repeat(200)}; };`).message).toMatch(/nesting deeper/);
  });

  it('refuses layouts that expand exponentially', () => {
    let body = 'struct s0 { uint8_t n; uint8_t d[n]; };\n';
    for (let i = 1; i <= 30; i++) body += `struct s${i} { struct s${i - 1} a; struct s${i - 1} b; };\n`;
    body += 'event { name = e; fields := struct { struct s30 x; }; };';
    expect(error(body).message).toMatch(/expands to \d+ field classes/);
  });

  it('shares ref-free types between uses instead of copying them', () => {
    let body = 'struct s0 { uint8_t a; };\n';
    for (let i = 1; i <= 12; i++) body += `struct s${i} { struct s${i - 1} a; struct s${i - 1} b; };\n`;
    body += 'event { name = e; fields := struct { struct s12 x; struct s12 y; }; };';
    const f = event(meta(body)).fields!;
    expect(field(f, 'x')).toBe(field(f, 'y'));
  });
});
