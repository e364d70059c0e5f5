// The x87's number formats as exact values: 80-bit extended (F80), binary32/binary64 memory formats, rounding to a
// precision and exponent range with the x87's flags (PE, UE, OE; C1 = rounded up). Significands are BigInts, so
// add/sub/mul/div/sqrt are exact before their one rounding: these results match the hardware bit for bit at every
// precision-control setting (the transcendental instructions are the exception, see trans.ts).
import type { F80 } from './regs.ts';
import { INDEF_M, INDEF_SE, OE, PE, UE } from './regs.ts';

export const enum Cls {
  Zero,
  /** exponent 0, significand non-zero (with or without the integer bit: pseudo-denormal) */
  Denormal,
  Normal,
  Inf,
  QNaN,
  SNaN,
  /** unnormals, pseudo-infinities and pseudo-NaNs */
  Unsupported,
}

const J = 1n << 63n;
const QUIET = 1n << 62n;
const M64 = (1n << 64n) - 1n;

export function classify(v: F80): Cls {
  const exp = v.se & 0x7fff;
  if (exp === 0) return v.m === 0n ? Cls.Zero : Cls.Denormal;
  if (!(v.m & J)) return Cls.Unsupported;
  if (exp === 0x7fff) {
    if ((v.m & ~J) === 0n) return Cls.Inf;
    return v.m & QUIET ? Cls.QNaN : Cls.SNaN;
  }
  return Cls.Normal;
}

export const isNaN80 = (c: Cls): boolean => c === Cls.QNaN || c === Cls.SNaN;
export const signOf = (v: F80): number => v.se >> 15;
export const indefinite = (): F80 => ({ se: INDEF_SE, m: INDEF_M });
export const quiet = (v: F80): F80 => ({ se: v.se, m: v.m | QUIET });
export const zero80 = (sign: number): F80 => ({ se: sign << 15, m: 0n });
export const inf80 = (sign: number): F80 => ({ se: (sign << 15) | 0x7fff, m: J });

/** Bit length of a positive BigInt. */
export function bitLen(m: bigint): number {
  const s = m.toString(16);
  const d = parseInt(s[0]!, 16);
  return (s.length - 1) * 4 + (32 - Math.clz32(d));
}

/** A finite value as sign * m * 2^e (m >= 0); denormals and pseudo-denormals have the minimum exponent. */
export interface Exact {
  sign: number;
  m: bigint;
  e: number;
}
export const EXP_BIAS = 16383;
/** e of the significand's lowest bit for exponent field 1 (and 0: denormals). */
const E_MIN_LSB = 1 - EXP_BIAS - 63;

export function exact(v: F80): Exact {
  const exp = v.se & 0x7fff;
  return { sign: v.se >> 15, m: v.m, e: exp === 0 ? E_MIN_LSB : exp - EXP_BIAS - 63 };
}

// ---------------------------------------------------------------------------------------------------------------
// Rounding

export interface Fmt {
  prec: number;
  /** unbiased exponent of the smallest / largest normal */
  emin: number;
  emax: number;
  bias: number;
}
export const FMT80: Fmt[] = [24, 24, 53, 64].map((prec) => ({ prec, emin: -16382, emax: 16383, bias: EXP_BIAS }));
export const FMT64: Fmt = { prec: 53, emin: -1022, emax: 1023, bias: 1023 };
export const FMT32: Fmt = { prec: 24, emin: -126, emax: 127, bias: 127 };

/** Result of round(): the value r * 2^lsb, and what rounding did. */
export const R = { r: 0n, lsb: 0, inexact: false, up: false, tiny: false };

/**
 * Rounds sign * (m + sticky) * 2^e to `prec` bits (denormalising below emin; pass emin = -Infinity for an unbounded
 * exponent), mode rc (0 nearest-even, 1 down, 2 up, 3 toward zero). `sticky` means bits below m's lowest one are
 * non-zero; then m must carry at least two bits below the rounding position. Tininess is detected after rounding
 * (as this CPU does: a result that rounds up to the smallest normal is not tiny).
 */
export function round(sign: number, m: bigint, e: number, sticky: boolean, prec: number, emin: number, rc: number): void {
  const E = e + bitLen(m) - 1;
  const lsb = Math.max(E, emin) - (prec - 1);
  const sh = lsb - e;
  let r: bigint;
  let inexact = sticky;
  let up = false;
  if (sh > 0) {
    const shb = BigInt(sh);
    r = m >> shb;
    const rem = m & ((1n << shb) - 1n);
    if (rem !== 0n) inexact = true;
    if (inexact) {
      if (rc === 0) {
        const half = 1n << (shb - 1n);
        up = rem > half || (rem === half && (sticky || (r & 1n) === 1n));
      } else up = rc === 1 ? sign === 1 : rc === 2 ? sign === 0 : false;
    }
  } else {
    r = m << BigInt(-sh);
    if (inexact) up = rc === 1 ? sign === 1 : rc === 2 ? sign === 0 : false;
  }
  let l = lsb;
  if (up) {
    r += 1n;
    if (r >> BigInt(prec)) {
      r >>= 1n;
      l++;
    }
  }
  R.r = r;
  R.lsb = l;
  R.inexact = inexact;
  R.up = up;
  // tininess after rounding: the result rounded to `prec` bits with an unbounded exponent is below 2^emin
  R.tiny = E < emin && (E < emin - 1 || !roundsToMin(sign, m, sticky, prec, rc));
}

/** Whether a value in [2^(emin-1), 2^emin) rounds (unbounded exponent, prec bits) up to 2^emin. */
function roundsToMin(sign: number, m: bigint, sticky: boolean, prec: number, rc: number): boolean {
  const sh = bitLen(m) - prec;
  if (sh <= 0) return false; // exact at this precision
  const shb = BigInt(sh);
  const q = m >> shb;
  if (q !== (1n << BigInt(prec)) - 1n) return false; // only all-ones can carry into the next power of two
  const rem = m & ((1n << shb) - 1n);
  if (rem === 0n && !sticky) return false;
  if (rc === 0) {
    const half = 1n << (shb - 1n);
    return rem >= half; // q is odd (all ones): a tie goes up too
  }
  return rc === 1 ? sign === 1 : rc === 2 ? sign === 0 : false;
}

/** Packs r * 2^lsb (r < 2^64, normalised or a denormal at the minimum exponent) as F80, with exponent `adjust`ed. */
export function pack80(sign: number, r: bigint, lsb: number, adjust = 0): F80 {
  if (r === 0n) return zero80(sign);
  const nb = bitLen(r);
  const E = lsb + nb - 1 + adjust;
  if (E >= 1 - EXP_BIAS) return { se: (sign << 15) | (E + EXP_BIAS), m: (r << BigInt(64 - nb)) & M64 };
  return { se: sign << 15, m: r << BigInt(lsb + adjust - E_MIN_LSB) };
}

/** Largest finite value of `prec` bits in the 80-bit format. */
const max80 = (sign: number, prec: number): F80 => ({ se: (sign << 15) | 0x7ffe, m: ((1n << BigInt(prec)) - 1n) << BigInt(64 - prec) });

/** Exception flags raised by the last rounding (OE UE PE) and whether it rounded up in magnitude (C1). */
export const RF = { exc: 0, c1: 0 };

/**
 * Rounds an exact non-zero result to an x87 register (precision control pc 0-3, RC rc, FCW masks `masks`),
 * setting RF. Masked overflow gives infinity or the largest value by RC; unmasked over/underflow rebias the exponent
 * by 24576. Masked underflow is signalled only when the tiny result is inexact.
 */
export function roundTo80(sign: number, m: bigint, e: number, sticky: boolean, pc: number, rc: number, masks: number): F80 {
  const prec = FMT80[pc]!.prec;
  round(sign, m, e, sticky, prec, -16382, rc);
  RF.exc = 0;
  RF.c1 = 0;
  const E = R.r === 0n ? -Infinity : R.lsb + bitLen(R.r) - 1;
  // unmasked over/underflow deliver the result with the exponent rebiased by 24576, unless even that is out of
  // range: then infinity or zero (whatever RC), with PE
  if (E > 16383) {
    if (!(masks & OE)) {
      if (E - 24576 > 16383) {
        RF.exc = OE | PE;
        RF.c1 = 1;
        return inf80(sign);
      }
      round(sign, m, e, sticky, prec, -Infinity, rc);
      RF.exc = OE | (R.inexact ? PE : 0);
      RF.c1 = R.up ? 1 : 0;
      return pack80(sign, R.r, R.lsb, -24576);
    }
    RF.exc = OE | PE;
    const toInf = rc === 0 || (rc === 1 && sign === 1) || (rc === 2 && sign === 0);
    RF.c1 = toInf ? 1 : 0;
    return toInf ? inf80(sign) : max80(sign, prec);
  }
  if (R.tiny) {
    if (!(masks & UE)) {
      if (e + bitLen(m) - 1 + 24576 < -16382) {
        RF.exc = UE | PE;
        return zero80(sign);
      }
      round(sign, m, e, sticky, prec, -Infinity, rc);
      RF.exc = UE | (R.inexact ? PE : 0);
      RF.c1 = R.up ? 1 : 0;
      return pack80(sign, R.r, R.lsb, 24576);
    }
    if (R.inexact) RF.exc = UE | PE;
    RF.c1 = R.up ? 1 : 0;
    return pack80(sign, R.r, R.lsb);
  }
  if (R.inexact) RF.exc = PE;
  RF.c1 = R.up ? 1 : 0;
  return pack80(sign, R.r, R.lsb);
}

/** Rounds an F80 value that is already exact to a register precision (FLD of constants, FSCALE...). */
export function finite80(v: F80, pc: number, rc: number, masks: number): F80 {
  const x = exact(v);
  if (x.m === 0n) return zero80(x.sign);
  return roundTo80(x.sign, x.m, x.e, false, pc, rc, masks);
}

// ---------------------------------------------------------------------------------------------------------------
// Memory formats

/** binary32/binary64 bits (as a BigInt) to F80, exactly. `denormal` tells whether the source was a denormal. */
export const FROM = { denormal: false, snan: false };
export function fromBits(bits: bigint, f: Fmt): F80 {
  const fracBits = f.prec - 1;
  const expBits = f === FMT32 ? 8 : 11;
  const sign = Number(bits >> BigInt(fracBits + expBits)) & 1;
  const exp = Number((bits >> BigInt(fracBits)) & ((1n << BigInt(expBits)) - 1n));
  const frac = bits & ((1n << BigInt(fracBits)) - 1n);
  FROM.denormal = false;
  FROM.snan = false;
  const emax = (1 << expBits) - 1;
  if (exp === emax) {
    const m = J | (frac << BigInt(64 - f.prec));
    if (frac !== 0n && !(m & QUIET)) FROM.snan = true;
    return { se: (sign << 15) | 0x7fff, m };
  }
  if (exp === 0) {
    if (frac === 0n) return zero80(sign);
    FROM.denormal = true;
    return pack80(sign, frac, 1 - f.bias - fracBits);
  }
  return { se: (sign << 15) | (exp - f.bias + EXP_BIAS), m: J | (frac << BigInt(64 - f.prec)) };
}

/** A signed integer to F80 (exact). */
export function fromInt(v: bigint): F80 {
  if (v === 0n) return zero80(0);
  const sign = v < 0n ? 1 : 0;
  return pack80(sign, sign ? -v : v, 0);
}

/** Flags of the last conversion to a memory format: IE (SNaN), OE/UE/PE, C1. */
export const TO = { exc: 0, c1: 0, store: true };

/**
 * F80 to binary32/binary64 bits, rounding by rc, masks for OE/UE. TO.store is false when an unmasked overflow or
 * underflow leaves memory unchanged. NaNs keep their sign and top payload bits (quieted); unsupported formats and
 * SNaNs raise IE (the caller decides on IE's mask).
 */
export function toBits(v: F80, f: Fmt, rc: number, masks: number): bigint {
  const fracBits = f.prec - 1;
  const expBits = f === FMT32 ? 8 : 11;
  const sign = BigInt(v.se >> 15) << BigInt(fracBits + expBits);
  const expAll = ((1n << BigInt(expBits)) - 1n) << BigInt(fracBits);
  TO.exc = 0;
  TO.c1 = 0;
  TO.store = true;
  const c = classify(v);
  switch (c) {
    case Cls.Zero:
      return sign;
    case Cls.Inf:
      return sign | expAll;
    case Cls.SNaN:
    case Cls.QNaN:
      if (c === Cls.SNaN) TO.exc = 1;
      return sign | expAll | (((v.m | QUIET) & ~J) >> BigInt(64 - f.prec));
    case Cls.Unsupported:
      TO.exc = 1;
      return indefBits(f);
  }
  const x = exact(v);
  round(x.sign, x.m, x.e, false, f.prec, f.emin, rc);
  const E = R.r === 0n ? -Infinity : R.lsb + bitLen(R.r) - 1;
  if (E > f.emax) {
    if (!(masks & OE)) {
      TO.exc = OE; // unmasked: memory is left alone and PE not reported
      TO.store = false;
      return 0n;
    }
    TO.exc = OE | PE;
    const toInf = rc === 0 || (rc === 1 && x.sign === 1) || (rc === 2 && x.sign === 0);
    TO.c1 = toInf ? 1 : 0;
    return toInf ? sign | expAll : sign | (expAll - (1n << BigInt(fracBits))) | ((1n << BigInt(fracBits)) - 1n);
  }
  if (R.tiny && !(masks & UE)) {
    TO.exc = UE;
    TO.store = false;
    return 0n;
  }
  if (R.inexact) TO.exc = PE | (R.tiny ? UE : 0);
  TO.c1 = R.up ? 1 : 0;
  if (R.r === 0n) return sign;
  if (E < f.emin) return sign | (R.r << BigInt(R.lsb - (f.emin - fracBits)));
  const frac = (R.r << BigInt(f.prec - bitLen(R.r))) & ((1n << BigInt(fracBits)) - 1n);
  return sign | (BigInt(E + f.bias) << BigInt(fracBits)) | frac;
}

/** The QNaN indefinite of a memory format. */
export const indefBits = (f: Fmt): bigint => (f === FMT32 ? 0xffc00000n : 0xfff8000000000000n);
