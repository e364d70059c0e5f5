// Guest memory for the helpers that move whole state images (FNSTENV/FNSAVE, FXSAVE, XSAVE and their loads): the
// image is built in a buffer, the destination is checked for writing first (its first and last bytes: an image of at
// most 4 KiB spans at most two pages and one segment limit), then written, so a fault leaves memory and state alone.
import type { IrHost } from '../ir/interp.ts';

export interface Area {
  seg: number;
  ea: bigint;
  /** address size in bytes (offsets wrap at it) */
  asz: number;
}

const wrap = (a: Area, k: number): bigint =>
  a.asz === 8 ? BigInt.asUintN(64, a.ea + BigInt(k)) : (a.ea + BigInt(k)) & (a.asz === 4 ? 0xffffffffn : 0xffffn);
const lo = (v: bigint): number => Number(v & 0xffffffffn) | 0;
const hi = (v: bigint): number => Number(v >> 32n) | 0;

/** Checks that `len` bytes at the area can be written (faults as the write would). */
export function probeWrite(h: IrHost, a: Area, len: number): void {
  for (const k of [0, len - 1]) {
    const v = wrap(a, k);
    h.read(1, a.seg, lo(v), hi(v), true);
  }
}

/** Checks that `len` bytes can be read. */
export function probeRead(h: IrHost, a: Area, len: number): void {
  for (const k of [0, len - 1]) {
    const v = wrap(a, k);
    h.read(1, a.seg, lo(v), hi(v));
  }
}

/** Writes bytes [from, to) of `img` at the area's offsets from..to (16-bit units; both even). */
export function writeBytes(h: IrHost, a: Area, img: Uint8Array, from = 0, to = img.length): void {
  for (let k = from; k < to; k += 2) {
    const v = wrap(a, k);
    h.write(2, a.seg, lo(v), hi(v), img[k]! | (img[k + 1]! << 8));
  }
}

/** Reads `len` bytes (even) from the area at offset `from` into img[from...]. */
export function readBytes(h: IrHost, a: Area, img: Uint8Array, from: number, len: number): void {
  for (let k = from; k < from + len; k += 2) {
    const v = wrap(a, k);
    const w = h.read(2, a.seg, lo(v), hi(v));
    img[k] = w & 0xff;
    img[k + 1] = (w >> 8) & 0xff;
  }
}

