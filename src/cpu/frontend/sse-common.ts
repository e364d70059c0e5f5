// Operand plumbing shared by the MMX/SSE front ends: register offsets in the state block, staging memory operands
// into the scratch vectors (VTMP/VTMP2) for helpers, 16-byte alignment checks, precise vector stores, the checks
// every MMX/SSE instruction makes first, and the x87 side effects of MMX instructions.
import { Cond, Op } from '../ir/ops.ts';
import type { T64 } from '../ir/builder.ts';
import { Attr, OpKind, RegClass, type Operand } from '../../decoder/types.ts';
import * as L from '../layout.ts';
import { Vec } from '../fault.ts';
import { fpuGuard } from './fpu-guard.ts';
import type { Translator } from './translator.ts';
import { faultIf } from './sys-util.ts';
import type { VecHelper } from '../simd/helper.ts';

export const isXmm = (o: Operand | undefined): boolean => o?.kind === OpKind.Reg && o.reg >> 8 === RegClass.XMM;
export const isMmx = (o: Operand | undefined): boolean => o?.kind === OpKind.Reg && o.reg >> 8 === RegClass.MMX;

/** State offset of an XMM or MMX register operand. */
export function vecOff(o: Operand): number {
  const i = o.reg & 0xff;
  if (o.reg >> 8 === RegClass.XMM) return L.xmmOff(i);
  if (o.reg >> 8 === RegClass.MMX) return L.fpRegOff(i);
  throw new Error(`operand is not a vector register`);
}

/** MXCSR.MM (AMD misaligned SSE mode): legacy SSE memory operands need no alignment, except the aligned moves. */
export const MXCSR_MM = 1 << 17;
const ALWAYS_ALIGNED = new Set(['movaps', 'movapd', 'movdqa', 'movntps', 'movntpd', 'movntdq', 'movntdqa']);

const FSW_ES = 0x80;
const CR0_NE = 0x20;

/**
 * The checks before anything else: #UD/#NM from CR0/CR4 (MMX-class when the instruction names MMX registers and
 * no XMM register, SSE-class otherwise), and #MF when an x87 exception is pending and an MMX register is named.
 */
export function simdGuard(t: Translator): 'mmx' | 'sse' {
  const ops = t.i.operands;
  const mmx = ops.some(isMmx);
  const kind = ops.some(isXmm) || !mmx ? 'sse' : 'mmx';
  fpuGuard(t, kind);
  if (mmx) mfCheck(t);
  return kind;
}

/** #MF if an unmasked x87 exception is pending (FSW.ES) and CR0.NE reports it that way. */
export function mfCheck(t: Translator): void {
  const es = t.setcc32(Cond.NE, t.bin32(Op.AND32, t.ld16(L.FSW), t.const32(FSW_ES)), t.const32(0));
  const ne = t.setcc32(Cond.NE, t.bin32(Op.AND32, t.ld32(L.CR0), t.const32(CR0_NE)), t.const32(0));
  faultIf(t, t.bin32(Op.AND32, es, ne), Vec.MF);
}

/** An MMX instruction ran: TOP = 0, every register valid (FSW.TOP and the abridged tags). */
export function mmxEnter(t: Translator): void {
  t.st8(L.FTW, t.const32(0xff));
  t.st16(L.FSW, t.bin32(Op.AND32, t.ld16(L.FSW), t.const32(~0x3800)));
}

/** An MMX register was written: its x87 exponent field becomes all ones. */
export function mmxWritten(t: Translator, o: Operand): void {
  if (isMmx(o)) t.st16(L.fpRegOff(o.reg & 0xff) + 8, t.const32(0xffff));
}

/** ea + k, wrapped to the address size. */
export function eaAdd(t: Translator, ea: T64, k: number): T64 {
  const a = t.bin64(Op.ADD64, ea, t.const64(k));
  if (t.i.addrSize === 8) return a;
  const lo = t.lo32(a);
  return t.zext64(t.i.addrSize === 4 ? lo : t.zext16(lo));
}

/** The linear address of a memory operand at `ea` (in 64-bit mode only FS/GS have a base). */
function linear(t: Translator, o: Operand, ea: T64): T64 {
  if (t.codeBits === 64 && o.seg < 4) return ea;
  return t.bin64(Op.ADD64, ea, t.ld64(L.segOff(o.seg) + L.SEG_BASE));
}

/**
 * The 16-byte alignment check of a legacy SSE memory operand: #GP(0) if the linear address is misaligned (for
 * all but the explicitly aligned moves, not when MXCSR.MM is set).
 */
export function alignCheck(t: Translator, o: Operand, ea: T64): void {
  let bad = t.bin32(Op.AND32, t.lo32(linear(t, o, ea)), t.const32(15));
  if (!ALWAYS_ALIGNED.has(t.i.mnemonic)) {
    const mm = t.bin32(Op.AND32, t.ld32(L.MXCSR), t.const32(MXCSR_MM));
    bad = t.select32(mm, t.const32(0), bad);
  }
  faultIf(t, bad, Vec.GP, 0);
}

/** Whether the memory operand needs the alignment check (the decoder's A16 attribute, 16-byte accesses). */
export const needsAlign = (t: Translator, o: Operand): boolean => (t.i.attrs & Attr.A16) !== 0 && o.size === 16;

/** Loads `size` bytes at seg:ea into the scratch vector at state offset `tmp` (the rest of it is left as is). */
export function loadTo(t: Translator, o: Operand, ea: T64, size: number, tmp: number): void {
  if (size === 16) {
    const lo = t.ldm(8, o.seg, ea);
    const hi = t.ldm(8, o.seg, eaAdd(t, ea, 8));
    t.st64(tmp, lo);
    t.st64(tmp + 8, hi);
  } else if (size === 8) t.st64(tmp, t.ldm(8, o.seg, ea));
  else if (size === 4) t.st32(tmp, t.ldm(4, o.seg, ea));
  else if (size === 2) t.st16(tmp, t.ldm(2, o.seg, ea));
  else if (size === 1) t.st8(tmp, t.ldm(1, o.seg, ea));
  else throw new Error(`vector load of ${size} bytes`);
}

/**
 * The state offset of a vector source operand: the register's, or `tmp` after loading the memory operand
 * (`size` bytes, default the operand's; alignment-checked when the decoder marks the form A16).
 */
export function srcOff(t: Translator, o: Operand, tmp: number = L.VTMP, size = o.size): number {
  if (o.kind === OpKind.Reg) return vecOff(o);
  if (o.kind !== OpKind.Mem) throw new Error('vector source is not a register or memory');
  const ea = t.ea(o);
  if (needsAlign(t, o)) alignCheck(t, o, ea);
  loadTo(t, o, ea, size, tmp);
  return tmp;
}

/**
 * Stores `size` bytes from state offset `from` to the memory operand. A 16-byte store is checked whole first
 * (both halves, as writes, when it may fault between them), so it faults without writing anything.
 */
export function storeFrom(t: Translator, o: Operand, from: number, size = o.size, ea: T64 = t.ea(o)): void {
  if (size === 16) {
    if (needsAlign(t, o)) alignCheck(t, o, ea);
    const ea8 = eaAdd(t, ea, 8);
    if (t.codeBits === 64) {
      // only a store crossing a page can fault after its first half
      const skip = t.label();
      const off = t.bin32(Op.AND32, t.lo32(linear(t, o, ea)), t.const32(0xfff));
      t.brz(t.setcc32(Cond.GTU, off, t.const32(0xff0)), skip);
      t.ldm(8, o.seg, ea, true);
      t.ldm(8, o.seg, ea8, true);
      t.place(skip);
    } else {
      t.ldm(8, o.seg, ea, true);
      t.ldm(8, o.seg, ea8, true);
    }
    t.stm(8, o.seg, ea, t.ld64(from));
    t.stm(8, o.seg, ea8, t.ld64(from + 8));
  } else if (size === 8) t.stm(8, o.seg, ea, t.ld64(from));
  else if (size === 4) t.stm(4, o.seg, ea, t.ld32(from));
  else if (size === 2) t.stm(2, o.seg, ea, t.ld16(from));
  else if (size === 1) t.stm(1, o.seg, ea, t.ld8(from));
  else throw new Error(`vector store of ${size} bytes`);
}

/** Copies `size` bytes (4, 8 or 16) between state offsets. */
export function copyState(t: Translator, to: number, from: number, size: number): void {
  if (size === 4) t.st32(to, t.ld32(from));
  else {
    t.st64(to, t.ld64(from));
    if (size === 16) t.st64(to + 8, t.ld64(from + 8));
  }
}

/** The imm8 of the instruction (its last operand), or 0. */
export function imm8(t: Translator): number {
  const o = t.i.operands[t.i.operands.length - 1];
  return o?.kind === OpKind.Imm ? o.imm & 0xff : 0;
}

/**
 * The common shape `op dst, src[, imm8]` with dst an MMX or XMM register: guard, source staged, the helper called
 * with (dst, src, imm), the MMX side effects. `imm` overrides the immediate argument (e.g. a register offset).
 */
export function vecBinary(h: VecHelper, imm?: number) {
  return (t: Translator): void => {
    const [d, s] = t.i.operands;
    const kind = simdGuard(t);
    const n = isMmx(d!) ? 8 : 16;
    let so: number;
    if (s!.kind === OpKind.Imm) {
      t.st64(L.VTMP, t.const64(s!.imm & 0xff));
      so = L.VTMP;
    } else so = srcOff(t, s!);
    t.call(h[n], [t.const32(vecOff(d!)), t.const32(so), t.const32(imm ?? imm8(t))]);
    if (kind === 'mmx') {
      mmxEnter(t);
      mmxWritten(t, d!);
    }
  };
}

/**
 * Bitwise pand/pandn/por/pxor (and the FP domain's andps... forms) lowered to 64-bit IR operations: the string
 * functions of the C library run them in their inner loops.
 */
export function vecLogic(op: 'and' | 'andn' | 'or' | 'xor') {
  return (t: Translator): void => {
    const [d, s] = t.i.operands;
    const kind = simdGuard(t);
    const n = isMmx(d!) ? 8 : 16;
    const so = srcOff(t, s!);
    const dOff = vecOff(d!);
    for (let k = 0; k < n; k += 8) {
      const a = t.ld64(dOff + k), b = t.ld64(so + k);
      let r: T64;
      if (op === 'and') r = t.bin64(Op.AND64, a, b);
      else if (op === 'andn') r = t.bin64(Op.AND64, t.un64(Op.NOT64, a), b);
      else if (op === 'or') r = t.bin64(Op.OR64, a, b);
      else r = d!.reg === s!.reg && s!.kind === OpKind.Reg ? t.const64(0) : t.bin64(Op.XOR64, a, b);
      t.st64(dOff + k, r);
    }
    if (kind === 'mmx') {
      mmxEnter(t);
      mmxWritten(t, d!);
    }
  };
}

