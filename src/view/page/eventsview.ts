/**
 * The events table: `nstrace print`'s lines for the window the views show, with the LTTng filter
 * language (`--filter`) and the container selectors (`--container`, `--container-type`,
 * `--host`). The line's colour stripe is the container of the task that produced the event.
 */
import type { EventsQuery, EventsResponse } from '../types.js';
import { h } from './dom.js';
import { fmtDur, fmtOffset } from './fmt.js';
import { ApiError } from './source.js';
import type { Host } from './timeline.js';

const LINE_RE = /^(\[[^\]]*\]) (\([^)]*\) )?(\S+ )?(\S+?:) (.*)$/;

export class EventsView {
  readonly el: HTMLDivElement;
  visible = false;
  readonly filter: HTMLInputElement;
  private readonly containerIn: HTMLInputElement;
  private readonly typeIn: HTMLInputElement;
  private readonly hostIn: HTMLInputElement;
  private readonly wrapIn: HTMLInputElement;
  private readonly range: HTMLSpanElement;
  private readonly status: HTMLDivElement;
  private readonly command: HTMLElement;
  private readonly errorBox: HTMLPreElement;
  private readonly list: HTMLDivElement;
  private readonly more: HTMLButtonElement;
  private cursor: string | null = null;
  private lastQuery: EventsQuery | null = null;
  private ran = false;
  private shown = 0;
  private running = 0;

  constructor(private readonly host: Host) {
    const live = host.summary.live;
    const submit = (e: Event): void => {
      e.preventDefault();
      void this.run();
    };
    this.filter = h('input.filter', {
      type: 'text',
      spellcheck: 'false',
      autocomplete: 'off',
      'aria-label': live ? 'LTTng filter expression' : 'text to search',
      placeholder: live
        ? `filter, e.g.  ret < 0 && $ctx.procname == "sh"   or   $container.name == "web*"`
        : 'text to search in the lines',
    });
    this.containerIn = h('input.sel', {
      type: 'text',
      spellcheck: 'false',
      placeholder: 'web,db*',
      'aria-label': '--container',
    });
    this.typeIn = h('input.sel', {
      type: 'text',
      spellcheck: 'false',
      placeholder: 'docker',
      'aria-label': '--container-type',
    });
    this.hostIn = h('input', { type: 'checkbox', 'aria-label': '--host' });
    this.wrapIn = h('input', {
      type: 'checkbox',
      'aria-label': 'wrap long lines',
      onchange: () => this.list.classList.toggle('wrap', this.wrapIn.checked),
    });
    this.range = h('span.range');
    this.status = h('div.ev-status', { role: 'status' });
    this.command = h('code.cmd');
    this.errorBox = h('pre.ev-error', { role: 'alert' });
    this.list = h('div.ev-lines', { tabindex: 0, 'aria-label': 'events' });
    this.more = h('button.more', { type: 'button', onclick: () => void this.run(true) }, 'More lines');
    const form = h(
      'form.ev-form',
      { onsubmit: submit },
      h('label.grow', {}, h('span', {}, live ? '--filter' : 'search'), this.filter),
      h('label', {}, h('span', {}, '--container'), this.containerIn),
      h('label', {}, h('span', {}, '--container-type'), this.typeIn),
      h('label.check', {}, this.hostIn, h('span', {}, '--host')),
      h('button.run', { type: 'submit' }, 'Show events'),
    );
    this.el = h(
      'div.view.events-view',
      {},
      form,
      h(
        'div.ev-meta',
        {},
        this.range,
        this.command,
        h('label.check', {}, this.wrapIn, h('span', {}, 'wrap lines')),
      ),
      this.errorBox,
      this.status,
      this.list,
      this.more,
    );
    this.more.style.display = 'none';
    this.errorBox.style.display = 'none';
    host.state.onWindow(() => this.updateRange());
    this.updateRange();
  }

  show(): void {
    this.visible = true;
    this.updateRange();
    if (!this.ran) void this.run();
  }
  hide(): void {
    this.visible = false;
  }
  resize(): void {}

  private updateRange(): void {
    const s = this.host.state;
    const q = this.lastQuery;
    const stale = q !== null && (q.t0 !== Math.floor(s.t0) || q.t1 !== Math.ceil(s.t1));
    this.range.textContent =
      `window ${fmtOffset(s.t0 - s.begin, (s.t1 - s.t0) / 1000)} – ${fmtOffset(s.t1 - s.begin, (s.t1 - s.t0) / 1000)} (${fmtDur(s.t1 - s.t0)})` +
      (stale ? ' — the window changed: Show events to update' : '');
    this.range.classList.toggle('stale', stale);
  }

  private split(v: string): string[] | undefined {
    const l = v
      .split(/\s+/)
      .map((x) => x.trim())
      .filter((x) => x !== '');
    return l.length === 0 ? undefined : l;
  }

  /** Runs the query for the current window (or the next page of the last one). */
  async run(more = false): Promise<void> {
    const s = this.host.state;
    this.ran = true;
    let q: EventsQuery;
    if (more && this.lastQuery !== null && this.cursor !== null) {
      q = { ...this.lastQuery, cursor: this.cursor };
    } else {
      q = {
        t0: Math.floor(s.t0),
        t1: Math.ceil(s.t1),
        filter: this.filter.value,
        container: this.split(this.containerIn.value),
        containerType: this.split(this.typeIn.value),
        host: this.hostIn.checked,
        limit: 500,
      };
      this.lastQuery = q;
    }
    const id = ++this.running;
    this.status.textContent = 'reading the trace…';
    this.el.classList.add('busy');
    const started = performance.now();
    let r: EventsResponse;
    try {
      r = await this.host.source.events(q);
    } catch (err) {
      if (id !== this.running) return;
      this.el.classList.remove('busy');
      this.showError(err);
      return;
    }
    if (id !== this.running) return;
    this.el.classList.remove('busy');
    this.errorBox.style.display = 'none';
    this.filter.classList.remove('invalid');
    this.filter.removeAttribute('aria-invalid');
    if (!more) {
      this.list.replaceChildren();
      this.shown = 0;
    }
    this.append(r);
    this.cursor = r.cursor;
    this.command.textContent = r.command;
    this.more.style.display = r.cursor === null ? 'none' : '';
    const ms = Math.round(performance.now() - started);
    const warn = r.warnings.length > 0 ? ` · ${r.warnings.join(' · ')}` : '';
    this.status.textContent =
      (this.shown === 0
        ? 'no event matches'
        : `${this.shown} event${this.shown === 1 ? '' : 's'}${r.cursor !== null ? ' (more follow)' : ''}`) +
      ` · ${ms} ms${warn}`;
    this.updateRange();
  }

  private append(r: EventsResponse): void {
    const { colors } = this.host;
    const frag = document.createDocumentFragment();
    r.lines.forEach((line, i) => {
      const k = r.containers[i] ?? -1;
      const row = h('div.ev-line', { 'data-container': k, title: 'click to wrap this line' });
      row.addEventListener('click', () => row.classList.toggle('open'));
      row.style.borderLeftColor = k >= 0 ? colors.of(k) : 'transparent';
      const m = LINE_RE.exec(line);
      if (m === null) row.textContent = line;
      else {
        row.append(
          h('span.ev-ts', {}, m[1]!),
          ' ',
          m[2] === undefined ? '' : h('span.ev-delta', {}, m[2]),
          m[3] === undefined ? '' : h('span.ev-host', {}, m[3]),
          h('span.ev-name', {}, m[4]!),
          ' ',
          h('span.ev-rest', {}, m[5]!),
        );
      }
      frag.append(row);
    });
    this.shown += r.lines.length;
    this.list.append(frag);
  }

  private showError(err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    this.errorBox.textContent = msg;
    this.errorBox.style.display = '';
    this.status.textContent = '';
    if (err instanceof ApiError && err.column !== undefined) {
      this.filter.classList.add('invalid');
      this.filter.setAttribute('aria-invalid', 'true');
      this.filter.focus();
      this.filter.setSelectionRange(err.column, err.column + Math.max(1, err.length ?? 1));
    }
  }
}
