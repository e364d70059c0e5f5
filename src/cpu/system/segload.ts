// Segment register loads (MOV/POP Sreg, LDS/LES/LFS/LGS/LSS) with the protected-mode checks of the SDM/APM, and the
// data-segment cleanup after a return to an outer privilege level.
import { GuestFault, Vec } from '../fault.ts';
import {
  DS, ES, FS, GS, SS, cacheFromDesc, cplOfCpu, descConforming, descDpl, descIsCode, descIsData, descPresent,
  descRW, fetchDesc, getSeg, isNullSel, mode64, nullSeg, nullStackSeg, protectedMode, realSeg, selErr, setAccessed,
  setSeg, v86, attrIsCode, attrConforming,
} from './desc.ts';
import type { Cpu } from '../cpu.ts';

/**
 * Loads segment register `seg` (ES, SS, DS, FS, GS) with `sel` as MOV/POP/LxS do. Checks everything before changing
 * state. Loading SS updates the mode (stack size) and the caller must end the translation block.
 */
export function loadSegment(cpu: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!protectedMode(cpu) || v86(cpu)) {
    setSeg(cpu, seg, realSeg(sel, getSeg(cpu, seg), v86(cpu)));
    if (seg === SS) cpu.updateMode();
    return;
  }
  const cpl = cplOfCpu(cpu);
  const rpl = sel & 3;
  if (seg === SS) {
    if (isNullSel(sel)) {
      // 64-bit mode allows a null SS below CPL 3 when RPL = CPL (AMD APM Vol. 2 §4.12; SDM MOV).
      if (mode64(cpu) && cpl !== 3 && rpl === cpl) {
        setSeg(cpu, SS, { ...nullStackSeg(cpl), sel });
        cpu.updateMode();
        return;
      }
      throw new GuestFault(Vec.GP, 0);
    }
    const d = fetchDesc(cpu, sel);
    if (rpl !== cpl || !descIsData(d.hi) || !descRW(d.hi) || descDpl(d.hi) !== cpl) throw new GuestFault(Vec.GP, selErr(sel, 0));
    if (!descPresent(d.hi)) throw new GuestFault(Vec.SS, selErr(sel, 0));
    setAccessed(cpu, d);
    setSeg(cpu, SS, cacheFromDesc(d));
    cpu.updateMode();
    return;
  }
  if (isNullSel(sel)) {
    setSeg(cpu, seg, nullSeg(sel, getSeg(cpu, seg)));
    return;
  }
  const d = fetchDesc(cpu, sel);
  const dpl = descDpl(d.hi);
  if (!(descIsData(d.hi) || (descIsCode(d.hi) && descRW(d.hi)))) throw new GuestFault(Vec.GP, selErr(sel, 0));
  if ((descIsData(d.hi) || !descConforming(d.hi)) && (rpl > dpl || cpl > dpl)) throw new GuestFault(Vec.GP, selErr(sel, 0));
  if (!descPresent(d.hi)) throw new GuestFault(Vec.NP, selErr(sel, 0));
  setAccessed(cpu, d);
  setSeg(cpu, seg, cacheFromDesc(d));
}

/**
 * After a far return or IRET to an outer level: data segments the new CPL may not use become null
 * (SDM RET/IRET "FOR each of segment register ES, FS, GS, and DS").
 */
export function invalidateOuterSegments(cpu: Cpu, cpl: number): void {
  for (const seg of [ES, DS, FS, GS]) {
    const s = getSeg(cpu, seg);
    if (s.attr & (1 << 16)) continue;
    const dpl = (s.attr >> 5) & 3;
    const dataOrNc = !attrIsCode(s.attr) || !attrConforming(s.attr);
    if (dataOrNc && dpl < cpl) setSeg(cpu, seg, nullSeg(0, s));
  }
}
