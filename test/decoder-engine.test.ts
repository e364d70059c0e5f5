// The decode engine's structured output (what the CPU consumes), checked field by field on known encodings.
import { describe, expect, it } from 'vitest';
import { decode } from '../src/decoder/decode.ts';
import { Attr, Invalid, OpKind, RegClass, type Mode } from '../src/decoder/types.ts';
import { RIP, regId } from '../src/decoder/regs.ts';

const d = (mode: Mode, ...bytes: number[]) => decode(new Uint8Array(bytes), 0, mode);
const gpr = (i: number) => regId(RegClass.GPR, i);

describe('decode engine', () => {
  it('RIP-relative memory operands', () => {
    const i = d(64, 0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00);
    expect(i.mnemonic).toBe('mov');
    expect(i.length).toBe(7);
    expect(i.opSize).toBe(8);
    const m = i.operands[1]!;
    expect(m.kind).toBe(OpKind.Mem);
    expect(m.base).toBe(RIP);
    expect(m.disp).toBe(0x10);
    expect(m.size).toBe(8);
    expect(m.seg).toBe(3);
  });

  it('SIB forms and default segments', () => {
    const sp = d(64, 0x8b, 0x44, 0x24, 0x08).operands[1]!;
    expect([sp.base, sp.index, sp.disp, sp.dispSize, sp.seg]).toEqual([gpr(4), -1, 8, 1, 2]);
    const r12 = d(64, 0x41, 0x8b, 0x04, 0x24).operands[1]!;
    expect([r12.base, r12.seg]).toEqual([gpr(12), 3]);
    const noBase = d(64, 0x42, 0x8b, 0x04, 0xa5, 0x00, 0x00, 0x00, 0x00).operands[1]!;
    expect([noBase.base, noBase.index, noBase.scale, noBase.dispSize]).toEqual([-1, gpr(12), 4, 4]);
    const fs = d(64, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00);
    expect(fs.operands[1]!.seg).toBe(4);
    expect(fs.operands[1]!.disp).toBe(0x28);
  });

  it('16-bit addressing', () => {
    const i = d(16, 0x8b, 0x46, 0x02);
    expect(i.opSize).toBe(2);
    expect(i.addrSize).toBe(2);
    const m = i.operands[1]!;
    expect([m.base, m.index, m.disp, m.seg]).toEqual([gpr(5), -1, 2, 2]);
    const bxsi = d(16, 0x8b, 0x00).operands[1]!;
    expect([bxsi.base, bxsi.index, bxsi.seg]).toEqual([gpr(3), gpr(6), 3]);
    const abs = d(16, 0x8b, 0x06, 0x34, 0x12).operands[1]!;
    expect([abs.base, abs.disp, abs.dispSize]).toEqual([-1, 0x1234, 2]);
    // 67 in 32-bit mode switches to 16-bit addressing; 66 to 16-bit operands.
    const i32 = d(32, 0x67, 0x66, 0x8b, 0x00);
    expect([i32.addrSize, i32.opSize, i32.length]).toEqual([2, 2, 4]);
  });

  it('byte registers: AH..BH without REX, SPL..DIL with it', () => {
    expect(d(64, 0x88, 0xe0).operands.map((o) => o.reg)).toEqual([gpr(0), gpr(16)]);
    expect(d(64, 0x40, 0x88, 0xe0).operands.map((o) => o.reg)).toEqual([gpr(0), gpr(4)]);
    expect(d(64, 0x45, 0x88, 0xe0).operands.map((o) => o.reg)).toEqual([gpr(8), gpr(12)]);
  });

  it('immediates: sizes, sign extension, imm64', () => {
    const a = d(64, 0x66, 0xb8, 0x34, 0x12);
    expect([a.operands[1]!.imm, a.operands[1]!.size, a.length]).toEqual([0x1234, 2, 4]);
    const b = d(64, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 0x88);
    expect(b.length).toBe(10);
    expect(b.operands[1]!.wide).toBe(0x8807060504030201n);
    const c = d(64, 0x48, 0x83, 0xc0, 0x80); // add rax, -128
    expect([c.operands[1]!.imm, c.operands[1]!.immSize, c.operands[1]!.size]).toEqual([-128, 1, 8]);
    const z = d(64, 0x48, 0x05, 0xff, 0xff, 0xff, 0xff); // add rax, imm32 sign-extended
    expect([z.operands[1]!.imm, z.operands[1]!.immSize, z.operands[1]!.size]).toEqual([-1, 4, 8]);
  });

  it('relative branches and their sizes', () => {
    const call = d(64, 0xe8, 0x10, 0x00, 0x00, 0x00);
    expect(call.operands[0]!.kind).toBe(OpKind.Rel);
    expect(call.operands[0]!.imm).toBe(0x10);
    expect(call.attrs & Attr.CALL).toBeTruthy();
    expect(call.opSize).toBe(8);
    const jb = d(32, 0xeb, 0xfe);
    expect([jb.operands[0]!.imm, jb.length]).toEqual([-2, 2]);
    // AMD64: 66 makes a near branch 16-bit, with a 16-bit displacement.
    const j16 = d(64, 0x66, 0x0f, 0x84, 0x00, 0x00);
    expect([j16.length, j16.opSize]).toEqual([5, 2]);
  });

  it('string instructions use DS:rSI (overridable) and ES:rDI', () => {
    const i = d(32, 0x2e, 0xf3, 0xa4);
    expect(i.mnemonic).toBe('movs');
    const [dst, src] = i.operands;
    expect([dst!.base, dst!.seg]).toEqual([gpr(7), 0]);
    expect([src!.base, src!.seg]).toEqual([gpr(6), 1]);
    expect(d(64, 0x64, 0xa4).operands[1]!.seg).toBe(4);
  });

  it('64-bit mode ignores ES/CS/SS/DS overrides, which do not cancel an earlier FS/GS', () => {
    expect(d(64, 0x2e, 0xa4).operands[1]!.seg).toBe(3);
    expect(d(64, 0x65, 0x3e, 0x20, 0x3f).operands[0]!.seg).toBe(5); // and gs:[rdi],bh
    expect(d(64, 0x3e, 0x8b, 0x45, 0x00).operands[1]!.seg).toBe(2); // [rbp] stays SS: faults are #SS
    expect(d(64, 0x2e, 0x36, 0x30, 0x59, 0x7d).operands[0]!.seg).toBe(3); // even SS: [rcx] faults #GP
    expect(d(64, 0x65, 0x2e, 0xd7).segOverride).toBe(5); // xlat with gs then cs: gs
    expect(d(32, 0x65, 0x3e, 0x20, 0x3f).operands[0]!.seg).toBe(3); // elsewhere the last prefix wins
  });

  it('the last of F3/F2 decides REPE vs REPNE', () => {
    expect(d(64, 0xf3, 0xf2, 0xae).repPrefix).toBe(0xf2);
    expect(d(64, 0xf2, 0xf3, 0xae).repPrefix).toBe(0xf3);
  });

  it('F3 REX.B 90 is xchg r8d,eax, as the hardware executes it', () => {
    expect(d(64, 0xf3, 0x41, 0x90).mnemonic).toBe('xchg');
    expect(d(64, 0xf3, 0x90).mnemonic).toBe('pause');
  });

  it('66/F2/F3 make the 0F AE save/restore and MXCSR forms #UD (as this machine\'s CPU does)', () => {
    for (const p of [0x66, 0xf2, 0xf3]) {
      for (const modrm of [0x06, 0x0e, 0x16, 0x1e]) expect(decode(Uint8Array.of(p, 0x0f, 0xae, modrm, 0, 0), 0, 64).invalid).toBe(Invalid.Undefined);
    }
    expect(decode(Uint8Array.of(0x0f, 0xae, 0x1e), 0, 64).mnemonic).toBe('stmxcsr');
    expect(decode(Uint8Array.of(0x66, 0x0f, 0xae, 0xf8), 0, 64).invalid).toBe(Invalid.Undefined); // 66 sfence
  });

  it('LOCK is #UD without a memory destination', () => {
    expect(d(64, 0xf0, 0x01, 0xc0).invalid).toBe(Invalid.BadLock);
    expect(d(64, 0xf0, 0x01, 0x00).invalid).toBe(Invalid.None);
    expect(d(64, 0xf0, 0x90).invalid).toBe(Invalid.BadLock);
  });

  it('64-bit-only and legacy-only encodings', () => {
    expect(d(64, 0x06).invalid).toBe(Invalid.Undefined); // push es
    expect(d(32, 0x06).mnemonic).toBe('push');
    expect(d(64, 0x63, 0xc1).mnemonic).toBe('movsxd');
    expect(d(32, 0x63, 0xc1).mnemonic).toBe('arpl');
  });

  it('REX is ignored unless it immediately precedes the opcode', () => {
    const i = d(64, 0x48, 0x66, 0x01, 0xc0); // rex.W then 66: the REX is dropped
    expect(i.opSize).toBe(2);
    expect(i.length).toBe(4);
  });

  it('flag effects come with the instruction', () => {
    const add = d(64, 0x01, 0xc0);
    expect(add.flagsWritten).toBe(0x8d5);
    const adc = d(64, 0x11, 0xc0);
    expect(adc.flagsRead & 1).toBe(1);
  });
});
