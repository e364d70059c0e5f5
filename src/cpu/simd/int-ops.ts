// Integer SIMD operations of MMX, SSE2, SSSE3 and SSE4.1 (lane arithmetic, compares, packs, unpacks, shifts,
// shuffles, extensions). Each is `(v, d, s, n, imm)`: destination and source byte indices, width n (8 or 16).
// Operations whose result lanes depend on other lanes compute into TMP first (d and s may be the same register).
import type { StateViews } from './state.ts';
import { TMP } from './state.ts';
import type { VecFn, VecResFn } from './helper.ts';

type Arr = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32';
const SHIFT: Record<Arr, number> = { u8: 0, i8: 0, u16: 1, i16: 1, u32: 2, i32: 2 };

export const sat8s = (x: number) => (x < -128 ? -128 : x > 127 ? 127 : x);
export const sat8u = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : x);
export const sat16s = (x: number) => (x < -32768 ? -32768 : x > 32767 ? 32767 : x);
export const sat16u = (x: number) => (x < 0 ? 0 : x > 65535 ? 65535 : x);

/** dest lane = f(dest lane, source lane), lanes viewed as `arr` (typed-array stores wrap/truncate). */
function lanewise(arr: Arr, f: (a: number, b: number) => number): VecFn {
  const sh = SHIFT[arr];
  return (v, d, s, n) => {
    const A = v[arr];
    const di = d >> sh, si = s >> sh;
    for (let k = 0; k < n >> sh; k++) A[di + k] = f(A[di + k]!, A[si + k]!);
  };
}

/** dest lane = f(source lane). */
function unary(arr: Arr, f: (b: number) => number): VecFn {
  const sh = SHIFT[arr];
  return (v, d, s, n) => {
    const A = v[arr];
    const di = d >> sh, si = s >> sh;
    for (let k = 0; k < n >> sh; k++) A[di + k] = f(A[si + k]!);
  };
}

// ---- 32x32 -> 64 multiplication without BigInt ----
let mulHi = 0;
/** Unsigned 32x32 product: returns the low word, leaves the high word in mulHi. */
function mulU32(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  mulHi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
  return Math.imul(a, b) >>> 0;
}
/** Signed 32x32 product, same convention. */
function mulS32(a: number, b: number): number {
  const lo = mulU32(a, b);
  mulHi = (mulHi - (a < 0 ? b >>> 0 : 0) - (b < 0 ? a >>> 0 : 0)) >>> 0;
  return lo;
}

/** 64-bit lanes as (lo, hi) u32 pairs: dest = f. */
function q64(f: (alo: number, ahi: number, blo: number, bhi: number) => void): VecFn {
  return (v, d, s, n) => {
    const U = v.u32;
    for (let k = 0; k < n >> 3; k++) {
      const di = (d >> 2) + 2 * k, si = (s >> 2) + 2 * k;
      f(U[di]!, U[di + 1]!, U[si]!, U[si + 1]!);
      U[di] = rlo;
      U[di + 1] = rhi;
    }
  };
}
let rlo = 0, rhi = 0;

/** Signed 64-bit a > b on (lo, hi) pairs (hi as u32). */
const gtS64 = (alo: number, ahi: number, blo: number, bhi: number) =>
  ahi !== bhi ? (ahi | 0) > (bhi | 0) : alo >>> 0 > blo >>> 0;

// ---------------------------------------------------------------------------------------------------------------

/** Packs: dest elements then source elements, each narrowed with saturation. */
function pack(from: 'i16' | 'i32', to: 'u8' | 'u16', sat: (x: number) => number): VecFn {
  const fs = SHIFT[from];
  return (v, d, s, n) => {
    const A = v[from], T = TMP[to];
    const m = n >> fs;
    for (let k = 0; k < m; k++) {
      T[k] = sat(A[(d >> fs) + k]!);
      T[m + k] = sat(A[(s >> fs) + k]!);
    }
    v.u8.set(TMP.u8.subarray(0, n), d);
  };
}

/** Interleaves the low (or high) halves of dest and source, elements of `size` bytes. */
function unpack(size: number, high: boolean): VecFn {
  return (v, d, s, n) => {
    const U = v.u8, T = TMP.u8;
    const half = n >> 1;
    const off = high ? half : 0;
    for (let e = 0; e < half / size; e++) {
      for (let b = 0; b < size; b++) {
        T[2 * e * size + b] = U[d + off + e * size + b]!;
        T[(2 * e + 1) * size + b] = U[s + off + e * size + b]!;
      }
    }
    U.set(T.subarray(0, n), d);
  };
}

/** The shift count of a register/memory count operand: its low 64 bits, saturated to 255. */
function count(v: StateViews, s: number): number {
  const U = v.u32;
  return U[(s >> 2) + 1] !== 0 || U[s >> 2]! > 255 ? 255 : U[s >> 2]!;
}

function shift(arr: 'u16' | 'i16' | 'u32' | 'i32', kind: 'l' | 'rl' | 'ra'): VecFn {
  const sh = SHIFT[arr];
  const bits = 8 << sh;
  return (v, d, s, n) => {
    let c = count(v, s);
    const A = v[arr];
    const di = d >> sh;
    if (c >= bits) {
      if (kind !== 'ra') {
        for (let k = 0; k < n >> sh; k++) A[di + k] = 0;
        return;
      }
      c = bits - 1;
    }
    for (let k = 0; k < n >> sh; k++) {
      const a = A[di + k]!;
      A[di + k] = kind === 'l' ? a << c : kind === 'ra' ? a >> c : a >>> c;
    }
  };
}

function shiftQ(left: boolean): VecFn {
  return (v, d, s, n) => {
    const c = count(v, s);
    const U = v.u32;
    for (let k = 0; k < n >> 3; k++) {
      const i = (d >> 2) + 2 * k;
      const lo = U[i]!, hi = U[i + 1]!;
      let nl = 0, nh = 0;
      if (c === 0) (nl = lo), (nh = hi);
      else if (c < 32) {
        if (left) (nl = lo << c), (nh = (hi << c) | (lo >>> (32 - c)));
        else (nl = (lo >>> c) | (hi << (32 - c))), (nh = hi >>> c);
      } else if (c < 64) {
        if (left) nh = lo << (c - 32);
        else nl = hi >>> (c - 32);
      }
      U[i] = nl;
      U[i + 1] = nh;
    }
  };
}

/** pslldq / psrldq: whole-register byte shifts by imm8. */
function byteShift(left: boolean): VecFn {
  return (v, d, _s, n, imm) => {
    const U = v.u8, T = TMP.u8;
    for (let k = 0; k < n; k++) {
      const from = left ? k - imm : k + imm;
      T[k] = from >= 0 && from < n ? U[d + from]! : 0;
    }
    U.set(T.subarray(0, n), d);
  };
}

/**
 * pshufw/pshufd/pshuflw/pshufhw: result elements lo..hi-1 (of `size` bytes) are chosen by 2-bit fields of imm8 from
 * the source's group of four they belong to; the other elements are copied from the source.
 */
function shuffle(size: number, lo: number, hi: number): VecFn {
  return (v, d, s, n, imm) => {
    const U = v.u8, T = TMP.u8;
    T.set(U.subarray(s, s + n));
    for (let e = lo; e < Math.min(hi, n / size); e++) {
      const g = e & ~3;
      const sel = (imm >> (2 * (e & 3))) & 3;
      for (let b = 0; b < size; b++) T[e * size + b] = U[s + (g + sel) * size + b]!;
    }
    U.set(T.subarray(0, n), d);
  };
}

function pshufb(v: StateViews, d: number, s: number, n: number): void {
  const U = v.u8, T = TMP.u8;
  for (let k = 0; k < n; k++) {
    const c = U[s + k]!;
    T[k] = c & 0x80 ? 0 : U[d + (c & (n - 1))]!;
  }
  U.set(T.subarray(0, n), d);
}

function palignr(v: StateViews, d: number, s: number, n: number, imm: number): void {
  const U = v.u8, T = TMP.u8;
  for (let k = 0; k < n; k++) {
    const i = k + imm; // into source:dest (source low)
    T[k] = i < n ? U[s + i]! : i < 2 * n ? U[d + i - n]! : 0;
  }
  U.set(T.subarray(0, n), d);
}

/** Horizontal add/subtract of adjacent pairs: dest pairs fill the low half, source pairs the high half. */
function horizontal(arr: 'i16' | 'i32', f: (a: number, b: number) => number): VecFn {
  const sh = SHIFT[arr];
  return (v, d, s, n) => {
    const A = v[arr], T = TMP[arr];
    const m = n >> sh, h = m >> 1;
    for (let k = 0; k < h; k++) {
      T[k] = f(A[(d >> sh) + 2 * k]!, A[(d >> sh) + 2 * k + 1]!);
      T[h + k] = f(A[(s >> sh) + 2 * k]!, A[(s >> sh) + 2 * k + 1]!);
    }
    v.u8.set(TMP.u8.subarray(0, n), d);
  };
}

function psign(arr: 'i8' | 'i16' | 'i32'): VecFn {
  return lanewise(arr, (a, b) => (b < 0 ? -a : b === 0 ? 0 : a));
}

function psadbw(v: StateViews, d: number, s: number, n: number): void {
  const U = v.u8;
  for (let q = 0; q < n; q += 8) {
    let sum = 0;
    for (let k = 0; k < 8; k++) sum += Math.abs(U[d + q + k]! - U[s + q + k]!);
    for (let k = 0; k < 8; k++) U[d + q + k] = 0;
    U[d + q] = sum & 0xff;
    U[d + q + 1] = sum >> 8;
  }
}

function pmaddwd(v: StateViews, d: number, s: number, n: number): void {
  const W = v.i16, D = v.i32;
  for (let k = 0; k < n >> 2; k++) {
    const dw = (d >> 1) + 2 * k, sw = (s >> 1) + 2 * k;
    D[(d >> 2) + k] = (W[dw]! * W[sw]! + W[dw + 1]! * W[sw + 1]!) | 0;
  }
}

function pmaddubsw(v: StateViews, d: number, s: number, n: number): void {
  const U = v.u8, I = v.i8, W = v.i16;
  for (let k = 0; k < n >> 1; k++) {
    W[(d >> 1) + k] = sat16s(U[d + 2 * k]! * I[s + 2 * k]! + U[d + 2 * k + 1]! * I[s + 2 * k + 1]!);
  }
}

/** pmuludq / pmuldq: the even dwords multiplied into quadwords. */
function mulEven(signed: boolean): VecFn {
  return (v, d, s, n) => {
    const U = v.u32, I = v.i32;
    for (let k = 0; k < n >> 3; k++) {
      const di = (d >> 2) + 2 * k, si = (s >> 2) + 2 * k;
      const lo = signed ? mulS32(I[di]!, I[si]!) : mulU32(U[di]!, U[si]!);
      U[di] = lo;
      U[di + 1] = mulHi;
    }
  };
}

/** pmovsx / pmovzx: the low source elements extended into the destination. */
function extend(from: 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32', toShift: number): VecFn {
  const fs = SHIFT[from];
  return (v, d, s, n) => {
    const A = v[from], T = TMP.i32;
    const m = n >> toShift;
    // values fit in f64; write as 64-bit via two i32 when the target is a quadword
    for (let k = 0; k < m; k++) {
      const x = A[(s >> fs) + k]!;
      if (toShift === 3) {
        T[2 * k] = x;
        T[2 * k + 1] = x < 0 ? -1 : 0;
      } else if (toShift === 2) T[k] = x;
      else TMP.u16[k] = x;
    }
    v.u8.set(TMP.u8.subarray(0, n), d);
  };
}

function mpsadbw(v: StateViews, d: number, s: number, _n: number, imm: number): void {
  const U = v.u8, W = TMP.u16;
  const doff = imm & 4 ? 4 : 0, soff = (imm & 3) * 4;
  for (let i = 0; i < 8; i++) {
    let sum = 0;
    for (let j = 0; j < 4; j++) sum += Math.abs(U[d + doff + i + j]! - U[s + soff + j]!);
    W[i] = sum;
  }
  U.set(TMP.u8.subarray(0, 16), d);
}

function phminposuw(v: StateViews, d: number, s: number): void {
  const W = v.u16;
  let min = 0x10000, idx = 0;
  for (let k = 0; k < 8; k++) {
    const x = W[(s >> 1) + k]!;
    if (x < min) (min = x), (idx = k);
  }
  for (let k = 0; k < 16; k++) v.u8[d + k] = 0;
  W[d >> 1] = min;
  W[(d >> 1) + 1] = idx;
}

/** Blends by a constant mask: element k from the source where imm bit k is set. */
function blendImm(size: number): VecFn {
  return (v, d, s, n, imm) => {
    const U = v.u8;
    for (let e = 0; e < n / size; e++) if ((imm >> e) & 1) for (let b = 0; b < size; b++) U[d + e * size + b] = U[s + e * size + b]!;
  };
}

/** Blends by XMM0's element sign bits (the front end passes XMM0's state offset as imm). */
function blendVar(size: number): VecFn {
  return (v, d, s, n, maskOff) => {
    const U = v.u8;
    const mask = v.base + maskOff;
    for (let e = 0; e < n / size; e++) {
      if (U[mask + e * size + size - 1]! & 0x80) for (let b = 0; b < size; b++) U[d + e * size + b] = U[s + e * size + b]!;
    }
  };
}

// ---------------------------------------------------------------------------------------------------------------

/** Operations with dest = f(dest, source[, imm]), by mnemonic. */
export const INT_OPS: Record<string, VecFn> = {
  paddb: lanewise('u8', (a, b) => a + b),
  paddw: lanewise('u16', (a, b) => a + b),
  paddd: lanewise('u32', (a, b) => a + b),
  paddq: q64((alo, ahi, blo, bhi) => {
    rlo = (alo + blo) >>> 0;
    rhi = (ahi + bhi + (rlo < alo ? 1 : 0)) >>> 0;
  }),
  psubb: lanewise('u8', (a, b) => a - b),
  psubw: lanewise('u16', (a, b) => a - b),
  psubd: lanewise('u32', (a, b) => a - b),
  psubq: q64((alo, ahi, blo, bhi) => {
    rlo = (alo - blo) >>> 0;
    rhi = (ahi - bhi - (alo < blo ? 1 : 0)) >>> 0;
  }),
  paddsb: lanewise('i8', (a, b) => sat8s(a + b)),
  paddsw: lanewise('i16', (a, b) => sat16s(a + b)),
  paddusb: lanewise('u8', (a, b) => sat8u(a + b)),
  paddusw: lanewise('u16', (a, b) => sat16u(a + b)),
  psubsb: lanewise('i8', (a, b) => sat8s(a - b)),
  psubsw: lanewise('i16', (a, b) => sat16s(a - b)),
  psubusb: lanewise('u8', (a, b) => sat8u(a - b)),
  psubusw: lanewise('u16', (a, b) => sat16u(a - b)),
  pmullw: lanewise('u16', (a, b) => Math.imul(a, b)),
  pmulhw: lanewise('i16', (a, b) => (a * b) >> 16),
  pmulhuw: lanewise('u16', (a, b) => (a * b) >>> 16),
  pmulhrsw: lanewise('i16', (a, b) => (((a * b) >> 14) + 1) >> 1),
  pmulld: lanewise('i32', (a, b) => Math.imul(a, b)),
  pmuludq: mulEven(false),
  pmuldq: mulEven(true),
  pmaddwd,
  pmaddubsw,
  pand: lanewise('u32', (a, b) => a & b),
  pandn: lanewise('u32', (a, b) => ~a & b),
  por: lanewise('u32', (a, b) => a | b),
  pxor: lanewise('u32', (a, b) => a ^ b),
  pcmpeqb: lanewise('u8', (a, b) => (a === b ? 0xff : 0)),
  pcmpeqw: lanewise('u16', (a, b) => (a === b ? 0xffff : 0)),
  pcmpeqd: lanewise('u32', (a, b) => (a === b ? -1 : 0)),
  pcmpeqq: q64((alo, ahi, blo, bhi) => {
    rlo = rhi = alo === blo && ahi === bhi ? 0xffffffff : 0;
  }),
  pcmpgtb: lanewise('i8', (a, b) => (a > b ? -1 : 0)),
  pcmpgtw: lanewise('i16', (a, b) => (a > b ? -1 : 0)),
  pcmpgtd: lanewise('i32', (a, b) => (a > b ? -1 : 0)),
  pcmpgtq: q64((alo, ahi, blo, bhi) => {
    rlo = rhi = gtS64(alo, ahi, blo, bhi) ? 0xffffffff : 0;
  }),
  packsswb: pack('i16', 'u8', sat8s),
  packssdw: pack('i32', 'u16', sat16s),
  packuswb: pack('i16', 'u8', sat8u),
  packusdw: pack('i32', 'u16', sat16u),
  punpcklbw: unpack(1, false),
  punpcklwd: unpack(2, false),
  punpckldq: unpack(4, false),
  punpcklqdq: unpack(8, false),
  punpckhbw: unpack(1, true),
  punpckhwd: unpack(2, true),
  punpckhdq: unpack(4, true),
  punpckhqdq: unpack(8, true),
  psllw: shift('u16', 'l'),
  pslld: shift('u32', 'l'),
  psllq: shiftQ(true),
  psrlw: shift('u16', 'rl'),
  psrld: shift('u32', 'rl'),
  psrlq: shiftQ(false),
  psraw: shift('i16', 'ra'),
  psrad: shift('i32', 'ra'),
  pslldq: byteShift(true),
  psrldq: byteShift(false),
  pavgb: lanewise('u8', (a, b) => (a + b + 1) >> 1),
  pavgw: lanewise('u16', (a, b) => (a + b + 1) >> 1),
  pminub: lanewise('u8', Math.min),
  pminuw: lanewise('u16', Math.min),
  pminud: lanewise('u32', Math.min),
  pminsb: lanewise('i8', Math.min),
  pminsw: lanewise('i16', Math.min),
  pminsd: lanewise('i32', Math.min),
  pmaxub: lanewise('u8', Math.max),
  pmaxuw: lanewise('u16', Math.max),
  pmaxud: lanewise('u32', Math.max),
  pmaxsb: lanewise('i8', Math.max),
  pmaxsw: lanewise('i16', Math.max),
  pmaxsd: lanewise('i32', Math.max),
  psadbw,
  pshufw: shuffle(2, 0, 4),
  pshufd: shuffle(4, 0, 4),
  pshuflw: shuffle(2, 0, 4),
  pshufhw: shuffle(2, 4, 8),
  pshufb,
  palignr,
  phaddw: horizontal('i16', (a, b) => a + b),
  phaddd: horizontal('i32', (a, b) => a + b),
  phaddsw: horizontal('i16', (a, b) => sat16s(a + b)),
  phsubw: horizontal('i16', (a, b) => a - b),
  phsubd: horizontal('i32', (a, b) => a - b),
  phsubsw: horizontal('i16', (a, b) => sat16s(a - b)),
  pabsb: unary('i8', Math.abs),
  pabsw: unary('i16', Math.abs),
  pabsd: unary('i32', Math.abs),
  psignb: psign('i8'),
  psignw: psign('i16'),
  psignd: psign('i32'),
  pmovsxbw: extend('i8', 1),
  pmovsxbd: extend('i8', 2),
  pmovsxbq: extend('i8', 3),
  pmovsxwd: extend('i16', 2),
  pmovsxwq: extend('i16', 3),
  pmovsxdq: extend('i32', 3),
  pmovzxbw: extend('u8', 1),
  pmovzxbd: extend('u8', 2),
  pmovzxbq: extend('u8', 3),
  pmovzxwd: extend('u16', 2),
  pmovzxwq: extend('u16', 3),
  pmovzxdq: extend('u32', 3),
  mpsadbw,
  phminposuw,
  pblendw: blendImm(2),
  blendps: blendImm(4),
  blendpd: blendImm(8),
  pblendvb: blendVar(1),
  blendvps: blendVar(4),
  blendvpd: blendVar(8),
};

/** shufps / shufpd: the low result elements from the destination, the high ones from the source, by imm8. */
function shufFp(size: 4 | 8): VecFn {
  return (v, d, s, _n, imm) => {
    const U = v.u32, T = TMP.u32;
    const w = size >> 2, half = 2 / w; // elements per half
    for (let e = 0; e < 4 / w; e++) {
      const from = e < half ? d : s;
      const bits = size === 4 ? 2 : 1;
      const sel = (imm >> (e * bits)) & ((1 << bits) - 1);
      for (let k = 0; k < w; k++) T[e * w + k] = U[(from >> 2) + sel * w + k]!;
    }
    U.set(T.subarray(0, 4), d >> 2);
  };
}

/** Data movement and bitwise operations of the FP domain (no FP exceptions). */
export const FP_MOVE_OPS: Record<string, VecFn> = {
  shufps: shufFp(4),
  shufpd: shufFp(8),
  unpcklps: INT_OPS.punpckldq!,
  unpckhps: INT_OPS.punpckhdq!,
  unpcklpd: INT_OPS.punpcklqdq!,
  unpckhpd: INT_OPS.punpckhqdq!,
  andps: INT_OPS.pand!, andpd: INT_OPS.pand!, andnps: INT_OPS.pandn!, andnpd: INT_OPS.pandn!,
  orps: INT_OPS.por!, orpd: INT_OPS.por!, xorps: INT_OPS.pxor!, xorpd: INT_OPS.pxor!,
};

/** Operations with an i32 result and no register write. */
export const INT_RES_OPS: Record<string, VecResFn> = {
  /** pmovmskb: the byte sign bits of the source (passed as s). */
  pmovmskb: (v, _d, s, n) => {
    let m = 0;
    for (let k = 0; k < n; k++) m |= (v.u8[s + k]! >> 7) << k;
    return m;
  },
  movmskps: (v, _d, s) => {
    let m = 0;
    for (let k = 0; k < 4; k++) m |= (v.u8[s + 4 * k + 3]! >> 7) << k;
    return m;
  },
  movmskpd: (v, _d, s) => (v.u8[s + 7]! >> 7) | ((v.u8[s + 15]! >> 7) << 1),
  /** ptest: ZF from dest AND source, CF from NOT dest AND source; the other status flags cleared. */
  ptest: (v, d, s) => {
    const U = v.u32;
    let and = 0, andn = 0;
    for (let k = 0; k < 4; k++) {
      and |= U[(d >> 2) + k]! & U[(s >> 2) + k]!;
      andn |= ~U[(d >> 2) + k]! & U[(s >> 2) + k]!;
    }
    return (and === 0 ? 0x40 : 0) | (andn === 0 ? 1 : 0);
  },
};
