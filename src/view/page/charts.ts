/**
 * Containers over time: per-container CPU, page allocations, system calls and failed system
 * calls (stacked areas, one colour per container, the host included, with uPlot), and the
 * container list with lifetimes and restarts. The charts show the shared time window; dragging
 * across a chart zooms every view to the selection.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ContainerSummary, SeriesResponse } from '../types.js';
import { h, onActivate } from './dom.js';
import { fmtClock, fmtDur, fmtInt, fmtOffset, fmtPct, ticks } from './fmt.js';
import type { Host } from './timeline.js';

type Metric = 'cpu' | 'alloc' | 'sys' | 'err';

const CHARTS: Array<{ metric: Metric; title: string; unit: string; fmt: (v: number) => string }> = [
  { metric: 'cpu', title: 'CPU', unit: 'CPUs busy', fmt: (v) => v.toFixed(2) },
  { metric: 'alloc', title: 'Page allocations', unit: 'pages/s', fmt: compact },
  { metric: 'sys', title: 'System calls', unit: 'calls/s', fmt: compact },
  { metric: 'err', title: 'Failed system calls', unit: 'errors/s', fmt: compact },
];

function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
  return a >= 10 || a === 0 ? v.toFixed(0) : v.toFixed(1);
}

export class ContainersView {
  readonly el: HTMLDivElement;
  visible = false;
  private readonly plots: Array<{ metric: Metric; box: HTMLDivElement; u: uPlot | null; shape: string }> = [];
  private data: SeriesResponse | null = null;
  private abort: AbortController | null = null;
  private dataSeq = -1;
  /** What the data on hand covers: a range and its bucket width. */
  private coverage = { t0: 0, t1: 0, step: Infinity };
  private pending: Array<{ input: number; seq: number; quickAt: number | null }> = [];
  private firstDraw: (() => void) | null = null;
  private readonly table: HTMLTableSectionElement;

  constructor(private readonly host: Host) {
    const grid = h('div.charts');
    for (const c of CHARTS) {
      const box = h('div.chart-body');
      grid.append(h('section.chart', {}, h('h3', {}, c.title, h('span.unit', {}, c.unit)), box));
      this.plots.push({ metric: c.metric, box, u: null, shape: '' });
    }
    this.table = h('tbody');
    const head = h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...[
          '',
          'Container',
          'Type',
          'ID',
          'pid ns',
          'Lifetime in the trace',
          'Restarts',
          'Threads',
          'CPU',
          'Pages alloc / freed',
          'Syscalls',
          'Errors',
        ].map((t) => h('th', {}, t)),
      ),
    );
    this.el = h(
      'div.view.containers-view',
      {},
      grid,
      h(
        'section.ctable',
        {},
        h(
          'h3',
          {},
          'Containers',
          h('span.unit', {}, 'numbers as `nstrace top --no-intersection` prints them'),
        ),
        h('table.list', {}, head, this.table),
      ),
    );
    this.fillTable();
    host.state.onWindow(() => this.onWindow());
    host.state.onFocus(() => {
      this.fillTable();
      this.build();
    });
  }

  whenDrawn(): Promise<void> {
    if (this.dataSeq >= 0) return Promise.resolve();
    return new Promise((r) => (this.firstDraw = r));
  }

  show(): void {
    this.visible = true;
    this.refresh();
  }
  hide(): void {
    this.visible = false;
    this.abort?.abort();
  }
  resize(): void {
    if (this.visible) this.build();
  }

  private onWindow(): void {
    if (!this.visible) return;
    const s = this.host.state;
    if (s.inputAt !== null) this.pending.push({ input: s.inputAt, seq: s.seq, quickAt: null });
    // At once: the data on hand, on the new scale.
    const x0 = (s.t0 - s.begin) / 1e9;
    const x1 = (s.t1 - s.begin) / 1e9;
    // uPlot redraws (and calls `drawn` from its draw hook) at once with the data on hand.
    for (const p of this.plots) p.u?.setScale('x', { min: x0, max: x1 });
    this.refresh();
  }

  /** Whether the data on hand covers the window with buckets of at most 2 pixels. */
  private covers(): boolean {
    const s = this.host.state;
    const c = this.coverage;
    const width = this.plots[0]!.box.getBoundingClientRect().width || 600;
    return c.t0 <= s.t0 && c.t1 >= s.t1 && c.step <= ((s.t1 - s.t0) / width) * 2 * 1.0001;
  }

  private drawn(): void {
    const now = performance.now();
    const covers = this.covers();
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i]!;
      if (p.quickAt === null) p.quickAt = now;
      if (this.dataSeq >= p.seq || covers) {
        this.host.state.recordRedraw('containers', p.input, p.quickAt, now);
        this.pending.splice(i--, 1);
      }
    }
  }

  private refresh(): void {
    if (!this.visible) return;
    this.abort?.abort();
    const ac = new AbortController();
    this.abort = ac;
    const s = this.host.state;
    const seq = s.seq;
    const width = this.plots[0]!.box.getBoundingClientRect().width || 600;
    // Overscan, as the timelines: a span each side, one bucket per pixel (drawn at 2 pixels).
    const span = s.t1 - s.t0;
    const a = Math.max(s.begin, s.t0 - span);
    const b = Math.min(s.end, s.t1 + span);
    const n = Math.min(4096, Math.max(50, Math.round((width * (b - a)) / span)));
    s.perf.pending++;
    this.host.source.series(a, b, n, ac.signal).then(
      (d) => {
        s.perf.pending--;
        if (ac.signal.aborted) return;
        this.data = d;
        this.dataSeq = seq;
        this.coverage = { t0: a, t1: b, step: d.step };
        this.build();
        if (this.firstDraw !== null) {
          const f = this.firstDraw;
          this.firstDraw = null;
          f();
        }
      },
      (err: unknown) => {
        s.perf.pending--;
        if (ac.signal.aborted || (err instanceof DOMException && err.name === 'AbortError')) return;
        this.host.error(`containers: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  /** (Re)creates the charts from the data on hand (sizes, focus and data all change them). */
  private build(): void {
    const d = this.data;
    if (d === null || !this.visible) return;
    const { summary, colors, state } = this.host;
    const begin = summary.begin;
    const focus = state.focus;
    const x = [...d.x.map((t) => (t - begin) / 1e9), (d.t1 - begin) / 1e9];
    for (const p of this.plots) {
      const raw = d[p.metric];
      const keys = d.keys.map((k, i) => ({ k, i })).filter((e) => focus === null || e.k === focus);
      // Cumulative sums, bottom (first container) to top; uPlot draws the top one first.
      const cum: number[][] = [];
      let prev: number[] | null = null;
      for (const { i } of keys) {
        const own = raw[i]!;
        const row = own.map((v, j) => v + (prev === null ? 0 : prev[j]!));
        row.push(row[row.length - 1] ?? 0);
        cum.push(row);
        prev = row;
      }
      const order = keys.map((_, i) => i).reverse();
      const series: uPlot.Series[] = [
        {},
        ...order.map((i) => {
          const ckey = keys[i]!.k;
          return {
            label: String(ckey),
            stroke: colors.of(ckey),
            fill: colors.alpha(ckey, 0.82),
            width: 1,
            points: { show: false },
            paths: uPlot.paths.stepped!({ align: 1 }),
          } satisfies uPlot.Series;
        }),
      ];
      const data: uPlot.AlignedData = [x, ...order.map((i) => cum[i]!)];
      const r = p.box.getBoundingClientRect();
      const width = Math.max(300, Math.floor(r.width));
      const height = Math.max(140, Math.floor(r.height));
      const shape = `${focus}|${width}x${height}|${keys.length}`;
      if (p.u !== null && p.shape === shape) {
        // Same series and size: new data only.
        p.u.batch(() => {
          p.u!.setData(data);
          p.u!.setScale('x', { min: (state.t0 - begin) / 1e9, max: (state.t1 - begin) / 1e9 });
        });
        continue;
      }
      p.shape = shape;
      p.u?.destroy();
      const meta = CHARTS.find((c) => c.metric === p.metric)!;
      const axisStyle = {
        stroke: '#9aa6b8',
        grid: { stroke: 'rgba(255,255,255,0.06)', width: 1 },
        ticks: { show: false },
      };
      const u = new uPlot(
        {
          width,
          height,
          legend: { show: false },
          cursor: {
            sync: { key: 'nstrace-containers' },
            drag: { x: true, y: false },
            points: { show: false },
          },
          scales: {
            x: { time: false, min: (state.t0 - begin) / 1e9, max: (state.t1 - begin) / 1e9 },
            y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
          },
          axes: [
            {
              ...axisStyle,
              font: '11px system-ui, sans-serif',
              size: 30,
              values: (_u, splits) => {
                const step = splits.length > 1 ? (splits[1]! - splits[0]!) * 1e9 : 1e9;
                return splits.map((v) => fmtOffset(v * 1e9, step));
              },
              splits: (uu) => {
                const mn = uu.scales.x!.min!;
                const mx = uu.scales.x!.max!;
                return ticks(mn * 1e9, mx * 1e9, uu.bbox.width / devicePixelRatio, 120).at.map(
                  (t) => t / 1e9,
                );
              },
            },
            {
              ...axisStyle,
              font: '11px system-ui, sans-serif',
              size: 48,
              values: (_u, splits) => splits.map(meta.fmt),
            },
          ],
          series,
          hooks: {
            setSelect: [
              (uu) => {
                if (uu.select.width < 3) return;
                const a = uu.posToVal(uu.select.left, 'x');
                const b = uu.posToVal(uu.select.left + uu.select.width, 'x');
                uu.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
                state.setWindow(begin + a * 1e9, begin + b * 1e9, performance.now());
              },
            ],
            setCursor: [
              (uu) =>
                this.cursorTip(
                  uu,
                  p.metric,
                  keys.map((e) => e.k),
                  meta.fmt,
                ),
            ],
            draw: [
              () => {
                if (p === this.plots[this.plots.length - 1]) this.drawn();
              },
            ],
          },
        },
        data,
        p.box,
      );
      u.over.addEventListener('mouseleave', () => this.host.tooltip.hide());
      p.u = u;
    }
  }

  private cursorTip(u: uPlot, metric: Metric, keys: number[], fmt: (v: number) => string): void {
    const d = this.data;
    const idx = u.cursor.idx;
    const left = u.cursor.left ?? -1;
    if (d === null || idx === null || idx === undefined || left < 0 || idx >= d.x.length) {
      this.host.tooltip.hide();
      return;
    }
    const { summary, colors } = this.host;
    const rows = keys
      .map((k) => ({ k, v: d[metric][d.keys.indexOf(k)]![idx]! }))
      .filter((r) => r.v > 0)
      .sort((a, b) => b.v - a.v)
      .slice(0, 12);
    const c = (k: number): ContainerSummary | undefined => summary.containers.find((cc) => cc.key === k);
    const body = h(
      'div',
      {},
      h('div.tip-title', {}, `${fmtClock(summary, d.x[idx]!)} +${fmtDur(d.step)}`),
      rows.length === 0
        ? h('div.tip-note', {}, 'nothing in this bucket')
        : h(
            'table.tip-rows',
            {},
            ...rows.map((r) =>
              h(
                'tr',
                {},
                h(
                  'th',
                  {},
                  h('span.swatch', { style: `background:${colors.of(r.k)}` }),
                  c(r.k)?.isHost ? '[HOST]' : (c(r.k)?.name ?? '?'),
                ),
                h('td', {}, fmt(r.v)),
              ),
            ),
          ),
    );
    const rect = u.over.getBoundingClientRect();
    this.host.tooltip.show(body, rect.left + left, rect.top + (u.cursor.top ?? 0));
  }

  private fillTable(): void {
    const { summary, colors, state } = this.host;
    const span = Math.max(1, summary.end - summary.begin);
    const pct = (t: number): number => Math.max(0, Math.min(100, ((t - summary.begin) / span) * 100));
    const rows = summary.containers.map((c) => {
      const life = h('div.life', { title: this.lifeTitle(c) });
      const segs =
        c.isHost || c.incarnations.length === 0
          ? [{ first: c.firstSeen ?? summary.begin, last: c.lastSeen ?? summary.end }]
          : c.incarnations;
      segs.forEach((s, i) => {
        life.append(
          h('span.seg', {
            style: `left:${pct(s.first)}%;width:${Math.max(0.4, pct(s.last) - pct(s.first))}%;background:${colors.of(c.key)};opacity:${i === segs.length - 1 ? 1 : 0.55}`,
          }),
        );
      });
      if (c.stoppedAt !== null)
        life.append(h('span.stop', { style: `left:${pct(c.stoppedAt)}%`, title: 'stop event' }));
      const tr = h(
        'tr',
        {
          tabindex: 0,
          class: state.focus === c.key ? 'focused' : undefined,
          'aria-selected': state.focus === c.key ? 'true' : 'false',
          ...onActivate(() => state.setFocus(state.focus === c.key ? null : c.key)),
        },
        h('td', {}, h('span.swatch', { style: `background:${colors.of(c.key)}` })),
        h('td.name', {}, c.isHost ? '[HOST]' : c.name),
        h('td', {}, c.isHost ? 'host' : c.type),
        h('td.mono', { title: c.id }, c.isHost ? '' : c.id.length > 16 ? c.id.slice(0, 12) : c.id),
        h('td.mono', {}, c.pidNs.join(' → ')),
        h('td.lifecell', {}, life),
        h('td.num', {}, c.isHost ? '' : String(c.restarts)),
        h('td.num', {}, String(c.threads)),
        h('td.num', { title: c.cpuNs === null ? '' : fmtDur(c.cpuNs) }, fmtPct(c.cpuPct)),
        h(
          'td.num',
          {},
          c.pagesAlloc === null ? '—' : `${fmtInt(c.pagesAlloc)} / ${fmtInt(c.pagesFreed ?? 0)}`,
        ),
        h('td.num', {}, c.syscalls === null ? '—' : fmtInt(c.syscalls)),
        h('td.num', {}, c.syscallErrors === null ? '—' : fmtInt(c.syscallErrors)),
      );
      return tr;
    });
    this.table.replaceChildren(...rows);
  }

  private lifeTitle(c: ContainerSummary): string {
    const s = this.host.summary;
    if (c.isHost) return 'the host: the whole trace';
    const parts = c.incarnations.map(
      (i, n) =>
        `${n === 0 ? 'pid ns' : 'restart: pid ns'} ${i.pidNs}: ${fmtClock(s, i.first)} → ${fmtClock(s, i.last)}`,
    );
    if (c.stoppedAt !== null) parts.push(`stopped at ${fmtClock(s, c.stoppedAt)}`);
    return parts.join('\n');
  }
}
