// mul/imul (one, two and three operands) and div/idiv.
//
// AMD Zen flags (checked against the hardware by test/cpu-int-muldiv.test.ts): mul/imul set CF=OF=overflow and
// leave SF ZF AF PF unchanged; div/idiv leave CF and OF unchanged and set SF=0 ZF=0 AF=1 PF=0.
// #DE (divisor 0, or a quotient that does not fit) is raised before anything is written. The 128/64-bit division
// runs in a helper with BigInt.
import { Cond, Op } from '../ir/ops.ts';
import type { T, T32, T64 } from '../ir/builder.ts';
import { defineHelper } from '../ir/helpers.ts';
import type { IrHost } from '../ir/interp.ts';
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import { AF, CF, OF, PF, SF, ZF } from './flags.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';
import { faultIf } from './sys-util.ts';

const RAX = 0, RDX = 2;

/** CF = OF = `ov` (0/1); the other status flags are unchanged. */
function mulFlags(t: Translator, ov: T32): void {
  t.setFlagsWord(t.bin32(Op.OR32, ov, t.bin32(Op.SHL32, ov, t.const32(11))), CF | OF);
}

const ne32 = (t: Translator, a: T32, b: T32) => t.setcc32(Cond.NE, a, b);
const ne64 = (t: Translator, a: T64, b: T64) => t.setcc64(Cond.NE, a, b);

/** One-operand mul/imul: rDX:rAX (AX for bytes) = rAX * src. */
function mulAcc(signed: boolean) {
  return (t: Translator) => {
    const src = t.i.operands[0]!;
    const size = src.size;
    const b = t.read(src);
    const a = t.reg(RAX, size);
    if (size === 1 || size === 2) {
      const ext = (v: T32) => (size === 1 ? (signed ? t.sext8(v) : v) : signed ? t.sext16(v) : v);
      const p = t.bin32(Op.MUL32, ext(a as T32), ext(b as T32)); // exact in 32 bits
      const hi = t.bin32(signed ? Op.SAR32 : Op.SHR32, p, t.const32(size * 8));
      let ov: T32;
      if (signed) ov = ne32(t, size === 1 ? t.sext8(p) : t.sext16(p), p);
      else ov = ne32(t, size === 1 ? t.zext8(hi) : t.zext16(hi), t.const32(0));
      if (size === 1) t.setReg(RAX, 2, p);
      else {
        t.setReg(RAX, 2, p);
        t.setReg(RDX, 2, hi);
      }
      mulFlags(t, ov);
    } else if (size === 4) {
      const p = t.t64();
      t.emit(signed ? Op.MULS32W : Op.MULU32W, p, a, b);
      const lo = t.lo32(p), hi = t.hi32(p);
      const ov = signed ? ne64(t, t.sext64(lo), p) : ne32(t, hi, t.const32(0));
      t.setReg(RAX, 4, lo);
      t.setReg(RDX, 4, hi);
      mulFlags(t, ov);
    } else {
      const lo = t.bin64(Op.MUL64, a as T64, b as T64);
      const hi = t.bin64(signed ? Op.MULHS64 : Op.MULHU64, a as T64, b as T64);
      const ov = signed ? ne64(t, hi, t.bin64(Op.SAR64, lo, t.const64(63))) : ne64(t, hi, t.const64(0));
      t.setReg(RAX, 8, lo);
      t.setReg(RDX, 8, hi);
      mulFlags(t, ov);
    }
  };
}

/** Two- and three-operand imul: dst = truncated signed product. */
function imulN(t: Translator): void {
  const ops = t.i.operands;
  const dst = ops[0]!;
  const size = dst.size;
  const a = t.read(ops.length === 3 ? ops[1]! : dst);
  const b = t.read(ops.length === 3 ? ops[2]! : ops[1]!);
  let r: T, ov: T32;
  if (size === 2) {
    const p = t.bin32(Op.MUL32, t.sext16(a as T32), t.sext16(b as T32));
    r = p;
    ov = ne32(t, t.sext16(p), p);
  } else if (size === 4) {
    const p = t.t64();
    t.emit(Op.MULS32W, p, a, b);
    r = t.lo32(p);
    ov = ne64(t, t.sext64(r as T32), p);
  } else {
    const lo = t.bin64(Op.MUL64, a as T64, b as T64);
    const hi = t.bin64(Op.MULHS64, a as T64, b as T64);
    r = lo;
    ov = ne64(t, hi, t.bin64(Op.SAR64, lo, t.const64(63)));
  }
  t.write(dst, r);
  mulFlags(t, ov);
}

sem('mul', mulAcc(false));
sem('imul', (t) => (t.i.operands.length === 1 ? mulAcc(true)(t) : imulN(t)));

// ---------------------------------------------------------------------------------------------------------------
// div / idiv

/** Raises #DE at run time when `c` is non-zero (the block goes on otherwise). */
const deIf = (t: Translator, c: T32): void => faultIf(t, c, Vec.DE);

function storeU64(h: IrHost, off: number, v: bigint): void {
  const w = (h.stateBase + off) >> 2;
  h.i32[w] = Number(BigInt.asIntN(32, v));
  h.i32[w + 1] = Number(BigInt.asIntN(32, v >> 32n));
}

/** 128/64-bit division of rdx:rax: quotient to SCRATCH, remainder to SCRATCH+8; #DE on 0 or overflow. */
function div128(signed: boolean) {
  return (h: IrHost, lo: number | bigint, hi: number | bigint, d: number | bigint): void => {
    let n = (BigInt.asUintN(64, BigInt(hi)) << 64n) | BigInt.asUintN(64, BigInt(lo));
    let m = BigInt.asUintN(64, BigInt(d));
    if (m === 0n) throw new GuestFault(Vec.DE);
    if (signed) {
      n = BigInt.asIntN(128, n);
      m = BigInt.asIntN(64, m);
    }
    const q = n / m;
    const r = n % m;
    if (signed ? q !== BigInt.asIntN(64, q) : q >> 64n !== 0n) throw new GuestFault(Vec.DE);
    storeU64(h, L.SCRATCH, q);
    storeU64(h, L.SCRATCH + 8, r);
  };
}
const H_DIVU128 = defineHelper('div128u', [64, 64, 64], 0, true, div128(false));
const H_DIVS128 = defineHelper('div128s', [64, 64, 64], 0, true, div128(true));

/** After a division: SF=0 ZF=0 AF=1 PF=0, CF and OF unchanged. */
function divFlags(t: Translator): void {
  t.setFlagsWord(t.const32(AF), SF | ZF | AF | PF);
}

function divide(signed: boolean) {
  return (t: Translator) => {
    const src = t.i.operands[0]!;
    const size = src.size;
    const b = t.read(src);
    const z = t.sized(size);
    if (size === 8) {
      // A dividend that fits in 64 bits (RDX its zero or sign extension) divides in 64-bit arithmetic, except
      // INT64_MIN / -1 (overflow: #DE); the rest takes the 128-bit helper (Linux's timekeeping divides a lot).
      const n = t.reg(RAX, 8) as T64;
      const hi = t.reg(RDX, 8) as T64;
      const m = b as T64;
      const wide = t.label();
      const done = t.label();
      deIf(t, z.isZero(m));
      if (signed) {
        t.brnz(ne64(t, hi, t.bin64(Op.SAR64, n, t.const64(63))), wide);
        const min = t.setcc64(Cond.EQ, n, t.const64(-(1n << 63n)));
        t.brnz(t.bin32(Op.AND32, min, t.setcc64(Cond.EQ, m, t.const64(-1))), wide);
      } else t.brnz(ne64(t, hi, t.const64(0)), wide);
      const q = t.bin64(signed ? Op.DIVS64 : Op.DIVU64, n, m);
      const r = t.bin64(signed ? Op.REMS64 : Op.REMU64, n, m);
      t.setReg(RAX, 8, q);
      t.setReg(RDX, 8, r);
      t.br(done);
      t.place(wide);
      t.call(signed ? H_DIVS128 : H_DIVU128, [n, hi, m]);
      t.setReg(RAX, 8, t.ld64(L.SCRATCH));
      t.setReg(RDX, 8, t.ld64(L.SCRATCH + 8));
      t.place(done);
      divFlags(t);
      return;
    }
    deIf(t, z.isZero(b));
    if (size === 4) {
      const n = t.pair64(t.reg(RAX, 4) as T32, t.reg(RDX, 4) as T32);
      const m = signed ? t.sext64(b as T32) : t.zext64(b as T32);
      const q = t.bin64(signed ? Op.DIVS64 : Op.DIVU64, n, m);
      const r = t.bin64(signed ? Op.REMS64 : Op.REMU64, n, m);
      const ql = t.lo32(q);
      deIf(t, signed ? ne64(t, t.sext64(ql), q) : ne32(t, t.hi32(q), t.const32(0)));
      t.setReg(RAX, 4, ql);
      t.setReg(RDX, 4, t.lo32(r));
    } else {
      // 16/8 and 32/16 fit in 32-bit arithmetic
      let n: T32, m: T32;
      if (size === 1) {
        const ax = t.reg(RAX, 2) as T32;
        n = signed ? t.sext16(ax) : ax;
        m = signed ? t.sext8(b as T32) : (b as T32);
      } else {
        n = t.bin32(Op.OR32, t.bin32(Op.SHL32, t.reg(RDX, 2) as T32, t.const32(16)), t.reg(RAX, 2) as T32);
        m = signed ? t.sext16(b as T32) : (b as T32);
      }
      const q = t.bin32(signed ? Op.DIVS32 : Op.DIVU32, n, m);
      const r = t.bin32(signed ? Op.REMS32 : Op.REMU32, n, m);
      const fits = signed ? (size === 1 ? t.sext8(q) : t.sext16(q)) : size === 1 ? t.zext8(q) : t.zext16(q);
      deIf(t, ne32(t, fits, q));
      if (size === 1) t.setReg(RAX, 2, t.bin32(Op.OR32, t.zext8(q), t.bin32(Op.SHL32, r, t.const32(8))));
      else {
        t.setReg(RAX, 2, q);
        t.setReg(RDX, 2, r);
      }
    }
    divFlags(t);
  };
}
sem('div', divide(false));
sem('idiv', divide(true));
