/**
 * Discarded-items warnings and `--begin`/`--end` against babeltrace2 2.0.4 on synthetic traces
 * (records built as the reader would hand them; independent of our reader).
 */
import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../src/ctf/event.js';
import type { PrintCliOptions } from '../../src/text/options.js';
import { PrettyPrinter } from '../../src/text/pretty.js';
import { parseTimeBound, Trimmer, TRIM_END } from '../../src/text/time.js';
import { UsageError } from '../../src/util/errors.js';
import { babeltrace2, struct, toRecords, traceClass, u8, writeTrace } from './synth.js';
import type { SynthPacket, SynthRecords, SynthTrace } from './synth.js';
import { bt2Args, cliOptions, firstDifference, withTmpDir } from './helpers.js';
import { babeltrace2Check, requireCapability } from '../helpers/require.js';

const HAVE_BT2 = requireCapability('babeltrace2 2.0.x', babeltrace2Check);

function run(
  recs: SynthRecords,
  cli: PrintCliOptions,
  begin?: string,
  end?: string,
): { out: string; err: string } {
  const chunks: Buffer[] = [];
  let err = '';
  const opts = cliOptions(cli);
  const p = new PrettyPrinter(opts, recs.base, {
    out: (c) => void chunks.push(Buffer.from(c)),
    err: (t) => void (err += t),
  });
  const gmt = cli.clockGmt === true;
  const trimmer =
    begin !== undefined || end !== undefined
      ? new Trimmer(
          begin === undefined ? undefined : parseTimeBound(begin, gmt),
          end === undefined ? undefined : parseTimeBound(end, gmt),
          gmt,
          recs.base,
        )
      : undefined;
  for (const r of recs.records) {
    let x: TraceRecord | null | typeof TRIM_END = r;
    if (trimmer) x = trimmer.filter(r);
    if (x === TRIM_END) break;
    if (x !== null) void p.print(x);
  }
  void p.flush();
  return { out: Buffer.concat(chunks).toString('latin1'), err };
}

/** Two streams; stream 0 loses events and packets. Clock origin 2021-06-01 00:00:00 UTC. */
function lossyTrace(): SynthTrace {
  const cls = traceClass({
    clock: { offsetSeconds: 1622505600 },
    events: [{ name: 'e', fields: struct({ v: u8 }) }],
  });
  const ev = (ts: number, v: number): { id: number; ts: number; payload: number[] } => ({
    id: 0,
    ts,
    payload: [v],
  });
  const S = 1e9;
  const p0: SynthPacket[] = [
    {
      context: { cpu_id: 0, events_discarded: 0, packet_seq_num: 0 },
      events: [ev(1 * S, 1), ev(2 * S, 2)],
      endTs: 3 * S,
    },
    {
      context: { cpu_id: 0, events_discarded: 7, packet_seq_num: 1 },
      events: [ev(5 * S, 3), ev(6 * S, 4)],
      endTs: 7 * S,
    },
    {
      context: { cpu_id: 0, events_discarded: 8, packet_seq_num: 4 },
      events: [ev(9 * S, 5), ev(10 * S, 6)],
      endTs: 11 * S,
    },
    {
      context: { cpu_id: 0, events_discarded: 20, packet_seq_num: 5 },
      events: [ev(13 * S, 7)],
      endTs: 14 * S,
    },
  ];
  const p1: SynthPacket[] = [
    { context: { cpu_id: 1 }, events: [ev(1.5 * S, 11), ev(4 * S, 12), ev(8 * S, 13)], endTs: 8.5 * S },
    { context: { cpu_id: 1, packet_seq_num: 1 }, events: [ev(12 * S, 14), ev(15 * S, 15)], endTs: 15.5 * S },
  ];
  return {
    cls,
    streams: [
      { streamClassId: 0, instanceId: 0, packets: p0 },
      { streamClassId: 0, instanceId: 1, packets: p1 },
    ],
  };
}

function compare(t: SynthTrace, cli: PrintCliOptions, begin?: string, end?: string): void {
  withTmpDir((dir) => {
    writeTrace(dir, t);
    const args = [...bt2Args(cli)];
    if (begin !== undefined) args.push(`--begin=${begin}`);
    if (end !== undefined) args.push(`--end=${end}`);
    const bt = babeltrace2([...args, dir]);
    expect(bt.status, bt.stderr.toString()).toBe(0);
    const ours = run(toRecords(dir, t), cli, begin, end);
    const what = `${JSON.stringify(cli)} begin=${begin} end=${end}`;
    expect(firstDifference(ours.out, bt.stdout), what).toBeUndefined();
    expect(firstDifference(ours.err, bt.stderr), `stderr ${what}`).toBeUndefined();
  });
}

describe.skipIf(!HAVE_BT2)('discarded items and trimming vs babeltrace2', () => {
  it('discarded events and packets: warnings on stderr, events on stdout', () => {
    const t = lossyTrace();
    for (const cli of [
      {},
      { clockSeconds: true },
      { clockDate: true, clockGmt: true },
      { clockCycles: true },
      { names: ['all'] },
    ]) {
      compare(t, cli);
    }
  });

  it('--begin / --end in every format, at and between events, cutting discarded ranges', () => {
    const t = lossyTrace();
    const cases: Array<[string | undefined, string | undefined]> = [
      ['1622505605', undefined],
      ['1622505604.5', undefined],
      [undefined, '1622505606'],
      [undefined, '1622505608.5'],
      ['1622505602', '1622505610'],
      ['1622505604', '1622505604'],
      ['1622505606.000000001', '1622505612.999999999'],
      ['2021-06-01 00:00:05', '2021-06-01 00:00:09.5'],
      ['2021-06-01 00:00', '2021-06-01 00:00:08'],
      ['2021-06-01', undefined],
      ['00:00:04', '00:00:12'],
      ['00:00:06.5', undefined],
      [undefined, '00:00:06.5'],
      ['0', '1622505606'],
      ['-5', undefined],
      ['1622505700', undefined],
      [undefined, '1622505600'],
      ['1622505612.5', '1622505612.6'],
      ['1622505606', '1622505606.5'],
    ];
    for (const [b, e] of cases) {
      compare(t, { clockGmt: true }, b, e);
    }
    // Local time zone for date/time forms.
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      compare(t, {}, '2021-06-01 00:00:05', '00:00:09');
    } finally {
      process.env.TZ = saved;
    }
  });
});

describe('parseTimeBound', () => {
  it('accepts babeltrace2 formats', () => {
    expect(parseTimeBound('12', true)).toEqual({ kind: 'ns', ns: 12_000_000_000n });
    expect(parseTimeBound('-1.5', true)).toEqual({ kind: 'ns', ns: -1_500_000_000n });
    expect(parseTimeBound('3.000000007', true)).toEqual({ kind: 'ns', ns: 3_000_000_007n });
    expect(parseTimeBound('1970-01-01 00:00:01.25', true)).toEqual({ kind: 'ns', ns: 1_250_000_000n });
    expect(parseTimeBound('1970-01-02', true)).toEqual({ kind: 'ns', ns: 86_400_000_000_000n });
    expect(parseTimeBound('10:20', true)).toEqual({ kind: 'time', hour: 10, minute: 20, second: 0, ns: 0 });
    expect(parseTimeBound('10:20:30.1', true)).toEqual({
      kind: 'time',
      hour: 10,
      minute: 20,
      second: 30,
      ns: 100_000_000,
    });
  });

  it('rejects what babeltrace2 rejects', () => {
    for (const bad of [
      '',
      'abc',
      '1.',
      '+3',
      '0x10',
      '1:2',
      '10:20:3',
      '2019-8-22',
      '1.1234567890',
      '2019-08-22 1:00',
      ' 1',
    ]) {
      expect(() => parseTimeBound(bad, true), bad).toThrow(UsageError);
    }
  });

  it.skipIf(!HAVE_BT2)('rejects and accepts exactly like babeltrace2', () => {
    withTmpDir((dir) => {
      writeTrace(dir, lossyTrace());
      for (const text of [
        '1.',
        '+3',
        '1:2',
        '10:20',
        '2019-08-22',
        '2019-08-22 10:20:30.123',
        '-0',
        '007',
        '1e3',
      ]) {
        const bt = babeltrace2([`--begin=${text}`, '--clock-gmt', dir]);
        let ok = true;
        try {
          parseTimeBound(text, true);
        } catch {
          ok = false;
        }
        expect(ok, text).toBe(bt.status === 0);
      }
    });
  });
});
