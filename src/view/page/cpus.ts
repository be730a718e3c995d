/** The resources timeline: one lane per CPU, each slice in the colour of its thread's container. */
import type { LanesResponse, RowsResponse } from '../types.js';
import { lowerBound } from '../store.js';
import { fitText } from './dom.js';
import { MapShares, PixelRuns } from './pixel-runs.js';
import { fmtClock, fmtDur } from './fmt.js';
import { tipContent } from './tooltip.js';
import type { Host } from './timeline.js';
import { AXIS_H, drawOccupancy, Timeline } from './timeline.js';

const GAP = 4;
const DIM = 0.16;
const CROW_H = 20;
const CHEAD_H = 26;

export class CpuView extends Timeline {
  private data: LanesResponse | null = null;
  /** Containers' rows under the lanes: how many of their threads run. */
  private groups: RowsResponse | null = null;
  private readonly ckeys: number[];
  private laneH = 40;

  constructor(host: Host) {
    super(host, 'cpus', 84, 'CPU lanes: the thread running on each CPU over time, coloured by container');
    this.ckeys = host.summary.containers.filter((c) => c.threads > 0).map((c) => c.key);
  }

  override resize(): void {
    const n = Math.max(1, this.host.summary.cpus.length);
    const avail = this.el.getBoundingClientRect().height - AXIS_H - 8 - CHEAD_H - this.ckeys.length * CROW_H;
    this.laneH = Math.max(26, Math.min(110, Math.floor(avail / n) - GAP));
    super.resize();
  }

  protected contentHeight(): number {
    return this.host.summary.cpus.length * (this.laneH + GAP) + 8 + CHEAD_H + this.ckeys.length * CROW_H;
  }

  protected async fetchData(t0: number, t1: number, width: number, signal: AbortSignal): Promise<void> {
    const groups = this.ckeys.map((k) => `c:${k}`);
    const [lanes, rows] = await Promise.all([
      this.host.source.lanes({ t0, t1, width }, signal),
      this.host.source.rows({ t0, t1, width, uids: [], groups }, signal),
    ]);
    this.data = lanes;
    this.groups = rows;
  }

  private containersY(): number {
    return this.laneY(this.host.summary.cpus.length) + 4;
  }

  /** Rows under the lanes: each container's running threads per column (0 to the CPU count). */
  private drawContainers(ctx: CanvasRenderingContext2D, t0: number, t1: number): void {
    const { colors, state, summary } = this.host;
    const y0 = this.containersY();
    ctx.fillStyle = '#8793a5';
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillText('threads running, by container', 14, y0 + CHEAD_H / 2);
    ctx.fillStyle = 'rgba(255,255,255,0.07)';
    ctx.fillRect(0, y0 + 2, this.width, 1);
    const g = this.groups;
    const ncpu = Math.max(1, summary.cpus.length);
    this.ckeys.forEach((key, i) => {
      const y = y0 + CHEAD_H + i * CROW_H;
      if (y + CROW_H < AXIS_H || y > this.height) return;
      const c = summary.containers.find((x) => x.key === key)!;
      ctx.fillStyle = i % 2 === 0 ? '#121922' : '#10161e';
      ctx.fillRect(this.labelW, y, this.plotW, CROW_H - 2);
      ctx.fillStyle = colors.of(key);
      ctx.fillRect(14, y + CROW_H / 2 - 5, 8, 8);
      ctx.fillStyle = '#c9d3e0';
      ctx.fillText(fitText(ctx, c.isHost ? '[HOST]' : c.name, this.labelW - 34), 28, y + CROW_H / 2 - 1);
      const row = g?.groups.find((r) => r.id === `c:${key}`);
      if (g === null || row === undefined) return;
      const dim = state.focus !== null && state.focus !== key ? DIM : 1;
      ctx.fillStyle = colors.alpha(key, 0.9 * dim);
      drawOccupancy(
        ctx,
        row.v,
        g.t0,
        g.t1,
        t0,
        t1,
        this.labelW,
        this.plotW,
        y + CROW_H - 2,
        CROW_H - 4,
        ncpu,
      );
    });
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
    this.drawContainers(ctx, t0, t1);
    const d = this.data;
    if (d === null) return;
    d.lanes.forEach((lane, i) => {
      const y = this.laneY(i);
      if (y + this.laneH < AXIS_H || y > this.height) return;
      const n = lane.s.length;
      // Items are sorted by start and do not overlap (but merged columns may touch the next
      // slice): start one before the first that begins in the window. Narrow items are drawn
      // one per screen pixel (the one covering most of it: a container and a fill level), and
      // neighbouring pixels drawn the same way as one rectangle; wide slices one by one.
      let j0 = lowerBound(lane.s, t0);
      if (j0 > 0) j0--;
      const runs = new PixelRuns(new MapShares(), (key, ra, rb) => {
        const ckey = key >> 4;
        const level = key & 15;
        const f = level === 15 ? 1 : (level + 0.5) / 10;
        const dim = focus !== null && ckey !== focus ? DIM : 1;
        const bh = level === 15 ? this.laneH : Math.max(2, Math.round(this.laneH * f));
        ctx.fillStyle = colors.alpha(ckey, (level === 15 ? 1 : 0.35 + 0.65 * f) * dim);
        ctx.fillRect(ra, y + this.laneH - bh, Math.max(1, rb - ra), bh);
      });
      for (let j = j0; j < n; j++) {
        const s = lane.s[j]!;
        if (s > t1) break;
        const e = lane.e[j]!;
        if (e < t0) continue;
        let xa = x0 + (s - t0) * pxPerNs;
        let xb = x0 + (e - t0) * pxPerNs;
        if (xa < x0) xa = x0;
        if (xb > this.width) xb = this.width;
        if (xb <= xa) xb = xa + 0.01;
        const k = lane.k[j]!;
        const ckey = k >= 0 ? (threads.get(k)?.container ?? 0) : -k - 1;
        if (k >= 0 && xb - xa > 4) {
          // A slice wide enough to show: its own rectangle, an edge, its thread's name.
          runs.finish();
          const dim = focus !== null && ckey !== focus ? DIM : 1;
          const w = xb - xa;
          ctx.fillStyle = colors.alpha(ckey, dim);
          ctx.fillRect(xa, y, w, this.laneH);
          ctx.fillStyle = 'rgba(0,0,0,0.35)';
          ctx.fillRect(xa, y, 1, this.laneH);
          if (w > 44) {
            const t = threads.get(k);
            const label = fitText(ctx, t === undefined ? `tid ?` : `${t.comm} ${t.tid}`, w - 8);
            if (label !== '') {
              ctx.fillStyle = dim < 1 ? 'rgba(10,14,20,0.5)' : '#0b0f14';
              ctx.fillText(label, xa + 4, y + this.laneH / 2);
            }
          }
          continue;
        }
        const level = k >= 0 ? 15 : Math.min(9, Math.floor(lane.f[j]! * 10));
        runs.add(ckey * 16 + level, xa, xb);
      }
      runs.finish();
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

  /** Tooltip of a container row under the lanes. */
  private containerHit(x: number, y: number): Node | null {
    const i = Math.floor((y - this.containersY() - CHEAD_H) / CROW_H);
    const key = this.ckeys[i];
    const g = this.groups;
    const t = this.timeAt(x);
    if (key === undefined || g === null || t === null || y < this.containersY() + CHEAD_H) return null;
    const row = g.groups.find((r) => r.id === `c:${key}`);
    const col = Math.floor(((t - g.t0) / (g.t1 - g.t0)) * g.width);
    const v = row?.v[col];
    if (v === undefined) return null;
    const c = this.host.summary.containers.find((cc) => cc.key === key)!;
    return tipContent(c.isHost ? '[HOST]' : `${c.name} (${c.type})`, [
      ['running', `${v.toFixed(2)} threads on average`],
      ['at', fmtClock(this.host.summary, t)],
    ]);
  }

  protected hit(x: number, y: number): Node | null {
    if (y >= this.containersY()) return this.containerHit(x, y);
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
          ['mostly', c === undefined ? '?' : c.isHost ? '[HOST]' : `${c.name} (${c.type})`],
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
