// x87 arithmetic and comparisons against this machine's CPU: every operand form of fadd fsub fsubr fmul fdiv fdivr
// (and p / fi forms), fsqrt, the comparisons and fxam, with operands biased to special classes and rounding
// boundaries, under random precision/rounding control and exception masks. Results are compared exactly (the
// registers, FSW, FCW and tags through the FXSAVE image), at all precision settings.
import { describe, expect, it } from 'vitest';
import { DATA, NATIVE_ORACLE, Oracle, report } from './util/oracle.ts';
import { Rng, cw, lastNote, operands, x80, x80as64 } from './cpu-x87-util.ts';

const BOTH = { jit: 'both' } as const;
const PRELUDE = 'fldcw [rsi]\nfld tbyte ptr [rsi+32]\nfld tbyte ptr [rsi+16]\n';
const regs = { rsi: DATA, rdi: DATA + 0x100 };

describe.skipIf(!NATIVE_ORACLE.ok)('x87 arithmetic (native oracle)', () => {
  it('fadd fsub fsubr fmul fdiv fdivr in every form', () => {
    const o = new Oracle();
    const r = new Rng(8700n);
    for (const op of ['add', 'sub', 'subr', 'mul', 'div', 'divr']) {
      const forms = [
        `f${op} st, st(1)`, `f${op} st(1), st`, `f${op}p st(1), st`, `f${op} qword ptr [rsi+48]`,
        `f${op} dword ptr [rsi+56]`, `fi${op} dword ptr [rsi+60]`, `fi${op} word ptr [rsi+64]`, `f${op} st, st(0)`,
      ];
      for (const f of forms) {
        const c = o.code(PRELUDE + f + '\nfnstsw ax');
        for (let k = 0; k < 200; k++) o.add(c, { regs, data: operands(r, x80(r), x80(r), cw(r)) }, lastNote);
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('fsqrt, fchs, fabs, frndint, fscale, fxtract, fprem, fprem1', () => {
    const o = new Oracle();
    const r = new Rng(8701n);
    for (const f of ['fsqrt', 'fchs', 'fabs', 'frndint', 'fscale', 'fxtract', 'fprem', 'fprem1']) {
      const c = o.code(PRELUDE + f + '\nfnstsw ax');
      for (let k = 0; k < 400; k++) {
        let b = x80(r);
        // fscale: mostly small scale factors
        if (f === 'fscale' && r.int(2)) b = { m: BigInt(1 + r.int(200)) << 56n, se: (r.int(2) << 15) | 0x4006 };
        o.add(c, { regs, data: operands(r, x80(r), b, cw(r)) }, lastNote);
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('comparisons: fcom fcomp fcompp fucom fucomp fucompp ficom ficomp fcomi fcomip fucomi fucomip ftst fxam', () => {
    const o = new Oracle();
    const r = new Rng(8702n);
    const forms = [
      'fcom st(1)', 'fcomp st(1)', 'fcompp', 'fucom st(1)', 'fucomp st(1)', 'fucompp', 'fcom qword ptr [rsi+48]',
      'fcomp dword ptr [rsi+56]', 'ficom dword ptr [rsi+60]', 'ficomp word ptr [rsi+64]', 'fcomi st, st(1)',
      'fcomip st, st(1)', 'fucomi st, st(1)', 'fucomip st, st(1)', 'ftst', 'fxam', 'fcom st(0)',
    ];
    for (const f of forms) {
      const c = o.code(PRELUDE + f + '\nfnstsw ax');
      for (let k = 0; k < 250; k++) {
        const a = x80(r);
        const b = r.int(4) === 0 ? a : r.int(2) ? x80as64(r) : x80(r);
        o.add(c, { regs, data: operands(r, a, b, cw(r)), flags: r.flags() }, lastNote);
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });
});
