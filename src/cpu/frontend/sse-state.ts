// ldmxcsr / stmxcsr, and emms (the end of MMX code: every x87 register tagged empty).
import { Op } from '../ir/ops.ts';
import type { T32 } from '../ir/builder.ts';
import * as L from '../layout.ts';
import { Vec } from '../fault.ts';
import { MXCSR_MASK_VALUE } from '../simd/mxcsr.ts';
import { sem } from './registry.ts';
import { fpuGuard } from './fpu-guard.ts';
import { mfCheck, simdGuard } from './sse-common.ts';
import { faultIf } from './sys-util.ts';

/** ldmxcsr m32: #GP(0) if a reserved bit (outside MXCSR_MASK) is set. */
sem('ldmxcsr', (t) => {
  const o = t.i.operands[0]!;
  simdGuard(t);
  const v = t.load(4, o.seg, t.ea(o)) as T32;
  faultIf(t, t.bin32(Op.AND32, v, t.const32(~MXCSR_MASK_VALUE)), Vec.GP, 0);
  t.st32(L.MXCSR, v);
});

sem('stmxcsr', (t) => {
  const o = t.i.operands[0]!;
  simdGuard(t);
  t.store(4, o.seg, t.ea(o), t.ld32(L.MXCSR));
});

/** emms: every register empty; on AMD Zen TOP becomes 0 too (as after any MMX instruction). */
sem('emms', (t) => {
  fpuGuard(t, 'mmx');
  mfCheck(t);
  t.st8(L.FTW, t.const32(0));
  t.st16(L.FSW, t.bin32(Op.AND32, t.ld16(L.FSW), t.const32(~0x3800)));
});
