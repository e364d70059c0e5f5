// Near control transfers: jmp, jcc, call, ret, loop/jcxz.
//
// The operand size (Translator.i.opSize) sets the width of the return address pushed/popped and of the target:
// with a 16-bit one IP = target AND 0xFFFF, with a 32-bit one EIP = target (in 16-bit code too: gcc -m16's
// `calll`/`retl`, 66 E8 / 66 C3), with a 64-bit one RIP = target. The decoder names the forms whose operand size a
// 66 prefix changed as objdump does (primary.ts sfx): `jmpw`/`callw`/`retw` (16-bit operand size in 32/64-bit
// code), `jmpd`/`calld`/`retd` (32-bit operand size in 16-bit code); Jcc, LOOP, JCXZ and the indirect forms keep
// their names at every operand size.
// In 64-bit mode a 66 prefix makes near JMP/CALL/RET/Jcc/LOOP/JCXZ and the indirect JMP/CALL r/m 16-bit (rel16
// for E8/E9/0F 8x, a target cut to 16 bits, a 2-byte return address pushed or popped) as on AMD (APM Vol. 3: near
// branches in 64-bit mode take a 16-bit operand size from 66), which this CPU model is (Zen). Intel ignores 66 on
// near JMP/CALL/Jcc there (rel32, a 64-bit operand size). REX.W wins over 66. Checked against this AMD host's own
// CPU in ring 3 (the native oracle, test/cpu-int-misc.test.ts; KVM runs guest ring 3 natively on it too), in 64-bit
// and compatibility mode.
// Outside 64-bit mode a target beyond the CS limit raises #GP(0) at the branch with nothing changed (no push, no
// pop: Translator.limitCheck, limitCheckTo), as the hardware does (compared with KVM in test/cpu-sys-real.test.ts);
// execution that runs on past the limit faults where the next instruction is fetched (Cpu.lookup).
import { Op } from '../ir/ops.ts';
import type { T32, T64 } from '../ir/builder.ts';
import { OpKind } from '../../decoder/types.ts';
import { CC } from '../../decoder/tables/primary.ts';
import { sem } from './registry.ts';
import { farCallSem, farJmpSem, isFarBranch } from './sys-control.ts';
import type { CodeTarget, Translator } from './translator.ts';

/** The target of a relative branch operand (next RIP + displacement, wrapped, cut to a 16-bit operand size). */
function relTarget(t: Translator): CodeTarget {
  return t.relTarget(t.i.operands[0]!.imm);
}

/** The target of an indirect branch (register or memory), zero-extended to 64 bits and cut to the operand size. */
function indirectTarget(t: Translator): T64 {
  const o = t.i.operands[0]!;
  const v = t.read(o);
  return o.size === 8 ? (v as T64) : t.zext64(o.size === 2 ? t.zext16(v as T32) : (v as T32));
}

sem(['jmp', 'jmpw', 'jmpd'], (t) => {
  const o = t.i.operands[0]!;
  if (isFarBranch(t.i)) return farJmpSem(t); // far forms: system/far.ts
  if (o.kind === OpKind.Rel) {
    const target = relTarget(t);
    t.limitCheck(target);
    t.jumpTo(target);
  } else if (o.kind === OpKind.Reg || o.kind === OpKind.Mem) {
    const target = indirectTarget(t);
    t.limitCheckTo(target);
    t.jump(target);
  } else t.fault(6);
});

/** A conditional near branch (Jcc, LOOP, JCXZ): the limit is checked if it is taken. */
function condBranch(t: Translator, c: T32): void {
  const target = relTarget(t);
  t.limitCheck(target, c);
  t.branch(c, target);
}

CC.forEach((cc, i) => sem(`j${cc}`, (t) => condBranch(t, t.cond(i))));

sem(['call', 'callw', 'calld'], (t) => {
  const o = t.i.operands[0]!;
  if (isFarBranch(t.i)) return farCallSem(t);
  const size = t.i.opSize;
  let ret: T32 | T64;
  if (size === 8) ret = t.constRip(t.nextOff);
  else {
    t.ripw(t.nextOff);
    ret = t.const32(t.ripLo);
  }
  if (o.kind === OpKind.Rel) {
    const target = relTarget(t);
    t.limitCheck(target);
    t.push(ret, size);
    t.jumpTo(target);
  } else {
    const target = indirectTarget(t); // read the target before the push can change memory or RSP
    t.limitCheckTo(target);
    t.push(ret, size);
    t.jump(target);
  }
});

sem(['ret', 'retw', 'retd'], (t) => {
  const size = t.i.opSize;
  const imm = t.i.operands[0];
  const sp = t.sp();
  const v = t.load(size, 2, sp);
  const target = size === 8 ? (v as T64) : t.zext64(v as T32);
  t.limitCheckTo(target);
  t.setSp(t.spAdd(sp, size + (imm ? imm.imm & 0xffff : 0)));
  t.jump(target);
});

/** loop/loope/loopne/jcxz: the counter is CX, ECX or RCX by address size. */
function counter(t: Translator): { n: number; v: T32 | T64 } {
  const n = t.i.addrSize;
  return { n, v: t.gpr(1, n) as T32 | T64 };
}
function nonZero(t: Translator, n: number, v: T32 | T64): T32 {
  return n === 8 ? t.setcc64(1, v as T64, t.const64(0)) : t.setcc32(1, n === 2 ? t.zext16(v as T32) : (v as T32), t.const32(0));
}
function loopSem(extra?: number) {
  return (t: Translator) => {
    const { n, v } = counter(t);
    const z = t.sized(n);
    const dec = z.sub(v, z.c(1));
    let c = nonZero(t, n, dec);
    if (extra !== undefined) c = t.bin32(Op.AND32, c, t.cond(extra));
    const target = relTarget(t);
    t.limitCheck(target, c); // (a fault leaves the counter as it was)
    t.setGpr(1, n, dec);
    t.branch(c, target);
  };
}
sem('loop', loopSem());
sem('loope', loopSem(4)); // ZF=1
sem('loopne', loopSem(5)); // ZF=0
sem(['jcxz', 'jecxz', 'jrcxz'], (t) => {
  const { n, v } = counter(t);
  condBranch(t, t.not01(nonZero(t, n, v)));
});
