/**
 * A report's text written in pieces (`writeReportText`) is byte for byte the text joined whole
 * and written with `pyTextBytes`: pieces cut anywhere, names with raw bytes (surrogateescape),
 * a writer that keeps the bytes (the buffer must then not be reused), an empty report.
 */
import { describe, expect, it } from 'vitest';
import { LineBlocks, reportString, type ReportText } from '../../src/analyses/format/common.js';
import { writeReportText } from '../../src/cli/commands/analysis-shared.js';
import { pyTextBytes } from '../../src/model/fields.js';

/** Writes `t` with a writer that keeps (copies of, or the very) bytes it is given. */
function written(t: ReportText, keeps: (i: number) => boolean): Buffer {
  const got: Buffer[] = [];
  writeReportText(t, (b) => {
    const keep = keeps(got.length);
    // A writer done at once may see its bytes overwritten later: it copies them now. One that
    // keeps them (a queued stream write) holds the very buffer and says so.
    got.push(keep ? b : Buffer.from(b));
    return !keep;
  });
  // A buffer handed to a keeping writer must still hold what it held when written.
  return Buffer.concat(got);
}

function logText(n: number, odd: (i: number) => string): ReportText {
  const blocks = new LineBlocks(['', 'A log (usec)', 'Begin End Name']);
  for (let i = 0; i < n; i++) blocks.push(`[${i}] ${odd(i)} ${'x'.repeat(i % 97)} é ${i * 3}`);
  return { lines: ['Timerange: [0, 1]', ...blocks.toArray(), '', 'Per container', 'none'] };
}

describe('writeReportText', () => {
  const cases: Array<[string, ReportText]> = [
    ['a plain log of 50,000 lines', logText(50_000, () => 'cat')],
    [
      'names with raw bytes here and there',
      logText(20_000, (i) => (i % 777 === 0 ? 'c\udce9t\ud800' : 'cat')),
    ],
    ['one long line', { lines: ['y'.repeat(300_000), 'end'] }],
    ['a single string', 'one\ntwo\n'],
    ['no line', { lines: [] }],
  ];
  for (const [name, t] of cases) {
    it(`${name}: the same bytes as the whole text`, () => {
      const whole = pyTextBytes(reportString(t));
      expect(written(t, () => false).equals(whole)).toBe(true);
      expect(written(t, (i) => i % 3 === 1).equals(whole)).toBe(true);
      expect(written(t, () => true).equals(whole)).toBe(true);
    });
  }

  it('the whole text ends each line with a newline, an empty report is one newline', () => {
    expect(reportString({ lines: ['a', 'b\nc'] })).toBe('a\nb\nc\n');
    expect(reportString({ lines: [] })).toBe('\n');
  });

  it('writes a long log in many pieces, each reusing one buffer while the writer is done', () => {
    const seen = new Set<ArrayBufferLike>();
    let pieces = 0;
    writeReportText(
      logText(50_000, () => 'cat'),
      (b) => {
        pieces++;
        seen.add(b.buffer);
        return true;
      },
    );
    expect(pieces).toBeGreaterThan(20);
    expect(seen.size).toBeLessThanOrEqual(2);
  });
});
