// Lazy condition codes. An instruction that sets the status flags records what it did (CC_OP) and its operands
// (CC_DST/CC_SRC/CC_SRC2); the flags are computed only when something reads them. The formulas below are the one
// definition of how each flag follows from each operation: the translator emits them inline when the producing
// operation is known at translation time, and the `cc_flags` helper runs the same formulas (as IR, through the
// interpreter) when it is not.
import { A, Cond, OPS, OP_LEN, Op } from '../ir/ops.ts';
import { IrBuilder, type T, type T32, type T64 } from '../ir/builder.ts';
import * as L from '../layout.ts';

export enum CcKind {
  EFLAGS = 0, // CC_SRC holds the status flags themselves
  ADD, ADC, SUB, SBB, LOGIC, INC, DEC, SHL, SHR, SAR, MUL,
  /** BMI1 blsi/blsmsk/blsr, tzcnt/lzcnt style: CF from CC_SRC2 (0/1), ZF/SF from the result, OF=0. */
  CFSRC2,
}
export const CC_KINDS = 13;

/** CC_OP value: kind and operand size (1, 2, 4, 8 bytes). */
export const ccOp = (kind: CcKind, size: number): number => kind * 4 + (size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3);
export const ccKind = (op: number): CcKind => op >> 2;
export const ccSize = (op: number): number => 1 << (op & 3);

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
export const STATUS = CF | PF | AF | ZF | SF | OF;

/** The operands of a flag-setting operation, as temps of the operation's width (T64 for size 8, else T32). */
export interface CcValues {
  kind: CcKind;
  size: number;
  /** Result. */
  dst: T;
  /** Second operand (ADD/SUB family), shifted value (shifts), overflow indicator (MUL), flags (EFLAGS). */
  src: T;
  /** Carry-in (ADC/SBB), old CF (INC/DEC), original operand (SHR), CF (CFSRC2). */
  src2: T;
  /** Not recorded in the state block's CC_* fields (flags materialised by the helper for this block only). */
  local?: true;
  /**
   * SUB: the first operand, when the producer is in this block (not in the state block: conditions compare it
   * with src directly instead of adding src back to the result).
   */
  src1?: T;
}

/**
 * Where paths of a block merge (superblocks): the flags come from one of several known operations, each recorded
 * in the state block (CC_OP tells which); flag formulas select on CC_OP.
 */
export interface CcUnion {
  ops: number[];
}

/** Sized operations on T32 (size <= 4) or T64 temps. */
export class Sized {
  constructor(readonly b: IrBuilder, readonly size: number) {}
  get wide(): boolean {
    return this.size === 8;
  }
  c(v: number | bigint): T {
    if (this.wide) return this.b.const64(v);
    return this.b.const32(typeof v === 'number' && Number.isSafeInteger(v) ? v : Number(BigInt.asIntN(32, BigInt(v))));
  }
  op(op32: number, op64: number, a: T, b: T): T {
    return this.wide ? this.b.bin64(op64, a as T64, b as T64) : this.b.bin32(op32, a as T32, b as T32);
  }
  add(a: T, b: T): T { return this.op(Op.ADD32, Op.ADD64, a, b); }
  sub(a: T, b: T): T { return this.op(Op.SUB32, Op.SUB64, a, b); }
  and(a: T, b: T): T { return this.op(Op.AND32, Op.AND64, a, b); }
  or(a: T, b: T): T { return this.op(Op.OR32, Op.OR64, a, b); }
  xor(a: T, b: T): T { return this.op(Op.XOR32, Op.XOR64, a, b); }
  /** Zero-extends the low `size` bytes (no-op for 4 and 8). */
  mask(a: T): T {
    if (this.size === 1) return this.b.zext8(a as T32);
    if (this.size === 2) return this.b.zext16(a as T32);
    return a;
  }
  /** Sign-extends the low `size` bytes to the temp's width. */
  sext(a: T): T {
    if (this.size === 1) return this.b.sext8(a as T32);
    if (this.size === 2) return this.b.sext16(a as T32);
    return a;
  }
  setcc(c: Cond, a: T, b: T): T32 {
    return this.wide ? this.b.setcc64(c, a as T64, b as T64) : this.b.setcc32(c, a as T32, b as T32);
  }
  /** 1 if the value's sign bit (bit 8*size-1) is set. */
  msb(a: T): T32 {
    const b = this.b;
    if (this.wide) return b.lo32(b.bin64(Op.SHR64, a as T64, b.const64(63)));
    return b.bin32(Op.AND32, b.bin32(Op.SHR32, a as T32, b.const32(this.size * 8 - 1)), b.const32(1));
  }
  /** 1 if the low `size` bytes are zero. */
  isZero(a: T): T32 {
    return this.setcc(Cond.EQ, this.mask(a), this.c(0));
  }
  /** Low 32 bits of a sized value. */
  low32(a: T): T32 {
    return this.wide ? this.b.lo32(a as T64) : (a as T32);
  }
}

const bit = (b: IrBuilder, v: T32, n: number): T32 => b.bin32(Op.AND32, b.bin32(Op.SHR32, v, b.const32(n)), b.const32(1));

/** CF as 0/1. */
export function cfOf(b: IrBuilder, v: CcValues): T32 {
  const s = new Sized(b, v.size);
  switch (v.kind) {
    case CcKind.EFLAGS: return bit(b, s.low32(v.src), 0);
    case CcKind.ADD: return s.setcc(Cond.LTU, s.mask(v.dst), s.mask(v.src));
    case CcKind.ADC: {
      const lt = s.setcc(Cond.LTU, s.mask(v.dst), s.mask(v.src));
      const le = s.setcc(Cond.LEU, s.mask(v.dst), s.mask(v.src));
      return b.select32(s.low32(v.src2), le, lt);
    }
    case CcKind.SUB: {
      const src1 = s.mask(v.src1 ?? s.add(v.dst, v.src));
      return s.setcc(Cond.LTU, src1, s.mask(v.src));
    }
    case CcKind.SBB: {
      const src1 = s.mask(s.add(s.add(v.dst, v.src), v.src2));
      const lt = s.setcc(Cond.LTU, src1, s.mask(v.src));
      const le = s.setcc(Cond.LEU, src1, s.mask(v.src));
      return b.select32(s.low32(v.src2), le, lt);
    }
    case CcKind.LOGIC: return b.const32(0);
    case CcKind.INC: case CcKind.DEC: case CcKind.CFSRC2: return s.low32(v.src2);
    case CcKind.SHL: return s.msb(v.src);
    case CcKind.SHR: case CcKind.SAR: return b.bin32(Op.AND32, s.low32(v.src), b.const32(1));
    case CcKind.MUL: return b.not01(s.isZero(v.src));
  }
}

/** OF as 0/1. */
export function ofOf(b: IrBuilder, v: CcValues): T32 {
  const s = new Sized(b, v.size);
  switch (v.kind) {
    case CcKind.EFLAGS: return bit(b, s.low32(v.src), 11);
    case CcKind.ADD: case CcKind.ADC: {
      const src1 = s.sub(s.sub(v.dst, v.src), v.kind === CcKind.ADC ? v.src2 : s.c(0));
      return s.msb(s.and(s.xor(src1, v.dst), s.xor(v.src, v.dst)));
    }
    case CcKind.SUB: case CcKind.SBB: {
      const src1 = v.src1 ?? s.add(s.add(v.dst, v.src), v.kind === CcKind.SBB ? v.src2 : s.c(0));
      return s.msb(s.and(s.xor(src1, v.src), s.xor(src1, v.dst)));
    }
    case CcKind.LOGIC: case CcKind.SAR: case CcKind.CFSRC2: return b.const32(0);
    case CcKind.INC: return s.setcc(Cond.EQ, s.mask(v.dst), s.mask(s.c(1n << BigInt(v.size * 8 - 1))));
    case CcKind.DEC: return s.setcc(Cond.EQ, s.mask(v.dst), s.mask(s.c((1n << BigInt(v.size * 8 - 1)) - 1n)));
    case CcKind.SHL: return b.bin32(Op.XOR32, s.msb(v.dst), s.msb(v.src));
    case CcKind.SHR: return s.msb(v.src2);
    case CcKind.MUL: return b.not01(s.isZero(v.src));
  }
}

export function zfOf(b: IrBuilder, v: CcValues): T32 {
  if (v.kind === CcKind.EFLAGS) return bit(b, new Sized(b, v.size).low32(v.src), 6);
  return new Sized(b, v.size).isZero(v.dst);
}

export function sfOf(b: IrBuilder, v: CcValues): T32 {
  if (v.kind === CcKind.EFLAGS) return bit(b, new Sized(b, v.size).low32(v.src), 7);
  return new Sized(b, v.size).msb(v.dst);
}

/** PF: 1 when the low byte of the result has an even number of set bits. */
export function pfOf(b: IrBuilder, v: CcValues): T32 {
  const s = new Sized(b, v.size);
  if (v.kind === CcKind.EFLAGS) return bit(b, s.low32(v.src), 2);
  const low = b.zext8(s.low32(v.dst));
  return b.bin32(Op.XOR32, b.bin32(Op.AND32, b.un32(Op.POPCNT32, low), b.const32(1)), b.const32(1));
}

/** AF: carry/borrow out of bit 3. */
export function afOf(b: IrBuilder, v: CcValues): T32 {
  const s = new Sized(b, v.size);
  switch (v.kind) {
    case CcKind.EFLAGS: return bit(b, s.low32(v.src), 4);
    case CcKind.ADD: case CcKind.ADC: {
      const src1 = s.sub(s.sub(v.dst, v.src), v.kind === CcKind.ADC ? v.src2 : s.c(0));
      return bit(b, s.low32(s.xor(s.xor(src1, v.src), v.dst)), 4);
    }
    case CcKind.SUB: case CcKind.SBB: {
      const src1 = v.src1 ?? s.add(s.add(v.dst, v.src), v.kind === CcKind.SBB ? v.src2 : s.c(0));
      return bit(b, s.low32(s.xor(s.xor(src1, v.src), v.dst)), 4);
    }
    case CcKind.INC: return b.setcc32(Cond.EQ, b.bin32(Op.AND32, s.low32(v.dst), b.const32(0xf)), b.const32(0));
    case CcKind.DEC: return b.setcc32(Cond.EQ, b.bin32(Op.AND32, s.low32(v.dst), b.const32(0xf)), b.const32(0xf));
    // undefined in the manuals; AMD Zen sets AF after every shift with a non-zero count (checked natively)
    case CcKind.SHL: case CcKind.SHR: case CcKind.SAR: return b.const32(1);
    default: return b.const32(0);
  }
}

/** All six status flags as an EFLAGS-positioned word. */
export function statusFlags(b: IrBuilder, v: CcValues): T32 {
  if (v.kind === CcKind.EFLAGS) return b.bin32(Op.AND32, new Sized(b, v.size).low32(v.src), b.const32(STATUS));
  const parts: [T32, number][] = [[cfOf(b, v), 0], [pfOf(b, v), 2], [afOf(b, v), 4], [zfOf(b, v), 6], [sfOf(b, v), 7], [ofOf(b, v), 11]];
  let acc = parts[0]![0];
  for (let i = 1; i < parts.length; i++) acc = b.bin32(Op.OR32, acc, b.bin32(Op.SHL32, parts[i]![0], b.const32(parts[i]![1])));
  return acc;
}

/** Which lazy-flag operands a kind's formulas read: bits of CC_USES_*. */
export const CC_USES_DST = 1, CC_USES_SRC = 2, CC_USES_SRC2 = 4;
const ccUsesTable: number[] = [];

/**
 * The operands (dst, src, src2) the flag formulas of `kind` read, found by building them (statusFlags and the
 * conditions use the same formulas) into a scratch program and looking at what its ops read. Only those are
 * recorded in the state block: an ADD's src2 or a logic operation's src is never stored.
 */
export function ccUses(kind: CcKind): number {
  let u = ccUsesTable[kind];
  if (u !== undefined) return u;
  u = 0;
  for (const size of [1, 2, 4, 8]) {
    const b = new IrBuilder();
    const t = () => (size === 8 ? b.t64() : b.t32());
    const v: CcValues = { kind, size, dst: t(), src: t(), src2: t() };
    statusFlags(b, v);
    const c = b.finish().code;
    for (let pc = 0; pc < c.length; pc += 1 + OP_LEN[c[pc]!]!) {
      const args = OPS[c[pc]!]!.args;
      args.forEach((k, i) => {
        const isSource = k === A.S32 || k === A.S64 || (c[pc] === Op.CALL && i >= 2);
        if (!isSource) return;
        const w = c[pc + 1 + i]!;
        if (w === v.dst) u! |= CC_USES_DST;
        if (w === v.src) u! |= CC_USES_SRC;
        if (w === v.src2) u! |= CC_USES_SRC2;
      });
    }
  }
  ccUsesTable[kind] = u;
  return u;
}

/**
 * Loads the lazy-flag operands of a known CC_OP from the state block: those its formulas read (the others hold
 * whatever an earlier operation left; they stand in with a loaded one, which the formulas never look at).
 */
export function ccFromState(b: IrBuilder, op: number): CcValues {
  const size = ccSize(op);
  const u = ccUses(ccKind(op));
  const ld = (off: number): T => (size === 8 ? b.ld64(off) : b.ld32(off));
  const src = u & CC_USES_SRC ? ld(L.CC_SRC) : undefined;
  const dst = u & CC_USES_DST ? ld(L.CC_DST) : undefined;
  const src2 = u & CC_USES_SRC2 ? ld(L.CC_SRC2) : undefined;
  const any = (src ?? dst ?? src2)!;
  return { kind: ccKind(op), size, dst: dst ?? any, src: src ?? any, src2: src2 ?? any };
}

/**
 * Stores lazy-flag operands to the state block: CC_OP and the operands the kind's formulas read. Below 64 bits
 * only the low halves are written (readers of a 32-bit CC_OP load 32 bits).
 */
export function ccToState(b: IrBuilder, v: CcValues): void {
  b.st32(L.CC_OP, b.const32(ccOp(v.kind, v.size)));
  const u = ccUses(v.kind);
  const st = (off: number, t: T) => (v.size === 8 ? b.st64(off, t as T64) : b.st32(off, t as T32));
  if (u & CC_USES_DST) st(L.CC_DST, v.dst);
  if (u & CC_USES_SRC) st(L.CC_SRC, v.src);
  if (u & CC_USES_SRC2) st(L.CC_SRC2, v.src2);
}
