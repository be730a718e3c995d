/**
 * HTTP/1.1 GET over a unix socket (the runtimes' local APIs), with a hard deadline, and a
 * streaming reader of newline-delimited JSON (their event streams). Node's `http` only.
 */
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';

/** A failed runtime API call; callers turn it into a warning. */
export class RuntimeApiError extends Error {
  constructor(
    readonly socketPath: string,
    readonly path: string,
    reason: string,
    readonly status?: number,
  ) {
    super(`${socketPath} GET ${path}: ${reason}`);
    this.name = 'RuntimeApiError';
  }
}

const MAX_BODY = 64 * 1024 * 1024;

/** GET `path` on the unix socket and parse the JSON body; rejects after `timeoutMs` in all. */
export function getJson(socketPath: string, path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, value?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value);
    };
    const timer = setTimeout(
      () => finish(new RuntimeApiError(socketPath, path, `no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const req = request({ socketPath, path, method: 'GET', headers: { Host: 'localhost' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) finish(new RuntimeApiError(socketPath, path, 'answer too large'));
        else chunks.push(c);
      });
      res.on('error', (e) => finish(new RuntimeApiError(socketPath, path, e.message)));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          finish(
            new RuntimeApiError(socketPath, path, `HTTP ${status} ${body.slice(0, 200).trim()}`, status),
          );
          return;
        }
        try {
          finish(null, JSON.parse(body) as unknown);
        } catch {
          finish(new RuntimeApiError(socketPath, path, 'answer is not JSON'));
        }
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) =>
      finish(new RuntimeApiError(socketPath, path, e.code ?? e.message)),
    );
    req.end();
  });
}

export interface JsonStream {
  /** Stop reading and close the connection. */
  close(): void;
  /** Resolves when the stream ended (closed by us, by the server, or on error). */
  readonly ended: Promise<void>;
}

/**
 * GET `path` and call `onObject` for each JSON value of a newline-delimited stream (Docker and
 * Podman `/events`). `connectTimeoutMs` bounds the wait for the response headers only.
 */
export function streamJsonLines(
  socketPath: string,
  path: string,
  connectTimeoutMs: number,
  onObject: (v: unknown) => void,
  onError: (e: RuntimeApiError) => void,
): JsonStream {
  let closed = false;
  let res: IncomingMessage | undefined;
  let resolveEnded: () => void = () => {};
  const ended = new Promise<void>((r) => (resolveEnded = r));
  const end = (err?: RuntimeApiError): void => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    req.destroy();
    res?.destroy();
    if (err) onError(err);
    resolveEnded();
  };
  const timer = setTimeout(
    () => end(new RuntimeApiError(socketPath, path, `no answer within ${connectTimeoutMs} ms`)),
    connectTimeoutMs,
  );
  const req = request({ socketPath, path, method: 'GET', headers: { Host: 'localhost' } }, (r) => {
    res = r;
    clearTimeout(timer);
    if ((r.statusCode ?? 0) !== 200) {
      end(new RuntimeApiError(socketPath, path, `HTTP ${r.statusCode ?? 0}`, r.statusCode));
      return;
    }
    let buf = '';
    r.setEncoding('utf8');
    r.on('data', (s: string) => {
      buf += s;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          continue;
        }
        if (!closed) onObject(v);
      }
      if (buf.length > MAX_BODY) end(new RuntimeApiError(socketPath, path, 'event line too large'));
    });
    r.on('end', () => end());
    r.on('error', (e) => end(closed ? undefined : new RuntimeApiError(socketPath, path, e.message)));
  });
  req.on('error', (e: NodeJS.ErrnoException) =>
    end(closed ? undefined : new RuntimeApiError(socketPath, path, e.code ?? e.message)),
  );
  req.end();
  return { close: () => end(), ended };
}

/** Narrowing helpers for untyped JSON. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
export function strRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** RFC 3339 time with up to ns precision (`2026-11-27T13:05:17.172955135Z`) to ns since the epoch; 0n if invalid or zero. */
export function rfc3339ToNs(s: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return 0n;
  const ms = Date.parse(`${m[1] ?? ''}${m[3] ?? 'Z'}`);
  if (!Number.isFinite(ms) || ms <= 0) return 0n;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
