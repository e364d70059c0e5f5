// SSE floating-point instructions over fp-core.ts: the lane loops, and the exception protocol of SSE (SDM Vol. 1
// §11.5.2): pre-computation exceptions (IE DE ZE) of all lanes are found first; if one is unmasked, those flags are
// set and #XM is raised without the results. Otherwise the results are computed with their post-computation
// exceptions (OE UE PE); if one of those is unmasked all flags are set and #XM is raised, again without the
// results. #XM is #UD when CR4.OSXMMEXCPT is clear. Nothing is written before the last check.
import { defineHelper } from '../ir/helpers.ts';
import type { IrHost } from '../ir/interp.ts';
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import { views, type StateViews } from './state.ts';
import {
  F32, F64, add, compare, convert, ctx, daz, div, fromInt, minMax, mul, roundIntegral, sqrt, toInt, type Fmt,
} from './fp-core.ts';
import { DAZ, FTZ, MASK_SHIFT, OE, RC_SHIFT, UE } from './mxcsr.ts';
import { approxRcp, approxRsqrt } from './approx.ts';

const CR4_OSXMMEXCPT = 1 << 10;

/** Starts an instruction: the rounding context from MXCSR. */
export function begin(v: StateViews): void {
  const mx = v.u32[(v.base + L.MXCSR) >> 2]!;
  ctx.rc = (mx >> RC_SHIFT) & 3;
  ctx.daz = (mx & DAZ) !== 0;
  ctx.ftz = (mx & FTZ) !== 0;
  ctx.ueMasked = ((mx >> MASK_SHIFT) & UE) !== 0;
  ctx.oeMasked = ((mx >> MASK_SHIFT) & OE) !== 0;
  ctx.flags = 0;
}

/** Ends the computation: records the flags in MXCSR, raising #XM (#UD) for an unmasked exception. */
export function finish(v: StateViews): void {
  stage(v, 0);
  if (ctx.flags) v.u32[(v.base + L.MXCSR) >> 2] |= ctx.flags;
}

/**
 * The end of one computation step whose flags are ctx.flags (`before`: the flags of earlier steps): raises #XM
 * (#UD) for an unmasked exception, with MXCSR recording the earlier steps' flags and this step's pre-computation
 * flags (an unmasked pre-computation exception) or all of them.
 */
function stage(v: StateViews, before: number): void {
  const f = ctx.flags;
  if (!f) return;
  const mi = (v.base + L.MXCSR) >> 2;
  const mx = v.u32[mi]!;
  const unmasked = f & ~(mx >> MASK_SHIFT) & 0x3f;
  if (unmasked) {
    v.u32[mi] = mx | before | (unmasked & 7 ? f & 7 : f);
    throw new GuestFault(v.u32[(v.base + L.CR4) >> 2]! & CR4_OSXMMEXCPT ? Vec.XM : Vec.UD);
  }
}

export function rd(v: StateViews, x: number, f: Fmt, k: number): bigint {
  if (f.width === 32) return BigInt(v.u32[(x >> 2) + k]!);
  const i = (x >> 2) + 2 * k;
  return BigInt(v.u32[i]!) | (BigInt(v.u32[i + 1]!) << 32n);
}
export function wr(v: StateViews, x: number, f: Fmt, k: number, val: bigint): void {
  if (f.width === 32) v.u32[(x >> 2) + k] = Number(val & 0xffffffffn);
  else {
    const i = (x >> 2) + 2 * k;
    v.u32[i] = Number(val & 0xffffffffn);
    v.u32[i + 1] = Number((val >> 32n) & 0xffffffffn);
  }
}
const res: bigint[] = [0n, 0n, 0n, 0n];

/** Registers a helper (dOff, sOff, imm) -> void that may raise #XM. */
function fpHelper(name: string, fn: (v: StateViews, d: number, s: number, imm: number) => void): number {
  return defineHelper(name, [32, 32, 32], 0, true, (h: IrHost, d, s, imm) => {
    const v = views(h);
    begin(v);
    fn(v, v.base + (d as number), v.base + (s as number), imm as number);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Arithmetic

export const enum Arith {
  Add, Sub, Mul, Div, Min, Max, AddSub, HAdd, HSub, Sqrt,
}

function arith(op: Arith, a: bigint, b: bigint, f: Fmt): bigint {
  switch (op) {
    case Arith.Add: return add(a, b, f);
    case Arith.Sub: return add(a, b, f, true);
    case Arith.Mul: return mul(a, b, f);
    case Arith.Div: return div(a, b, f);
    case Arith.Min: return minMax(a, b, f, false);
    case Arith.Max: return minMax(a, b, f, true);
    default: return sqrt(b, f);
  }
}

/** Arithmetic helpers by format and shape: imm selects the operation (Arith). */
function arithHelper(f: Fmt, packed: boolean): number {
  const n = packed ? 128 / f.width : 1;
  return fpHelper(`sse.arith.${packed ? 'p' : 's'}${f.width === 32 ? 's' : 'd'}`, (v, d, s, op) => {
    if (op === Arith.HAdd || op === Arith.HSub) {
      const h = n >> 1;
      for (let k = 0; k < h; k++) {
        res[k] = add(rd(v, d, f, 2 * k), rd(v, d, f, 2 * k + 1), f, op === Arith.HSub);
        res[h + k] = add(rd(v, s, f, 2 * k), rd(v, s, f, 2 * k + 1), f, op === Arith.HSub);
      }
    } else {
      for (let k = 0; k < n; k++) {
        const a = rd(v, d, f, k), b = rd(v, s, f, k);
        res[k] = op === Arith.AddSub ? add(a, b, f, (k & 1) === 0) : arith(op, a, b, f);
      }
    }
    finish(v);
    for (let k = 0; k < n; k++) wr(v, d, f, k, res[k]!);
  });
}
export const H_ARITH = { ps: arithHelper(F32, true), pd: arithHelper(F64, true), ss: arithHelper(F32, false), sd: arithHelper(F64, false) };

// ---------------------------------------------------------------------------------------------------------------
// Compares

/** cmpps predicates 0-7: EQ LT LE UNORD NEQ NLT NLE ORD (LT LE NLT NLE signal on QNaNs). */
function predicate(p: number, c: number | 'u'): boolean {
  switch (p & 7) {
    case 0: return c === 0;
    case 1: return c === -1;
    case 2: return c === -1 || c === 0;
    case 3: return c === 'u';
    case 4: return c !== 0;
    case 5: return c !== -1;
    case 6: return !(c === -1 || c === 0);
    default: return c !== 'u';
  }
}
const SIGNALING = [false, true, true, false, false, true, true, false];

function cmpHelper(f: Fmt, packed: boolean): number {
  const n = packed ? 128 / f.width : 1;
  const ones = (1n << BigInt(f.width)) - 1n;
  return fpHelper(`sse.cmp.${packed ? 'p' : 's'}${f.width === 32 ? 's' : 'd'}`, (v, d, s, p) => {
    for (let k = 0; k < n; k++) res[k] = predicate(p, compare(rd(v, d, f, k), rd(v, s, f, k), f, SIGNALING[p & 7]!)) ? ones : 0n;
    finish(v);
    for (let k = 0; k < n; k++) wr(v, d, f, k, res[k]!);
  });
}
export const H_CMP = { ps: cmpHelper(F32, true), pd: cmpHelper(F64, true), ss: cmpHelper(F32, false), sd: cmpHelper(F64, false) };

/** comiss/ucomiss (imm 1: signaling on QNaN): returns ZF PF CF (the other status flags cleared). */
function comiHelper(f: Fmt): number {
  return defineHelper(`sse.comi.${f.width === 32 ? 'ss' : 'sd'}`, [32, 32, 32], 32, true, (h: IrHost, d, s, sig) => {
    const v = views(h);
    begin(v);
    const c = compare(rd(v, v.base + (d as number), f, 0), rd(v, v.base + (s as number), f, 0), f, sig !== 0);
    finish(v);
    return c === 'u' ? 0x45 : c === 0 ? 0x40 : c < 0 ? 0x01 : 0;
  });
}
export const H_COMI = { ss: comiHelper(F32), sd: comiHelper(F64) };

// ---------------------------------------------------------------------------------------------------------------
// Conversions

type Elem = 'f32' | 'f64' | 'i32' | 'i64';
const FMT: Record<string, Fmt> = { f32: F32, f64: F64 };
const BYTES: Record<Elem, number> = { f32: 4, f64: 8, i32: 4, i64: 8 };

function rdElem(v: StateViews, x: number, e: Elem, k: number): bigint {
  if (e === 'f32' || e === 'f64') return rd(v, x, FMT[e]!, k);
  if (e === 'i32') return BigInt(v.i32[(x >> 2) + k]!);
  const i = (x >> 2) + 2 * k;
  return BigInt(v.u32[i]!) | (BigInt(v.i32[i + 1]!) << 32n);
}

/**
 * A conversion of `n` elements from the source operand's low elements into the destination's low elements;
 * `zeroFrom` zeroes the destination from that byte on (16: none). `trunc` truncates float-to-integer.
 */
function cvtHelper(name: string, from: Elem, to: Elem, n: number, zeroFrom = 16, trunc = false): number {
  return fpHelper(`sse.${name}`, (v, d, s) => {
    for (let k = 0; k < n; k++) {
      const x = rdElem(v, s, from, k);
      if (from[0] === 'f' && to[0] === 'f') res[k] = convert(x, FMT[from]!, FMT[to]!);
      else if (from[0] === 'i') res[k] = fromInt(x, FMT[to]!);
      else res[k] = BigInt.asUintN(to === 'i32' ? 32 : 64, toInt(x, FMT[from]!, to === 'i32' ? 32 : 64, trunc));
    }
    finish(v);
    const size = BYTES[to];
    for (let k = 0; k < n; k++) {
      if (size === 4) v.u32[(d >> 2) + k] = Number(res[k]! & 0xffffffffn);
      else wr(v, d, F64, k, res[k]!);
    }
    for (let b = zeroFrom; b < 16; b++) v.u8[d + b] = 0;
  });
}

/** Conversions by mnemonic (register/memory operands are staged by the front end). */
export const H_CVT: Record<string, number> = {
  cvtps2pd: cvtHelper('cvtps2pd', 'f32', 'f64', 2),
  cvtpd2ps: cvtHelper('cvtpd2ps', 'f64', 'f32', 2, 8),
  cvtss2sd: cvtHelper('cvtss2sd', 'f32', 'f64', 1),
  cvtsd2ss: cvtHelper('cvtsd2ss', 'f64', 'f32', 1),
  cvtdq2ps: cvtHelper('cvtdq2ps', 'i32', 'f32', 4),
  cvtdq2pd: cvtHelper('cvtdq2pd', 'i32', 'f64', 2),
  cvtps2dq: cvtHelper('cvtps2dq', 'f32', 'i32', 4),
  cvttps2dq: cvtHelper('cvttps2dq', 'f32', 'i32', 4, 16, true),
  cvtpd2dq: cvtHelper('cvtpd2dq', 'f64', 'i32', 2, 8),
  cvttpd2dq: cvtHelper('cvttpd2dq', 'f64', 'i32', 2, 8, true),
  cvtpi2ps: cvtHelper('cvtpi2ps', 'i32', 'f32', 2),
  cvtpi2pd: cvtHelper('cvtpi2pd', 'i32', 'f64', 2),
  cvtps2pi: cvtHelper('cvtps2pi', 'f32', 'i32', 2),
  cvttps2pi: cvtHelper('cvttps2pi', 'f32', 'i32', 2, 16, true),
  cvtpd2pi: cvtHelper('cvtpd2pi', 'f64', 'i32', 2),
  cvttpd2pi: cvtHelper('cvttpd2pi', 'f64', 'i32', 2, 16, true),
  // the GPR forms: the front end stages the integer (sign-extended to 64 bits) / collects the result in VTMP2
  cvtsi2ss: cvtHelper('cvtsi2ss', 'i64', 'f32', 1),
  cvtsi2sd: cvtHelper('cvtsi2sd', 'i64', 'f64', 1),
  'cvtss2si.32': cvtHelper('cvtss2si', 'f32', 'i32', 1),
  'cvtss2si.64': cvtHelper('cvtss2si64', 'f32', 'i64', 1),
  'cvttss2si.32': cvtHelper('cvttss2si', 'f32', 'i32', 1, 16, true),
  'cvttss2si.64': cvtHelper('cvttss2si64', 'f32', 'i64', 1, 16, true),
  'cvtsd2si.32': cvtHelper('cvtsd2si', 'f64', 'i32', 1),
  'cvtsd2si.64': cvtHelper('cvtsd2si64', 'f64', 'i64', 1),
  'cvttsd2si.32': cvtHelper('cvttsd2si', 'f64', 'i32', 1, 16, true),
  'cvttsd2si.64': cvtHelper('cvttsd2si64', 'f64', 'i64', 1, 16, true),
};

// ---------------------------------------------------------------------------------------------------------------
// roundps/pd/ss/sd: imm8[1:0] rounding mode unless imm8[2] (then MXCSR.RC), imm8[3] suppresses PE

function roundHelper(f: Fmt, packed: boolean): number {
  const n = packed ? 128 / f.width : 1;
  return fpHelper(`sse.round.${packed ? 'p' : 's'}${f.width === 32 ? 's' : 'd'}`, (v, d, s, imm) => {
    const rc = imm & 4 ? ctx.rc : imm & 3;
    for (let k = 0; k < n; k++) res[k] = roundIntegral(rd(v, s, f, k), f, rc, (imm & 8) !== 0);
    finish(v);
    for (let k = 0; k < n; k++) wr(v, d, f, k, res[k]!);
  });
}
export const H_ROUND = { ps: roundHelper(F32, true), pd: roundHelper(F64, true), ss: roundHelper(F32, false), sd: roundHelper(F64, false) };

// ---------------------------------------------------------------------------------------------------------------
// dpps / dppd: products of the lanes selected by imm8[7:4] (others +0), summed pairwise, stored to the lanes of
// imm8[3:0]. The multiplications and each level of additions are separate steps for exceptions: an unmasked
// exception of one step stops the instruction with the flags of the steps so far.

function dpHelper(f: Fmt): number {
  const n = 128 / f.width;
  return fpHelper(`sse.dp${f.width === 32 ? 'ps' : 'pd'}`, (v, d, s, imm) => {
    let acc = 0;
    const step = () => {
      stage(v, acc);
      acc |= ctx.flags;
      ctx.flags = 0;
    };
    const p: bigint[] = [];
    for (let k = 0; k < n; k++) p.push((imm >> (4 + k)) & 1 ? mul(rd(v, d, f, k), rd(v, s, f, k), f) : 0n);
    step();
    let sum: bigint;
    if (n === 4) {
      const lo = add(p[0]!, p[1]!, f), hi = add(p[2]!, p[3]!, f);
      step();
      sum = add(lo, hi, f);
    } else sum = add(p[0]!, p[1]!, f);
    step();
    ctx.flags = acc;
    finish(v);
    for (let k = 0; k < n; k++) wr(v, d, f, k, (imm >> k) & 1 ? sum : 0n);
  });
}
export const H_DP = { ps: dpHelper(F32), pd: dpHelper(F64) };

// ---------------------------------------------------------------------------------------------------------------
// rcpps/rsqrtps and scalar forms: approximations (approx.ts), no exceptions; DAZ applies to the operand

function approxHelper(rsq: boolean, packed: boolean): number {
  const n = packed ? 4 : 1;
  return fpHelper(`sse.${rsq ? 'rsqrt' : 'rcp'}${packed ? 'ps' : 'ss'}`, (v, d, s) => {
    for (let k = 0; k < n; k++) {
      const x = Number(daz(rd(v, s, F32, k), F32));
      res[k] = BigInt(rsq ? approxRsqrt(x) : approxRcp(x));
    }
    for (let k = 0; k < n; k++) wr(v, d, F32, k, res[k]!);
  });
}
export const H_APPROX = { rcpps: approxHelper(false, true), rcpss: approxHelper(false, false), rsqrtps: approxHelper(true, true), rsqrtss: approxHelper(true, false) };
