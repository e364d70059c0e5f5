// enter/leave and pusha/popa (the latter two exist outside 64-bit mode only; the decoder makes them #UD there).
// Every store (and load) comes before the registers change, so a fault leaves rSP and rBP as they were.
import type { T, T32, T64 } from '../ir/builder.ts';
import { defineHelper } from '../ir/helpers.ts';
import { Op } from '../ir/ops.ts';
import { Access } from '../mmu.ts';
import { ModeBits } from '../mode.ts';
import type { Cpu } from '../cpu.ts';
import { GuestFault } from '../fault.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

/**
 * Checks that a write to SS:offset would succeed (segment limit/rights, alignment with #AC on, paging), without
 * writing; `size` is the operand size, which the alignment check uses.
 */
const H_PROBE_STACK_WRITE = defineHelper('probe_stack_write', [64, 32], 0, true, (h, off, size) => {
  const cpu = h as Cpu;
  const o = BigInt.asUintN(64, BigInt(off));
  cpu.mmu.segment(2, Number(o & 0xffffffffn) | 0, Number(o >> 32n) | 0, 1, Access.Write);
  const user = (cpu.mode & ModeBits.CPL_MASK) === 3 << ModeBits.CPL_SHIFT;
  // #AC comes after the segment checks and before paging, as for any access (checked on the hardware)
  if (cpu.mode & ModeBits.AC && cpu.mmu.linLo & (Number(size) - 1)) throw new GuestFault(17, 0);
  cpu.mmu.translate(cpu.mmu.linLo, cpu.mmu.linHi, Access.Write, user);
});

const SS = 2;
const RSP = 4, RBP = 5;

/** A 64-bit stack address as a value of `size` bytes (for pushing a frame pointer). */
const asValue = (t: Translator, a: T64, size: number): T => (size === 8 ? a : t.lo32(a));

/** rBP as a stack offset (BP/EBP/RBP by the stack size), zero-extended. */
function bpOffset(t: Translator): T64 {
  const ss = t.stackSize;
  return ss === 8 ? (t.reg(RBP, 8) as T64) : t.zext64(t.reg(RBP, ss) as T32);
}

// After the pushes ENTER checks that the final stack pointer can be written (#SS/#PF otherwise, with rSP and rBP
// unchanged), as the SDM's exception list says and AMD Zen does. ENTERD on a 16-bit stack (66-prefixed in 16-bit
// code): the frame pointer is ESP after the push, whose upper half the 16-bit push left as it was (as Bochs has it).
sem(['enter', 'enterw', 'enterd'], (t) => {
  const [allocOp, levelOp] = t.i.operands;
  const size = t.i.opSize;
  const alloc = allocOp!.imm & 0xffff;
  const level = levelOp!.imm & 31;
  const frame = t.spAdd(t.sp(), -size);
  const framePtr = size > t.stackSize
    ? t.bin32(Op.OR32, t.bin32(Op.AND32, t.reg(RSP, 4) as T32, t.const32(0xffff0000 | 0)), t.lo32(frame))
    : asValue(t, frame, size);
  t.store(size, SS, frame, t.reg(RBP, size));
  let cur = frame;
  if (level > 0) {
    const bp = bpOffset(t);
    for (let i = 1; i < level; i++) {
      const v = t.load(size, SS, t.spAdd(bp, -size * i));
      cur = t.spAdd(cur, -size);
      t.store(size, SS, cur, v);
    }
    cur = t.spAdd(cur, -size);
    t.store(size, SS, cur, framePtr);
  }
  const sp = t.spAdd(cur, -alloc);
  t.call(H_PROBE_STACK_WRITE, [sp, t.const32(size)]);
  t.setReg(RBP, size, framePtr);
  t.setSp(sp);
});

sem(['leave', 'leavew', 'leaved'], (t) => {
  const size = t.i.opSize;
  const bp = bpOffset(t);
  const v = t.load(size, SS, bp);
  t.setSp(t.spAdd(bp, size));
  t.setReg(RBP, size, v);
});

sem(['pusha', 'pushad', 'pushaw'], (t) => {
  const size = t.i.opSize;
  const sp = t.sp();
  for (let r = 0; r < 8; r++) {
    // the fifth value is rSP as it was before the instruction
    const v = r === RSP ? asValue(t, sp, size) : t.reg(r, size);
    t.store(size, SS, t.spAdd(sp, -size * (r + 1)), v);
  }
  t.setSp(t.spAdd(sp, -size * 8));
});

sem(['popa', 'popad', 'popaw'], (t) => {
  const size = t.i.opSize;
  const sp = t.sp();
  const vals: T[] = [];
  for (let r = 0; r < 8; r++) vals.push(r === RSP ? (null as never) : t.load(size, SS, t.spAdd(sp, size * (7 - r))));
  for (let r = 0; r < 8; r++) if (r !== RSP) t.setReg(r, size, vals[r]!);
  t.setSp(t.spAdd(sp, size * 8));
});
