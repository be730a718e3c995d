/**
 * The printer against babeltrace2 2.0.4 on synthetic traces: each case writes a small CTF trace,
 * runs `babeltrace2` on it, and prints the same values (built as the reader would hand them)
 * with our printer. Independent of our CTF reader.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { PrintCliOptions } from '../../src/text/options.js';
import type { FieldClass } from '../../src/ctf/ir.js';
import type { FieldValue } from '../../src/ctf/event.js';
import {
  array,
  babeltrace2,
  BT2_ENV,
  char8,
  enumOf,
  f32,
  f64,
  float,
  int,
  s32,
  s64,
  sequence,
  str,
  struct,
  toRecords,
  traceClass,
  u16,
  u32,
  u64,
  u8,
  variant,
  writeTrace,
  x64,
} from './synth.js';
import type { SynthEvent, SynthTrace, TraceClassSpec } from './synth.js';
import { bt2Args, cliOptions, firstDifference, printRecords, withTmpDir } from './helpers.js';
import { babeltrace2Check, requireCapability } from '../helpers/require.js';

const HAVE_BT2 = requireCapability('babeltrace2 2.0.x', babeltrace2Check);

/** One event class with `fields`, one stream, the given events (payload values only). */
function oneEventTrace(
  fields: Record<string, FieldClass>,
  payloads: FieldValue[][],
  spec: Partial<TraceClassSpec> = {},
): SynthTrace {
  const cls = traceClass({ events: [{ name: 'ev', fields: struct(fields) }], ...spec });
  const events: SynthEvent[] = payloads.map((p, i) => ({ id: 0, ts: 1000 + i * 1_234_567, payload: p }));
  return { cls, streams: [{ streamClassId: 0, instanceId: 0, packets: [{ events }] }] };
}

/** Compares babeltrace2 and the printer for each option set; returns babeltrace2's output. */
function check(t: SynthTrace, optionSets: PrintCliOptions[] = [{}], env = BT2_ENV): string {
  return withTmpDir((dir) => {
    const tdir = join(dir, 'trace');
    writeTrace(tdir, t);
    const recs = toRecords(tdir, t);
    let first = '';
    for (const cli of optionSets) {
      const bt = babeltrace2([...bt2Args(cli), tdir], env);
      expect(bt.status, `babeltrace2 failed: ${bt.stderr.toString()}`).toBe(0);
      const ours = printRecords(recs, cliOptions(cli));
      const diff = firstDifference(ours.out, bt.stdout);
      expect(diff, `options ${JSON.stringify(cli)}`).toBeUndefined();
      if (first === '') first = bt.stdout.toString('utf8');
    }
    return first;
  });
}

const ALL_OPTION_SETS: PrintCliOptions[] = [
  {},
  { names: ['all'] },
  { names: ['none'] },
  { fields: ['all'] },
  { names: ['all'], fields: ['all'] },
  { noDelta: true },
  { clockSeconds: true },
  { clockDate: true, clockGmt: true },
  { clockCycles: true },
  { names: ['payload', 'scope'] },
  { names: ['header'], fields: ['trace,loglevel'] },
];

describe.skipIf(!HAVE_BT2)('printer vs babeltrace2 on synthetic traces', () => {
  it('integers: sizes, signs, bases, bitfields, 64-bit extremes', () => {
    const fields: Record<string, FieldClass> = {
      a: u8,
      b: u16,
      c: u32,
      d: u64,
      e: s32,
      f: s64,
      g: x64,
      h: int(16, { signed: true, base: 16 }),
      i: int(13, { signed: true, base: 8, align: 1 }),
      j: int(5, { signed: true, base: 2, align: 1 }),
      k: int(3, { base: 2, align: 1 }),
      l: int(64, { base: 8 }),
      m: int(64, { signed: true, base: 8 }),
      n: int(64, { signed: true, base: 2 }),
      o: int(7, { base: 16, align: 1 }),
      p: int(1, { align: 1 }),
      q: int(33, { signed: true, base: 16, align: 1 }),
      r: int(32, { signed: true, base: 8 }),
    };
    const payloads: FieldValue[][] = [
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [
        255,
        65535,
        4294967295,
        18446744073709551615n,
        -2147483648,
        -9223372036854775808n,
        18446744073709551615n,
        -2,
        -3,
        -1,
        7,
        18446744073709551615n,
        -1,
        -1,
        127,
        1,
        -1,
        -1,
      ],
      [
        1,
        2,
        3,
        9007199254740993n,
        2147483647,
        9223372036854775807n,
        0x1234abcd,
        0x7fff,
        4095,
        15,
        5,
        8,
        1,
        1,
        0x40,
        0,
        4294967295,
        8,
      ],
    ];
    check(oneEventTrace(fields, payloads), ALL_OPTION_SETS);
  });

  it('big-endian integers and bitfields', () => {
    const be = (size: number, o: Parameters<typeof int>[1] = {}): FieldClass =>
      int(size, { byteOrder: 'be', ...o });
    const fields = {
      a: be(32),
      b: be(3, { align: 1 }),
      c: be(12, { signed: true, align: 1, base: 16 }),
      d: be(64, { signed: true }),
    };
    check(
      oneEventTrace(
        fields,
        [
          [0xdeadbeef, 5, -100, -5n],
          [1, 2, 3, 4],
        ],
        { byteOrder: 'be' },
      ),
    );
  });

  it('enumerations: one, several and no label; ranges; signed; hex containers; escaped labels', () => {
    const e1 = enumOf(u8, [
      ['ZERO', 0],
      ['ONE', 1],
      ['LOW', [0, 9]],
      ['TEN', 10],
    ]);
    const e2 = enumOf(int(32, { signed: true }), [
      ['NEG', [-100, -1]],
      ['POS', [1, 100]],
      ['NEG', -1000],
    ]);
    const e3 = enumOf(int(16, { base: 16 }), [
      ['a"b?', 3],
      ['_under', 4],
      ["it's", [5, 6]],
    ]);
    const e4 = enumOf(int(64), [['HUGE', [2 ** 53, 2 ** 53]]]);
    const payloads: FieldValue[][] = [
      [0, -5, 3, 2 ** 53],
      [1, -1000, 4, 0],
      [5, 50, 5, 1],
      [10, 0, 7, 2],
      [11, 101, 6, 3],
    ];
    check(oneEventTrace({ e1, e2, e3, e4 }, payloads), [{}, { names: ['none'] }]);
  });

  it('floats: %g formatting, ties to even, extremes', () => {
    const values = [
      0,
      -0,
      1,
      -1,
      0.1,
      1 / 3,
      123456.5,
      1234565,
      999999.5,
      9999995,
      1e21,
      1e-5,
      0.0001,
      100000,
      1000000,
      3.14159265358979,
      1e-310,
      5e-324,
      1.7976931348623157e308,
      Infinity,
      -Infinity,
      NaN,
      2.5,
      0.000123456789,
      -1234.5678,
      65536.5,
      1e15,
      123456789012,
      0.5,
      1.5e-7,
    ];
    const payloads = values.map((v) => [v, Math.fround(v), v]);
    check(oneEventTrace({ d: f64, f: f32, e: float(11, 53, 'le') }, payloads), [{}]);
  });

  it('strings: escapes, control characters, UTF-8, empty', () => {
    const values = [
      '',
      'plain',
      'quote " apostrophe \' question ? backslash \\',
      'ctl \x01\x07\x08\x1b\x0c\n\r\t\x0b\x7f\x1f end',
      'utf8: é ü 漢字 🙂',
      '????',
    ];
    const payloads = values.map((v) => [v, v]);
    check(oneEventTrace({ s: str, t: str }, payloads), [{}, { names: ['none'] }]);
  });

  it('text arrays and sequences (up to the first NUL), other arrays and sequences', () => {
    const fields: Record<string, FieldClass> = {
      txt: array(char8, 8),
      __len: u32,
      seq: sequence(char8, '__len'),
      _n: u8,
      nums: sequence(u16, '_n'),
      fixed: array(s32, 3),
      hexes: array(int(8, { base: 16 }), 4),
      strs: array(str, 2),
      empty: array(u8, 0),
      nested: array(array(u8, 2), 2),
      ascii: array(int(8, { encoding: 'ascii' }), 4),
      unaligned: array(int(8, { encoding: 'utf8', align: 1 }), 3),
    };
    const payloads: FieldValue[][] = [
      [
        'hello',
        5,
        'world',
        3,
        [1, 2, 3],
        [-1, 0, 1],
        [0, 255, 16, 1],
        ['a', 'b"'],
        [],
        [
          [1, 2],
          [3, 4],
        ],
        'abcd',
        [65, 66, 67],
      ],
      [
        'a\0bc',
        0,
        '',
        0,
        [],
        [7, 8, 9],
        [1, 2, 3, 4],
        ['', ''],
        [],
        [
          [0, 0],
          [0, 0],
        ],
        'x\0y',
        [0, 66, 67],
      ],
      [
        '12345678',
        3,
        'a\0b',
        1,
        [65535],
        [1, 2, 3],
        [1, 2, 3, 4],
        ['?', '\n'],
        [],
        [
          [9, 9],
          [9, 9],
        ],
        '',
        [65, 0, 0],
      ],
    ];
    check(oneEventTrace(fields, payloads), [{}, { names: ['none'] }, { names: ['all'] }]);
  });

  it('structures: nested, empty, arrays of structures', () => {
    const pt = struct({ x: s32, y: s32 });
    const fields: Record<string, FieldClass> = {
      p: pt,
      empty: struct({}),
      deep: struct({ a: struct({ b: struct({ c: u8 }) }), e: struct({}) }),
      pts: array(pt, 2),
      _m: u8,
      seqs: sequence(struct({ s: str, v: u8 }), '_m'),
    };
    const payloads: FieldValue[][] = [
      [
        [1, -2],
        [],
        [[[3]], []],
        [
          [1, 2],
          [3, 4],
        ],
        2,
        [
          ['a', 1],
          ['b', 2],
        ],
      ],
      [
        [0, 0],
        [],
        [[[0]], []],
        [
          [0, 0],
          [0, 0],
        ],
        0,
        [],
      ],
    ];
    check(oneEventTrace(fields, payloads), [{}, { names: ['none'] }, { names: ['all'] }]);
  });

  it('variants', () => {
    const tag = enumOf(u8, [
      ['INT', 0],
      ['STR', 1],
      ['PT', 2],
      ['NONE', 3],
    ]);
    const fields: Record<string, FieldClass> = {
      tag,
      v: variant('tag', { INT: s32, STR: str, PT: struct({ x: u8, y: u8 }), NONE: struct({}) }),
    };
    const payloads: FieldValue[][] = [
      [0, { option: 0, value: -7 }],
      [1, { option: 1, value: 'hi' }],
      [2, { option: 2, value: [1, 2] }],
      [3, { option: 3, value: [] }],
    ];
    check(oneEventTrace(fields, payloads), [{}, { names: ['none'] }, { names: ['all'] }]);
  });

  it('field names lose one leading underscore; enum labels keep theirs', () => {
    const fields: Record<string, FieldClass> = {
      _one: u8,
      __two: u8,
      ___three: u8,
      plain_: u8,
      _s: struct({ _inner: u8, __inner2: u8 }),
    };
    const out = check(oneEventTrace(fields, [[1, 2, 3, 4, [5, 6]]]), [{}, { names: ['all'] }]);
    expect(out).toContain('{ one = 1, _two = 2, __three = 3, plain_ = 4, s = { inner = 5, _inner2 = 6 } }');
  });

  it('contexts and header fields (hostname, domain, procname, vpid, loglevel, EMF URI)', () => {
    const cls = traceClass({
      env: { hostname: 'box', domain: 'ust', procname: 'app', vpid: 4242, tracer_name: 'lttng-ust' },
      eventContext: { _vtid: s32, _procname: array(char8, 17) },
      packetContext: { cpu_id: u32, _extra: u8 },
      events: [
        {
          name: 'p:a',
          logLevel: 13,
          emfUri: 'http://x/y',
          context: struct({ _ctx1: u8 }),
          fields: struct({ v: u8 }),
        },
        { name: 'p:b', logLevel: 0, fields: struct({}) },
        { name: 'p:c' },
        { name: 'p:d', logLevel: 99, context: struct({ c: str }) },
      ],
    });
    const ev = (id: number, ts: number, extra: Partial<SynthEvent> = {}): SynthEvent => ({
      id,
      ts,
      streamContext: [7, 'myproc'],
      ...extra,
    });
    const t: SynthTrace = {
      cls,
      streams: [
        {
          streamClassId: 0,
          instanceId: 3,
          packets: [
            {
              context: { cpu_id: 3, _extra: 9 },
              events: [
                ev(0, 10, { context: [1], payload: [2] }),
                ev(1, 20, { payload: [] }),
                ev(2, 30),
                ev(3, 40, { context: ['z'] }),
              ],
            },
          ],
        },
      ],
    };
    check(t, [
      ...ALL_OPTION_SETS,
      { fields: ['trace:domain'] },
      { fields: ['trace:vpid,trace:procname'] },
      { fields: ['emf'] },
      { fields: ['trace', 'trace:hostname'] },
      { names: ['context'] },
      { names: ['all'], fields: ['trace:domain,loglevel'] },
    ]);
  });

  it('which packet-context fields are shown', () => {
    // Only consumed fields: the packet context scope disappears.
    const cls1 = traceClass({ packetContext: {}, events: [{ name: 'e', fields: struct({ v: u8 }) }] });
    check({
      cls: cls1,
      streams: [{ streamClassId: 0, instanceId: 0, packets: [{ events: [{ id: 0, ts: 5, payload: [1] }] }] }],
    });
    // A clock-mapped integer anywhere is hidden, unless it is a sequence length.
    const mapped = int(64, { mappedClock: 'monotonic' });
    const cls2 = traceClass({
      packetContext: { cpu_id: u32, other_ts: mapped },
      eventContext: { _t: mapped },
      events: [
        {
          name: 'e',
          fields: struct({ a: u8, t: mapped, n: int(8, { mappedClock: 'monotonic' }), s: sequence(u8, 'n') }),
        },
      ],
    });
    check(
      {
        cls: cls2,
        streams: [
          {
            streamClassId: 0,
            instanceId: 0,
            packets: [
              {
                context: { cpu_id: 1, other_ts: 5 },
                events: [{ id: 0, ts: 5, streamContext: [9], payload: [1, 2, 2, [7, 8]] }],
              },
            ],
          },
        ],
      },
      [{}, { names: ['all'] }],
    );
  });

  it('traces without a clock, without packet context, without UUID', () => {
    const cls = traceClass({
      clock: null,
      packetContext: null,
      uuid: '',
      env: {},
      events: [{ name: 'nc', fields: struct({ v: u8 }) }],
    });
    check(
      {
        cls,
        streams: [
          {
            streamClassId: 0,
            instanceId: 0,
            packets: [
              {
                events: [
                  { id: 0, ts: 0, payload: [1] },
                  { id: 0, ts: 0, payload: [2] },
                ],
              },
            ],
          },
        ],
      },
      ALL_OPTION_SETS,
    );
  });

  it('time formats: offsets, midnight, dates, local time zones', () => {
    const mk = (offsetSeconds: number, offsetCycles: number, tss: number[]): SynthTrace => {
      const cls = traceClass({
        clock: { offsetSeconds, offsetCycles },
        events: [{ name: 't', fields: struct({}) }],
      });
      return {
        cls,
        streams: [
          {
            streamClassId: 0,
            instanceId: 0,
            packets: [{ events: tss.map((ts) => ({ id: 0, ts, payload: [] })) }],
          },
        ],
      };
    };
    // 2021-12-31 23:59:59 UTC, across midnight and a new year; offset cycles > 1 s.
    const t = mk(
      1640995199,
      1_500_000_000,
      [0, 1, 499_999_999, 500_000_000, 3_000_000_001, 86_400_000_000_000],
    );
    const sets: PrintCliOptions[] = [
      {},
      { clockDate: true },
      { clockGmt: true, clockDate: true },
      { clockSeconds: true },
      { clockCycles: true },
    ];
    check(t, sets);
    for (const tz of ['America/Montreal', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Europe/London']) {
      const env = { ...BT2_ENV, TZ: tz };
      const saved = process.env.TZ;
      process.env.TZ = tz;
      try {
        check(t, sets, env);
        // A DST change (2021-03-14 in Montreal, 2021-03-28 in London).
        check(mk(1615700000, 0, [0, 3_600_000_000_000, 7_200_000_000_000]), [{ clockDate: true }], env);
        check(mk(1616893200, 0, [0, 1_800_000_000_000, 3_600_000_000_000]), [{ clockDate: true }], env);
      } finally {
        process.env.TZ = saved;
      }
    }
    // Old dates (before 1970 is negative: tested in the negative-time case) and far future.
    check(mk(0, 0, [0, 1]), [{}, { clockDate: true }]);
    check(mk(4102444800, 0, [0, 1]), [{ clockDate: true }]);
  });

  it('negative times: warning once, then babeltrace2 quirks', () => {
    const cls = traceClass({
      clock: { offsetSeconds: -10, offsetCycles: 0 },
      events: [{ name: 'n', fields: struct({}) }],
    });
    const tss = [
      0, 500_000_000, 9_000_000_000, 9_999_999_999, 10_000_000_000, 10_000_000_001, 11_000_000_000,
    ];
    const t: SynthTrace = {
      cls,
      streams: [
        {
          streamClassId: 0,
          instanceId: 0,
          packets: [{ events: tss.map((ts) => ({ id: 0, ts, payload: [] })) }],
        },
      ],
    };
    for (const cli of [{}, { clockSeconds: true }, { clockDate: true }]) {
      withTmpDir((dir) => {
        writeTrace(dir, t);
        const bt = babeltrace2([...bt2Args(cli), dir]);
        const ours = printRecords(toRecords(dir, t), cliOptions(cli));
        expect(firstDifference(ours.out, bt.stdout), JSON.stringify(cli)).toBeUndefined();
        expect(ours.err).toBe(bt.stderr.toString());
      });
    }
  });

  it('delta across events of several streams', () => {
    const cls = traceClass({ events: [{ name: 'a', fields: struct({ v: u8 }) }] });
    const t: SynthTrace = {
      cls,
      streams: [
        {
          streamClassId: 0,
          instanceId: 0,
          packets: [
            {
              context: { cpu_id: 0 },
              events: [
                { id: 0, ts: 100, payload: [0] },
                { id: 0, ts: 5_000_000_300, payload: [2] },
              ],
            },
          ],
        },
        {
          streamClassId: 0,
          instanceId: 1,
          packets: [
            {
              context: { cpu_id: 1 },
              events: [
                { id: 0, ts: 200, payload: [1] },
                { id: 0, ts: 5_000_000_400, payload: [3] },
              ],
            },
          ],
        },
      ],
    };
    check(t, [{}, { clockCycles: true }, { names: ['all'] }]);
  });
});
