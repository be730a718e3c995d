/** The resources timeline: one lane per CPU, each slice in the colour of its thread's container. */
import type { LanesResponse } from '../types.js';
import { fitText } from './dom.js';
import { fmtClock, fmtDur } from './fmt.js';
import { tipContent } from './tooltip.js';
import type { Host } from './timeline.js';
import { AXIS_H, Timeline } from './timeline.js';

const GAP = 4;
const DIM = 0.16;

export class CpuView extends Timeline {
  private data: LanesResponse | null = null;
  private laneH = 40;

  constructor(host: Host) {
    super(host, 'cpus', 84, 'CPU lanes: the thread running on each CPU over time, coloured by container');
  }

  override resize(): void {
    const n = Math.max(1, this.host.summary.cpus.length);
    const avail = this.el.getBoundingClientRect().height - AXIS_H - 8;
    this.laneH = Math.max(26, Math.min(110, Math.floor(avail / n) - GAP));
    super.resize();
  }

  protected contentHeight(): number {
    return this.host.summary.cpus.length * (this.laneH + GAP) + 8;
  }

  protected async fetchData(t0: number, t1: number, width: number, signal: AbortSignal): Promise<void> {
    this.data = await this.host.source.lanes({ t0, t1, width }, signal);
  }

  private laneY(i: number): number {
    return AXIS_H + 6 + i * (this.laneH + GAP) - this.scrollTop;
  }

  protected drawRows(ctx: CanvasRenderingContext2D, t0: number, t1: number): void {
    const { colors, state, threads, summary } = this.host;
    const focus = state.focus;
    const x0 = this.labelW;
    const pxPerNs = this.plotW / (t1 - t0);
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    summary.cpus.forEach((cpu, i) => {
      const y = this.laneY(i);
      if (y + this.laneH < AXIS_H || y > this.height) return;
      ctx.fillStyle = i % 2 === 0 ? '#131a23' : '#111720';
      ctx.fillRect(x0, y, this.plotW, this.laneH);
      ctx.fillStyle = '#c9d3e0';
      ctx.fillText(`CPU ${cpu}`, 14, y + this.laneH / 2);
    });
    const d = this.data;
    if (d === null) return;
    d.lanes.forEach((lane, i) => {
      const y = this.laneY(i);
      if (y + this.laneH < AXIS_H || y > this.height) return;
      const n = lane.s.length;
      for (let j = 0; j < n; j++) {
        const s = lane.s[j]!;
        const e = lane.e[j]!;
        if (e < t0 || s > t1) continue;
        let xa = x0 + (s - t0) * pxPerNs;
        let xb = x0 + (e - t0) * pxPerNs;
        if (xa < x0) xa = x0;
        if (xb > this.width) xb = this.width;
        const w = Math.max(1, xb - xa);
        const k = lane.k[j]!;
        const ckey = k >= 0 ? (threads.get(k)?.container ?? 0) : -k - 1;
        const dim = focus !== null && ckey !== focus ? DIM : 1;
        if (k >= 0) {
          ctx.fillStyle = colors.alpha(ckey, dim);
          ctx.fillRect(xa, y, w, this.laneH);
          if (w > 4) {
            ctx.fillStyle = 'rgba(0,0,0,0.35)';
            ctx.fillRect(xa, y, 1, this.laneH);
          }
          if (w > 44) {
            const t = threads.get(k);
            const label = fitText(ctx, t === undefined ? `tid ?` : `${t.comm} ${t.tid}`, w - 8);
            if (label !== '') {
              ctx.fillStyle = dim < 1 ? 'rgba(10,14,20,0.5)' : '#0b0f14';
              ctx.fillText(label, xa + 4, y + this.laneH / 2);
            }
          }
        } else {
          const f = lane.f[j]!;
          const bh = Math.max(2, Math.round(this.laneH * f));
          ctx.fillStyle = colors.alpha(ckey, (0.35 + 0.65 * f) * dim);
          ctx.fillRect(xa, y + this.laneH - bh, w, bh);
        }
      }
    });
  }

  private itemAt(x: number, y: number): { lane: number; j: number } | null {
    const d = this.data;
    const t = this.timeAt(x);
    if (d === null || t === null) return null;
    const i = Math.floor((y - (AXIS_H + 6) + this.scrollTop) / (this.laneH + GAP));
    const lane = d.lanes[i];
    if (lane === undefined || y > this.laneY(i) + this.laneH) return null;
    // Items are sorted by start: the last one starting at or before t.
    let lo = 0;
    let hi = lane.s.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (lane.s[m]! <= t) lo = m + 1;
      else hi = m;
    }
    const j = lo - 1;
    if (j < 0) return null;
    const tol = (this.host.state.t1 - this.host.state.t0) / this.plotW; // one pixel
    if (lane.e[j]! + tol < t) return null;
    return { lane: i, j };
  }

  protected hit(x: number, y: number): Node | null {
    const it = this.itemAt(x, y);
    if (it === null) return null;
    const { summary, threads } = this.host;
    const lane = this.data!.lanes[it.lane]!;
    const k = lane.k[it.j]!;
    const s = lane.s[it.j]!;
    const e = lane.e[it.j]!;
    if (k < 0) {
      const c = summary.containers.find((cc) => cc.key === -k - 1);
      return tipContent(
        `${lane.n[it.j]} slices on CPU ${lane.cpu}`,
        [
          ['busy', `${Math.round(lane.f[it.j]! * 100)} % of ${fmtDur(e - s)}`],
          ['mostly', c === undefined ? '?' : `${c.name} (${c.type})`],
          ['at', fmtClock(summary, s)],
        ],
        'zoom in to see each slice',
      );
    }
    const t = threads.get(k);
    const c = summary.containers.find((cc) => cc.key === t?.container);
    const rows: Array<[string, string]> = [
      [
        'thread',
        t === undefined
          ? '?'
          : `tid ${t.tid}${t.vtid !== null && t.vtid !== t.tid ? ` (vtid ${t.vtid})` : ''}`,
      ],
      [
        'process',
        t?.pid === null || t === undefined
          ? 'pid unknown'
          : `pid ${t.pid}${t.vpid !== null && t.vpid !== t.pid ? ` (vpid ${t.vpid})` : ''}`,
      ],
      ['container', c === undefined ? '?' : c.isHost ? '[HOST]' : `${c.name} (${c.type})`],
      ['CPU', String(lane.cpu)],
      ['from', fmtClock(summary, s)],
      ['for', fmtDur(e - s)],
    ];
    return tipContent(t?.comm || '?', rows);
  }

  protected override onClick(x: number, y: number): void {
    const it = this.itemAt(x, y);
    const { state, threads } = this.host;
    if (it === null) {
      state.setFocus(null);
      return;
    }
    const k = this.data!.lanes[it.lane]!.k[it.j]!;
    const ckey = k >= 0 ? (threads.get(k)?.container ?? 0) : -k - 1;
    state.setFocus(state.focus === ckey ? null : ckey);
  }
}
