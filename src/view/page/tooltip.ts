/** The one tooltip of the page, next to the pointer. */
import { h } from './dom.js';

export class Tooltip {
  private readonly el = h('div.tooltip', { role: 'tooltip' });
  constructor() {
    document.body.append(this.el);
  }
  show(content: Node, x: number, y: number): void {
    this.el.replaceChildren(content);
    this.el.style.display = 'block';
    const r = this.el.getBoundingClientRect();
    const vw = window.innerWidth;
    const vh = window.innerHeight;
    let left = x + 14;
    let top = y + 16;
    if (left + r.width > vw - 8) left = Math.max(8, x - r.width - 14);
    if (top + r.height > vh - 8) top = Math.max(8, y - r.height - 12);
    this.el.style.left = `${left}px`;
    this.el.style.top = `${top}px`;
  }
  hide(): void {
    this.el.style.display = 'none';
  }
}

/** A tooltip body: a title line and `label: value` rows. */
export function tipContent(title: string, rows: Array<[string, string]>, note?: string): Node {
  return h(
    'div',
    {},
    h('div.tip-title', {}, title),
    h('table.tip-rows', {}, ...rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))),
    note === undefined ? null : h('div.tip-note', {}, note),
  );
}
