/**
 * Output paths of lttng-relayd: where a session's trace goes under the output directory, and
 * the checks that keep names sent by peers from escaping it.
 */
import { existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type GroupBy = 'host' | 'session';

export interface SessionNaming {
  sessionName: string;
  hostname: string;
  basePath: string;
  /** Seconds since the epoch (CREATE_SESSION `creation_time`). */
  creationTime: number;
  sessionNameContainsCreationTime: boolean;
}

/** `YYYYmmdd-HHMMSS` in the relay's local time, as lttng-relayd formats it. */
export function datetimeString(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${p(d.getFullYear(), 4)}${p(d.getMonth() + 1)}${p(d.getDate())}-` +
    `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`
  );
}

/** The session's directory relative to the output directory (lttng-relayd's `output_path`). */
export function sessionOutputPath(n: SessionNaming, groupBy: GroupBy): string {
  const base = n.basePath.replace(/^\/+/, '').replace(/\/+$/, '');
  if (groupBy === 'session') {
    const top = `${n.sessionName}/${n.hostname}-${datetimeString(n.creationTime)}`;
    return base === '' ? top : `${top}/${base}`;
  }
  if (base !== '') return `${n.hostname}/${base}`;
  if (n.sessionNameContainsCreationTime) return `${n.hostname}/${n.sessionName}`;
  return `${n.hostname}/${n.sessionName}-${datetimeString(n.creationTime)}`;
}

/**
 * A name that may be one path component: non-empty, not starting with a dot, no slash and no
 * control characters (lttng-relayd's "path-safe" rule for session and host names).
 */
export function isSafeComponent(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return s.length > 0 && s.length <= 255 && !s.startsWith('.') && !s.includes('/') && !/[\x00-\x1f]/.test(s);
}

/**
 * A relative path made of safe-ish components: no `..` or `.` component, no empty component,
 * no control characters. A single leading slash is tolerated (pre-2.11 peers sent one).
 * Returns the normalised path or null.
 */
export function safeRelativePath(p: string, allowEmpty: boolean): string | null {
  let s = p.startsWith('/') ? p.slice(1) : p;
  s = s.replace(/\/+$/, '');
  if (s === '') return allowEmpty ? '' : null;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f]/.test(s)) return null;
  const parts = s.split('/');
  for (const c of parts) {
    if (c === '' || c === '.' || c === '..') return null;
  }
  return parts.join('/');
}

/**
 * Picks a directory that no earlier session or earlier run of the daemon has written to:
 * `rel` itself when free, else `rel-1`, `rel-2`, ... A restarted relay therefore never
 * truncates what an earlier one wrote (lttng-relayd would reuse the directory).
 */
export function uniqueDir(outputDir: string, rel: string, taken: (rel: string) => boolean): string {
  if (!taken(rel) && !existsSync(join(outputDir, rel))) return rel;
  for (let i = 1; ; i++) {
    const cand = `${rel}-${i}`;
    if (!taken(cand) && !existsSync(join(outputDir, cand))) return cand;
  }
}

/**
 * `mkdir -p base/rel` that remembers what it created: if a level cannot be created, the levels
 * this call created are removed again (and the error is thrown). Returns the created
 * directories, outermost first, for `removeDirs` if a later step of the same attempt fails.
 */
export function makeDirs(base: string, rel: string, mode: number): string[] {
  const created: string[] = [];
  let cur = base;
  try {
    for (const part of rel.split('/')) {
      if (part === '') continue;
      cur = join(cur, part);
      try {
        mkdirSync(cur, { mode });
        created.push(cur);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (!statSync(cur).isDirectory()) throw new Error(`${cur} exists and is not a directory`);
      }
    }
  } catch (err) {
    removeDirs(created);
    throw err;
  }
  return created;
}

/** Removes directories made by `makeDirs` (innermost first); one that is no longer empty stays. */
export function removeDirs(created: readonly string[]): void {
  for (let i = created.length - 1; i >= 0; i--) {
    try {
      rmdirSync(created[i]!);
    } catch {
      // not empty (something else was created in it meanwhile) or already gone
    }
  }
}
