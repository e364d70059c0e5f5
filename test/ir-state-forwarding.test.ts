// What translation leaves out of the IR: a state word already in a temp is not loaded again (IrBuilder), and an
// instruction's lazy flags record only the operands its flag formulas read (flags.ts ccUses). Both make fewer ops
// for the interpreter to run and for the JIT to compile; the CPU tests check the results stay right.
import { describe, expect, it } from 'vitest';
import { IrBuilder, type Program } from '../src/cpu/ir/builder.ts';
import { OP_LEN, Op } from '../src/cpu/ir/ops.ts';
import { CC_DST, CC_OP, CC_SRC, CC_SRC2, RIP, gprOff } from '../src/cpu/layout.ts';
import { CC_USES_DST, CC_USES_SRC, CC_USES_SRC2, CcKind, ccUses } from '../src/cpu/frontend/flags.ts';
import { translateBlock, type BlockHost } from '../src/cpu/frontend/block.ts';
import { makeMode, ModeBits } from '../src/cpu/mode.ts';
import { defineHelper } from '../src/cpu/ir/helpers.ts';

const H_NOP = defineHelper('forwarding_test_nop', [], 0, false, () => 0);

/** The program's ops as [opcode, first operand, second operand]. */
function ops(p: Program): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let pc = 0; pc < p.code.length; pc += 1 + OP_LEN[p.code[pc]!]!) out.push([p.code[pc]!, p.code[pc + 1]!, p.code[pc + 2]!]);
  return out;
}
const loads = (p: Program, op: number, off: number) => ops(p).filter(([o, , a]) => o === op && a === off).length;

describe('IR: state words already in temps are not loaded again', () => {
  it('a load after a store or a load of the same word reuses its temp', () => {
    const b = new IrBuilder();
    const v = b.const64(5n);
    b.st64(0, v);
    expect(b.ld64(0)).toBe(v);
    const w = b.ld32(8);
    expect(b.ld32(8)).toBe(w);
    b.exitTo(0n);
    const p = b.finish();
    expect(loads(p, Op.LD64, 0)).toBe(0);
    expect(loads(p, Op.LD32, 8)).toBe(1);
  });

  it('reloads after what may change the word: an overlapping store, a label, a helper, INSN (RIP)', () => {
    const b = new IrBuilder();
    const v = b.const64(5n);
    b.st64(0, v);
    b.st8(1, b.const32(7)); // (a byte inside the word)
    const a = b.ld64(0);
    expect(a).not.toBe(v);
    b.st64(16, v);
    const l = b.label();
    b.brz(b.const32(0), l);
    b.place(l); // (paths merge: either may have stored something else)
    expect(b.ld64(16)).not.toBe(v);
    b.st64(24, v);
    b.call(H_NOP, []);
    expect(b.ld64(24)).not.toBe(v);
    b.st64(RIP, v);
    b.insn(0x1000n, 1);
    expect(b.ld64(RIP)).not.toBe(v);
    // another size of the same offset is another word
    b.st64(32, v);
    b.ld32(32);
    b.exitTo(0n);
    const p = b.finish();
    for (const off of [0, 16, 24, RIP]) expect(loads(p, Op.LD64, off), `ld64 [${off}]`).toBe(1);
    expect(loads(p, Op.LD32, 32)).toBe(1);
  });

  it('a block reads each register once: mov rax,[rdi+8]; add rax,rbx; mov [rsi],rax; cmp rax,5; je', () => {
    const bytes = [0x48, 0x8b, 0x47, 0x08, 0x48, 0x01, 0xd8, 0x48, 0x89, 0x06, 0x48, 0x83, 0xf8, 0x05, 0x74, 0x00];
    const u8 = new Uint8Array(8192).fill(0x90);
    u8.set(bytes, 0x1000);
    const host: BlockHost = { u8, ramSize: u8.length, fetchPhys: (lo) => 0x1000 + (lo & 0xfff), mmioRead: () => 0 };
    const mode = makeMode(64, 8, 0, ModeBits.PE | ModeBits.PG | ModeBits.LMA);
    const p = translateBlock(host, 0x401000n, 0x401000n, mode).prog;
    expect(loads(p, Op.LD64, gprOff(0))).toBe(0); // RAX: loaded from memory, then in temps
    for (const r of [3, 6, 7]) expect(loads(p, Op.LD64, gprOff(r)), `register ${r}`).toBe(1);
  });
});

describe('IR: lazy flags record what their formulas read', () => {
  it('the operands each kind reads, found from its formulas', () => {
    const D = CC_USES_DST, S = CC_USES_SRC, S2 = CC_USES_SRC2;
    expect(ccUses(CcKind.EFLAGS)).toBe(S);
    expect(ccUses(CcKind.ADD)).toBe(D | S);
    expect(ccUses(CcKind.SUB)).toBe(D | S);
    expect(ccUses(CcKind.ADC)).toBe(D | S | S2);
    expect(ccUses(CcKind.SBB)).toBe(D | S | S2);
    expect(ccUses(CcKind.LOGIC)).toBe(D);
    expect(ccUses(CcKind.INC)).toBe(D | S2);
    expect(ccUses(CcKind.DEC)).toBe(D | S2);
    expect(ccUses(CcKind.SHL)).toBe(D | S);
    expect(ccUses(CcKind.SHR)).toBe(D | S | S2);
    expect(ccUses(CcKind.SAR)).toBe(D | S);
    expect(ccUses(CcKind.MUL)).toBe(D | S);
    expect(ccUses(CcKind.CFSRC2)).toBe(D | S2);
  });

  it('add stores CC_OP, CC_DST, CC_SRC; and (logic) CC_OP and CC_DST; 32-bit operands as 32-bit words', () => {
    const stores = (bytes: number[]) => {
      const u8 = new Uint8Array(8192).fill(0x90);
      u8.set([...bytes, 0xcc], 0x1000);
      const host: BlockHost = { u8, ramSize: u8.length, fetchPhys: (lo) => 0x1000 + (lo & 0xfff), mmioRead: () => 0 };
      const mode = makeMode(64, 8, 0, ModeBits.PE | ModeBits.PG | ModeBits.LMA);
      const p = translateBlock(host, 0x401000n, 0x401000n, mode, 1).prog;
      const st = ops(p).filter(([o]) => o >= Op.ST8 && o <= Op.ST64);
      return [CC_OP, CC_DST, CC_SRC, CC_SRC2].map((off) => st.filter(([, o]) => o === off).map(([o]) => o)[0] ?? 0);
    };
    expect(stores([0x48, 0x01, 0xd8])).toEqual([Op.ST32, Op.ST64, Op.ST64, 0]); // add rax, rbx
    expect(stores([0x01, 0xd8])).toEqual([Op.ST32, Op.ST32, Op.ST32, 0]); // add eax, ebx
    expect(stores([0x48, 0x21, 0xd8])).toEqual([Op.ST32, Op.ST64, 0, 0]); // and rax, rbx
    expect(stores([0x48, 0x11, 0xd8])).toEqual([Op.ST32, Op.ST64, Op.ST64, Op.ST64]); // adc rax, rbx
    expect(stores([0xff, 0xc0])).toEqual([Op.ST32, Op.ST32, 0, Op.ST32]); // inc eax
  });
});
