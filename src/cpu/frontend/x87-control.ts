// x87 control instructions: fninit fnclex fldcw fnstcw fnstsw fnstenv fldenv fnsave frstor (and their waiting forms
// the decoder folds from FWAIT + fn*), fwait, and the 8087/287 leftovers (fneni fndisi fnsetpm: no-ops). They do not
// update the last-instruction pointers. The fn* forms do not check for pending exceptions; fldcw fldenv frstor do.
import { Op } from '../ir/ops.ts';
import type { T32 } from '../ir/builder.ts';
import { OpKind } from '../../decoder/types.ts';
import * as L from '../layout.ts';
import { ModeBits } from '../mode.ts';
import { Vec } from '../fault.ts';
import { defineHelper } from '../ir/helpers.ts';
import { Env, H_ENV, fcwValue, withSummary } from '../fpu/env.ts';
import { fninit, rd16, wr16 } from '../fpu/regs.ts';
import { fpuGuard } from './fpu-guard.ts';
import { mfCheck, x87Begin } from './x87-common.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

const H_FNINIT = defineHelper('x87_fninit', [], 0, false, (h) => fninit(h));
const H_FLDCW = defineHelper('x87_fldcw', [32], 0, false, (h, v) => {
  const fcw = fcwValue(v as number);
  wr16(h, L.FCW, fcw);
  wr16(h, L.FSW, withSummary(rd16(h, L.FSW), fcw));
});

sem(['fninit', 'finit'], (t) => {
  x87Begin(t, false);
  t.call(H_FNINIT, []);
});

// FNCLEX: the exception flags, SF, ES and B cleared; C0-C3 and TOP kept
sem(['fnclex', 'fclex'], (t) => {
  x87Begin(t, false);
  t.st16(L.FSW, t.bin32(Op.AND32, t.ld16(L.FSW), t.const32(0x7f00)));
});

sem('fldcw', (t) => {
  x87Begin(t, true);
  const o = t.i.operands[0]!;
  t.call(H_FLDCW, [t.load(2, o.seg, t.ea(o)) as T32]);
});

sem(['fnstcw', 'fstcw'], (t) => {
  x87Begin(t, false);
  const o = t.i.operands[0]!;
  t.write(o, t.ld16(L.FCW));
});

sem(['fnstsw', 'fstsw'], (t) => {
  x87Begin(t, false);
  const o = t.i.operands[0]!;
  if (o.kind === OpKind.Reg) t.setReg(o.reg, 2, t.ld16(L.FSW));
  else t.write(o, t.ld16(L.FSW));
});

function env(op: Env, waiting: boolean) {
  return (t: Translator) => {
    x87Begin(t, waiting);
    const o = t.i.operands[0]!;
    const real = !(t.mode & ModeBits.PE) || (t.mode & ModeBits.VM86) !== 0;
    const code = op | (t.i.opSize === 2 ? Env.SIZE16 : 0) | (real ? Env.REAL : 0) | (o.seg << 4) | (t.i.addrSize << 8);
    t.call(H_ENV, [t.const32(code), t.ea(o)]);
  };
}
for (const sfx of ['', 'w', 'd']) {
  sem(['fnstenv' + sfx, 'fstenv' + sfx], env(Env.STENV, false));
  sem('fldenv' + sfx, env(Env.LDENV, true));
  sem(['fnsave' + sfx, 'fsave' + sfx], env(Env.SAVE, false));
  sem('frstor' + sfx, env(Env.RSTOR, true));
}

sem('fwait', (t) => {
  fpuGuard(t, 'wait');
  mfCheck(t);
});

sem(['fneni', 'fndisi', 'fnsetpm', 'feni', 'fdisi', 'fsetpm'], (t) => x87Begin(t, false));
// FRSTPM (DB E5) was the 287XL's; this CPU raises #UD for it
sem('frstpm', (t) => t.fault(Vec.UD));
