/**
 * Where the page gets its data: the server (`nstrace view`), or the data embedded in a static
 * export (`--html`), aggregated in the page by the same code the server runs.
 */
import { Aggregator } from '../aggregate.js';
import type { ViewStore } from '../store.js';
import { unpackStore } from '../store.js';
import type {
  ErrorResponse,
  EventsQuery,
  EventsResponse,
  LanesResponse,
  RowsQuery,
  RowsResponse,
  SeriesResponse,
  Summary,
  WindowQuery,
} from '../types.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly column?: number,
    readonly length?: number,
  ) {
    super(message);
  }
}

export interface DataSource {
  lanes(q: WindowQuery, signal?: AbortSignal): Promise<LanesResponse>;
  rows(q: RowsQuery, signal?: AbortSignal): Promise<RowsResponse>;
  series(t0: number, t1: number, n: number, signal?: AbortSignal): Promise<SeriesResponse>;
  events(q: EventsQuery): Promise<EventsResponse>;
}

async function answer<T>(r: Response): Promise<T> {
  const body = (await r.json()) as T | ErrorResponse;
  if (!r.ok) {
    const e = body as ErrorResponse;
    throw new ApiError(e.error ?? `HTTP ${r.status}`, e.column, e.length);
  }
  return body as T;
}

export class HttpSource implements DataSource {
  async lanes(q: WindowQuery, signal?: AbortSignal): Promise<LanesResponse> {
    const u = `api/lanes?t0=${q.t0}&t1=${q.t1}&width=${q.width}`;
    return answer(await fetch(u, { signal }));
  }
  async rows(q: RowsQuery, signal?: AbortSignal): Promise<RowsResponse> {
    return answer(await fetch('api/rows', { method: 'POST', body: JSON.stringify(q), signal }));
  }
  async series(t0: number, t1: number, n: number, signal?: AbortSignal): Promise<SeriesResponse> {
    return answer(await fetch(`api/series?t0=${t0}&t1=${t1}&n=${n}`, { signal }));
  }
  async events(q: EventsQuery): Promise<EventsResponse> {
    return answer(await fetch('api/events', { method: 'POST', body: JSON.stringify(q) }));
  }
}

/** What a static export carries besides the store (see src/view/export.ts). */
interface StaticExtras {
  events: { lines: string[]; containers: number[]; command: string; complete: boolean };
}

function globRe(glob: string): RegExp {
  const esc = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${esc}$`, 'i');
}

export class StaticSource implements DataSource {
  private readonly agg: Aggregator;
  constructor(
    store: ViewStore,
    private readonly summary: Summary,
    private readonly extras: StaticExtras,
  ) {
    this.agg = new Aggregator(store, summary.threads);
  }
  async lanes(q: WindowQuery): Promise<LanesResponse> {
    return this.agg.lanes(q);
  }
  async rows(q: RowsQuery): Promise<RowsResponse> {
    return this.agg.rows(q);
  }
  async series(t0: number, t1: number, n: number): Promise<SeriesResponse> {
    return this.agg.series(
      t0,
      t1,
      n,
      this.summary.containers.map((c) => c.key),
    );
  }
  /** The embedded lines, searched as text; container selectors by name, id or type glob. */
  async events(q: EventsQuery): Promise<EventsResponse> {
    const ev = this.extras.events;
    const text = (q.filter ?? '').trim().toLowerCase();
    const sels = (q.container ?? [])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const types = (q.containerType ?? [])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '');
    let keys: Set<number> | undefined;
    if (sels.length > 0 || types.length > 0 || q.host === true) {
      keys = new Set<number>();
      for (const c of this.summary.containers) {
        if (c.isHost) {
          if (q.host === true) keys.add(c.key);
          continue;
        }
        const byName = sels.some(
          (s) => globRe(s).test(c.name) || globRe(s).test(c.id) || c.pidNs.some((n) => String(n) === s),
        );
        const byType = types.some((t) => globRe(t).test(c.type));
        if (byName || byType) keys.add(c.key);
      }
    }
    const lines: string[] = [];
    const containers: number[] = [];
    ev.lines.forEach((l, i) => {
      const k = ev.containers[i] ?? -1;
      if (keys !== undefined && !keys.has(k)) return;
      if (text !== '' && !l.toLowerCase().includes(text)) return;
      lines.push(l);
      containers.push(k);
    });
    const warnings = [
      `static export: the first ${ev.lines.length} lines of \`${ev.command}\`` +
        `${ev.complete ? ' (the whole trace)' : ''}, searched as text (run nstrace view on the trace for filters)`,
    ];
    return { lines, containers, warnings, cursor: null, command: ev.command };
  }
}

/** The data source of this page: embedded data (static export) or the server. */
export async function openSource(summary: Summary): Promise<DataSource> {
  const el = document.getElementById('nstrace-data');
  if (el === null) return new HttpSource();
  const b64 = (el.textContent ?? '').trim();
  const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream('gzip'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  const { store, json } = unpackStore(bytes);
  return new StaticSource(store, summary, json as StaticExtras);
}
