// Near control transfers: jmp, jcc, call, ret, loop/jcxz.
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

sem('jmp', (t) => {
  const o = t.i.operands[0]!;
  if (isFarBranch(t.i)) return farJmpSem(t); // far forms: system/far.ts
  if (o.kind === OpKind.Rel) t.jumpTo(relTarget(t));
  else if (o.kind === OpKind.Reg || o.kind === OpKind.Mem) t.jump(indirectTarget(t));
  else t.fault(6);
});

CC.forEach((cc, i) => sem(`j${cc}`, (t) => t.branch(t.cond(i), relTarget(t))));

sem(['call', 'callw'], (t) => {
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
    t.push(ret, size);
    t.jumpTo(relTarget(t));
  } else {
    const target = indirectTarget(t); // read the target before the push can change memory or RSP
    t.push(ret, size);
    t.jump(target);
  }
});

sem(['ret', 'retw'], (t) => {
  const size = t.i.opSize;
  const imm = t.i.operands[0];
  const sp = t.sp();
  const v = t.load(size, 2, sp);
  t.setSp(t.spAdd(sp, size + (imm ? imm.imm & 0xffff : 0)));
  t.jump(size === 8 ? (v as T64) : t.zext64(v as T32));
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
    t.setGpr(1, n, dec);
    t.branch(c, relTarget(t));
  };
}
sem('loop', loopSem());
sem('loope', loopSem(4)); // ZF=1
sem('loopne', loopSem(5)); // ZF=0
sem(['jcxz', 'jecxz', 'jrcxz'], (t) => {
  const { n, v } = counter(t);
  t.branch(t.bin32(Op.XOR32, nonZero(t, n, v), t.const32(1)), relTarget(t));
});
