/**
 * BPF objects owned by file descriptors: maps, ring buffers (mapped into this process),
 * programs (loaded with the verifier's log) and tracepoint attachments. Nothing is pinned: the
 * kernel frees every object when its last fd closes, so a recorder killed with SIGKILL leaves
 * nothing attached. `BpfScope` closes what it owns in reverse order, once, on every exit path.
 */
import fs from 'node:fs';
import {
  BPF_ATTR_SIZE,
  BPF_CMD,
  BpfError,
  PERF_EVENT_IOC_DISABLE,
  PERF_EVENT_IOC_ENABLE,
  addressOf,
  bpf,
  bpfTry,
  closeFd,
  ioctl,
  mmapFd,
  munmap,
  perfEventOpenTracepoint,
  possibleCpus,
  type Mapping,
} from './sys.js';

export const MAP_TYPE = {
  HASH: 1,
  ARRAY: 2,
  PERCPU_ARRAY: 6,
  LRU_HASH: 9,
  RINGBUF: 27,
  TASK_STORAGE: 29,
} as const;
/** map_flags: allocate elements on update (required by local storages). */
export const BPF_F_NO_PREALLOC = 1;
export const PROG_TYPE = { TRACEPOINT: 5, RAW_TRACEPOINT: 17, TRACING: 26 } as const;
/** expected_attach_type of a BTF-typed raw tracepoint program (`tp_btf`). */
export const BPF_TRACE_RAW_TP = 23;
/** attach_type of a BPF link on a perf event. */
export const BPF_PERF_EVENT = 41;
/** BPF_ANY: create or update. */
export const BPF_ANY = 0n;

/** Something that releases kernel resources. */
export interface Closeable {
  close(): void;
}

/** Owns BPF objects; `close()` releases them in reverse order of creation (idempotent). */
export class BpfScope implements Closeable {
  private items: Closeable[] = [];
  add<T extends Closeable>(c: T): T {
    this.items.push(c);
    return c;
  }
  /** `between` runs after each object is closed (e.g. to read a ring meanwhile). */
  close(between?: () => void): void {
    const items = this.items;
    this.items = [];
    let first: unknown;
    for (let i = items.length - 1; i >= 0; i--) {
      try {
        items[i]!.close();
        between?.();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first instanceof Error ? first : new Error(String(first));
  }
}

function nameBytes(attr: Buffer, off: number, name: string): void {
  // BPF object names: up to 15 characters of [A-Za-z0-9_.].
  attr.write(name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15), off, 'latin1');
}

export interface MapSpec {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  name: string;
  /** BTF of key and value (maps that demand it: task storage), from btf-blob.ts. */
  btf?: { fd: number; keyTypeId: number; valueTypeId: number };
}

export class BpfMap implements Closeable {
  fd: number;
  readonly spec: MapSpec;
  private readonly key: Buffer;
  private readonly value: Buffer;
  private readonly attr = Buffer.alloc(BPF_ATTR_SIZE);
  /** Bytes of one value in user space (per-CPU maps: one 8-aligned slot per possible CPU). */
  readonly valueBytes: number;

  constructor(spec: MapSpec) {
    const a = Buffer.alloc(BPF_ATTR_SIZE);
    a.writeUInt32LE(spec.type, 0);
    a.writeUInt32LE(spec.keySize, 4);
    a.writeUInt32LE(spec.valueSize, 8);
    a.writeUInt32LE(spec.maxEntries, 12);
    a.writeUInt32LE(spec.flags ?? 0, 16);
    nameBytes(a, 28, spec.name);
    if (spec.btf) {
      a.writeUInt32LE(spec.btf.fd, 48);
      a.writeUInt32LE(spec.btf.keyTypeId, 52);
      a.writeUInt32LE(spec.btf.valueTypeId, 56);
    }
    this.fd = bpf(BPF_CMD.MAP_CREATE, a, `creating BPF map ${spec.name}`);
    this.spec = spec;
    const percpu = spec.type === MAP_TYPE.PERCPU_ARRAY;
    this.valueBytes = percpu ? ((spec.valueSize + 7) & ~7) * cpuSlots() : spec.valueSize;
    this.key = Buffer.alloc(Math.max(8, spec.keySize));
    this.value = Buffer.alloc(Math.max(8, this.valueBytes));
  }

  private op(cmd: BPF_CMD, key: Uint8Array, value: Uint8Array | undefined, flags: bigint): number {
    const a = this.attr;
    a.fill(0);
    this.key.set(key.subarray(0, this.spec.keySize));
    a.writeUInt32LE(this.fd, 0);
    a.writeBigUInt64LE(addressOf(this.key), 8);
    if (value !== undefined) {
      if (cmd === BPF_CMD.MAP_UPDATE_ELEM) this.value.set(value.subarray(0, this.valueBytes));
      a.writeBigUInt64LE(addressOf(this.value), 16);
    }
    a.writeBigUInt64LE(flags, 24);
    return bpfTry(cmd, a);
  }

  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    const r = this.op(BPF_CMD.MAP_UPDATE_ELEM, key, value, flags);
    if (r < 0) throw new BpfError(`updating BPF map ${this.spec.name}`, -r);
  }

  /** The value (a copy), or undefined when the key is absent. */
  lookup(key: Uint8Array): Buffer | undefined {
    const r = this.op(BPF_CMD.MAP_LOOKUP_ELEM, key, this.value, 0n);
    if (r === -2) return undefined; // ENOENT
    if (r < 0) throw new BpfError(`reading BPF map ${this.spec.name}`, -r);
    return Buffer.from(this.value.subarray(0, this.valueBytes));
  }

  /** Deletes a key; false when it was absent. */
  delete(key: Uint8Array): boolean {
    const r = this.op(BPF_CMD.MAP_DELETE_ELEM, key, undefined, 0n);
    if (r === -2) return false;
    if (r < 0) throw new BpfError(`deleting from BPF map ${this.spec.name}`, -r);
    return true;
  }

  close(): void {
    closeFd(this.fd);
    this.fd = -1;
  }
}

let cpuSlotCount: number | undefined;
/** Possible CPUs (the slots of a per-CPU map's value in user space). */
export function cpuSlots(): number {
  cpuSlotCount ??= possibleCpus(fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  return cpuSlotCount;
}

export function u32Key(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

export function u64Key(n: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n), 0);
  return b;
}

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HDR = 8;

/**
 * A BPF ring buffer mapped into this process (Documentation/bpf/ringbuf.rst): the consumer
 * position page (read-write), then the producer position page and the data pages, mapped
 * twice by the kernel so that a record that wraps is contiguous here.
 */
export class RingBuffer implements Closeable {
  readonly map: BpfMap;
  readonly size: number;
  private cons: Mapping | undefined;
  private prod: Mapping | undefined;
  private readonly consPos: BigUint64Array;
  private readonly prodPos: BigUint64Array;
  /** The data area (2 x size: records never wrap in it). */
  readonly data: Uint8Array;
  readonly view: DataView;
  /** The data area as 32-bit words (the same memory as `data`). */
  readonly words: Uint32Array;
  /** Consumer position (bytes, ever increasing). */
  private pos: number;

  constructor(name: string, size: number) {
    const page = 4096;
    if (size < page || (size & (size - 1)) !== 0)
      throw new BpfError(`ring buffer ${name}`, 22, 'size must be a power of two ≥ 4096');
    this.map = new BpfMap({ type: MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: size, name });
    this.size = size;
    try {
      this.cons = mmapFd(this.map.fd, page, 0, true, `mapping ring buffer ${name}`);
      this.prod = mmapFd(this.map.fd, page + 2 * size, page, false, `mapping ring buffer ${name}`);
    } catch (err) {
      this.close();
      throw err;
    }
    this.consPos = new BigUint64Array(this.cons.buffer, 0, 1);
    this.prodPos = new BigUint64Array(this.prod.buffer, 0, 1);
    this.data = new Uint8Array(this.prod.buffer, page, 2 * size);
    this.view = new DataView(this.prod.buffer, page, 2 * size);
    this.words = new Uint32Array(this.prod.buffer, page, (2 * size) / 4);
    this.pos = Number(Atomics.load(this.consPos, 0));
  }

  get fd(): number {
    return this.map.fd;
  }

  /** Bytes published by producers and not consumed yet. */
  pending(): number {
    return Number(Atomics.load(this.prodPos, 0)) - this.pos;
  }

  /**
   * Calls `fn(offset, length)` for each committed record (offset into `data`/`view`), in order,
   * up to `maxBytes` of ring; stops at a record still being written. Releases the space after
   * the batch, `beforeRelease` called first (a caller keeping views of records copies them
   * there). Returns the number of records delivered.
   */
  consume(
    fn: (offset: number, length: number) => void,
    maxBytes = Infinity,
    beforeRelease?: () => void,
  ): number {
    const prod = Number(Atomics.load(this.prodPos, 0));
    let pos = this.pos;
    const start = pos;
    const mask = this.size - 1;
    const words = this.words;
    let n = 0;
    while (pos < prod && pos - start < maxBytes) {
      const at = pos & mask;
      const len = Atomics.load(words, at >>> 2);
      if ((len & BUSY) !== 0) break;
      const l = len & ~(BUSY | DISCARD);
      if ((len & DISCARD) === 0) {
        fn(at + HDR, l);
        n++;
      }
      pos += (l + HDR + 7) & ~7;
    }
    if (pos !== this.pos) {
      beforeRelease?.();
      this.pos = pos;
      Atomics.store(this.consPos, 0, BigInt(pos));
    }
    return n;
  }

  close(): void {
    if (this.cons) munmap(this.cons);
    if (this.prod) munmap(this.prod);
    this.cons = this.prod = undefined;
    this.map.close();
  }
}

export interface ProgramSpec {
  type: number;
  insns: Buffer;
  name: string;
  license?: string;
  /** Verifier log level when loading fails (1 = basic, 2 = every instruction). */
  logLevel?: number;
  /** TRACING programs: expected_attach_type and the BTF id of what they attach to. */
  expectedAttachType?: number;
  attachBtfId?: number;
}

/** A load refused by the verifier: the message ends with the log's last lines; `log` has all. */
export class VerifierError extends BpfError {}

export class Program implements Closeable {
  fd: number;
  readonly name: string;

  constructor(spec: ProgramSpec) {
    this.name = spec.name;
    const license = Buffer.from(`${spec.license ?? 'GPL'}\0`, 'latin1');
    const a = Buffer.alloc(BPF_ATTR_SIZE);
    const fill = (logBuf: Buffer | undefined, level: number): void => {
      a.fill(0);
      a.writeUInt32LE(spec.type, 0);
      a.writeUInt32LE(spec.insns.length / 8, 4);
      a.writeBigUInt64LE(addressOf(spec.insns), 8);
      a.writeBigUInt64LE(addressOf(license), 16);
      if (logBuf) {
        a.writeUInt32LE(level, 24);
        a.writeUInt32LE(logBuf.length, 28);
        a.writeBigUInt64LE(addressOf(logBuf), 32);
      }
      nameBytes(a, 48, spec.name);
      a.writeUInt32LE(spec.expectedAttachType ?? 0, 68);
      a.writeUInt32LE(spec.attachBtfId ?? 0, 108);
    };
    // First without a log (fast); on failure again with one, grown while the kernel says ENOSPC.
    fill(undefined, 0);
    let r = bpfTry(BPF_CMD.PROG_LOAD, a);
    if (r >= 0) {
      this.fd = r;
      return;
    }
    const firstErr = -r;
    let size = 1 << 20;
    for (let attempt = 0; attempt < 4; attempt++) {
      const log = Buffer.alloc(size);
      fill(log, spec.logLevel ?? 1);
      r = bpfTry(BPF_CMD.PROG_LOAD, a);
      if (r >= 0) {
        // Loaded with a log but not without: should not happen; keep it.
        this.fd = r;
        return;
      }
      const trueSize = a.readUInt32LE(140);
      if (-r === 28 /* ENOSPC */ && trueSize > size) {
        size = trueSize + 1;
        continue;
      }
      const text = log.toString('utf8', 0, Math.max(0, log.indexOf(0))).trimEnd();
      const tail = text.split('\n').slice(-4).join(' | ');
      throw new VerifierError(`loading BPF program ${spec.name}`, -r, tail || undefined, text);
    }
    throw new VerifierError(`loading BPF program ${spec.name}`, firstErr, 'verifier log too large');
  }

  close(): void {
    closeFd(this.fd);
    this.fd = -1;
  }

  /** Run count, run time and recursion misses (bpf_prog_info; run stats need kernel.bpf_stats_enabled). */
  info(): { recursionMisses: number } {
    const info = Buffer.alloc(256);
    const a = Buffer.alloc(BPF_ATTR_SIZE);
    a.writeUInt32LE(this.fd, 0);
    a.writeUInt32LE(info.length, 4);
    a.writeBigUInt64LE(addressOf(info), 8);
    bpf(BPF_CMD.OBJ_GET_INFO_BY_FD, a, `reading info of BPF program ${this.name}`);
    // struct bpf_prog_info: recursion_misses u64 at offset 208 (after run_time_ns, run_cnt;
    // checked against the kernel's BTF by the tests).
    return { recursionMisses: Number(info.readBigUInt64LE(208)) };
  }
}

/**
 * A program attached to a tracepoint: perf_event_open, then a BPF link (LINK_CREATE,
 * BPF_PERF_EVENT) carrying `cookie` (the program reads it with bpf_get_attach_cookie: one
 * program can serve many tracepoints), then enabled.
 */
export class TracepointLink implements Closeable {
  private fd: number;
  private link = -1;
  constructor(
    readonly tracepoint: string,
    tracepointId: number,
    prog: Program,
    cookie = 0n,
  ) {
    this.fd = perfEventOpenTracepoint(tracepointId, 0, -1);
    try {
      const a = Buffer.alloc(BPF_ATTR_SIZE);
      a.writeUInt32LE(prog.fd, 0);
      a.writeUInt32LE(this.fd, 4);
      a.writeUInt32LE(BPF_PERF_EVENT, 8);
      a.writeBigUInt64LE(BigInt.asUintN(64, cookie), 16);
      this.link = bpf(BPF_CMD.LINK_CREATE, a, `attaching BPF program to ${tracepoint}`);
      ioctl(this.fd, PERF_EVENT_IOC_ENABLE, 0, `enabling ${tracepoint}`);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      ioctl(this.fd, PERF_EVENT_IOC_DISABLE, 0, `disabling ${this.tracepoint}`);
    } finally {
      closeFd(this.link);
      closeFd(this.fd);
      this.fd = this.link = -1;
    }
  }
}

/** A `tp_btf` program (TRACING, BPF_TRACE_RAW_TP) attached with RAW_TRACEPOINT_OPEN. */
export class RawTracepointLink implements Closeable {
  private fd: number;
  constructor(
    readonly tracepoint: string,
    prog: Program,
  ) {
    const a = Buffer.alloc(BPF_ATTR_SIZE);
    // name 0: the kernel takes the target from the program's attach_btf_id.
    a.writeUInt32LE(prog.fd, 8);
    this.fd = bpf(BPF_CMD.RAW_TRACEPOINT_OPEN, a, `attaching BPF program to ${tracepoint}`);
  }
  close(): void {
    closeFd(this.fd);
    this.fd = -1;
  }
}

/** Names of the BPF programs loaded in the kernel (BPF_PROG_GET_NEXT_ID and info by id). */
export function loadedProgramNames(): string[] {
  const out: string[] = [];
  let id = 0;
  const a = Buffer.alloc(BPF_ATTR_SIZE);
  for (;;) {
    a.fill(0);
    a.writeUInt32LE(id, 0);
    if (bpfTry(BPF_CMD.PROG_GET_NEXT_ID, a) < 0) break;
    id = a.readUInt32LE(4);
    a.fill(0);
    a.writeUInt32LE(id, 0);
    const fd = bpfTry(BPF_CMD.PROG_GET_FD_BY_ID, a);
    if (fd < 0) continue;
    try {
      const info = Buffer.alloc(256);
      const b = Buffer.alloc(BPF_ATTR_SIZE);
      b.writeUInt32LE(fd, 0);
      b.writeUInt32LE(info.length, 4);
      b.writeBigUInt64LE(addressOf(info), 8);
      if (bpfTry(BPF_CMD.OBJ_GET_INFO_BY_FD, b) >= 0) {
        const name = info.subarray(64, 80);
        out.push(name.toString('latin1', 0, name.indexOf(0) < 0 ? 16 : name.indexOf(0)));
      }
    } finally {
      closeFd(fd);
    }
  }
  return out;
}
