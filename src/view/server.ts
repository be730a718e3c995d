/**
 * The HTTP server of `nstrace view`: the page, and JSON answers computed from the view's data
 * at the resolution the page asks for.
 *
 *   GET  /                      the page (one HTML document, scripts and styles inline)
 *   GET  /api/summary           Summary
 *   GET  /api/lanes?t0&t1&width LanesResponse (CPU lanes)
 *   POST /api/rows              RowsQuery -> RowsResponse (thread, process and container rows)
 *   GET  /api/series?t0&t1&n    SeriesResponse (per-container time series)
 *   POST /api/events            EventsQuery -> EventsResponse (print's lines)
 *
 * It listens on 127.0.0.1 unless told otherwise, and answers only requests whose Host header
 * names the address it listens on, localhost or a loopback address (no DNS rebinding of a
 * local page into a remote site's origin).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { FilterSyntaxError, NstraceError } from '../util/errors.js';
import { Aggregator } from './aggregate.js';
import type { ViewData } from './build.js';
import { EventsService } from './events.js';
import type { PageAssets } from './page-html.js';
import { pageHtml } from './page-html.js';
import type { ErrorResponse, EventsQuery, RowsQuery } from './types.js';

export interface ServeOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (0: any free port). */
  port?: number;
  assets: PageAssets;
  /** Called for each request that failed unexpectedly (the CLI prints it). */
  onError?: (err: unknown) => void;
}

export interface ViewServer {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
      if (n > MAX_BODY) {
        reject(new BadRequest('request body too large'));
        req.destroy();
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

class BadRequest extends Error {}

function num(u: URL, name: string): number {
  const v = u.searchParams.get(name);
  const n = v === null ? NaN : Number(v);
  if (!Number.isFinite(n)) throw new BadRequest(`query parameter ${name} must be a number`);
  return n;
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
): void {
  let data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headers: Record<string, string | number> = {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
  // Compressing costs more than it saves on the loopback interface.
  if (
    data.length > 4096 &&
    !isLoopback(req.socket.remoteAddress) &&
    /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
  ) {
    data = gzipSync(data, { level: 1 });
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = data.length;
  res.writeHead(status, headers);
  res.end(data);
}

function isLoopback(addr: string | undefined): boolean {
  return addr !== undefined && (addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.'));
}

function json(req: IncomingMessage, res: ServerResponse, status: number, value: unknown): void {
  send(req, res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

/** Host header values the server answers. */
function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]']);
  names.add(host.includes(':') ? `[${host}]` : host);
  const out = new Set<string>();
  for (const n of names) out.add(`${n}:${port}`);
  return out;
}

/**
 * Runs each aggregation a few times on the whole trace before the first request, so that the
 * page's first zooms do not wait for the JIT compiler.
 */
function warmUp(agg: Aggregator, data: ViewData): void {
  const { begin, end } = data.summary;
  if (!(end > begin)) return;
  const uids = data.summary.threads.slice(0, 60).map((t) => t.uid);
  const groups = data.summary.containers.map((c) => `c:${c.key}`);
  const keys = data.summary.containers.map((c) => c.key);
  for (let i = 0; i < 3; i++) {
    const t1 = begin + (end - begin) / (1 + i * 20);
    agg.lanes({ t0: begin, t1, width: 1400 });
    agg.rows({ t0: begin, t1, width: 1200, uids, groups });
    agg.series(begin, t1, 600, keys);
  }
}

export async function startServer(data: ViewData, opts: ServeOptions): Promise<ViewServer> {
  const host = opts.host ?? '127.0.0.1';
  const agg = new Aggregator(data.store, data.summary.threads);
  warmUp(agg, data);
  const events = new EventsService(data.paths, data.base, data.model);
  const page = pageHtml(opts.assets, { summary: data.summary });
  const summaryJson = JSON.stringify(data.summary);
  let hosts = new Set<string>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const h = String(req.headers.host ?? '');
    if (!hosts.has(h) && !(host === '0.0.0.0' || host === '::')) {
      send(req, res, 403, 'text/plain; charset=utf-8', `nstrace view: unexpected Host header '${h}'\n`);
      return;
    }
    const u = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (req.method === 'GET' && (u.pathname === '/' || u.pathname === '/index.html')) {
        send(req, res, 200, 'text/html; charset=utf-8', page);
      } else if (req.method === 'GET' && u.pathname === '/api/summary') {
        send(req, res, 200, 'application/json; charset=utf-8', summaryJson);
      } else if (req.method === 'GET' && u.pathname === '/api/lanes') {
        json(req, res, 200, agg.lanes({ t0: num(u, 't0'), t1: num(u, 't1'), width: num(u, 'width') }));
      } else if (req.method === 'GET' && u.pathname === '/api/series') {
        const keys = data.summary.containers.map((c) => c.key);
        json(req, res, 200, agg.series(num(u, 't0'), num(u, 't1'), num(u, 'n'), keys));
      } else if (req.method === 'POST' && u.pathname === '/api/rows') {
        const q = JSON.parse(await readBody(req)) as RowsQuery;
        json(req, res, 200, agg.rows(q));
      } else if (req.method === 'POST' && u.pathname === '/api/events') {
        const q = JSON.parse(await readBody(req)) as EventsQuery;
        json(req, res, 200, await events.query(q));
      } else if (req.method === 'GET' && u.pathname === '/favicon.ico') {
        res.writeHead(204).end();
      } else {
        json(req, res, 404, {
          error: `no such resource: ${req.method} ${u.pathname}`,
        } satisfies ErrorResponse);
      }
    } catch (err) {
      if (err instanceof FilterSyntaxError) {
        json(req, res, 400, {
          error: err.message,
          column: err.column - 1,
          length: err.length,
        } satisfies ErrorResponse);
      } else if (err instanceof NstraceError || err instanceof BadRequest || err instanceof RangeError) {
        json(req, res, 400, { error: err.message } satisfies ErrorResponse);
      } else if (err instanceof SyntaxError) {
        json(req, res, 400, { error: `bad request: ${err.message}` } satisfies ErrorResponse);
      } else {
        opts.onError?.(err);
        json(req, res, 500, { error: `internal error: ${String(err)}` } satisfies ErrorResponse);
      }
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.onError?.(err);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(host, port);
  const urlHost =
    host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/`,
    port,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        events.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
