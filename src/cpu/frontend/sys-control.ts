// System control transfers: INT n/INT3/INTO/INT1, IRET, far JMP/CALL/RET, SYSCALL/SYSRET, SYSENTER/SYSEXIT, UD.
// The work is done by helpers (system/deliver.ts, far.ts, fastcall.ts) that check, commit and return the new RIP.
import { OpKind, type Instruction } from '../../decoder/types.ts';
import type { T32, T64 } from '../ir/builder.ts';
import { Op } from '../ir/ops.ts';
import { defineHelper } from '../ir/helpers.ts';
import { Vec } from '../fault.ts';
import type { Cpu } from '../cpu.ts';
import { EventKind, deliverSoftware } from '../system/deliver.ts';
import { farCall, farJump, farReturn, interruptReturn } from '../system/far.ts';
import { syscall, sysenter, sysexit, sysret } from '../system/fastcall.ts';
import { eaPlus } from './sys-util.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

const H_SOFTINT = defineHelper('soft_int', [32, 64], 64, true, (h, arg, next) => {
  const cpu = h as Cpu;
  const a = Number(arg);
  deliverSoftware(cpu, a & 0xff, next as bigint, a >> 8 ? EventKind.Icebp : EventKind.Software);
  return cpu.rip;
});

function softInt(t: Translator, vector: number, icebp = false): void {
  t.jump(t.call(H_SOFTINT, [t.const32(vector | (icebp ? 0x100 : 0)), t.const64(t.next)], 64) as T64);
}

sem('int', (t) => softInt(t, t.i.operands[0]!.imm & 0xff));
sem('int3', (t) => softInt(t, Vec.BP));
sem('int1', (t) => softInt(t, Vec.DB, true));
sem('into', (t) => {
  const skip = t.label();
  t.brz(t.cond(0), skip);
  t.jump(t.call(H_SOFTINT, [t.const32(Vec.OF), t.const64(t.next)], 64) as T64);
  t.place(skip);
  t.exitTo(t.next);
  t.ended = true;
});

sem(['ud2', 'ud0', 'ud1'], (t) => t.fault(Vec.UD));

// ---- IRET, far return ----

const H_IRET = defineHelper('iret', [32], 64, true, (h, size) => interruptReturn(h as Cpu, Number(size) as 2 | 4 | 8));
sem(['iret', 'iretw', 'iretd', 'iretq'], (t) => t.jump(t.call(H_IRET, [t.const32(t.i.opSize)], 64) as T64));

const H_RETF = defineHelper('retf', [32], 64, true, (h, arg) => farReturn(h as Cpu, (Number(arg) & 0xf) as 2 | 4 | 8, Number(arg) >>> 16));
sem(['retf', 'retfw', 'retfd', 'retfq'], (t) => {
  const imm = t.i.operands[0] ? t.i.operands[0].imm & 0xffff : 0;
  t.jump(t.call(H_RETF, [t.const32(t.i.opSize | (imm << 16))], 64) as T64);
});

// ---- far JMP / CALL ----

/** FF /3 and FF /5 (m16:16, m16:32, m16:64) and EA/9A (ptr16:16, ptr16:32) are far; everything else near. */
export function isFarBranch(i: Instruction): boolean {
  const o = i.operands[0];
  if (!o) return false;
  if (o.kind === OpKind.Far) return true;
  return o.kind === OpKind.Mem && i.opcode === 0xff && i.map === 0 && (((i.modrm >> 3) & 7) === 3 || ((i.modrm >> 3) & 7) === 5);
}

/** The far pointer operand: selector and offset (cut to the operand size). */
function farPointer(t: Translator): { sel: T32; off: T64 } {
  const o = t.i.operands[0]!;
  const size = t.i.opSize;
  if (o.kind === OpKind.Far) {
    const off = BigInt(o.imm >>> 0) & (size === 2 ? 0xffffn : 0xffffffffn);
    return { sel: t.const32(o.sel & 0xffff), off: t.const64(off) };
  }
  const ea = t.ea(o);
  const off = t.load(size, o.seg, ea);
  const sel = t.load(2, o.seg, eaPlus(t, ea, size)) as T32;
  return { sel, off: size === 8 ? (off as T64) : t.zext64(off as T32) };
}

const H_FARJMP = defineHelper('far_jmp', [32, 64], 64, true, (h, sel, off) => farJump(h as Cpu, Number(sel), off as bigint));
const H_FARCALL = defineHelper('far_call', [32, 64, 64], 64, true, (h, arg, off, next) =>
  farCall(h as Cpu, Number(arg) & 0xffff, off as bigint, (Number(arg) >>> 16) as 2 | 4 | 8, next as bigint),
);

/** Far JMP (called by the `jmp` semantics for far forms). */
export function farJmpSem(t: Translator): void {
  const { sel, off } = farPointer(t);
  t.jump(t.call(H_FARJMP, [sel, off], 64) as T64);
}

/** Far CALL (called by the `call` semantics for far forms). */
export function farCallSem(t: Translator): void {
  const { sel, off } = farPointer(t);
  const arg = t.bin32(Op.OR32, sel, t.const32(t.i.opSize << 16));
  t.jump(t.call(H_FARCALL, [arg, off, t.const64(t.next)], 64) as T64);
}

// ---- SYSCALL / SYSRET / SYSENTER / SYSEXIT ----

const H_SYSCALL = defineHelper('syscall', [64], 64, true, (h, next) => syscall(h as Cpu, next as bigint));
const H_SYSRET = defineHelper('sysret', [32], 64, true, (h, size) => sysret(h as Cpu, Number(size)));
const H_SYSENTER = defineHelper('sysenter', [], 64, true, (h) => sysenter(h as Cpu));
const H_SYSEXIT = defineHelper('sysexit', [], 64, true, (h) => sysexit(h as Cpu));

sem('syscall', (t) => t.jump(t.call(H_SYSCALL, [t.const64(t.next)], 64) as T64));
sem(['sysret', 'sysretd', 'sysretq'], (t) => t.jump(t.call(H_SYSRET, [t.const32(t.i.opSize)], 64) as T64));
sem('sysenter', (t) => t.jump(t.call(H_SYSENTER, [], 64) as T64));
sem(['sysexit', 'sysexitd', 'sysexitq'], (t) => t.jump(t.call(H_SYSEXIT, [], 64) as T64));
