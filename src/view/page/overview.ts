/**
 * The overview strip above every view: CPU use of the whole trace by container (stacked), with
 * the current window as a brush. Drag the brush to move the window, drag elsewhere to choose a
 * new one, click to centre the window there.
 */
import type { SeriesResponse } from '../types.js';
import { fitCanvas, h } from './dom.js';
import { fmtDur, fmtOffset, ticks } from './fmt.js';
import type { Host } from './timeline.js';

const H = 54;

export class Overview {
  readonly el: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly label: HTMLSpanElement;
  private data: SeriesResponse | null = null;
  private width = 0;
  private raf = 0;
  private drag: { x: number; t0: number; t1: number; mode: 'move' | 'select'; moved: boolean } | null = null;

  constructor(private readonly host: Host) {
    this.canvas = h('canvas.ov-canvas', {
      'aria-label':
        'Overview of the whole trace: CPU use by container; the highlighted part is the window the views show',
    });
    this.label = h('span.ov-label');
    this.el = h('div.overview', {}, this.canvas, this.label);
    this.canvas.addEventListener('mousedown', (e) => this.onDown(e));
    window.addEventListener('mousemove', (e) => this.onMove(e));
    window.addEventListener('mouseup', () => this.onUp());
    host.state.onWindow(() => this.invalidate());
    host.state.onFocus(() => this.invalidate());
  }

  async load(): Promise<void> {
    this.resize();
    const { state } = this.host;
    this.data = await this.host.source.series(state.begin, state.end, Math.max(100, Math.floor(this.width)));
    this.invalidate();
  }

  resize(): void {
    this.width = Math.floor(this.el.getBoundingClientRect().width);
    this.invalidate();
  }

  private invalidate(): void {
    if (this.raf !== 0) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.draw();
    });
  }

  private X(t: number): number {
    const s = this.host.state;
    return ((t - s.begin) / (s.end - s.begin)) * this.width;
  }

  private draw(): void {
    const ctx = fitCanvas(this.canvas, this.width, H);
    const { state, colors, summary } = this.host;
    ctx.fillStyle = '#0c1117';
    ctx.fillRect(0, 0, this.width, H);
    const d = this.data;
    if (d !== null) {
      const ncpu = Math.max(1, summary.cpus.length);
      const n = d.x.length;
      const colW = this.width / n;
      const base = new Float64Array(n);
      d.keys.forEach((k, i) => {
        const dim = state.focus !== null && state.focus !== k ? 0.15 : 0.9;
        ctx.fillStyle = colors.alpha(k, dim);
        const v = d.cpu[i]!;
        for (let j = 0; j < n; j++) {
          if (v[j]! <= 0) continue;
          const y0 = H - 2 - (base[j]! / ncpu) * (H - 6);
          const hh = (v[j]! / ncpu) * (H - 6);
          ctx.fillRect(j * colW, y0 - hh, Math.ceil(colW), hh);
          base[j]! += v[j]!;
        }
      });
    }
    // Ticks.
    const tk = ticks(0, state.end - state.begin, this.width, 140);
    tk.at = tk.at.map((t) => t + state.begin);
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    for (const t of tk.at) {
      const x = Math.round(this.X(t));
      ctx.fillStyle = 'rgba(255,255,255,0.12)';
      ctx.fillRect(x, 0, 1, H);
      const label = fmtOffset(t - state.begin, tk.step);
      ctx.fillStyle = 'rgba(8,11,15,0.7)';
      ctx.fillRect(x + 1, 1, ctx.measureText(label).width + 6, 13);
      ctx.fillStyle = '#aab5c5';
      ctx.fillText(label, x + 4, 2);
    }
    // Brush.
    const a = this.X(state.t0);
    const b = Math.max(a + 2, this.X(state.t1));
    ctx.fillStyle = 'rgba(8,11,15,0.62)';
    ctx.fillRect(0, 0, a, H);
    ctx.fillRect(b, 0, this.width - b, H);
    ctx.strokeStyle = '#dce6f2';
    ctx.lineWidth = 1;
    ctx.strokeRect(a + 0.5, 0.5, b - a - 1, H - 1);
    this.label.textContent = `window ${fmtOffset(state.t0 - state.begin, (state.t1 - state.t0) / 1000)} – ${fmtOffset(
      state.t1 - state.begin,
      (state.t1 - state.t0) / 1000,
    )} (${fmtDur(state.t1 - state.t0)} of ${fmtDur(state.end - state.begin)})`;
  }

  private timeAt(clientX: number): number {
    const r = this.canvas.getBoundingClientRect();
    const s = this.host.state;
    return s.begin + ((clientX - r.left) / Math.max(1, r.width)) * (s.end - s.begin);
  }

  private onDown(e: MouseEvent): void {
    const s = this.host.state;
    const t = this.timeAt(e.clientX);
    const inside = t >= s.t0 && t <= s.t1;
    this.drag = { x: e.clientX, t0: s.t0, t1: s.t1, mode: inside ? 'move' : 'select', moved: false };
    e.preventDefault();
  }

  private onMove(e: MouseEvent): void {
    const d = this.drag;
    if (d === null) return;
    if (!d.moved && Math.abs(e.clientX - d.x) < 3) return;
    d.moved = true;
    const s = this.host.state;
    const scale = (s.end - s.begin) / Math.max(1, this.canvas.getBoundingClientRect().width);
    if (d.mode === 'move') {
      const dt = (e.clientX - d.x) * scale;
      s.setWindow(d.t0 + dt, d.t1 + dt, performance.now());
    } else {
      const a = this.timeAt(d.x);
      const b = this.timeAt(e.clientX);
      s.setWindow(Math.min(a, b), Math.max(a, b), performance.now());
    }
  }

  private onUp(): void {
    const d = this.drag;
    this.drag = null;
    if (d === null || d.moved) return;
    const s = this.host.state;
    const t = this.timeAt(d.x);
    const span = s.t1 - s.t0;
    s.setWindow(t - span / 2, t + span / 2, performance.now());
  }
}
