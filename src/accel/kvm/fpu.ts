// x87/SSE state (CpuState.fpu) to and from kvm_fpu (the FXSAVE image's fields, reordered) and the legacy region of
// kvm_xsave (the FXSAVE image itself). kemu uses KVM_GET/SET_XSAVE where the host has it: some hosts (kvm_pvm here)
// neither set nor report MXCSR through KVM_GET/SET_FPU.
import { FPU } from './abi.ts';
import type { FpuState } from '../../cpu/state.ts';

export function writeFpu(dv: DataView, off: number, f: FpuState): void {
  for (let i = 0; i < FPU.SIZE; i++) dv.setUint8(off + i, 0);
  const bytes = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
  f.st.forEach((r, i) => bytes.set(r.subarray(0, 10), off + FPU.FPR + 16 * i));
  f.xmm.forEach((r, i) => bytes.set(r.subarray(0, 16), off + FPU.XMM + 16 * i));
  dv.setUint16(off + FPU.FCW, f.fcw, true);
  dv.setUint16(off + FPU.FSW, f.fsw, true);
  dv.setUint8(off + FPU.FTWX, f.ftwx);
  dv.setUint16(off + FPU.LAST_OPCODE, f.lastOpcode, true);
  dv.setBigUint64(off + FPU.LAST_IP, BigInt.asUintN(64, f.lastIp), true);
  dv.setBigUint64(off + FPU.LAST_DP, BigInt.asUintN(64, f.lastDp), true);
  dv.setUint32(off + FPU.MXCSR, f.mxcsr >>> 0, true);
}

export function readFpu(dv: DataView, off: number): FpuState {
  const bytes = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
  return {
    fcw: dv.getUint16(off + FPU.FCW, true),
    fsw: dv.getUint16(off + FPU.FSW, true),
    ftwx: dv.getUint8(off + FPU.FTWX),
    lastOpcode: dv.getUint16(off + FPU.LAST_OPCODE, true),
    lastIp: dv.getBigUint64(off + FPU.LAST_IP, true),
    lastDp: dv.getBigUint64(off + FPU.LAST_DP, true),
    mxcsr: dv.getUint32(off + FPU.MXCSR, true),
    st: Array.from({ length: 8 }, (_, i) => bytes.slice(off + FPU.FPR + 16 * i, off + FPU.FPR + 16 * i + 10)),
    xmm: Array.from({ length: 16 }, (_, i) => bytes.slice(off + FPU.XMM + 16 * i, off + FPU.XMM + 16 * i + 16)),
  };
}

/** FXSAVE image offsets (64-bit format). */
const FX = { FCW: 0, FSW: 2, FTW: 4, FOP: 6, FIP: 8, FDP: 16, MXCSR: 24, ST: 32, XMM: 160 } as const;
/** kvm_xsave: the XSAVE header's XSTATE_BV after the 512-byte legacy region; x87 | SSE. */
export const XSAVE_SIZE = 4096;
const XSTATE_BV = 512;

/** Writes `f` into the legacy region of a kvm_xsave block (read from KVM first, so other components stay). */
export function writeXsaveLegacy(dv: DataView, off: number, f: FpuState): void {
  const bytes = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
  dv.setUint16(off + FX.FCW, f.fcw, true);
  dv.setUint16(off + FX.FSW, f.fsw, true);
  dv.setUint8(off + FX.FTW, f.ftwx);
  dv.setUint16(off + FX.FOP, f.lastOpcode, true);
  dv.setBigUint64(off + FX.FIP, BigInt.asUintN(64, f.lastIp), true);
  dv.setBigUint64(off + FX.FDP, BigInt.asUintN(64, f.lastDp), true);
  dv.setUint32(off + FX.MXCSR, f.mxcsr >>> 0, true);
  f.st.forEach((r, i) => {
    bytes.fill(0, off + FX.ST + 16 * i, off + FX.ST + 16 * i + 16);
    bytes.set(r.subarray(0, 10), off + FX.ST + 16 * i);
  });
  f.xmm.forEach((r, i) => bytes.set(r.subarray(0, 16), off + FX.XMM + 16 * i));
  dv.setBigUint64(off + XSTATE_BV, dv.getBigUint64(off + XSTATE_BV, true) | 3n, true);
}

export function readXsaveLegacy(dv: DataView, off: number): FpuState {
  const bytes = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
  return {
    fcw: dv.getUint16(off + FX.FCW, true),
    fsw: dv.getUint16(off + FX.FSW, true),
    ftwx: dv.getUint8(off + FX.FTW),
    lastOpcode: dv.getUint16(off + FX.FOP, true),
    lastIp: dv.getBigUint64(off + FX.FIP, true),
    lastDp: dv.getBigUint64(off + FX.FDP, true),
    mxcsr: dv.getUint32(off + FX.MXCSR, true),
    st: Array.from({ length: 8 }, (_, i) => bytes.slice(off + FX.ST + 16 * i, off + FX.ST + 16 * i + 10)),
    xmm: Array.from({ length: 16 }, (_, i) => bytes.slice(off + FX.XMM + 16 * i, off + FX.XMM + 16 * i + 16)),
  };
}
