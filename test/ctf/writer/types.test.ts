/**
 * Every field type the writer encodes, checked against babeltrace2: its Python bindings
 * (exact values) for all of them, and its text output for a representative event.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  TraceWriter,
  array,
  char,
  charArray,
  enumeration,
  field,
  float32,
  float64,
  hex,
  int,
  lttngField,
  lttngLayout,
  lttngSequence,
  oct,
  s32,
  sint,
  string,
  struct,
  u32,
  u8,
  uint,
  variant,
} from '../../../src/ctf/writer/index.js';
import type { WValue } from '../../../src/ctf/writer/index.js';
import { structValue } from './expected.js';
import { kitchenSink, randomValue, rng } from './random.js';
import { afterName, bt1, bt2Events, bt2Lines, tempDir } from './peers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe.each([
  ['le', false],
  ['be', false],
  ['le', true],
  ['be', true],
] as const)('field types, %s byte order, natural alignment %s', (bo, natural) => {
  it('babeltrace2 decodes every value as written', () => {
    const dir = join(tmp.dir, `types-${bo}-${natural}`);
    const tw = TraceWriter.create({
      dir,
      layout: lttngLayout({
        domain: 'ust',
        byteOrder: bo,
        naturalAlignment: natural,
        hostname: 'h',
        clock: { offsetCycles: 0n },
      }),
      packetSize: 8192,
    });
    tw.addStreamClass({ header: 'large' });
    const ev = tw.addEventClass({ name: 'k:sink', fields: kitchenSink(), logLevel: 13 });
    const r = rng(bo === 'le' ? 1 : 2);
    const written: WValue[][] = [];
    const s = tw.stream(0, 0);
    for (let i = 0; i < 60; i++) {
      const v = ev.cls.fields!.fields.map((f) => randomValue(r, f.type));
      written.push(v);
      expect(s.write(ev, 1000 + i * 1000, v)).toBe(true);
    }
    tw.close();
    const got = bt2Events(dir);
    expect(got).toHaveLength(written.length);
    got.forEach((g, i) => {
      expect(g.payload).toEqual(structValue(ev.cls.fields!, written[i]));
      expect(g.cs).toBe(String(1000 + i * 1000));
    });
  });
});

describe('text output', () => {
  it.each(['le', 'be'] as const)('babeltrace2 prints the values written (%s)', (bo) => {
    const dir = join(tmp.dir, `text-${bo}`);
    const tw = TraceWriter.create({
      dir,
      layout: lttngLayout({ domain: 'ust', byteOrder: bo, hostname: 'h', clock: { offsetCycles: 0n } }),
      packetSize: 4096,
    });
    tw.addStreamClass({ header: 'large' });
    const tag = enumeration(u8(), { a: 0, b: [1, 5], c: 9 });
    const ev = tw.addEventClass({
      name: 'p:e',
      fields: [
        lttngField('h', hex(32)),
        lttngField('hs', int(32, { signed: true, base: 16 })),
        lttngField('o', oct(16)),
        lttngField('b3', uint(3)),
        lttngField('sb5', sint(5)),
        lttngField('bin', int(8, { base: 2 })),
        lttngField('f', float32()),
        lttngField('d', float64()),
        lttngField('en', enumeration(s32(), { X: 1, Y: [2, 10] })),
        lttngField('tag', tag),
        lttngField(
          'v',
          variant('_tag', [field('a', u8()), field('b', string()), field('c', struct([field('_x', u8())]))]),
        ),
        lttngField('st', struct([lttngField('i', u8()), lttngField('s', string())])),
        lttngField('arr', array(s32(), 3)),
        lttngField('u64', uint(64)),
        lttngField('s64', sint(64)),
        lttngField('comm', charArray(16)),
        ...lttngSequence('msg', char(), u32()),
      ],
    });
    const s = tw.stream(0, 0);
    const x = 0xdeadbeef;
    s.write(ev, 100, [
      x,
      -2,
      0o755,
      5,
      -7,
      5,
      1.5,
      -2.25e-10,
      7,
      0,
      { option: 1, value: 'str' },
      [3, 'in'],
      [1, -2, 3],
      2n ** 64n - 1n,
      -(2n ** 63n),
      'systemd-journal',
      0,
      'héllo',
    ]);
    s.write(ev, 200, [
      0,
      0,
      0,
      0,
      0,
      0,
      0.5,
      1e300,
      'X',
      0,
      { option: 'c', value: [9] },
      [0, 'z'],
      [7, 8, 9],
      0,
      0,
      'a-very-long-command-name',
      0,
      '',
    ]);
    tw.close();
    const lines = bt2Lines(dir);
    expect(lines.map((l) => afterName(l, 'p:e'))).toEqual([
      `{ cpu_id = 0 }, { h = 0x${x.toString(16).toUpperCase()}, hs = 0xFFFFFFFE, o = 0${(0o755).toString(8)}, b3 = 5, sb5 = -7, ` +
        `bin = 0b00000101, f = 1.5, d = -2.25e-10, en = ( "Y" : container = 7 ), tag = ( "b" : container = 1 ), v = { "str" }, ` +
        `st = { i = 3, s = "in" }, arr = [ [0] = 1, [1] = -2, [2] = 3 ], u64 = ${2n ** 64n - 1n}, s64 = ${-(2n ** 63n)}, ` +
        `comm = "systemd-journal", _msg_length = ${'héllo'.length + 1}, msg = "héllo" }`,
      // The option 'c' is selected by tag value 9 (the writer replaces the given 0, which selects 'a').
      `{ cpu_id = 0 }, { h = 0x0, hs = 0x0, o = 00, b3 = 0, sb5 = 0, bin = 0b00000000, f = 0.5, d = 1e+300, ` +
        `en = ( "X" : container = 1 ), tag = ( "c" : container = 9 ), v = { { x = 9 } }, st = { i = 0, s = "z" }, ` +
        `arr = [ [0] = 7, [1] = 8, [2] = 9 ], u64 = 0, s64 = 0, comm = "a-very-long-comm", _msg_length = 0, msg = "" }`,
    ]);
    // babeltrace 1.5 agrees on the values too (it names variant options).
    const one = bt1(dir);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('v = { b = "str" }');
    expect(one.stdout).toContain('v = { c = { x = 9 } }');
  });
});

describe('empty strings', () => {
  it('are written as a lone NUL (checked with babeltrace 1.5: babeltrace2 2.0.4 misprints them)', () => {
    const dir = join(tmp.dir, 'empty');
    const tw = TraceWriter.create({
      dir,
      layout: lttngLayout({ domain: 'ust', hostname: 'h', clock: { offsetCycles: 0n } }),
    });
    tw.addStreamClass({});
    const ev = tw.addEventClass({
      name: 'e',
      fields: [
        lttngField('s', string()),
        lttngField('t', string()),
        lttngField('c', charArray(4)),
        ...lttngSequence('q', char(), u8()),
      ],
    });
    const s = tw.stream(0, 0);
    const vals = [
      ['', 'x', '', 0, ''],
      ['abc', '', 'ab', 0, 'xy'],
      ['', '', '', 0, ''],
      ['q', 'r', 's', 0, 't'],
    ];
    vals.forEach((v, i) => s.write(ev, 10 + i, v));
    tw.close();
    const one = bt1(dir);
    expect(one.code).toBe(0);
    const got = one.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => afterName(l, 'e'));
    const text = (v: (string | number)[]): string =>
      `{ cpu_id = 0 }, { s = "${v[0]}", t = "${v[1]}", c = "${v[2]}", _q_length = ${String(v[4]).length}, q = "${v[4]}" }`;
    expect(got).toEqual(vals.map(text));
    // babeltrace2 gets the first event right (nothing stale to show yet).
    expect(afterName(bt2Lines(dir)[0]!, 'e')).toBe(text(vals[0]!));
  });
});
