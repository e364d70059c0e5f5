// Sign extensions of the accumulator (cbw/cwde/cdqe, cwd/cdq/cqo) and the BCD adjustments (daa das aaa aas aam
// aad; the decoder makes them #UD in 64-bit mode).
//
// AMD Zen results for the flags the manuals leave undefined (checked against the hardware in compatibility mode by
// test/cpu-int-misc.test.ts) are described at each instruction below.
import { Cond, Op } from '../ir/ops.ts';
import type { T32, T64 } from '../ir/builder.ts';
import { Vec } from '../fault.ts';
import { CcKind, STATUS } from './flags.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';
import { flagWord, resultFlags, type FlagBits } from './bits.ts';

const RAX = 0, RDX = 2;

sem('cbw', (t) => t.setReg(RAX, 2, t.sext8(t.reg(RAX, 1) as T32)));
sem('cwde', (t) => t.setReg(RAX, 4, t.sext16(t.reg(RAX, 2) as T32)));
sem('cdqe', (t) => t.setReg(RAX, 8, t.sext64(t.reg(RAX, 4) as T32)));
sem('cwd', (t) => t.setReg(RDX, 2, t.bin32(Op.SAR32, t.sext16(t.reg(RAX, 2) as T32), t.const32(15))));
sem('cdq', (t) => t.setReg(RDX, 4, t.bin32(Op.SAR32, t.reg(RAX, 4) as T32, t.const32(31))));
sem('cqo', (t) => t.setReg(RDX, 8, t.bin64(Op.SAR64, t.reg(RAX, 8) as T64, t.const64(63))));

// ---------------------------------------------------------------------------------------------------------------
// BCD

const and = (t: Translator, a: T32, b: number) => t.bin32(Op.AND32, a, t.const32(b));
const or = (t: Translator, a: T32, b: T32) => t.bin32(Op.OR32, a, b);
const bit = (t: Translator, v: T32, n: number) => and(t, t.bin32(Op.SHR32, v, t.const32(n)), 1);

/** The status flags as 0/1 values: CF and AF. */
function carryFlags(t: Translator): { cf: T32; af: T32 } {
  const st = t.status();
  return { cf: bit(t, st, 0), af: bit(t, st, 4) };
}

/** Records all six status flags. */
function setAll(t: Translator, f: FlagBits): void {
  t.setFlagsWord(flagWord(t, f), STATUS);
}

/** AL's low nibble above 9, or AF: the condition of the first adjustment step. */
function lowAdjust(t: Translator, al: T32, af: T32): T32 {
  return or(t, t.setcc32(Cond.GTU, and(t, al, 0xf), t.const32(9)), af);
}

// daa/das. AMD: OF is the signed overflow of the whole adjustment (AL_old + adj / AL_old - adj), SF ZF PF from AL.
function decimalAdjust(sub: boolean) {
  return (t: Translator) => {
    const al = t.reg(RAX, 1) as T32;
    const { cf, af } = carryFlags(t);
    const low = lowAdjust(t, al, af);
    const high = or(t, t.setcc32(Cond.GTU, al, t.const32(0x99)), cf);
    const adj = or(t, t.select32(low, t.const32(6), t.const32(0)), t.select32(high, t.const32(0x60), t.const32(0)));
    const r = t.bin32(sub ? Op.SUB32 : Op.ADD32, al, adj);
    // CF: the second step sets it; otherwise daa clears it and das keeps the borrow of the first step
    let ncf: T32 = high;
    if (sub) ncf = or(t, high, t.select32(low, or(t, cf, t.setcc32(Cond.LTU, al, t.const32(6))), t.const32(0)));
    const of = bit(t, sub ? t.bin32(Op.AND32, t.bin32(Op.XOR32, al, adj), t.bin32(Op.XOR32, al, r)) : t.bin32(Op.AND32, t.bin32(Op.XOR32, al, r), t.bin32(Op.XOR32, adj, r)), 7);
    t.setReg(RAX, 1, r);
    setAll(t, { ...resultFlags(t, 1, r), cf: ncf, af: low, of });
  };
}
sem('daa', decimalAdjust(false));
sem('das', decimalAdjust(true));

// aaa/aas: AX +/- 0x106 when adjusting, then AL keeps its low nibble. AMD: CF = AF = the adjustment; SF ZF PF OF
// are those of the 16-bit AX +/- 0x106 (or +/- 0) before the masking.
function asciiAdjust(sub: boolean) {
  return (t: Translator) => {
    const ax = t.reg(RAX, 2) as T32;
    const al = and(t, ax, 0xff);
    const { af } = carryFlags(t);
    const adj = lowAdjust(t, al, af);
    const delta = t.select32(adj, t.const32(0x106), t.const32(0));
    const nax = t.bin32(sub ? Op.SUB32 : Op.ADD32, ax, delta);
    const sgn = sub ? t.bin32(Op.AND32, t.bin32(Op.XOR32, ax, delta), t.bin32(Op.XOR32, ax, nax)) : t.bin32(Op.AND32, t.bin32(Op.XOR32, ax, nax), t.bin32(Op.XOR32, delta, nax));
    t.setReg(RAX, 2, and(t, nax, 0xff0f));
    setAll(t, { ...resultFlags(t, 2, nax), cf: adj, af: adj, of: bit(t, sgn, 15) });
  };
}
sem('aaa', asciiAdjust(false));
sem('aas', asciiAdjust(true));

// aam: AH = AL / base, AL = AL % base (#DE for base 0). AMD: SF ZF PF from AL, CF AF OF cleared.
sem('aam', (t) => {
  const base = t.i.operands[0]!.imm & 0xff;
  if (base === 0) return t.fault(Vec.DE);
  const al = t.reg(RAX, 1) as T32;
  const b = t.const32(base);
  const q = t.bin32(Op.DIVU32, al, b);
  const r = t.bin32(Op.REMU32, al, b);
  t.setReg(RAX, 2, or(t, t.bin32(Op.SHL32, q, t.const32(8)), r));
  setAll(t, resultFlags(t, 1, r));
});

// aad: AL = AL + AH * base, AH = 0. AMD: the flags of that 8-bit addition.
sem('aad', (t) => {
  const base = t.i.operands[0]!.imm & 0xff;
  const al = t.reg(RAX, 1) as T32;
  const ah = t.reg(16, 1) as T32; // AH
  const m = and(t, t.bin32(Op.MUL32, ah, t.const32(base)), 0xff);
  const r = and(t, t.bin32(Op.ADD32, al, m), 0xff);
  t.setReg(RAX, 2, r);
  t.setFlags(CcKind.ADD, 1, r, m);
});
