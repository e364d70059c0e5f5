// Exact x87 arithmetic: add, subtract, multiply, divide, square root, remainders and round-to-integer on F80 values,
// with the x87's special-operand rules (NaN propagation, invalid operations, division by zero, denormal operands).
// Each returns the result, or null when an unmasked exception stops the instruction (no result is written); the
// flags it raised are in X.
import type { IrHost } from '../ir/interp.ts';
import type { F80 } from './regs.ts';
import { B, C1, DE, ES, EXC, IE, SF, ZE, fsw, setFsw } from './regs.ts';
import { Cls, RF, bitLen, classify, exact, indefinite, inf80, isNaN80, quiet, roundTo80, zero80 } from './f80.ts';

/** Flags the current instruction raised (FSW exception bits) and its C1 result. */
export const X = { exc: 0, c1: 0, srcDenormal: false };

export function resetX(): void {
  X.exc = 0;
  X.c1 = 0;
  X.srcDenormal = false;
}

/** The x87 control word's rounding/precision/masks, set by the instruction's helper before it computes. */
export const CW = { rc: 0, pc: 3, masks: 0x3f };
export function setCw(fcw: number): void {
  CW.rc = (fcw >> 10) & 3;
  CW.pc = (fcw >> 8) & 3;
  CW.masks = fcw & 0x3f;
}

/** Raises exception flags `f`; true if one of them is unmasked and stops the instruction (IE, DE, ZE). */
export function raise(f: number): boolean {
  X.exc |= f;
  return (f & ~CW.masks & (IE | DE | ZE)) !== 0;
}

/**
 * Writes the raised flags to FSW: C1 from X.c1 (unless `keepC1`), the condition bits in `ccMask` from `cc`, the
 * exception flags, and ES/B when a raised flag is unmasked.
 */
export function commit(h: IrHost, ccMask = 0, cc = 0, keepC1 = false): void {
  let s = fsw(h);
  const m = ccMask | (keepC1 ? 0 : C1);
  s = (s & ~m) | (cc & ccMask) | (keepC1 ? 0 : X.c1 ? C1 : 0) | X.exc;
  if (X.exc & ~CW.masks & EXC) s |= ES | B;
  setFsw(h, s);
}

/** A stack overflow (push onto a valid register) or underflow (empty operand): IE|SF, C1; true when IE is masked. */
export function stackFault(overflow: boolean): boolean {
  X.exc |= IE | SF;
  X.c1 = overflow ? 1 : 0;
  return (CW.masks & IE) !== 0;
}

/**
 * The NaN result of an operation with NaN operands (x87 rules, as this AMD CPU applies them): an SNaN raises IE;
 * of two NaNs a QNaN wins over an SNaN, else the larger significand, else the positive one (quieted); undefined
 * when neither is a NaN. Unsupported formats are invalid and give the indefinite.
 */
export function nanResult(a: F80, ca: Cls, b: F80 | null, cb: Cls): F80 | null | undefined {
  if (ca === Cls.Unsupported || cb === Cls.Unsupported) return raise(IE) ? null : indefinite();
  const an = isNaN80(ca), bn = b !== null && isNaN80(cb);
  if (!an && !bn) return undefined;
  if (ca === Cls.SNaN || cb === Cls.SNaN) {
    if (raise(IE)) return null;
  }
  if (an && bn) {
    // a QNaN beats an SNaN; else the larger significand, on a tie the positive one
    if ((ca === Cls.SNaN) !== (cb === Cls.SNaN)) return quiet(ca === Cls.SNaN ? b! : a);
    if (b!.m !== a.m) return quiet(b!.m > a.m ? b! : a);
    return quiet(b!.se >> 15 ? a : b!);
  }
  return quiet(an ? a : b!);
}

/** Checks for denormal operands: raises DE; true if DE is unmasked (the instruction stops). */
export function denormalCheck(ca: Cls, cb: Cls = Cls.Normal): boolean {
  if (ca === Cls.Denormal || cb === Cls.Denormal || X.srcDenormal) return raise(DE);
  return false;
}

function finish(sign: number, m: bigint, e: number, sticky: boolean): F80 {
  const v = roundTo80(sign, m, e, sticky, CW.pc, CW.rc, CW.masks);
  X.exc |= RF.exc;
  X.c1 = RF.c1;
  return v;
}

/** a + b (sub: a - b). */
export function add(a: F80, b: F80, sub: boolean): F80 | null {
  const ca = classify(a), cb = classify(b);
  const n = nanResult(a, ca, b, cb);
  if (n !== undefined) return n;
  if (denormalCheck(ca, cb)) return null;
  const sa = a.se >> 15, sb = (b.se >> 15) ^ (sub ? 1 : 0);
  if (ca === Cls.Inf || cb === Cls.Inf) {
    if (ca === Cls.Inf && cb === Cls.Inf && sa !== sb) return raise(IE) ? null : indefinite();
    return inf80(ca === Cls.Inf ? sa : sb);
  }
  const x = exact(a), y = exact(b);
  if (x.m === 0n && y.m === 0n) return zero80(sa === sb ? sa : CW.rc === 1 ? 1 : 0);
  if (x.m === 0n) return finish(sb, y.m, y.e, false);
  if (y.m === 0n) return finish(sa, x.m, x.e, false);
  // align to the smaller exponent; an operand far below the other only matters as a sticky bit
  let xm = x.m, xe = x.e, ym = y.m, ye = y.e;
  const FAR = 140;
  if (xe - ye > FAR) {
    ym = 1n;
    xm <<= 70n;
    xe -= 70;
    ye = xe - 1;
  } else if (ye - xe > FAR) {
    xm = 1n;
    ym <<= 70n;
    ye -= 70;
    xe = ye - 1;
  }
  const e = Math.min(xe, ye);
  xm <<= BigInt(xe - e);
  ym <<= BigInt(ye - e);
  let s = sa === 0 ? xm : -xm;
  s += sb === 0 ? ym : -ym;
  if (s === 0n) return zero80(CW.rc === 1 ? 1 : 0);
  const sign = s < 0n ? 1 : 0;
  return finish(sign, sign ? -s : s, e, false);
}

export function mul(a: F80, b: F80): F80 | null {
  const ca = classify(a), cb = classify(b);
  const n = nanResult(a, ca, b, cb);
  if (n !== undefined) return n;
  if (denormalCheck(ca, cb)) return null;
  const sign = (a.se ^ b.se) >> 15;
  if (ca === Cls.Inf || cb === Cls.Inf) {
    if (ca === Cls.Zero || cb === Cls.Zero) return raise(IE) ? null : indefinite();
    return inf80(sign);
  }
  if (ca === Cls.Zero || cb === Cls.Zero) return zero80(sign);
  const x = exact(a), y = exact(b);
  return finish(sign, x.m * y.m, x.e + y.e, false);
}

export function div(a: F80, b: F80): F80 | null {
  const ca = classify(a), cb = classify(b);
  const n = nanResult(a, ca, b, cb);
  if (n !== undefined) return n;
  const sign = (a.se ^ b.se) >> 15;
  // invalid and divide-by-zero take priority over the denormal-operand exception (and exclude it)
  if (cb === Cls.Zero) {
    if (ca === Cls.Zero) return raise(IE) ? null : indefinite();
    if (ca !== Cls.Inf) return raise(ZE) ? null : inf80(sign);
  }
  if (denormalCheck(ca, cb)) return null;
  if (ca === Cls.Inf) return cb === Cls.Inf ? (raise(IE) ? null : indefinite()) : inf80(sign);
  if (cb === Cls.Inf) return zero80(sign);
  if (cb === Cls.Zero) {
    if (ca === Cls.Zero) return raise(IE) ? null : indefinite();
    return raise(ZE) ? null : inf80(sign);
  }
  if (ca === Cls.Zero) return zero80(sign);
  const x = exact(a), y = exact(b);
  // quotient with at least 66 significant bits, remainder as sticky
  const k = 66 + bitLen(y.m) - bitLen(x.m) + 1;
  const num = k > 0 ? x.m << BigInt(k) : x.m;
  const q = num / y.m;
  return finish(sign, q, x.e - y.e - Math.max(k, 0), num % y.m !== 0n);
}

/** Integer square root (floor) of a positive BigInt. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLen(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(a: F80): F80 | null {
  const ca = classify(a);
  const n = nanResult(a, ca, null, Cls.Normal);
  if (n !== undefined) return n;
  const sign = a.se >> 15;
  if (ca === Cls.Zero) return a;
  if (sign) return raise(IE) ? null : indefinite();
  if (denormalCheck(ca)) return null;
  if (ca === Cls.Inf) return a;
  const x = exact(a);
  // m * 2^e with e even and m of at least 134 bits: the root has at least 67
  let m = x.m, e = x.e;
  const need = Math.max(0, 134 - bitLen(m));
  m <<= BigInt(need);
  e -= need;
  if (e & 1) {
    m <<= 1n;
    e -= 1;
  }
  const r = isqrt(m);
  return finish(0, r, e / 2, r * r !== m);
}

