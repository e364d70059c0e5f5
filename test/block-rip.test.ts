// Block translation's address arithmetic (frontend/block.ts, Translator): instruction addresses, branch targets
// and RIP-relative addresses at the edges — wrap-around at 2^64, 2^32 and 2^16 by code size, 16-bit operand
// sizes cutting branch targets, 32-bit address sizes cutting RIP-relative addresses, forward branches of a
// superblock — read back from the IR: INSN and EXITI operands and MOVI64 constants.
import { describe, expect, it } from 'vitest';
import { translateBlock, type BlockHost } from '../src/cpu/frontend/block.ts';
import { makeMode, ModeBits } from '../src/cpu/mode.ts';
import { OP_LEN, Op } from '../src/cpu/ir/ops.ts';

const M64 = makeMode(64, 8, 0, ModeBits.PE | ModeBits.PG | ModeBits.LMA);
const M32 = makeMode(32, 4, 0, ModeBits.PE);
const M16 = makeMode(16, 2, 0, 0);

/** Code at linear `lin` (any address: the host maps every page to one 8 KiB buffer by the low 13 bits). */
function host(lin: bigint, bytes: number[]): BlockHost {
  const u8 = new Uint8Array(8192).fill(0x90);
  const at = Number(lin & 0x1fffn);
  bytes.forEach((b, i) => (u8[(at + i) & 0x1fff] = b));
  return { u8, ramSize: u8.length, fetchPhys: (lo) => lo & 0x1fff, mmioRead: () => 0 };
}

const u64 = (lo: number, hi: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** Translates and lists the block's instruction addresses, exits and 64-bit constants. */
function translate(mode: number, rip: bigint, bytes: number[], lin = rip, maxInsns?: number) {
  const t = translateBlock(host(lin, bytes), lin, rip, mode, maxInsns);
  const code = t.prog.code;
  const insns: bigint[] = [], exits: bigint[] = [], consts: bigint[] = [];
  for (let pc = 0; pc < code.length; pc += 1 + OP_LEN[code[pc]!]!) {
    const op = code[pc]!;
    if (op === Op.INSN) insns.push(u64(code[pc + 1]!, code[pc + 2]!));
    else if (op === Op.EXITI) exits.push(u64(code[pc + 1]!, code[pc + 2]!));
    else if (op === Op.MOVI64) consts.push(u64(code[pc + 2]!, code[pc + 3]!));
  }
  return { insns, exits, consts, n: t.insns };
}

const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

describe('block translation: addresses', () => {
  it('64-bit: branch targets wrap at 2^64 both ways', () => {
    const top = 0xfffffffffffffff0n;
    expect(translate(M64, top, [0xe9, ...le32(0x20)]).exits).toEqual([0x15n]); // jmp rel32 past the top
    expect(translate(M64, 0x10n, [0xe9, ...le32(-0x40)]).exits).toEqual([0xffffffffffffffd5n]); // below 0
    const k = 0xffffffff81000ff0n;
    expect(translate(M64, k, [0xe9, ...le32(-0x1000)]).exits).toEqual([k + 5n - 0x1000n]);
    expect(translate(M64, k, [0x74, 0x7f]).exits).toEqual([k + 2n + 0x7fn, k + 2n]); // je: taken, not taken
  });

  it('64-bit: a 16-bit operand size cuts the target to 16 bits', () => {
    expect(translate(M64, 0x12345000n, [0x66, 0xeb, 0x10]).exits).toEqual([0x5013n]);
    expect(translate(M64, 0xffffffff81234ff0n, [0x66, 0xeb, 0x10]).exits).toEqual([0x5003n]);
    expect(translate(M64, 0xffffffff8123fff0n, [0x66, 0x0f, 0x84, 0x20, 0x00]).exits).toEqual([0x0015n, 0xffffffff8123fff5n]);
    // a call pushes the 16-bit return address and jumps to the cut target
    expect(translate(M64, 0xffffffff8123fff0n, [0x66, 0xe8, 0x20, 0x00]).exits).toEqual([0x0014n]);
  });

  it('64-bit: RIP-relative addresses from the next RIP, cut by a 32-bit address size', () => {
    const rip = 0xfffffff0n; // mov rax, [rip + 0x20]
    expect(translate(M64, rip, [0x48, 0x8b, 0x05, ...le32(0x20)], rip, 1).consts).toContain(rip + 7n + 0x20n);
    expect(translate(M64, rip, [0x67, 0x48, 0x8b, 0x05, ...le32(0x20)], rip, 1).consts).toContain(0x18n);
    const top = 0xfffffffffffffff0n; // wraps at 2^64
    expect(translate(M64, top, [0x48, 0x8b, 0x05, ...le32(0x20)], top, 1).consts).toContain(0x17n);
    const k = 0xffffffff81000000n;
    expect(translate(M64, k, [0x48, 0x8b, 0x05, ...le32(-0x100)], k, 1).consts).toContain(k + 7n - 0x100n);
  });

  it('64-bit: call pushes the next RIP', () => {
    const k = 0xffffffff81000ffbn;
    const r = translate(M64, k, [0xe8, ...le32(0x100)]);
    expect(r.consts).toContain(k + 5n);
    expect(r.exits).toEqual([k + 5n + 0x100n]);
  });

  it('32-bit: EIP arithmetic wraps at 2^32', () => {
    expect(translate(M32, 0xfffffff0n, [0xe9, ...le32(0x20)]).exits).toEqual([0x15n]);
    expect(translate(M32, 0x10n, [0xe9, ...le32(-0x40)]).exits).toEqual([0xffffffd5n]);
    expect(translate(M32, 0x12345ff0n, [0x66, 0x0f, 0x84, 0x20, 0x00]).exits).toEqual([0x6015n, 0x12345ff5n]); // cut to 16 bits
  });

  it('16-bit: IP arithmetic wraps at 2^16; a branch target too, but not with a 32-bit operand size', () => {
    expect(translate(M16, 0xfff0n, [0xe9, 0x20, 0x00], 0x20000n + 0xfff0n).exits).toEqual([0x13n]);
    expect(translate(M16, 0x10n, [0x74, 0x80], 0x20010n).exits).toEqual([0xff92n, 0x12n]);
    // 66: EIP = next IP + rel32 mod 2^32 (SDM Jcc/JMP/CALL: EIP = tempEIP with a 32-bit operand size), beyond
    // 0xFFFF here: the lookup of the block there raises #GP(0) if that is beyond the CS limit (test/cpu-sys-real)
    expect(translate(M16, 0xfff0n, [0x66, 0x0f, 0x84, ...le32(0x10020)], 0x20000n + 0xfff0n).exits).toEqual([0x20017n, 0xfff7n]);
    expect(translate(M16, 0x10n, [0x66, 0xe9, ...le32(-0x20)], 0x20010n).exits).toEqual([0xfffffff6n]);
    expect(translate(M16, 0x10n, [0x66, 0xe8, ...le32(0x20)], 0x20010n).exits).toEqual([0x36n]);
  });

  it('16-bit: the block ends where IP wraps, and the next instruction is at IP 0', () => {
    // three one-byte instructions, the last one at 0xffff; CS.base 0x10010 (not page-aligned)
    const r = translate(M16, 0xfffdn, [0x40, 0x40, 0x40, 0x41, 0x41], 0x10010n + 0xfffdn);
    expect(r.insns).toEqual([0xfffdn, 0xfffen, 0xffffn]);
    expect(r.exits).toEqual([0n]);
  });

  it('a forward branch within reach joins the fall-through path (superblock), also when its target wraps', () => {
    // je +0x10 over nops, then ud2: the paths join at the target, the block ends at the ud2
    const k = 0xffffffff81000100n;
    const r = translate(M64, k, [0x74, 0x10, ...Array(0x10).fill(0x90), 0x0f, 0x0b]);
    expect(r.n).toBe(2 + 0x10);
    expect(r.exits).toEqual([]);
    // 16-bit code, a 16-bit and a 32-bit operand size
    for (const jcc of [[0x0f, 0x84, 0x10, 0x00], [0x66, 0x0f, 0x84, ...le32(0x10)]]) {
      const r16 = translate(M16, 0x100n, [...jcc, ...Array(0x10).fill(0x90), 0x0f, 0x0b], 0x20100n);
      expect(r16.n).toBe(2 + 0x10);
      expect(r16.exits).toEqual([]);
    }
    // a 32-bit displacement that would wrap to 0x10 ahead at 16 bits: EIP is not cut with a 32-bit operand size
    const far = translate(M16, 0x100n, [0x66, 0x0f, 0x84, ...le32(0x10010), ...Array(0x10).fill(0x90), 0x0f, 0x0b], 0x20100n);
    expect(far.exits).toEqual([0x10117n, 0x107n]);
    // a target past the page end is an exit
    const p = 0xffffffff81000ff0n;
    expect(translate(M64, p, [0x74, 0x20]).exits).toEqual([p + 0x22n, p + 2n]);
  });
});
