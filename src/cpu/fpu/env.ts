// FNSTENV/FLDENV and FNSAVE/FRSTOR: the x87 environment (control, status and full tag words, the last instruction
// and operand pointers) in its four memory layouts — 16- or 32-bit by operand size, real-mode (linear addresses
// split around the opcode) or protected-mode (offset + selector) by CPU mode — followed by ST0-ST7 for the save
// forms. The reserved upper halves of the 32-bit layout read back as FFFFh, as this AMD CPU writes them.
import { defineHelper } from '../ir/helpers.ts';
import type { IrHost } from '../ir/interp.ts';
import * as L from '../layout.ts';
import {
  B, ES, EXC, FCS, FDS, abridge, fninit, fullTagWord, phys, rd16, rd64, readPhys, setFtw, wr16, wr64, writePhys,
} from './regs.ts';
import { firstLast, probeRead, probeWrite, readBytes, writeBytes, type Area } from './mem.ts';

/** FCW bits that hold state: bit 6 reads as 1, bits 7 and 13-15 as 0. */
export const fcwValue = (v: number): number => (v & 0x1f3f) | 0x40;

/** FSW with ES and B recomputed from the exception flags the control word leaves unmasked. */
export function withSummary(fsw: number, fcw: number): number {
  return fsw & ~fcw & EXC ? fsw | ES | B : fsw & ~(ES | B);
}

/** Operation codes of H_ENV (bits 0-1), the 16-bit layout (bit 2), the real-mode layout (bit 3), the segment
 * (bits 4-6), the address size (bits 8-11). */
export const enum Env {
  STENV = 0, LDENV = 1, SAVE = 2, RSTOR = 3, SIZE16 = 4, REAL = 8,
}

const envSize = (size16: boolean): number => (size16 ? 14 : 28);

function buildEnv(h: IrHost, img: Uint8Array, size16: boolean, real: boolean): void {
  const dv = new DataView(img.buffer, img.byteOffset);
  const fcw = rd16(h, L.FCW), fsw = rd16(h, L.FSW), ftw = fullTagWord(h), fop = rd16(h, L.FOP) & 0x7ff;
  const fcs = rd16(h, FCS), fds = rd16(h, FDS);
  let fip = Number(rd64(h, L.FIP) & 0xffffffffn), fdp = Number(rd64(h, L.FDP) & 0xffffffffn);
  if (real) {
    fip = (fip + (fcs << 4)) >>> 0;
    fdp = (fdp + (fds << 4)) >>> 0;
  }
  if (size16) {
    dv.setUint16(0, fcw, true);
    dv.setUint16(2, fsw, true);
    dv.setUint16(4, ftw, true);
    dv.setUint16(6, fip & 0xffff, true);
    dv.setUint16(10, fdp & 0xffff, true);
    if (real) {
      dv.setUint16(8, (fop | ((fip >>> 16) << 12)) & 0xffff, true);
      dv.setUint16(12, ((fdp >>> 16) << 12) & 0xffff, true);
    } else {
      dv.setUint16(8, fcs, true);
      dv.setUint16(12, fds, true);
    }
    return;
  }
  const hiOnes = (o: number, v: number) => dv.setUint32(o, (v & 0xffff) | 0xffff0000, true);
  hiOnes(0, fcw);
  hiOnes(4, fsw);
  hiOnes(8, ftw);
  if (real) {
    hiOnes(12, fip);
    dv.setUint32(16, (fop | ((fip >>> 16) << 12)) >>> 0, true);
    hiOnes(20, fdp);
    dv.setUint32(24, ((fdp >>> 16) << 12) >>> 0, true);
  } else {
    dv.setUint32(12, fip, true);
    dv.setUint32(16, (fcs | (fop << 16)) >>> 0, true);
    dv.setUint32(20, fdp, true);
    hiOnes(24, fds);
  }
}

function loadEnv(h: IrHost, img: Uint8Array, size16: boolean, real: boolean): void {
  const dv = new DataView(img.buffer, img.byteOffset);
  const w = (o: number) => dv.getUint16(o, true);
  const fcw = fcwValue(w(0));
  const fsw = withSummary(w(size16 ? 2 : 4), fcw);
  const ftw = w(size16 ? 4 : 8);
  let fip: number, fdp: number, fop: number, fcs = 0, fds = 0;
  if (size16) {
    fip = w(6);
    fdp = w(10);
    if (real) {
      fop = w(8) & 0x7ff;
      fip |= (w(8) >> 12) << 16;
      fdp |= (w(12) >> 12) << 16;
    } else {
      fop = 0;
      fcs = w(8);
      fds = w(12);
    }
  } else if (real) {
    const d16 = dv.getUint32(16, true), d24 = dv.getUint32(24, true);
    fop = d16 & 0x7ff;
    fip = (w(12) | (((d16 >>> 12) & 0xffff) << 16)) >>> 0;
    fdp = (w(20) | (((d24 >>> 12) & 0xffff) << 16)) >>> 0;
  } else {
    fip = dv.getUint32(12, true);
    fcs = w(16);
    fop = w(18) & 0x7ff;
    fdp = dv.getUint32(20, true);
    fds = w(24);
  }
  wr16(h, L.FCW, fcw);
  wr16(h, L.FSW, fsw);
  setFtw(h, abridge(ftw));
  wr16(h, L.FOP, fop);
  wr64(h, L.FIP, BigInt(fip >>> 0));
  wr64(h, L.FDP, BigInt(fdp >>> 0));
  wr16(h, FCS, fcs);
  wr16(h, FDS, fds);
}

const buf = new Uint8Array(108);

export const H_ENV = defineHelper('x87_env', [32, 64], 0, true, (h, c, ea) => {
  const code = c as number;
  const op = code & 3, size16 = (code & Env.SIZE16) !== 0, real = (code & Env.REAL) !== 0;
  const a: Area = { seg: (code >> 4) & 7, ea: ea as bigint, asz: (code >> 8) & 15 };
  const n = envSize(size16);
  const len = op >= Env.SAVE ? n + 80 : n;
  // the image is checked by its first field (FCW: 2 or 4 bytes), then its last byte
  const probes = firstLast(len, size16 ? 2 : 4);
  buf.fill(0);
  if (op === Env.STENV || op === Env.SAVE) {
    buildEnv(h, buf, size16, real);
    if (op === Env.SAVE) {
      for (let i = 0; i < 8; i++) {
        const v = readPhys(h, phys(h, i));
        const dv = new DataView(buf.buffer, n + 10 * i);
        dv.setBigUint64(0, v.m, true);
        dv.setUint16(8, v.se, true);
      }
    }
    probeWrite(h, a, probes);
    writeBytes(h, a, buf, 0, len);
    // FNSTENV then masks every exception; FNSAVE re-initialises
    if (op === Env.STENV) {
      wr16(h, L.FCW, rd16(h, L.FCW) | EXC);
      wr16(h, L.FSW, rd16(h, L.FSW) & ~(ES | B)); // nothing unmasked is pending any more
    }
    else fninit(h);
    return;
  }
  probeRead(h, a, probes);
  readBytes(h, a, buf, 0, len);
  loadEnv(h, buf, size16, real);
  if (op === Env.RSTOR) {
    for (let i = 0; i < 8; i++) {
      const dv = new DataView(buf.buffer, n + 10 * i);
      writePhys(h, phys(h, i), { m: dv.getBigUint64(0, true), se: dv.getUint16(8, true) });
    }
  }
});
