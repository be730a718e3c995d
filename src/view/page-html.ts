/**
 * The page's HTML document: the bundled script and styles inline (one document, nothing loaded
 * from elsewhere: the machines that look at traces often have no internet), the summary as JSON,
 * and for a static export the packed data.
 */
import type { Summary } from './types.js';

/** The page's bundle (esbuild output of src/view/page/main.ts and its styles). */
export interface PageAssets {
  readonly js: string;
  readonly css: string;
}

export interface PageContent {
  readonly summary: Summary;
  /** Static export: the packed store (store.ts), gzip-compressed, base64. */
  readonly data?: string;
}

/** JSON safe inside a `<script>` element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function pageHtml(assets: PageAssets, content: PageContent): string {
  const title = `nstrace view — ${content.summary.hostname || content.summary.traces.join(', ')}`;
  const js = assets.js.replace(/<\/(script)/gi, '<\\/$1');
  const css = assets.css.replace(/<\/(style)/gi, '<\\/$1');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${css}</style>`,
    '</head>',
    '<body>',
    '<div id="app"></div>',
    `<script id="nstrace-summary" type="application/json">${scriptJson(content.summary)}</script>`,
    content.data === undefined
      ? ''
      : `<script id="nstrace-data" type="application/octet-stream">${content.data}</script>`,
    `<script>${js}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
