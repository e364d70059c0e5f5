// x87/SSE state as kvm_fpu holds it (the FXSAVE image, reordered). CpuState has no FPU part yet; the KVM vCPU
// exposes this through getFpu()/setFpu() so callers and tests can reach it.
import { FPU } from './abi.ts';

export interface FpuState {
  fcw: number;
  fsw: number;
  /** Abridged tag word (FXSAVE form: one bit per register, 1 = valid). */
  ftwx: number;
  lastOpcode: number;
  lastIp: bigint;
  lastDp: bigint;
  mxcsr: number;
  /** ST0-ST7 (or MM0-MM7): 10 significant bytes each. */
  st: Uint8Array[];
  /** XMM0-XMM15. */
  xmm: Uint8Array[];
}

/** The state after reset / FNINIT + SSE defaults. */
export function initialFpu(): FpuState {
  return {
    fcw: 0x37f, fsw: 0, ftwx: 0, lastOpcode: 0, lastIp: 0n, lastDp: 0n, mxcsr: 0x1f80,
    st: Array.from({ length: 8 }, () => new Uint8Array(10)),
    xmm: Array.from({ length: 16 }, () => new Uint8Array(16)),
  };
}

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
