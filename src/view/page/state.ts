/**
 * The page's shared state: the time window every view shows, the focused container, and the
 * performance marks the tests and the benchmark read (`window.__nstraceView`).
 */
import type { Summary } from '../types.js';

/** The narrowest window (ns). */
const MIN_SPAN = 200;

export interface RedrawRecord {
  view: string;
  /** ms from the input to the first redraw (the data on hand, reprojected). */
  quick: number;
  /** ms from the input to the redraw with data at the new window's resolution. */
  full: number;
  /** ms the data request for that redraw took (request to parsed answer). */
  fetch: number;
  /** ms the drawing itself took. */
  draw: number;
}

export interface PerfRecord {
  /** ms from navigation start to the page being interactive (first timeline drawn). */
  interactive: number | null;
  redraws: RedrawRecord[];
  /** Set while a view waits for data. */
  pending: number;
  /** Current window, for tests. */
  window: { t0: number; t1: number };
  focus: number | null;
  tab: string;
  /** Rows of the threads view (expanded tree). */
  threadRows: number;
}

declare global {
  interface Window {
    __nstraceView: PerfRecord;
  }
}

export class ViewState {
  t0: number;
  t1: number;
  focus: number | null = null;
  /** performance.now() of the input that last changed the window (null: not an input). */
  inputAt: number | null = null;
  /** Incremented on every window change. */
  seq = 0;
  readonly perf: PerfRecord;
  private readonly windowFns: Array<() => void> = [];
  private readonly focusFns: Array<() => void> = [];

  constructor(readonly summary: Summary) {
    this.t0 = summary.begin;
    this.t1 = Math.max(summary.end, summary.begin + 1000);
    this.perf = {
      interactive: null,
      redraws: [],
      pending: 0,
      window: { t0: this.t0, t1: this.t1 },
      focus: null,
      tab: '',
      threadRows: 0,
    };
    window.__nstraceView = this.perf;
  }

  get begin(): number {
    return this.summary.begin;
  }
  get end(): number {
    return Math.max(this.summary.end, this.summary.begin + 1000);
  }

  onWindow(fn: () => void): void {
    this.windowFns.push(fn);
  }
  onFocus(fn: () => void): void {
    this.focusFns.push(fn);
  }

  /** Sets the window (clamped to the trace); `input` is the performance.now() of the user action. */
  setWindow(t0: number, t1: number, input: number | null = null): void {
    const full = this.end - this.begin;
    let span = Math.min(Math.max(t1 - t0, MIN_SPAN), full);
    if (!(span > 0)) span = full;
    let a = t0;
    if (a < this.begin) a = this.begin;
    if (a + span > this.end) a = this.end - span;
    if (a === this.t0 && a + span === this.t1) return;
    this.t0 = a;
    this.t1 = a + span;
    this.inputAt = input;
    this.seq++;
    this.perf.window = { t0: this.t0, t1: this.t1 };
    for (const f of this.windowFns) f();
  }

  /** Zooms by `factor` (< 1: in) keeping time `at` under the same screen position. */
  zoom(factor: number, at = (this.t0 + this.t1) / 2, input: number | null = null): void {
    const span = this.t1 - this.t0;
    const ns = Math.max(MIN_SPAN, span * factor);
    const r = (at - this.t0) / span;
    this.setWindow(at - r * ns, at - r * ns + ns, input);
  }

  pan(deltaNs: number, input: number | null = null): void {
    this.setWindow(this.t0 + deltaNs, this.t1 + deltaNs, input);
  }

  reset(input: number | null = null): void {
    this.setWindow(this.begin, this.end, input);
  }

  setFocus(key: number | null): void {
    if (this.focus === key) return;
    this.focus = key;
    this.perf.focus = key;
    for (const f of this.focusFns) f();
  }

  /** Records a redraw for the performance record (and the browser's performance timeline). */
  recordRedraw(view: string, input: number, quickAt: number, fullAt: number, fetch = NaN, draw = NaN): void {
    this.perf.redraws.push({ view, quick: quickAt - input, full: fullAt - input, fetch, draw });
    if (this.perf.redraws.length > 500) this.perf.redraws.shift();
    try {
      performance.measure(`nstrace:redraw:${view}`, { start: input, end: fullAt });
    } catch {
      // old browsers: the record above is enough
    }
  }
}
