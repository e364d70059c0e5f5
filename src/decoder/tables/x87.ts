// The x87 escapes D8-DF (Intel SDM Vol. 2, Tables ): memory forms by ModRM.reg, register forms by
// ModRM.reg and ModRM.rm. Operands are written in objdump's order (`fadd st,st(1)`, `fadd st(1),st`).
// The environment and state images have a 16-bit and a 32-bit layout chosen by the operand size; objdump names the
// non-default one with a suffix (fldenvw, fnsaved).
import type { Node, OpcodeMap, Switch } from '../notation.ts';
import { mod, reg, rm } from '../notation.ts';
import { sfx } from './primary.ts';

/** A register-form row with one entry per ModRM.rm. */
const each = (...e: Node[]): Switch => rm(...e);

/** The eight arithmetic operations of D8/DC/DA/DE memory forms, with a memory operand type. */
const arith = (prefix: string, m: string): Switch =>
  reg(...['add', 'mul', 'com', 'comp', 'sub', 'subr', 'div', 'divr'].map((op) => `${prefix}${op} ${m}`));

const x87Map: OpcodeMap = {
  0xd8: mod(
    arith('f', 'Md'),
    reg(
      'fadd ST,STi', 'fmul ST,STi', 'fcom STi', 'fcomp STi', 'fsub ST,STi', 'fsubr ST,STi', 'fdiv ST,STi',
      'fdivr ST,STi',
    ),
  ),
  0xd9: mod(
    reg('fld Md', null, 'fst Md', 'fstp Md', sfx('fldenv', 'Me'), 'fldcw Mw', sfx('fnstenv', 'Me'), 'fnstcw Mw'),
    reg(
      'fld STi',
      'fxch STi',
      each('fnop'),
      null, // D9 D8-DF: undocumented fstp1 aliases, undefined here as in objdump
      each('fchs', 'fabs', null, null, 'ftst', 'fxam'),
      each('fld1', 'fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2', 'fldz'),
      each('f2xm1', 'fyl2x', 'fptan', 'fpatan', 'fxtract', 'fprem1', 'fdecstp', 'fincstp'),
      each('fprem', 'fyl2xp1', 'fsqrt', 'fsincos', 'frndint', 'fscale', 'fsin', 'fcos'),
    ),
  ),
  0xda: mod(
    arith('fi', 'Md'),
    reg('fcmovb ST,STi', 'fcmove ST,STi', 'fcmovbe ST,STi', 'fcmovu ST,STi', null, each(null, 'fucompp')),
  ),
  0xdb: mod(
    reg('fild Md', 'fisttp Md #sse3', 'fist Md', 'fistp Md', null, 'fld Mt', null, 'fstp Mt'),
    reg(
      'fcmovnb ST,STi',
      'fcmovne ST,STi',
      'fcmovnbe ST,STi',
      'fcmovnu ST,STi',
      // 8087/287 control instructions; fneni/fndisi/fnsetpm execute as no-ops on later FPUs
      each('fneni', 'fndisi', 'fnclex', 'fninit', 'fnsetpm', 'frstpm'),
      'fucomi ST,STi',
      'fcomi ST,STi',
    ),
  ),
  0xdc: mod(
    arith('f', 'Mq'),
    reg('fadd STi,ST', 'fmul STi,ST', null, null, 'fsubr STi,ST', 'fsub STi,ST', 'fdivr STi,ST', 'fdiv STi,ST'),
  ),
  0xdd: mod(
    reg('fld Mq', 'fisttp Mq #sse3', 'fst Mq', 'fstp Mq', sfx('frstor', 'Mst'), null, sfx('fnsave', 'Mst'), 'fnstsw Mw'),
    reg('ffree STi', null, 'fst STi', 'fstp STi', 'fucom STi', 'fucomp STi'),
  ),
  0xde: mod(
    arith('fi', 'Mw'),
    reg('faddp STi,ST', 'fmulp STi,ST', null, each(null, 'fcompp'), 'fsubrp STi,ST', 'fsubp STi,ST', 'fdivrp STi,ST',
      'fdivp STi,ST'),
  ),
  0xdf: mod(
    reg('fild Mw', 'fisttp Mw #sse3', 'fist Mw', 'fistp Mw', 'fbld Mt', 'fild Mq', 'fbstp Mt', 'fistp Mq'),
    reg('ffreep STi', null, null, null, each('fnstsw AX'), 'fucomip ST,STi', 'fcomip ST,STi'),
  ),
};

export const x87: OpcodeMap = x87Map;
