// x87 arithmetic and comparisons: fadd fmul fsub fsubr fdiv fdivr (register, m32fp, m64fp forms and the popping
// p forms), fiadd ... fidivr (m16int, m32int), fcom fcomp fcompp fucom fucomp fucompp ficom ficomp fcomi fcomip
// fucomi fucomip ftst. The operations are helpers (src/cpu/fpu/ops.ts).
import { Cond } from '../ir/ops.ts';
import type { T32 } from '../ir/builder.ts';
import { OpKind } from '../../decoder/types.ts';
import { H_ARITH, H_CMP, K } from '../fpu/ops.ts';
import { AF, CF, OF, PF, SF, ZF } from './flags.ts';
import { recordPointers, stIndex, stageLoad, x87Begin } from './x87-common.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

const OPS: Record<string, number> = { add: 0, mul: 1, sub: 4, subr: 5, div: 6, divr: 7 };

/** The memory kind of an x87 operand: floating point (fadd) or integer (fiadd) by size. */
function memKind(int: boolean, size: number): K {
  if (int) return size === 2 ? K.I16 : size === 4 ? K.I32 : K.I64;
  return size === 4 ? K.M32 : size === 8 ? K.M64 : K.M80;
}

/** Checks, loads a memory operand into FTMP and records the pointers; returns the operand's kind (K.ST if none). */
export function x87Source(t: Translator, int: boolean): K {
  x87Begin(t, true);
  const mem = t.i.operands.find((o) => o.kind === OpKind.Mem);
  if (!mem) {
    recordPointers(t);
    return K.ST;
  }
  const ea = t.ea(mem);
  stageLoad(t, mem, ea, mem.size);
  recordPointers(t, { o: mem, ea });
  return memKind(int, mem.size);
}

function arith(name: string, int: boolean, popIt: boolean) {
  return (t: Translator) => {
    const k = x87Source(t, int);
    const ops = t.i.operands;
    let d = 0, s = 0;
    if (k === K.ST) {
      d = stIndex(ops[0]!);
      s = stIndex(ops[1]!);
    }
    t.call(H_ARITH, [t.const32(OPS[name]! | (k << 4) | (d << 8) | (s << 11) | (popIt ? 0x4000 : 0))]);
  };
}

for (const op of Object.keys(OPS)) {
  sem('f' + op, arith(op, false, false));
  sem('f' + op + 'p', arith(op, false, true));
  sem('fi' + op, arith(op, true, false));
}

/** Comparisons: pops, quiet-NaN (fucom), EFLAGS result (fcomi), compare-with-zero (ftst). */
function compare(int: boolean, pops: number, quiet: boolean, eflags: boolean, tst = false) {
  return (t: Translator) => {
    const k = x87Source(t, int);
    const ops = t.i.operands;
    // fcom st(i) / fcomi st, st(i): the last register operand is the source; fcompp / fucompp: ST(1)
    const regs = ops.filter((o) => o.kind === OpKind.Reg);
    const s = k !== K.ST || tst ? 0 : regs.length ? stIndex(regs[regs.length - 1]!) : 1;
    const code = (k << 4) | (s << 8) | (pops << 11) | (quiet ? 0x2000 : 0) | (eflags ? 0x4000 : 0) | (tst ? 0x8000 : 0);
    const r = t.call(H_CMP, [t.const32(code)], 32) as T32;
    if (!eflags) return;
    const keep = t.setcc32(Cond.EQ, r, t.const32(-1));
    t.setFlagsWord(t.select32(keep, t.status(), r), CF | PF | AF | ZF | SF | OF);
  };
}

sem('fcom', compare(false, 0, false, false));
sem('fcomp', compare(false, 1, false, false));
sem('fcompp', compare(false, 2, false, false));
sem('fucom', compare(false, 0, true, false));
sem('fucomp', compare(false, 1, true, false));
sem('fucompp', compare(false, 2, true, false));
sem('ficom', compare(true, 0, false, false));
sem('ficomp', compare(true, 1, false, false));
sem('fcomi', compare(false, 0, false, true));
sem('fcomip', compare(false, 1, false, true));
sem('fucomi', compare(false, 0, true, true));
sem('fucomip', compare(false, 1, true, true));
sem('ftst', compare(false, 0, false, false, true));

