/**
 * Open files of the relay, capped: every stream has a data file and an index file, and a relay
 * with many senders would otherwise run out of file descriptors (1024 by default on many
 * systems). Files beyond the budget are closed least recently used first and reopened
 * (without truncation) the next time they are written or read. Also `writeAllv`, the batched
 * positional write every relay file goes through, and `readAt`, the positional read of viewers.
 */
import { closeSync, openSync, readFileSync, readSync, writeSync, writevSync } from 'node:fs';

const FILE_MODE = 0o660;

export class FdCache {
  /** Open files, least recently used first (Map iteration order). */
  private readonly lru = new Map<CachedFile, true>();

  constructor(readonly budget: number) {}

  touch(f: CachedFile): void {
    this.lru.delete(f);
    this.lru.set(f, true);
    if (this.lru.size <= this.budget) return;
    for (const old of this.lru.keys()) {
      if (this.lru.size <= this.budget) break;
      if (old === f) continue;
      old.evict();
    }
  }

  forget(f: CachedFile): void {
    this.lru.delete(f);
  }

  get openCount(): number {
    return this.lru.size;
  }
}

export class CachedFile {
  private fdv = -1;
  private done = false;

  /** Creates (truncates) `path`. */
  constructor(
    readonly path: string,
    private readonly cache: FdCache,
  ) {
    this.fdv = openSync(path, 'w+', FILE_MODE);
    cache.touch(this);
  }

  /** The descriptor, reopened if it was evicted. */
  get fd(): number {
    if (this.done) throw new Error(`${this.path}: file already closed`);
    if (this.fdv < 0) this.fdv = openSync(this.path, 'r+');
    this.cache.touch(this);
    return this.fdv;
  }

  /** Closes the descriptor; the file stays usable. */
  evict(): void {
    if (this.fdv >= 0) closeSync(this.fdv);
    this.fdv = -1;
    this.cache.forget(this);
  }

  /** Closes for good. */
  close(): void {
    this.evict();
    this.done = true;
  }

  get closed(): boolean {
    return this.done;
  }
}

/** The process's soft open-files limit (1024 when it cannot be read). */
export function openFilesLimit(): number {
  let soft = 1024;
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const v = line?.split(/\s+/)[3];
    if (v !== undefined && /^\d+$/.test(v)) soft = Number(v);
  } catch {
    // not Linux: keep the common default
  }
  return soft;
}

/** A file budget from the process's soft open-files limit, leaving room for sockets. */
export function defaultFileBudget(): number {
  return Math.max(16, Math.floor(openFilesLimit() / 2));
}

/** `writev` until everything is written, at most `IOV_BATCH` buffers per call. */
export function writeAllv(fd: number, bufs: Buffer[], position: number, total: number): void {
  let pos = position;
  let done = 0;
  for (let i = 0; i < bufs.length; i += IOV_BATCH) {
    const group = i === 0 && bufs.length <= IOV_BATCH ? bufs : bufs.slice(i, i + IOV_BATCH);
    let want = 0;
    for (const b of group) want += b.length;
    let written = writevSync(fd, group, pos);
    pos += written;
    done += written;
    if (written === want) continue;
    // Partial write (rare on regular files): finish piece by piece.
    for (const b of group) {
      if (written >= b.length) {
        written -= b.length;
        continue;
      }
      let off = written;
      written = 0;
      while (off < b.length) {
        const n = writeSync(fd, b, off, b.length - off, pos);
        off += n;
        pos += n;
        done += n;
      }
    }
  }
  if (done !== total) throw new Error(`short write: ${done} of ${total} bytes`);
}

const IOV_BATCH = 512;

/**
 * Reads up to `len` bytes at `position` into `out` from `fd`, or, when `fd` is negative, from
 * `path` opened for this read only. Returns the bytes read (fewer at the end of the file).
 */
export function readAt(fd: number, path: string, out: Buffer, len: number, position: number): number {
  let mine = false;
  if (fd < 0) {
    fd = openSync(path, 'r');
    mine = true;
  }
  try {
    let got = 0;
    while (got < len) {
      const n = readSync(fd, out, got, len - got, position + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  } finally {
    if (mine) closeSync(fd);
  }
}
