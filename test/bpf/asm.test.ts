import { describe, expect, it } from 'vitest';
import { Asm, AsmError, HELPER, R0, R1, R2, R6, R10, disassemble } from '../../src/bpf/asm.js';

/** Bytes of one instruction, as the kernel's instruction-set document lays them out. */
function insn(op: number, dst: number, src: number, off: number, imm: number): number[] {
  const b = Buffer.alloc(8);
  b[0] = op;
  b[1] = dst | (src << 4);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return [...b];
}

describe('bpf assembler', () => {
  it('encodes the common instructions', () => {
    const a = new Asm()
      .mov(R0, 7) // 0xb7
      .movr(R6, R1) // 0xbf
      .alu64('add', R2, -8) // 0x07
      .alu64r('add', R2, R10) // 0x0f
      .alu64('and', R2, 0x3f) // 0x57
      .ldx(4, R0, R1, 16) // 0x61
      .ldx(8, R0, R1, -24) // 0x79
      .stx(4, R10, -4, R0) // 0x63
      .stx(8, R10, -8, R0) // 0x7b
      .st(1, R10, -9, 255) // 0x72
      .call(HELPER.ringbuf_reserve)
      .exit();
    expect([...a.assemble()]).toEqual([
      ...insn(0xb7, 0, 0, 0, 7),
      ...insn(0xbf, 6, 1, 0, 0),
      ...insn(0x07, 2, 0, 0, -8),
      ...insn(0x0f, 2, 10, 0, 0),
      ...insn(0x57, 2, 0, 0, 0x3f),
      ...insn(0x61, 0, 1, 16, 0),
      ...insn(0x79, 0, 1, -24, 0),
      ...insn(0x63, 10, 0, -4, 0),
      ...insn(0x7b, 10, 0, -8, 0),
      ...insn(0x72, 10, 0, -9, 255),
      ...insn(0x85, 0, 0, 0, 131),
      ...insn(0x95, 0, 0, 0, 0),
    ]);
  });

  it('LD_IMM64 takes two slots; map references carry the fd with src 1', () => {
    const a = new Asm().ldImm64(R1, 0x1122334455667788n).ldMap(R2, 42).exit();
    expect(a.length).toBe(5);
    const b = [...a.assemble()];
    expect(b.slice(0, 16)).toEqual([...insn(0x18, 1, 0, 0, 0x55667788), ...insn(0, 0, 0, 0, 0x11223344)]);
    expect(b.slice(16, 32)).toEqual([...insn(0x18, 2, 1, 0, 42), ...insn(0, 0, 0, 0, 0)]);
    // Negative constants are two's complement.
    const n = new Asm().ldImm64(R0, -1n).assemble();
    expect(n.readInt32LE(4)).toBe(-1);
    expect(n.readInt32LE(12)).toBe(-1);
  });

  it('resolves labels forwards and backwards, counting LD_IMM64 as two slots', () => {
    const a = new Asm();
    a.label('top')
      .jmp('jeq', R0, 0, 'out')
      .ldImm64(R1, 1n)
      .jmpr('jne', R0, R1, 'top')
      .ja('out')
      .label('out')
      .exit();
    const lines = disassemble(a.assemble());
    // slot 0: jeq to slot 5 -> off 4; slot 3: jne back to 0 -> off -4; slot 4: ja to 5 -> off 0.
    expect(lines[0]).toContain('op=0x15');
    expect(lines[0]).toContain('off=4');
    expect(lines[3]).toContain('op=0x5d');
    expect(lines[3]).toContain('off=-4');
    expect(lines[4]).toContain('op=0x05');
    expect(lines[4]).toContain('off=0');
  });

  it('rejects undefined or duplicate labels and out-of-range offsets', () => {
    expect(() => new Asm().ja('nowhere').assemble()).toThrow(AsmError);
    expect(() => new Asm().label('a').label('a')).toThrow(/twice/);
    expect(() => new Asm().ldx(8, R0, R1, 40000)).toThrow(/out of range/);
  });
});
