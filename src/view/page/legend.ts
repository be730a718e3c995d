/** The sidebar: every container in its colour (the legend of every view); click to focus one. */
import { h, onActivate } from './dom.js';
import { fmtPct } from './fmt.js';
import type { Host } from './timeline.js';

export class Legend {
  readonly el: HTMLElement;
  private readonly items = new Map<number, HTMLElement>();

  constructor(private readonly host: Host) {
    const { summary, colors, state } = host;
    const maxPct = Math.max(1, ...summary.containers.map((c) => c.cpuPct ?? 0));
    const list = h('ul.legend', { role: 'listbox', 'aria-label': 'Containers' });
    for (const c of summary.containers) {
      const pct = c.cpuPct ?? 0;
      const li = h(
        'li',
        {
          tabindex: 0,
          role: 'option',
          'data-key': c.key,
          title: `${c.isHost ? '[HOST]' : c.name} — click to highlight it in every view`,
          ...onActivate(() => state.setFocus(state.focus === c.key ? null : c.key)),
        },
        h('span.swatch', { style: `background:${colors.of(c.key)}` }),
        h(
          'span.lg-main',
          {},
          h('span.lg-name', {}, c.isHost ? '[HOST]' : c.name),
          h(
            'span.lg-type',
            {},
            c.isHost
              ? 'host'
              : c.type + (c.restarts > 0 ? ` · ${c.restarts} restart${c.restarts > 1 ? 's' : ''}` : ''),
          ),
          h(
            'span.lg-bar',
            {},
            h('span', { style: `width:${(pct / maxPct) * 100}%;background:${colors.of(c.key)}` }),
          ),
        ),
        h('span.lg-pct', {}, fmtPct(c.cpuPct)),
      );
      this.items.set(c.key, li);
      list.append(li);
    }
    this.el = h(
      'aside.sidebar',
      {},
      h('h2', {}, 'Containers'),
      h(
        'p.hint',
        {},
        'CPU share of the trace, as nstrace top. Click one (or press C) to highlight it everywhere.',
      ),
      list,
    );
    state.onFocus(() => this.update());
  }

  private update(): void {
    const f = this.host.state.focus;
    for (const [k, li] of this.items) {
      li.classList.toggle('focused', f === k);
      li.classList.toggle('dimmed', f !== null && f !== k);
      li.setAttribute('aria-selected', f === k ? 'true' : 'false');
    }
  }
}
