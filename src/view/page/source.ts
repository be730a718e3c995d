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

/** The last few answers, by request (going back to a window seen before costs nothing). */
class AnswerCache {
  private readonly m = new Map<string, unknown>();
  constructor(private readonly size: number) {}
  get<T>(key: string): T | undefined {
    const v = this.m.get(key);
    if (v !== undefined) {
      this.m.delete(key);
      this.m.set(key, v);
    }
    return v as T | undefined;
  }
  /** Pinned answers (the whole trace's, where '0' goes back to) are never dropped. */
  private readonly pinned = new Map<string, unknown>();
  put(key: string, v: unknown, pin = false): void {
    if (pin) {
      if (this.pinned.size < 16) this.pinned.set(key, v);
      return;
    }
    this.m.set(key, v);
    while (this.m.size > this.size) this.m.delete(this.m.keys().next().value!);
  }
  getPinned<T>(key: string): T | undefined {
    return this.pinned.get(key) as T | undefined;
  }
}

export class HttpSource implements DataSource {
  private readonly cache = new AnswerCache(48);

  /** `begin`/`end`: the trace's; answers for the whole trace are kept for good. */
  constructor(
    private readonly begin: number,
    private readonly end: number,
  ) {}

  private async cached<T>(key: string, whole: boolean, get: () => Promise<Response>): Promise<T> {
    const hit = this.cache.get<T>(key) ?? this.cache.getPinned<T>(key);
    if (hit !== undefined) return hit;
    const v = await answer<T>(await get());
    this.cache.put(key, v, whole);
    return v;
  }
  private whole(t0: number, t1: number): boolean {
    return t0 <= this.begin && t1 >= this.end;
  }
  async lanes(q: WindowQuery, signal?: AbortSignal): Promise<LanesResponse> {
    const u = `api/lanes?t0=${q.t0}&t1=${q.t1}&width=${q.width}`;
    return this.cached(u, this.whole(q.t0, q.t1), () => fetch(u, { signal }));
  }
  async rows(q: RowsQuery, signal?: AbortSignal): Promise<RowsResponse> {
    const body = JSON.stringify(q);
    return this.cached(`rows ${body}`, this.whole(q.t0, q.t1), () =>
      fetch('api/rows', { method: 'POST', body, signal }),
    );
  }
  async series(t0: number, t1: number, n: number, signal?: AbortSignal): Promise<SeriesResponse> {
    const u = `api/series?t0=${t0}&t1=${t1}&n=${n}`;
    return this.cached(u, this.whole(t0, t1), () => fetch(u, { signal }));
  }
  async events(q: EventsQuery): Promise<EventsResponse> {
    return answer(await fetch('api/events', { method: 'POST', body: JSON.stringify(q) }));
  }
}

/** What a static export carries besides the store (see src/view/export.ts). */
interface StaticExtras {
  events: { lines: string[]; containers: number[]; ts: number[]; command: string; complete: boolean };
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
    const ts: number[] = [];
    ev.lines.forEach((l, i) => {
      const k = ev.containers[i] ?? -1;
      const t = ev.ts[i] ?? NaN;
      if (t < q.t0 || t > q.t1) return;
      if (keys !== undefined && !keys.has(k)) return;
      if (text !== '' && !l.toLowerCase().includes(text)) return;
      lines.push(l);
      containers.push(k);
      ts.push(t);
    });
    const last = ev.ts[ev.ts.length - 1];
    const warnings = [
      `static export: it holds the first ${ev.lines.length} lines of print for the trace` +
        (ev.complete || last === undefined
          ? ' (all of them)'
          : ` (up to +${((last - this.summary.begin) / 1e9).toFixed(6)} s)`) +
        ', searched as text in the window; run nstrace view on the trace for the filters',
    ];
    return { lines, containers, ts, warnings, cursor: null, command: ev.command };
  }
}

/** The data source of this page: embedded data (static export) or the server. */
export async function openSource(summary: Summary): Promise<DataSource> {
  const el = document.getElementById('nstrace-data');
  if (el === null) return new HttpSource(summary.begin, Math.max(summary.end, summary.begin + 1000));
  const b64 = (el.textContent ?? '').trim();
  const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream('gzip'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  const { store, json } = unpackStore(bytes);
  return new StaticSource(store, summary, json as StaticExtras);
}
