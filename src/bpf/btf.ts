/**
 * A reader of BTF (the kernel's type information, /sys/kernel/btf/vmlinux) that resolves the
 * byte offsets of struct members, so that programs load `task->nsproxy->net_ns->ns.inum` at the
 * offsets of the running kernel: they move between versions (ns_common.inum moved in 6.18).
 *
 * Format (Documentation/bpf/btf.rst): a header (magic 0xEB9F), a type section (records of 12
 * bytes plus kind-specific data; ids count from 1) and a string section.
 */
import fs from 'node:fs';
import { NstraceError } from '../util/errors.js';

export const BTF_KIND = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export class BtfError extends NstraceError {}

/** A member found by name: byte offset from the start of the outer struct, its type id. */
export interface Member {
  offset: number;
  type: number;
  /** Size in bytes of the member's type (after typedefs/qualifiers). */
  size: number;
}

export class Btf {
  private readonly dv: DataView;
  private readonly strOff: number;
  private readonly strEnd: number;
  /** Byte offset of each type record (index = id; 0 = void). */
  private readonly recs: number[] = [0];
  private structByName: Map<string, number> | undefined;

  constructor(readonly bytes: Uint8Array) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.dv = dv;
    if (bytes.length < 24 || dv.getUint16(0, true) !== 0xeb9f) throw new BtfError('not BTF (bad magic)');
    const hdrLen = dv.getUint32(4, true);
    const typeOff = hdrLen + dv.getUint32(8, true);
    const typeLen = dv.getUint32(12, true);
    this.strOff = hdrLen + dv.getUint32(16, true);
    this.strEnd = this.strOff + dv.getUint32(20, true);
    if (typeOff + typeLen > bytes.length || this.strEnd > bytes.length)
      throw new BtfError('BTF sections out of range');
    let p = typeOff;
    const end = typeOff + typeLen;
    while (p < end) {
      this.recs.push(p);
      const info = dv.getUint32(p + 4, true);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      p += 12 + extraBytes(kind, vlen);
    }
    if (p !== end) throw new BtfError('BTF type section does not end on a record');
  }

  static readKernel(file = '/sys/kernel/btf/vmlinux'): Btf {
    let b: Buffer;
    try {
      b = fs.readFileSync(file);
    } catch (err) {
      throw new BtfError(`cannot read ${file}: ${(err as Error).message} (the kernel has no BTF)`);
    }
    return new Btf(b);
  }

  get count(): number {
    return this.recs.length - 1;
  }

  kind(id: number): number {
    return (this.dv.getUint32(this.rec(id) + 4, true) >>> 24) & 0x1f;
  }

  name(id: number): string {
    return this.str(this.dv.getUint32(this.rec(id), true));
  }

  private rec(id: number): number {
    const r = this.recs[id];
    if (r === undefined || id === 0) throw new BtfError(`no BTF type ${id}`);
    return r;
  }

  private str(off: number): string {
    const s = this.strOff + off;
    let e = s;
    const b = this.bytes;
    while (e < this.strEnd && b[e] !== 0) e++;
    return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
  }

  /** Strips typedefs and qualifiers. */
  resolve(id: number): number {
    for (let n = 0; n < 64; n++) {
      if (id === 0) return 0;
      const k = this.kind(id);
      if (
        k !== BTF_KIND.TYPEDEF &&
        k !== BTF_KIND.CONST &&
        k !== BTF_KIND.VOLATILE &&
        k !== BTF_KIND.RESTRICT &&
        k !== BTF_KIND.TYPE_TAG
      )
        return id;
      id = this.dv.getUint32(this.rec(id) + 8, true);
    }
    throw new BtfError('BTF typedef chain too long');
  }

  /** Size in bytes of a type (pointers are 8). */
  sizeOf(id: number): number {
    id = this.resolve(id);
    if (id === 0) return 0;
    const r = this.rec(id);
    switch (this.kind(id)) {
      case BTF_KIND.PTR:
        return 8;
      case BTF_KIND.ARRAY: {
        const elem = this.dv.getUint32(r + 12, true);
        return this.sizeOf(elem) * this.dv.getUint32(r + 20, true);
      }
      case BTF_KIND.INT:
      case BTF_KIND.STRUCT:
      case BTF_KIND.UNION:
      case BTF_KIND.ENUM:
      case BTF_KIND.ENUM64:
      case BTF_KIND.FLOAT:
        return this.dv.getUint32(r + 8, true);
      default:
        throw new BtfError(`BTF type ${id} has no size`);
    }
  }

  /** The type a pointer points to. */
  pointee(id: number): number {
    id = this.resolve(id);
    if (this.kind(id) !== BTF_KIND.PTR) throw new BtfError(`BTF type ${id} is not a pointer`);
    return this.dv.getUint32(this.rec(id) + 8, true);
  }

  /** Element type and count of an array. */
  array(id: number): { elem: number; count: number } {
    id = this.resolve(id);
    if (this.kind(id) !== BTF_KIND.ARRAY) throw new BtfError(`BTF type ${id} is not an array`);
    const r = this.rec(id);
    return { elem: this.dv.getUint32(r + 12, true), count: this.dv.getUint32(r + 20, true) };
  }

  /** The id of the (complete) struct or union of that name. */
  structId(name: string): number {
    if (!this.structByName) {
      const m = new Map<string, number>();
      for (let id = 1; id < this.recs.length; id++) {
        const k = this.kind(id);
        if (k !== BTF_KIND.STRUCT && k !== BTF_KIND.UNION) continue;
        const n = this.name(id);
        if (n !== '' && !m.has(n)) m.set(n, id);
      }
      this.structByName = m;
    }
    const id = this.structByName.get(name);
    if (id === undefined) throw new BtfError(`struct ${name} not in the kernel's BTF`);
    return id;
  }

  /** The id of the first type of that kind and name (e.g. TYPEDEF `btf_trace_sched_switch`). */
  typeId(kind: number, name: string): number {
    for (let id = 1; id < this.recs.length; id++) {
      if (this.kind(id) === kind && this.name(id) === name) return id;
    }
    throw new BtfError(`no BTF type ${name} (kind ${kind}) in the kernel's BTF`);
  }

  /**
   * A member of a struct/union by name, looking into anonymous members (their offsets added).
   * Bit fields are refused (the programs load whole bytes).
   */
  member(structId: number, name: string): Member {
    const found = this.findMember(this.resolve(structId), name, 0);
    if (!found) throw new BtfError(`${this.name(this.resolve(structId)) || 'struct'} has no member ${name}`);
    return found;
  }

  private findMember(id: number, name: string, base: number): Member | undefined {
    const k = this.kind(id);
    if (k !== BTF_KIND.STRUCT && k !== BTF_KIND.UNION) return undefined;
    const r = this.rec(id);
    const info = this.dv.getUint32(r + 4, true);
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    for (let i = 0; i < vlen; i++) {
      const m = r + 12 + i * 12;
      const mName = this.str(this.dv.getUint32(m, true));
      const mType = this.dv.getUint32(m + 4, true);
      const raw = this.dv.getUint32(m + 8, true);
      const bitOff = kflag ? raw & 0xffffff : raw;
      const bitSize = kflag ? raw >>> 24 : 0;
      if (mName === name) {
        if (bitSize !== 0 || bitOff % 8 !== 0) throw new BtfError(`member ${name} is a bit field`);
        return { offset: base + bitOff / 8, type: mType, size: this.sizeOf(mType) };
      }
      if (mName === '') {
        const inner = this.findMember(this.resolve(mType), name, base + bitOff / 8);
        if (inner) return inner;
      }
    }
    return undefined;
  }

  /**
   * Offset of a dotted path of members inside one struct (no pointer crossed):
   * `offsetOf('nsproxy', 'net_ns')`, `offsetOf('pid_namespace', 'ns.inum')`.
   */
  offsetOf(struct: string, path: string): Member {
    let id = this.structId(struct);
    let off = 0;
    let last: Member | undefined;
    for (const part of path.split('.')) {
      const m = this.member(id, part);
      off += m.offset;
      last = { offset: off, type: m.type, size: m.size };
      id = this.resolve(m.type);
    }
    return last!;
  }
}

function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case BTF_KIND.INT:
    case BTF_KIND.VAR:
    case BTF_KIND.DECL_TAG:
      return 4;
    case BTF_KIND.ARRAY:
      return 12;
    case BTF_KIND.STRUCT:
    case BTF_KIND.UNION:
    case BTF_KIND.DATASEC:
      return vlen * 12;
    case BTF_KIND.ENUM:
    case BTF_KIND.FUNC_PROTO:
      return vlen * 8;
    case BTF_KIND.ENUM64:
      return vlen * 12;
    default:
      return 0;
  }
}
