/**
 * The canvas timeline both the CPU lanes and the threads view are made of: a time axis, a label
 * column, rows drawn by the subclass, zoom (wheel, double-click), pan (drag, trackpad), vertical
 * scrolling (native scrollbar), hover tooltips. Redraws on every window change at once with the
 * data on hand (positions are times, so it is only coarser), then asks its data source for the
 * new window at screen resolution and redraws again; both times are recorded (state.ts).
 */
import type { Summary, ThreadSummary } from '../types.js';
import type { Colors } from './colors.js';
import { fitCanvas, h } from './dom.js';
import { fmtOffset, ticks } from './fmt.js';
import type { DataSource } from './source.js';
import type { ViewState } from './state.js';
import type { Tooltip } from './tooltip.js';

export interface Host {
  readonly state: ViewState;
  readonly colors: Colors;
  readonly summary: Summary;
  readonly source: DataSource;
  readonly tooltip: Tooltip;
  readonly threads: ReadonlyMap<number, ThreadSummary>;
  /** Reports a failed request (shown in the status bar). */
  error(msg: string): void;
}

export const AXIS_H = 26;
/** Spans of data asked for on each side of the window. */
const OVERSCAN = 1;
/** Data columns per screen pixel. */
const RESOLUTION = 2;
const MAX_COLUMNS = 8192;
export const BG = '#0f141b';
const GRID = 'rgba(255,255,255,0.05)';
const AXIS_TEXT = '#9aa6b8';

interface PendingInput {
  input: number;
  seq: number;
  quickAt: number | null;
}

/**
 * Draws an occupancy row (values per data column over [d0, d1]) as bars from the row's bottom,
 * one per screen pixel (the mean of the columns it covers), for the window [t0, t1].
 */
export function drawOccupancy(
  ctx: CanvasRenderingContext2D,
  v: readonly number[],
  d0: number,
  d1: number,
  t0: number,
  t1: number,
  x0: number,
  plotW: number,
  bottom: number,
  height: number,
  scale: number,
): void {
  const n = v.length;
  if (n === 0) return;
  const step = (d1 - d0) / n;
  const k = plotW / (t1 - t0);
  const c0 = Math.max(0, Math.floor((t0 - d0) / step));
  const c1 = Math.min(n, Math.ceil((t1 - d0) / step) + 1);
  let px = -1;
  let sum = 0;
  let cnt = 0;
  const put = (): void => {
    if (px < 0 || cnt === 0 || sum <= 0) return;
    const hh = Math.max(1, Math.min(1, sum / cnt / scale) * height);
    ctx.fillRect(x0 + px, bottom - hh, 1, hh);
  };
  for (let c = c0; c < c1; c++) {
    const xa = (d0 + c * step - t0) * k;
    const xb = (d0 + (c + 1) * step - t0) * k;
    if (xb <= 0 || xa >= plotW) continue;
    // The pixels this column covers (usually one; more when zoomed in past the data).
    const pa = Math.max(0, Math.floor(xa));
    const pb = Math.min(Math.ceil(plotW) - 1, Math.max(pa, Math.ceil(xb) - 1));
    for (let p = pa; p <= pb; p++) {
      if (p !== px) {
        put();
        px = p;
        sum = 0;
        cnt = 0;
      }
      sum += v[c]!;
      cnt++;
    }
  }
  put();
}

export abstract class Timeline {
  readonly el: HTMLDivElement;
  protected readonly canvas: HTMLCanvasElement;
  private readonly spacer: HTMLDivElement;
  protected width = 0;
  protected height = 0;
  visible = false;
  private raf = 0;
  private abort: AbortController | null = null;
  /** Window seq of the data on hand (-1: none). */
  protected dataSeq = -1;
  /** What the data on hand covers: a time range and its resolution (ns per column). */
  private coverage = { t0: 0, t1: 0, px: Infinity };
  private readonly pending: PendingInput[] = [];
  private drag: { x: number; y: number; t0: number; t1: number; top: number; moved: boolean } | null = null;
  private firstDraw: (() => void) | null = null;
  /** ms the last data request took (for the performance record). */
  private fetchMs = 0;
  /** ms the last draw took. */
  private drawMs = 0;

  constructor(
    protected readonly host: Host,
    readonly name: string,
    protected readonly labelW: number,
    ariaLabel: string,
  ) {
    this.canvas = h('canvas.tl-canvas', { tabindex: 0, role: 'img', 'aria-label': ariaLabel });
    this.spacer = h('div.tl-spacer');
    this.el = h('div.timeline', {}, this.canvas, this.spacer);
    this.el.addEventListener('scroll', () => {
      this.onScroll();
      this.invalidate();
    });
    this.canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    this.canvas.addEventListener('mousedown', (e) => this.onDown(e));
    window.addEventListener('mousemove', (e) => this.onMove(e));
    window.addEventListener('mouseup', (e) => this.onUp(e));
    this.canvas.addEventListener('mouseleave', () => this.host.tooltip.hide());
    this.canvas.addEventListener('dblclick', (e) => {
      const t = this.timeAt(this.localX(e));
      if (t !== null) this.host.state.zoom(e.shiftKey ? 2 : 0.5, t, performance.now());
    });
    host.state.onWindow(() => this.onWindow());
    host.state.onFocus(() => this.invalidate());
  }

  /** Height of the rows (for the scrollbar). */
  protected abstract contentHeight(): number;
  /** Fetches what the window needs; resolves when the data is stored on `this`. */
  protected abstract fetchData(t0: number, t1: number, width: number, signal: AbortSignal): Promise<void>;
  /** Draws the rows (below the axis, scrolled by `scrollTop`). */
  protected abstract drawRows(ctx: CanvasRenderingContext2D, t0: number, t1: number): void;
  /** Tooltip for a point of the rows area (CSS px relative to the canvas), or null. */
  protected abstract hit(x: number, y: number): Node | null;
  /** A click (no drag) at a point of the canvas. */
  protected onClick(_x: number, _y: number, _e: MouseEvent): void {}
  /** The visible rows changed (scroll): refetch when needed. */
  protected onScroll(): void {}

  get scrollTop(): number {
    return this.el.scrollTop;
  }

  /** Resolves after the first draw with data. */
  whenDrawn(): Promise<void> {
    if (this.dataSeq >= 0) return Promise.resolve();
    return new Promise((r) => (this.firstDraw = r));
  }

  show(): void {
    this.visible = true;
    this.resize();
    this.refresh();
  }

  hide(): void {
    this.visible = false;
    this.abort?.abort();
    this.host.tooltip.hide();
  }

  resize(): void {
    if (!this.visible) return;
    const r = this.el.getBoundingClientRect();
    this.width = Math.max(200, Math.floor(r.width - (this.el.offsetWidth - this.el.clientWidth)));
    this.height = Math.max(100, Math.floor(r.height));
    this.updateSpacer();
    this.invalidate();
  }

  protected updateSpacer(): void {
    this.spacer.style.height = `${Math.max(0, this.contentHeight() + AXIS_H - this.height)}px`;
  }

  /** Pixels per ns of the current window. */
  protected get plotW(): number {
    return Math.max(1, this.width - this.labelW);
  }

  protected x(t: number): number {
    const s = this.host.state;
    return this.labelW + ((t - s.t0) / (s.t1 - s.t0)) * this.plotW;
  }

  protected timeAt(x: number): number | null {
    if (x < this.labelW) return null;
    const s = this.host.state;
    return s.t0 + ((x - this.labelW) / this.plotW) * (s.t1 - s.t0);
  }

  private localX(e: MouseEvent): number {
    return e.clientX - this.canvas.getBoundingClientRect().left;
  }
  private localY(e: MouseEvent): number {
    return e.clientY - this.canvas.getBoundingClientRect().top;
  }

  private onWindow(): void {
    if (!this.visible) return;
    const s = this.host.state;
    if (s.inputAt !== null) this.pending.push({ input: s.inputAt, seq: s.seq, quickAt: null });
    this.invalidate();
    this.refresh();
  }

  /** Asks for the data of the current window (dropping a request in flight). */
  refresh(): void {
    if (!this.visible || this.width === 0) return;
    this.abort?.abort();
    const ac = new AbortController();
    this.abort = ac;
    const s = this.host.state;
    const seq = s.seq;
    s.perf.pending++;
    const asked = performance.now();
    // Overscan: one window's span either side, at twice the screen's resolution, so that the
    // next pan (up to a span) or zoom (up to 2x in, 1.5x out) is drawn from data that already
    // has the new window's resolution, while this refreshes the margin in the background.
    const span = s.t1 - s.t0;
    const a = Math.max(s.begin, s.t0 - OVERSCAN * span);
    const b = Math.min(s.end, s.t1 + OVERSCAN * span);
    const cols = Math.min(MAX_COLUMNS, Math.max(1, Math.round((RESOLUTION * this.plotW * (b - a)) / span)));
    this.fetchData(a, b, cols, ac.signal).then(
      () => {
        s.perf.pending--;
        if (ac.signal.aborted) return;
        this.dataSeq = seq;
        this.coverage = { t0: a, t1: b, px: (b - a) / cols };
        this.fetchMs = performance.now() - asked;
        // Draw now rather than at the next animation frame: the frame it shows in is the same.
        if (this.raf !== 0) {
          cancelAnimationFrame(this.raf);
          this.raf = 0;
        }
        if (this.visible) this.draw();
      },
      (err: unknown) => {
        s.perf.pending--;
        if (ac.signal.aborted || (err instanceof DOMException && err.name === 'AbortError')) return;
        this.host.error(`${this.name}: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  /** Whether the data on hand covers the current window at (at least) its screen resolution. */
  protected covers(): boolean {
    const s = this.host.state;
    const c = this.coverage;
    return c.t0 <= s.t0 && c.t1 >= s.t1 && c.px <= ((s.t1 - s.t0) / this.plotW) * 1.0001;
  }

  invalidate(): void {
    if (!this.visible || this.raf !== 0) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.draw();
    });
  }

  private draw(): void {
    const began = performance.now();
    const ctx = fitCanvas(this.canvas, this.width, this.height);
    const s = this.host.state;
    ctx.fillStyle = BG;
    ctx.fillRect(0, 0, this.width, this.height);
    // Grid and axis.
    const tk = ticks(s.t0 - s.begin, s.t1 - s.begin, this.plotW);
    tk.at = tk.at.map((t) => t + s.begin);
    ctx.save();
    ctx.beginPath();
    ctx.rect(this.labelW, AXIS_H, this.plotW, this.height - AXIS_H);
    ctx.clip();
    ctx.fillStyle = GRID;
    for (const t of tk.at) ctx.fillRect(Math.round(this.x(t)), AXIS_H, 1, this.height - AXIS_H);
    ctx.restore();
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, AXIS_H, this.width, this.height - AXIS_H);
    ctx.clip();
    this.drawRows(ctx, s.t0, s.t1);
    ctx.restore();
    this.drawAxis(ctx, tk);
    const now = performance.now();
    this.drawMs = now - began;
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i]!;
      if (p.quickAt === null) p.quickAt = now;
      if (this.dataSeq >= p.seq || this.covers()) {
        s.recordRedraw(this.name, p.input, p.quickAt, now, this.fetchMs, this.drawMs);
        this.pending.splice(i--, 1);
      }
    }
    if (this.dataSeq >= 0 && this.firstDraw !== null) {
      const f = this.firstDraw;
      this.firstDraw = null;
      f();
    }
  }

  private drawAxis(ctx: CanvasRenderingContext2D, tk: { step: number; at: number[] }): void {
    const s = this.host.state;
    ctx.fillStyle = '#141b24';
    ctx.fillRect(0, 0, this.width, AXIS_H);
    ctx.fillStyle = 'rgba(255,255,255,0.08)';
    ctx.fillRect(0, AXIS_H - 1, this.width, 1);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = AXIS_TEXT;
    for (const t of tk.at) {
      const x = Math.round(this.x(t));
      if (x < this.labelW) continue;
      ctx.fillRect(x, AXIS_H - 6, 1, 5);
      ctx.fillText(fmtOffset(t - s.begin, tk.step), x + 4, AXIS_H / 2 - 1);
    }
    this.drawCorner(ctx);
  }

  /** The top-left corner above the labels. */
  protected drawCorner(ctx: CanvasRenderingContext2D): void {
    ctx.fillStyle = '#141b24';
    ctx.fillRect(0, 0, this.labelW, AXIS_H - 1);
  }

  private onWheel(e: WheelEvent): void {
    const x = this.localX(e);
    if (x < this.labelW) return; // the label column scrolls the rows
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.height : 1;
    const dx = e.deltaX * unit;
    const dy = e.deltaY * unit;
    const s = this.host.state;
    const now = performance.now();
    if (Math.abs(dx) > Math.abs(dy) || e.shiftKey) {
      const d = Math.abs(dx) > Math.abs(dy) ? dx : dy;
      s.pan((d / this.plotW) * (s.t1 - s.t0), now);
    } else {
      const t = this.timeAt(x) ?? (s.t0 + s.t1) / 2;
      s.zoom(Math.exp(dy * 0.002), t, now);
    }
  }

  private onDown(e: MouseEvent): void {
    if (e.button !== 0) return;
    const s = this.host.state;
    this.drag = { x: e.clientX, y: e.clientY, t0: s.t0, t1: s.t1, top: this.el.scrollTop, moved: false };
    this.canvas.focus();
    e.preventDefault();
  }

  private onMove(e: MouseEvent): void {
    const d = this.drag;
    if (d !== null) {
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (!d.moved && Math.abs(dx) + Math.abs(dy) < 3) return;
      d.moved = true;
      this.canvas.style.cursor = 'grabbing';
      const span = d.t1 - d.t0;
      this.host.state.setWindow(
        d.t0 - (dx / this.plotW) * span,
        d.t1 - (dx / this.plotW) * span,
        performance.now(),
      );
      if (dy !== 0) this.el.scrollTop = d.top - dy;
      this.host.tooltip.hide();
      return;
    }
    if (!this.visible || e.target !== this.canvas) return;
    const x = this.localX(e);
    const y = this.localY(e);
    const tip = y > AXIS_H ? this.hit(x, y) : null;
    if (tip === null) this.host.tooltip.hide();
    else this.host.tooltip.show(tip, e.clientX, e.clientY);
  }

  private onUp(e: MouseEvent): void {
    const d = this.drag;
    if (d === null) return;
    this.drag = null;
    this.canvas.style.cursor = '';
    if (!d.moved && e.target === this.canvas) this.onClick(this.localX(e), this.localY(e), e);
  }
}
