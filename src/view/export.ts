/**
 * `nstrace view --html FILE`: one self-contained HTML file (for attaching to a ticket). The page
 * gets the view's data packed (store.ts), gzip-compressed and base64-encoded inside the document,
 * and runs the same pre-aggregation as the server (aggregate.ts) itself: every timeline and chart
 * works offline. The events table has no trace to read there; the export carries the first
 * `eventLines` lines of `nstrace print` of the trace instead, searchable as text.
 */
import { gzipSync } from 'node:zlib';
import type { ViewData } from './build.js';
import { EventsService } from './events.js';
import type { PageAssets } from './page-html.js';
import { pageHtml } from './page-html.js';
import { packStore } from './store.js';

/** What a static export embeds besides the store. */
export interface StaticExtras {
  /** The first lines of `print`, with the container key of each line's event. */
  readonly events: {
    lines: string[];
    containers: number[];
    ts: number[];
    command: string;
    complete: boolean;
  };
}

export async function staticHtml(data: ViewData, assets: PageAssets, eventLines = 2000): Promise<string> {
  const svc = new EventsService(data.paths, data.base, data.model);
  let events: StaticExtras['events'];
  try {
    const r = await svc.query({ t0: data.summary.begin, t1: data.summary.end, limit: eventLines });
    events = {
      lines: r.lines,
      containers: r.containers,
      ts: r.ts,
      command: r.command,
      complete: r.cursor === null,
    };
  } finally {
    svc.close();
  }
  const extras: StaticExtras = { events };
  const packed = packStore(data.store, extras);
  const b64 = Buffer.from(gzipSync(packed, { level: 9 })).toString('base64');
  return pageHtml(assets, { summary: { ...data.summary, live: false }, data: b64 });
}
