// FXSAVE/FXRSTOR and XSAVE/XSAVEOPT/XSAVEC/XRSTOR as helpers, XSETBV's checks. XCR0 supports x87 and SSE (bits 0
// and 1; no AVX). XINUSE (inUse below) decides XSTATE_BV; XSAVEOPT and XSAVEC leave components in their initial
// configuration unwritten (the init optimisation, as this CPU does; XSAVEOPT has no modified optimisation here).
import { defineHelper } from '../ir/helpers.ts';
import type { IrHost } from '../ir/interp.ts';
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import { ModeBits } from '../mode.ts';
import { MXCSR_MASK_VALUE, rd16, rd32, rd64, wr64 } from './regs.ts';
import { initX87, initXmm, restoreImage, saveImage } from './image.ts';
import { firstLast, probeRead, probeWrite, readBytes, writeBytes, type Area, type Probes } from './mem.ts';

/** XCR0 bits the model supports. */
export const XCR0_SUPPORTED = 3n;
/** Size of an XSAVE area for x87 + SSE: the legacy region and the header. */
export const XSAVE_SIZE = 576;
const CR4_OSFXSR = 1 << 9;

/** Operation word: segment (bits 0-2), address size (4-7), REX.W layout (8), 64-bit mode (9), operation (12-15). */
export const enum XOp {
  FXSAVE = 0, FXRSTOR = 1, XSAVE = 2, XSAVEOPT = 3, XSAVEC = 4, XRSTOR = 5,
}

const img = new Uint8Array(XSAVE_SIZE);
/** FXSAVE/FXRSTOR check their 512 bytes last byte first (a #PF reports the last byte when both pages fault). */
const FX_PROBES: Probes = [[511, 1], [0, 1]];
const XSAVE_PROBES = firstLast(XSAVE_SIZE);
/** XRSTOR: the first byte, then the header (whose 64-byte block holds the area's last byte: the same page). */
const XRSTOR_PROBES: Probes = [[0, 1], [512, 1], [XSAVE_SIZE - 1, 1]];

function area(h: IrHost, code: number, ea: bigint, align: number): Area {
  const seg = code & 7;
  const mode64 = (code & 0x200) !== 0;
  const base = mode64 && seg < 4 ? 0n : rd64(h, L.segOff(seg) + L.SEG_BASE);
  const lin = BigInt.asUintN(64, base + ea);
  // FXSAVE/FXRSTOR with alignment checks on (CR0.AM, EFLAGS.AC, CPL 3): a canonical linear address that is not
  // 4-byte aligned raises #AC(0), ahead of the 16-byte #GP (this CPU, natively: test/cpu-xsave-fault.test.ts; the
  // XSAVE family raises #GP)
  const canonical = !mode64 || lin >> 47n === 0n || lin >> 47n === 0x1ffffn;
  if (align === 16 && rd32(h, L.MODE) & ModeBits.AC && lin & 3n && canonical) throw new GuestFault(Vec.AC, 0);
  if (lin & BigInt(align - 1)) throw new GuestFault(Vec.GP, 0);
  return { seg, ea, asz: (code >> 4) & 15 };
}

/**
 * XINUSE, as this CPU reports it: a component is in use unless it is in its initial configuration (x87: FNINIT's
 * words, zero pointers and zero registers; SSE: zero XMM registers; MXCSR does not count, except for XSAVEC, whose
 * compacted XRSTOR would reset an MXCSR saved without the SSE component).
 */
function inUse(h: IrHost, withMxcsr: boolean): number {
  const b = h.stateBase;
  const x87Init = rd16(h, L.FCW) === 0x37f && rd16(h, L.FSW) === 0 && h.u8[b + L.FTW] === 0 && rd16(h, L.FOP) === 0 &&
    rd64(h, L.FIP) === 0n && rd64(h, L.FDP) === 0n && h.u8.subarray(b + L.fpRegOff(0), b + L.fpRegOff(8)).every((x) => x === 0);
  const x = b + L.xmmOff(0);
  const sseInit = h.u8.subarray(x, x + 256).every((v) => v === 0) && (!withMxcsr || rd32(h, L.MXCSR) === 0x1f80);
  return (x87Init ? 0 : 1) | (sseInit ? 0 : 2);
}

const requested = (h: IrHost): number =>
  Number(rd64(h, L.XCR0) & BigInt(rd32(h, L.gprOff(0)) >>> 0) & XCR0_SUPPORTED); // EDX is irrelevant: no bits >= 32

export const H_XSTATE = defineHelper('x87_xstate', [32, 64], 0, true, (h, c, e) => {
  const code = c as number;
  const op = (code >> 12) as XOp;
  const ea = e as bigint;
  const rexW = (code & 0x100) !== 0;
  const xmmRegs = code & 0x200 ? 16 : 8;
  const xmmEnd = 160 + 16 * xmmRegs;
  switch (op) {
    case XOp.FXSAVE: {
      const a = area(h, code, ea, 16);
      probeWrite(h, a, FX_PROBES);
      const sse = (rd32(h, L.CR4) & CR4_OSFXSR) !== 0;
      saveImage(h, img, { rexW, xmmRegs, pointersOnlyOnError: true, mxcsr: sse, xmm: sse });
      writeBytes(h, a, img, 0, 24);
      writeBytes(h, a, img, 32, 160);
      if (sse) writeBytes(h, a, img, 24, 32);
      if (sse) writeBytes(h, a, img, 160, xmmEnd);
      return;
    }
    case XOp.FXRSTOR: {
      const a = area(h, code, ea, 16);
      probeRead(h, a, FX_PROBES);
      readBytes(h, a, img, 0, 512);
      const sse = (rd32(h, L.CR4) & CR4_OSFXSR) !== 0;
      if (sse && new DataView(img.buffer).getUint32(24, true) & ~MXCSR_MASK_VALUE) throw new GuestFault(Vec.GP, 0);
      restoreImage(h, img, { rexW, xmmRegs, mxcsr: sse, xmm: sse });
      return;
    }
    case XOp.XSAVE:
    case XOp.XSAVEOPT:
    case XOp.XSAVEC: {
      const a = area(h, code, ea, 64);
      const rfbm = requested(h);
      probeWrite(h, a, XSAVE_PROBES);
      const dv = new DataView(img.buffer);
      const used = BigInt(rfbm & inUse(h, op === XOp.XSAVEC));
      if (op === XOp.XSAVEC) {
        dv.setBigUint64(512, used, true);
        dv.setBigUint64(520, (1n << 63n) | BigInt(rfbm), true);
      } else {
        readBytes(h, a, img, 512, 8);
        const old = dv.getBigUint64(512, true);
        dv.setBigUint64(512, (old & ~BigInt(rfbm)) | used, true);
      }
      saveImage(h, img, { rexW, xmmRegs, pointersOnlyOnError: true });
      // XSAVEC and XSAVEOPT save only components in use (the init optimisation), XSAVE every requested one. MXCSR
      // (and MXCSR_MASK) goes with SSE, for XSAVEOPT whether in use or not (the optimisations leave it alone).
      const save = op === XOp.XSAVE ? rfbm : Number(used);
      if (save & 1) {
        writeBytes(h, a, img, 0, 24);
        writeBytes(h, a, img, 32, 160);
      }
      if ((op === XOp.XSAVEOPT ? rfbm : save) & 2) writeBytes(h, a, img, 24, 32);
      if (save & 2) writeBytes(h, a, img, 160, xmmEnd);
      writeBytes(h, a, img, 512, op === XOp.XSAVEC ? 528 : 520);
      return;
    }
    case XOp.XRSTOR: {
      const a = area(h, code, ea, 64);
      const rfbm = requested(h);
      probeRead(h, a, XRSTOR_PROBES);
      readBytes(h, a, img, 0, XSAVE_SIZE);
      const dv = new DataView(img.buffer);
      const xstate = dv.getBigUint64(512, true);
      const xcomp = dv.getBigUint64(520, true);
      const xcr0 = rd64(h, L.XCR0);
      const compacted = (xcomp >> 63n) !== 0n;
      if (xstate & ~xcr0) throw new GuestFault(Vec.GP, 0);
      if (compacted) {
        const comp = xcomp & ~(1n << 63n);
        if (comp & ~xcr0 || xstate & ~comp) throw new GuestFault(Vec.GP, 0);
        for (let k = 528; k < XSAVE_SIZE; k += 8) if (dv.getBigUint64(k, true)) throw new GuestFault(Vec.GP, 0);
      } else if (xcomp || dv.getBigUint64(528, true)) throw new GuestFault(Vec.GP, 0);
      const mxcsrFromImage = compacted ? (rfbm & 2) !== 0 && (xstate & 2n) !== 0n : (rfbm & 2) !== 0;
      if (mxcsrFromImage && dv.getUint32(24, true) & ~MXCSR_MASK_VALUE) throw new GuestFault(Vec.GP, 0);
      if (rfbm & 1) {
        if (xstate & 1n) restoreImage(h, img, { rexW, x87: true, mxcsr: false, xmm: false });
        else initX87(h);
      }
      if (rfbm & 2) {
        if (xstate & 2n) restoreImage(h, img, { x87: false, mxcsr: false, xmm: true, xmmRegs });
        else initXmm(h, xmmRegs);
        if (mxcsrFromImage) restoreImage(h, img, { x87: false, mxcsr: true, xmm: false });
        else h.i32[(h.stateBase + L.MXCSR) >> 2] = 0x1f80;
      }
      return;
    }
  }
});

/** XSETBV with ECX = index, value = EDX:EAX: #GP(0) unless XCR0 gets x87 and only supported bits. */
export const H_XSETBV = defineHelper('xsetbv', [32, 64], 0, true, (h, idx, v) => {
  const val = v as bigint;
  if ((idx as number) !== 0 || !(val & 1n) || val & ~XCR0_SUPPORTED) throw new GuestFault(Vec.GP, 0);
  wr64(h, L.XCR0, val);
});
