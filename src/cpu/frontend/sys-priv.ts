// Privileged and system instructions: descriptor tables (LGDT ... LTR, LAR/LSL/VERR/VERW, ARPL), segment loads
// (LDS/LES/LFS/LGS/LSS, POP Sreg), CR0 shortcuts (CLTS, LMSW, SMSW), TLB and cache maintenance, fences,
// CLI/STI, PUSHF/POPF, MSRs, the TSC, CPUID, SWAPGS, CLAC/STAC.
import { Cond, Op } from '../ir/ops.ts';
import type { T32, T64 } from '../ir/builder.ts';
import { defineHelper } from '../ir/helpers.ts';
import { OpKind } from '../../decoder/types.ts';
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import type { Cpu } from '../cpu.ts';
import { cpuid } from '../cpuid.ts';
import {
  CR0_TS, CR4_TSD, DS, ES, FS, GS, LDTR, SS, TR, EFLAGS_AC, EFLAGS_IF, EFLAGS_IOPL, EFLAGS_RF, EFLAGS_VM, cacheFromDesc,
  cplOfCpu, descConforming, descDpl, descIsCode, descIsData, descPresent, descRW, descTypeS, fetchDesc, fetchDescHigh,
  isCanonical, isNullSel, longActive, selErr, setSeg, sysWrite,
} from '../system/desc.ts';
import { H_LOAD_SEG, H_WRITE_CR } from '../system/movsys.ts';
import { readMsr, readTscNumber, writeMsr } from '../system/msr.ts';
import { ATTR_UNUSABLE } from '../segattr.ts';
import { cplWithinIopl, eaPlus, faultUnless, inProtected, inV86, iopl, requireCpl0, requireProtected } from './sys-util.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

const ZF = 0x40;

/** Writes a register destination with x86's size rules, zero-extending 32-bit values into 64-bit registers. */
function writeSized(t: Translator, n: number, v32: T32): void {
  const o = t.i.operands[n]!;
  if (o.kind === OpKind.Mem) t.write(o, v32);
  else t.write(o, o.size === 8 ? t.zext64(v32) : v32);
}

// ---- descriptor-table registers ----

function loadTable(base: number, limit: number) {
  return (t: Translator) => {
    if (!requireCpl0(t)) return;
    const o = t.i.operands[0]!;
    const ea = t.ea(o);
    const lim = t.load(2, o.seg, ea) as T32;
    let b: T64;
    if (t.codeBits === 64) b = t.load(8, o.seg, eaPlus(t, ea, 2)) as T64;
    else {
      let b32 = t.load(4, o.seg, eaPlus(t, ea, 2)) as T32;
      if (t.i.opSize === 2) b32 = t.bin32(Op.AND32, b32, t.const32(0xffffff));
      b = t.zext64(b32);
    }
    t.st32(limit, lim);
    t.st64(base, b);
  };
}
sem(['lgdt', 'lgdtw', 'lgdtd'], loadTable(L.GDTR_BASE, L.GDTR_LIMIT));
sem(['lidt', 'lidtw', 'lidtd'], loadTable(L.IDTR_BASE, L.IDTR_LIMIT));

function storeTable(base: number, limit: number) {
  return (t: Translator) => {
    const o = t.i.operands[0]!;
    const ea = t.ea(o);
    const lim = t.ld32(limit);
    const b = t.ld64(base);
    // both halves are checked before either is written
    if (t.codeBits === 64) t.load(8, o.seg, eaPlus(t, ea, 2));
    t.store(2, o.seg, ea, lim);
    if (t.codeBits === 64) t.store(8, o.seg, eaPlus(t, ea, 2), b);
    else t.store(4, o.seg, eaPlus(t, ea, 2), t.lo32(b));
  };
}
sem(['sgdt', 'sgdtw', 'sgdtd'], storeTable(L.GDTR_BASE, L.GDTR_LIMIT));
sem(['sidt', 'sidtw', 'sidtd'], storeTable(L.IDTR_BASE, L.IDTR_LIMIT));

sem('sldt', (t) => {
  if (!requireProtected(t)) return;
  writeSized(t, 0, t.ld32(L.segOff(LDTR) + L.SEG_SEL));
});
sem('str', (t) => {
  if (!requireProtected(t)) return;
  writeSized(t, 0, t.ld32(L.segOff(TR) + L.SEG_SEL));
});

const H_LLDT = defineHelper('lldt', [32], 0, true, (h, s) => {
  const cpu = h as Cpu;
  const sel = Number(s) & 0xffff;
  if (isNullSel(sel)) {
    setSeg(cpu, LDTR, { sel, base: 0n, limit: 0, attr: ATTR_UNUSABLE });
    return;
  }
  if (sel & 4) throw new GuestFault(Vec.GP, selErr(sel, 0));
  const d = fetchDesc(cpu, sel);
  if (descTypeS(d.hi) !== 0x02) throw new GuestFault(Vec.GP, selErr(sel, 0));
  if (!descPresent(d.hi)) throw new GuestFault(Vec.NP, selErr(sel, 0));
  const c = systemSegment(cpu, d, sel);
  setSeg(cpu, LDTR, c);
});

/** The cache of an LDT/TSS descriptor; in long mode a 16-byte descriptor whose upper half holds base 63:32. */
function systemSegment(cpu: Cpu, d: ReturnType<typeof fetchDesc>, sel: number): ReturnType<typeof cacheFromDesc> {
  const c = cacheFromDesc(d);
  if (longActive(cpu)) {
    const up = fetchDescHigh(cpu, d);
    c.base |= BigInt(up.lo >>> 0) << 32n;
    if (!isCanonical(c.base)) throw new GuestFault(Vec.GP, selErr(sel, 0));
  }
  return c;
}

const H_LTR = defineHelper('ltr', [32], 0, true, (h, s) => {
  const cpu = h as Cpu;
  const sel = Number(s) & 0xffff;
  if (isNullSel(sel)) throw new GuestFault(Vec.GP, 0);
  if (sel & 4) throw new GuestFault(Vec.GP, selErr(sel, 0));
  const d = fetchDesc(cpu, sel);
  const type = descTypeS(d.hi);
  if (longActive(cpu) ? type !== 0x09 : type !== 0x01 && type !== 0x09) throw new GuestFault(Vec.GP, selErr(sel, 0));
  if (!descPresent(d.hi)) throw new GuestFault(Vec.NP, selErr(sel, 0));
  const c = systemSegment(cpu, d, sel);
  // mark the descriptor busy
  d.hi |= 0x200;
  sysWrite(cpu, d.addr + 5n, 1, (d.hi >>> 8) & 0xff);
  c.attr |= 2;
  setSeg(cpu, TR, c);
});

function selectorOperand(t: Translator, n: number): T32 {
  const o = t.i.operands[n]!;
  const v = t.read(o);
  return t.zext16(o.size === 8 ? t.lo32(v as T64) : (v as T32));
}

sem('lldt', (t) => {
  if (!requireProtected(t) || !requireCpl0(t)) return;
  t.call(H_LLDT, [selectorOperand(t, 0)]);
});
sem('ltr', (t) => {
  if (!requireProtected(t) || !requireCpl0(t)) return;
  t.call(H_LTR, [selectorOperand(t, 0)]);
});

// ---- LAR / LSL / VERR / VERW: ZF reports whether the selector is valid and accessible here ----

const enum Check { Lar, Lsl, Verr, Verw }

/** The valid system-descriptor types for LAR (LSL accepts the TSS and LDT types only). */
const LAR_LEGACY = new Set([1, 2, 3, 4, 5, 9, 11, 12]);
const LAR_LONG = new Set([2, 9, 11, 12]);
const LSL_LEGACY = new Set([1, 2, 3, 9, 11]);
const LSL_LONG = new Set([2, 9, 11]);

/** Returns (1 << 32) | value when the check passes, 0 otherwise. Faults only on the descriptor read itself. */
function verify(cpu: Cpu, sel: number, check: Check): bigint {
  if (isNullSel(sel)) return 0n;
  let d;
  try {
    d = fetchDesc(cpu, sel);
  } catch (e) {
    if (e instanceof GuestFault && e.vector === Vec.GP) return 0n; // beyond the table limit: ZF = 0
    throw e;
  }
  const hi = d.hi;
  const cpl = cplOfCpu(cpu);
  const long = longActive(cpu);
  const system = (hi & 0x1000) === 0;
  const type = (hi >>> 8) & 0xf;
  if (system) {
    if (check === Check.Verr || check === Check.Verw) return 0n;
    const ok = check === Check.Lar ? (long ? LAR_LONG : LAR_LEGACY) : long ? LSL_LONG : LSL_LEGACY;
    if (!ok.has(type)) return 0n;
  } else if (check === Check.Verr && descIsCode(hi) && !descRW(hi)) return 0n;
  else if (check === Check.Verw && !(descIsData(hi) && descRW(hi))) return 0n;
  if (!(descIsCode(hi) && descConforming(hi)) || check === Check.Verw) {
    const dpl = descDpl(hi);
    if (dpl < cpl || dpl < (sel & 3)) return 0n;
  }
  const value = check === Check.Lar ? hi & 0x00f0ff00 : check === Check.Lsl ? cacheFromDesc(d).limit : 0;
  return (1n << 32n) | BigInt(value >>> 0);
}

const H_VERIFY = defineHelper('verify_sel', [32, 32], 64, true, (h, sel, check) => verify(h as Cpu, Number(sel) & 0xffff, Number(check)));

function verifySem(check: Check) {
  return (t: Translator) => {
    if (!requireProtected(t)) return;
    const src = check === Check.Lar || check === Check.Lsl ? 1 : 0;
    const r = t.call(H_VERIFY, [selectorOperand(t, src), t.const32(check)], 64) as T64;
    const ok = t.hi32(r);
    if (check === Check.Lar || check === Check.Lsl) {
      // the destination is written only when ZF = 1
      const skip = t.label();
      t.brz(ok, skip);
      writeSized(t, 0, t.lo32(r));
      t.place(skip);
    }
    t.setFlagsWord(t.bin32(Op.SHL32, ok, t.const32(6)), ZF);
  };
}
sem('lar', verifySem(Check.Lar));
sem('lsl', verifySem(Check.Lsl));
sem('verr', verifySem(Check.Verr));
sem('verw', verifySem(Check.Verw));

sem('arpl', (t) => {
  if (!requireProtected(t)) return;
  const [d, s] = t.i.operands;
  const dv = t.read(d!) as T32;
  const sv = t.read(s!) as T32;
  const srpl = t.bin32(Op.AND32, sv, t.const32(3));
  const less = t.setcc32(Cond.LTU, t.bin32(Op.AND32, dv, t.const32(3)), srpl);
  const skip = t.label();
  t.brz(less, skip);
  t.write(d!, t.bin32(Op.OR32, t.bin32(Op.AND32, dv, t.const32(~3)), srpl));
  t.place(skip);
  t.setFlagsWord(t.bin32(Op.SHL32, less, t.const32(6)), ZF);
});

// ---- segment loads from memory: LDS LES LFS LGS LSS ----

for (const [name, seg] of [['lds', DS], ['les', ES], ['lfs', FS], ['lgs', GS], ['lss', SS]] as const) {
  sem(name, (t) => {
    const [d, m] = t.i.operands;
    const size = d!.size;
    const ea = t.ea(m!);
    const off = t.load(size, m!.seg, ea);
    const sel = t.load(2, m!.seg, eaPlus(t, ea, size)) as T32;
    t.call(H_LOAD_SEG, [t.const32(seg), sel]);
    t.write(d!, off);
    if (seg === SS) t.endBlock();
  });
}

/** POP Sreg (called by the `pop` semantics): the selector is read, loaded (may fault), then rSP moves. */
export function popSegment(t: Translator): void {
  const seg = t.i.operands[0]!.reg & 0xff;
  const size = t.i.opSize;
  const v = t.peek(size);
  const sel = t.zext16(size === 8 ? t.lo32(v as T64) : (v as T32));
  t.call(H_LOAD_SEG, [t.const32(seg | (seg === SS ? 0x100 : 0)), sel]);
  t.setSp(t.spAdd(t.sp(), size));
  if (seg === SS) t.endBlock();
}

// ---- CR0 shortcuts ----

sem('clts', (t) => {
  if (!requireCpl0(t)) return;
  t.st32(L.CR0, t.bin32(Op.AND32, t.ld32(L.CR0), t.const32(~CR0_TS)));
  t.endBlock(); // later x87/SSE instructions re-check CR0.TS (fpu-guard.ts)
});

sem('lmsw', (t) => {
  if (!requireCpl0(t)) return;
  const src = t.bin32(Op.AND32, t.src(0) as T32, t.const32(0xf));
  const cr0 = t.ld32(L.CR0);
  // LMSW sets PE but cannot clear it
  const v = t.bin32(Op.OR32, t.bin32(Op.AND32, cr0, t.const32(~0xe)), src);
  t.call(H_WRITE_CR, [t.const32(0), t.zext64(v)]);
  t.endBlock();
});

sem('smsw', (t) => {
  const o = t.i.operands[0]!;
  const cr0 = t.ld32(L.CR0);
  if (o.kind === OpKind.Mem || o.size === 2) t.write(o, cr0);
  else writeSized(t, 0, cr0);
});

// ---- TLB, caches, ordering ----

// (the address as two 32-bit words: a 64-bit helper argument is a BigInt in JS; Linux boots with ~70 k INVLPGs)
const H_INVLPG = defineHelper('invlpg', [32, 32, 32], 0, false, (h, seg, eaLo, eaHi) => {
  const mmu = (h as Cpu).mmu;
  mmu.linear(seg as number, eaLo as number, eaHi as number);
  mmu.flushPage(mmu.linLo, mmu.linHi);
});
sem('invlpg', (t) => {
  if (!requireCpl0(t)) return;
  const o = t.i.operands[0]!;
  const ea = t.ea(o);
  t.call(H_INVLPG, [t.const32(o.seg), t.lo32(ea), t.hi32(ea)]);
});

sem(['wbinvd', 'invd'], (t) => {
  requireCpl0(t);
});
// Cache-line flushes check the access like a byte read (#PF/#GP/#SS) and do nothing else.
sem(['clflush', 'clflushopt', 'clwb'], (t) => {
  const o = t.i.operands[0]!;
  t.load(1, o.seg, t.ea(o));
});
sem(['lfence', 'mfence', 'sfence'], () => {});
// SERIALIZE ends its block (the decoder marks it serialising): the code after it is fetched anew.
sem('serialize', () => {});

// ---- interrupt flag ----

function iopl3(t: Translator): T32 {
  return t.setcc32(Cond.EQ, iopl(t), t.const32(3));
}

/** CLI/STI are allowed at CPL <= IOPL (virtual-8086 mode: IOPL = 3); PVI/VME are not implemented. */
const H_STI = defineHelper('sti', [], 0, true, (h) => {
  const cpu = h as Cpu;
  const fl = cpu.get32(L.EFLAGS);
  if (!(fl & EFLAGS_IF)) {
    cpu.set32(L.EFLAGS, fl | EFLAGS_IF);
    cpu.irqShadow = true; // interrupts are recognised only after the next instruction
    if (cpu.interruptible()) cpu.breakChain();
  }
});

sem('cli', (t) => {
  if (inProtected(t) && t.cpl !== 0) faultUnless(t, inV86(t) ? iopl3(t) : cplWithinIopl(t), Vec.GP, 0);
  t.st32(L.EFLAGS, t.bin32(Op.AND32, t.ld32(L.EFLAGS), t.const32(~EFLAGS_IF)));
});
sem('sti', (t) => {
  if (inProtected(t) && t.cpl !== 0) faultUnless(t, inV86(t) ? iopl3(t) : cplWithinIopl(t), Vec.GP, 0);
  t.call(H_STI, []);
  t.endBlock(); // the interrupt shadow is measured from the block boundary (cpu.ts run loop)
});

sem(['clac', 'stac'], (t) => {
  if (!requireCpl0(t)) return;
  const fl = t.ld32(L.EFLAGS);
  t.st32(L.EFLAGS, t.i.mnemonic === 'stac' ? t.bin32(Op.OR32, fl, t.const32(EFLAGS_AC)) : t.bin32(Op.AND32, fl, t.const32(~EFLAGS_AC)));
});

// ---- PUSHF / POPF ----

sem(['pushf', 'pushfw', 'pushfd', 'pushfq'], (t) => {
  if (inV86(t)) faultUnless(t, iopl3(t), Vec.GP, 0);
  const size = t.i.opSize;
  // the image has VM and RF clear
  const v = t.bin32(Op.AND32, t.flags(), t.const32(~(EFLAGS_VM | EFLAGS_RF)));
  t.push(size === 8 ? t.zext64(v) : v, size);
});

sem(['popf', 'popfw', 'popfd', 'popfq'], (t) => {
  const size = t.i.opSize;
  const v86 = inV86(t);
  if (v86) faultUnless(t, iopl3(t), Vec.GP, 0);
  const raw = t.peek(size);
  let v = size === 8 ? t.lo32(raw as T64) : (raw as T32);
  // what may change: everything but VM, VIF, VIP (RF is cleared); IOPL at CPL 0 only; IF at CPL <= IOPL
  let mask = 0x244dd5 | EFLAGS_IF | EFLAGS_RF; // CF PF AF ZF SF TF DF OF NT AC ID, IF, RF
  if (t.cpl === 0 && !v86) mask |= EFLAGS_IOPL;
  if (size === 2) mask &= 0xffff;
  v = t.bin32(Op.AND32, v, t.const32(~EFLAGS_RF));
  if (inProtected(t) && t.cpl !== 0 && !v86) {
    const oldIf = t.bin32(Op.AND32, t.ld32(L.EFLAGS), t.const32(EFLAGS_IF));
    const keepIf = t.bin32(Op.OR32, t.bin32(Op.AND32, v, t.const32(~EFLAGS_IF)), oldIf);
    v = t.select32(cplWithinIopl(t), v, keepIf);
  }
  t.setSp(t.spAdd(t.sp(), size));
  t.setFlagsWord(v, mask);
  // TF and AC are part of the mode word (single-step, alignment checks): the next block must see the new value
  t.call(H_UPDATE_MODE, []);
  t.endBlock();
});

const H_UPDATE_MODE = defineHelper('update_mode', [], 0, false, (h) => (h as Cpu).updateMode());

// ---- MSRs, TSC, CPUID ----

const H_RDMSR = defineHelper('rdmsr', [32], 64, true, (h, msr) => readMsr(h as Cpu, Number(msr)));
const H_WRMSR = defineHelper('wrmsr', [32, 64], 0, true, (h, msr, v) => writeMsr(h as Cpu, Number(msr), v as bigint));

/** EDX:EAX <- a 64-bit value (each zero-extended into its 64-bit register). */
function setEdxEax(t: Translator, v: T64): void {
  t.setGpr(0, 4, t.lo32(v));
  t.setGpr(2, 4, t.hi32(v));
}

sem('rdmsr', (t) => {
  if (!requireCpl0(t)) return;
  setEdxEax(t, t.call(H_RDMSR, [t.gpr(1, 4)], 64) as T64);
});
sem('wrmsr', (t) => {
  if (!requireCpl0(t)) return;
  const v = t.pair64(t.gpr(0, 4) as T32, t.gpr(2, 4) as T32);
  t.call(H_WRMSR, [t.gpr(1, 4), v]);
  t.flagsUnknown();
  t.endBlock(); // EFER can change the mode
});

// (the helper writes EDX:EAX itself: a 64-bit result would reach compiled code as a BigInt)
const H_RDTSC = defineHelper('rdtsc', [], 0, true, (h) => {
  const cpu = h as Cpu;
  if (cpu.get32(L.CR4) & CR4_TSD && cplOfCpu(cpu) !== 0 && cpu.get32(L.CR0) & 1) throw new GuestFault(Vec.GP, 0);
  const v = readTscNumber(cpu);
  const hi = Math.floor(v / 4294967296);
  // (32-bit writes: the upper halves of RAX and RDX are cleared)
  cpu.set32(L.gprOff(0), (v - hi * 4294967296) | 0);
  cpu.set32(L.gprOff(0) + 4, 0);
  cpu.set32(L.gprOff(2), hi | 0);
  cpu.set32(L.gprOff(2) + 4, 0);
});
sem('rdtsc', (t) => {
  t.call(H_RDTSC, []);
});
sem('rdtscp', (t) => {
  t.call(H_RDTSC, []);
  t.setGpr(1, 4, t.ld32(L.TSC_AUX));
});
sem('rdpid', (t) => {
  const aux = t.ld32(L.TSC_AUX);
  const o = t.i.operands[0]!;
  t.write(o, o.size === 8 ? t.zext64(aux) : aux);
});
sem('rdpmc', (t) => t.fault(Vec.GP, 0)); // no performance counters

const H_CPUID = defineHelper('cpuid', [], 0, false, (h) => {
  const cpu = h as Cpu;
  const r = cpuid(cpu.get32(L.gprOff(0)), cpu.get32(L.gprOff(1)), cpu.get32(L.CR4));
  [0, 3, 1, 2].forEach((reg, i) => cpu.set64(L.gprOff(reg), BigInt(r[i]!)));
});
sem('cpuid', (t) => {
  t.call(H_CPUID, []);
});

sem('swapgs', (t) => {
  if (!requireCpl0(t)) return;
  const gs = L.segOff(GS) + L.SEG_BASE;
  const a = t.ld64(gs);
  const b = t.ld64(L.KERNEL_GS_BASE);
  t.st64(gs, b);
  t.st64(L.KERNEL_GS_BASE, a);
});
