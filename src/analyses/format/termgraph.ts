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
    let s = r.isFloat ? formatFixed(r.value, 2) : String(r.value);
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
