// SSE4.2 packed string comparisons (pcmpestri/pcmpestrm/pcmpistri/pcmpistrm), after the SDM's description of
// PCMPxSTRx: element format imm8[1:0], aggregation imm8[3:2] (equal any, ranges, equal each, equal ordered),
// polarity imm8[5:4], output selection imm8[6]; explicit lengths from rAX/rDX or implicit (the first null element).
import { defineHelper } from '../ir/helpers.ts';
import type { IrHost } from '../ir/interp.ts';
import * as L from '../layout.ts';
import { views } from './state.ts';

/** Flags of the helper's argument word above the imm8. */
export const STR_EXPLICIT = 0x100, STR_REXW = 0x200, STR_MASK = 0x400;

const a = new Int32Array(16), b = new Int32Array(16);
const CF = 0x1, ZF = 0x40, SF = 0x80, OF = 0x800;

/** |v| saturated to n, for an explicit length register (32-bit, or 64-bit with REX.W). */
function explicitLen(lo: number, hi: number, rexw: boolean, n: number): number {
  let neg: boolean;
  let big: boolean;
  let mag: number;
  if (rexw) {
    neg = hi < 0;
    if (neg) {
      // two's complement magnitude of (hi:lo)
      const nlo = -lo | 0;
      const nhi = (~hi + (lo === 0 ? 1 : 0)) | 0;
      big = nhi !== 0 || nlo >>> 0 >= n;
      mag = nlo >>> 0;
    } else {
      big = hi !== 0 || lo >>> 0 >= n;
      mag = lo >>> 0;
    }
  } else {
    mag = Math.abs(lo);
    big = mag >= n;
  }
  return big ? n : mag;
}

/**
 * Computes IntRes2 of the comparison of the operands at state offsets s1, s2. Returns
 * flags | IntRes2 << 16 (the index/mask is derived by the caller).
 */
function compare(h: IrHost, s1: number, s2: number, ctl: number): number {
  const v = views(h);
  const words = (ctl & 1) !== 0, signed = (ctl & 2) !== 0;
  const n = words ? 8 : 16;
  for (let i = 0; i < n; i++) {
    if (words) {
      a[i] = signed ? v.i16[((v.base + s1) >> 1) + i]! : v.u16[((v.base + s1) >> 1) + i]!;
      b[i] = signed ? v.i16[((v.base + s2) >> 1) + i]! : v.u16[((v.base + s2) >> 1) + i]!;
    } else {
      a[i] = signed ? v.i8[v.base + s1 + i]! : v.u8[v.base + s1 + i]!;
      b[i] = signed ? v.i8[v.base + s2 + i]! : v.u8[v.base + s2 + i]!;
    }
  }
  let la = n, lb = n;
  if (ctl & STR_EXPLICIT) {
    const g = (v.base + L.gprOff(0)) >> 2, gd = (v.base + L.gprOff(2)) >> 2;
    la = explicitLen(v.i32[g]!, v.i32[g + 1]!, (ctl & STR_REXW) !== 0, n);
    lb = explicitLen(v.i32[gd]!, v.i32[gd + 1]!, (ctl & STR_REXW) !== 0, n);
  } else {
    for (let i = 0; i < n; i++) if (a[i] === 0) { la = i; break; }
    for (let i = 0; i < n; i++) if (b[i] === 0) { lb = i; break; }
  }
  let res = 0;
  switch ((ctl >> 2) & 3) {
    case 0: // equal any: b[i] is one of a[0..la)
      for (let i = 0; i < lb; i++) {
        for (let j = 0; j < la; j++) if (a[j] === b[i]) { res |= 1 << i; break; }
      }
      break;
    case 1: // ranges: a holds (low, high) pairs
      for (let i = 0; i < lb; i++) {
        for (let j = 0; j + 1 < la; j += 2) if (a[j]! <= b[i]! && b[i]! <= a[j + 1]!) { res |= 1 << i; break; }
      }
      break;
    case 2: // equal each: invalid on both sides compares true
      for (let i = 0; i < n; i++) {
        const va = i < la, vb = i < lb;
        if (va && vb ? a[i] === b[i] : !va && !vb) res |= 1 << i;
      }
      break;
    default: // equal ordered: a (the needle) occurs at b[j]; past the end of a matches anything
      for (let j = 0; j < n; j++) {
        let m = true;
        for (let k = 0; k < n - j && m; k++) {
          if (k >= la) break;
          m = j + k < lb && a[k] === b[j + k];
        }
        if (m) res |= 1 << j;
      }
  }
  const full = (1 << n) - 1;
  switch ((ctl >> 4) & 3) {
    case 1: res ^= full; break;
    case 3: res ^= (1 << lb) - 1; break;
  }
  const flags = (res !== 0 ? CF : 0) | (lb < n ? ZF : 0) | (la < n ? SF : 0) | (res & 1 ? OF : 0);
  return flags | (res << 16);
}

/** pcmpXstri: returns flags | index << 16 (the index of the least or most significant set bit, or n). */
export const H_PCMPSTRI = defineHelper('pcmpstri', [32, 32, 32], 32, false, (h, s1, s2, ctl) => {
  const c = ctl as number;
  const r = compare(h, s1 as number, s2 as number, c);
  const res = r >>> 16, n = c & 1 ? 8 : 16;
  const idx = res === 0 ? n : c & 0x40 ? 31 - Math.clz32(res) : 31 - Math.clz32(res & -res);
  return (r & 0xffff) | (idx << 16);
});

/** pcmpXstrm: writes the mask to XMM0 (bits, or expanded to elements with imm8[6]); returns the flags. */
export const H_PCMPSTRM = defineHelper('pcmpstrm', [32, 32, 32], 32, false, (h, s1, s2, ctl) => {
  const c = ctl as number;
  const r = compare(h, s1 as number, s2 as number, c);
  const res = r >>> 16;
  const v = views(h);
  const x = v.base + L.xmmOff(0);
  if (c & 0x40) {
    const size = c & 1 ? 2 : 1;
    for (let i = 0; i < 16 / size; i++) {
      const m = (res >> i) & 1 ? 0xff : 0;
      for (let k = 0; k < size; k++) v.u8[x + i * size + k] = m;
    }
  } else {
    for (let i = 0; i < 16; i++) v.u8[x + i] = 0;
    v.u8[x] = res & 0xff;
    v.u8[x + 1] = res >> 8;
  }
  return r & 0xffff;
});
