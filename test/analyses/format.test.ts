/**
 * Shortcuts of the report formatting, against the plain ways they replace: a timestamp
 * formatter that keeps the text of the last second (logs print two times per row) against
 * formatting each time afresh, in UTC and in a local zone across a daylight-saving change; and
 * Python's `len()` in code points against counting a string's code points one by one.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { pyLen } from '../../src/analyses/format/pyfmt.js';
import { TimestampFormatter, formatTimestamp } from '../../src/analyses/format/time.js';

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

/** Times in runs: mostly the same second as the time before, sometimes a jump either way. */
const times = fc
  .array(fc.tuple(fc.integer({ min: -3, max: 3 }), fc.integer({ min: 0, max: 999_999_999 }), fc.boolean()), {
    minLength: 1,
    maxLength: 200,
  })
  .map((steps) => {
    // 2026-03-29 00:59:58 UTC: Paris moves from +01:00 to +02:00 two seconds later.
    let sec = 1_774_745_998;
    return steps.map(([jump, ns, same]) => {
      if (!same) sec += jump;
      return { t: { sec, ns }, date: jump % 2 === 0 };
    });
  });

describe('TimestampFormatter', () => {
  for (const [zone, gmt] of [
    ['Europe/Paris', false],
    ['Europe/Paris', true],
    ['America/St_Johns', false],
  ] as const) {
    it(`gives formatTimestamp's text (${zone}, ${gmt ? 'UTC' : 'local time'})`, () => {
      process.env.TZ = zone;
      fc.assert(
        fc.property(times, (ts) => {
          const f = new TimestampFormatter(gmt);
          for (const { t, date } of ts) expect(f.format(t, date)).toBe(formatTimestamp(t, date, gmt));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('prints the second of the daylight-saving change as the zone does', () => {
    process.env.TZ = 'Europe/Paris';
    const f = new TimestampFormatter(false);
    const at = (sec: number): string => f.format({ sec, ns: 5 }, true);
    expect([at(1_774_745_999), at(1_774_746_000)]).toEqual([
      '2026-03-29 01:59:59.000000005',
      '2026-03-29 03:00:00.000000005',
    ]);
  });
});

describe('pyLen', () => {
  it('counts code points, a lone surrogate as one', () => {
    const units = fc.oneof(
      fc.string({ unit: 'grapheme-composite' }),
      fc.string({ unit: 'binary' }),
      fc
        .array(fc.integer({ min: 0xd7fe, max: 0xe001 }), { maxLength: 8 })
        .map((cs) => String.fromCharCode(...cs)),
    );
    fc.assert(
      fc.property(fc.array(units, { maxLength: 4 }), (parts) => {
        const s = parts.join('');
        expect(pyLen(s)).toBe([...s].length);
      }),
      { numRuns: 2000 },
    );
  });
});
