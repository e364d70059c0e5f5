// Far control transfers: JMP/CALL ptr16:xx and m16:xx (code segments and call gates, with the inner-privilege
// stack switch and parameter copy), RETF and IRET in real, virtual-8086, protected and long mode.
// Task switches (TSS or task-gate targets, IRET with NT=1) are not implemented and raise #GP.
//
// Each function checks everything and translates every stack slot it writes before it changes any register, and
// returns the new RIP (the caller's IR ends the block with it).
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import { ATTR_DB, ATTR_L, attrFromDescriptor } from '../segattr.ts';
import {
  CS, DS, ES, FS, GS, SS, EFLAGS_AC, EFLAGS_ID, EFLAGS_IF, EFLAGS_IOPL, EFLAGS_NT, EFLAGS_RF, EFLAGS_VIF, EFLAGS_VIP,
  EFLAGS_VM, FrameBuilder, StackReader, cacheFromDesc, cplOfCpu, descConforming, descDB, descDpl, descIsCode,
  descBase, descIsData, descL, descLimit, descPresent, descRW, descTypeS, fetchDesc, fetchDescHigh, getSeg, isCanonical,
  isNullSel, longActive, mode64, nullStackAttr, nullStackSeg, protectedMode, realSeg, selErr, setAccessed, setSeg,
  setSegWords, setStackPointer, stackBytesOf, v86, type Desc, type SegCache,
} from './desc.ts';
import { invalidateOuterSegments } from './segload.ts';
import { checkTssStackSegment, legacyTssStack, tss64Field } from './tss.ts';
import type { Cpu } from '../cpu.ts';
import { carryHi, u64 } from '../words.ts';

const STATUS_AND_CONTROL = 0x4dd5 | 0x100 | 0x400; // CF PF AF ZF SF TF DF OF NT

function currentSp(cpu: Cpu): { sp: bigint; bytes: 2 | 4 | 8 } {
  const bytes = ([2, 4, 8] as const)[(cpu.mode >> 2) & 3]!;
  const rsp = cpu.get64(L.gprOff(4));
  return { sp: bytes === 8 ? rsp : bytes === 4 ? rsp & 0xffffffffn : rsp & 0xffffn, bytes };
}

function currentFrame(cpu: Cpu): FrameBuilder {
  const { sp, bytes } = currentSp(cpu);
  return new FrameBuilder(cpu, bytes === 8 ? null : getSeg(cpu, SS), sp, bytes, ((cpu.mode >> 4) & 3) === 3, 0);
}

/** Checks a target offset against the new code segment: canonical for 64-bit code, else the limit. #GP(0). */
function checkOffset(cpu: Cpu, cs: SegCache, off: bigint): void {
  if (longActive(cpu) && cs.attr & ATTR_L) {
    if (!isCanonical(off)) throw new GuestFault(Vec.GP, 0);
  } else if (off > BigInt(cs.limit)) throw new GuestFault(Vec.GP, 0);
}

/** Checks a code segment named directly by a far JMP/CALL (no privilege change). */
function directCode(cpu: Cpu, d: Desc, cpl: number): void {
  const sel = d.sel;
  if (descConforming(d.hi) ? descDpl(d.hi) > cpl : (sel & 3) > cpl || descDpl(d.hi) !== cpl) throw new GuestFault(Vec.GP, selErr(sel, 0));
  if (!descPresent(d.hi)) throw new GuestFault(Vec.NP, selErr(sel, 0));
  if (longActive(cpu) && descL(d.hi) && descDB(d.hi)) throw new GuestFault(Vec.GP, selErr(sel, 0));
}

interface Gate {
  target: Desc;
  offset: bigint;
  /** 2, 4 or 8 (16-bit, 32-bit, 64-bit call gate). */
  size: 2 | 4 | 8;
  params: number;
}

/** Checks a call gate and its target code segment (SDM JMP/CALL "call gate" steps). */
function callGate(cpu: Cpu, d: Desc, cpl: number): Gate {
  const sel = d.sel;
  const type = descTypeS(d.hi);
  const long = longActive(cpu);
  if (long ? type !== 0x0c : type !== 0x04 && type !== 0x0c) throw new GuestFault(Vec.GP, selErr(sel, 0));
  if (descDpl(d.hi) < cpl || descDpl(d.hi) < (sel & 3)) throw new GuestFault(Vec.GP, selErr(sel, 0));
  if (!descPresent(d.hi)) throw new GuestFault(Vec.NP, selErr(sel, 0));
  let offset = BigInt(type === 0x04 ? d.lo & 0xffff : ((d.lo & 0xffff) | (d.hi & 0xffff0000)) >>> 0);
  if (long) {
    const up = fetchDescHigh(cpu, d);
    if ((up.hi >>> 8) & 0x1f) throw new GuestFault(Vec.GP, selErr(sel, 0)); // the upper half's type must be 0
    offset |= BigInt(up.lo >>> 0) << 32n;
  }
  const tsel = d.lo >>> 16;
  if (isNullSel(tsel)) throw new GuestFault(Vec.GP, 0);
  const target = fetchDesc(cpu, tsel);
  if (!descIsCode(target.hi) || descDpl(target.hi) > cpl) throw new GuestFault(Vec.GP, selErr(tsel, 0));
  if (!descPresent(target.hi)) throw new GuestFault(Vec.NP, selErr(tsel, 0));
  if (long && (!descL(target.hi) || descDB(target.hi))) throw new GuestFault(Vec.GP, selErr(tsel, 0));
  return { target, offset, size: long ? 8 : type === 0x04 ? 2 : 4, params: long ? 0 : d.hi & 0x1f };
}

function enterCode(cpu: Cpu, cs: SegCache, cpl: number, rip: bigint): bigint {
  setSeg(cpu, CS, cs);
  cpu.set32(L.CPL, cpl);
  cpu.updateMode();
  cpu.rip = rip;
  return rip;
}

/** JMP far. `off` is the offset operand (already cut to the operand size). */
export function farJump(cpu: Cpu, sel: number, off: bigint): bigint {
  sel &= 0xffff;
  if (!protectedMode(cpu) || v86(cpu)) return enterCode(cpu, realSeg(sel, getSeg(cpu, CS), v86(cpu)), cplOfCpu(cpu), off);
  const cpl = cplOfCpu(cpu);
  if (isNullSel(sel)) throw new GuestFault(Vec.GP, 0);
  const d = fetchDesc(cpu, sel);
  if (descIsCode(d.hi)) {
    directCode(cpu, d, cpl);
    const cs = cacheFromDesc(d, (sel & 0xfffc) | cpl);
    checkOffset(cpu, cs, off);
    setAccessed(cpu, d);
    return enterCode(cpu, cs, cpl, off);
  }
  if (descIsData(d.hi)) throw new GuestFault(Vec.GP, selErr(sel, 0));
  const g = callGate(cpu, d, cpl);
  const t = g.target;
  // JMP through a gate never changes privilege: non-conforming targets need DPL = CPL
  if (!descConforming(t.hi) && descDpl(t.hi) !== cpl) throw new GuestFault(Vec.GP, selErr(t.sel, 0));
  const cs = cacheFromDesc(t, (t.sel & 0xfffc) | cpl);
  checkOffset(cpu, cs, g.offset);
  setAccessed(cpu, t);
  return enterCode(cpu, cs, cpl, g.offset);
}

/** CALL far with operand size `size` (2, 4, 8); `next` is the return address. */
export function farCall(cpu: Cpu, sel: number, off: bigint, size: 2 | 4 | 8, next: bigint): bigint {
  sel &= 0xffff;
  const oldCs = getSeg(cpu, CS).sel;
  if (!protectedMode(cpu) || v86(cpu)) {
    const fb = currentFrame(cpu);
    fb.push(size === 8 ? 4 : size, oldCs);
    fb.push(size === 8 ? 4 : size, next);
    fb.commit();
    setStackPointer(cpu, fb.sp, currentSp(cpu).bytes);
    return enterCode(cpu, realSeg(sel, getSeg(cpu, CS), v86(cpu)), cplOfCpu(cpu), off);
  }
  const cpl = cplOfCpu(cpu);
  if (isNullSel(sel)) throw new GuestFault(Vec.GP, 0);
  const d = fetchDesc(cpu, sel);
  if (descIsCode(d.hi)) {
    directCode(cpu, d, cpl);
    const cs = cacheFromDesc(d, (sel & 0xfffc) | cpl);
    checkOffset(cpu, cs, off);
    const fb = currentFrame(cpu);
    fb.push(size, oldCs);
    fb.push(size, next);
    setAccessed(cpu, d);
    fb.commit();
    setStackPointer(cpu, fb.sp, currentSp(cpu).bytes);
    return enterCode(cpu, cs, cpl, off);
  }
  if (descIsData(d.hi)) throw new GuestFault(Vec.GP, selErr(sel, 0));
  const g = callGate(cpu, d, cpl);
  const t = g.target;
  const inner = !descConforming(t.hi) && descDpl(t.hi) < cpl;
  const newCpl = inner ? descDpl(t.hi) : cpl;
  const cs = cacheFromDesc(t, (t.sel & 0xfffc) | newCpl);
  const { sp: oldSp, bytes: oldBytes } = currentSp(cpu);
  const oldSs = getSeg(cpu, SS);
  if (!inner) {
    checkOffset(cpu, cs, g.offset);
    const fb = currentFrame(cpu);
    fb.push(g.size, oldCs);
    fb.push(g.size, next);
    setAccessed(cpu, t);
    fb.commit();
    setStackPointer(cpu, fb.sp, oldBytes);
    return enterCode(cpu, cs, newCpl, g.offset);
  }
  if (longActive(cpu)) {
    const rsp = tss64Field(cpu, 4 + 8 * newCpl, 0);
    checkOffset(cpu, cs, g.offset);
    const fb = new FrameBuilder(cpu, null, rsp, 8, false, 0);
    fb.push(8, oldSs.sel);
    fb.push(8, cpu.get64(L.gprOff(4)));
    fb.push(8, oldCs);
    fb.push(8, next);
    setAccessed(cpu, t);
    fb.commit();
    setSeg(cpu, SS, nullStackSeg(newCpl));
    cpu.set64(L.gprOff(4), fb.sp);
    return enterCode(cpu, cs, newCpl, g.offset);
  }
  const st = legacyTssStack(cpu, newCpl, 0);
  const ss = checkTssStackSegment(cpu, st.ss, newCpl, 0);
  checkOffset(cpu, cs, g.offset);
  const bytes = stackBytesOf(ss);
  const fb = new FrameBuilder(cpu, ss, BigInt(st.sp) & (bytes === 4 ? 0xffffffffn : 0xffffn), bytes, false, selErr(st.ss, 0));
  fb.push(g.size, oldSs.sel);
  fb.push(g.size, oldSp);
  // parameters, copied from the old stack (read at the old privilege) in their order
  const psize = g.size as 2 | 4;
  const params: bigint[] = [];
  for (let i = 0; i < g.params; i++) {
    const a = (oldSp + BigInt(i * psize)) & (oldBytes === 4 ? 0xffffffffn : 0xffffn);
    params.push(BigInt(cpu.read(psize, SS, Number(a) | 0, 0) >>> 0));
  }
  for (let i = params.length - 1; i >= 0; i--) fb.push(psize, params[i]!);
  fb.push(g.size, oldCs);
  fb.push(g.size, next);
  setAccessed(cpu, t);
  fb.commit();
  setSeg(cpu, SS, ss);
  setStackPointer(cpu, fb.sp, bytes);
  return enterCode(cpu, cs, newCpl, g.offset);
}

/** Checks the SS:rSP a return to an outer level pops (#GP(selector), #SS(selector); null only into 64-bit code). */
function outerStack(cpu: Cpu, ssSel: number, rpl: number, target64: boolean, fetched?: Desc): SegCache {
  if (isNullSel(ssSel)) {
    if (target64 && rpl !== 3) return { ...nullStackSeg(rpl), sel: ssSel };
    throw new GuestFault(Vec.GP, 0);
  }
  const d = fetched ?? fetchDesc(cpu, ssSel);
  if ((ssSel & 3) !== rpl || !descIsData(d.hi) || !descRW(d.hi) || descDpl(d.hi) !== rpl) throw new GuestFault(Vec.GP, selErr(ssSel, 0));
  if (!descPresent(d.hi)) throw new GuestFault(Vec.SS, selErr(ssSel, 0));
  setAccessed(cpu, d);
  return cacheFromDesc(d);
}

/** Checks the code segment a RETF/IRET returns to (#GP(selector), #NP(selector)). */
function returnCode(cpu: Cpu, sel: number, cpl: number): Desc {
  if (isNullSel(sel)) throw new GuestFault(Vec.GP, 0);
  return checkReturnCode(cpu, fetchDesc(cpu, sel), cpl);
}

/** returnCode's checks of the fetched descriptor of a non-null selector. */
function checkReturnCode(cpu: Cpu, d: Desc, cpl: number): Desc {
  const sel = d.sel;
  const rpl = sel & 3;
  if (!descIsCode(d.hi) || rpl < cpl) throw new GuestFault(Vec.GP, selErr(sel, 0));
  if (descConforming(d.hi) ? descDpl(d.hi) > rpl : descDpl(d.hi) !== rpl) throw new GuestFault(Vec.GP, selErr(sel, 0));
  if (!descPresent(d.hi)) throw new GuestFault(Vec.NP, selErr(sel, 0));
  if (longActive(cpu) && descL(d.hi) && descDB(d.hi)) throw new GuestFault(Vec.GP, selErr(sel, 0));
  return d;
}

const sized = (v: bigint, size: number): bigint => (size === 8 ? v : size === 4 ? v & 0xffffffffn : v & 0xffffn);

/** RETF [imm16] with operand size `size`. */
export function farReturn(cpu: Cpu, size: 2 | 4 | 8, imm: number): bigint {
  const r = new StackReader(cpu);
  const ip = r.pop(size);
  const sel = Number(r.pop(size) & 0xffffn);
  if (!protectedMode(cpu) || v86(cpu)) {
    r.skip(imm);
    setStackPointer(cpu, r.sp, r.bytes);
    return enterCode(cpu, realSeg(sel, getSeg(cpu, CS), v86(cpu)), cplOfCpu(cpu), ip);
  }
  const cpl = cplOfCpu(cpu);
  const d = returnCode(cpu, sel, cpl);
  const rpl = sel & 3;
  const cs = cacheFromDesc(d);
  if (rpl === cpl) {
    checkOffset(cpu, cs, ip);
    r.skip(imm);
    setAccessed(cpu, d);
    setStackPointer(cpu, r.sp, r.bytes);
    return enterCode(cpu, cs, cpl, ip);
  }
  r.skip(imm);
  const sp = r.pop(size);
  const ssSel = Number(r.pop(size) & 0xffffn);
  const target64 = longActive(cpu) && descL(d.hi);
  const ss = outerStack(cpu, ssSel, rpl, target64);
  checkOffset(cpu, cs, ip);
  setAccessed(cpu, d);
  setSeg(cpu, SS, ss);
  const bytes = target64 ? 8 : ss.attr & ATTR_DB ? 4 : 2;
  setStackPointer(cpu, sized(sp + BigInt(imm), bytes), bytes);
  const rip = enterCode(cpu, cs, rpl, ip);
  invalidateOuterSegments(cpu, rpl);
  return rip;
}

/**
 * IRET / IRETD / IRETQ with operand size `size`. (The old EFLAGS is the state block's word without the status flags:
 * every path takes those from the popped value, so the lazy flags are not evaluated.)
 */
export function interruptReturn(cpu: Cpu, size: 2 | 4 | 8): bigint {
  const old = cpu.get32(L.EFLAGS);
  if (!protectedMode(cpu)) {
    const r = new StackReader(cpu);
    const ip = r.pop(size);
    const sel = Number(r.pop(size) & 0xffffn);
    const fl = Number(r.pop(size));
    const flags = size === 2 ? (old & ~0xffff) | (fl & 0xffff) : (fl & 0x257fd5) | (old & 0x1a0000);
    return finishSimple(cpu, r, sel, ip, flags);
  }
  if (old & EFLAGS_VM) {
    if ((old & EFLAGS_IOPL) !== EFLAGS_IOPL) throw new GuestFault(Vec.GP, 0);
    const r = new StackReader(cpu);
    const ip = r.pop(size);
    const sel = Number(r.pop(size) & 0xffffn);
    const fl = Number(r.pop(size));
    const keep = EFLAGS_VM | EFLAGS_IOPL | EFLAGS_VIP | EFLAGS_VIF;
    const flags = size === 2 ? (old & ~0xffff) | (fl & 0xffff & ~EFLAGS_IOPL) | (old & EFLAGS_IOPL) : (fl & 0x3f7fd5 & ~keep & ~EFLAGS_RF) | (old & keep);
    return finishSimple(cpu, r, sel, ip, flags);
  }
  if (old & EFLAGS_NT) throw new GuestFault(Vec.GP, 0); // task return: task switching is not implemented
  const cpl = cplOfCpu(cpu);
  if (size === 8 && mode64(cpu)) return iretq64(cpu, old, cpl);
  const r = new StackReader(cpu);
  const ip = r.pop(size);
  const sel = Number(r.pop(size) & 0xffffn);
  const fl = Number(r.pop(size) & 0xffffffffn);
  return protectedReturn(cpu, size, old, cpl, r, ip, sel, fl);
}

/**
 * Protected-mode IRET after RIP, CS and EFLAGS were popped (`r` is past them). `fetched`: the descriptor of the
 * (non-null) CS selector, already read.
 */
function protectedReturn(cpu: Cpu, size: 2 | 4 | 8, old: number, cpl: number, r: StackReader, ip: bigint, sel: number, fl: number, fetched?: Desc): bigint {
  if (size === 4 && fl & EFLAGS_VM && cpl === 0 && !longActive(cpu)) return returnToV86(cpu, r, ip, sel, fl);
  const d = fetched ? checkReturnCode(cpu, fetched, cpl) : returnCode(cpu, sel, cpl);
  const rpl = sel & 3;
  let sp = 0n;
  let ssSel = -1;
  if (mode64(cpu) || rpl > cpl) {
    sp = r.pop(size);
    ssSel = Number(r.pop(size) & 0xffffn);
  }
  return finishReturn(cpu, size, old, cpl, d, ip, fl, r, sp, ssSel);
}

/**
 * The rest of a protected-mode IRET, after everything was popped: `d` is the checked CS descriptor, `ssSel` the
 * popped SS selector with `sp` (-1: none popped, the stack stays), `ssFetched` its descriptor if already read.
 */
function finishReturn(
  cpu: Cpu, size: 2 | 4 | 8, old: number, cpl: number, d: Desc, ip: bigint, fl: number, r: StackReader, sp: bigint, ssSel: number,
  ssFetched?: Desc,
): bigint {
  const rpl = d.sel & 3;
  const cs = cacheFromDesc(d);
  const target64 = longActive(cpu) && descL(d.hi);
  const ss = ssSel >= 0 ? outerStack(cpu, ssSel, rpl, target64, ssFetched) : null;
  checkOffset(cpu, cs, ip);
  const flags = returnFlags(size, cpl, old, fl);
  setAccessed(cpu, d);
  if (ss) {
    setSeg(cpu, SS, ss);
    const bytes = target64 ? 8 : ss.attr & ATTR_DB ? 4 : 2;
    setStackPointer(cpu, sized(sp, bytes), bytes);
  } else setStackPointer(cpu, r.sp, r.bytes);
  cpu.setFlagsWord(flags);
  cpu.nmiBlocked = false;
  const rip = enterCode(cpu, cs, rpl, ip);
  if (rpl > cpl) invalidateOuterSegments(cpu, rpl);
  return rip;
}

/** EFLAGS after a protected-mode IRET: the popped `fl` in the bits the old CPL may change, the `old` value elsewhere. */
function returnFlags(size: 2 | 4 | 8, cpl: number, old: number, fl: number): number {
  let mask = STATUS_AND_CONTROL;
  if (size !== 2) mask |= EFLAGS_RF | EFLAGS_AC | EFLAGS_ID;
  if (cpl <= ((old >> 12) & 3)) mask |= EFLAGS_IF;
  if (cpl === 0) mask |= EFLAGS_IOPL | (size !== 2 ? EFLAGS_VIF | EFLAGS_VIP : 0);
  return (old & ~mask) | (fl & mask);
}

// ---------------------------------------------------------------------------------------------------------------
// IRETQ in 64-bit mode (Linux runs it ~100k times while booting: sync_core(), interrupt returns) without BigInt
// arithmetic or allocations: the five slots are read as int32 halves through the normal stack reads (so segment,
// paging and #AC checks and their faults are the slow path's, in its order), the descriptors straight from the GDT.
// The common case (a present, accessed 64-bit code segment; a null SS below ring 3 or a present, accessed, writable
// data segment from the GDT; a canonical RIP) is finished here; anything else continues in the general code above
// with the values read so far, before any state was written, so faults and results are the general code's.

/** The entry gdtEntry read: its two dwords and its linear address (int32 halves). */
let entLo = 0, entHi = 0, entAddrLo = 0, entAddrHi = 0;

/**
 * Reads the GDT entry of a selector into entLo/entHi (as fetchDesc would) if it is a GDT selector within the limit;
 * false, with nothing read, otherwise. Only with long mode active (64-bit linear addresses).
 */
function gdtEntry(cpu: Cpu, sel: number): boolean {
  const off = sel & 0xfff8;
  if (sel & 4 || off + 7 > (cpu.get32(L.GDTR_LIMIT) & 0xffff)) return false;
  const base = cpu.get32(L.GDTR_BASE);
  const lo = (base + off) | 0;
  const hi = carryHi(base, cpu.get32(L.GDTR_BASE + 4), off);
  entAddrLo = lo;
  entAddrHi = hi;
  // implicit supervisor reads (as sysRead)
  const mmu = cpu.mmu;
  const saved = mmu.explicitAccess;
  mmu.explicitAccess = false;
  try {
    entLo = mmu.readLinear(lo, hi, 4, false) | 0;
    entHi = mmu.readLinear((lo + 4) | 0, carryHi(lo, hi, 4), 4, false) | 0;
  } finally {
    mmu.explicitAccess = saved;
  }
  return true;
}

/** Reads the qword at stack offset (lo, hi) + off (as StackReader.pop): returns its low dword, the high one in cpu.hi64. */
function stackQword(cpu: Cpu, lo: number, hi: number, off: number): number {
  return cpu.read64(SS, (lo + off) | 0, carryHi(lo, hi, off));
}

/** The Desc (as fetchDesc returns it) of a selector whose entry was read at linear addrHi:addrLo. */
function descOf(sel: number, lo: number, hi: number, addrLo: number, addrHi: number): Desc {
  return { sel, lo, hi, addr: u64(addrLo, addrHi) };
}

/** A StackReader of the current (64-bit) stack, positioned at (lo, hi) + off (past what was read). */
function readerAt(cpu: Cpu, lo: number, hi: number, off: number): StackReader {
  const r = new StackReader(cpu);
  r.sp = BigInt.asUintN(64, u64(lo, hi) + BigInt(off));
  return r;
}

/** IRETQ in 64-bit mode (protected mode, long mode active, EFLAGS.VM = NT = 0). */
function iretq64(cpu: Cpu, old: number, cpl: number): bigint {
  const rspOff = L.gprOff(4);
  const lo = cpu.get32(rspOff), hi = cpu.get32(rspOff + 4);
  const ipLo = stackQword(cpu, lo, hi, 0), ipHi = cpu.hi64;
  const sel = stackQword(cpu, lo, hi, 8) & 0xffff;
  const fl = stackQword(cpu, lo, hi, 16) >>> 0;
  if (isNullSel(sel) || !gdtEntry(cpu, sel)) return protectedReturn(cpu, 8, old, cpl, readerAt(cpu, lo, hi, 24), u64(ipLo, ipHi), sel, fl);
  const cLo = entLo, cHi = entHi, cAddrLo = entAddrLo, cAddrHi = entAddrHi;
  const rpl = sel & 3;
  // accessed, code, S, present, L (not D): a 64-bit code segment; non-conforming with DPL = RPL or conforming with
  // DPL <= RPL; RPL >= CPL (checkReturnCode's conditions, and no accessed bit to set)
  const dpl = (cHi >>> 13) & 3;
  if ((cHi & 0x609900) !== 0x209900 || rpl < cpl || (cHi & 0x400 ? dpl > rpl : dpl !== rpl)) {
    return protectedReturn(cpu, 8, old, cpl, readerAt(cpu, lo, hi, 24), u64(ipLo, ipHi), sel, fl, descOf(sel, cLo, cHi, cAddrLo, cAddrHi));
  }
  const spLo = stackQword(cpu, lo, hi, 24), spHi = cpu.hi64;
  const ssSel = stackQword(cpu, lo, hi, 32) & 0xffff;
  let ok: boolean, ssFetched = false, ssBase = 0, ssLimit = 0xffffffff, ssAttr: number;
  if (isNullSel(ssSel)) {
    ok = rpl !== 3; // (outerStack: a null SS into 64-bit code below ring 3)
    ssAttr = nullStackAttr(rpl);
  } else {
    ssFetched = gdtEntry(cpu, ssSel);
    // a present, accessed, writable data segment, selector RPL = DPL = the new CPL (outerStack's conditions)
    ok = ssFetched && (entHi & 0x9b00) === 0x9300 && (ssSel & 3) === rpl && ((entHi >>> 13) & 3) === rpl;
    ssBase = descBase(entLo, entHi);
    ssLimit = descLimit(entLo, entHi);
    ssAttr = attrFromDescriptor(entHi);
  }
  if (!ok || ((ipHi >> 15) !== 0 && (ipHi >> 15) !== -1)) {
    const cs = descOf(sel, cLo, cHi, cAddrLo, cAddrHi);
    const ss = ssFetched ? descOf(ssSel, entLo, entHi, entAddrLo, entAddrHi) : undefined;
    return finishReturn(cpu, 8, old, cpl, cs, u64(ipLo, ipHi), fl, readerAt(cpu, lo, hi, 40), u64(spLo, spHi), ssSel, ss);
  }
  // nothing faults from here on: finishReturn's writes (setSeg, setStackPointer, enterCode) without BigInts
  setSegWords(cpu, SS, ssSel, ssBase, ssLimit, ssAttr);
  cpu.set32(rspOff, spLo);
  cpu.set32(rspOff + 4, spHi);
  cpu.setFlagsWord(returnFlags(8, cpl, old, fl));
  cpu.nmiBlocked = false;
  setSegWords(cpu, CS, sel, descBase(cLo, cHi), descLimit(cLo, cHi), attrFromDescriptor(cHi));
  cpu.set32(L.CPL, rpl);
  cpu.updateMode();
  cpu.set32(L.RIP, ipLo);
  cpu.set32(L.RIP + 4, ipHi);
  if (rpl > cpl) invalidateOuterSegments(cpu, rpl);
  return cpu.rip;
}

function finishSimple(cpu: Cpu, r: StackReader, sel: number, ip: bigint, flags: number): bigint {
  const vm = (flags & EFLAGS_VM) !== 0;
  setStackPointer(cpu, r.sp, r.bytes);
  cpu.setFlagsWord(flags);
  cpu.nmiBlocked = false;
  return enterCode(cpu, realSeg(sel, getSeg(cpu, CS), vm), cplOfCpu(cpu), ip);
}

/** IRETD at CPL 0 with VM set in the popped EFLAGS: enter virtual-8086 mode (SDM IRET "RETURN-TO-VIRTUAL-8086-MODE"). */
function returnToV86(cpu: Cpu, r: StackReader, ip: bigint, sel: number, fl: number): bigint {
  const esp = r.pop(4);
  const ss = Number(r.pop(4) & 0xffffn);
  const es = Number(r.pop(4) & 0xffffn);
  const ds = Number(r.pop(4) & 0xffffn);
  const fs = Number(r.pop(4) & 0xffffn);
  const gs = Number(r.pop(4) & 0xffffn);
  cpu.setFlagsWord(fl & 0x3f7fd5 | EFLAGS_VM);
  for (const [seg, s] of [[CS, sel], [SS, ss], [ES, es], [DS, ds], [FS, fs], [GS, gs]] as const) setSeg(cpu, seg, realSeg(s, getSeg(cpu, seg), true));
  cpu.set64(L.gprOff(4), esp & 0xffffffffn);
  cpu.set32(L.CPL, 3);
  cpu.nmiBlocked = false;
  cpu.updateMode();
  const rip = ip & 0xffffn;
  cpu.rip = rip;
  return rip;
}
