// Far control transfers: JMP/CALL ptr16:xx and m16:xx (code segments and call gates, with the inner-privilege
// stack switch and parameter copy), RETF and IRET in real, virtual-8086, protected and long mode.
// Task switches (TSS or task-gate targets, IRET with NT=1) are not implemented and raise #GP.
//
// Each function checks everything and translates every stack slot it writes before it changes any register, and
// returns the new RIP (the caller's IR ends the block with it).
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import { ATTR_DB, ATTR_L } from '../segattr.ts';
import {
  CS, DS, ES, FS, GS, SS, EFLAGS_AC, EFLAGS_ID, EFLAGS_IF, EFLAGS_IOPL, EFLAGS_NT, EFLAGS_RF, EFLAGS_VIF, EFLAGS_VIP,
  EFLAGS_VM, FrameBuilder, StackReader, cacheFromDesc, cplOfCpu, descConforming, descDB, descDpl, descIsCode,
  descIsData, descL, descPresent, descRW, descTypeS, fetchDesc, fetchDescHigh, getSeg, isCanonical, isNullSel,
  longActive, mode64, nullStackSeg, protectedMode, realSeg, selErr, setAccessed, setSeg, setStackPointer,
  stackBytesOf, v86, type Desc, type SegCache,
} from './desc.ts';
import { invalidateOuterSegments } from './segload.ts';
import { checkTssStackSegment, legacyTssStack, tss64Field } from './tss.ts';
import type { Cpu } from '../cpu.ts';

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
function outerStack(cpu: Cpu, ssSel: number, rpl: number, target64: boolean): SegCache {
  if (isNullSel(ssSel)) {
    if (target64 && rpl !== 3) return { ...nullStackSeg(rpl), sel: ssSel };
    throw new GuestFault(Vec.GP, 0);
  }
  const d = fetchDesc(cpu, ssSel);
  if ((ssSel & 3) !== rpl || !descIsData(d.hi) || !descRW(d.hi) || descDpl(d.hi) !== rpl) throw new GuestFault(Vec.GP, selErr(ssSel, 0));
  if (!descPresent(d.hi)) throw new GuestFault(Vec.SS, selErr(ssSel, 0));
  setAccessed(cpu, d);
  return cacheFromDesc(d);
}

/** Checks the code segment a RETF/IRET returns to (#GP(selector), #NP(selector)). */
function returnCode(cpu: Cpu, sel: number, cpl: number): Desc {
  if (isNullSel(sel)) throw new GuestFault(Vec.GP, 0);
  const d = fetchDesc(cpu, sel);
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

/** IRET / IRETD / IRETQ with operand size `size`. */
export function interruptReturn(cpu: Cpu, size: 2 | 4 | 8): bigint {
  const old = cpu.flags();
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
  const r = new StackReader(cpu);
  const ip = r.pop(size);
  const sel = Number(r.pop(size) & 0xffffn);
  const fl = Number(r.pop(size) & 0xffffffffn);
  if (size === 4 && fl & EFLAGS_VM && cpl === 0 && !longActive(cpu)) return returnToV86(cpu, r, ip, sel, fl);
  const d = returnCode(cpu, sel, cpl);
  const rpl = sel & 3;
  const cs = cacheFromDesc(d);
  const target64 = longActive(cpu) && descL(d.hi);
  let ss: SegCache | null = null;
  let sp = 0n;
  if (mode64(cpu) || rpl > cpl) {
    sp = r.pop(size);
    const ssSel = Number(r.pop(size) & 0xffffn);
    ss = outerStack(cpu, ssSel, rpl, target64);
  }
  checkOffset(cpu, cs, ip);
  // the flags the old CPL may change
  let mask = STATUS_AND_CONTROL;
  if (size !== 2) mask |= EFLAGS_RF | EFLAGS_AC | EFLAGS_ID;
  if (cpl <= ((old >> 12) & 3)) mask |= EFLAGS_IF;
  if (cpl === 0) mask |= EFLAGS_IOPL | (size !== 2 ? EFLAGS_VIF | EFLAGS_VIP : 0);
  const flags = (old & ~mask) | (fl & mask);
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
