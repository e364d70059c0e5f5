// The task-state segment as a source of inner-privilege stacks (interrupts and call gates). Hardware task
// switching (task gates, far transfers to a TSS, IRET with NT=1) is not implemented: those raise #GP.
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import { ATTR_UNUSABLE } from '../segattr.ts';
import { TR, cacheFromDesc, descDpl, descIsData, descPresent, descRW, fetchDesc, getSeg, isNullSel, selErr, setAccessed, sysRead, sysRead64, type SegCache } from './desc.ts';
import type { Cpu } from '../cpu.ts';

/** SS:ESP for privilege level `dpl` from a 16- or 32-bit TSS. Faults #TS(TSS selector + EXT). */
export function legacyTssStack(cpu: Cpu, dpl: number, ext: number): { ss: number; sp: number } {
  const tr = getSeg(cpu, TR);
  const type = tr.attr & 0xf;
  const err = selErr(tr.sel, ext);
  if (tr.attr & ATTR_UNUSABLE) throw new GuestFault(Vec.TS, err);
  if (type === 9 || type === 11) {
    const off = 4 + 8 * dpl;
    if (off + 5 > tr.limit) throw new GuestFault(Vec.TS, err);
    return { sp: sysRead(cpu, tr.base + BigInt(off), 4), ss: sysRead(cpu, tr.base + BigInt(off + 4), 2) };
  }
  if (type === 1 || type === 3) {
    const off = 2 + 4 * dpl;
    if (off + 3 > tr.limit) throw new GuestFault(Vec.TS, err);
    return { sp: sysRead(cpu, tr.base + BigInt(off), 2), ss: sysRead(cpu, tr.base + BigInt(off + 2), 2) };
  }
  throw new GuestFault(Vec.TS, err);
}

/** A 64-bit field of the long-mode TSS (RSPn at 4 + 8n, ISTn at 36 + 8(n-1)). Faults #TS(TSS selector + EXT). */
export function tss64Field(cpu: Cpu, off: number, ext: number): bigint {
  const tr = getSeg(cpu, TR);
  const type = tr.attr & 0xf;
  if (tr.attr & ATTR_UNUSABLE || (type !== 9 && type !== 11) || off + 7 > tr.limit) throw new GuestFault(Vec.TS, selErr(tr.sel, ext));
  return sysRead64(cpu, tr.base + BigInt(off));
}

/**
 * Checks the stack segment a privilege change loads (from the TSS, or popped by RET/IRET uses its own checks):
 * #TS(selector + EXT) for a bad selector or descriptor, #SS(selector + EXT) when not present. Returns its cache.
 */
export function checkTssStackSegment(cpu: Cpu, sel: number, cpl: number, ext: number): SegCache {
  if (isNullSel(sel)) throw new GuestFault(Vec.TS, ext);
  const d = fetchDesc(cpu, sel, Vec.TS, ext);
  if ((sel & 3) !== cpl || descDpl(d.hi) !== cpl || !descIsData(d.hi) || !descRW(d.hi)) throw new GuestFault(Vec.TS, selErr(sel, ext));
  if (!descPresent(d.hi)) throw new GuestFault(Vec.SS, selErr(sel, ext));
  setAccessed(cpu, d);
  return cacheFromDesc(d);
}

export const trBase = (cpu: Cpu): bigint => cpu.get64(L.segOff(TR) + L.SEG_BASE);
