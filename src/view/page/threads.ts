/**
 * The threads timeline: container > process > thread rows. Thread rows show states (running in
 * the container's colour, runnable, asleep or blocked in a syscall); container and process rows
 * show how many of their threads ran. App spans of `nstrace spans` go under the thread rows when
 * the data has them.
 */
import type { GroupRowData, RowsResponse, SpanRowData, ThreadRowData, ThreadSummary } from '../types.js';
import { ThreadState } from '../types.js';
import { lowerBound } from '../store.js';
import { fitText } from './dom.js';
import { ArrayShares, PixelRuns } from './pixel-runs.js';
import { fmtClock, fmtDur, fmtPct } from './fmt.js';
import { tipContent } from './tooltip.js';
import type { Host } from './timeline.js';
import { AXIS_H, drawOccupancy, Timeline } from './timeline.js';

const ROW_H = 22;
const DIM = 0.16;
const SLEEP = '#3b4657';
const SLEEP_SYSCALL = '#6b7f9e';
const BLOCKED = '#e0892f';
const OTHER = '#9b6dd6';

type Row =
  | { kind: 'container'; id: string; ckey: number; label: string; sub: string; depth: 0; count: number }
  | { kind: 'process'; id: string; ckey: number; label: string; sub: string; depth: 1; count: number }
  | { kind: 'thread'; uid: number; ckey: number; label: string; sub: string; depth: number };

interface Proc {
  id: string;
  pid: number;
  threads: ThreadSummary[];
  cpuNs: number;
}

/** What a thread's state means, for tooltips and the legend. */
export function stateText(st: number, a: number, syscalls: readonly string[]): string {
  const sys = a >= 0 ? syscalls[a] : undefined;
  switch (st) {
    case ThreadState.running:
      return a >= 0 ? `running on CPU ${a}` : 'running';
    case ThreadState.preempted:
      return 'runnable (preempted)';
    case ThreadState.woken:
      return a >= 0 ? `runnable (woken up, for CPU ${a})` : 'runnable (woken up)';
    case ThreadState.sleeping:
      return sys !== undefined ? `blocked in ${sys} (S, interruptible sleep)` : 'asleep (S)';
    case ThreadState.blocked:
      return sys !== undefined ? `blocked in ${sys} (D, uninterruptible)` : 'blocked (D, uninterruptible)';
    default:
      return a >= 0 ? `other state (prev_state ${a})` : 'other state';
  }
}

export class ThreadsView extends Timeline {
  private readonly tree: Array<{ ckey: number; id: string; procs: Proc[]; threads: number }> = [];
  private readonly expanded = new Set<string>();
  private rows: Row[] = [];
  private selected = 0;
  private data: RowsResponse | null = null;
  private byUid = new Map<number, ThreadRowData>();
  private byGroup = new Map<string, GroupRowData>();
  private spans = new Map<number, SpanRowData>();
  /** Time per state kind within one pixel (drawStates). */
  private readonly kindShares = new ArrayShares(16);
  /** Row index range the data on hand covers. */
  private covered: [number, number] = [0, -1];

  constructor(host: Host) {
    super(
      host,
      'threads',
      330,
      'Threads timeline: container, process and thread rows with their states over time',
    );
    const { summary } = host;
    const byC = new Map<number, Map<number, Proc>>();
    for (const t of summary.threads) {
      let procs = byC.get(t.container);
      if (procs === undefined) byC.set(t.container, (procs = new Map()));
      const pid = t.pid ?? t.tid;
      let p = procs.get(pid);
      if (p === undefined)
        procs.set(pid, (p = { id: `p:${t.container}:${pid}`, pid, threads: [], cpuNs: 0 }));
      p.threads.push(t);
      p.cpuNs += t.cpuNs;
    }
    const order = [
      ...summary.containers.filter((c) => !c.isHost),
      ...summary.containers.filter((c) => c.isHost),
    ];
    for (const c of order) {
      const procs = [...(byC.get(c.key)?.values() ?? [])];
      if (procs.length === 0) continue;
      procs.sort((a, b) => b.cpuNs - a.cpuNs || a.pid - b.pid);
      for (const p of procs) p.threads.sort((a, b) => a.tid - b.tid);
      const n = procs.reduce((s, p) => s + p.threads.length, 0);
      this.tree.push({ ckey: c.key, id: `c:${c.key}`, procs, threads: n });
      if (!c.isHost || n <= 40) this.expanded.add(`c:${c.key}`);
      for (const p of procs) if (p.threads.length <= 6 && !c.isHost) this.expanded.add(p.id);
    }
    this.rebuild();
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
  }

  private rebuild(): void {
    const { summary } = this.host;
    const rows: Row[] = [];
    for (const c of this.tree) {
      const cs = summary.containers.find((x) => x.key === c.ckey)!;
      rows.push({
        kind: 'container',
        id: c.id,
        ckey: c.ckey,
        label: cs.isHost ? '[HOST]' : cs.name,
        sub: `${cs.isHost ? 'host' : cs.type} · ${c.procs.length} proc · ${c.threads} thr`,
        depth: 0,
        count: c.threads,
      });
      if (!this.expanded.has(c.id)) continue;
      for (const p of c.procs) {
        const leader = p.threads.find((t) => t.tid === p.pid) ?? p.threads[0]!;
        const vpid = leader.vpid !== null && leader.vpid !== p.pid ? ` (${leader.vpid})` : '';
        const single = p.threads.length === 1;
        if (single) {
          rows.push(this.threadRow(p.threads[0]!, 1));
          continue;
        }
        rows.push({
          kind: 'process',
          id: p.id,
          ckey: c.ckey,
          label: leader.comm || '?',
          sub: `pid ${p.pid}${vpid} · ${p.threads.length} thr`,
          depth: 1,
          count: p.threads.length,
        });
        if (!this.expanded.has(p.id)) continue;
        for (const t of p.threads) rows.push(this.threadRow(t, 2));
      }
    }
    this.rows = rows;
    this.host.state.perf.threadRows = rows.length;
    this.selected = Math.min(this.selected, rows.length - 1);
    this.covered = [0, -1];
    this.updateSpacer();
  }

  private threadRow(t: ThreadSummary, depth: number): Row {
    const v = t.vtid !== null && t.vtid !== t.tid ? ` (${t.vtid})` : '';
    const isLeader = t.pid === t.tid;
    return {
      kind: 'thread',
      uid: t.uid,
      ckey: t.container,
      label: t.comm || '?',
      sub: `${isLeader && depth === 1 ? 'pid' : 'tid'} ${t.tid}${v}`,
      depth,
    };
  }

  protected contentHeight(): number {
    return this.rows.length * ROW_H + 4;
  }

  private visibleRange(): [number, number] {
    const first = Math.max(0, Math.floor(this.scrollTop / ROW_H));
    const last = Math.min(this.rows.length - 1, Math.ceil((this.scrollTop + this.height - AXIS_H) / ROW_H));
    return [first, last];
  }

  protected override onScroll(): void {
    const [a, b] = this.visibleRange();
    if (a < this.covered[0] || b > this.covered[1]) this.refresh();
  }

  protected async fetchData(t0: number, t1: number, width: number, signal: AbortSignal): Promise<void> {
    const [a, b] = this.visibleRange();
    const lo = Math.max(0, a - 15);
    const hi = Math.min(this.rows.length - 1, b + 15);
    const uids: number[] = [];
    const groups: string[] = [];
    for (let i = lo; i <= hi; i++) {
      const r = this.rows[i]!;
      if (r.kind === 'thread') uids.push(r.uid);
      else groups.push(r.id);
    }
    const d = await this.host.source.rows({ t0, t1, width, uids, groups }, signal);
    this.data = d;
    this.byUid = new Map(d.rows.map((r) => [r.uid, r]));
    this.byGroup = new Map(d.groups.map((g) => [g.id, g]));
    this.spans = new Map(d.spans.map((s) => [s.uid, s]));
    this.covered = [lo, hi];
  }

  private rowY(i: number): number {
    return AXIS_H + 2 + i * ROW_H - this.scrollTop;
  }

  protected drawRows(ctx: CanvasRenderingContext2D, t0: number, t1: number): void {
    const [a, b] = this.visibleRange();
    const { colors, state, summary } = this.host;
    const focus = state.focus;
    const x0 = this.labelW;
    const k = this.plotW / (t1 - t0);
    const X = (t: number): number => x0 + (t - t0) * k;
    for (let i = a; i <= b; i++) {
      const r = this.rows[i]!;
      const y = this.rowY(i);
      const dim = focus !== null && r.ckey !== focus ? DIM : 1;
      ctx.fillStyle =
        i === this.selected ? '#1d2836' : r.kind === 'container' ? '#18202b' : i % 2 ? '#111720' : '#131a23';
      ctx.fillRect(0, y, this.width, ROW_H);
      if (r.kind === 'thread') {
        const d = this.byUid.get(r.uid);
        if (d !== undefined) this.drawStates(ctx, d, r.ckey, y, X, dim);
        const sp = this.spans.get(r.uid);
        if (sp !== undefined) this.drawSpans(ctx, sp, r.ckey, y, X);
      } else {
        const g = this.byGroup.get(r.id);
        const d = this.data;
        if (g !== undefined && d !== null) {
          const scale = Math.max(1, Math.min(summary.cpus.length || 1, r.count));
          ctx.fillStyle = colors.alpha(r.ckey, 0.85 * dim);
          drawOccupancy(ctx, g.v, d.t0, d.t1, t0, t1, x0, this.plotW, y + ROW_H - 2, ROW_H - 4, scale);
        }
      }
      this.drawLabel(ctx, r, y, i === this.selected);
    }
  }

  private drawStates(
    ctx: CanvasRenderingContext2D,
    d: ThreadRowData,
    ckey: number,
    y: number,
    X: (t: number) => number,
    dim: number,
  ): void {
    const { colors } = this.host;
    const x0 = this.labelW;
    const mid = y + ROW_H / 2;
    const { t0, t1 } = this.host.state;
    // One kind per screen pixel (the one that covers most of it), and neighbouring pixels of
    // the same kind drawn as one rectangle: a zoomed-out row has thousands of intervals.
    const runs = new PixelRuns(this.kindShares, (kind, ra, rb) => {
      const w = Math.max(1, rb - ra);
      const st = kind >> 1;
      const inSyscall = (kind & 1) === 1;
      switch (st) {
        case ThreadState.running:
          ctx.fillStyle = colors.alpha(ckey, dim);
          ctx.fillRect(ra, y + 3, w, ROW_H - 6);
          break;
        case ThreadState.preempted:
        case ThreadState.woken:
          ctx.fillStyle = colors.alpha(ckey, 0.28 * dim);
          ctx.fillRect(ra, y + 3, w, ROW_H - 6);
          ctx.fillStyle = colors.alpha(ckey, 0.75 * dim);
          ctx.fillRect(ra, y + 3, w, 1.5);
          break;
        case ThreadState.sleeping:
          ctx.globalAlpha = dim;
          ctx.fillStyle = inSyscall ? SLEEP_SYSCALL : SLEEP;
          ctx.fillRect(ra, mid - (inSyscall ? 2 : 1), w, inSyscall ? 4 : 2);
          ctx.globalAlpha = 1;
          break;
        case ThreadState.blocked:
          ctx.globalAlpha = dim;
          ctx.fillStyle = BLOCKED;
          ctx.fillRect(ra, mid - 3, w, 6);
          ctx.globalAlpha = 1;
          break;
        default:
          ctx.globalAlpha = dim;
          ctx.fillStyle = OTHER;
          ctx.fillRect(ra, mid - 1, w, 2);
          ctx.globalAlpha = 1;
      }
    });
    let j0 = lowerBound(d.s, t0);
    if (j0 > 0) j0--;
    for (let j = j0; j < d.s.length; j++) {
      if (d.s[j]! > t1) break;
      let xa = X(d.s[j]!);
      let xb = X(d.e[j]!);
      if (xb < x0 || xa > this.width) continue;
      if (xa < x0) xa = x0;
      if (xb > this.width) xb = this.width;
      if (xb <= xa) xb = xa + 0.01;
      const st = d.st[j]!;
      const k = st * 2 + (st === ThreadState.sleeping && d.a[j]! >= 0 ? 1 : 0);
      runs.add(k, xa, xb);
    }
    runs.finish();
  }

  private drawSpans(
    ctx: CanvasRenderingContext2D,
    sp: SpanRowData,
    ckey: number,
    y: number,
    X: (t: number) => number,
  ): void {
    ctx.fillStyle = this.host.colors.alpha(ckey, 0.9);
    for (let j = 0; j < sp.s.length; j++) {
      const xa = Math.max(this.labelW, X(sp.s[j]!));
      const xb = Math.min(this.width, X(sp.e[j]!));
      if (xb <= xa) continue;
      ctx.fillRect(xa, y + ROW_H - 3 - Math.min(3, sp.depth[j]!) * 2, xb - xa, 1.5);
    }
  }

  private drawLabel(ctx: CanvasRenderingContext2D, r: Row, y: number, selected: boolean): void {
    const { colors } = this.host;
    ctx.fillStyle = selected ? '#1d2836' : r.kind === 'container' ? '#18202b' : '#111720';
    ctx.fillRect(0, y, this.labelW, ROW_H);
    ctx.fillStyle = 'rgba(255,255,255,0.07)';
    ctx.fillRect(this.labelW - 1, y, 1, ROW_H);
    let x = 8 + r.depth * 16;
    const mid = y + ROW_H / 2;
    ctx.textBaseline = 'middle';
    if (r.kind !== 'thread') {
      ctx.fillStyle = '#8b97a8';
      ctx.font = '10px system-ui, sans-serif';
      ctx.fillText(this.expanded.has(r.id) ? '▼' : '▶', x, mid);
    }
    x += 14;
    ctx.fillStyle = colors.of(r.ckey);
    if (r.kind === 'container') ctx.fillRect(x, mid - 5, 10, 10);
    else ctx.fillRect(x + 2, mid - 3, 6, 6);
    x += 16;
    ctx.font = r.kind === 'container' ? '600 12px system-ui, sans-serif' : '12px system-ui, sans-serif';
    ctx.fillStyle = r.kind === 'thread' ? '#c9d3e0' : '#e6edf5';
    const room = this.labelW - x - 8;
    const label = fitText(ctx, r.label, Math.min(room, 170));
    ctx.fillText(label, x, mid);
    const lw = ctx.measureText(label).width;
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#7f8b9c';
    ctx.fillText(fitText(ctx, r.sub, room - lw - 8), x + lw + 8, mid);
  }

  /** The states' legend, above the labels. */
  protected override drawCorner(ctx: CanvasRenderingContext2D): void {
    super.drawCorner(ctx);
    const items: Array<[string, (x: number, y: number) => void]> = [
      ['running', (x, y) => ((ctx.fillStyle = '#c9d3e0'), ctx.fillRect(x, y - 5, 12, 10))],
      [
        'runnable',
        (x, y) => {
          ctx.fillStyle = 'rgba(201,211,224,0.3)';
          ctx.fillRect(x, y - 5, 12, 10);
          ctx.fillStyle = 'rgba(201,211,224,0.8)';
          ctx.fillRect(x, y - 5, 12, 1.5);
        },
      ],
      ['in syscall', (x, y) => ((ctx.fillStyle = SLEEP_SYSCALL), ctx.fillRect(x, y - 2, 12, 4))],
      ['asleep', (x, y) => ((ctx.fillStyle = SLEEP), ctx.fillRect(x, y - 1, 12, 2))],
      ['D', (x, y) => ((ctx.fillStyle = BLOCKED), ctx.fillRect(x, y - 3, 12, 6))],
    ];
    ctx.font = '10.5px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    let x = 8;
    const y = AXIS_H / 2 - 1;
    for (const [label, draw] of items) {
      draw(x, y);
      ctx.fillStyle = '#9aa6b8';
      ctx.fillText(label, x + 15, y);
      x += 15 + ctx.measureText(label).width + 12;
    }
  }

  private rowAt(y: number): number {
    const i = Math.floor((y - AXIS_H - 2 + this.scrollTop) / ROW_H);
    return i >= 0 && i < this.rows.length ? i : -1;
  }

  protected hit(x: number, y: number): Node | null {
    const i = this.rowAt(y);
    if (i < 0) return null;
    const r = this.rows[i]!;
    const { summary, threads } = this.host;
    const c = summary.containers.find((cc) => cc.key === r.ckey);
    const cname = c === undefined ? '?' : c.isHost ? '[HOST]' : `${c.name} (${c.type})`;
    if (x < this.labelW) {
      if (r.kind === 'thread') {
        const t = threads.get(r.uid)!;
        return tipContent(t.comm || '?', [
          ['tid', `${t.tid}${t.vtid !== null ? ` (vtid ${t.vtid})` : ''}`],
          ['pid', t.pid === null ? 'unknown' : `${t.pid}${t.vpid !== null ? ` (vpid ${t.vpid})` : ''}`],
          ['container', cname],
          ['CPU time', fmtDur(t.cpuNs)],
          ...(t.born !== null ? ([['born', fmtClock(summary, t.born)]] as Array<[string, string]>) : []),
          ...(t.exited !== null
            ? ([['exited', fmtClock(summary, t.exited)]] as Array<[string, string]>)
            : []),
        ]);
      }
      return tipContent(r.label, [
        ['container', cname],
        ['threads', String(r.count)],
        ...(r.kind === 'container' && c !== undefined
          ? ([['CPU', fmtPct(c.cpuPct)]] as Array<[string, string]>)
          : []),
      ]);
    }
    const t = this.timeAt(x);
    if (t === null) return null;
    const tol = (this.host.state.t1 - this.host.state.t0) / this.plotW;
    if (r.kind === 'thread') {
      const d = this.byUid.get(r.uid);
      if (d === undefined) return null;
      for (let j = 0; j < d.s.length; j++) {
        if (d.s[j]! - tol <= t && t <= d.e[j]! + tol) {
          const merged = d.n[j]! > 1;
          const ts = threads.get(r.uid)!;
          return tipContent(
            `${ts.comm || '?'} · tid ${ts.tid}`,
            [
              ['state', (merged ? 'mostly ' : '') + stateText(d.st[j]!, d.a[j]!, summary.syscallNames)],
              ['from', fmtClock(summary, d.s[j]!)],
              ['for', fmtDur(d.e[j]! - d.s[j]!)],
              ['container', cname],
            ],
            merged ? `${d.n[j]} intervals in this column: zoom in for each` : undefined,
          );
        }
      }
      return null;
    }
    const g = this.byGroup.get(r.id);
    const d = this.data;
    if (g === undefined || d === null) return null;
    const col = Math.floor(((t - d.t0) / (d.t1 - d.t0)) * d.width);
    const v = g.v[col];
    if (v === undefined) return null;
    return tipContent(r.label, [
      ['running', `${v.toFixed(2)} threads on average`],
      ['at', fmtClock(summary, t)],
      ['container', cname],
    ]);
  }

  protected override onClick(x: number, y: number): void {
    const i = this.rowAt(y);
    if (i < 0) return;
    this.selected = i;
    const r = this.rows[i]!;
    if (x < this.labelW && r.kind !== 'thread') this.toggle(r.id);
    else if (x >= this.labelW) {
      const s = this.host.state;
      s.setFocus(s.focus === r.ckey ? null : r.ckey);
    }
    this.invalidate();
  }

  private toggle(id: string): void {
    if (this.expanded.has(id)) this.expanded.delete(id);
    else this.expanded.add(id);
    this.rebuild();
    this.invalidate();
    this.refresh();
  }

  private onKey(e: KeyboardEvent): void {
    const r = this.rows[this.selected];
    let handled = true;
    switch (e.key) {
      case 'ArrowDown':
        this.select(this.selected + 1);
        break;
      case 'ArrowUp':
        this.select(this.selected - 1);
        break;
      case 'PageDown':
        this.select(this.selected + Math.floor((this.height - AXIS_H) / ROW_H) - 1);
        break;
      case 'PageUp':
        this.select(this.selected - Math.floor((this.height - AXIS_H) / ROW_H) + 1);
        break;
      case 'Enter':
      case ' ':
        if (r !== undefined && r.kind !== 'thread') this.toggle(r.id);
        break;
      default:
        handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  private select(i: number): void {
    this.selected = Math.max(0, Math.min(this.rows.length - 1, i));
    const r = this.rows[this.selected];
    if (r !== undefined) {
      // For screen readers: the selected row.
      const what = r.kind === 'thread' ? 'thread' : r.kind;
      const state = r.kind === 'thread' ? '' : this.expanded.has(r.id) ? ', expanded' : ', collapsed';
      this.canvas.setAttribute(
        'aria-label',
        `Threads timeline, row ${this.selected + 1} of ${this.rows.length}: ${what} ${r.label}, ${r.sub}${state}`,
      );
    }
    const y = this.selected * ROW_H;
    const view = this.height - AXIS_H;
    if (y < this.scrollTop) this.el.scrollTop = y;
    else if (y + ROW_H > this.scrollTop + view) this.el.scrollTop = y + ROW_H - view;
    this.invalidate();
  }

  /** The rows as text (tests). */
  rowLabels(): string[] {
    return this.rows.map((r) => `${'  '.repeat(r.depth)}${r.label} ${r.sub}`);
  }
}
