// The x87 register file in the CPU state block (layout.ts): control/status/tag words, TOP, the physical registers
// R0-R7 as 80-bit values, the last-instruction pointers. Everything here works on an IrHost (the Cpu), so helpers,
// the FXSAVE image functions and the reset path share it.
import type { IrHost } from '../ir/interp.ts';
import * as L from '../layout.ts';
import { MXCSR_MASK_VALUE } from '../simd/mxcsr.ts';
import { u64 } from '../words.ts';

export { MXCSR_MASK_VALUE };

/**
 * The selectors of the last x87 instruction and its memory operand (FCS, FDS): not in layout.ts's FXSAVE-shaped
 * fields (the live FIP/FDP are 64-bit), so they live in the image's reserved bytes after XMM15.
 */
export const FCS = L.FPU + 416;
export const FDS = L.FPU + 418;

// FSW bits
export const IE = 0x1, DE = 0x2, ZE = 0x4, OE = 0x8, UE = 0x10, PE = 0x20, SF = 0x40, ES = 0x80;
export const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, B = 0x8000;
export const CC = C0 | C1 | C2 | C3;
export const TOP_MASK = 0x3800;
/** The six exception flags (also the FCW mask bits). */
export const EXC = 0x3f;

/** The default NaN ("real indefinite"): negative, quiet, zero payload. */
export const INDEF_SE = 0xffff;
export const INDEF_M = 0xc000000000000000n;

export const rd16 = (h: IrHost, off: number): number => h.u16[(h.stateBase + off) >> 1]!;
export const wr16 = (h: IrHost, off: number, v: number): void => {
  h.u16[(h.stateBase + off) >> 1] = v;
};
export const rd32 = (h: IrHost, off: number): number => h.i32[(h.stateBase + off) >> 2]!;
export const wr32 = (h: IrHost, off: number, v: number): void => {
  h.i32[(h.stateBase + off) >> 2] = v;
};
export function rd64(h: IrHost, off: number): bigint {
  const w = (h.stateBase + off) >> 2;
  return u64(h.i32[w]!, h.i32[w + 1]!);
}
export function wr64(h: IrHost, off: number, v: bigint): void {
  const w = (h.stateBase + off) >> 2;
  h.i32[w] = Number(BigInt.asIntN(32, v));
  h.i32[w + 1] = Number(BigInt.asIntN(32, v >> 32n));
}

export const fcw = (h: IrHost): number => rd16(h, L.FCW);
export const fsw = (h: IrHost): number => rd16(h, L.FSW);
export const setFsw = (h: IrHost, v: number): void => wr16(h, L.FSW, v);
export const top = (h: IrHost): number => (rd16(h, L.FSW) >> 11) & 7;
export function setTop(h: IrHost, t: number): void {
  wr16(h, L.FSW, (rd16(h, L.FSW) & ~TOP_MASK) | ((t & 7) << 11));
}
export const ftw = (h: IrHost): number => h.u8[h.stateBase + L.FTW]!;
export const setFtw = (h: IrHost, v: number): void => {
  h.u8[h.stateBase + L.FTW] = v & 0xff;
};

/** Physical register number of ST(i). */
export const phys = (h: IrHost, i: number): number => (top(h) + i) & 7;
export const isEmpty = (h: IrHost, p: number): boolean => ((ftw(h) >> p) & 1) === 0;
export const stEmpty = (h: IrHost, i: number): boolean => isEmpty(h, phys(h, i));
export function setValid(h: IrHost, p: number, valid: boolean): void {
  const t = ftw(h);
  setFtw(h, valid ? t | (1 << p) : t & ~(1 << p));
}

/** An 80-bit value: sign and biased exponent (16 bits), 64-bit significand with its explicit integer bit. */
export interface F80 {
  se: number;
  m: bigint;
}

export function readPhys(h: IrHost, p: number): F80 {
  const off = L.fpRegOff(p);
  return { se: rd16(h, off + 8), m: rd64(h, off) };
}
export function writePhys(h: IrHost, p: number, v: F80): void {
  const off = L.fpRegOff(p);
  wr64(h, off, v.m);
  wr16(h, off + 8, v.se);
  // the rest of the 16-byte slot stays zero (FXSAVE's reserved bytes)
  wr16(h, off + 10, 0);
  wr32(h, off + 12, 0);
}
export const readSt = (h: IrHost, i: number): F80 => readPhys(h, phys(h, i));
/** Writes ST(i) and tags it valid. */
export function writeSt(h: IrHost, i: number, v: F80): void {
  const p = phys(h, i);
  writePhys(h, p, v);
  setValid(h, p, true);
}

/** Pushes (TOP-1, tagged valid); the caller has checked for overflow. */
export function push(h: IrHost, v: F80): void {
  const t = (top(h) - 1) & 7;
  setTop(h, t);
  writePhys(h, t, v);
  setValid(h, t, true);
}
/** Pops: ST0 becomes empty, TOP+1. */
export function pop(h: IrHost): void {
  const t = top(h);
  setValid(h, t, false);
  setTop(h, t + 1);
}

/** The two-bit tag of physical register p as FSTENV/FSAVE report it: 0 valid, 1 zero, 2 special, 3 empty. */
export function fullTag(h: IrHost, p: number): number {
  if (isEmpty(h, p)) return 3;
  const off = L.fpRegOff(p);
  const exp = rd16(h, off + 8) & 0x7fff;
  const hi = rd32(h, off + 4) >>> 0;
  const lo = rd32(h, off) >>> 0;
  if (exp === 0x7fff) return 2;
  if (exp === 0) return hi === 0 && lo === 0 ? 1 : 2;
  return hi & 0x80000000 ? 0 : 2; // an unnormal is special
}

/** The full 16-bit tag word (physical register order). */
export function fullTagWord(h: IrHost): number {
  let w = 0;
  for (let p = 0; p < 8; p++) w |= fullTag(h, p) << (2 * p);
  return w;
}

/** The abridged tag byte of a full tag word (valid unless empty). */
export function abridge(tw: number): number {
  let a = 0;
  for (let p = 0; p < 8; p++) if (((tw >> (2 * p)) & 3) !== 3) a |= 1 << p;
  return a;
}

/** FNINIT: FCW 037F, FSW 0, all empty, the pointers and opcode cleared (register contents stay). */
export function fninit(h: IrHost): void {
  wr16(h, L.FCW, 0x37f);
  wr16(h, L.FSW, 0);
  setFtw(h, 0);
  wr16(h, L.FOP, 0);
  wr64(h, L.FIP, 0n);
  wr64(h, L.FDP, 0n);
  wr16(h, FCS, 0);
  wr16(h, FDS, 0);
}

/**
 * The x87/SSE state at CPU reset. The SDM's power-up values are FCW 0040h and every tag "zero"; kemu starts as
 * FNINIT leaves it (FCW 037Fh, all empty), as KVM's vCPU reset does, so both backends start from the same state.
 * MXCSR 1F80h, XMM and x87 registers zero, XCR0 = 1 (x87 only).
 */
export function fpuReset(h: IrHost): void {
  h.u8.fill(0, h.stateBase + L.FPU, h.stateBase + L.FPU + L.FPU_SIZE);
  fninit(h);
  wr32(h, L.MXCSR, 0x1f80);
  wr32(h, L.MXCSR_MASK, MXCSR_MASK_VALUE);
  wr64(h, L.XCR0, 1n);
}

