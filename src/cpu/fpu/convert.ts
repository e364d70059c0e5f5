// Conversions between F80 and the x87's integer formats (word/dword/qword integers, 18-digit packed BCD), rounding
// to an integer (FRNDINT, FIST, FBSTP), and exact comparison.
import type { F80 } from './regs.ts';
import { Cls, bitLen, classify, exact, fromInt, type Exact } from './f80.ts';

/** The result of roundInt(): magnitude, and whether it was inexact / rounded up in magnitude. */
export const RI = { q: 0n, inexact: false, up: false };

/** Rounds sign * m * 2^e to an integer magnitude by rc (0 nearest-even, 1 down, 2 up, 3 toward zero). */
export function roundInt(x: Exact, rc: number): void {
  RI.inexact = false;
  RI.up = false;
  if (x.e >= 0) {
    RI.q = x.m << BigInt(x.e);
    return;
  }
  const sh = BigInt(-x.e);
  let q = x.m >> sh;
  const rem = x.m & ((1n << sh) - 1n);
  if (rem !== 0n) {
    RI.inexact = true;
    let up: boolean;
    if (rc === 0) {
      const half = 1n << (sh - 1n);
      up = rem > half || (rem === half && (q & 1n) === 1n);
    } else up = rc === 1 ? x.sign === 1 : rc === 2 ? x.sign === 0 : false;
    if (up) q += 1n;
    RI.up = up;
  }
  RI.q = q;
}

/** Signed 16/32/64-bit integer staged in memory as F80. */
export function intToF80(v: bigint, bits: number): F80 {
  return fromInt(BigInt.asIntN(bits, v));
}

/** Packed BCD (bytes 0-8: 18 digits, low nibble first; byte 9 bit 7: sign) to F80; bad digits count as their value. */
export function bcdToF80(lo: bigint, hi: number): F80 {
  let v = 0n;
  for (let i = 8; i >= 0; i--) {
    const byte = i === 8 ? hi & 0xff : Number((lo >> BigInt(8 * i)) & 0xffn);
    v = v * 100n + BigInt((byte >> 4) * 10 + (byte & 15));
  }
  const neg = (hi & 0x8000) !== 0;
  if (v === 0n) return { se: neg ? 0x8000 : 0, m: 0n };
  const f = fromInt(v);
  return neg ? { se: f.se | 0x8000, m: f.m } : f;
}

/** An integer magnitude below 10^18 as packed BCD: the low 8 bytes and bytes 8-9 (with the sign in bit 15). */
export const BCD = { lo: 0n, hi: 0 };
export function toBcd(q: bigint, sign: number): void {
  let lo = 0n;
  for (let i = 0; i < 8; i++) {
    const d = q % 100n;
    q /= 100n;
    lo |= BigInt(Number(d / 10n) * 16 + Number(d % 10n)) << BigInt(8 * i);
  }
  const d = Number(q % 100n);
  BCD.lo = lo;
  BCD.hi = (Math.floor(d / 10) * 16 + (d % 10)) | (sign ? 0x8000 : 0);
}

/** Compares two ordered (non-NaN, supported) values: -1, 0, 1. Zeros of either sign are equal. */
export function compare(a: F80, b: F80): number {
  const ca = classify(a), cb = classify(b);
  const za = ca === Cls.Zero, zb = cb === Cls.Zero;
  if (za && zb) return 0;
  const sa = a.se >> 15, sb = b.se >> 15;
  if (za) return sb ? 1 : -1;
  if (zb) return sa ? -1 : 1;
  if (sa !== sb) return sa ? -1 : 1;
  const mag = magnitude(a, ca, b, cb);
  return sa ? -mag : mag;
}

function magnitude(a: F80, ca: Cls, b: F80, cb: Cls): number {
  if (ca === Cls.Inf || cb === Cls.Inf) return ca === cb ? 0 : ca === Cls.Inf ? 1 : -1;
  const x = exact(a), y = exact(b);
  const ex = x.e + bitLen(x.m), ey = y.e + bitLen(y.m);
  if (ex !== ey) return ex > ey ? 1 : -1;
  const xm = x.e > y.e ? x.m << BigInt(x.e - y.e) : x.m;
  const ym = y.e > x.e ? y.m << BigInt(y.e - x.e) : y.m;
  return xm === ym ? 0 : xm > ym ? 1 : -1;
}
