// Value operations of FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM and FPREM1 (exact), on operands the caller has
// checked for stack faults. Each returns null when an unmasked exception stops the instruction.
import type { F80 } from './regs.ts';
import { C0, C2, C3, IE, PE, ZE } from './regs.ts';
import { Cls, bitLen, classify, exact, fromInt, indefinite, inf80, pack80, roundTo80, RF, zero80 } from './f80.ts';
import { CW, X, denormalCheck, nanResult, raise, sqrt } from './arith.ts';
import { RI, roundInt } from './convert.ts';

export const fsqrt = sqrt;

export function frndint(a: F80): F80 | null {
  const ca = classify(a);
  const n = nanResult(a, ca, null, Cls.Normal);
  if (n !== undefined) return n;
  if (ca === Cls.Zero || ca === Cls.Inf) return a;
  if (denormalCheck(ca)) return null;
  const x = exact(a);
  if (x.e >= 0) return a;
  roundInt(x, CW.rc);
  if (RI.inexact) {
    X.exc |= PE;
    X.c1 = RI.up ? 1 : 0;
  }
  return RI.q === 0n ? zero80(x.sign) : pack80(x.sign, RI.q, 0);
}

/** ST0 * 2^trunc(ST1). */
export function fscale(a: F80, b: F80): F80 | null {
  const ca = classify(a), cb = classify(b);
  const n = nanResult(a, ca, b, cb);
  if (n !== undefined) return n;
  if (denormalCheck(ca, cb)) return null;
  const sa = a.se >> 15;
  if (cb === Cls.Inf) {
    const sb = b.se >> 15;
    if (ca === Cls.Zero) return sb ? a : raise(IE) ? null : indefinite();
    if (ca === Cls.Inf) return sb ? (raise(IE) ? null : indefinite()) : a;
    return sb ? zero80(sa) : inf80(sa);
  }
  if (ca === Cls.Zero || ca === Cls.Inf) return a;
  const y = exact(b);
  roundInt(y, 3);
  // beyond this every finite ST0 overflows or underflows completely
  const k = RI.q > 100000n ? 100000 : Number(RI.q);
  const x = exact(a);
  const r = roundTo80(sa, x.m, x.e + (y.sign ? -k : k), false, 3, CW.rc, CW.masks);
  X.exc |= RF.exc;
  X.c1 = RF.c1;
  return r;
}

/** [exponent, significand]: ST0 becomes the exponent, the significand is pushed. */
export function fxtract(a: F80): [F80, F80] | null {
  const ca = classify(a);
  const n = nanResult(a, ca, null, Cls.Normal);
  if (n !== undefined) return n ? [n, n] : null;
  const sign = a.se >> 15;
  if (ca === Cls.Zero) return raise(ZE) ? null : [inf80(1), a];
  if (ca === Cls.Inf) return [inf80(0), a];
  if (denormalCheck(ca)) return null;
  const x = exact(a);
  const E = x.e + bitLen(x.m) - 1;
  return [fromInt(BigInt(E)), pack80(sign, x.m, -(bitLen(x.m) - 1))];
}

/**
 * FPREM (truncating quotient, the dividend's sign) and FPREM1 (IEEE remainder, quotient rounded to nearest even).
 * An exponent difference D of 64 or more reduces partially (C2 = 1; C0 C1 C3 = 0).
 */
export function fprem(a: F80, b: F80, ieee: boolean): { v: F80; cc: number } | null {
  const ca = classify(a), cb = classify(b);
  const n = nanResult(a, ca, b, cb);
  if (n !== undefined) return n ? { v: n, cc: 0 } : null;
  if (ca === Cls.Inf || cb === Cls.Zero) return raise(IE) ? null : { v: indefinite(), cc: 0 };
  if (denormalCheck(ca, cb)) return null;
  // the dividend unchanged (a pseudo-denormal comes back in its normal encoding)
  if (ca === Cls.Zero || cb === Cls.Inf) return { v: ca === Cls.Zero ? a : pack80(a.se >> 15, a.m, exact(a).e), cc: 0 };
  const x = exact(a), y = exact(b);
  const ex = x.e + bitLen(x.m) - 1, ey = y.e + bitLen(y.m) - 1;
  const d = ex - ey;
  const e = Math.min(x.e, y.e);
  const X0 = x.m << BigInt(x.e - e);
  let Y = y.m << BigInt(y.e - e);
  let partial = false;
  if (d >= 64) {
    // this CPU reduces by a multiple of ST1 * 2^(32 * (floor(D / 32) - 1))
    partial = true;
    Y <<= BigInt((d & ~31) - 32);
  }
  let q = X0 / Y;
  let r = X0 - q * Y;
  if (ieee && !partial) {
    const twice = 2n * r;
    if (twice > Y || (twice === Y && (q & 1n) === 1n)) {
      q += 1n;
      r -= Y;
    }
  }
  let sign = x.sign;
  if (r < 0n) {
    r = -r;
    sign ^= 1;
  }
  const v = r === 0n ? zero80(x.sign) : roundTo80(sign, r, e, false, 3, CW.rc, CW.masks);
  if (r !== 0n) X.exc |= RF.exc;
  if (partial) return { v, cc: C2 };
  // quotient bits: C0 = Q2, C3 = Q1, C1 = Q0
  X.c1 = Number(q & 1n);
  return { v, cc: (q & 4n ? C0 : 0) | (q & 2n ? C3 : 0) };
}
