/** The BTF reader on a BTF blob built here (types, members, anonymous members, typedefs). */
import fs from 'node:fs';
import { kernelOffsets } from '../../src/record/bpf/kernel.js';
import { bpfExpected } from './helpers.js';
import { describe, expect, it } from 'vitest';
import { Btf, BTF_KIND, BtfError } from '../../src/bpf/btf.js';

/** Builds a BTF blob from type records (each: kind, name, vlen, size/type, extra u32 words). */
function blob(
  types: Array<{
    kind: number;
    name: string;
    vlen?: number;
    sizeOrType: number;
    extra?: number[];
    kflag?: boolean;
  }>,
  names: string[],
): Buffer {
  // String section: "\0" then each name.
  const strs: number[] = [0];
  const off = new Map<string, number>([['', 0]]);
  for (const n of names) {
    if (off.has(n)) continue;
    off.set(n, strs.length);
    for (const ch of Buffer.from(n)) strs.push(ch);
    strs.push(0);
  }
  const words: number[] = [];
  for (const t of types) {
    words.push(
      off.get(t.name)!,
      ((t.kflag ? 1 : 0) << 31) | (t.kind << 24) | (t.vlen ?? 0),
      t.sizeOrType,
      ...(t.extra ?? []),
    );
  }
  const typeBytes = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => typeBytes.writeUInt32LE(w >>> 0, i * 4));
  const hdr = Buffer.alloc(24);
  hdr.writeUInt16LE(0xeb9f, 0);
  hdr[2] = 1;
  hdr.writeUInt32LE(24, 4);
  hdr.writeUInt32LE(0, 8);
  hdr.writeUInt32LE(typeBytes.length, 12);
  hdr.writeUInt32LE(typeBytes.length, 16);
  hdr.writeUInt32LE(strs.length, 20);
  return Buffer.concat([hdr, typeBytes, Buffer.from(strs)]);
}

const m = (nameOff: string, type: number, bitOff: number): [string, number, number] => [
  nameOff,
  type,
  bitOff,
];

describe('BTF reader', () => {
  const names = [
    'int',
    'ns_common',
    'inum',
    'u32',
    'pid_namespace',
    'ns',
    'level',
    'task',
    'nsp',
    'flags',
    'ptr_t',
  ];
  const members = (list: Array<[string, number, number]>, offs: Map<string, number>): number[] =>
    list.flatMap(([n, t, b]) => [offs.get(n)!, t, b]);
  // Name offsets as blob() assigns them.
  const offs = new Map<string, number>();
  let at = 1;
  for (const n of names) {
    offs.set(n, at);
    at += Buffer.byteLength(n) + 1;
  }
  offs.set('', 0);
  const types = [
    /* 1 */ { kind: BTF_KIND.INT, name: 'int', sizeOrType: 4, extra: [32] },
    /* 2 */ { kind: BTF_KIND.TYPEDEF, name: 'u32', sizeOrType: 1 },
    /* 3 */ {
      kind: BTF_KIND.STRUCT,
      name: 'ns_common',
      vlen: 1,
      sizeOrType: 32,
      extra: members([m('inum', 2, 24 * 8)], offs),
    },
    /* 4 */ {
      kind: BTF_KIND.UNION,
      name: '',
      vlen: 1,
      sizeOrType: 4,
      extra: members([m('level', 1, 0)], offs),
    },
    /* 5 */ {
      kind: BTF_KIND.STRUCT,
      name: 'pid_namespace',
      vlen: 2,
      sizeOrType: 200,
      extra: members([m('', 4, 64 * 8), m('ns', 3, 112 * 8)], offs),
    },
    /* 6 */ { kind: BTF_KIND.PTR, name: '', sizeOrType: 5 },
    /* 7 */ { kind: BTF_KIND.CONST, name: '', sizeOrType: 6 },
    /* 8 */ {
      kind: BTF_KIND.STRUCT,
      name: 'task',
      vlen: 2,
      kflag: true,
      sizeOrType: 16,
      extra: members([m('nsp', 7, 8 * 8), m('flags', 1, (3 << 24) | 0)], offs),
    },
  ];
  const btf = new Btf(blob(types, names));

  it('indexes the types and resolves member paths, through anonymous members', () => {
    expect(btf.count).toBe(8);
    expect(btf.offsetOf('pid_namespace', 'ns.inum')).toMatchObject({ offset: 136, size: 4 });
    expect(btf.offsetOf('pid_namespace', 'level')).toMatchObject({ offset: 64, size: 4 });
  });

  it('strips qualifiers and typedefs down to pointers and their pointees', () => {
    const nsp = btf.offsetOf('task', 'nsp');
    expect(nsp.offset).toBe(8);
    expect(nsp.size).toBe(8);
    expect(btf.name(btf.resolve(btf.pointee(nsp.type)))).toBe('pid_namespace');
  });

  it('refuses bit fields, unknown members and structs, and bad blobs', () => {
    expect(() => btf.offsetOf('task', 'flags')).toThrow(/bit field/);
    expect(() => btf.offsetOf('task', 'nope')).toThrow(BtfError);
    expect(() => btf.structId('missing')).toThrow(/not in the kernel's BTF/);
    expect(() => new Btf(Buffer.alloc(24))).toThrow(/magic/);
  });
});

describe.skipIf(!fs.existsSync('/sys/kernel/btf/vmlinux') && !bpfExpected)("the running kernel's BTF", () => {
  it('resolves every offset the capture programs read', () => {
    const k = kernelOffsets(Btf.readKernel());
    for (const v of [
      k.task.pid,
      k.task.nsproxy,
      k.task.threadPid,
      k.pid.numbers,
      k.inum.net_ns,
      k.inum.pid_ns,
    ])
      expect(v).toBeGreaterThanOrEqual(0);
    expect(k.pid.upidSize).toBe(16);
    expect(Object.keys(k.nsproxy).sort()).toEqual([
      'cgroup_ns',
      'ipc_ns',
      'mnt_ns',
      'net_ns',
      'time_ns',
      'uts_ns',
    ]);
  });

  it('bpf_prog_info.recursion_misses is where Program.info() reads it', () => {
    expect(Btf.readKernel().offsetOf('bpf_prog_info', 'recursion_misses').offset).toBe(208);
  });
});
