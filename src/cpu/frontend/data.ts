// Data movement: mov, lea, push/pop, xchg, movzx/movsx/movsxd, nop.
import { OpKind, RegClass } from '../../decoder/types.ts';
import { movFromSystemReg, movToSystemReg } from '../system/movsys.ts';
import type { T, T32, T64 } from '../ir/builder.ts';
import { Op } from '../ir/ops.ts';
import { sem } from './registry.ts';
import { popSegment } from './sys-priv.ts';
import type { Translator } from './translator.ts';

sem(['mov', 'movabs'], (t) => {
  const [d, s] = t.i.operands;
  // Segment, control and debug registers are system state (system/movsys.ts).
  if (d!.kind === OpKind.Reg && d!.reg >> 8 !== RegClass.GPR) return movToSystemReg(t);
  if (s!.kind === OpKind.Reg && s!.reg >> 8 !== RegClass.GPR) return movFromSystemReg(t);
  t.write(d!, t.read(s!));
});

sem('lea', (t) => {
  const [d, s] = t.i.operands;
  const a = t.ea(s!);
  t.write(d!, d!.size === 8 ? a : t.lo32(a));
});

sem(['nop', 'pause', 'endbr64', 'endbr32'], () => {});

// (pushw/pushd, popw/popd: the decoder's names for a 66 prefix where the operand size differs from the mode's)
sem(['push', 'pushw', 'pushd'], (t) => {
  const o = t.i.operands[0]!;
  const size = t.i.opSize;
  let v: T;
  if (o.kind === OpKind.Imm) v = size === 8 ? t.const64(o.imm) : t.const32(o.imm);
  else {
    v = t.read(o);
    if (size === 8 && o.size !== 8) v = t.zext64(v as T32);
  }
  t.push(v, size);
});

sem(['pop', 'popw', 'popd'], (t) => {
  const o = t.i.operands[0]!;
  if (o.kind === OpKind.Reg && o.reg >> 8 === RegClass.SEG) return popSegment(t); // system/sys-priv.ts
  const size = t.i.opSize;
  if (o.kind === OpKind.Mem) {
    // The address is computed with RSP already incremented (SDM: POP with an RSP-based memory operand), but RSP
    // itself changes only after the store, so a faulting store leaves it alone.
    const v = t.peek(size);
    const sp = t.spAdd(t.sp(), size);
    let addr = t.ea(o);
    if (o.base >> 8 === RegClass.GPR && (o.base & 0xff) === 4) addr = wrapAddr(t, t.bin64(Op.ADD64, addr, t.const64(size)));
    t.store(o.size, o.seg, addr, v);
    t.setSp(sp);
    return;
  }
  t.write(o, t.pop(size));
});

/** An effective address wrapped to the instruction's address size. */
function wrapAddr(t: Translator, a: T64): T64 {
  const as = t.i.addrSize;
  if (as === 8) return a;
  const lo = t.lo32(a);
  return t.zext64(as === 2 ? t.zext16(lo) : lo);
}

sem('xchg', (t) => {
  const [a, b] = t.i.operands;
  const va = t.read(a!);
  const vb = t.read(b!);
  // memory operand first so a fault leaves the register alone
  if (b!.kind === OpKind.Mem) {
    t.write(b!, va);
    t.write(a!, vb);
  } else {
    t.write(a!, vb);
    t.write(b!, va);
  }
});

function extend(signed: boolean) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    let v = t.read(s!);
    // movsxd without REX.W (63 /r, operand size 32 or 16): a plain move of the operand size
    if (s!.size === d!.size) return t.write(d!, v);
    if (s!.size === 4 && d!.size === 8) v = signed ? t.sext64(v as T32) : t.zext64(v as T32);
    else {
      v = s!.size === 1 ? (signed ? t.sext8(v as T32) : t.zext8(v as T32)) : signed ? t.sext16(v as T32) : t.zext16(v as T32);
      if (d!.size === 8) v = signed ? t.sext64(v as T32) : t.zext64(v as T32);
    }
    t.write(d!, v as T32 | T64);
  };
}
sem('movzx', extend(false));
sem(['movsx', 'movsxd'], extend(true));
