// The backend-neutral FpuState (CpuState.fpu) as a 512-byte FXSAVE image and back: the one place that knows the
// image's field offsets for it. The software CPU converts its live registers through fxsaveImage/fxrstorImage
// (fpu/image.ts); KVM's XSAVE area starts with this image.
import type { FpuState } from './state.ts';

export const FXSAVE_SIZE = 512;
const FX = { FCW: 0, FSW: 2, FTW: 4, FOP: 6, FIP: 8, FDP: 16, MXCSR: 24, ST: 32, XMM: 160 } as const;

/** Writes `f`'s fields into the image `img` (other bytes, e.g. MXCSR_MASK and the reserved area, stay as they are). */
export function fpuStateToImage(f: FpuState, img: Uint8Array = new Uint8Array(FXSAVE_SIZE)): Uint8Array {
  const dv = new DataView(img.buffer, img.byteOffset, FXSAVE_SIZE);
  dv.setUint16(FX.FCW, f.fcw, true);
  dv.setUint16(FX.FSW, f.fsw, true);
  dv.setUint8(FX.FTW, f.ftwx);
  dv.setUint16(FX.FOP, f.lastOpcode, true);
  dv.setBigUint64(FX.FIP, BigInt.asUintN(64, f.lastIp), true);
  dv.setBigUint64(FX.FDP, BigInt.asUintN(64, f.lastDp), true);
  dv.setUint32(FX.MXCSR, f.mxcsr >>> 0, true);
  f.st.forEach((r, i) => {
    img.fill(0, FX.ST + 16 * i, FX.ST + 16 * i + 16);
    img.set(r.subarray(0, 10), FX.ST + 16 * i);
  });
  f.xmm.forEach((r, i) => img.set(r.subarray(0, 16), FX.XMM + 16 * i));
  return img;
}

export function fpuStateFromImage(img: Uint8Array): FpuState {
  const dv = new DataView(img.buffer, img.byteOffset, FXSAVE_SIZE);
  return {
    fcw: dv.getUint16(FX.FCW, true),
    fsw: dv.getUint16(FX.FSW, true),
    ftwx: dv.getUint8(FX.FTW),
    lastOpcode: dv.getUint16(FX.FOP, true),
    lastIp: dv.getBigUint64(FX.FIP, true),
    lastDp: dv.getBigUint64(FX.FDP, true),
    mxcsr: dv.getUint32(FX.MXCSR, true),
    st: Array.from({ length: 8 }, (_, i) => img.slice(FX.ST + 16 * i, FX.ST + 16 * i + 10)),
    xmm: Array.from({ length: 16 }, (_, i) => img.slice(FX.XMM + 16 * i, FX.XMM + 16 * i + 16)),
  };
}
