// Inputs for the MMX/SSE oracle tests (test/cpu-sse-*.test.ts): vectors biased to lane edge values, FP values
// biased to the special classes, and the little-endian byte images of them for the data area.
import { Rng } from './util/oracle.ts';

const EDGE: Record<number, bigint[]> = {
  1: [0n, 1n, 2n, 0x7en, 0x7fn, 0x80n, 0x81n, 0xfen, 0xffn, 0x0fn, 0xf0n],
  2: [0n, 1n, 0x7ffen, 0x7fffn, 0x8000n, 0x8001n, 0xfffen, 0xffffn, 0x00ffn, 0xff00n, 0x0080n, 0xff7fn],
  4: [0n, 1n, 0x7fffffffn, 0x80000000n, 0x80000001n, 0xffffffffn, 0xfffen, 0xffff0000n, 0x0000ffffn, 0x7fff8000n],
  8: [0n, 1n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xffffffffn, 0x100000000n, 0x8000000080000000n],
};

/** Lanes of `size` bytes assembled into a 128-bit value. */
export function fromLanes(lanes: bigint[], size: number): bigint {
  let v = 0n;
  lanes.forEach((x, i) => (v |= BigInt.asUintN(size * 8, x) << BigInt(i * size * 8)));
  return v;
}
export function lanesOf(v: bigint, size: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < 16 / size; i++) out.push((v >> BigInt(i * size * 8)) & ((1n << BigInt(size * 8)) - 1n));
  return out;
}

/** A random 128-bit vector: all random, or lanes of one size drawn from that size's edge values and random ones. */
export function vec(r: Rng, like?: bigint): bigint {
  const mode = r.int(7);
  if (mode === 0) return (r.u64() << 64n) | r.u64();
  if (mode === 6 && like !== undefined) {
    // mostly equal to `like`: lanes that compare equal, with a few bytes changed
    let v = like;
    for (let k = r.int(4); k > 0; k--) v ^= BigInt(1 + r.int(255)) << BigInt(8 * r.int(16));
    return v;
  }
  const size = [1, 2, 4, 8][r.int(4)]!;
  const lanes: bigint[] = [];
  for (let i = 0; i < 16 / size; i++) {
    lanes.push(r.int(3) ? r.pick(EDGE[size]!) : r.u64() & ((1n << BigInt(size * 8)) - 1n));
  }
  return fromLanes(lanes, size);
}

/** The 16 little-endian bytes of a 128-bit value (or `n` bytes). */
export function bytesOf(v: bigint, n = 16): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return b;
}

/** Concatenates byte arrays. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Floating point

/** A binary32 (bits 32) or binary64 (bits 64) bit pattern biased to the special classes and rounding edges. */
export function fpVal(r: Rng, bits: 32 | 64): bigint {
  const p = bits === 32 ? 24 : 53, eb = bits === 32 ? 8 : 11;
  const bias = (1 << (eb - 1)) - 1;
  const fracMask = (1n << BigInt(p - 1)) - 1n;
  const sign = r.int(2) ? 1n << BigInt(bits - 1) : 0n;
  const enc = (e: number, m: bigint) => sign | (BigInt(e) << BigInt(p - 1)) | (m & fracMask);
  const rf = () => r.u64() & fracMask;
  switch (r.int(16)) {
    case 0: return sign; // zero
    case 1: return enc(0, r.int(2) ? BigInt(r.int(4) + 1) : rf()); // denormal
    case 2: return enc((1 << eb) - 1, 0n); // infinity
    case 3: return enc((1 << eb) - 1, (1n << BigInt(p - 2)) | (r.int(2) ? 0n : rf())); // QNaN
    case 4: return enc((1 << eb) - 1, (rf() & ~(1n << BigInt(p - 2))) | 1n); // SNaN
    case 5: return enc(r.int(2) ? 1 : 2, r.int(2) ? 0n : rf()); // near the smallest normal
    case 6: return enc((1 << eb) - 2 - r.int(2), r.int(2) ? fracMask : rf()); // near the largest
    case 7: return enc(bias + r.int(3) - 1, r.int(2) ? BigInt(r.int(16)) : fracMask - BigInt(r.int(16))); // near 1
    case 8: { // small integers and halves
      const v = (r.int(64) - 32) / (r.int(2) ? 1 : 2);
      const b = bits === 32 ? BigInt(new Uint32Array(new Float32Array([v]).buffer)[0]!) : new BigUint64Array(new Float64Array([v]).buffer)[0]!;
      return b;
    }
    case 9: return enc(bias + r.int(70) - 35, rf() & ~((1n << BigInt(r.int(p - 1))) - 1n)); // few significant bits
    case 10: return enc(r.int(2) ? r.int(p + 2) + 1 : (1 << eb) - 2 - r.int(p + 2), rf()); // exponent extremes
    default: return enc(1 + r.int((1 << eb) - 2), rf());
  }
}

/** A 128-bit vector of 4 binary32 or 2 binary64 values. */
export function fpVec(r: Rng, bits: 32 | 64, like?: bigint): bigint {
  const n = 128 / bits;
  let v = 0n;
  for (let k = 0; k < n; k++) {
    let x = fpVal(r, bits);
    if (like !== undefined && r.int(5) === 0) {
      // a lane close to the other operand's (cancellation, equality, adjacent values)
      const o = (like >> BigInt(k * bits)) & ((1n << BigInt(bits)) - 1n);
      x = r.int(2) ? o : BigInt.asUintN(bits, o + BigInt(r.int(5) - 2)) ^ (r.int(2) ? 1n << BigInt(bits - 1) : 0n);
    }
    v |= x << BigInt(k * bits);
  }
  return v;
}

/** MXCSR values: mostly the default, then rounding modes, FTZ/DAZ, and unmasked exceptions. */
export function mxcsrVal(r: Rng): number {
  switch (r.int(8)) {
    case 0: case 1: case 2: return 0x1f80;
    case 3: return 0x1f80 | (r.int(4) << 13);
    case 4: return 0x1f80 | (r.int(2) ? 0x8000 : 0) | (r.int(2) ? 0x40 : 0) | (r.int(4) << 13);
    case 5: return (0x1f80 & ~(1 << (7 + r.int(6)))) | (r.int(4) << 13);
    case 6: return 0x1f80 | r.int(64); // sticky flags already set
    default: return (0x1f80 & ~(r.int(64) << 7)) | (r.int(4) << 13) | (r.int(2) ? 0x8040 : 0);
  }
}
