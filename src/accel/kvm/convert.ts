// CpuState <-> kvm_regs / kvm_sregs / kvm_debugregs, field for field. Pure functions over a DataView so they are
// tested without /dev/kvm. CpuState is KVM-shaped: segments carry KVM's unpacked attribute bits and byte-granular
// limits, so segments convert 1:1.
import type { CpuState, SegmentState, TableState } from '../../cpu/state.ts';
import { DEBUGREGS, DTABLE_LIMIT, REGS_GPR_SLOT, REGS_RFLAGS, REGS_RIP, SEG, SREGS } from './abi.ts';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

export function writeRegs(dv: DataView, off: number, s: CpuState): void {
  for (let i = 0; i < 16; i++) dv.setBigUint64(off + REGS_GPR_SLOT[i]! * 8, u64(s.gpr[i] ?? 0n), true);
  dv.setBigUint64(off + REGS_RIP, u64(s.rip), true);
  dv.setBigUint64(off + REGS_RFLAGS, u64(s.rflags), true);
}

/** Fills gpr, rip and rflags of `s` from kvm_regs. */
export function readRegs(dv: DataView, off: number, s: Pick<CpuState, 'gpr' | 'rip' | 'rflags'>): void {
  s.gpr = REGS_GPR_SLOT.map((slot) => dv.getBigUint64(off + slot * 8, true));
  s.rip = dv.getBigUint64(off + REGS_RIP, true);
  s.rflags = dv.getBigUint64(off + REGS_RFLAGS, true);
}

export function writeSegment(dv: DataView, off: number, g: SegmentState): void {
  dv.setBigUint64(off + SEG.BASE, u64(g.base), true);
  dv.setUint32(off + SEG.LIMIT, g.limit >>> 0, true);
  dv.setUint16(off + SEG.SELECTOR, g.selector & 0xffff, true);
  dv.setUint8(off + SEG.TYPE, g.type & 0xf);
  dv.setUint8(off + SEG.PRESENT, +g.present);
  dv.setUint8(off + SEG.DPL, g.dpl & 3);
  dv.setUint8(off + SEG.DB, +g.db);
  dv.setUint8(off + SEG.S, +g.s);
  dv.setUint8(off + SEG.L, +g.l);
  dv.setUint8(off + SEG.G, +g.g);
  dv.setUint8(off + SEG.AVL, +g.avl);
  dv.setUint8(off + SEG.UNUSABLE, +g.unusable);
  dv.setUint8(off + SEG.UNUSABLE + 1, 0);
}

export function readSegment(dv: DataView, off: number): SegmentState {
  return {
    selector: dv.getUint16(off + SEG.SELECTOR, true),
    base: dv.getBigUint64(off + SEG.BASE, true),
    limit: dv.getUint32(off + SEG.LIMIT, true),
    type: dv.getUint8(off + SEG.TYPE) & 0xf,
    s: dv.getUint8(off + SEG.S) !== 0,
    dpl: dv.getUint8(off + SEG.DPL) & 3,
    present: dv.getUint8(off + SEG.PRESENT) !== 0,
    avl: dv.getUint8(off + SEG.AVL) !== 0,
    l: dv.getUint8(off + SEG.L) !== 0,
    db: dv.getUint8(off + SEG.DB) !== 0,
    g: dv.getUint8(off + SEG.G) !== 0,
    unusable: dv.getUint8(off + SEG.UNUSABLE) !== 0,
  };
}

const SEGMENTS = [
  ['cs', SREGS.CS], ['ds', SREGS.DS], ['es', SREGS.ES], ['fs', SREGS.FS], ['gs', SREGS.GS], ['ss', SREGS.SS],
  ['tr', SREGS.TR], ['ldtr', SREGS.LDT],
] as const;

function writeTable(dv: DataView, off: number, t: TableState): void {
  dv.setBigUint64(off, u64(t.base), true);
  dv.setUint16(off + DTABLE_LIMIT, t.limit & 0xffff, true);
  for (let i = DTABLE_LIMIT + 2; i < 16; i++) dv.setUint8(off + i, 0);
}

function readTable(dv: DataView, off: number): TableState {
  return { base: dv.getBigUint64(off, true), limit: dv.getUint16(off + DTABLE_LIMIT, true) };
}

/** The sregs-held part of a CpuState plus the two sregs fields CpuState has no slot for. */
export interface SregsExtra {
  apicBase: bigint;
  /** The vector in interrupt_bitmap: accepted by KVM_INTERRUPT but not yet delivered (at most one). */
  pendingInterrupt: number | undefined;
}

export function writeSregs(dv: DataView, off: number, s: CpuState, extra: SregsExtra): void {
  for (const [name, o] of SEGMENTS) writeSegment(dv, off + o, s[name]);
  writeTable(dv, off + SREGS.GDT, s.gdtr);
  writeTable(dv, off + SREGS.IDT, s.idtr);
  dv.setBigUint64(off + SREGS.CR0, u64(s.cr0), true);
  dv.setBigUint64(off + SREGS.CR2, u64(s.cr2), true);
  dv.setBigUint64(off + SREGS.CR3, u64(s.cr3), true);
  dv.setBigUint64(off + SREGS.CR4, u64(s.cr4), true);
  dv.setBigUint64(off + SREGS.CR8, u64(s.cr8), true);
  dv.setBigUint64(off + SREGS.EFER, u64(s.efer), true);
  dv.setBigUint64(off + SREGS.APIC_BASE, u64(extra.apicBase), true);
  for (let i = 0; i < 4; i++) dv.setBigUint64(off + SREGS.INTERRUPT_BITMAP + 8 * i, 0n, true);
  const v = extra.pendingInterrupt;
  if (v !== undefined) {
    const word = off + SREGS.INTERRUPT_BITMAP + 8 * (v >> 6);
    dv.setBigUint64(word, 1n << BigInt(v & 63), true);
  }
}

export function readSregs(dv: DataView, off: number, s: CpuState): SregsExtra {
  for (const [name, o] of SEGMENTS) s[name] = readSegment(dv, off + o);
  s.gdtr = readTable(dv, off + SREGS.GDT);
  s.idtr = readTable(dv, off + SREGS.IDT);
  s.cr0 = dv.getBigUint64(off + SREGS.CR0, true);
  s.cr2 = dv.getBigUint64(off + SREGS.CR2, true);
  s.cr3 = dv.getBigUint64(off + SREGS.CR3, true);
  s.cr4 = dv.getBigUint64(off + SREGS.CR4, true);
  s.cr8 = dv.getBigUint64(off + SREGS.CR8, true);
  s.efer = dv.getBigUint64(off + SREGS.EFER, true);
  let pendingInterrupt: number | undefined;
  for (let i = 0; i < 4 && pendingInterrupt === undefined; i++) {
    const w = dv.getBigUint64(off + SREGS.INTERRUPT_BITMAP + 8 * i, true);
    if (w !== 0n) pendingInterrupt = i * 64 + w.toString(2).length - 1;
  }
  return { apicBase: dv.getBigUint64(off + SREGS.APIC_BASE, true), pendingInterrupt };
}

/** DR0-DR3, DR6, DR7 as CpuState.dr holds them. */
export function writeDebugRegs(dv: DataView, off: number, dr: readonly bigint[]): void {
  for (let i = 0; i < DEBUGREGS.SIZE; i += 8) dv.setBigUint64(off + i, 0n, true);
  for (let i = 0; i < 4; i++) dv.setBigUint64(off + DEBUGREGS.DB + 8 * i, u64(dr[i] ?? 0n), true);
  dv.setBigUint64(off + DEBUGREGS.DR6, u64(dr[4] ?? 0xffff0ff0n), true);
  dv.setBigUint64(off + DEBUGREGS.DR7, u64(dr[5] ?? 0x400n), true);
}

export function readDebugRegs(dv: DataView, off: number): bigint[] {
  return [
    ...[0, 1, 2, 3].map((i) => dv.getBigUint64(off + DEBUGREGS.DB + 8 * i, true)),
    dv.getBigUint64(off + DEBUGREGS.DR6, true),
    dv.getBigUint64(off + DEBUGREGS.DR7, true),
  ];
}
