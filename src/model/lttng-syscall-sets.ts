/**
 * lttng-analyses' `sv.SyscallConsts` (0.6.1): the system calls its I/O state provider looks at.
 * The process table (lttng-procs.ts) needs them too: that provider also fixes a process's pid at
 * the first of these calls of each thread, whichever analysis runs.
 */
export const DISK_OPEN: ReadonlySet<string> = new Set(['open', 'openat']);
export const DUP_OPEN: ReadonlySet<string> = new Set(['fcntl', 'dup', 'dup2', 'dup3']);
export const OPEN: ReadonlySet<string> = new Set([...DISK_OPEN, 'socket', ...DUP_OPEN]);
export const READ: ReadonlySet<string> = new Set([
  'read',
  'recvmsg',
  'recvfrom',
  'readv',
  'pread',
  'pread64',
  'preadv',
]);
export const WRITE: ReadonlySet<string> = new Set([
  'write',
  'sendmsg',
  'sendto',
  'writev',
  'pwrite',
  'pwrite64',
  'pwritev',
]);
export const SYNC: ReadonlySet<string> = new Set(['sync', 'sync_file_range', 'fsync', 'fdatasync']);
/** `SyscallConsts.IO_SYSCALLS` (splice and sendfile64 make no request: see lttng-io.ts). */
export const IO_SYSCALLS: ReadonlySet<string> = new Set([
  ...OPEN,
  'close',
  ...READ,
  ...WRITE,
  ...SYNC,
  'splice',
  'sendfile64',
]);
