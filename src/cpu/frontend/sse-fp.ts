// SSE/SSE2/SSE3/SSE4.1 floating point: arithmetic, compares, conversions, rounding, dot products and the
// reciprocal approximations run in helpers (src/cpu/simd/fp-ops.ts) that apply MXCSR and may raise #XM; the
// bitwise and shuffle instructions of the FP domain share the integer helpers.
import type { T32, T64 } from '../ir/builder.ts';

import * as L from '../layout.ts';
import { Arith, H_APPROX, H_ARITH, H_CMP, H_COMI, H_CVT, H_DP, H_ROUND } from '../simd/fp-ops.ts';
import { FP_MOVE_OPS } from '../simd/int-ops.ts';
import { vecHelper } from '../simd/helper.ts';
import { STATUS } from './flags.ts';
import { fpuGuard } from './fpu-guard.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';
import { imm8, isMmx, mfCheck, mmxEnter, mmxWritten, simdGuard, srcOff, vecBinary, vecLogic, vecOff } from './sse-common.ts';

type Shape = 'ps' | 'pd' | 'ss' | 'sd';

/** `op xmm, xmm/mem[, imm8]` calling helper h with (dst, src, arg). */
function fpOp(h: number, arg: (t: Translator) => number) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    simdGuard(t);
    const so = srcOff(t, s!);
    t.call(h, [t.const32(vecOff(d!)), t.const32(so), t.const32(arg(t))]);
  };
}

const ARITH: [string, Arith][] = [
  ['add', Arith.Add], ['sub', Arith.Sub], ['mul', Arith.Mul], ['div', Arith.Div], ['min', Arith.Min], ['max', Arith.Max],
  ['sqrt', Arith.Sqrt],
];
for (const [name, op] of ARITH) for (const sh of ['ps', 'pd', 'ss', 'sd'] as Shape[]) sem(name + sh, fpOp(H_ARITH[sh], () => op));
sem('addsubps', fpOp(H_ARITH.ps, () => Arith.AddSub));
sem('addsubpd', fpOp(H_ARITH.pd, () => Arith.AddSub));
sem('haddps', fpOp(H_ARITH.ps, () => Arith.HAdd));
sem('haddpd', fpOp(H_ARITH.pd, () => Arith.HAdd));
sem('hsubps', fpOp(H_ARITH.ps, () => Arith.HSub));
sem('hsubpd', fpOp(H_ARITH.pd, () => Arith.HSub));

for (const sh of ['ps', 'pd', 'ss', 'sd'] as Shape[]) {
  sem('cmp' + sh, fpOp(H_CMP[sh], (t) => imm8(t) & 7));
  sem('round' + sh, fpOp(H_ROUND[sh], imm8));
}
sem('dpps', fpOp(H_DP.ps, imm8));
sem('dppd', fpOp(H_DP.pd, imm8));
for (const [name, h] of Object.entries(H_APPROX)) sem(name, fpOp(h, () => 0));

/** comiss/comisd (signaling on QNaNs) and ucomiss/ucomisd: ZF PF CF from the comparison, OF SF AF cleared. */
function comi(sd: boolean, signaling: boolean) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    simdGuard(t);
    const so = srcOff(t, s!);
    const f = t.call(sd ? H_COMI.sd : H_COMI.ss, [t.const32(vecOff(d!)), t.const32(so), t.const32(signaling ? 1 : 0)], 32) as T32;
    t.setFlagsWord(f, STATUS);
  };
}
sem('comiss', comi(false, true));
sem('ucomiss', comi(false, false));
sem('comisd', comi(true, true));
sem('ucomisd', comi(true, false));

for (const [name, fn] of Object.entries(FP_MOVE_OPS)) {
  const logic = /^(andn|and|or|xor)p[sd]$/.exec(name);
  sem(name, logic ? vecLogic(logic[1] as 'and' | 'andn' | 'or' | 'xor') : vecBinary(vecHelper(name, fn)));
}

// ---------------------------------------------------------------------------------------------------------------
// Conversions

/** Between XMM/MMX registers and memory. MMX register operands make the x87 unit MMX-mode (memory ones do not). */
function cvt(name: string) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    fpuGuard(t, 'sse');
    const mmx = isMmx(d!) || isMmx(s!);
    if (mmx) mfCheck(t);
    const so = srcOff(t, s!);
    if (mmx) mmxEnter(t); // (even when #XM follows, as the hardware does)
    t.call(H_CVT[name]!, [t.const32(vecOff(d!)), t.const32(so), t.const32(0)]);
    if (mmx) mmxWritten(t, d!);
  };
}
for (const name of ['cvtps2pd', 'cvtpd2ps', 'cvtss2sd', 'cvtsd2ss', 'cvtdq2ps', 'cvtdq2pd', 'cvtps2dq', 'cvttps2dq', 'cvtpd2dq',
  'cvttpd2dq', 'cvtpi2ps', 'cvtpi2pd', 'cvtps2pi', 'cvttps2pi', 'cvtpd2pi', 'cvttpd2pi']) sem(name, cvt(name));

/** cvtsi2ss/cvtsi2sd xmm, r/m32|64: the integer is staged sign-extended in VTMP. */
function cvtFromInt(name: string) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    simdGuard(t);
    const v = t.read(s!);
    t.st64(L.VTMP, s!.size === 8 ? (v as T64) : t.sext64(v as T32));
    t.call(H_CVT[name]!, [t.const32(vecOff(d!)), t.const32(L.VTMP), t.const32(0)]);
  };
}
sem('cvtsi2ss', cvtFromInt('cvtsi2ss'));
sem('cvtsi2sd', cvtFromInt('cvtsi2sd'));

/** cvt(t)ss2si / cvt(t)sd2si r32|64, xmm/m: the integer comes back through VTMP2. */
function cvtToInt(name: string) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    simdGuard(t);
    const so = srcOff(t, s!);
    const wide = d!.size === 8;
    t.call(H_CVT[`${name}.${wide ? 64 : 32}`]!, [t.const32(L.VTMP2), t.const32(so), t.const32(0)]);
    t.setReg(d!.reg, wide ? 8 : 4, wide ? t.ld64(L.VTMP2) : t.ld32(L.VTMP2));
  };
}
for (const name of ['cvtss2si', 'cvttss2si', 'cvtsd2si', 'cvttsd2si']) sem(name, cvtToInt(name));

