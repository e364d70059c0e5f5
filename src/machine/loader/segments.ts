// The GDT the loaders leave behind and the matching segment-register state: null, code at 0x08, data at 0x10 and
// a busy TSS at 0x18 (base 0, limit 0x67, as the PVH ABI asks). The descriptors are encoded from the very
// SegmentState values put in the CpuState, so the two cannot disagree.

import { flatSegment, resetState, type CpuState, type SegmentState } from '../../cpu/state.js';
import { GDT_ADDR, SEL_CODE, SEL_DATA, SEL_TSS } from './layout.js';
import type { Placement } from './placement.js';

export const CR0_PE = 0x1n;
export const CR0_MP = 0x2n;
export const CR0_ET = 0x10n;
export const CR0_NE = 0x20n;
export const CR0_PG = 0x8000_0000n;
export const CR4_PAE = 0x20n;
export const EFER_LME = 0x100n;
export const EFER_LMA = 0x400n;

export function tssSegment(): SegmentState {
  return {
    selector: SEL_TSS, base: 0n, limit: 0x67, type: 0xb, s: false, dpl: 0, present: true, avl: false, l: false,
    db: false, g: false, unusable: false,
  };
}

/** The 8-byte descriptor of a segment, as [low dword, high dword]. */
export function encodeDescriptor(seg: SegmentState): [number, number] {
  const limit = seg.g ? seg.limit >>> 12 : seg.limit;
  const base = Number(seg.base & 0xffffffffn);
  const lo = ((limit & 0xffff) | ((base & 0xffff) << 16)) >>> 0;
  const hi =
    ((base >>> 16) & 0xff) |
    ((seg.type & 0xf) << 8) |
    (seg.s ? 1 << 12 : 0) |
    ((seg.dpl & 3) << 13) |
    (seg.present ? 1 << 15 : 0) |
    (((limit >>> 16) & 0xf) << 16) |
    (seg.avl ? 1 << 20 : 0) |
    (seg.l ? 1 << 21 : 0) |
    (seg.db ? 1 << 22 : 0) |
    (seg.g ? 1 << 23 : 0) |
    (((base >>> 24) & 0xff) << 24);
  return [lo, hi >>> 0];
}

/** Writes the GDT for the given code segment and returns the full CpuState with every segment loaded. */
function withGdt(arena: Placement, code: SegmentState, long: boolean): CpuState {
  const data = flatSegment(SEL_DATA, false);
  const tss = tssSegment();
  // In long mode a system descriptor takes 16 bytes; the upper half (base bits 63:32) stays zero.
  const entries = long ? 5 : 4;
  const gdt = arena.claim(GDT_ADDR, entries * 8, 'GDT');
  const mem = arena.mem;
  mem.fill(gdt, entries * 8);
  for (const seg of [code, data, tss]) {
    const [lo, hi] = encodeDescriptor(seg);
    mem.writeU32(gdt + seg.selector, lo);
    mem.writeU32(gdt + seg.selector + 4, hi);
  }
  const s = resetState();
  s.cs = code;
  s.ds = data;
  s.es = { ...data };
  s.fs = { ...data };
  s.gs = { ...data };
  s.ss = { ...data };
  s.tr = tss;
  s.gdtr = { base: BigInt(gdt), limit: entries * 8 - 1 };
  // No IDT: any exception before the kernel loads its own ends in a triple fault, which is the clearest outcome.
  s.idtr = { base: 0n, limit: 0 };
  s.rflags = 0x2n;
  return s;
}

/** 32-bit protected mode, paging off, flat segments: the PVH and Multiboot entry state (RIP and GPRs to fill). */
export function protectedModeState(arena: Placement): CpuState {
  const s = withGdt(arena, flatSegment(SEL_CODE, true), false);
  s.cr0 = CR0_PE | CR0_ET;
  s.cr4 = 0n;
  s.efer = 0n;
  return s;
}

/** 64-bit long mode at CPL0 with paging on through the given PML4. */
export function longModeState(arena: Placement, pml4: number): CpuState {
  const s = withGdt(arena, flatSegment(SEL_CODE, true, true), true);
  s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
  s.cr3 = BigInt(pml4);
  s.cr4 = CR4_PAE;
  s.efer = EFER_LME | EFER_LMA;
  return s;
}
