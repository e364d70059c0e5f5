// Two-operand arithmetic and logic, inc/dec, neg/not, test, cmp.
import { Op } from '../ir/ops.ts';
import type { T } from '../ir/builder.ts';
import { CcKind } from './flags.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

/** dst = op(dst, src) with flags; `write` false for cmp/test. */
function binary(kind: CcKind, compute: (t: Translator, size: number, a: T, b: T) => T, write = true) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    const size = d!.size;
    const a = t.read(d!);
    const b = t.read(s!);
    const r = compute(t, size, a, b);
    if (write) t.write(d!, r);
    t.setFlags(kind, size, r, b, undefined, kind === CcKind.SUB ? a : undefined);
  };
}

sem('add', binary(CcKind.ADD, (t, n, a, b) => t.sized(n).add(a, b)));
sem('sub', binary(CcKind.SUB, (t, n, a, b) => t.sized(n).sub(a, b)));
sem('cmp', binary(CcKind.SUB, (t, n, a, b) => t.sized(n).sub(a, b), false));
sem('and', binary(CcKind.LOGIC, (t, n, a, b) => t.sized(n).and(a, b)));
sem('test', binary(CcKind.LOGIC, (t, n, a, b) => t.sized(n).and(a, b), false));
sem('or', binary(CcKind.LOGIC, (t, n, a, b) => t.sized(n).or(a, b)));
sem('xor', binary(CcKind.LOGIC, (t, n, a, b) => t.sized(n).xor(a, b)));

/** adc/sbb: the carry-in is part of the lazy state (CC_SRC2). */
function withCarry(kind: CcKind.ADC | CcKind.SBB) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    const size = d!.size;
    const z = t.sized(size);
    const a = t.read(d!);
    const b = t.read(s!);
    const cf = t.cf();
    const c = size === 8 ? t.zext64(cf) : cf;
    const r = kind === CcKind.ADC ? z.add(z.add(a, b), c) : z.sub(z.sub(a, b), c);
    t.write(d!, r);
    t.setFlags(kind, size, r, b, c);
  };
}
sem('adc', withCarry(CcKind.ADC));
sem('sbb', withCarry(CcKind.SBB));

/** inc/dec keep CF: it is saved in CC_SRC2. */
function incdec(kind: CcKind.INC | CcKind.DEC) {
  return (t: Translator) => {
    const d = t.i.operands[0]!;
    const size = d.size;
    const z = t.sized(size);
    const a = t.read(d);
    const cf = t.cf();
    const r = kind === CcKind.INC ? z.add(a, z.c(1)) : z.sub(a, z.c(1));
    t.write(d, r);
    t.setFlags(kind, size, r, z.c(1), size === 8 ? t.zext64(cf) : cf);
  };
}
sem('inc', incdec(CcKind.INC));
sem('dec', incdec(CcKind.DEC));

sem('neg', (t) => {
  const d = t.i.operands[0]!;
  const z = t.sized(d.size);
  const a = t.read(d);
  const r = z.sub(z.c(0), a);
  t.write(d, r);
  t.setFlags(CcKind.SUB, d.size, r, a); // 0 - a
});

sem('not', (t) => {
  const d = t.i.operands[0]!;
  const a = t.read(d);
  t.write(d, d.size === 8 ? t.un64(Op.NOT64, a as never) : t.un32(Op.NOT32, a as never));
});
