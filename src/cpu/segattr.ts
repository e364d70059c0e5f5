// Segment access rights packed as VMX does (layout.ts SEG_ATTR), and their conversion to the neutral state format.
import type { SegmentState } from './state.ts';

export const ATTR_S = 1 << 4;
export const ATTR_P = 1 << 7;
export const ATTR_AVL = 1 << 12;
export const ATTR_L = 1 << 13;
export const ATTR_DB = 1 << 14;
export const ATTR_G = 1 << 15;
export const ATTR_UNUSABLE = 1 << 16;

export const attrDpl = (attr: number): number => (attr >> 5) & 3;

export function packAttr(s: SegmentState): number {
  return (
    (s.type & 0xf) | (s.s ? ATTR_S : 0) | ((s.dpl & 3) << 5) | (s.present ? ATTR_P : 0) | (s.avl ? ATTR_AVL : 0) |
    (s.l ? ATTR_L : 0) | (s.db ? ATTR_DB : 0) | (s.g ? ATTR_G : 0) | (s.unusable ? ATTR_UNUSABLE : 0)
  );
}

export function unpackAttr(selector: number, base: bigint, limit: number, attr: number): SegmentState {
  return {
    selector, base, limit, type: attr & 0xf, s: (attr & ATTR_S) !== 0, dpl: attrDpl(attr), present: (attr & ATTR_P) !== 0,
    avl: (attr & ATTR_AVL) !== 0, l: (attr & ATTR_L) !== 0, db: (attr & ATTR_DB) !== 0, g: (attr & ATTR_G) !== 0,
    unusable: (attr & ATTR_UNUSABLE) !== 0,
  };
}

/** Attributes of a descriptor's high dword (bits 8-23: type, S, DPL, P, limit 19:16, AVL, L, D/B, G). */
export function attrFromDescriptor(hi: number): number {
  return ((hi >>> 8) & 0xff) | (((hi >>> 20) & 0xf) << 12);
}
