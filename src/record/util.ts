/**
 * Small helpers both capture backends share: sleeping, waiting with a time limit, and the
 * size of the trace written so far.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Bytes of the files in a directory (the trace written so far). */
export function dirBytes(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    let es: fs.Dirent[];
    try {
      es = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of es) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        try {
          n += fs.statSync(p).size;
        } catch {
          // gone
        }
      }
    }
  };
  walk(dir);
  return n;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => (ms <= 0 ? setImmediate(res) : setTimeout(res, ms)));
}

/** Waits for `p`, or until the signal aborts or `ms` pass; rethrows `p`'s rejection. */
export async function untilStopped(
  p: Promise<void>,
  signal: AbortSignal | undefined,
  ms: number,
): Promise<void> {
  if (signal?.aborted) return;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<void>((resolve) => {
    if (ms !== Infinity) timer = setTimeout(resolve, Math.max(0, ms));
    onAbort = resolve;
    signal?.addEventListener('abort', onAbort);
  });
  try {
    await Promise.race([p, stop]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort!);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
