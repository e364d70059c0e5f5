// IEEE 754 binary32/binary64 arithmetic as SSE does it, on raw bit patterns (bigint, the low 32 or 64 bits), with
// MXCSR's rounding control, DAZ and FTZ and its exception flags. Exact results are formed with bigint mantissas
// and rounded once (round()), so every rounding mode and flag is exact. (NaN payloads never pass through JS
// numbers, which may canonicalise them.) About 0.3 us per operation: fast enough for what SSE floating point does
// in the kernel and the userland; a double-precision fast path could be added if a workload needs it.
//
// SSE behaviour the manuals specify, confirmed on this host's AMD Zen CPU: tininess is detected after rounding;
// a NaN operand, an invalid operation or a division by zero suppresses the denormal flag; unmasked overflow and
// underflow come with PE only when the result rounded to the precision with an unbounded exponent is inexact
// (and underflow is flagged even for exact results); a NaN result is the first source operand's NaN (quieted), else the
// second's, else the default NaN (sign set, quiet bit only); DAZ reads denormal operands as zeros of their sign
// (without the denormal flag); FTZ (with underflow masked) returns a zero of the result's sign and sets UE and PE.
import { DE, IE, OE, PE, RC_DOWN, RC_NEAREST, RC_UP, RC_ZERO, UE, ZE } from './mxcsr.ts';

export interface Fmt {
  /** Precision in bits (with the implicit bit). */
  p: number;
  emin: number;
  emax: number;
  bias: number;
  width: 32 | 64;
  sign: bigint;
  expMask: bigint;
  fracMask: bigint;
  quiet: bigint;
  /** The default NaN (invalid results): sign set, quiet bit only. */
  dflt: bigint;
  inf: bigint;
  maxFinite: bigint;
}

function fmt(width: 32 | 64, p: number, ebits: number): Fmt {
  const bias = (1 << (ebits - 1)) - 1;
  const sign = 1n << BigInt(width - 1);
  const fracMask = (1n << BigInt(p - 1)) - 1n;
  const expMask = ((1n << BigInt(ebits)) - 1n) << BigInt(p - 1);
  const quiet = 1n << BigInt(p - 2);
  return {
    p, emin: 1 - bias, emax: bias, bias, width, sign, expMask, fracMask, quiet, dflt: sign | expMask | quiet, inf: expMask,
    maxFinite: expMask - 1n,
  };
}
export const F32 = fmt(32, 24, 8);
export const F64 = fmt(64, 53, 11);

/** Operand classes. */
export const enum K {
  Zero, Normal, Denormal, Inf, QNaN, SNaN,
}

export function kind(x: bigint, f: Fmt): K {
  const e = x & f.expMask, m = x & f.fracMask;
  if (e === 0n) return m === 0n ? K.Zero : K.Denormal;
  if (e === f.expMask) return m === 0n ? K.Inf : m & f.quiet ? K.QNaN : K.SNaN;
  return K.Normal;
}
export const isNaN = (k: K) => k >= K.QNaN;

/** The rounding context of the instruction being executed (set from MXCSR or an imm8 by the caller). */
export const ctx = {
  rc: RC_NEAREST,
  daz: false,
  ftz: false,
  /** Underflow and overflow masked (they change what is flagged and delivered). */
  ueMasked: true,
  oeMasked: true,
  /** Exception flags raised so far (IE DE ZE OE UE PE). */
  flags: 0,
};

/** The operand as the arithmetic sees it: DAZ turns denormals into zeros of the same sign. */
export function daz(x: bigint, f: Fmt): bigint {
  return ctx.daz && (x & f.expMask) === 0n ? x & f.sign : x;
}

// An unpacked finite value: (-1)^us * um * 2^ue.
let us = 0, um = 0n, ue = 0;
function unpack(x: bigint, f: Fmt): void {
  us = x & f.sign ? 1 : 0;
  const e = Number((x & f.expMask) >> BigInt(f.p - 1));
  const m = x & f.fracMask;
  if (e === 0) {
    um = m;
    ue = f.emin - (f.p - 1);
  } else {
    um = m | (1n << BigInt(f.p - 1));
    ue = e - f.bias - (f.p - 1);
  }
}

export const quiet = (x: bigint, f: Fmt): bigint => x | f.quiet;

const bitLength = (m: bigint): number => m.toString(2).length;

/**
 * Rounds (-1)^s * m * 2^e (plus a non-zero remainder below m's last bit when `sticky`) to the format with the
 * context's rounding mode, FTZ and masks; raises OE UE PE as the hardware does. m must be non-zero or sticky; with
 * sticky, m must carry at least p + 2 significant bits.
 */
export function round(s: number, m: bigint, e: number, sticky: boolean, f: Fmt): bigint {
  const sign = s ? f.sign : 0n;
  const bl = bitLength(m);
  const top = e + bl - 1; // exponent of the leading bit
  // rounding to p bits with an unbounded exponent first: tininess is judged on that (after rounding)
  let q = top - (f.p - 1);
  let [k, inexact] = roundAt(s, m, e, sticky, q);
  if (k >> BigInt(f.p) !== 0n) {
    k >>= 1n;
    q++;
  }
  const tiny = q + f.p - 1 < f.emin;
  if (tiny) {
    if (!ctx.ueMasked) {
      ctx.flags |= UE | (inexact ? PE : 0); // even when exact; the result is not delivered
      return sign;
    }
    if (ctx.ftz) {
      ctx.flags |= UE | PE;
      return sign;
    }
    // round again on the denormal grid
    const qd = f.emin - (f.p - 1);
    [k, inexact] = roundAt(s, m, e, sticky, qd);
    if (inexact) ctx.flags |= UE | PE;
    return sign | k; // k == 2^(p-1) is the smallest normal, encoded the same way
  }
  if (q + f.p - 1 > f.emax) {
    if (!ctx.oeMasked) {
      ctx.flags |= OE | (inexact ? PE : 0); // the result is not delivered
      return sign;
    }
    ctx.flags |= OE | PE;
    const toInf = ctx.rc === RC_NEAREST || (ctx.rc === RC_UP && !s) || (ctx.rc === RC_DOWN && s);
    return sign | (toInf ? f.inf : f.maxFinite);
  }
  if (inexact) ctx.flags |= PE;
  const biased = BigInt(q + f.p - 1 + f.bias);
  return sign | (biased << BigInt(f.p - 1)) | (k & f.fracMask);
}

/** m * 2^e (+ sticky) rounded to a multiple of 2^q: [multiple, inexact]. */
function roundAt(s: number, m: bigint, e: number, sticky: boolean, q: number): [bigint, boolean] {
  const d = q - e;
  if (d <= 0) return [m << BigInt(-d), sticky];
  const dd = BigInt(d);
  let k = m >> dd;
  const rem = m & ((1n << dd) - 1n);
  const half = 1n << (dd - 1n);
  const inexact = rem !== 0n || sticky;
  if (inexact) {
    let up: boolean;
    switch (ctx.rc) {
      case RC_NEAREST: up = rem > half || (rem === half && (sticky || (k & 1n) === 1n)); break;
      case RC_DOWN: up = s === 1; break;
      case RC_UP: up = s === 0; break;
      default: up = false;
    }
    if (up) k++;
  }
  return [k, inexact];
}

/** The sign of an exact zero sum: -0 only for (-0) + (-0), or for x - x when rounding down. */
const zeroSum = (sa: number, sb: number): number => (sa && sb ? 1 : sa !== sb ? (ctx.rc === RC_DOWN ? 1 : 0) : 0);

/**
 * NaN operands of a two-operand arithmetic operation: IE for an SNaN; the first NaN, quieted. Returns -1n when
 * neither operand is a NaN.
 */
function nanResult(a: bigint, ka: K, b: bigint, kb: K, f: Fmt): bigint {
  if (ka === K.SNaN || kb === K.SNaN) ctx.flags |= IE;
  if (isNaN(ka)) return quiet(a, f);
  if (isNaN(kb)) return quiet(b, f);
  return -1n;
}

/** DE for denormal operands (none when DAZ reads them as zeros). */
function denormalFlag(...ks: K[]): void {
  if (ks.includes(K.Denormal)) ctx.flags |= DE;
}

/** a + b (or a - b with `sub`). */
export function add(a: bigint, b: bigint, f: Fmt, sub = false): bigint {
  a = daz(a, f);
  b = daz(b, f);
  const ka = kind(a, f), kb = kind(b, f);
  const nan = nanResult(a, ka, b, kb, f);
  if (nan >= 0n) return nan;
  if (sub) b ^= f.sign;
  denormalFlag(ka, kb);
  if (ka === K.Inf || kb === K.Inf) {
    if (ka === K.Inf && kb === K.Inf && (a ^ b) & f.sign) {
      ctx.flags |= IE;
      return f.dflt;
    }
    return ka === K.Inf ? a : b;
  }
  if (ka === K.Zero && kb === K.Zero) return zeroSum(a & f.sign ? 1 : 0, b & f.sign ? 1 : 0) ? f.sign : 0n;
  unpack(a, f);
  const sa = us, ma = um, ea = ue;
  unpack(b, f);
  const sb = us, mb = um, eb = ue;
  const e = Math.min(ea, eb);
  const va = (sa ? -ma : ma) << BigInt(ea - e), vb = (sb ? -mb : mb) << BigInt(eb - e);
  const sum = va + vb;
  if (sum === 0n) return zeroSum(sa, sb) ? f.sign : 0n;
  return round(sum < 0n ? 1 : 0, sum < 0n ? -sum : sum, e, false, f);
}

export function mul(a: bigint, b: bigint, f: Fmt): bigint {
  a = daz(a, f);
  b = daz(b, f);
  const ka = kind(a, f), kb = kind(b, f);
  const nan = nanResult(a, ka, b, kb, f);
  if (nan >= 0n) return nan;
  denormalFlag(ka, kb);
  const s = (a ^ b) & f.sign;
  if (ka === K.Inf || kb === K.Inf) {
    if (ka === K.Zero || kb === K.Zero) {
      ctx.flags |= IE;
      return f.dflt;
    }
    return s | f.inf;
  }
  if (ka === K.Zero || kb === K.Zero) return s;
  unpack(a, f);
  const ma = um, ea = ue;
  unpack(b, f);
  return round(s ? 1 : 0, ma * um, ea + ue, false, f);
}

export function div(a: bigint, b: bigint, f: Fmt): bigint {
  a = daz(a, f);
  b = daz(b, f);
  const ka = kind(a, f), kb = kind(b, f);
  const nan = nanResult(a, ka, b, kb, f);
  if (nan >= 0n) return nan;
  const s = (a ^ b) & f.sign;
  if ((ka === K.Inf && kb === K.Inf) || (ka === K.Zero && kb === K.Zero)) {
    ctx.flags |= IE;
    return f.dflt;
  }
  if (ka === K.Inf) {
    denormalFlag(kb);
    return s | f.inf;
  }
  if (kb === K.Zero) {
    ctx.flags |= ZE; // a denormal dividend is not flagged
    return s | f.inf;
  }
  denormalFlag(ka, kb);
  if (kb === K.Inf) return s;
  if (ka === K.Zero) return s;
  unpack(a, f);
  const ma = um, ea = ue;
  unpack(b, f);
  const mb = um, eb = ue;
  // enough quotient bits for p + 2 significant ones whatever the operands' normalisation
  const shift = f.p + 3 + Math.max(0, bitLength(mb) - bitLength(ma)) + f.p;
  const n = ma << BigInt(shift);
  const qt = n / mb;
  return round(s ? 1 : 0, qt, ea - eb - shift, qt * mb !== n, f);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(a: bigint, f: Fmt): bigint {
  a = daz(a, f);
  const ka = kind(a, f);
  if (isNaN(ka)) {
    if (ka === K.SNaN) ctx.flags |= IE;
    return quiet(a, f);
  }
  if (ka === K.Zero) return a;
  if (a & f.sign) {
    ctx.flags |= IE;
    return f.dflt;
  }
  denormalFlag(ka);
  if (ka === K.Inf) return a;
  unpack(a, f);
  let m = um, e = ue;
  let shift = 2 * f.p + 4;
  if ((e - shift) & 1) shift++;
  m <<= BigInt(shift);
  e -= shift;
  const r = isqrt(m);
  return round(0, r, e / 2, r * r !== m, f);
}

/**
 * minps/maxps and their scalar forms: the second operand when either is a NaN (IE for any NaN) or both are
 * zeros, else the smaller (larger). DAZ-flushed operands are returned flushed.
 */
export function minMax(a: bigint, b: bigint, f: Fmt, max: boolean): bigint {
  a = daz(a, f);
  b = daz(b, f);
  const ka = kind(a, f), kb = kind(b, f);
  if (isNaN(ka) || isNaN(kb)) {
    ctx.flags |= IE;
    return b;
  }
  denormalFlag(ka, kb);
  const c = compareOrdered(a, b, f);
  return (max ? c > 0 : c < 0) ? a : b;
}

/** -1, 0, 1 for ordered operands (zeros of either sign equal). */
export function compareOrdered(a: bigint, b: bigint, f: Fmt): number {
  const mag = ~f.sign & ((1n << BigInt(f.width)) - 1n);
  const am = a & mag, bm = b & mag;
  if (am === 0n && bm === 0n) return 0;
  const sa = a & f.sign ? -1 : 1, sb = b & f.sign ? -1 : 1;
  if (sa !== sb) return sa;
  return am === bm ? 0 : (am > bm ? 1 : -1) * sa;
}

/**
 * Compare for cmpps/cmpss predicates 0-7 and comiss/ucomiss: returns 'u' (unordered) or -1/0/1, raising IE for
 * an SNaN, or for a QNaN too when `signaling`.
 */
export function compare(a: bigint, b: bigint, f: Fmt, signaling: boolean): number | 'u' {
  a = daz(a, f);
  b = daz(b, f);
  const ka = kind(a, f), kb = kind(b, f);
  if (isNaN(ka) || isNaN(kb)) {
    if (signaling || ka === K.SNaN || kb === K.SNaN) ctx.flags |= IE;
    return 'u';
  }
  denormalFlag(ka, kb);
  return compareOrdered(a, b, f);
}

// ---------------------------------------------------------------------------------------------------------------
// Conversions

/** Between formats (cvtss2sd, cvtsd2ss): NaNs keep their sign and top payload bits and are quieted. */
export function convert(a: bigint, from: Fmt, to: Fmt): bigint {
  a = daz(a, from);
  const ka = kind(a, from);
  const sign = a & from.sign ? to.sign : 0n;
  if (isNaN(ka)) {
    if (ka === K.SNaN) ctx.flags |= IE;
    const payload = a & from.fracMask;
    const shifted = to.p > from.p ? payload << BigInt(to.p - from.p) : payload >> BigInt(from.p - to.p);
    return sign | to.expMask | to.quiet | shifted;
  }
  if (ka === K.Inf) return sign | to.inf;
  if (ka === K.Zero) return sign;
  denormalFlag(ka);
  unpack(a, from);
  return round(us, um, ue, false, to);
}

/** A signed integer (bigint) to the format, rounded per the context. */
export function fromInt(v: bigint, f: Fmt): bigint {
  if (v === 0n) return 0n;
  return round(v < 0n ? 1 : 0, v < 0n ? -v : v, 0, false, f);
}

/**
 * To a signed integer of `bits` bits, rounded per the context (or truncated): NaN and out-of-range values give
 * the integer indefinite (the smallest value) with IE. Returns the bigint value.
 */
export function toInt(a: bigint, f: Fmt, bits: 32 | 64, truncate: boolean): bigint {
  a = daz(a, f);
  const ka = kind(a, f);
  const indefinite = -(1n << BigInt(bits - 1));
  if (isNaN(ka) || ka === K.Inf) {
    ctx.flags |= IE;
    return indefinite;
  }
  if (ka === K.Zero) return 0n;
  unpack(a, f);
  const r = roundToInt(us, um, ue, truncate ? RC_ZERO : ctx.rc);
  const v = us ? -r : r;
  if (v < indefinite || v > -indefinite - 1n) {
    ctx.flags |= IE;
    return indefinite;
  }
  if (inexactInt) ctx.flags |= PE;
  return v;
}

let inexactInt = false;
/** |m * 2^e| rounded to an integer with rounding mode rc (sign s for the directed modes); sets inexactInt. */
function roundToInt(s: number, m: bigint, e: number, rc: number): bigint {
  if (e >= 0) {
    inexactInt = false;
    return m << BigInt(e);
  }
  const saved = ctx.rc;
  ctx.rc = rc;
  const [k, inexact] = roundAt(s, m, e, false, 0);
  ctx.rc = saved;
  inexactInt = inexact;
  return k;
}

/**
 * roundss/roundps: to an integral value in the same format with rounding mode rc; IE for SNaN (quieted); PE
 * for an inexact result unless suppressed.
 */
export function roundIntegral(a: bigint, f: Fmt, rc: number, suppressPE: boolean): bigint {
  a = daz(a, f);
  const ka = kind(a, f);
  if (isNaN(ka)) {
    if (ka === K.SNaN) ctx.flags |= IE;
    return quiet(a, f);
  }
  if (ka === K.Inf || ka === K.Zero) return a;
  unpack(a, f);
  if (ue >= 0) return a;
  const k = roundToInt(us, um, ue, rc);
  if (inexactInt && !suppressPE) ctx.flags |= PE;
  const sign = us ? f.sign : 0n;
  if (k === 0n) return sign;
  const saved = ctx.flags;
  const r = round(us, k, 0, false, f);
  ctx.flags = saved; // exact
  return r;
}
