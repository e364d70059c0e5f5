// The 512-byte FXSAVE image of the x87/SSE state (the XSAVE legacy region), and back. The live state keeps the
// physical registers R0-R7 with TOP in FSW; the image holds them in stack order ST0-ST7. The abridged tag byte is
// in physical order in both, so it is copied as is.
//
// fxsaveImage/fxrstorImage are also the way state moves between backends (KVM's kvm_fpu and XSAVE area).
import type { IrHost } from '../ir/interp.ts';
import * as L from '../layout.ts';
import { FCS, FDS, MXCSR_MASK_VALUE, fninit, rd16, rd32, rd64, setFtw, top, wr16, wr32, wr64 } from './regs.ts';
import { fcwValue, withSummary } from './env.ts';

export interface ImageOptions {
  /** 64-bit layout (FIP/FDP as 64-bit offsets, as FXSAVE64 writes) instead of offset + selector. Default true. */
  rexW?: boolean;
  /** XMM registers in the image: 16 (64-bit mode) or 8. Default 16. */
  xmmRegs?: number;
  /**
   * Save FIP, FDP and FOP only when FSW.ES is set, as this AMD CPU's FXSAVE/XSAVE do (zeros otherwise).
   * Default false: always.
   */
  pointersOnlyOnError?: boolean;
  /** Which parts: x87 (bytes 0-23, 32-159), MXCSR (24-31), XMM (160-415). Default all. */
  x87?: boolean;
  mxcsr?: boolean;
  xmm?: boolean;
}

const PTR_MASK = (1n << 56n) - 1n;

/** Writes the image parts into img (512 bytes; other bytes are left as they are). */
export function saveImage(h: IrHost, img: Uint8Array, o: ImageOptions = {}): void {
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  if (o.x87 ?? true) {
    const fsw = rd16(h, L.FSW);
    dv.setUint16(0, rd16(h, L.FCW), true);
    dv.setUint16(2, fsw, true);
    dv.setUint8(4, h.u8[h.stateBase + L.FTW]!);
    dv.setUint8(5, 0);
    const ptrs = !o.pointersOnlyOnError || (fsw & 0x80) !== 0;
    dv.setUint16(6, ptrs ? rd16(h, L.FOP) & 0x7ff : 0, true);
    if (o.rexW ?? true) {
      dv.setBigUint64(8, ptrs ? rd64(h, L.FIP) : 0n, true);
      dv.setBigUint64(16, ptrs ? rd64(h, L.FDP) : 0n, true);
    } else {
      dv.setUint32(8, ptrs ? Number(rd64(h, L.FIP) & 0xffffffffn) : 0, true);
      dv.setUint32(12, ptrs ? rd16(h, FCS) : 0, true);
      dv.setUint32(16, ptrs ? Number(rd64(h, L.FDP) & 0xffffffffn) : 0, true);
      dv.setUint32(20, ptrs ? rd16(h, FDS) : 0, true);
    }
    const t = top(h);
    for (let i = 0; i < 8; i++) {
      const src = h.stateBase + L.fpRegOff((t + i) & 7);
      img.set(h.u8.subarray(src, src + 10), 32 + 16 * i);
      img.fill(0, 32 + 16 * i + 10, 48 + 16 * i);
    }
  }
  if (o.mxcsr ?? true) {
    dv.setUint32(24, rd32(h, L.MXCSR) >>> 0, true);
    dv.setUint32(28, MXCSR_MASK_VALUE, true);
  }
  if (o.xmm ?? true) {
    const n = o.xmmRegs ?? 16;
    const src = h.stateBase + L.xmmOff(0);
    img.set(h.u8.subarray(src, src + 16 * n), 160);
  }
}

/** The standard 512-byte FXSAVE image (64-bit layout, pointers always saved, reserved bytes zero). */
export function fxsaveImage(h: IrHost): Uint8Array {
  const img = new Uint8Array(512);
  saveImage(h, img);
  return img;
}

/**
 * Loads the parts of an image (the inverse of saveImage). MXCSR is taken as is: the caller checks reserved bits
 * (FXRSTOR/XRSTOR raise #GP for them before anything changes).
 */
export function restoreImage(h: IrHost, img: Uint8Array, o: ImageOptions = {}): void {
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  if (o.x87 ?? true) {
    const fcw = fcwValue(dv.getUint16(0, true));
    const fsw = withSummary(dv.getUint16(2, true), fcw);
    wr16(h, L.FCW, fcw);
    wr16(h, L.FSW, fsw);
    setFtw(h, dv.getUint8(4));
    wr16(h, L.FOP, dv.getUint16(6, true) & 0x7ff);
    if (o.rexW ?? true) {
      // this CPU keeps 56 bits of the 64-bit pointers
      wr64(h, L.FIP, dv.getBigUint64(8, true) & PTR_MASK);
      wr64(h, L.FDP, dv.getBigUint64(16, true) & PTR_MASK);
      wr16(h, FCS, 0);
      wr16(h, FDS, 0);
    } else {
      wr64(h, L.FIP, BigInt(dv.getUint32(8, true)));
      wr16(h, FCS, dv.getUint16(12, true));
      wr64(h, L.FDP, BigInt(dv.getUint32(16, true)));
      wr16(h, FDS, dv.getUint16(20, true));
    }
    const t = (fsw >> 11) & 7;
    for (let i = 0; i < 8; i++) {
      const dst = h.stateBase + L.fpRegOff((t + i) & 7);
      h.u8.set(img.subarray(32 + 16 * i, 42 + 16 * i), dst);
      h.u8.fill(0, dst + 10, dst + 16);
    }
  }
  if (o.mxcsr ?? true) wr32(h, L.MXCSR, dv.getUint32(24, true));
  if (o.xmm ?? true) {
    const n = o.xmmRegs ?? 16;
    h.u8.set(img.subarray(160, 160 + 16 * n), h.stateBase + L.xmmOff(0));
  }
}

/** Loads a standard 512-byte FXSAVE image (64-bit layout), e.g. from KVM. */
export function fxrstorImage(h: IrHost, img: Uint8Array): void {
  restoreImage(h, img);
}

/** The x87 part's initial configuration (XRSTOR of a component whose XSTATE_BV bit is clear). */
export function initX87(h: IrHost): void {
  fninit(h);
  for (let p = 0; p < 8; p++) h.u8.fill(0, h.stateBase + L.fpRegOff(p), h.stateBase + L.fpRegOff(p) + 16);
}

/** The XMM registers' initial configuration (zero). */
export function initXmm(h: IrHost, n = 16): void {
  h.u8.fill(0, h.stateBase + L.xmmOff(0), h.stateBase + L.xmmOff(0) + 16 * n);
}
