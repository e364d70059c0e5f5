// Model-specific registers (RDMSR/WRMSR) and the time-stamp counter. Unknown MSRs raise #GP(0), as do reserved
// bits and non-canonical addresses where the manuals say so. MTRRs and PAT are stored and returned (memory types
// have no effect on an emulated machine).
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import { FS, GS, isCanonical } from './desc.ts';
import { writeEfer } from './movsys.ts';
import { TSC_HZ } from '../cpuid.ts';
import { PHYS_BITS } from '../mmu.ts';
import type { Cpu } from '../cpu.ts';

export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_MTRRCAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_PAT = 0x277;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_EFER = 0xc0000080;
export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_SFMASK = 0xc0000084;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
export const MSR_KERNEL_GS_BASE = 0xc0000102;
export const MSR_TSC_AUX = 0xc0000103;

const MTRR_FIXED = new Set([0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f]);
const MTRR_VARIABLE_COUNT = 8;
/** MTRRcap: 8 variable ranges, fixed ranges, write-combining. */
const MTRRCAP = 0x500n | BigInt(MTRR_VARIABLE_COUNT);
/** Power-on values of the stored MSRs. */
const DEFAULTS = new Map<number, bigint>([
  [MSR_APIC_BASE, 0xfee00900n], // BSP, enabled, at the architectural base
  [MSR_PAT, 0x0007040600070406n],
  // AMD model-specific registers an AMD-family kernel reads without expecting a fault
  [0x8b, 0n], // PATCH_LEVEL: no microcode patch
  [0xc0010010, 0n], // SYSCFG: no MtrrFixDram/Tom2 features (Linux reads it with the fixed MTRRs)
  [0xc0010015, 0x1000000n], // HWCR: TscFreqSel (the TSC counts at the advertised rate)
  [0xc001001f, 0n], // NB_CFG
  [0xc0011020, 0n], // LS_CFG
  [0xc0011029, 0n], // DE_CFG
]);

const isVariableMtrr = (msr: number) => msr >= 0x200 && msr < 0x200 + 2 * MTRR_VARIABLE_COUNT;

// ---------------------------------------------------------------------------------------------------------------
// TSC: host monotonic time scaled to TSC_HZ, plus an offset that WRMSR(TSC) adjusts; strictly increasing.
//
// Kept in float64 integers, not BigInt: Linux reads the TSC ~1 M times during boot (RDTSC in sched_clock), and a
// BigInt per read cost ~0.3 us of the ~0.4 us each took. Exact below 2^53 ticks (104 days at TSC_HZ); a value a
// guest writes above that is kept to float64 precision.

/** Host monotonic time in TSC ticks (performance.now, in ms: Node and browsers alike). */
const TICKS_PER_MS = TSC_HZ / 1000;
const hostTicks = (): number => Math.floor(performance.now() * TICKS_PER_MS);
const state = new WeakMap<Cpu, { offset: number; last: number }>();

function tscState(cpu: Cpu) {
  let s = state.get(cpu);
  if (!s) state.set(cpu, (s = { offset: -hostTicks(), last: -1 }));
  return s;
}

/** The TSC as a number (exact while below 2^53). */
export function readTscNumber(cpu: Cpu): number {
  const s = tscState(cpu);
  let v = hostTicks() + s.offset;
  if (v <= s.last) v = s.last + 1;
  s.last = v;
  return v;
}

export function readTsc(cpu: Cpu): bigint {
  return BigInt.asUintN(64, BigInt(readTscNumber(cpu)));
}

export function writeTsc(cpu: Cpu, v: bigint): void {
  const s = tscState(cpu);
  const n = Number(BigInt.asUintN(64, v));
  s.offset = n - hostTicks();
  s.last = n - 1;
}

// ---------------------------------------------------------------------------------------------------------------

const SLOTS: Record<number, number> = {
  [MSR_SYSENTER_CS]: L.SYSENTER_CS, [MSR_SYSENTER_ESP]: L.SYSENTER_ESP, [MSR_SYSENTER_EIP]: L.SYSENTER_EIP,
  [MSR_STAR]: L.STAR, [MSR_LSTAR]: L.LSTAR, [MSR_CSTAR]: L.CSTAR, [MSR_SFMASK]: L.SFMASK,
  [MSR_KERNEL_GS_BASE]: L.KERNEL_GS_BASE, [MSR_TSC_AUX]: L.TSC_AUX,
  [MSR_FS_BASE]: L.segOff(FS) + L.SEG_BASE, [MSR_GS_BASE]: L.segOff(GS) + L.SEG_BASE, [MSR_EFER]: L.EFER,
};

const stored = (msr: number): boolean => MTRR_FIXED.has(msr) || isVariableMtrr(msr) || msr === MSR_MTRR_DEF_TYPE || DEFAULTS.has(msr);

export function readMsr(cpu: Cpu, msr: number): bigint {
  msr >>>= 0;
  if (msr === MSR_TSC) return readTsc(cpu);
  if (msr === MSR_MTRRCAP) return MTRRCAP;
  const slot = SLOTS[msr];
  if (slot !== undefined) return cpu.get64(slot);
  if (stored(msr)) return cpu.msrs.get(msr) ?? DEFAULTS.get(msr) ?? 0n;
  throw new GuestFault(Vec.GP, 0);
}

/** PAT entries must be valid memory types (0, 1, 4, 5, 6, 7). */
function validPat(v: bigint): boolean {
  for (let i = 0n; i < 64n; i += 8n) {
    const t = Number((v >> i) & 0xffn);
    if (t === 2 || t === 3 || t > 7) return false;
  }
  return true;
}

export function writeMsr(cpu: Cpu, msr: number, v: bigint): void {
  cpu.breakChain(); // (the APIC base, TSC: what the board's timers and interrupts see)
  msr >>>= 0;
  v = BigInt.asUintN(64, v);
  const gp = () => new GuestFault(Vec.GP, 0);
  switch (msr) {
    case MSR_TSC: return writeTsc(cpu, v);
    case MSR_MTRRCAP: throw gp();
    case MSR_EFER: return writeEfer(cpu, v);
    case MSR_LSTAR: case MSR_CSTAR: case MSR_FS_BASE: case MSR_GS_BASE: case MSR_KERNEL_GS_BASE:
    case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP:
      if (!isCanonical(v)) throw gp();
      break;
    case MSR_SFMASK: case MSR_TSC_AUX:
      if (v >> 32n) throw gp();
      break;
    case MSR_SYSENTER_CS:
      v &= 0xffffn;
      break;
    case MSR_PAT:
      if (!validPat(v)) throw gp();
      break;
    case MSR_APIC_BASE:
      // base below PHYS_BITS, BSP (bit 8) read-only, enable (11); x2APIC is not supported
      if (v & ~(((1n << BigInt(PHYS_BITS)) - 1n) & ~0x6ffn)) throw gp();
      v = (v & ~0x100n) | 0x100n;
      break;
  }
  const slot = SLOTS[msr];
  if (slot !== undefined) return cpu.set64(slot, v);
  if (stored(msr)) {
    cpu.msrs.set(msr, v);
    return;
  }
  throw gp();
}
