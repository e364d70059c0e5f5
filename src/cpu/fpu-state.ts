// The software CPU's x87/SSE registers (the live layout of layout.ts: physical registers, TOP in FSW) as the
// backend-neutral FpuState (FXSAVE terms: registers in stack order), for getState/setState.
import type { FpuState } from './state.ts';
import * as L from './layout.ts';

interface StateBlock {
  u8: Uint8Array;
  readonly stateBase: number;
}

const top = (fsw: number) => (fsw >> 11) & 7;

export function readFpuState(c: StateBlock): FpuState {
  const b = c.stateBase;
  const u8 = c.u8;
  const dv = new DataView(u8.buffer, b, L.STATE_SIZE);
  const fsw = dv.getUint16(L.FSW, true);
  const t = top(fsw);
  return {
    fcw: dv.getUint16(L.FCW, true),
    fsw,
    ftwx: dv.getUint8(L.FTW),
    lastOpcode: dv.getUint16(L.FOP, true),
    lastIp: dv.getBigUint64(L.FIP, true),
    lastDp: dv.getBigUint64(L.FDP, true),
    mxcsr: dv.getUint32(L.MXCSR, true),
    st: Array.from({ length: 8 }, (_, i) => u8.slice(b + L.fpRegOff((t + i) & 7), b + L.fpRegOff((t + i) & 7) + 10)),
    xmm: Array.from({ length: 16 }, (_, i) => u8.slice(b + L.xmmOff(i), b + L.xmmOff(i) + 16)),
  };
}

export function writeFpuState(c: StateBlock, f: FpuState): void {
  const b = c.stateBase;
  const u8 = c.u8;
  const dv = new DataView(u8.buffer, b, L.STATE_SIZE);
  dv.setUint16(L.FCW, f.fcw, true);
  dv.setUint16(L.FSW, f.fsw, true);
  dv.setUint8(L.FTW, f.ftwx);
  dv.setUint16(L.FOP, f.lastOpcode, true);
  dv.setBigUint64(L.FIP, BigInt.asUintN(64, f.lastIp), true);
  dv.setBigUint64(L.FDP, BigInt.asUintN(64, f.lastDp), true);
  dv.setUint32(L.MXCSR, f.mxcsr >>> 0, true);
  const t = top(f.fsw);
  f.st.forEach((r, i) => {
    const o = b + L.fpRegOff((t + i) & 7);
    u8.fill(0, o, o + 16);
    u8.set(r.subarray(0, 10), o);
  });
  f.xmm.forEach((r, i) => u8.set(r.subarray(0, 16), b + L.xmmOff(i)));
}
