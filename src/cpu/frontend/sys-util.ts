// Small IR idioms shared by the instruction semantics (first those of the system instructions, sys-*.ts).
import { Cond, Op } from '../ir/ops.ts';
import type { T32, T64 } from '../ir/builder.ts';
import { ModeBits } from '../mode.ts';
import * as L from '../layout.ts';
import type { Translator } from './translator.ts';

/** Raises `vec` (with `code`, -1 = none) unless `ok` is non-zero; execution continues after it otherwise. */
export function faultUnless(t: Translator, ok: T32, vec: number, code = -1): void {
  const l = t.label();
  t.brnz(ok, l);
  t.raise(vec, code);
  t.place(l);
}

/** Raises `vec` (with `code`, -1 = none) if `bad` is non-zero; execution continues after it otherwise. */
export function faultIf(t: Translator, bad: T32, vec: number, code = -1): void {
  const l = t.label();
  t.brz(bad, l);
  t.raise(vec, code);
  t.place(l);
}

export const inV86 = (t: Translator): boolean => (t.mode & ModeBits.VM86) !== 0;
export const inProtected = (t: Translator): boolean => (t.mode & ModeBits.PE) !== 0;

/** Instructions that need CPL 0: #GP(0) otherwise (virtual-8086 mode runs at CPL 3). Returns false if it faulted. */
export function requireCpl0(t: Translator): boolean {
  if (t.cpl === 0) return true;
  t.fault(13, 0);
  return false;
}

/** Instructions not recognised in real-address and virtual-8086 mode (#UD). Returns false if it faulted. */
export function requireProtected(t: Translator): boolean {
  if (inProtected(t) && !inV86(t)) return true;
  t.fault(6);
  return false;
}

/** An effective address plus `n`, wrapped to the instruction's address size. */
export function eaPlus(t: Translator, ea: T64, n: number): T64 {
  const a = t.bin64(Op.ADD64, ea, t.const64(n));
  const as = t.i.addrSize;
  if (as === 8) return a;
  const lo = t.lo32(a);
  return t.zext64(as === 2 ? t.zext16(lo) : lo);
}

/** IOPL (0-3) from the EFLAGS word. */
export function iopl(t: Translator): T32 {
  return t.bin32(Op.AND32, t.bin32(Op.SHR32, t.ld32(L.EFLAGS), t.const32(12)), t.const32(3));
}

/** 1 if the current CPL may use IOPL-sensitive instructions (CPL <= IOPL). */
export function cplWithinIopl(t: Translator): T32 {
  return t.setcc32(Cond.LEU, t.const32(t.cpl), iopl(t));
}
