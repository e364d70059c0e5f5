// Guest memory for the helpers that move whole state images (FNSTENV/FNSAVE, FXSAVE, XSAVE and their loads): the
// image is built in a buffer, the destination is checked for writing first (its first and last bytes: an image of at
// most 4 KiB spans at most two pages and one segment limit), then written, so a fault leaves memory and state alone.
// Which byte a #PF reports (CR2) follows the order of the checks, which differs by instruction on this CPU (AMD Zen,
// measured natively: test/cpu-xsave-fault.test.ts): FNSAVE/FNSTENV and their loads check their first field (2 or 4
// bytes), then the last byte; XSAVE/XSAVEOPT/XSAVEC the first byte, then the last; FXSAVE/FXRSTOR the last, then
// the first; XRSTOR the first, then the header.
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

/**
 * The accesses a state-image instruction checks its image with, in order: [offset, size] pairs. A check that crosses
 * into a faulting page reports the page's first byte in CR2, as an access of that size would.
 */
export type Probes = readonly (readonly [number, number])[];

/** The first byte, then the last. */
export const firstLast = (len: number, firstSize = 1): Probes => [[0, firstSize], [len - 1, 1]];

/** Checks that the image can be written (faults as the write would), by the accesses `probes`. */
export function probeWrite(h: IrHost, a: Area, probes: Probes): void {
  for (const [k, size] of probes) {
    const v = wrap(a, k);
    h.read(size, a.seg, lo(v), hi(v), true);
  }
}

/** Checks that the image can be read, by the accesses `probes`. */
export function probeRead(h: IrHost, a: Area, probes: Probes): void {
  for (const [k, size] of probes) {
    const v = wrap(a, k);
    h.read(size, a.seg, lo(v), hi(v));
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

