// Descriptors and system-structure memory: GDT/LDT/IDT/TSS reads (implicit supervisor accesses), segment caches,
// selectors and the error codes built from them. Used by the helpers that load segments, deliver interrupts and
// transfer control between privilege levels.
import * as L from '../layout.ts';
import { Access } from '../mmu.ts';
import { GuestFault, Vec } from '../fault.ts';
import { ATTR_DB, ATTR_L, ATTR_P, ATTR_S, ATTR_UNUSABLE, attrFromDescriptor } from '../segattr.ts';
import type { Cpu } from '../cpu.ts';
import { u64 } from '../words.ts';

export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;

export const EFLAGS_CF = 1 << 0;
export const EFLAGS_TF = 1 << 8;
export const EFLAGS_IF = 1 << 9;
export const EFLAGS_DF = 1 << 10;
export const EFLAGS_IOPL = 3 << 12;
export const EFLAGS_NT = 1 << 14;
export const EFLAGS_RF = 1 << 16;
export const EFLAGS_VM = 1 << 17;
export const EFLAGS_AC = 1 << 18;
export const EFLAGS_VIF = 1 << 19;
export const EFLAGS_VIP = 1 << 20;
export const EFLAGS_ID = 1 << 21;

export const CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20, CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30, CR0_PG = 1 << 31;
export const CR4_VME = 1, CR4_PVI = 2, CR4_TSD = 4, CR4_DE = 8, CR4_PSE = 0x10, CR4_PAE = 0x20, CR4_PGE = 0x80;
export const CR4_UMIP = 1 << 11, CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21;
export const EFER_SCE = 1, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

// ---------------------------------------------------------------------------------------------------------------
// Raw descriptors (the two dwords of an 8-byte entry)

export const descType = (hi: number): number => (hi >>> 8) & 0xf;
/** Type with the S bit (0x10 = code/data). */
export const descTypeS = (hi: number): number => (hi >>> 8) & 0x1f;
export const descDpl = (hi: number): number => (hi >>> 13) & 3;
export const descPresent = (hi: number): boolean => (hi & 0x8000) !== 0;
export const descIsCode = (hi: number): boolean => (hi & 0x1800) === 0x1800;
export const descIsData = (hi: number): boolean => (hi & 0x1800) === 0x1000;
export const descConforming = (hi: number): boolean => (hi & 0x1c00) === 0x1c00;
/** Code readable or data writable (type bit 1). */
export const descRW = (hi: number): boolean => (hi & 0x200) !== 0;
export const descL = (hi: number): boolean => (hi & 0x200000) !== 0;
export const descDB = (hi: number): boolean => (hi & 0x400000) !== 0;

export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

/** The byte-granular limit. */
export function descLimit(lo: number, hi: number): number {
  const l = (lo & 0xffff) | (hi & 0xf0000);
  return hi & 0x800000 ? ((l << 12) | 0xfff) >>> 0 : l;
}

export const isNullSel = (sel: number): boolean => (sel & 0xfffc) === 0;
/** Error code of a selector (index and TI; EXT = ext). */
export const selErr = (sel: number, ext: number): number => (sel & 0xfffc) | ext;

// ---------------------------------------------------------------------------------------------------------------
// Implicit supervisor accesses to system structures (GDT, LDT, IDT, TSS): CPL-independent, SMAP ignores EFLAGS.AC.

/** Linear addresses are 64-bit with long mode active, else 32-bit. */
export function wrapLinear(cpu: Cpu, a: bigint): bigint {
  return cpu.get32(L.EFER) & EFER_LMA ? BigInt.asUintN(64, a) : BigInt.asUintN(32, a);
}

const lo32 = (a: bigint): number => Number(a & 0xffffffffn) | 0;
const hi32 = (a: bigint): number => Number((a >> 32n) & 0xffffffffn) | 0;

export function sysRead(cpu: Cpu, lin: bigint, size: 1 | 2 | 4): number {
  const mmu = cpu.mmu;
  const saved = mmu.explicitAccess;
  mmu.explicitAccess = false;
  try {
    lin = wrapLinear(cpu, lin);
    return mmu.readLinear(lo32(lin), hi32(lin), size, false) >>> 0;
  } finally {
    mmu.explicitAccess = saved;
  }
}

export function sysRead64(cpu: Cpu, lin: bigint): bigint {
  const lo = sysRead(cpu, lin, 4);
  const hi = sysRead(cpu, lin + 4n, 4);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function sysWrite(cpu: Cpu, lin: bigint, size: 1 | 2 | 4, v: number): void {
  const mmu = cpu.mmu;
  const saved = mmu.explicitAccess;
  mmu.explicitAccess = false;
  try {
    lin = wrapLinear(cpu, lin);
    mmu.writeLinear(lo32(lin), hi32(lin), size, v, false);
  } finally {
    mmu.explicitAccess = saved;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Descriptor tables

export interface Desc {
  sel: number;
  lo: number;
  hi: number;
  /** Linear address of the entry. */
  addr: bigint;
}

/**
 * Reads the GDT/LDT entry of a (non-null) selector. An index beyond the table limit (or an LDT selector without a
 * usable LDT) raises `vec` with the selector error code.
 */
export function fetchDesc(cpu: Cpu, sel: number, vec: number = Vec.GP, ext = 0): Desc {
  let base: bigint, limit: number;
  if (sel & 4) {
    const o = L.segOff(LDTR);
    if (cpu.get32(o + L.SEG_ATTR) & ATTR_UNUSABLE || isNullSel(cpu.get32(o + L.SEG_SEL))) throw new GuestFault(vec, selErr(sel, ext));
    base = cpu.get64(o + L.SEG_BASE);
    limit = cpu.get32(o + L.SEG_LIMIT) >>> 0;
  } else {
    base = cpu.get64(L.GDTR_BASE);
    limit = cpu.get32(L.GDTR_LIMIT) & 0xffff;
  }
  const off = sel & 0xfff8;
  if (off + 7 > limit) throw new GuestFault(vec, selErr(sel, ext));
  const addr = base + BigInt(off);
  return { sel, lo: sysRead(cpu, addr, 4) | 0, hi: sysRead(cpu, addr + 4n, 4) | 0, addr };
}

/** The upper half of a 16-byte system descriptor (long mode LDT/TSS/call gate): base or offset bits 63:32. */
export function fetchDescHigh(cpu: Cpu, d: Desc, vec: number = Vec.GP, ext = 0): { lo: number; hi: number } {
  const limit = d.sel & 4 ? cpu.get32(L.segOff(LDTR) + L.SEG_LIMIT) >>> 0 : cpu.get32(L.GDTR_LIMIT) & 0xffff;
  if ((d.sel & 0xfff8) + 15 > limit) throw new GuestFault(vec, selErr(d.sel, ext));
  return { lo: sysRead(cpu, d.addr + 8n, 4) | 0, hi: sysRead(cpu, d.addr + 12n, 4) | 0 };
}

/** Sets the accessed bit of a code/data descriptor (a locked write to the table, done only when it is clear). */
export function setAccessed(cpu: Cpu, d: Desc): void {
  if (!(d.hi & 0x100)) {
    d.hi |= 0x100;
    sysWrite(cpu, d.addr + 5n, 1, (d.hi >>> 8) & 0xff);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Segment registers (the hidden caches in the state block)

export interface SegCache {
  sel: number;
  base: bigint;
  limit: number;
  attr: number;
}

export function getSeg(cpu: Cpu, i: number): SegCache {
  const o = L.segOff(i);
  return { sel: cpu.get32(o + L.SEG_SEL) & 0xffff, base: cpu.get64(o + L.SEG_BASE), limit: cpu.get32(o + L.SEG_LIMIT) >>> 0, attr: cpu.get32(o + L.SEG_ATTR) };
}

export function setSeg(cpu: Cpu, i: number, s: SegCache): void {
  const o = L.segOff(i);
  cpu.set32(o + L.SEG_SEL, s.sel & 0xffff);
  cpu.set64(o + L.SEG_BASE, s.base);
  cpu.set32(o + L.SEG_LIMIT, s.limit | 0);
  cpu.set32(o + L.SEG_ATTR, s.attr);
}

/** setSeg for a base below 2^32 given as a number (no SegCache, no BigInt). */
export function setSegWords(cpu: Cpu, i: number, sel: number, base: number, limit: number, attr: number): void {
  const o = L.segOff(i);
  cpu.set32(o + L.SEG_SEL, sel & 0xffff);
  cpu.set32(o + L.SEG_BASE, base | 0);
  cpu.set32(o + L.SEG_BASE + 4, 0);
  cpu.set32(o + L.SEG_LIMIT, limit | 0);
  cpu.set32(o + L.SEG_ATTR, attr);
}

/** The cache a code/data descriptor loads (RPL of the selector as given). */
export function cacheFromDesc(d: Desc, sel = d.sel): SegCache {
  return { sel, base: BigInt(descBase(d.lo, d.hi)), limit: descLimit(d.lo, d.hi), attr: attrFromDescriptor(d.hi) };
}

/** Real-mode and virtual-8086 segment: base = selector * 16. */
export function realSeg(sel: number, old: SegCache, vm86: boolean): SegCache {
  sel &= 0xffff;
  if (vm86) return { sel, base: BigInt(sel << 4), limit: 0xffff, attr: 0x3 | ATTR_S | (3 << 5) | ATTR_P | (old.attr & 8 ? 8 : 0) };
  // Real mode keeps the limit and attributes from the last protected-mode load ("unreal" mode) but is usable.
  return { sel, base: BigInt(sel << 4), limit: old.limit, attr: (old.attr & ~ATTR_UNUSABLE) | ATTR_P | ATTR_S };
}

/** A null selector loaded into a data segment register: unusable. AMD keeps the base (FS/GS base in 64-bit mode). */
export function nullSeg(sel: number, old: SegCache): SegCache {
  return { sel: sel & 0xffff, base: old.base, limit: old.limit, attr: ATTR_UNUSABLE };
}

/** SS after a 64-bit privilege change to CPL < 3 through an interrupt/call gate or SYSCALL: null with RPL = CPL. */
export function nullStackSeg(cpl: number): SegCache {
  return { sel: cpl, base: 0n, limit: 0xffffffff, attr: nullStackAttr(cpl) };
}

/** The attributes of nullStackSeg(cpl) (base 0, limit 0xffffffff). */
export const nullStackAttr = (cpl: number): number => ATTR_UNUSABLE | 0x3 | ATTR_S | (cpl << 5) | ATTR_P | ATTR_DB | (1 << 15);

export const attrIsCode = (attr: number): boolean => (attr & 0x18) === 0x18;
export const attrConforming = (attr: number): boolean => (attr & 0x1c) === 0x1c;
export const attr64 = (attr: number): boolean => (attr & ATTR_L) !== 0;

// ---------------------------------------------------------------------------------------------------------------
// Processor state shortcuts

export const cplOfCpu = (cpu: Cpu): number => cpu.get32(L.CPL) & 3;
export const protectedMode = (cpu: Cpu): boolean => (cpu.get32(L.CR0) & CR0_PE) !== 0;
export const v86 = (cpu: Cpu): boolean => protectedMode(cpu) && (cpu.get32(L.EFLAGS) & EFLAGS_VM) !== 0;
export const longActive = (cpu: Cpu): boolean => (cpu.get32(L.EFER) & EFER_LMA) !== 0;
/** 64-bit mode (long mode with a 64-bit code segment). */
export const mode64 = (cpu: Cpu): boolean => longActive(cpu) && (cpu.get32(L.segOff(CS) + L.SEG_ATTR) & ATTR_L) !== 0;

export function isCanonical(a: bigint): boolean {
  const top = BigInt.asUintN(64, a) >> 47n;
  return top === 0n || top === 0x1ffffn;
}

// ---------------------------------------------------------------------------------------------------------------
// Stacks for helpers: pushes that check every slot (segment limit, paging) before the first byte is written, and
// pops from the current stack.

export interface Slot {
  lin: bigint;
  size: 2 | 4 | 8;
  v: bigint;
}

/** A stack the helper builds a frame on: its segment, pointer, width and the fault a bad slot raises. */
export class FrameBuilder {
  readonly slots: Slot[] = [];
  constructor(
    private readonly cpu: Cpu,
    /** null: a 64-bit stack (no segmentation, canonical checks). */
    private readonly seg: SegCache | null,
    public sp: bigint,
    /** Stack-pointer width (SS.B or 64-bit). */
    private readonly spBytes: 2 | 4 | 8,
    /** The privilege the writes are checked at. */
    private readonly user: boolean,
    private readonly errCode: number,
  ) {}

  push(size: 2 | 4 | 8, v: bigint | number): void {
    const mask = this.spBytes === 8 ? 0xffffffffffffffffn : this.spBytes === 4 ? 0xffffffffn : 0xffffn;
    const sp = (this.sp - BigInt(size)) & mask;
    let lin: bigint;
    if (this.seg) {
      const off = Number(sp);
      const s = this.seg;
      const last = off + size - 1;
      if (s.attr & ATTR_UNUSABLE) throw new GuestFault(Vec.SS, this.errCode);
      if ((s.attr & 0xc) === 4) {
        const upper = s.attr & ATTR_DB ? 0xffffffff : 0xffff;
        if (off <= s.limit || last > upper) throw new GuestFault(Vec.SS, this.errCode);
      } else if (last > s.limit) throw new GuestFault(Vec.SS, this.errCode);
      lin = BigInt.asUintN(32, s.base + sp);
    } else {
      if (!isCanonical(sp) || !isCanonical(sp + BigInt(size) - 1n)) throw new GuestFault(Vec.SS, this.errCode);
      lin = sp;
    }
    this.sp = sp;
    this.slots.push({ lin, size, v: BigInt.asUintN(size * 8, BigInt(v)) });
  }

  /** Writes the frame: every page is translated for writing first, so a #PF leaves memory untouched. */
  commit(): void {
    const mmu = this.cpu.mmu;
    for (const s of this.slots) {
      const end = s.lin + BigInt(s.size - 1);
      mmu.translate(lo32(s.lin), hi32(s.lin), Access.Write, this.user);
      mmu.translate(lo32(end), hi32(end), Access.Write, this.user);
    }
    for (const s of this.slots) {
      if (s.size === 2) mmu.writeLinear(lo32(s.lin), hi32(s.lin), 2, Number(s.v), this.user);
      else {
        mmu.writeLinear(lo32(s.lin), hi32(s.lin), 4, lo32(s.v), this.user);
        if (s.size === 8) {
          const a = s.lin + 4n;
          mmu.writeLinear(lo32(a), hi32(a), 4, hi32(s.v), this.user);
        }
      }
    }
  }
}

/** Pops values off the current SS:rSP at the current privilege (for far returns and IRET); `sp` advances. */
export class StackReader {
  sp: bigint;
  readonly bytes: 2 | 4 | 8;
  constructor(private readonly cpu: Cpu) {
    const m = cpu.mode;
    this.bytes = ([2, 4, 8] as const)[(m >> 2) & 3]!;
    const rsp = cpu.get64(L.gprOff(4));
    this.sp = this.bytes === 8 ? rsp : this.bytes === 4 ? rsp & 0xffffffffn : rsp & 0xffffn;
  }

  pop(size: 2 | 4 | 8): bigint {
    const lo = lo32(this.sp), hi = hi32(this.sp);
    let v: bigint;
    if (size === 8) {
      const l = this.cpu.read64(SS, lo, hi);
      v = u64(l, this.cpu.hi64);
    } else v = BigInt(this.cpu.read(size, SS, lo, hi) >>> 0);
    this.skip(size);
    return v;
  }

  skip(n: number): void {
    const mask = this.bytes === 8 ? 0xffffffffffffffffn : this.bytes === 4 ? 0xffffffffn : 0xffffn;
    this.sp = (this.sp + BigInt(n)) & mask;
  }
}

/** Writes rSP with a stack of `bytes` width (16-bit stacks change only SP). */
export function setStackPointer(cpu: Cpu, sp: bigint, bytes: 2 | 4 | 8): void {
  const o = L.gprOff(4);
  if (bytes === 2) cpu.set64(o, (cpu.get64(o) & ~0xffffn) | (sp & 0xffffn));
  else if (bytes === 4) cpu.set64(o, sp & 0xffffffffn);
  else cpu.set64(o, sp);
}

export const stackBytesOf = (cache: SegCache): 2 | 4 => (cache.attr & ATTR_DB ? 4 : 2);
