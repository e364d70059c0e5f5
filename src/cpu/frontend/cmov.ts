// setcc and cmovcc. CMOV always reads its source (a memory source can fault even when the condition is false) and
// always writes its destination, so a 32-bit destination's upper half is cleared whatever the condition.
import type { T32, T64 } from '../ir/builder.ts';
import { CC } from '../../decoder/tables/primary.ts';
import { sem } from './registry.ts';

CC.forEach((cc, i) => {
  sem(`set${cc}`, (t) => t.dst(0, t.cond(i)));
  sem(`cmov${cc}`, (t) => {
    const [d, s] = t.i.operands;
    const v = t.read(s!);
    const old = t.read(d!);
    const c = t.cond(i);
    t.write(d!, d!.size === 8 ? t.select64(c, v as T64, old as T64) : t.select32(c, v as T32, old as T32));
  });
});
