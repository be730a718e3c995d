/** A few DOM helpers (no framework: the page is small, the timelines draw on canvases). */

type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;
type Child = Node | string | null | undefined | false;

/** Creates an element: `h('div.cls#id', { title: 'x', onclick: fn }, ...children)`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  spec: K | `${K}.${string}` | `${K}#${string}`,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const m = /^([a-z0-9]+)((?:[.#][\w-]+)*)$/.exec(spec);
  if (m === null) throw new Error(`bad element spec ${spec}`);
  const el = document.createElement(m[1] as K);
  for (const part of m[2]!.match(/[.#][\w-]+/g) ?? []) {
    if (part.startsWith('.')) el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** Handlers that run `fn` on a click, and on Enter or Space for keyboard users. */
export function onActivate(fn: () => void): { onclick: () => void; onkeydown: (e: Event) => void } {
  return {
    onclick: fn,
    onkeydown: (e: Event) => {
      const k = (e as KeyboardEvent).key;
      if (k === 'Enter' || k === ' ') {
        e.preventDefault();
        fn();
      }
    },
  };
}

/** A canvas sized to its CSS box at the device pixel ratio; returns its 2D context scaled to CSS pixels. */
export function fitCanvas(c: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * dpr));
  const hh = Math.max(1, Math.round(height * dpr));
  if (c.width !== w || c.height !== hh) {
    c.width = w;
    c.height = hh;
    c.style.width = `${width}px`;
    c.style.height = `${height}px`;
  }
  const ctx = c.getContext('2d', { alpha: false })!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** Clips text to a width with an ellipsis (measure-based, cached per font). */
const widthCache = new Map<string, number>();
export function fitText(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (max <= 8) return '';
  const key = ctx.font + '|' + text;
  let w = widthCache.get(key);
  if (w === undefined) {
    w = ctx.measureText(text).width;
    if (widthCache.size > 5000) widthCache.clear();
    widthCache.set(key, w);
  }
  if (w <= max) return text;
  const fkey = `${key}|${Math.floor(max)}`;
  const hit = fitCache.get(fkey);
  if (hit !== undefined) return hit;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(text.slice(0, mid) + '…').width <= max) lo = mid;
    else hi = mid - 1;
  }
  const out = lo === 0 ? '' : text.slice(0, lo) + '…';
  if (fitCache.size > 5000) fitCache.clear();
  fitCache.set(fkey, out);
  return out;
}
const fitCache = new Map<string, string>();
