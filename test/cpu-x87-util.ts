// Operands for the x87 oracle tests (test/cpu-x87-*.test.ts): 80-bit extended values biased to the classes the
// x87 treats specially (zeros, denormals and pseudo-denormals, values at rounding boundaries of 24/53/64 bits,
// near overflow and underflow, infinities, quiet and signalling NaNs, unsupported encodings), binary32/64 and
// integer memory operands, and control words.
import { Rng } from './util/oracle.ts';

/** An 80-bit value: significand m (64 bits) and sign/exponent se (16 bits). */
export interface X80 {
  m: bigint;
  se: number;
}

const J = 1n << 63n;
const M64 = (1n << 64n) - 1n;

/** A significand pattern: random, or with the bits around a rounding position set to a boundary. */
function mantissa(r: Rng): bigint {
  const k = r.int(8);
  if (k < 3) return r.u64() | J;
  const pos = r.pick([40, 11, 0, 1, 2, 39, 41, 10, 12]); // bits below the 24/53/64-bit rounding points
  let m = (r.u64() | J) & ~((1n << BigInt(pos + 2)) - 1n);
  switch (k) {
    case 3: m |= pos ? 1n << BigInt(pos - 1) : 0n; break; // exactly half
    case 4: m |= pos ? (1n << BigInt(pos - 1)) | 1n : 1n; break; // just above half
    case 5: m |= pos ? (1n << BigInt(pos - 1)) - 1n : 0n; break; // just below half
    case 6: m = J | (r.int(2) ? M64 >> 1n : 0n); break; // 1.0 or 1.111...
    default: m |= (1n << BigInt(pos + 2)) - 1n; break; // all ones below
  }
  return m & M64;
}

/** A random extended value biased to special classes. */
export function x80(r: Rng, allowUnsupported = true): X80 {
  const s = r.int(2) << 15;
  const k = r.int(allowUnsupported ? 20 : 18);
  switch (k) {
    case 0: return { m: 0n, se: s };
    case 1: return { m: r.u64() >> BigInt(1 + r.int(63)), se: s }; // denormal
    case 2: return { m: r.u64() | J, se: s }; // pseudo-denormal
    case 3: return { m: J, se: s | 0x7fff }; // infinity
    case 4: return { m: J | (1n << 62n) | (r.int(2) ? r.u64() & ((1n << 62n) - 1n) : 0n), se: s | 0x7fff }; // QNaN
    case 5: return { m: J | (r.u64() & ((1n << 62n) - 1n)) | 1n, se: s | 0x7fff }; // SNaN
    case 6: return { m: mantissa(r), se: s | (1 + r.int(70)) }; // tiny normal
    case 7: return { m: mantissa(r), se: s | (0x7ffe - r.int(70)) }; // huge normal
    case 8: return { m: mantissa(r), se: s | (0x3fff - 1022 + r.int(5) - 2) }; // around binary64's smallest
    case 9: return { m: mantissa(r), se: s | (0x3fff + 1023 + r.int(3) - 1) }; // around binary64's largest
    case 10: return { m: mantissa(r), se: s | (0x3fff - 126 + r.int(5) - 2) }; // around binary32's smallest
    case 11: { // a small integer
      const v = BigInt(1 + r.int(1000));
      const n = v.toString(2).length;
      return { m: v << BigInt(64 - n), se: s | (0x3fff + n - 1) };
    }
    case 18: return { m: r.u64() & ~J, se: s | (1 + r.int(0x7ffe)) }; // unnormal
    case 19: return { m: r.u64() & ~J, se: s | 0x7fff }; // pseudo-infinity / pseudo-NaN
    default: return { m: mantissa(r), se: s | (0x3fff + r.int(140) - 70) }; // ordinary
  }
}

/** An extended value that is exactly representable in binary64 (for comparisons at any precision). */
export function x80as64(r: Rng): X80 {
  const v = x80(r, false);
  return (v.se & 0x7fff) === 0x7fff || (v.se & 0x7fff) === 0 ? v : { m: v.m & ~0x7ffn, se: v.se };
}

export function bytes80(v: X80): Uint8Array {
  const b = new Uint8Array(10);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, v.m, true);
  dv.setUint16(8, v.se, true);
  return b;
}

/** binary64 bits biased to special values. */
export function f64bits(r: Rng): bigint {
  const s = BigInt(r.int(2)) << 63n;
  const frac = r.u64() & ((1n << 52n) - 1n);
  switch (r.int(9)) {
    case 0: return s;
    case 1: return s | (frac >> BigInt(r.int(52))) | 1n; // denormal
    case 2: return s | (0x7ffn << 52n); // infinity
    case 3: return s | (0x7ffn << 52n) | (1n << 51n) | (frac >> 1n); // QNaN
    case 4: return s | (0x7ffn << 52n) | ((frac >> 1n) | 1n); // SNaN
    default: return s | (BigInt(1 + r.int(0x7fe)) << 52n) | frac;
  }
}

/** binary32 bits biased to special values. */
export function f32bits(r: Rng): number {
  const s = r.int(2) << 31;
  const frac = r.int(1 << 23);
  switch (r.int(9)) {
    case 0: return s >>> 0;
    case 1: return (s | (frac >> r.int(23)) | 1) >>> 0;
    case 2: return (s | (0xff << 23)) >>> 0;
    case 3: return (s | (0xff << 23) | (1 << 22) | (frac >> 1)) >>> 0;
    case 4: return (s | (0xff << 23) | ((frac >> 1) | 1)) >>> 0;
    default: return (s | ((1 + r.int(0xfe)) << 23) | frac) >>> 0;
  }
}

/**
 * A control word: precision (24/53/64) and rounding by `r`, exceptions masked except sometimes one or more
 * (`unmask` probability 1/n).
 */
export function cw(r: Rng, unmask = 6): number {
  const pc = r.pick([0, 2, 3, 3]);
  const rc = r.int(4);
  let masks = 0x3f;
  if (r.int(unmask) === 0) masks &= ~(1 << r.int(6));
  if (r.int(unmask * 3) === 0) masks = r.int(64);
  return masks | 0x40 | (pc << 8) | (rc << 10);
}


/**
 * The data area of a case: [0] the control word, [16] and [32] two extended values, [48] a binary64, [56] a
 * binary32, [60] int32, [64] int16, [72] int64.
 */
export function operands(r: Rng, a: X80, b: X80, cwv: number): Uint8Array {
  const d = operandBytes(r, a, b, cwv);
  lastNote = describe(d);
  return d;
}

/** A description of the last operands() (for a case's note in mismatch reports). */
export let lastNote = '';
const h80 = (d: DataView, o: number) => `${d.getUint16(o + 8, true).toString(16)}:${d.getBigUint64(o, true).toString(16)}`;
export function describe(d: Uint8Array): string {
  const dv = new DataView(d.buffer, d.byteOffset);
  return `cw=${dv.getUint16(0, true).toString(16)} a=${h80(dv, 16)} b=${h80(dv, 32)} m64=${dv.getBigUint64(48, true).toString(16)} ` +
    `m32=${dv.getUint32(56, true).toString(16)} i32=${dv.getInt32(60, true)} i16=${dv.getInt16(64, true)} i64=${dv.getBigInt64(72, true)}`;
}

function operandBytes(r: Rng, a: X80, b: X80, cwv: number): Uint8Array {
  const d = new Uint8Array(96);
  const dv = new DataView(d.buffer);
  dv.setUint16(0, cwv, true);
  d.set(bytes80(a), 16);
  d.set(bytes80(b), 32);
  dv.setBigUint64(48, f64bits(r), true);
  dv.setUint32(56, f32bits(r), true);
  dv.setInt32(60, r.int(3) ? r.int(2000) - 1000 : Number(BigInt.asIntN(32, r.u64())), true);
  dv.setInt16(64, r.int(3) ? r.int(200) - 100 : Number(BigInt.asIntN(16, r.u64())), true);
  dv.setBigInt64(72, r.int(3) ? BigInt(r.int(2000) - 1000) : BigInt.asIntN(64, r.u64()), true);
  return d;
}

export { Rng };
