// x87 loads, stores, conversions and stack handling against this machine's CPU: fld/fst/fstp for binary32/64 and
// extended, fild/fist/fistp/fisttp for every integer size, fbld/fbstp, the constants under each rounding mode,
// fxch/fcmovcc/ffree/fincstp/fdecstp, stack overflow and underflow with IE masked and unmasked.
import { describe, expect, it } from 'vitest';
import { DATA, NATIVE_ORACLE, Oracle, report } from './util/oracle.ts';
import { Rng, cw, lastNote, operands, x80 } from './cpu-x87-util.ts';

const BOTH = { jit: 'both' } as const;
const PRELUDE = 'fldcw [rsi]\nfld tbyte ptr [rsi+32]\nfld tbyte ptr [rsi+16]\n';
const regs = { rsi: DATA, rdi: DATA + 0x100 };

/** An extended value that is an integer near a 16/32/64-bit or 18-digit boundary, or half-way cases. */
function nearInt(r: Rng): { m: bigint; se: number } {
  const bound = r.pick([1n << 15n, 1n << 31n, 1n << 63n, 10n ** 18n, 1n << 64n]);
  let v = bound + BigInt(r.int(5)) - 2n;
  if (v <= 0n) v = 1n;
  const n = v.toString(2).length;
  const frac = r.int(3); // x.0, x.5, x.25 (when there are bits to spare)
  const m = n <= 62 ? (v << BigInt(64 - n)) | (BigInt(frac) << BigInt(62 - n)) : v << BigInt(64 - n);
  return { m: BigInt.asUintN(64, m), se: (r.int(2) << 15) | (0x3fff + n - 1) };
}

describe.skipIf(!NATIVE_ORACLE.ok)('x87 data movement (native oracle)', () => {
  it('fld and fst/fstp with binary32, binary64 and extended memory operands', () => {
    const o = new Oracle();
    const r = new Rng(8710n);
    const forms = [
      'fld qword ptr [rsi+48]', 'fld dword ptr [rsi+56]', 'fst qword ptr [rdi]', 'fstp qword ptr [rdi]',
      'fst dword ptr [rdi]', 'fstp dword ptr [rdi]', 'fstp tbyte ptr [rdi]', 'fst st(1)', 'fstp st(1)', 'fstp st(0)',
      'fld st(1)', 'fld st(0)', 'fld st(5)', 'fst st(4)',
    ];
    for (const f of forms) {
      const c = o.code(PRELUDE + f + '\nfnstsw ax');
      for (let k = 0; k < 400; k++) o.add(c, { regs, data: operands(r, x80(r), x80(r), cw(r)) }, lastNote);
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('fild, fist, fistp, fisttp, fbld, fbstp', () => {
    const o = new Oracle();
    const r = new Rng(8711n);
    const forms = [
      'fild word ptr [rsi+64]', 'fild dword ptr [rsi+60]', 'fild qword ptr [rsi+72]', 'fist word ptr [rdi]',
      'fist dword ptr [rdi]', 'fistp word ptr [rdi]', 'fistp dword ptr [rdi]', 'fistp qword ptr [rdi]',
      'fisttp word ptr [rdi]', 'fisttp dword ptr [rdi]', 'fisttp qword ptr [rdi]', 'fbstp tbyte ptr [rdi]',
    ];
    for (const f of forms) {
      const c = o.code(PRELUDE + f + '\nfnstsw ax');
      for (let k = 0; k < 400; k++) {
        const a = r.int(3) === 0 ? nearInt(r) : x80(r);
        o.add(c, { regs, data: operands(r, a, x80(r), cw(r)) }, lastNote);
      }
    }
    // fbld: valid and invalid digits, both signs, then stored back
    const bcd = o.code('fldcw [rsi]\nfbld tbyte ptr [rsi+16]\nfnstsw ax\nfld st(0)\nfbstp tbyte ptr [rdi]');
    for (let k = 0; k < 200; k++) {
      const d = operands(r, x80(r), x80(r), cw(r));
      for (let i = 0; i < 9; i++) d[16 + i] = r.int(4) ? r.int(10) * 16 + r.int(10) : r.int(256);
      d[25] = r.int(2) ? 0x80 : r.int(3) ? 0 : r.int(256);
      o.add(bcd, { regs, data: d }, lastNote);
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('the constants under each rounding mode and precision', () => {
    const o = new Oracle();
    for (const k of ['fld1', 'fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2', 'fldz']) {
      const c = o.code(`fldcw [rsi]\n${k}\nfnstsw ax`);
      for (let rc = 0; rc < 4; rc++) for (const pc of [0, 2, 3]) {
        const d = new Uint8Array(16);
        d[0] = 0x7f;
        d[1] = (rc << 2) | pc;
        o.add(c, { regs, data: d });
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('register-stack operations: fxch fcmovcc ffree ffreep fincstp fdecstp fnop fchs fabs, with empty registers', () => {
    const o = new Oracle();
    const r = new Rng(8712n);
    const forms = [
      'fxch st(1)', 'fxch st(3)', 'fxch', 'ffree st(0)', 'ffree st(1)', 'ffreep st(0)', 'fincstp', 'fdecstp', 'fnop',
      'fchs', 'fabs', 'fcmovb st, st(1)', 'fcmove st, st(1)', 'fcmovbe st, st(1)', 'fcmovu st, st(1)',
      'fcmovnb st, st(1)', 'fcmovne st, st(1)', 'fcmovnbe st, st(1)', 'fcmovnu st, st(1)', 'fcmove st, st(4)',
      'fstp st(0)\nfxch st(1)', 'fstp st(0)\nfstp st(0)\nfchs', 'fincstp\nfincstp\nfcmovnb st, st(1)',
    ];
    for (const f of forms) {
      const c = o.code(PRELUDE + f + '\nfnstsw ax');
      for (let k = 0; k < 40; k++) o.add(c, { regs, data: operands(r, x80(r), x80(r), cw(r, 3)), flags: r.flags() }, lastNote);
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('stack overflow and underflow, IE masked and unmasked', () => {
    const o = new Oracle();
    const r = new Rng(8713n);
    const push9 = 'fld1\n'.repeat(8);
    const forms = [
      `${push9}fld1`, `${push9}fld qword ptr [rsi+48]`, `${push9}fild dword ptr [rsi+60]`, `${push9}fldpi`,
      `${push9}fld st(3)`, `${push9}fxtract`, `${push9}fptan`, `${push9}fsincos`, 'fstp st(0)\nfstp st(0)\nfadd st, st(1)',
      'fstp st(0)\nfstp st(0)\nfst qword ptr [rdi]', 'fstp st(0)\nfstp st(0)\nfistp dword ptr [rdi]',
      'fstp st(0)\nfstp st(0)\nfstp tbyte ptr [rdi]', 'fstp st(0)\nfstp st(0)\nfbstp tbyte ptr [rdi]',
      'fstp st(0)\nfstp st(0)\nfcom st(1)', 'fstp st(0)\nfstp st(0)\nfcomip st, st(1)', 'fstp st(0)\nfsqrt',
      'fstp st(0)\nfstp st(0)\nfxam', 'fstp st(0)\nfstp st(0)\nftst', 'fstp st(0)\nfmul st, st(1)',
      'fstp st(0)\nfstp st(0)\nfld st(2)', 'fstp st(0)\nfscale', 'fstp st(0)\nfprem', 'fstp st(0)\nfstp st(0)\nfchs',
      'fstp st(0)\nfstp st(0)\nfsin', 'fstp st(0)\nfpatan', 'fstp st(0)\nfstp st(0)\nfaddp st(1), st',
      'fstp st(0)\nfstp st(0)\nfstp st(1)',
    ];
    for (const f of forms) {
      const c = o.code(PRELUDE + f + '\nfnstsw ax\nfnstenv [rdi+32]');
      for (const mask of [0x3f, 0x3e]) {
        o.add(c, { regs, data: operands(r, x80(r, false), x80(r, false), 0x340 | mask), flags: r.flags() }, lastNote);
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });
});
