/**
 * The system calls the BPF library needs, through koffi (an FFI library whose npm package ships
 * prebuilt binaries: nothing compiles at install or run time). koffi is loaded on first use, so
 * commands that never touch BPF never load it.
 *
 * Every call returns the kernel's result or throws a `BpfError` with the errno. Every fd made
 * here is close-on-exec (bpf(2) fds always are; perf_event_open gets PERF_FLAG_FD_CLOEXEC), so a
 * program started by the recorder never inherits an attachment.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { NstraceError } from '../util/errors.js';

/** x86-64 system call numbers. */
const NR = { ioctl: 16, perfEventOpen: 298, bpf: 321 } as const;

export const PERF_FLAG_FD_CLOEXEC = 8;
export const PERF_TYPE_TRACEPOINT = 2;
export const PERF_EVENT_IOC_ENABLE = 0x2400;
export const PERF_EVENT_IOC_DISABLE = 0x2401;
export const PERF_EVENT_IOC_SET_BPF = 0x40042408;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
/**
 * bpf(2) commands: `enum bpf_cmd` of include/uapi/linux/bpf.h, written as the kernel writes it
 * (a command's value is its place in the list), up to the last one we use. The kernel only ever
 * adds commands at the end.
 */
export const enum BPF_CMD {
  MAP_CREATE,
  MAP_LOOKUP_ELEM,
  MAP_UPDATE_ELEM,
  MAP_DELETE_ELEM,
  MAP_GET_NEXT_KEY,
  PROG_LOAD,
  OBJ_PIN,
  OBJ_GET,
  PROG_ATTACH,
  PROG_DETACH,
  PROG_TEST_RUN,
  PROG_GET_NEXT_ID,
  MAP_GET_NEXT_ID,
  PROG_GET_FD_BY_ID,
  MAP_GET_FD_BY_ID,
  OBJ_GET_INFO_BY_FD,
  PROG_QUERY,
  RAW_TRACEPOINT_OPEN,
  BTF_LOAD,
  BTF_GET_FD_BY_ID,
  TASK_FD_QUERY,
  MAP_LOOKUP_AND_DELETE_ELEM,
  MAP_FREEZE,
  BTF_GET_NEXT_ID,
  MAP_LOOKUP_BATCH,
  MAP_LOOKUP_AND_DELETE_BATCH,
  MAP_UPDATE_BATCH,
  MAP_DELETE_BATCH,
  LINK_CREATE,
}
/** Size of `union bpf_attr` on 6.x kernels (a shorter size is zero-extended by the kernel). */
export const BPF_ATTR_SIZE = 168;

/** A failed BPF-related system call: `op` says which, `errno`/`code` why; `log` is the verifier's. */
export class BpfError extends NstraceError {
  readonly op: string;
  readonly errno: number;
  readonly code: string;
  readonly log: string | undefined;
  constructor(op: string, errno: number, detail?: string, log?: string) {
    const code = errnoName(errno);
    super(`${op} failed: ${code} (${strerror(errno)})${detail ? `: ${detail}` : ''}`);
    this.op = op;
    this.errno = errno;
    this.code = code;
    this.log = log;
  }
}

function errnoName(errno: number): string {
  for (const [k, v] of Object.entries(os.constants.errno)) if (v === errno) return k;
  return `errno ${errno}`;
}

const MESSAGES: Record<string, string> = {
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  EINVAL: 'invalid argument',
  ENOENT: 'no such file or directory',
  ENOSPC: 'no space left',
  E2BIG: 'argument too big',
  ENOMEM: 'out of memory',
  EBADF: 'bad file descriptor',
  ENOSYS: 'function not implemented',
  EOPNOTSUPP: 'operation not supported',
  EFAULT: 'bad address',
  EEXIST: 'exists',
  ESRCH: 'no such process',
};

function strerror(errno: number): string {
  return MESSAGES[errnoName(errno)] ?? 'system error';
}

interface Koffi {
  syscall: (...args: unknown[]) => number | bigint;
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  munmap: (addr: unknown, len: number) => number;
  close: (fd: number) => number;
  errno: () => number;
  view: (ptr: unknown, len: number) => ArrayBuffer;
  address: (v: unknown) => bigint;
}

let K: Koffi | undefined;
let loadError: Error | undefined;

/** koffi and libc, loaded once. Throws a BpfError when the FFI cannot be loaded. */
function k(): Koffi {
  if (K) return K;
  if (loadError) throw new BpfError('loading the FFI (koffi)', 0, loadError.message);
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi');
    const libc = koffi.load('libc.so.6');
    K = {
      syscall: libc.func('long syscall(long nr, ...)'),
      mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)'),
      munmap: libc.func('int munmap(void *addr, size_t len)'),
      close: libc.func('int close(int fd)'),
      errno: () => koffi.errno() as number,
      view: (p, n) => koffi.view(p, n) as ArrayBuffer,
      address: (v) => koffi.address(v) as bigint,
    };
    return K;
  } catch (err) {
    loadError = err as Error;
    throw new BpfError('loading the FFI (koffi)', 0, loadError.message);
  }
}

/** Whether the FFI loads here (linux-x64; never throws). */
export function ffiAvailable(): boolean {
  try {
    k();
    return true;
  } catch {
    return false;
  }
}

/** The address of a Buffer's bytes, for pointers inside attribute structs (keep the Buffer alive). */
export function addressOf(b: Buffer | Uint8Array): bigint {
  return k().address(b);
}

/** bpf(cmd, attr, size): the result (an fd for the creating commands), or throws. */
export function bpf(cmd: BPF_CMD, attr: Buffer, op: string): number {
  const r = Number(k().syscall(NR.bpf, 'int', cmd, 'void *', attr, 'uint', attr.length));
  if (r < 0) throw new BpfError(op, k().errno());
  return r;
}

/** bpf() returning -errno instead of throwing (for retries such as the verifier log's ENOSPC). */
export function bpfTry(cmd: BPF_CMD, attr: Buffer): number {
  const r = Number(k().syscall(NR.bpf, 'int', cmd, 'void *', attr, 'uint', attr.length));
  return r < 0 ? -k().errno() : r;
}

/**
 * perf_event_open of a tracepoint (pid -1, one cpu): a BPF program attached to it runs for the
 * tracepoint on every CPU.
 */
export function perfEventOpenTracepoint(tracepointId: number, cpu: number, pid: number): number {
  const attr = Buffer.alloc(136);
  attr.writeUInt32LE(PERF_TYPE_TRACEPOINT, 0);
  attr.writeUInt32LE(attr.length, 4);
  attr.writeBigUInt64LE(BigInt(tracepointId), 8);
  // Disabled until the program is attached and the event enabled; no sampling (the program's
  // return value 0 keeps perf from writing its own records).
  attr.writeBigUInt64LE(1n, 40);
  const r = Number(
    k().syscall(
      NR.perfEventOpen,
      'void *',
      attr,
      'int',
      pid,
      'int',
      cpu,
      'int',
      -1,
      'ulong',
      PERF_FLAG_FD_CLOEXEC,
    ),
  );
  if (r < 0) throw new BpfError(`perf_event_open(tracepoint ${tracepointId})`, k().errno());
  return r;
}

export function ioctl(fd: number, req: number, arg: number, op: string): void {
  const r = Number(k().syscall(NR.ioctl, 'int', fd, 'ulong', req, 'long', arg));
  if (r < 0) throw new BpfError(op, k().errno());
}

export function closeFd(fd: number): void {
  if (fd >= 0) k().close(fd);
}

/** A shared mapping of `len` bytes of `fd` at `offset`. */
export interface Mapping {
  readonly ptr: unknown;
  readonly len: number;
  readonly buffer: ArrayBuffer;
}

export function mmapFd(fd: number, len: number, offset: number, writable: boolean, op: string): Mapping {
  const kk = k();
  const ptr = kk.mmap(null, len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, offset);
  const addr = typeof ptr === 'bigint' ? ptr : kk.address(ptr);
  if (addr === 0xffffffffffffffffn || addr === -1n) throw new BpfError(op, kk.errno());
  return { ptr, len, buffer: kk.view(ptr, len) };
}

export function munmap(m: Mapping): void {
  k().munmap(m.ptr, m.len);
}

/** Number of possible CPUs (per-CPU map values are this many slots). */
export function possibleCpus(text: string): number {
  let n = 0;
  for (const part of text.trim().split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    n = Math.max(n, (b ?? a) + 1);
  }
  return n;
}
