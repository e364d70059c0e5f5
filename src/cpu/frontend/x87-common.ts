// What every x87 front end shares: the CR0 checks and the pending-exception check (#MF) of waiting instructions,
// the last-instruction pointers (FIP/FCS/FOP, FDP/FDS), and moving memory operands through FTMP.
//
// #MF: a waiting x87 instruction finding FSW.ES set raises #MF before it does anything, when CR0.NE = 1. With
// CR0.NE = 0 the PC-compatible FERR#/IRQ13 path would apply; kemu has no FERR# line and ignores the pending
// exception then, as hardware does with IGNNE# asserted.
//
// FWAIT folded into the next x87 instruction by the decoder (9B D9 /7 is `fstcw`): the waiting checks (CR0.MP/TS,
// #MF) come first, then the instruction's own. A fault of the x87 part then reports the FWAIT's address (the
// hardware would report the x87 instruction's own), and FIP is the x87 instruction's address past the 9B bytes.
import { Op } from '../ir/ops.ts';
import type { T32, T64 } from '../ir/builder.ts';
import { OpKind, type Operand } from '../../decoder/types.ts';
import * as L from '../layout.ts';
import { Vec } from '../fault.ts';
import { CR0_NE } from '../system/desc.ts';
import { FCS, FDS } from '../fpu/regs.ts';
import { fpuGuard } from './fpu-guard.ts';
import type { Translator } from './translator.ts';

const CS = 1;

/** Bytes of FWAIT (and its prefixes) the decoder folded in front of this x87 instruction. */
export function waitBytes(t: Translator): number {
  const i = t.i;
  const mem = i.operands.find((o) => o.kind === OpKind.Mem);
  const mod = i.modrm >> 6;
  const sib = mod !== 3 && i.addrSize !== 2 && (i.modrm & 7) === 4 ? 1 : 0;
  const core = i.prefixCount + (i.rex ? 1 : 0) + 2 + sib + (mem ? mem.dispSize : 0);
  return i.length - core;
}

/** Raises #MF when an unmasked x87 exception is pending (FSW.ES) and CR0.NE is set. */
export function mfCheck(t: Translator): void {
  const l = t.label();
  t.brz(t.bin32(Op.AND32, t.ld16(L.FSW), t.const32(0x80)), l);
  t.brz(t.bin32(Op.AND32, t.ld32(L.CR0), t.const32(CR0_NE)), l);
  t.raise(Vec.MF);
  t.place(l);
}

/** The checks before an x87 instruction: #UD/#NM (CR0), then #MF for waiting ones (all but the fn* forms). */
export function x87Begin(t: Translator, waiting: boolean): void {
  if (waitBytes(t) > 0) {
    fpuGuard(t, 'wait');
    mfCheck(t);
  }
  fpuGuard(t, 'x87');
  if (waiting) mfCheck(t);
}

/** Records FIP/FCS/FOP and, for a memory operand, FDP/FDS (non-control instructions, after their checks). */
export function recordPointers(t: Translator, mem?: { o: Operand; ea: T64 }): void {
  const i = t.i;
  t.st16(L.FOP, t.const32(((i.opcode & 7) << 8) | (i.modrm & 0xff)));
  t.st64(L.FIP, t.constRip(t.off + waitBytes(t)));
  t.st16(FCS, t.ld32(L.segOff(CS) + L.SEG_SEL));
  if (mem) {
    t.st64(L.FDP, mem.ea);
    // in 64-bit mode the hardware records no data selector
    t.st16(FDS, t.codeBits === 64 ? t.const32(0) : t.ld32(L.segOff(mem.o.seg) + L.SEG_SEL));
  }
}

/** ea + k wrapped to the address size. */
export function eaPlus(t: Translator, ea: T64, k: number): T64 {
  const v = t.bin64(Op.ADD64, ea, t.const64(k));
  const as = t.i.addrSize;
  if (as === 8) return v;
  const lo = t.lo32(v);
  return t.zext64(as === 2 ? t.zext16(lo) : lo);
}

/** Loads a memory operand of 2, 4, 8 or 10 bytes into FTMP. */
export function stageLoad(t: Translator, o: Operand, ea: T64, size: number): void {
  if (size === 10) {
    const lo = t.load(8, o.seg, ea) as T64;
    const hi = t.load(2, o.seg, eaPlus(t, ea, 8)) as T32;
    t.st64(L.FTMP, lo);
    t.st16(L.FTMP + 8, hi);
  } else if (size === 8) t.st64(L.FTMP, t.load(8, o.seg, ea) as T64);
  else if (size === 4) t.st32(L.FTMP, t.load(4, o.seg, ea) as T32);
  else t.st16(L.FTMP, t.load(2, o.seg, ea) as T32);
}

/** Checks a store destination for writing (faulting as the store would) before any state changes. */
export function probeStore(t: Translator, o: Operand, ea: T64, size: number): void {
  if (size === 10) {
    t.load(8, o.seg, ea, true);
    t.load(2, o.seg, eaPlus(t, ea, 8), true);
  } else t.load(size, o.seg, ea, true);
}

/** Stores FTMP's first `size` bytes to memory when `doIt` is non-zero. */
export function storeStaged(t: Translator, o: Operand, ea: T64, size: number, doIt: T32): void {
  const skip = t.label();
  t.brz(doIt, skip);
  if (size === 10) {
    t.store(8, o.seg, ea, t.ld64(L.FTMP));
    t.store(2, o.seg, eaPlus(t, ea, 8), t.ld16(L.FTMP + 8));
  } else if (size === 8) t.store(8, o.seg, ea, t.ld64(L.FTMP));
  else if (size === 4) t.store(4, o.seg, ea, t.ld32(L.FTMP));
  else t.store(2, o.seg, ea, t.ld16(L.FTMP));
  t.place(skip);
}

/** ST(i) index of a register operand. */
export const stIndex = (o: Operand): number => o.reg & 7;
