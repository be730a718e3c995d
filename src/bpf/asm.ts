/**
 * A small eBPF assembler (ADR 0162): instructions as the kernel's instruction-set document
 * defines them, symbolic jump labels resolved at `assemble()`, LD_IMM64 for 64-bit constants
 * and map references (BPF_PSEUDO_MAP_FD), helper calls by id.
 *
 * Encoding: 8 bytes per slot; byte 0 opcode, byte 1 dst (low nibble) | src (high nibble),
 * s16 offset, s32 immediate (little-endian). LD_IMM64 takes two slots.
 */

export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
export const R0: Reg = 0;
export const R1: Reg = 1;
export const R2: Reg = 2;
export const R3: Reg = 3;
export const R4: Reg = 4;
export const R5: Reg = 5;
export const R6: Reg = 6;
export const R7: Reg = 7;
export const R8: Reg = 8;
export const R9: Reg = 9;
/** Read-only frame pointer; the stack is [R10 - 512, R10). */
export const R10: Reg = 10;

/** Memory access sizes. */
export type Size = 1 | 2 | 4 | 8;
const SIZE_BITS: Record<Size, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };

/** ALU operations (high nibble of the opcode). */
export const ALU = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  neg: 0x80,
  mod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
} as const;
export type AluOp = keyof typeof ALU;

/** Jump conditions (high nibble of the opcode). */
export const JMP = {
  jeq: 0x10,
  jgt: 0x20,
  jge: 0x30,
  jset: 0x40,
  jne: 0x50,
  jsgt: 0x60,
  jsge: 0x70,
  jlt: 0xa0,
  jle: 0xb0,
  jslt: 0xc0,
  jsle: 0xd0,
} as const;
export type JmpOp = keyof typeof JMP;

const CLS = { LD: 0, LDX: 1, ST: 2, STX: 3, ALU: 4, JMP: 5, JMP32: 6, ALU64: 7 } as const;
const MEM = 0x60;
const IMM = 0x00;
const SRC_X = 0x08;

/** Helper function ids (include/uapi/linux/bpf.h). */
export const HELPER = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  ktime_get_ns: 5,
  get_smp_processor_id: 8,
  get_current_pid_tgid: 14,
  get_current_comm: 16,
  get_current_task: 35,
  get_current_cgroup_id: 80,
  probe_read_kernel: 113,
  probe_read_user_str: 114,
  probe_read_kernel_str: 115,
  ringbuf_output: 130,
  ringbuf_reserve: 131,
  ringbuf_submit: 132,
  ringbuf_discard: 133,
  task_storage_get: 156,
  get_current_task_btf: 158,
  get_attach_cookie: 174,
} as const;

/** BPF_PSEUDO_MAP_FD: an LD_IMM64 whose immediate is a map fd. */
const PSEUDO_MAP_FD = 1;

interface Insn {
  op: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** Jump target label (resolved into `off`). */
  target?: string;
  /** Second slot of LD_IMM64: the high 32 bits. */
  imm2?: number;
}

export class AsmError extends Error {}

export class Asm {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();
  private slots = 0;
  private uniq = 0;

  /** A fresh label name (for generated code). */
  newLabel(hint = 'L'): string {
    return `${hint}.${this.uniq++}`;
  }

  /** Places `name` at the next instruction. */
  label(name: string): this {
    if (this.labels.has(name)) throw new AsmError(`label ${name} defined twice`);
    this.labels.set(name, this.slots);
    return this;
  }

  private push(i: Insn): this {
    this.insns.push(i);
    this.slots += i.imm2 === undefined ? 1 : 2;
    return this;
  }

  /** Number of instruction slots so far (LD_IMM64 counts two). */
  get length(): number {
    return this.slots;
  }

  // --- ALU ------------------------------------------------------------------------------------

  alu64(op: AluOp, dst: Reg, imm: number): this {
    return this.push({ op: ALU[op] | IMM | CLS.ALU64, dst, src: 0, off: 0, imm: imm | 0 });
  }
  alu64r(op: AluOp, dst: Reg, src: Reg): this {
    return this.push({ op: ALU[op] | SRC_X | CLS.ALU64, dst, src, off: 0, imm: 0 });
  }
  alu32(op: AluOp, dst: Reg, imm: number): this {
    return this.push({ op: ALU[op] | IMM | CLS.ALU, dst, src: 0, off: 0, imm: imm | 0 });
  }
  alu32r(op: AluOp, dst: Reg, src: Reg): this {
    return this.push({ op: ALU[op] | SRC_X | CLS.ALU, dst, src, off: 0, imm: 0 });
  }
  mov(dst: Reg, imm: number): this {
    return this.alu64('mov', dst, imm);
  }
  movr(dst: Reg, src: Reg): this {
    return this.alu64r('mov', dst, src);
  }
  /** 32-bit move: zero-extends into the 64-bit register. */
  mov32r(dst: Reg, src: Reg): this {
    return this.alu32r('mov', dst, src);
  }

  // --- Memory ---------------------------------------------------------------------------------

  /** dst = *(size *)(src + off) */
  ldx(size: Size, dst: Reg, src: Reg, off: number): this {
    return this.push({ op: MEM | SIZE_BITS[size] | CLS.LDX, dst, src, off: checkOff(off), imm: 0 });
  }
  /** *(size *)(dst + off) = src */
  stx(size: Size, dst: Reg, off: number, src: Reg): this {
    return this.push({ op: MEM | SIZE_BITS[size] | CLS.STX, dst, src, off: checkOff(off), imm: 0 });
  }
  /** lock *(size *)(dst + off) += src (BPF_ATOMIC | BPF_ADD) */
  atomicAdd(size: 4 | 8, dst: Reg, off: number, src: Reg): this {
    return this.push({ op: 0xc0 | SIZE_BITS[size] | CLS.STX, dst, src, off: checkOff(off), imm: 0 });
  }
  /** *(size *)(dst + off) = imm */
  st(size: Size, dst: Reg, off: number, imm: number): this {
    return this.push({ op: MEM | SIZE_BITS[size] | CLS.ST, dst, src: 0, off: checkOff(off), imm: imm | 0 });
  }
  /** 64-bit constant (two slots). */
  ldImm64(dst: Reg, value: bigint): this {
    const v = BigInt.asUintN(64, value);
    return this.push({
      op: 0x18,
      dst,
      src: 0,
      off: 0,
      imm: Number(v & 0xffffffffn) | 0,
      imm2: Number(v >> 32n) | 0,
    });
  }
  /** dst = the map with this fd (LD_IMM64 with BPF_PSEUDO_MAP_FD). */
  ldMap(dst: Reg, mapFd: number): this {
    return this.push({ op: 0x18, dst, src: PSEUDO_MAP_FD, off: 0, imm: mapFd, imm2: 0 });
  }

  // --- Jumps ----------------------------------------------------------------------------------

  ja(target: string): this {
    return this.push({ op: 0x00 | CLS.JMP, dst: 0, src: 0, off: 0, imm: 0, target });
  }
  jmp(op: JmpOp, dst: Reg, imm: number, target: string): this {
    return this.push({ op: JMP[op] | IMM | CLS.JMP, dst, src: 0, off: 0, imm: imm | 0, target });
  }
  jmpr(op: JmpOp, dst: Reg, src: Reg, target: string): this {
    return this.push({ op: JMP[op] | SRC_X | CLS.JMP, dst, src, off: 0, imm: 0, target });
  }
  call(helper: number): this {
    return this.push({ op: 0x80 | CLS.JMP, dst: 0, src: 0, off: 0, imm: helper });
  }
  exit(): this {
    return this.push({ op: 0x90 | CLS.JMP, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** The program's bytes (8 per slot), jumps resolved. */
  assemble(): Buffer {
    const out = Buffer.alloc(this.slots * 8);
    let slot = 0;
    for (const i of this.insns) {
      let off = i.off;
      if (i.target !== undefined) {
        const at = this.labels.get(i.target);
        if (at === undefined) throw new AsmError(`undefined label ${i.target}`);
        off = at - (slot + 1);
        if (off < -32768 || off > 32767) throw new AsmError(`jump to ${i.target} out of range (${off})`);
      }
      const b = slot * 8;
      out[b] = i.op;
      out[b + 1] = (i.dst & 0xf) | ((i.src & 0xf) << 4);
      out.writeInt16LE(off, b + 2);
      out.writeInt32LE(i.imm, b + 4);
      slot++;
      if (i.imm2 !== undefined) {
        out.writeInt32LE(i.imm2, b + 12);
        slot++;
      }
    }
    return out;
  }
}

function checkOff(off: number): number {
  if (!Number.isInteger(off) || off < -32768 || off > 32767) throw new AsmError(`offset ${off} out of range`);
  return off;
}

/** One instruction per line, `idx: op dst src off imm`, for tests and error messages. */
export function disassemble(code: Uint8Array): string[] {
  const dv = new DataView(code.buffer, code.byteOffset, code.byteLength);
  const out: string[] = [];
  for (let i = 0; i < code.length / 8; i++) {
    const b = i * 8;
    out.push(
      `${i}: op=0x${code[b]!.toString(16).padStart(2, '0')} dst=r${code[b + 1]! & 0xf} src=r${code[b + 1]! >> 4} off=${dv.getInt16(b + 2, true)} imm=${dv.getInt32(b + 4, true)}`,
    );
  }
  return out;
}
