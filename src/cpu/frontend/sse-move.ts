// MMX/SSE data movement: full-register moves (aligned, unaligned, non-temporal), movd/movq in all their forms,
// scalar and half-register moves, the duplicating moves of SSE3, and movnti. All lowered to state loads/stores.
import type { T, T32, T64 } from '../ir/builder.ts';
import { OpKind, type Operand } from '../../decoder/types.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';
import {
  alignCheck, copyState, eaAdd, isMmx, isXmm, mmxEnter, mmxWritten, needsAlign, simdGuard, storeFrom, vecOff,
} from './sse-common.ts';

/** Loads `size` bytes (4, 8, 16) of a memory operand into the state at `to` (all loads before the first write). */
function loadInto(t: Translator, o: Operand, to: number, size: number): void {
  const ea = t.ea(o);
  if (size === 16 && needsAlign(t, o)) alignCheck(t, o, ea);
  if (size === 16) {
    const lo = t.ldm(8, o.seg, ea);
    const hi = t.ldm(8, o.seg, eaAdd(t, ea, 8));
    t.st64(to, lo);
    t.st64(to + 8, hi);
  } else if (size === 8) t.st64(to, t.ldm(8, o.seg, ea));
  else t.st32(to, t.ldm(4, o.seg, ea));
}

/** Full 16-byte moves: movaps movapd movdqa (aligned), movups movupd movdqu lddqu, the non-temporal ones. */
function move128(t: Translator): void {
  const [d, s] = t.i.operands;
  simdGuard(t);
  if (d!.kind === OpKind.Mem) storeFrom(t, d!, vecOff(s!));
  else if (s!.kind === OpKind.Mem) loadInto(t, s!, vecOff(d!), 16);
  else copyState(t, vecOff(d!), vecOff(s!), 16);
}
sem(['movaps', 'movapd', 'movdqa', 'movups', 'movupd', 'movdqu', 'lddqu', 'movntdqa', 'movntps', 'movntpd', 'movntdq'], move128);

/** movd / movq between GPRs, memory, MMX and XMM registers; an XMM destination is zero-extended. */
function movdq(width: 4 | 8) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    const kind = simdGuard(t);
    let v: T;
    if (s!.kind === OpKind.Mem) v = t.load(width, s!.seg, t.ea(s!));
    else if (isXmm(s!) || isMmx(s!)) v = width === 8 ? t.ld64(vecOff(s!)) : t.ld32(vecOff(s!));
    else v = t.reg(s!.reg, width);
    if (d!.kind === OpKind.Mem) t.store(width, d!.seg, t.ea(d!), v);
    else if (isXmm(d!) || isMmx(d!)) {
      const o = vecOff(d!);
      t.st64(o, width === 8 ? (v as T64) : t.zext64(v as T32));
      if (isXmm(d!)) t.st64(o + 8, t.const64(0));
    } else t.setReg(d!.reg, width, v);
    if (kind === 'mmx') {
      mmxEnter(t);
      mmxWritten(t, d!);
    }
  };
}
sem('movd', movdq(4));
sem('movq', movdq(8));

/** movss / movsd: a load zeroes the rest of the register, a register move merges, a store writes the scalar. */
function moveScalar(size: 4 | 8) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    simdGuard(t);
    if (d!.kind === OpKind.Mem) storeFrom(t, d!, vecOff(s!), size);
    else if (s!.kind === OpKind.Mem) {
      const o = vecOff(d!);
      loadInto(t, s!, o, size);
      if (size === 4) t.st32(o + 4, t.const32(0));
      t.st64(o + 8, t.const64(0));
    } else copyState(t, vecOff(d!), vecOff(s!), size);
  };
}
sem('movss', moveScalar(4));
sem('movsd', moveScalar(8));

/** movhps/movhpd (high = true) and movlps/movlpd: one quadword between memory and a register half. */
function moveHalf(high: boolean) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    simdGuard(t);
    const k = high ? 8 : 0;
    if (d!.kind === OpKind.Mem) storeFrom(t, d!, vecOff(s!) + k, 8);
    else loadInto(t, s!, vecOff(d!) + k, 8);
  };
}
sem(['movhps', 'movhpd'], moveHalf(true));
sem(['movlps', 'movlpd'], moveHalf(false));

sem('movhlps', (t) => {
  const [d, s] = t.i.operands;
  simdGuard(t);
  t.st64(vecOff(d!), t.ld64(vecOff(s!) + 8));
});
sem('movlhps', (t) => {
  const [d, s] = t.i.operands;
  simdGuard(t);
  t.st64(vecOff(d!) + 8, t.ld64(vecOff(s!)));
});

/** movq2dq xmm, mm (zero-extended) and movdq2q mm, xmm: both make the x87 unit MMX-mode. */
sem('movq2dq', (t) => {
  const [d, s] = t.i.operands;
  simdGuard(t);
  t.st64(vecOff(d!), t.ld64(vecOff(s!)));
  t.st64(vecOff(d!) + 8, t.const64(0));
  mmxEnter(t);
});
sem('movdq2q', (t) => {
  const [d, s] = t.i.operands;
  simdGuard(t);
  t.st64(vecOff(d!), t.ld64(vecOff(s!)));
  mmxEnter(t);
  mmxWritten(t, d!);
});

/** The 64-bit source of movddup: the low quadword of a register or an m64. */
sem('movddup', (t) => {
  const [d, s] = t.i.operands;
  simdGuard(t);
  const v = s!.kind === OpKind.Mem ? (t.ldm(8, s!.seg, t.ea(s!)) as T64) : t.ld64(vecOff(s!));
  t.st64(vecOff(d!), v);
  t.st64(vecOff(d!) + 8, v);
});

/** movsldup (odd = false) / movshdup: the even (odd) dwords duplicated. */
function dupDwords(odd: boolean) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    simdGuard(t);
    let w: T32[];
    if (s!.kind === OpKind.Mem) {
      const ea = t.ea(s!);
      if (needsAlign(t, s!)) alignCheck(t, s!, ea);
      const lo = t.ldm(8, s!.seg, ea) as T64, hi = t.ldm(8, s!.seg, eaAdd(t, ea, 8)) as T64;
      w = odd ? [t.hi32(lo), t.hi32(hi)] : [t.lo32(lo), t.lo32(hi)];
    } else {
      const o = vecOff(s!) + (odd ? 4 : 0);
      w = [t.ld32(o), t.ld32(o + 8)];
    }
    const o = vecOff(d!);
    t.st64(o, t.pair64(w[0]!, w[0]!));
    t.st64(o + 8, t.pair64(w[1]!, w[1]!));
  };
}
sem('movsldup', dupDwords(false));
sem('movshdup', dupDwords(true));

/** movnti: a GPR store (an SSE2 instruction without the SSE state checks). */
sem('movnti', (t) => t.dst(0, t.src(1)));

/** movntq m64, mm: an MMX store. */
sem('movntq', (t) => {
  const [d, s] = t.i.operands;
  simdGuard(t);
  t.store(8, d!.seg, t.ea(d!), t.ld64(vecOff(s!)));
  mmxEnter(t);
});
