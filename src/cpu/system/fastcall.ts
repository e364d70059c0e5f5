// SYSCALL/SYSRET (AMD APM Vol. 3; legacy-mode SYSCALL as AMD implements it) and SYSENTER/SYSEXIT (legacy protected
// mode only: AMD raises #UD for them in long mode). The segments they load are flat and fixed, not read from the GDT.
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import { ATTR_DB, ATTR_G, ATTR_L, ATTR_P, ATTR_S } from '../segattr.ts';
import {
  CS, SS, EFER_LMA, EFER_SCE, EFLAGS_IF, EFLAGS_RF, EFLAGS_VM, cplOfCpu, getSeg, mode64, protectedMode, setSeg,
  type SegCache,
} from './desc.ts';
import type { Cpu } from '../cpu.ts';

const flatCode = (sel: number, dpl: number, long: boolean): SegCache => ({
  sel, base: 0n, limit: 0xffffffff, attr: 0xb | ATTR_S | (dpl << 5) | ATTR_P | (long ? ATTR_L : ATTR_DB) | ATTR_G,
});
const flatData = (sel: number, dpl: number): SegCache => ({
  sel, base: 0n, limit: 0xffffffff, attr: 0x3 | ATTR_S | (dpl << 5) | ATTR_P | ATTR_DB | ATTR_G,
});

function enter(cpu: Cpu, cs: SegCache, ss: SegCache, cpl: number, rip: bigint): bigint {
  setSeg(cpu, CS, cs);
  setSeg(cpu, SS, ss);
  cpu.set32(L.CPL, cpl);
  cpu.updateMode();
  cpu.rip = rip;
  return rip;
}

/** SYSCALL; `next` is the address after the instruction. Returns the new RIP. */
export function syscall(cpu: Cpu, next: bigint): bigint {
  const efer = cpu.get32(L.EFER);
  if (!(efer & EFER_SCE) || !protectedMode(cpu)) throw new GuestFault(Vec.UD);
  const star = cpu.get64(L.STAR);
  const sel = Number((star >> 32n) & 0xfffcn);
  const flags = cpu.flags();
  if (efer & EFER_LMA) {
    const target = mode64(cpu) ? cpu.get64(L.LSTAR) : cpu.get64(L.CSTAR);
    cpu.set64(L.gprOff(1), next);
    cpu.set64(L.gprOff(11), BigInt((flags & ~EFLAGS_RF) >>> 0));
    cpu.setFlagsWord(flags & ~Number(cpu.get64(L.SFMASK) & 0xffffffffn) & ~EFLAGS_RF);
    return enter(cpu, flatCode(sel, 0, true), flatData(sel + 8, 0), 0, target);
  }
  cpu.set64(L.gprOff(1), next & 0xffffffffn);
  cpu.setFlagsWord(flags & ~(EFLAGS_IF | EFLAGS_VM | EFLAGS_RF));
  return enter(cpu, flatCode(sel, 0, false), flatData(sel + 8, 0), 0, star & 0xffffffffn);
}

/** SYSRET with operand size `size` (8: return to 64-bit mode). */
export function sysret(cpu: Cpu, size: number): bigint {
  const efer = cpu.get32(L.EFER);
  if (!(efer & EFER_SCE)) throw new GuestFault(Vec.UD);
  if (!protectedMode(cpu) || cplOfCpu(cpu) !== 0) throw new GuestFault(Vec.GP, 0);
  const base = Number((cpu.get64(L.STAR) >> 48n) & 0xffffn);
  // SS: AMD loads only the selector and keeps the cached attributes; the DPL is made 3 here so the CPL stays
  // recoverable from SS.DPL (the state format's convention).
  const oldSs = getSeg(cpu, SS);
  const ss: SegCache = { ...oldSs, sel: ((base + 8) & 0xfffc) | 3, attr: (oldSs.attr & ~0x60) | (3 << 5) };
  if (efer & EFER_LMA) {
    const rcx = cpu.get64(L.gprOff(1));
    const r11 = Number(cpu.get64(L.gprOff(11)) & 0xffffffffn);
    cpu.setFlagsWord((r11 & ~(EFLAGS_RF | EFLAGS_VM)) | 2);
    if (size === 8) return enter(cpu, flatCode(((base + 16) & 0xfffc) | 3, 3, true), ss, 3, rcx);
    return enter(cpu, flatCode((base & 0xfffc) | 3, 3, false), ss, 3, rcx & 0xffffffffn);
  }
  cpu.setFlagsWord(cpu.flags() | EFLAGS_IF);
  return enter(cpu, flatCode((base & 0xfffc) | 3, 3, false), ss, 3, cpu.get64(L.gprOff(1)) & 0xffffffffn);
}

export function sysenter(cpu: Cpu): bigint {
  if (cpu.get32(L.EFER) & EFER_LMA) throw new GuestFault(Vec.UD);
  const cs = Number(cpu.get64(L.SYSENTER_CS) & 0xfffcn);
  if (!protectedMode(cpu) || cs === 0) throw new GuestFault(Vec.GP, 0);
  cpu.setFlagsWord(cpu.flags() & ~(EFLAGS_VM | EFLAGS_IF | EFLAGS_RF));
  cpu.set64(L.gprOff(4), cpu.get64(L.SYSENTER_ESP) & 0xffffffffn);
  return enter(cpu, flatCode(cs, 0, false), flatData(cs + 8, 0), 0, cpu.get64(L.SYSENTER_EIP) & 0xffffffffn);
}

export function sysexit(cpu: Cpu): bigint {
  if (cpu.get32(L.EFER) & EFER_LMA) throw new GuestFault(Vec.UD);
  const cs = Number(cpu.get64(L.SYSENTER_CS) & 0xfffcn);
  if (!protectedMode(cpu) || cpu.get32(L.EFLAGS) & EFLAGS_VM || cplOfCpu(cpu) !== 0 || cs === 0) throw new GuestFault(Vec.GP, 0);
  cpu.set64(L.gprOff(4), cpu.get64(L.gprOff(1)) & 0xffffffffn);
  return enter(cpu, flatCode((cs + 16) | 3, 3, false), flatData((cs + 24) | 3, 3), 3, cpu.get64(L.gprOff(2)) & 0xffffffffn);
}
