/**
 * Text bar graphs laid out exactly like lttng-analyses' `termgraph.BarGraph`: an 80-column bar
 * of U+2588, the value right-aligned after it, then the label; a `#` rule under the title.
 */
import { formatFixed, pyLen } from './pyfmt.js';

const WIDTH = 80;
const BAR = '\u2588';

export interface BarRow {
  /** A float value prints with 2 decimals, an integer value as is (Python's int/float split). */
  readonly value: number;
  readonly isFloat: boolean;
  readonly label: string;
  /** The value's text when a formatter replaces the default (`format_size`); no unit is added. */
  readonly text?: string;
}

export interface BarGraphSpec {
  readonly title: string;
  readonly unit?: string;
  /** Header text placed over the labels. */
  readonly labelHeader?: string;
  readonly rows: readonly BarRow[];
}

/** The graph's lines (each without newline), including the trailing empty line; [] when no rows. */
export function barGraphLines(spec: BarGraphSpec): string[] {
  const { rows } = spec;
  if (rows.length === 0) return [];
  let max = 0;
  let maxLen = 0;
  const strs = rows.map((r) => {
    let s = r.text ?? (r.isFloat ? formatFixed(r.value, 2) : String(r.value));
    if (spec.unit !== undefined && spec.unit !== '') s += ' ' + spec.unit;
    if (r.value > max) max = r.value;
    if (pyLen(s) > maxLen) maxLen = pyLen(s);
    return s;
  });
  const lines: string[] = [];
  if (spec.labelHeader === undefined || spec.labelHeader === '') {
    lines.push(spec.title);
  } else {
    const space = Math.max(0, WIDTH - pyLen(spec.title) + 1 + maxLen + 1);
    lines.push(spec.title + ' '.repeat(space) + spec.labelHeader);
  }
  lines.push('#'.repeat(WIDTH));
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const s = strs[i]!;
    const w = max === 0 ? 0 : Math.trunc((WIDTH * r.value) / max);
    const bar = BAR.repeat(Math.max(0, w)) + ' '.repeat(Math.max(0, WIDTH - w));
    lines.push(`${bar} ${' '.repeat(maxLen - pyLen(s))}${s} ${r.label}`);
  }
  lines.push('');
  return lines;
}

export interface FreqRowSpec {
  /** Lower bound, already in the unit shown (`{:>7.03f}`). */
  readonly lower: number;
  readonly count: number;
}

/**
 * lttng-analyses' `termgraph.FreqGraph`: the title (with ` (unit)`), a `#` rule, then per bucket
 * its lower bound, a 72-column bar and the count; a trailing empty line; [] when no rows.
 */
export function freqGraphLines(
  title: string,
  unit: string | undefined,
  rows: readonly FreqRowSpec[],
): string[] {
  if (rows.length === 0) return [];
  const width = WIDTH - 8;
  let max = 0;
  let maxLen = 0;
  const strs = rows.map((r) => {
    const s = String(r.count);
    if (r.count > max) max = r.count;
    if (s.length > maxLen) maxLen = s.length;
    return s;
  });
  const lines = [unit === undefined || unit === '' ? title : `${title} (${unit})`, '#'.repeat(WIDTH)];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const w = max === 0 ? 0 : Math.trunc((width * r.count) / max);
    const bound = formatFixed(r.lower, 3).padStart(7);
    lines.push(
      `${bound} ${BAR.repeat(w)}${' '.repeat(width - w)} ${' '.repeat(maxLen - strs[i]!.length)}${strs[i]!}`,
    );
  }
  lines.push('');
  return lines;
}
