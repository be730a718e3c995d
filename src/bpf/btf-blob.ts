/**
 * A minimal BTF blob of our own, loaded into the kernel (BPF_BTF_LOAD) to describe the key and
 * value of a map whose type demands BTF (task storage: Documentation/bpf/map_sk_storage.rst
 * gives the same rules for every local storage). Two types are enough: a 32-bit `int` for the
 * key (the kernel checks exactly that) and a byte array of the value's size. The layout of a
 * BTF blob is in Documentation/bpf/btf.rst: a 24-byte header, the type section, the strings.
 */
import { BPF_ATTR_SIZE, BPF_CMD, BpfError, addressOf, bpfTry } from './sys.js';

const BTF_MAGIC = 0xeb9f;
const KIND_INT = 1;
const KIND_ARRAY = 3;
const INT_SIGNED = 1;

/** Type ids in a blob made by `valueBtf`. */
export const BTF_INT_ID = 1;
export const BTF_VALUE_ID = 3;

/** The blob: [1] int (32 bits, signed), [2] char (8 bits), [3] char[valueSize]. */
export function valueBtf(valueSize: number): Buffer {
  const strings = Buffer.from('\0int\0char\0', 'latin1');
  const intName = 1;
  const charName = 5;
  const types: number[] = [
    // [1] int
    intName,
    KIND_INT << 24,
    4,
    (INT_SIGNED << 24) | 32,
    // [2] char
    charName,
    KIND_INT << 24,
    1,
    8,
    // [3] char[valueSize]: element type 2, index type 1
    0,
    KIND_ARRAY << 24,
    0,
    2,
    BTF_INT_ID,
    valueSize,
  ];
  const typeBytes = types.length * 4;
  const b = Buffer.alloc(24 + typeBytes + strings.length);
  b.writeUInt16LE(BTF_MAGIC, 0);
  b.writeUInt8(1, 2); // version
  b.writeUInt8(0, 3); // flags
  b.writeUInt32LE(24, 4); // hdr_len
  b.writeUInt32LE(0, 8); // type_off
  b.writeUInt32LE(typeBytes, 12); // type_len
  b.writeUInt32LE(typeBytes, 16); // str_off
  b.writeUInt32LE(strings.length, 20); // str_len
  types.forEach((v, i) => b.writeUInt32LE(v >>> 0, 24 + 4 * i));
  strings.copy(b, 24 + typeBytes);
  return b;
}

/** Loads a BTF blob; its fd (close it once the maps that use it exist). The kernel's log on failure. */
export function loadBtf(blob: Buffer, what: string): number {
  const attr = Buffer.alloc(BPF_ATTR_SIZE);
  attr.writeBigUInt64LE(addressOf(blob), 0); // btf
  attr.writeUInt32LE(blob.length, 16); // btf_size
  const fd = bpfTry(BPF_CMD.BTF_LOAD, attr);
  if (fd >= 0) return fd;
  const log = Buffer.alloc(64 * 1024);
  attr.writeBigUInt64LE(addressOf(log), 8); // btf_log_buf
  attr.writeUInt32LE(log.length, 20); // btf_log_size
  attr.writeUInt32LE(1, 24); // btf_log_level
  const again = bpfTry(BPF_CMD.BTF_LOAD, attr);
  if (again >= 0) return again;
  const text = log.toString('utf8', 0, Math.max(0, log.indexOf(0))).trimEnd();
  throw new BpfError(`loading the BTF of ${what}`, -again, undefined, text || undefined);
}
