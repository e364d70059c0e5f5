// x87/SSE state (CpuState.fpu) to and from kvm_fpu (the FXSAVE image's fields, reordered) and the legacy region of
// kvm_xsave (the FXSAVE image itself). kemu uses KVM_GET/SET_XSAVE where the host has it: some hosts (kvm_pvm here)
// neither set nor report MXCSR through KVM_GET/SET_FPU.
import { FPU } from './abi.ts';
import type { FpuState } from '../../cpu/state.ts';
import { FXSAVE_SIZE, fpuStateFromImage, fpuStateToImage } from '../../cpu/fpu-state.ts';

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

/** kvm_xsave: 4096 bytes, the FXSAVE image first, then the XSAVE header (XSTATE_BV at 512). */
export const XSAVE_SIZE = 4096;
const XSTATE_BV = 512;

/** Writes `f` into the legacy region of a kvm_xsave block (read from KVM first, so other components stay). */
export function writeXsaveLegacy(dv: DataView, off: number, f: FpuState): void {
  fpuStateToImage(f, new Uint8Array(dv.buffer, dv.byteOffset + off, FXSAVE_SIZE));
  dv.setBigUint64(off + XSTATE_BV, dv.getBigUint64(off + XSTATE_BV, true) | 3n, true); // x87 | SSE
}

export function readXsaveLegacy(dv: DataView, off: number): FpuState {
  return fpuStateFromImage(new Uint8Array(dv.buffer, dv.byteOffset + off, FXSAVE_SIZE));
}
