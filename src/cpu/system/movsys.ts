// MOV to and from segment, control and debug registers (called by the `mov` semantics for non-GPR operands), and
// the control-register writes shared with LMSW, CLTS and WRMSR(EFER): reserved-bit #GP checks, long-mode
// activation (EFER.LME + CR0.PG -> EFER.LMA), TLB flushes and mode updates.
import { OpKind, RegClass } from '../../decoder/types.ts';
import type { T32, T64 } from '../ir/builder.ts';
import { defineHelper } from '../ir/helpers.ts';
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import { PHYS_BITS } from '../mmu.ts';
import type { Translator } from '../frontend/translator.ts';
import type { Cpu } from '../cpu.ts';
import {
  CR0_CD, CR0_NW, CR0_PE, CR0_PG, CR0_WP, CR4_DE, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, CS, SS, mode64,
} from './desc.ts';
import { ATTR_L } from '../segattr.ts';
import { loadSegment } from './segload.ts';
import { CR4_SUPPORTED, EFER_SUPPORTED } from '../cpuid.ts';

/** CR0 bits that hold state; writes to the other bits of the low half are ignored (ET reads as 1). */
const CR0_BITS = 0xe005003f;
const CR0_ET = 0x10;

export function writeCr0(cpu: Cpu, v: bigint): void {
  if (v >> 32n) throw new GuestFault(Vec.GP, 0);
  const n = (Number(v) & CR0_BITS) | CR0_ET;
  if (n & CR0_PG && !(n & CR0_PE)) throw new GuestFault(Vec.GP, 0);
  if (n & CR0_NW && !(n & CR0_CD)) throw new GuestFault(Vec.GP, 0);
  const old = cpu.get32(L.CR0);
  let efer = cpu.get32(L.EFER);
  if (!(old & CR0_PG) && n & CR0_PG && efer & EFER_LME) {
    // activating long mode needs PAE and a code segment that is not already 64-bit
    if (!(cpu.get32(L.CR4) & CR4_PAE) || cpu.get32(L.segOff(CS) + L.SEG_ATTR) & ATTR_L) throw new GuestFault(Vec.GP, 0);
    efer |= EFER_LMA;
  }
  if (old & CR0_PG && !(n & CR0_PG) && efer & EFER_LMA) {
    if (mode64(cpu)) throw new GuestFault(Vec.GP, 0);
    efer &= ~EFER_LMA;
  }
  cpu.set64(L.CR0, BigInt(n >>> 0));
  cpu.set32(L.EFER, efer);
  if ((old ^ n) & (CR0_PG | CR0_WP | CR0_PE)) cpu.mmu.flushAll();
  cpu.updateMode();
}

export function writeCr3(cpu: Cpu, v: bigint): void {
  if (cpu.get32(L.EFER) & EFER_LMA) {
    if (v >> BigInt(PHYS_BITS)) throw new GuestFault(Vec.GP, 0);
  } else v &= 0xffffffffn;
  cpu.set64(L.CR3, v);
  cpu.mmu.flushNonGlobal();
}

export function writeCr4(cpu: Cpu, v: bigint): void {
  if (v & ~BigInt(CR4_SUPPORTED)) throw new GuestFault(Vec.GP, 0);
  const n = Number(v);
  if (cpu.get32(L.EFER) & EFER_LMA && !(n & CR4_PAE)) throw new GuestFault(Vec.GP, 0);
  const old = cpu.get32(L.CR4);
  cpu.set64(L.CR4, v);
  if (old !== n) cpu.mmu.flushAll();
}

export function writeEfer(cpu: Cpu, v: bigint): void {
  if (v & ~BigInt(EFER_SUPPORTED)) throw new GuestFault(Vec.GP, 0);
  const old = cpu.get32(L.EFER);
  let n = Number(v);
  // LME may change only with paging off; LMA is read-only
  if ((old ^ n) & EFER_LME && cpu.get32(L.CR0) & CR0_PG) throw new GuestFault(Vec.GP, 0);
  n = (n & ~EFER_LMA) | (old & EFER_LMA);
  cpu.set64(L.EFER, BigInt(n >>> 0));
  if ((old ^ n) & EFER_NXE) cpu.mmu.flushAll();
  cpu.updateMode();
}

export function writeCr(cpu: Cpu, n: number, v: bigint): void {
  switch (n) {
    case 0: return writeCr0(cpu, v);
    case 2: return cpu.set64(L.CR2, v);
    case 3: return writeCr3(cpu, v);
    case 4: return writeCr4(cpu, v);
    case 8:
      if (v >> 4n) throw new GuestFault(Vec.GP, 0);
      return cpu.set64(L.CR8, v);
  }
  throw new GuestFault(Vec.UD);
}

// ---------------------------------------------------------------------------------------------------------------
// Debug registers: stored and returned (DR6/DR7 with their fixed bits); breakpoints are not implemented. DR7.GD
// makes the next MOV DR raise #DB with DR6.BD.

const DR6 = L.DR + 32, DR7 = L.DR + 40;

function drSlot(cpu: Cpu, n: number): number {
  if (n === 4 || n === 5) {
    if (cpu.get32(L.CR4) & CR4_DE) throw new GuestFault(Vec.UD);
    n += 2;
  }
  if (n > 7) throw new GuestFault(Vec.UD);
  const dr7 = cpu.get32(DR7);
  if (dr7 & 0x2000) {
    cpu.set32(DR6, cpu.get32(DR6) | 0x2000);
    cpu.set32(DR7, dr7 & ~0x2000);
    throw new GuestFault(Vec.DB);
  }
  return n < 4 ? L.DR + 8 * n : n === 6 ? DR6 : DR7;
}

const H_READ_DR = defineHelper('read_dr', [32], 64, true, (h, n) => {
  const cpu = h as Cpu;
  return cpu.get64(drSlot(cpu, Number(n)));
});

const H_WRITE_DR = defineHelper('write_dr', [32, 64], 0, true, (h, n, v) => {
  const cpu = h as Cpu;
  const slot = drSlot(cpu, Number(n));
  let x = v as bigint;
  if (slot === DR6 || slot === DR7) {
    if (x >> 32n) throw new GuestFault(Vec.GP, 0);
    x = slot === DR6 ? (x & 0xe00fn) | 0xffff0ff0n : (x & 0xffff23ffn) | 0x400n;
  } else if (!(cpu.get32(L.EFER) & EFER_LMA)) x &= 0xffffffffn;
  cpu.set64(slot, x);
});

export const H_WRITE_CR = defineHelper('write_cr', [32, 64], 0, true, (h, n, v) => writeCr(h as Cpu, Number(n), v as bigint));

/** Loads segment register (arg & 7) with a selector; bit 8 of the first argument: MOV/POP SS's interrupt shadow. */
export const H_LOAD_SEG = defineHelper('load_seg', [32, 32], 0, true, (h, seg, sel) => {
  const cpu = h as Cpu;
  loadSegment(cpu, Number(seg) & 7, Number(sel));
  if (Number(seg) & 0x100) cpu.irqShadow = true; // MOV SS / POP SS hold off interrupts for one instruction
});

const CR_OFF: Record<number, number> = { 0: L.CR0, 2: L.CR2, 3: L.CR3, 4: L.CR4, 8: L.CR8 };

/** A 64-bit value of a GPR/memory source operand (zero-extended). */
function source64(t: Translator, n: number): T64 {
  const o = t.i.operands[n]!;
  const v = t.read(o);
  return o.size === 8 ? (v as T64) : t.zext64(v as T32);
}

export function movToSystemReg(t: Translator): void {
  const d = t.i.operands[0]!;
  const cls = d.reg >> 8;
  const idx = d.reg & 0xff;
  if (cls === RegClass.SEG) {
    if (idx === CS || idx > 5) return t.fault(Vec.UD);
    const s = t.i.operands[1]!;
    let v = t.read(s);
    if (s.size === 8) v = t.lo32(v as T64);
    t.call(H_LOAD_SEG, [t.const32(idx | (idx === SS ? 0x100 : 0)), t.zext16(v as T32)]);
    if (idx === SS) t.endBlock(); // the stack size may change; the interrupt shadow covers the next instruction
    return;
  }
  if (cls === RegClass.CR) {
    if (t.cpl !== 0) return t.fault(Vec.GP, 0);
    if (CR_OFF[idx] === undefined || (idx === 8 && t.codeBits !== 64)) return t.fault(Vec.UD);
    t.call(H_WRITE_CR, [t.const32(idx), source64(t, 1)]);
    t.endBlock();
    return;
  }
  if (cls === RegClass.DR) {
    if (t.cpl !== 0) return t.fault(Vec.GP, 0);
    t.call(H_WRITE_DR, [t.const32(idx), source64(t, 1)]);
    return;
  }
  t.fault(Vec.UD);
}

export function movFromSystemReg(t: Translator): void {
  const [d, s] = t.i.operands;
  const cls = s!.reg >> 8;
  const idx = s!.reg & 0xff;
  if (cls === RegClass.SEG) {
    if (idx > 5) return t.fault(Vec.UD);
    const v = t.ld32(L.segOff(idx) + L.SEG_SEL);
    if (d!.kind === OpKind.Mem) t.write(d!, v);
    else t.write(d!, d!.size === 8 ? t.zext64(v) : v);
    return;
  }
  let v: T64;
  if (cls === RegClass.CR) {
    if (t.cpl !== 0) return t.fault(Vec.GP, 0);
    const off = CR_OFF[idx];
    if (off === undefined || (idx === 8 && t.codeBits !== 64)) return t.fault(Vec.UD);
    v = t.ld64(off);
  } else if (cls === RegClass.DR) {
    if (t.cpl !== 0) return t.fault(Vec.GP, 0);
    v = t.call(H_READ_DR, [t.const32(idx)], 64) as T64;
  } else return t.fault(Vec.UD);
  t.write(d!, d!.size === 8 ? v : t.lo32(v));
}
