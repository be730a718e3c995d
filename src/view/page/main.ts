/**
 * The `nstrace view` page: header, container legend, overview strip, and four views sharing one
 * time window (Containers, CPUs, Threads, Events). Keyboard: 1-4 views, W/S zoom, A/D pan,
 * 0 reset, C/Shift+C focus the next/previous container, Esc clears, / the filter, ? the keys.
 */
import './style.css';
import './views.css';
import type { Summary, ThreadSummary } from '../types.js';
import { ContainersView } from './charts.js';
import { Colors } from './colors.js';
import { CpuView } from './cpus.js';
import { h } from './dom.js';
import { fmtDur, fmtInt } from './fmt.js';
import { EventsView } from './eventsview.js';
import { Legend } from './legend.js';
import { Overview } from './overview.js';
import { openSource } from './source.js';
import { ViewState } from './state.js';
import { ThreadsView } from './threads.js';
import type { Host } from './timeline.js';
import { Tooltip } from './tooltip.js';

interface View {
  readonly el: HTMLElement;
  visible: boolean;
  show(): void;
  hide(): void;
  resize(): void;
}

const KEYS: Array<[string, string]> = [
  ['1 2 3 4', 'Containers, CPUs, Threads, Events'],
  ['W / S, + / −, wheel', 'zoom in / out'],
  ['A / D, ← / →, drag', 'pan (Shift: further)'],
  ['0, Home', 'the whole trace'],
  ['double-click', 'zoom in there (Shift: out)'],
  ['C / Shift+C', 'highlight the next / previous container'],
  ['Esc', 'no highlight; close this help'],
  ['/', 'the events filter'],
  ['↑ ↓ PgUp PgDn, Enter', 'threads: move, expand or collapse'],
  ['Tab', 'move between controls'],
  ['?', 'this help'],
];

async function main(): Promise<void> {
  const summary = JSON.parse(document.getElementById('nstrace-summary')!.textContent ?? '{}') as Summary;
  const app = document.getElementById('app')!;
  const state = new ViewState(summary);
  const colors = new Colors(summary.containers);
  const tooltip = new Tooltip();
  const threads = new Map<number, ThreadSummary>(summary.threads.map((t) => [t.uid, t]));
  const errorBar = h('div.errorbar', { role: 'alert' });
  errorBar.style.display = 'none';
  const source = await openSource(summary);
  const host: Host = {
    state,
    colors,
    summary,
    source,
    tooltip,
    threads,
    error: (msg) => {
      errorBar.textContent = msg;
      errorBar.style.display = '';
    },
  };

  const views: Array<[string, string, View]> = [
    ['containers', 'Containers', new ContainersView(host)],
    ['cpus', 'CPUs', new CpuView(host)],
    ['threads', 'Threads', new ThreadsView(host)],
    ['events', 'Events', new EventsView(host)],
  ];
  const tabs = h('nav.tabs', { role: 'tablist', 'aria-label': 'Views' });
  const panes = h('div.panes');
  const tabButtons = new Map<string, HTMLButtonElement>();
  views.forEach(([id, label, v], i) => {
    const b = h(
      'button.tab',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${id}`,
        'aria-controls': `pane-${id}`,
        onclick: () => select(id),
      },
      h('kbd', {}, String(i + 1)),
      label,
    );
    tabButtons.set(id, b);
    tabs.append(b);
    v.el.id = `pane-${id}`;
    v.el.setAttribute('role', 'tabpanel');
    v.el.setAttribute('aria-labelledby', `tab-${id}`);
    v.el.classList.add('pane');
    panes.append(v.el);
  });
  let current = '';
  const select = (id: string): void => {
    if (id === current) return;
    current = id;
    state.perf.tab = id;
    for (const [vid, , v] of views) {
      const on = vid === id;
      tabButtons.get(vid)!.setAttribute('aria-selected', on ? 'true' : 'false');
      v.el.style.display = on ? '' : 'none';
      if (on) v.show();
      else if (v.visible) v.hide();
    }
    tooltip.hide();
  };

  const legend = new Legend(host);
  const overview = new Overview(host);
  const s = summary;
  const info = h(
    'div.info',
    {},
    h('span.host', {}, s.hostname || 'trace'),
    h(
      'span',
      {},
      `${fmtDur(s.end - s.begin)} · ${fmtInt(s.events)} events · ${s.cpus.length} CPUs · ${s.containers.length - 1} containers`,
    ),
    s.discardedEvents > 0 ? h('span.warn', {}, `${fmtInt(s.discardedEvents)} events lost`) : null,
    s.kernelSkipped > 0
      ? h(
          'span.warn',
          {
            title:
              'a BPF program was not run because another one was running on that CPU: when and on which CPU is not known',
          },
          `${fmtInt(s.kernelSkipped)} events skipped by the kernel`,
        )
      : null,
    s.live ? null : h('span.badge', {}, 'static export'),
  );
  const help = h(
    'div.help',
    { role: 'dialog', 'aria-label': 'Keyboard' },
    h('h2', {}, 'Keyboard and mouse'),
    h('table', {}, ...KEYS.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))),
    h('p', {}, 'Hover a slice or a state for details; click one to highlight its container.'),
  );
  help.style.display = 'none';
  const warnings =
    s.warnings.length === 0
      ? null
      : h(
          'details.warnings',
          {},
          h('summary', {}, `${s.warnings.length} note${s.warnings.length > 1 ? 's' : ''} about this trace`),
          ...s.warnings.map((w) => h('p', {}, w)),
        );
  const header = h(
    'header.top',
    {},
    h('div.brand', {}, h('span.logo', {}, 'ns'), 'nstrace view'),
    info,
    h('div.traces', { title: s.traces.join('\n') }, s.traces.join(', ')),
    h('button.helpbtn', { type: 'button', 'aria-label': 'Keyboard help', onclick: () => toggleHelp() }, '?'),
  );
  app.append(
    header,
    h('div.body', {}, legend.el, h('main.main', {}, tabs, overview.el, warnings, errorBar, panes)),
    help,
  );
  const toggleHelp = (show?: boolean): void => {
    const on = show ?? help.style.display === 'none';
    help.style.display = on ? '' : 'none';
  };

  const keyOrder = summary.containers.map((c) => c.key);
  document.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement | null;
    const typing = t !== null && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
    if (e.key === 'Escape') {
      if (typing) (t as HTMLElement).blur();
      toggleHelp(false);
      state.setFocus(null);
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const now = performance.now();
    const span = state.t1 - state.t0;
    const far = e.shiftKey ? 0.5 : 0.15;
    let handled = true;
    switch (e.key) {
      case '1':
      case '2':
      case '3':
      case '4':
        select(views[Number(e.key) - 1]![0]);
        break;
      case 'w':
      case 'W':
      case '+':
      case '=':
        state.zoom(e.shiftKey && e.key !== '+' ? 0.5 : 0.75, undefined, now);
        break;
      case 's':
      case 'S':
      case '-':
      case '_':
        state.zoom(e.shiftKey && e.key !== '_' ? 2 : 1 / 0.75, undefined, now);
        break;
      case 'a':
      case 'A':
      case 'ArrowLeft':
        state.pan(-span * far, now);
        break;
      case 'd':
      case 'D':
      case 'ArrowRight':
        state.pan(span * far, now);
        break;
      case '0':
      case 'Home':
        state.reset(now);
        break;
      case 'c':
      case 'C': {
        const i = state.focus === null ? -1 : keyOrder.indexOf(state.focus);
        const n = keyOrder.length;
        const j = e.shiftKey ? (i <= 0 ? n - 1 : i - 1) : (i + 1) % n;
        state.setFocus(keyOrder[j] ?? null);
        break;
      }
      case '/': {
        select('events');
        const ev = views[3]![2] as EventsView;
        ev.filter.focus();
        break;
      }
      case '?':
        toggleHelp();
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  });

  let resizeRaf = 0;
  window.addEventListener('resize', () => {
    if (resizeRaf !== 0) return;
    resizeRaf = requestAnimationFrame(() => {
      resizeRaf = 0;
      overview.resize();
      for (const [, , v] of views) v.resize();
    });
  });

  const first = (new URLSearchParams(location.search).get('view') ?? location.hash.slice(1)) || 'containers';
  select(views.some(([id]) => id === first) ? first : 'containers');
  const shown = views.find(([id]) => id === current)![2] as View & { whenDrawn?: () => Promise<void> };
  await Promise.all([overview.load(), shown.whenDrawn?.() ?? Promise.resolve()]);
  state.perf.interactive = performance.now();
  performance.mark('nstrace:interactive');
  document.body.dataset.ready = '1';
}

main().catch((err: unknown) => {
  document.body.append(
    h('pre.fatal', {}, `nstrace view: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
  );
});
