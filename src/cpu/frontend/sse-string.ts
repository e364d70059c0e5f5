// SSE4.2 pcmpestri/pcmpestrm/pcmpistri/pcmpistrm (src/cpu/simd/strings.ts): flags through the helper's result,
// the index to ECX or the mask to XMM0. The memory operand needs no alignment.
import { Op } from '../ir/ops.ts';
import type { T32 } from '../ir/builder.ts';
import { H_PCMPSTRI, H_PCMPSTRM, STR_EXPLICIT, STR_REXW } from '../simd/strings.ts';
import { STATUS } from './flags.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';
import { imm8, simdGuard, srcOff, vecOff } from './sse-common.ts';

function pcmpstr(explicit: boolean, index: boolean, rexw = false) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    simdGuard(t);
    const so = srcOff(t, s!);
    const ctl = imm8(t) | (explicit ? STR_EXPLICIT : 0) | (rexw ? STR_REXW : 0);
    const r = t.call(index ? H_PCMPSTRI : H_PCMPSTRM, [t.const32(vecOff(d!)), t.const32(so), t.const32(ctl)], 32) as T32;
    if (index) t.setReg(1, 4, t.bin32(Op.SHR32, r, t.const32(16)));
    t.setFlagsWord(t.bin32(Op.AND32, r, t.const32(0xffff)), STATUS);
  };
}
sem('pcmpestri', pcmpstr(true, true));
sem('pcmpestriq', pcmpstr(true, true, true));
sem('pcmpestrm', pcmpstr(true, false));
sem('pcmpestrmq', pcmpstr(true, false, true));
sem('pcmpistri', pcmpstr(false, true));
sem('pcmpistrm', pcmpstr(false, false));
