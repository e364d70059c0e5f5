// x87 loads, stores and register-stack operations: fld fild fbld and the constants, fst fstp fist fistp fisttp
// fbstp, fxch fchs fabs ffree ffreep fincstp fdecstp fcmovcc fxam fnop, frndint fsqrt fscale fxtract fprem fprem1,
// and the transcendental functions.
import type { T32 } from '../ir/builder.ts';
import { OpKind } from '../../decoder/types.ts';
import { H_LOAD, H_MISC, H_STORE, K, M } from '../fpu/ops.ts';
import { H_TRANS, T } from '../fpu/trans.ts';
import { probeStore, recordPointers, stIndex, storeStaged, x87Begin } from './x87-common.ts';
import { x87Source } from './x87-arith.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

function load(int: boolean, bcd = false) {
  return (t: Translator) => {
    let k = x87Source(t, int);
    if (bcd) k = K.BCD;
    const o = t.i.operands[0];
    const s = k === K.ST && o ? stIndex(o) : 0;
    t.call(H_LOAD, [t.const32(k | (s << 8))]);
  };
}
sem('fld', load(false));
sem('fild', load(true));
sem('fbld', load(false, true));
['fld1', 'fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2', 'fldz'].forEach((name, n) =>
  sem(name, (t) => {
    x87Begin(t, true);
    recordPointers(t);
    t.call(H_LOAD, [t.const32(16 + n)]);
  }),
);

const STORE_SIZE: Partial<Record<K, number>> = {
  [K.M32]: 4, [K.M64]: 8, [K.M80]: 10, [K.I16]: 2, [K.I32]: 4, [K.I64]: 8, [K.I16T]: 2, [K.I32T]: 4, [K.I64T]: 8, [K.BCD]: 10,
};

/** fst/fist/fisttp/fbstp: the destination is checked for writing before anything changes. */
function store(kindOf: (size: number) => K, popIt: boolean) {
  return (t: Translator) => {
    x87Begin(t, true);
    const o = t.i.operands[0]!;
    const code = popIt ? 0x4000 : 0;
    if (o.kind !== OpKind.Mem) {
      recordPointers(t);
      t.call(H_STORE, [t.const32(K.ST | (stIndex(o) << 8) | code)], 32);
      return;
    }
    const k = kindOf(o.size);
    const size = STORE_SIZE[k]!;
    const ea = t.ea(o);
    probeStore(t, o, ea, size);
    recordPointers(t, { o, ea });
    const r = t.call(H_STORE, [t.const32(k | code)], 32) as T32;
    storeStaged(t, o, ea, size, r);
  };
}
const fpKind = (size: number): K => (size === 4 ? K.M32 : size === 8 ? K.M64 : K.M80);
const intKind = (size: number): K => (size === 2 ? K.I16 : size === 4 ? K.I32 : K.I64);
const truncKind = (size: number): K => (size === 2 ? K.I16T : size === 4 ? K.I32T : K.I64T);
sem('fst', store(fpKind, false));
sem('fstp', store(fpKind, true));
sem('fist', store(intKind, false));
sem('fistp', store(intKind, true));
sem('fisttp', store(truncKind, true));
sem('fbstp', store(() => K.BCD, true));

/** Operations on the register stack: code M, ST(i) from the (last) register operand. */
function misc(op: M, defaultIndex = 1) {
  return (t: Translator) => {
    x87Begin(t, true);
    recordPointers(t);
    const regs = t.i.operands.filter((o) => o.kind === OpKind.Reg);
    const i = regs.length ? stIndex(regs[regs.length - 1]!) : defaultIndex;
    t.call(H_MISC, [t.const32(op | (i << 8)), t.const32(0)]);
  };
}
sem('fchs', misc(M.CHS));
sem('fabs', misc(M.ABS));
sem('fxch', misc(M.XCH));
sem('ffree', misc(M.FREE));
sem('ffreep', misc(M.FREEP));
sem('fincstp', misc(M.INCSTP));
sem('fdecstp', misc(M.DECSTP));
sem('fxam', misc(M.XAM));
sem('frndint', misc(M.RNDINT));
sem('fsqrt', misc(M.SQRT));
sem('fscale', misc(M.SCALE));
sem('fxtract', misc(M.XTRACT));
sem('fprem', misc(M.PREM));
sem('fprem1', misc(M.PREM1));
sem('fnop', misc(M.NOP));

// fcmovcc: condition codes in jcc order (b = 2, e = 4, be = 6, u = p = 10; n: +1)
const CMOV: Record<string, number> = {
  fcmovb: 2, fcmovnb: 3, fcmove: 4, fcmovne: 5, fcmovbe: 6, fcmovnbe: 7, fcmovu: 10, fcmovnu: 11,
};
for (const [name, cc] of Object.entries(CMOV)) {
  sem(name, (t) => {
    x87Begin(t, true);
    recordPointers(t);
    const i = stIndex(t.i.operands[1]!);
    t.call(H_MISC, [t.const32(M.CMOV | (i << 8)), t.cond(cc)]);
  });
}

const TRANS: Record<string, T> = {
  f2xm1: T.F2XM1, fyl2x: T.FYL2X, fyl2xp1: T.FYL2XP1, fptan: T.FPTAN, fpatan: T.FPATAN, fsin: T.FSIN, fcos: T.FCOS,
  fsincos: T.FSINCOS,
};
for (const [name, op] of Object.entries(TRANS)) {
  sem(name, (t) => {
    x87Begin(t, true);
    recordPointers(t);
    t.call(H_TRANS, [t.const32(op)]);
  });
}
