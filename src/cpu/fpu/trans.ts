// The transcendental instructions: F2XM1 FYL2X FYL2XP1 FPTAN FPATAN FSIN FCOS FSINCOS.
//
// PRECISION DEVIATION: these are computed with JavaScript's binary64 Math functions on the operands rounded to
// binary64, so their results carry 53 significant bits (the hardware computes ~64) and PE/C1 do not reflect the
// hardware's rounding exactly. Special operands (zeros, infinities, NaNs, the |x| >= 2^63 range rule with C2, the
// invalid and divide-by-zero cases) follow the SDM exactly. Every other x87 result in kemu is exact (f80.ts).
import { defineHelper } from '../ir/helpers.ts';
import type { IrHost } from '../ir/interp.ts';
import { C1, C2, DE, IE, PE, ZE, fcw, isEmpty, pop, push, readSt, stEmpty, top, writeSt, type F80 } from './regs.ts';
import { Cls, FMT64, RF, bitLen, classify, exact, fromBits, indefinite, inf80, roundTo80, toBits } from './f80.ts';
import { CW, X, commit, denormalCheck, nanResult, raise, resetX, setCw, stackFault } from './arith.ts';

export const enum T {
  F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS,
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

function num(v: F80): number {
  u64[0] = toBits(v, FMT64, 0, 0x3f);
  return f64[0]!;
}
function f80(x: number): F80 {
  f64[0] = x;
  return fromBits(u64[0]!, FMT64);
}

/** |x| >= 2^63 (or infinite/NaN): outside FSIN/FCOS/FPTAN's range. */
const outOfRange = (v: F80): boolean => (v.se & 0x7fff) >= 0x3fff + 63;

/** The flags to FSW, with C2 set or cleared (commit for the transcendentals). */
const done = (h: IrHost, c2: boolean): void => commit(h, C2, c2 ? C2 : 0);

/** Result of a one-operand function of ST0 with PE (a non-trivial result is taken as inexact). */
function result(x: number, exact: boolean): F80 {
  if (!exact) X.exc |= PE;
  return f80(x);
}

export const H_TRANS = defineHelper('x87_trans', [32], 0, false, (h, c) => {
  const op = c as T;
  resetX();
  setCw(fcw(h));
  const two = op === T.FYL2X || op === T.FYL2XP1 || op === T.FPATAN;
  const pushes = op === T.FPTAN || op === T.FSINCOS;
  if (stEmpty(h, 0) || (two && stEmpty(h, 1))) {
    if (stackFault(false)) {
      if (two) {
        writeSt(h, 1, indefinite());
        pop(h);
      } else {
        writeSt(h, 0, indefinite());
        if (pushes && isEmpty(h, (top(h) - 1) & 7)) push(h, indefinite());
      }
    }
    return done(h, false);
  }
  const a = readSt(h, 0);
  const ca = classify(a);
  if (two) {
    const b = readSt(h, 1);
    const cb = classify(b);
    let r = nanResult(a, ca, b, cb);
    if (r === undefined) r = twoOperand(op, a, ca, b, cb);
    if (r) {
      writeSt(h, 1, r);
      pop(h);
    }
    return done(h, false);
  }
  if ((op === T.FPTAN || op >= T.FSIN) && ca === Cls.Normal && outOfRange(a)) {
    return done(h, true); // out of range: C2 = 1, ST0 unchanged
  }
  if (pushes && !isEmpty(h, (top(h) - 1) & 7)) {
    if (stackFault(true)) {
      writeSt(h, 0, indefinite());
      push(h, indefinite());
    }
    return done(h, false);
  }
  let r = nanResult(a, ca, null, Cls.Normal);
  let r2: F80 | null | undefined = r;
  if (r === undefined) {
    const res = oneOperand(op, a, ca);
    if (res === null) return done(h, false);
    [r, r2] = res;
  }
  if (r === null) return done(h, false);
  writeSt(h, 0, r);
  if (pushes && r2) push(h, r2);
  done(h, false);
});

/**
 * For |x| below 2^-32: sin x and tan x are x nudged toward / away from zero by far less than an ulp, cos x is 1
 * nudged down; rounded exactly (this covers the denormals, which binary64 cannot hold).
 */
function nudged(v: F80, away: boolean): F80 {
  const x = exact(v);
  const sh = Math.max(3, 67 - bitLen(x.m)); // the nudge stays below any rounding position
  const r = roundTo80(x.sign, (x.m << BigInt(sh)) + (away ? 1n : -1n), x.e - sh, false, 3, CW.rc, CW.masks);
  X.exc |= RF.exc;
  X.c1 = RF.c1;
  return r;
}
const ONE: F80 = { se: 0x3fff, m: 1n << 63n };
/** ln 2 to 128 bits (0.B17217F7...). */
const LN2_128 = 0xb17217f7d1cf79abc9e3b39803f2f6afn;

/** 2^x - 1 = x ln2 (1 + x ln2 / 2 + ...) for |x| < 2^-100, rounded exactly. */
function f2xm1Tiny(v: F80): F80 {
  const x = exact(v);
  // the next term makes the exact value slightly larger (x > 0) or smaller in magnitude (x < 0)
  const p = ((x.m * LN2_128) << 1n) + (x.sign ? -1n : 1n);
  const r = roundTo80(x.sign, p, x.e - 128 - 1, false, 3, CW.rc, CW.masks);
  X.exc |= RF.exc;
  X.c1 = RF.c1;
  return r;
}

function oneOperand(op: T, a: F80, ca: Cls): [F80, F80 | null] | null {
  const sign = a.se >> 15;
  if (ca === Cls.Inf && op !== T.F2XM1) return raise(IE) ? null : [indefinite(), indefinite()];
  if (ca === Cls.Denormal && raise(DE)) return null;
  if ((ca === Cls.Normal || ca === Cls.Denormal) && (a.se & 0x7fff) < 0x3fff - 32 && op !== T.F2XM1) {
    if (op === T.FCOS) return [nudged(ONE, false), null];
    if (op === T.FSINCOS) {
      // ST0 = sin, then cos pushed; C1 tells sin's rounding
      const c = nudged(ONE, false);
      return [nudged(a, false), c];
    }
    const s = nudged(a, op === T.FPTAN);
    return [s, op === T.FPTAN ? f80(1) : null];
  }
  if (op === T.F2XM1) {
    // 2^-inf - 1 = -1; outside -1..+1 the result is undefined: this CPU leaves ST0 as it is (inexact), and 2^1 - 1
    // comes out as a value just below 1, rounded
    if (ca === Cls.Inf) return [sign ? { se: 0xbfff, m: 1n << 63n } : a, null];
    if (ca === Cls.Normal && (a.se & 0x7fff) >= 0x3fff) {
      X.exc |= PE;
      if (a.se === 0x3fff && a.m === 1n << 63n) return [nudged(ONE, false), null]; // 1 - tiny, rounded
      if (a.se !== 0xbfff || a.m !== 1n << 63n) return [a, null];
    }
    if (ca === Cls.Denormal || (ca === Cls.Normal && (a.se & 0x7fff) < 0x3fff - 100)) return [f2xm1Tiny(a), null];
  }
  const x = num(a);
  const zero = ca === Cls.Zero;
  switch (op) {
    case T.F2XM1:
      if (zero) return [a, null];
      return [result(Math.expm1(x * Math.LN2), false), null];
    case T.FSIN:
      return [zero ? a : result(sinCos(a, true), false), null];
    case T.FCOS:
      return [result(zero ? 1 : sinCos(a, false), zero), null];
    case T.FSINCOS:
      return [zero ? a : result(sinCos(a, true), false), result(zero ? 1 : sinCos(a, false), zero)];
    default: { // FPTAN: ST0 = tan, then push 1
      if (zero) return [a, f80(1)];
      const q = reduce(a);
      const t = q & 1 ? -1 / Math.tan(RED.r) : Math.tan(RED.r);
      return [result(t, false), f80(1)];
    }
  }
}

/** A finite non-zero F80 as (m in [1, 2), e): the value m * 2^e, without binary64's range limits. */
function scaled(v: F80): { m: number; e: number } {
  const x = exact(v);
  const n = bitLen(x.m);
  const m = Number(x.m >> BigInt(Math.max(0, n - 53))) / 2 ** (Math.min(n, 53) - 1);
  return { m: x.sign ? -m : m, e: x.e + n - 1 };
}
/** m * 2^e (m a finite non-zero binary64) rounded to an x87 register, with PE. */
function fromScaled(m: number, e: number): F80 {
  const b = fromBits((f64[0] = m, u64[0]!), FMT64);
  const x = exact(b);
  const r = roundTo80(x.sign, x.m, x.e + e, true, 3, CW.rc, CW.masks);
  X.exc |= RF.exc | PE;
  X.c1 = RF.c1;
  return r;
}

/** pi to 128 bits (1.1001...: 0xC90FDAA2... * 2^-126). */
const PI_128 = 0xc90fdaa22168c234c4c6628b80dc1cd1n;
/** k/4 * pi (k = 1..4), rounded to an x87 register. */
function piTimes(k: number, sign: number): F80 {
  const m = k === 3 ? PI_128 * 3n : PI_128;
  const e = k === 4 ? -126 : k === 2 ? -127 : -128;
  const r = roundTo80(sign, m, e, true, 3, CW.rc, CW.masks);
  X.exc |= RF.exc;
  X.c1 = RF.c1;
  return r;
}

/** pi/2 * 2^191 (pi to 192 bits). */
const HALF_PI = 0xc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74n;
/** The reduced argument of the last reduce(). */
const RED = { r: 0 };
/** x = k pi/2 + r, |r| <= pi/4, reduced exactly (|x| < 2^63); returns k mod 4, r in RED (binary64). */
function reduce(v: F80): number {
  const x = exact(v);
  const X = x.m << BigInt(x.e + 191);
  let k = (X + (HALF_PI >> 1n)) / HALF_PI;
  const R = X - k * HALF_PI;
  const neg = R < 0n;
  const r = Number(neg ? -R : R) * 2 ** -191 * (neg ? -1 : 1);
  if (x.sign) {
    RED.r = -r;
    k = -k;
  } else RED.r = r;
  return Number(((k % 4n) + 4n) % 4n);
}
function sinCos(v: F80, sin: boolean): number {
  const q = reduce(v) + (sin ? 0 : 1);
  const r = RED.r;
  return [Math.sin(r), Math.cos(r), -Math.sin(r), -Math.cos(r)][q & 3]!;
}

/** log2 of a finite positive value; near 1 through log1p of the exactly computed x - 1. */
function log2(v: F80): number {
  const e = (v.se & 0x7fff) - 0x3fff;
  if (e === 0 || e === -1) {
    const x = exact(v);
    const d = x.m - (1n << BigInt(-x.e)); // (x - 1) * 2^-x.e, exact
    const t = (d < 0n ? -1 : 1) * Number(d < 0n ? -d : d) * 2 ** x.e;
    return Math.log1p(t) / Math.LN2;
  }
  const s = scaled(v);
  return Math.log2(s.m) + s.e;
}

/** FYL2X (ST1 * log2 ST0), FYL2XP1 (ST1 * log2(ST0 + 1)), FPATAN (atan2(ST1, ST0)); a = ST0, b = ST1. */
function twoOperand(op: T, a: F80, ca: Cls, b: F80, cb: Cls): F80 | null {
  const sa = a.se >> 15, sb = b.se >> 15;
  const invalid = () => (raise(IE) ? null : indefinite());
  if (op === T.FPATAN) {
    if (denormalCheck(ca, cb)) return null;
    if (cb === Cls.Zero || ca === Cls.Zero || ca === Cls.Inf || cb === Cls.Inf) {
      const y = cb === Cls.Zero ? (sb ? -0 : 0) : cb === Cls.Inf ? (sb ? -Infinity : Infinity) : sb ? -1 : 1;
      const x = ca === Cls.Zero ? (sa ? -0 : 0) : ca === Cls.Inf ? (sa ? -Infinity : Infinity) : sa ? -1 : 1;
      const r = Math.atan2(y, x);
      return r === 0 ? { se: (sb << 15), m: 0n } : piTimes(Math.round((Math.abs(r) / Math.PI) * 4), sb);
    }
    const y = scaled(b), x = scaled(a);
    const d = Math.max(-1100, Math.min(1100, y.e - x.e));
    const r = Math.atan2(y.m * 2 ** d, x.m);
    if (Math.abs(r) < 2 ** -900) return fromScaled(y.m / x.m, y.e - x.e); // atan2(y, x) = y / x for tiny y / x
    return result(r, false);
  }
  const yl2x = op === T.FYL2X;
  // the logarithm's argument: zero, negative, infinite, one
  if (yl2x) {
    if (sa && ca !== Cls.Zero) return invalid();
    if (ca === Cls.Zero) {
      if (cb === Cls.Zero) return invalid();
      if (cb !== Cls.Inf && raise(ZE)) return null;
      return inf80(sb ^ 1);
    }
    if (denormalCheck(ca, cb)) return null;
    if (ca === Cls.Inf) return cb === Cls.Zero ? invalid() : inf80(sb);
    const lgOne = a.se === 0x3fff && a.m === 1n << 63n;
    if (cb === Cls.Inf) return lgOne ? invalid() : inf80(sb ^ ((a.se & 0x7fff) < 0x3fff ? 1 : 0));
    if (lgOne || cb === Cls.Zero) return { se: (sb ^ ((a.se & 0x7fff) < 0x3fff && !lgOne ? 1 : 0)) << 15, m: 0n };
    const y = scaled(b);
    return fromScaled(y.m * log2(a), y.e);
  }
  // FYL2XP1: defined for |ST0| < 1 - sqrt(2)/2; beyond that the result is computed the same way
  if (denormalCheck(ca, cb)) return null;
  if (ca === Cls.Zero) return cb === Cls.Inf ? invalid() : { se: (sa ^ sb) << 15, m: 0n };
  if (cb === Cls.Zero) return ca === Cls.Inf ? invalid() : { se: (sa ^ sb) << 15, m: 0n };
  if (ca === Cls.Inf) return sa ? invalid() : cb === Cls.Inf ? inf80(sb) : inf80(sb);
  const x = scaled(a), y = scaled(b);
  if (cb === Cls.Inf) return inf80(sb ^ sa);
  const xv = x.m * 2 ** Math.max(-1100, x.e);
  if (xv <= -1) return invalid();
  const l1p = x.e < -60 ? (x.m / Math.LN2) * 2 ** 0 : Math.log1p(xv) / Math.LN2;
  return fromScaled(y.m * l1p, y.e + (x.e < -60 ? x.e : 0));
}

