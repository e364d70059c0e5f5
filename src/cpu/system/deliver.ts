// Exception and interrupt delivery: the real-mode IVT, the protected-mode IDT (interrupt and trap gates, privilege
// changes through the TSS, virtual-8086 exits) and the long-mode IDT (16-byte gates, RSPn/IST stacks, 16-byte
// alignment, null SS on a privilege change). Faults during delivery become #DF or a triple fault (shutdown) by the
// SDM's classes (Vol. 3 §6.15, Table 6-5). Task gates are not supported: delivery through one raises #GP.
//
// Everything that can fault is checked and every stack slot translated before any register changes, so a fault
// during delivery leaves the interrupted state intact for the next delivery attempt.
import * as L from '../layout.ts';
import { GuestFault, HAS_ERROR_CODE, Vec } from '../fault.ts';
import {
  CS, DS, ES, FS, GS, SS, EFLAGS_AC, EFLAGS_IF, EFLAGS_IOPL, EFLAGS_NT, EFLAGS_RF, EFLAGS_TF, EFLAGS_VM, FrameBuilder,
  cacheFromDesc, cplOfCpu, descConforming, descDB, descDpl, descIsCode, descL, descPresent, descTypeS, fetchDesc,
  getSeg, isCanonical, isNullSel, longActive, nullSeg, nullStackSeg, protectedMode, realSeg, selErr, setAccessed,
  setSeg, setStackPointer, stackBytesOf, sysRead,
} from './desc.ts';
import { checkTssStackSegment, legacyTssStack, tss64Field } from './tss.ts';
import type { Cpu } from '../cpu.ts';

export const enum EventKind {
  /** A processor exception (EXT = 1, error code if the vector has one). */
  Exception,
  /** INTR from the interrupt controller (EXT = 1). */
  External,
  /** NMI (EXT = 1). */
  Nmi,
  /** INT n, INT3, INTO: gate DPL checked against CPL, EXT = 0. */
  Software,
  /** INT1 (ICEBP): like a hardware exception (no DPL check, EXT = 1), no error code. */
  Icebp,
}

/**
 * Fault-class exceptions: the EFLAGS image they push has RF set (SDM Vol. 3 §17.3.1.1). #DF too: it replaces a
 * fault, and AMD hardware (checked under KVM) pushes RF = 1 for it.
 */
const FAULTS = new Set([0, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 19, 20, 21]);
const CONTRIBUTORY = new Set([0, 10, 11, 12, 13]);

/**
 * Delivers an exception raised by the instruction at RIP (faults) or after it (traps, which set RIP themselves).
 * Faults during delivery are handled here: serially, as #DF, or as a triple fault (cpu.shutdown).
 */
export function deliverException(cpu: Cpu, vector: number, errorCode: number): void {
  let vec = vector;
  let code = errorCode;
  for (;;) {
    const cr2 = cpu.get64(L.CR2);
    try {
      deliver(cpu, vec, code, EventKind.Exception, cpu.rip);
      return;
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      cpu.onException?.(e.vector, e.errorCode, cpu.rip);
      if (vec === Vec.DF) {
        cpu.shutdown = true;
        cpu.breakChain();
        return;
      }
      const second = e.vector;
      if ((CONTRIBUTORY.has(vec) && CONTRIBUTORY.has(second)) || (vec === Vec.PF && (CONTRIBUTORY.has(second) || second === Vec.PF))) {
        // a #PF that becomes #DF is never delivered: CR2 keeps the first fault's address (as KVM on AMD shows)
        if (second === Vec.PF) cpu.set64(L.CR2, cr2);
        vec = Vec.DF;
        code = 0;
      } else {
        vec = second;
        code = e.errorCode;
      }
    }
  }
}

/** INT n / INT3 / INTO / INT1 from the instruction at RIP; `next` is the return address. Faults propagate. */
export function deliverSoftware(cpu: Cpu, vector: number, next: bigint, kind: EventKind.Software | EventKind.Icebp): void {
  if (kind === EventKind.Software && cpu.get32(L.CR0) & 1 && cpu.get32(L.EFLAGS) & EFLAGS_VM && (cpu.get32(L.EFLAGS) & EFLAGS_IOPL) !== EFLAGS_IOPL) {
    throw new GuestFault(Vec.GP, 0); // INT n in virtual-8086 mode needs IOPL 3 (no VME)
  }
  deliver(cpu, vector, -1, kind, next);
}

/** An external interrupt (or NMI, vector 2) accepted between instructions. */
export function deliverInterrupt(cpu: Cpu, vector: number, nmi = false): void {
  try {
    deliver(cpu, vector, -1, nmi ? EventKind.Nmi : EventKind.External, cpu.rip);
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
    cpu.onException?.(e.vector, e.errorCode, cpu.rip);
    deliverException(cpu, e.vector, e.errorCode); // interrupts are benign: the fault is handled serially
  }
}

function deliver(cpu: Cpu, vector: number, errorCode: number, kind: EventKind, ret: bigint): void {
  cpu.deliveries++;
  const ext = kind === EventKind.Software ? 0 : 1;
  const pushCode = kind === EventKind.Exception && HAS_ERROR_CODE.has(vector) ? Math.max(0, errorCode) : -1;
  const rf = kind === EventKind.Exception && FAULTS.has(vector) ? EFLAGS_RF : 0;
  if (!protectedMode(cpu)) realMode(cpu, vector, ret);
  else if (longActive(cpu)) longMode(cpu, vector, pushCode, kind, ext, rf, ret);
  else legacyProtected(cpu, vector, pushCode, kind, ext, rf, ret);
}

function realMode(cpu: Cpu, vector: number, ret: bigint): void {
  const limit = cpu.get32(L.IDTR_LIMIT) & 0xffff;
  if (vector * 4 + 3 > limit) throw new GuestFault(Vec.GP, 0);
  const entry = cpu.get64(L.IDTR_BASE) + BigInt(vector * 4);
  const ip = sysRead(cpu, entry, 2);
  const cs = sysRead(cpu, entry + 2n, 2);
  const ss = getSeg(cpu, SS);
  const bytes = stackBytesOf(ss);
  const flags = cpu.flags();
  const fb = new FrameBuilder(cpu, ss, cpu.get64(L.gprOff(4)) & (bytes === 4 ? 0xffffffffn : 0xffffn), bytes, false, 0);
  fb.push(2, flags & 0xffff);
  fb.push(2, getSeg(cpu, CS).sel);
  fb.push(2, ret & 0xffffn);
  fb.commit();
  setStackPointer(cpu, fb.sp, bytes);
  setSeg(cpu, CS, realSeg(cs, getSeg(cpu, CS), false));
  cpu.rip = BigInt(ip);
  cpu.setFlagsWord(flags & ~(EFLAGS_IF | EFLAGS_TF | EFLAGS_AC | EFLAGS_RF));
  cpu.updateMode();
}

/** Reads and checks an IDT gate common to both protected-mode flavours. */
function readGate(cpu: Cpu, vector: number, kind: EventKind, ext: number, cpl: number, size: 8 | 16) {
  const idtErr = vector * 8 + 2 + ext;
  const limit = cpu.get32(L.IDTR_LIMIT) & 0xffff;
  if (vector * size + size - 1 > limit) throw new GuestFault(Vec.GP, idtErr);
  const entry = cpu.get64(L.IDTR_BASE) + BigInt(vector * size);
  const lo = sysRead(cpu, entry, 4) | 0;
  const hi = sysRead(cpu, entry + 4n, 4) | 0;
  const type = descTypeS(hi);
  const ok = size === 16 ? type === 0x0e || type === 0x0f : type === 0x06 || type === 0x07 || type === 0x0e || type === 0x0f;
  if (!ok) throw new GuestFault(Vec.GP, idtErr); // includes task gates (5): task switching is not implemented
  if (kind === EventKind.Software && descDpl(hi) < cpl) throw new GuestFault(Vec.GP, idtErr);
  if (!descPresent(hi)) throw new GuestFault(Vec.NP, idtErr);
  const upper = size === 16 ? sysRead(cpu, entry + 8n, 4) : 0;
  return { lo, hi, upper, type, idtErr };
}

/** The code segment a gate names: checks in the SDM's order (#GP/#NP with the selector and EXT). */
function gateTarget(cpu: Cpu, sel: number, ext: number, cpl: number) {
  if (isNullSel(sel)) throw new GuestFault(Vec.GP, ext);
  const d = fetchDesc(cpu, sel, Vec.GP, ext);
  if (!descIsCode(d.hi) || descDpl(d.hi) > cpl) throw new GuestFault(Vec.GP, selErr(sel, ext));
  if (!descPresent(d.hi)) throw new GuestFault(Vec.NP, selErr(sel, ext));
  return d;
}

function legacyProtected(cpu: Cpu, vector: number, code: number, kind: EventKind, ext: number, rf: number, ret: bigint): void {
  const eflags = cpu.flags();
  const vm = (eflags & EFLAGS_VM) !== 0;
  const cpl = vm ? 3 : cplOfCpu(cpu);
  const g = readGate(cpu, vector, kind, ext, cpl, 8);
  const gate32 = (g.type & 8) !== 0;
  const trap = (g.type & 1) !== 0;
  const csSel = g.lo >>> 16;
  const offset = gate32 ? ((g.lo & 0xffff) | (g.hi & 0xffff0000)) >>> 0 : g.lo & 0xffff;
  const d = gateTarget(cpu, csSel, ext, cpl);
  const dpl = descDpl(d.hi);
  const inner = !descConforming(d.hi) && dpl < cpl;
  if (vm && (!inner || dpl !== 0)) throw new GuestFault(Vec.GP, selErr(csSel, ext));
  const newCpl = inner ? dpl : cpl;
  const cs = cacheFromDesc(d, (csSel & 0xfffc) | newCpl);
  if (offset > cs.limit) throw new GuestFault(Vec.GP, ext);
  const size = gate32 ? 4 : 2;
  let fb: FrameBuilder;
  let newSs = null;
  if (inner) {
    const st = legacyTssStack(cpu, newCpl, ext);
    newSs = checkTssStackSegment(cpu, st.ss, newCpl, ext);
    const bytes = stackBytesOf(newSs);
    fb = new FrameBuilder(cpu, newSs, BigInt(st.sp) & (bytes === 4 ? 0xffffffffn : 0xffffn), bytes, newCpl === 3, selErr(st.ss, ext));
    if (vm) for (const s of [GS, FS, DS, ES]) fb.push(size, getSeg(cpu, s).sel);
    fb.push(size, getSeg(cpu, SS).sel);
    fb.push(size, cpu.get64(L.gprOff(4)) & 0xffffffffn);
  } else {
    const ss = getSeg(cpu, SS);
    const bytes = stackBytesOf(ss);
    fb = new FrameBuilder(cpu, ss, cpu.get64(L.gprOff(4)) & (bytes === 4 ? 0xffffffffn : 0xffffn), bytes, cpl === 3, ext);
  }
  fb.push(size, (eflags | rf) >>> 0);
  fb.push(size, getSeg(cpu, CS).sel);
  fb.push(size, ret & 0xffffffffn);
  if (code >= 0) fb.push(size, code);
  setAccessed(cpu, d);
  fb.commit();
  // commit
  if (newSs) setSeg(cpu, SS, newSs);
  setStackPointer(cpu, fb.sp, newSs ? stackBytesOf(newSs) : stackBytesOf(getSeg(cpu, SS)));
  if (vm) for (const s of [ES, DS, FS, GS]) setSeg(cpu, s, nullSeg(0, getSeg(cpu, s)));
  setSeg(cpu, CS, cs);
  cpu.set32(L.CPL, newCpl);
  cpu.rip = BigInt(offset);
  cpu.setFlagsWord(eflags & ~(EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM | (trap ? 0 : EFLAGS_IF)));
  cpu.updateMode();
}

function longMode(cpu: Cpu, vector: number, code: number, kind: EventKind, ext: number, rf: number, ret: bigint): void {
  const eflags = cpu.flags();
  const cpl = cplOfCpu(cpu);
  const g = readGate(cpu, vector, kind, ext, cpl, 16);
  const trap = (g.type & 1) !== 0;
  const csSel = g.lo >>> 16;
  const d = gateTarget(cpu, csSel, ext, cpl);
  if (!descL(d.hi) || descDB(d.hi)) throw new GuestFault(Vec.GP, selErr(csSel, ext));
  const newCpl = descConforming(d.hi) ? cpl : descDpl(d.hi);
  const offset = (BigInt(g.upper >>> 0) << 32n) | BigInt(((g.lo & 0xffff) | (g.hi & 0xffff0000)) >>> 0);
  if (!isCanonical(offset)) throw new GuestFault(Vec.GP, ext);
  const ist = g.hi & 7;
  let rsp: bigint;
  if (ist) rsp = tss64Field(cpu, 36 + 8 * (ist - 1), ext);
  else if (newCpl < cpl) rsp = tss64Field(cpu, 4 + 8 * newCpl, ext);
  else rsp = cpu.get64(L.gprOff(4));
  const fb = new FrameBuilder(cpu, null, rsp & ~0xfn, 8, newCpl === 3, ext);
  fb.push(8, getSeg(cpu, SS).sel);
  fb.push(8, cpu.get64(L.gprOff(4)));
  fb.push(8, (eflags | rf) >>> 0);
  fb.push(8, getSeg(cpu, CS).sel);
  fb.push(8, ret);
  if (code >= 0) fb.push(8, code);
  setAccessed(cpu, d);
  fb.commit();
  if (newCpl !== cpl) setSeg(cpu, SS, nullStackSeg(newCpl));
  setSeg(cpu, CS, cacheFromDesc(d, (csSel & 0xfffc) | newCpl));
  cpu.set32(L.CPL, newCpl);
  cpu.set64(L.gprOff(4), fb.sp);
  cpu.rip = offset;
  cpu.setFlagsWord(eflags & ~(EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM | (trap ? 0 : EFLAGS_IF)));
  cpu.updateMode();
}
