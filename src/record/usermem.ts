/**
 * Best-effort reads of user-space strings (syscall path arguments) from `/proc/<pid>/mem`.
 *
 * ftrace's syscall events record the pointer, not the string (this kernel has no eprobes or
 * kprobes to fetch it in the kernel), so the recorder reads the string when it converts the
 * event: a few milliseconds after the syscall. That is exact while the memory still holds the
 * string (string literals, long-lived buffers: the common case), and gives an empty string when
 * the process is gone, has exec'd, or the address is unmapped. A buffer reused in between gives
 * the newer content: docs/record.md lists this among the inferred values.
 */
import fs from 'node:fs';

const MAX_STRING = 4096;
const CHUNK = 256;

export class UserMemory {
  private readonly fds = new Map<number, number>();
  private readonly buf = Buffer.alloc(MAX_STRING);
  reads = 0;
  failures = 0;

  constructor(private readonly procRoot = '/proc') {}

  private fd(pid: number): number {
    let fd = this.fds.get(pid);
    if (fd !== undefined) return fd;
    try {
      fd = fs.openSync(`${this.procRoot}/${pid}/mem`, 'r');
    } catch {
      fd = -1;
    }
    if (this.fds.size > 256) this.closeAll();
    this.fds.set(pid, fd);
    return fd;
  }

  /** The address space of `pid` changed (exec) or is gone (exit): drop the cached fd. */
  forget(pid: number): void {
    const fd = this.fds.get(pid);
    if (fd === undefined) return;
    if (fd >= 0) fs.closeSync(fd);
    this.fds.delete(pid);
  }

  closeAll(): void {
    for (const fd of this.fds.values()) if (fd >= 0) fs.closeSync(fd);
    this.fds.clear();
  }

  /**
   * Copies the NUL-terminated string at `addr` in `pid` into `out` at `o` (with its NUL);
   * returns the position after the NUL. Writes an empty string when unreadable.
   */
  copyString(pid: number, addr: number, out: Uint8Array, o: number): number {
    this.reads++;
    const fd = addr > 0 ? this.fd(pid) : -1;
    if (fd < 0) {
      this.failures++;
      out[o] = 0;
      return o + 1;
    }
    const buf = this.buf;
    let len = 0;
    let pos = addr;
    while (len < MAX_STRING - 1) {
      // Do not cross a page boundary in one read: the next page may be unmapped.
      const pageLeft = 4096 - (pos % 4096);
      const want = Math.min(CHUNK, pageLeft, MAX_STRING - 1 - len);
      let n: number;
      try {
        n = fs.readSync(fd, buf, len, want, pos);
      } catch {
        n = 0;
      }
      if (n <= 0) break;
      const z = buf.indexOf(0, len);
      if (z >= 0 && z < len + n) {
        len = z;
        buf.copy(out, o, 0, len);
        out[o + len] = 0;
        return o + len + 1;
      }
      len += n;
      pos += n;
    }
    if (len === 0) this.failures++;
    // No NUL found within the limit (or a fault mid-string): keep what was read.
    buf.copy(out, o, 0, len);
    out[o + len] = 0;
    return o + len + 1;
  }
}
