// FXSAVE/FXRSTOR, XSAVE/XSAVEOPT/XSAVEC/XRSTOR (and their REX.W forms), XGETBV/XSETBV. The images are built and
// checked in helpers (src/cpu/fpu/xsave.ts).
//
// Checks: FXSAVE/FXRSTOR are x87 instructions for CR0.EM/TS (#NM); the XSAVE family raises #UD with CR4.OSXSAVE = 0
// and #NM with CR0.TS = 1 (CR0.EM does not matter); alignment #GP(0) (16 / 64 bytes) in the helper.
import { Pfx } from '../../decoder/types.ts';
import { Op } from '../ir/ops.ts';
import type { T32, T64 } from '../ir/builder.ts';
import * as L from '../layout.ts';
import { Vec } from '../fault.ts';
import { CR0_TS } from '../system/desc.ts';
import { H_XSETBV, H_XSTATE, XOp } from '../fpu/xsave.ts';
import { fpuGuard } from './fpu-guard.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

const CR4_OSXSAVE = 1 << 18;
const RAX = 0, RCX = 1, RDX = 2;

/** Raises `vec` when (state word at off) & mask is zero (ifZero) or non-zero. */
function raiseOn(t: Translator, off: number, mask: number, ifZero: boolean, vec: number): void {
  const l = t.label();
  const v = t.bin32(Op.AND32, t.ld32(off), t.const32(mask));
  if (ifZero) t.brnz(v, l);
  else t.brz(v, l);
  t.raise(vec);
  t.place(l);
}

const osxsave = (t: Translator) => raiseOn(t, L.CR4, CR4_OSXSAVE, true, Vec.UD);

/** Legacy prefixes that make the NP (no-prefix) encodings #UD. */
const NP_PREFIXES = Pfx.OPSIZE | Pfx.REP | Pfx.REPNE;

function xstate(op: XOp) {
  return (t: Translator) => {
    // XSAVEC is NP 0F C7 /4: with a 66/F2/F3 prefix it is #UD, ahead of the other checks (this CPU natively:
    // test/cpu-fuzz-found.test.ts). The decoder keeps decoding it, as objdump does ('data16 xsavec'); the 0F AE
    // forms are #UD with those prefixes in the decoder's table already, objdump agreeing there.
    if (op === XOp.XSAVEC && t.i.prefixes & NP_PREFIXES) return t.fault(Vec.UD);
    if (op === XOp.FXSAVE || op === XOp.FXRSTOR) fpuGuard(t, 'x87');
    else {
      osxsave(t);
      raiseOn(t, L.CR0, CR0_TS, false, Vec.NM);
    }
    const o = t.i.operands[0]!;
    const code = o.seg | (t.i.addrSize << 4) | (t.i.opSize === 8 ? 0x100 : 0) | (t.codeBits === 64 ? 0x200 : 0) | (op << 12);
    t.call(H_XSTATE, [t.const32(code), t.ea(o)]);
  };
}
sem(['fxsave', 'fxsave64'], xstate(XOp.FXSAVE));
sem(['fxrstor', 'fxrstor64'], xstate(XOp.FXRSTOR));
sem(['xsave', 'xsave64'], xstate(XOp.XSAVE));
sem(['xsaveopt', 'xsaveopt64'], xstate(XOp.XSAVEOPT));
sem(['xsavec', 'xsavec64'], xstate(XOp.XSAVEC));
sem(['xrstor', 'xrstor64'], xstate(XOp.XRSTOR));

sem('xgetbv', (t) => {
  osxsave(t);
  const ok = t.label();
  t.brz(t.gpr(RCX, 4) as T32, ok);
  t.raise(Vec.GP, 0);
  t.place(ok);
  const v = t.ld64(L.XCR0);
  t.setGpr(RAX, 4, t.lo32(v));
  t.setGpr(RDX, 4, t.hi32(v));
});

sem('xsetbv', (t) => {
  osxsave(t);
  if (t.cpl !== 0) return t.fault(Vec.GP, 0);
  const v = t.pair64(t.gpr(RAX, 4) as T32, t.gpr(RDX, 4) as T32) as T64;
  t.call(H_XSETBV, [t.gpr(RCX, 4) as T32, v]);
});

