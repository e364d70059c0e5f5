// String instructions movs/cmps/scas/lods/stos, with REP/REPE/REPNE (ins/outs are with the I/O instructions).
//
// rSI/rDI/rCX are SI/ESI/RSI ... by address size (a 32-bit address size writes ESI, clearing the upper half); the
// source segment is DS unless overridden, the destination is always ES; DF selects the direction.
// REP is precise and interruptible: one execution of the instruction does one iteration and leaves RIP on the
// instruction while more remain (programs are loop-free, re-executing the instruction is the loop), so a fault
// leaves the registers of the faulting iteration and interrupts are taken between iterations. F2 on movs/lods/stos
// repeats like F3 (as the hardware does).
//
// REP MOVS/STOS first try a helper that moves whole page-sized runs of elements in RAM at once (bounded per
// execution, registers updated after each run so a fault between runs is still precise); whatever it cannot do
// (MMIO, an element straddling pages, address wrap-around) falls to the one-iteration path.
import { Op } from '../ir/ops.ts';
import type { T, T32, T64 } from '../ir/builder.ts';
import { defineHelper } from '../ir/helpers.ts';
import { Pfx } from '../../decoder/types.ts';
import * as L from '../layout.ts';
import { Access } from '../mmu.ts';
import { GuestFault } from '../fault.ts';
import { ModeBits } from '../mode.ts';
import type { Cpu } from '../cpu.ts';
import { CcKind } from './flags.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

const RAX = 0, RCX = 1, RSI = 6, RDI = 7;
const ES = 0;

/** The address of [seg:rSI] / [seg:rDI] from the register value at the address size. */
function addrOf(t: Translator, v: T): T64 {
  const as = t.i.addrSize;
  return as === 8 ? (v as T64) : t.zext64(v as T32);
}

/** Element size (+1/-1 by DF, times `size`) at the address size. */
function step(t: Translator, size: number): T {
  const df = t.bin32(Op.AND32, t.bin32(Op.SHR32, t.ld32(L.EFLAGS), t.const32(10)), t.const32(1));
  if (t.i.addrSize === 8) return t.select64(df, t.const64(-size), t.const64(size));
  return t.select32(df, t.const32(-size), t.const32(size));
}

interface Iter {
  /** The element size. */
  size: number;
  /** true for cmps/scas (REPE/REPNE test ZF after each iteration). */
  compares: boolean;
}

/**
 * Wraps one iteration `body` with the REP logic: nothing happens when rCX is 0, rCX counts down after the
 * iteration, and the block ends with a branch back to this instruction while the repetition goes on.
 */
function stringOp(compares: boolean, body: (t: Translator, it: Iter) => void) {
  return (t: Translator) => {
    const size = t.i.operands.find((o) => o.size)!.size;
    const rep = (t.i.prefixes & (Pfx.REP | Pfx.REPNE)) !== 0;
    if (!rep) {
      body(t, { size, compares });
      return;
    }
    const as = t.i.addrSize;
    const z = t.sized(as);
    // (the bulk helper checks no alignment and moves many elements at once: with #AC checks on, or single-stepping
    // — which traps after every iteration — each element goes through the IR's accesses)
    if (!compares && t.i.mnemonic !== 'lods' && !(t.mode & (ModeBits.AC | ModeBits.TF))) {
      const src = t.i.mnemonic === 'movs' ? t.i.operands[1]!.seg : 0;
      t.call(H_REP_BULK, [t.const32((t.i.mnemonic === 'movs' ? 1 : 0) | (size << 4) | (as << 8) | (src << 12))]);
    }
    const cnt = t.gpr(RCX, as);
    const work = t.label();
    t.brz(z.isZero(cnt), work); // rCX != 0: go to the iteration
    t.exitAt(t.nextOff); // rCX = 0: nothing to do
    t.place(work);
    body(t, { size, compares });
    const left = z.sub(cnt, z.c(1));
    t.setGpr(RCX, as, left);
    let more = t.not01(z.isZero(left));
    if (compares) {
      // REPE (F3) goes on while equal, REPNE (F2) while not equal
      const zf = t.cond(t.i.repPrefix === 0xf3 ? 4 : 5); // with both prefixes the last one decides
      more = t.bin32(Op.AND32, more, zf);
    }
    t.branch(more, t.off, t.nextOff);
  };
}

/** Advances rSI and/or rDI by one element. */
function advance(t: Translator, size: number, si: T | null, di: T | null): void {
  const as = t.i.addrSize;
  const z = t.sized(as);
  const d = step(t, size);
  if (si) t.setGpr(RSI, as, z.add(si, d));
  if (di) t.setGpr(RDI, as, z.add(di, d));
}

sem('movs', stringOp(false, (t, { size }) => {
  const src = t.i.operands[1]!;
  const si = t.gpr(RSI, t.i.addrSize);
  const di = t.gpr(RDI, t.i.addrSize);
  const v = t.load(size, src.seg, addrOf(t, si));
  t.store(size, ES, addrOf(t, di), v);
  advance(t, size, si, di);
}));

sem('stos', stringOp(false, (t, { size }) => {
  const di = t.gpr(RDI, t.i.addrSize);
  t.store(size, ES, addrOf(t, di), t.reg(RAX, size));
  advance(t, size, null, di);
}));

sem('lods', stringOp(false, (t, { size }) => {
  const src = t.i.operands[1]!;
  const si = t.gpr(RSI, t.i.addrSize);
  const v = t.load(size, src.seg, addrOf(t, si));
  t.setReg(RAX, size, v);
  advance(t, size, si, null);
}));

sem('cmps', stringOp(true, (t, { size }) => {
  const src = t.i.operands[0]!;
  const si = t.gpr(RSI, t.i.addrSize);
  const di = t.gpr(RDI, t.i.addrSize);
  // ES:[rDI] is read first: when both operands fault, that is the fault the hardware reports
  const b = t.load(size, ES, addrOf(t, di));
  const a = t.load(size, src.seg, addrOf(t, si));
  advance(t, size, si, di);
  t.setFlags(CcKind.SUB, size, t.sized(size).sub(a, b), b);
}));

sem('scas', stringOp(true, (t, { size }) => {
  const di = t.gpr(RDI, t.i.addrSize);
  const b = t.load(size, ES, addrOf(t, di));
  const a = t.reg(RAX, size);
  advance(t, size, null, di);
  t.setFlags(CcKind.SUB, size, t.sized(size).sub(a, b), b);
}));

// ---------------------------------------------------------------------------------------------------------------
// Bulk REP MOVS/STOS

/** Bytes moved per execution at most (the instruction then re-executes: interrupts get their chance). */
export const BULK_LIMIT = 0x10000;

const MASK: Record<number, bigint> = { 2: 0xffffn, 4: 0xffffffffn, 8: 0xffffffffffffffffn };

/** The run of at most `max` elements from offset `off` (direction `dir`) that stays within one page and segment. */
interface Run {
  n: number;
  /** Physical address of the run's lowest byte, or -1 (not RAM). */
  phys: number;
}

function linearOf(cpu: Cpu, seg: number, off: bigint, size: number, access: Access): number {
  cpu.mmu.segment(seg, Number(off & 0xffffffffn) | 0, Number(off >> 32n) | 0, size, access);
  return cpu.mmu.linLo;
}

function run(cpu: Cpu, seg: number, off: bigint, size: number, dir: number, max: number, access: Access, user: boolean): Run {
  const mmu = cpu.mmu;
  const pageOff = linearOf(cpu, seg, off, size, access) & 0xfff;
  if (pageOff + size > 4096) return { n: 0, phys: -1 }; // straddles a page boundary
  const n = Math.min(max, dir > 0 ? Math.floor((4096 - pageOff) / size) : Math.floor(pageOff / size) + 1);
  const low = dir > 0 ? off : off - BigInt((n - 1) * size);
  mmu.segment(seg, Number(low & 0xffffffffn) | 0, Number(low >> 32n) | 0, n * size, access); // limits of the whole run
  const p = mmu.translate(mmu.linLo, mmu.linHi, access, user);
  return { n, phys: p + n * size <= cpu.ramSize ? p : -1 };
}

/** RAX as bytes, for STOS fills. */
const PATTERN = new Uint8Array(8);
const PATTERN_VIEW = new DataView(PATTERN.buffer);

/** Writes a count or index register at address size `as` (a 32-bit write zero-extends, a 16-bit one merges). */
function setCounter(cpu: Cpu, r: number, v: bigint, as: number): void {
  const mask = MASK[as]!;
  cpu.set64(L.gprOff(r), as === 8 ? v : as === 4 ? v & mask : (cpu.get64(L.gprOff(r)) & ~mask) | (v & mask));
}

/**
 * MOVS copies, STOS fills `bytes` at physical `d0` (from `s0`, the lowest bytes of both runs) in element order
 * (`size`, direction `dir`); code on the destination pages is dropped first.
 */
function move(cpu: Cpu, movs: boolean, size: number, dir: number, d0: number, s0: number, bytes: number): void {
  for (let pg = Math.floor(d0 / 4096); pg <= Math.floor((d0 + bytes - 1) / 4096); pg++) {
    if (!cpu.mmu.codePages[pg]) continue;
    const from = Math.max(d0, pg * 4096);
    cpu.codeWritten(from, Math.min(d0 + bytes, pg * 4096 + 4096) - from);
  }
  const u8 = cpu.u8;
  if (movs) {
    // element order matters only when the runs overlap so that a later read would see an earlier write
    const clash = dir > 0 ? d0 > s0 && d0 < s0 + bytes : d0 < s0 && d0 + bytes > s0;
    if (!clash) u8.copyWithin(d0, s0, s0 + bytes);
    else if (dir > 0) for (let i = 0; i < bytes; i += size) u8.copyWithin(d0 + i, s0 + i, s0 + i + size);
    else for (let i = bytes - size; i >= 0; i -= size) u8.copyWithin(d0 + i, s0 + i, s0 + i + size);
  } else fill(cpu, size, d0, bytes);
}

/** STOS: `bytes` at physical `d0` filled with copies of the low `size` bytes of RAX. */
function fill(cpu: Cpu, size: number, d0: number, bytes: number): void {
  const u8 = cpu.u8;
  // one element, then copies of what is filled so far (or a byte fill when its bytes are all equal)
  PATTERN_VIEW.setBigUint64(0, cpu.get64(L.gprOff(RAX)), true);
  let same = true;
  for (let i = 1; i < size; i++) if (PATTERN[i] !== PATTERN[0]) same = false;
  if (same) u8.fill(PATTERN[0]!, d0, d0 + bytes);
  else {
    u8.set(PATTERN.subarray(0, size), d0);
    for (let done = size; done < bytes; done *= 2) u8.copyWithin(d0 + done, d0, d0 + Math.min(done, bytes - done));
  }
}

/**
 * The common case in 64-bit code (Linux's memcpy, memset, copy_to_user): 64-bit addresses, DF clear, no FS/GS
 * base, RCX below 2^32. Registers stay int32 pairs, no BigInt. Returns false, having done nothing, otherwise.
 */
function bulk64(cpu: Cpu, movs: boolean, size: number, srcSeg: number, user: boolean, budget: number): boolean {
  const i32 = cpu.i32;
  const s = cpu.stateBase >> 2;
  const rcx = s + (L.gprOff(RCX) >> 2), rsi = s + (L.gprOff(RSI) >> 2), rdi = s + (L.gprOff(RDI) >> 2);
  if (i32[rcx + 1] !== 0 || (movs && srcSeg >= 4)) return false;
  const mmu = cpu.mmu;
  let count = i32[rcx]! >>> 0;
  while (count > 0 && budget >= size) {
    const dlo = i32[rdi]!, dhi = i32[rdi + 1]!;
    const slo = i32[rsi]!, shi = i32[rsi + 1]!;
    const doff = dlo & 0xfff, soff = slo & 0xfff;
    if (doff + size > 4096 || (movs && soff + size > 4096)) return true; // straddles: one iteration does it
    if ((dhi >> 15 !== 0 && dhi >> 15 !== -1) || (movs && shi >> 15 !== 0 && shi >> 15 !== -1)) return true;
    let n = Math.min(count, Math.floor((4096 - doff) / size), Math.floor(budget / size));
    if (movs) n = Math.min(n, Math.floor((4096 - soff) / size));
    const bytes = n * size;
    // the reads come first, as in an iteration
    const ps = movs ? mmu.translate(slo, shi, Access.Read, user) : 0;
    const pd = mmu.translate(dlo, dhi, Access.Write, user);
    if (ps + bytes > cpu.ramSize || pd + bytes > cpu.ramSize) return true;
    move(cpu, movs, size, 1, pd, ps, bytes);
    count -= n;
    i32[rcx] = count;
    const d = (dlo >>> 0) + bytes;
    i32[rdi] = d | 0;
    if (d > 0xffffffff) i32[rdi + 1] = (dhi + 1) | 0;
    if (movs) {
      const v = (slo >>> 0) + bytes;
      i32[rsi] = v | 0;
      if (v > 0xffffffff) i32[rsi + 1] = (shi + 1) | 0;
    }
    budget -= bytes;
  }
  return true;
}

/** REP MOVS/STOS in bulk (the helper's work), moving at most `budget` bytes. */
export function repBulk(cpu: Cpu, spec: number, budget = BULK_LIMIT): void {
  try {
    bulk(cpu, spec, budget);
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
  }
}

function bulk(cpu: Cpu, spec: number, budget: number): void {
  const movs = (spec & 1) !== 0;
  const size = (spec >> 4) & 15;
  const as = (spec >> 8) & 15;
  const srcSeg = (spec >> 12) & 7;
  const user = (cpu.mode & ModeBits.CPL_MASK) === 3 << ModeBits.CPL_SHIFT;
  const dir = cpu.get32(L.EFLAGS) & 0x400 ? -1 : 1;
  if (as === 8 && dir > 0 && (cpu.mode & 3) === 2 && bulk64(cpu, movs, size, srcSeg, user, budget)) return;
  const mask = MASK[as]!;
  let count = cpu.get64(L.gprOff(RCX)) & mask;
  let si = movs ? cpu.get64(L.gprOff(RSI)) & mask : 0n;
  let di = cpu.get64(L.gprOff(RDI)) & mask;
  while (count > 0n && budget >= size) {
    let max = Math.min(Number(count < 0x100000n ? count : 0x100000n), Math.floor(budget / size));
    // the reads come first, as in an iteration
    const src = movs ? run(cpu, srcSeg, si, size, dir, max, Access.Read, user) : { n: max, phys: 0 };
    max = Math.min(max, src.n);
    const dst = run(cpu, ES, di, size, dir, max, Access.Write, user);
    const n = Math.min(max, dst.n);
    if (n <= 0 || src.phys < 0 || dst.phys < 0) return;
    const bytes = n * size;
    // a run in the other direction starts at its highest element; the offsets must not wrap within the run
    const span = BigInt(bytes - size);
    if (dir > 0 ? di + span > mask || si + span > mask : di < span || si < span) return;
    const d0 = dst.phys + (dst.n - n) * (dir > 0 ? 0 : size); // lowest byte of the n elements actually moved
    const s0 = src.phys + (src.n - n) * (dir > 0 ? 0 : size);
    move(cpu, movs, size, dir, d0, s0, bytes);
    const delta = BigInt(dir * bytes);
    count -= BigInt(n);
    di = (di + delta) & mask;
    if (movs) si = (si + delta) & mask;
    setCounter(cpu, RCX, count, as);
    setCounter(cpu, RDI, di, as);
    if (movs) setCounter(cpu, RSI, si, as);
    budget -= bytes;
  }
}

/**
 * Moves as many elements as it can in bulk; never raises: anything that would fault (or is not plain RAM) is left
 * to the one-iteration path, which then faults precisely.
 */
export const H_REP_BULK = defineHelper('rep_bulk', [32], 0, true, (h, spec) => repBulk(h as Cpu, Number(spec)));
