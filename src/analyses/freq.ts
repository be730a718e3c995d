/**
 * Frequency distributions as lttng-analyses 0.6.1 builds them (`cli/sched.py`, `cli/irq.py`,
 * `cli/periods.py` `_fill_freq_result_table`, `cli/io.py` its own variant, and
 * `cli/command.py` `_find_uniform_freq_values`): `resolution` buckets of equal width between the
 * minimum and maximum duration in microseconds (floats), a value equal to the maximum in the last
 * bucket. The arithmetic is IEEE double, like Python's, so bounds print identically; the
 * quirks are kept (with `--min`/`--max` the bounds mix nanoseconds and microseconds, as there).
 */

export interface FreqRow {
  /** Lower and upper bounds in ns as Python computes them (`Duration.from_us(us)`: a float). */
  readonly lowerNs: number;
  readonly upperNs: number;
  readonly count: number;
}

/** Python's list index: negative values count from the end; out of range: undefined. */
function pyIndex(i: number, n: number): number | undefined {
  if (i < 0) i += n;
  return i >= 0 && i < n ? i : undefined;
}

/**
 * The rows of one distribution (sched, irq and periods flavour). `values` are durations in ns
 * (already filtered), `minUs`/`maxUs`/`step` the bounds; returns [] when `step` is 0 (lttng-analyses
 * then leaves the table empty). A value past the last bucket is dropped unless it equals the max.
 */
export function freqRows(
  values: Iterable<number>,
  minUs: number,
  maxUs: number,
  step: number,
  resolution: number,
  ratio = 1000,
): FreqRow[] {
  if (step === 0 || Number.isNaN(step)) return [];
  const counts = new Array<number>(resolution).fill(0);
  for (const v of values) {
    const d = v / ratio;
    const index = Math.trunc((d - minUs) / step);
    if (index >= resolution) {
      if (d === maxUs) {
        const j = pyIndex(index - 1, resolution);
        if (j !== undefined) counts[j]!++;
      }
      continue;
    }
    const j = pyIndex(index, resolution);
    if (j !== undefined) counts[j]!++;
  }
  const rows: FreqRow[] = [];
  for (let i = 0; i < resolution; i++) {
    const lower = i * step + minUs;
    const upper = (i + 1) * step + minUs;
    rows.push({ lowerNs: lower * 1000, upperNs: upper * 1000, count: counts[i]! });
  }
  return rows;
}

/** The I/O flavour (`cli/io.py`): bounds from the values themselves, an index clamped to the last bucket. */
export function ioFreqRows(durations: readonly number[], resolution: number): FreqRow[] {
  if (durations.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const d of durations) {
    if (d < min) min = d;
    if (d > max) max = d;
  }
  const minUs = min / 1000;
  const maxUs = max / 1000;
  const step = (maxUs - minUs) / resolution;
  if (step === 0) return [];
  const counts = new Array<number>(resolution).fill(0);
  for (const v of durations) {
    const index = Math.min(Math.trunc((v / 1000 - minUs) / step), resolution - 1);
    const j = pyIndex(index, resolution);
    if (j !== undefined) counts[j]!++;
  }
  const rows: FreqRow[] = [];
  for (let i = 0; i < resolution; i++) {
    rows.push({
      lowerNs: (i * step + minUs) * 1000,
      upperNs: ((i + 1) * step + minUs) * 1000,
      count: counts[i]!,
    });
  }
  return rows;
}

/**
 * `_find_uniform_freq_values`: one set of bounds per category, widened over every call of the
 * run (periods, groups); `--min`/`--max` (in ns after lttng-analyses' conversion) override.
 */
export class UniformFreq {
  private readonly min = new Map<string, number | undefined>();
  private readonly max = new Map<string, number | undefined>();

  constructor(
    private readonly resolution: number,
    private readonly argMin: number | undefined,
    private readonly argMax: number | undefined,
  ) {}

  /** Returns [min, max, step] for `durations` (ns, or other units with `ratio`). */
  values(durations: readonly number[], ratio = 1000, category = 'default'): [number, number, number] {
    let lo: number;
    let hi: number;
    if (this.argMin !== undefined) lo = this.argMin;
    else if (durations.length === 0) lo = 0;
    else {
      const cur = this.min.get(category);
      const m = minOf(durations) / ratio;
      lo = cur === undefined || m < cur ? m : cur;
    }
    this.min.set(category, lo);
    if (this.argMax !== undefined) hi = this.argMax;
    else if (durations.length === 0) hi = 0;
    else {
      const cur = this.max.get(category);
      const m = maxOf(durations) / ratio;
      hi = cur === undefined || m > cur ? m : cur;
    }
    this.max.set(category, hi);
    return [lo, hi, (hi - lo) / this.resolution];
  }
}

function minOf(a: readonly number[]): number {
  let m = Infinity;
  for (const x of a) if (x < m) m = x;
  return m;
}

function maxOf(a: readonly number[]): number {
  let m = -Infinity;
  for (const x of a) if (x > m) m = x;
  return m;
}

/**
 * Bounds of a non-uniform distribution (`_fill_freq_result_table`): `--min`/`--max` (ns) when
 * given, else the statistics' min/max; then both divided by 1000 (undefined: 0).
 */
export function freqBounds(
  statsMin: number | undefined,
  statsMax: number | undefined,
  argMin: number | undefined,
  argMax: number | undefined,
  resolution: number,
): [number, number, number] {
  const lo = argMin ?? statsMin;
  const hi = argMax ?? statsMax;
  const minUs = lo === undefined ? 0 : lo / 1000;
  const maxUs = hi === undefined ? 0 : hi / 1000;
  return [minUs, maxUs, (maxUs - minUs) / resolution];
}
