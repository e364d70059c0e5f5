// SSE/SSE2/SSE3/SSE4.1 floating point against this machine's CPU: arithmetic, compares, conversions, rounding,
// dot products, horizontal and alternating operations, the reciprocal approximations, with operands biased to
// NaNs, infinities, denormals, signed zeros and rounding edges, under every rounding mode, FTZ/DAZ and unmasked
// exceptions (#XM, with the MXCSR flags compared). Interpreter and JIT.
import { describe, expect, it } from 'vitest';
import { DATA, NATIVE_ORACLE, Oracle, Rng, report } from './util/oracle.ts';
import { bytesOf, fpVal, fpVec, mxcsrVal, vec } from './cpu-sse-util.ts';

const BOTH = { jit: 'both' } as const;
const SHAPES = ['ps', 'pd', 'ss', 'sd'] as const;
const bitsOf = (sh: string) => (sh.endsWith('s') ? 32 : 64) as 32 | 64;

describe.skipIf(!NATIVE_ORACLE.ok)('SSE floating point (native oracle)', () => {
  it('add sub mul div min max sqrt in every shape, register and memory operands', () => {
    const o = new Oracle();
    const r = new Rng(740n);
    for (const op of ['add', 'sub', 'mul', 'div', 'min', 'max', 'sqrt']) {
      for (const sh of SHAPES) {
        const bits = bitsOf(sh);
        for (const f of [`${op}${sh} xmm1, xmm2`, `${op}${sh} xmm1, [rdi]`]) {
          const c = o.code(f);
          for (let k = 0; k < 60; k++) {
            const a = fpVec(r, bits), b = fpVec(r, bits, a);
            o.add(c, { xmm: { 1: a, 2: b }, mxcsr: mxcsrVal(r), regs: { rdi: DATA }, data: bytesOf(b) });
          }
        }
      }
    }
    expect(report(o.run(BOTH), 5000)).toBe('');
  });

  it('cmpps/pd/ss/sd with every predicate, comiss/ucomiss/comisd/ucomisd', () => {
    const o = new Oracle();
    const r = new Rng(741n);
    for (const sh of SHAPES) {
      const bits = bitsOf(sh);
      for (let p = 0; p < 8; p++) {
        const c = o.code(`cmp${sh} xmm1, xmm2, ${p}`);
        for (let k = 0; k < 20; k++) {
          const a = fpVec(r, bits), b = fpVec(r, bits, a);
          o.add(c, { xmm: { 1: a, 2: b }, mxcsr: mxcsrVal(r) });
        }
      }
      // imm8[7:3]: not predicates in the legacy encoding
      for (const p of [8, 13, 17, 31, 0x47, 0xff]) {
        const c = o.code(`cmp${sh} xmm1, xmm2, ${p}`);
        for (let k = 0; k < 4; k++) o.add(c, { xmm: { 1: fpVec(r, bits), 2: fpVec(r, bits) }, mxcsr: mxcsrVal(r) });
      }
      const m = o.code(`cmp${sh} xmm1, [rdi], 1`);
      for (let k = 0; k < 10; k++) {
        const a = fpVec(r, bits), b = fpVec(r, bits, a);
        o.add(m, { xmm: { 1: a }, mxcsr: mxcsrVal(r), regs: { rdi: DATA }, data: bytesOf(b) });
      }
    }
    for (const f of ['comiss xmm1, xmm2', 'ucomiss xmm1, xmm2', 'comisd xmm1, xmm2', 'ucomisd xmm1, xmm2', 'comiss xmm1, [rdi]',
      'ucomisd xmm1, [rdi]']) {
      const c = o.code(f);
      const bits = f.includes('sd') ? 64 : 32;
      for (let k = 0; k < 80; k++) {
        const a = fpVec(r, bits), b = fpVec(r, bits, a);
        o.add(c, { xmm: { 1: a, 2: b }, mxcsr: mxcsrVal(r), regs: { rdi: DATA }, data: bytesOf(b), flags: r.flags() });
      }
    }
    expect(report(o.run(BOTH), 5000)).toBe('');
  });

  it('conversions between formats and integers, all forms', () => {
    const o = new Oracle();
    const r = new Rng(742n);
    const forms: [string, 'f32' | 'f64' | 'i32' | 'i64'][] = [
      ['cvtps2pd xmm1, xmm2', 'f32'], ['cvtps2pd xmm1, [rdi]', 'f32'], ['cvtpd2ps xmm1, xmm2', 'f64'], ['cvtpd2ps xmm1, [rdi]', 'f64'],
      ['cvtss2sd xmm1, xmm2', 'f32'], ['cvtss2sd xmm1, [rdi]', 'f32'], ['cvtsd2ss xmm1, xmm2', 'f64'], ['cvtsd2ss xmm1, [rdi]', 'f64'],
      ['cvtdq2ps xmm1, xmm2', 'i32'], ['cvtdq2ps xmm1, [rdi]', 'i32'], ['cvtdq2pd xmm1, xmm2', 'i32'], ['cvtdq2pd xmm1, [rdi]', 'i32'],
      ['cvtps2dq xmm1, xmm2', 'f32'], ['cvttps2dq xmm1, [rdi]', 'f32'], ['cvtpd2dq xmm1, xmm2', 'f64'], ['cvttpd2dq xmm1, [rdi]', 'f64'],
      ['cvttps2dq xmm1, xmm2', 'f32'], ['cvttpd2dq xmm1, xmm2', 'f64'],
      ['cvtpi2ps xmm1, mm2', 'i32'], ['cvtpi2ps xmm1, [rdi]', 'i32'], ['cvtpi2pd xmm1, mm2', 'i32'], ['cvtpi2pd xmm1, [rdi]', 'i32'],
      ['cvtps2pi mm1, xmm2', 'f32'], ['cvtps2pi mm1, [rdi]', 'f32'], ['cvttps2pi mm1, xmm2', 'f32'], ['cvtpd2pi mm1, xmm2', 'f64'],
      ['cvtpd2pi mm1, [rdi]', 'f64'], ['cvttpd2pi mm1, xmm2', 'f64'],
      ['cvtsi2ss xmm1, eax', 'i32'], ['cvtsi2ss xmm1, rax', 'i64'], ['cvtsi2ss xmm1, dword ptr [rdi]', 'i32'], ['cvtsi2ss xmm1, qword ptr [rdi]', 'i64'],
      ['cvtsi2sd xmm1, eax', 'i32'], ['cvtsi2sd xmm1, rax', 'i64'], ['cvtsi2sd xmm1, dword ptr [rdi]', 'i32'], ['cvtsi2sd xmm1, qword ptr [rdi]', 'i64'],
      ['cvtss2si eax, xmm2', 'f32'], ['cvtss2si rax, xmm2', 'f32'], ['cvttss2si eax, xmm2', 'f32'], ['cvttss2si rax, [rdi]', 'f32'],
      ['cvtsd2si eax, xmm2', 'f64'], ['cvtsd2si rax, xmm2', 'f64'], ['cvttsd2si eax, [rdi]', 'f64'], ['cvttsd2si rax, xmm2', 'f64'],
      ['cvtsd2si r9d, [rdi]', 'f64'], ['cvttss2si r10, xmm9', 'f32'],
    ];
    const intVal = (bits: number): bigint => {
      switch (r.int(5)) {
        case 0: return BigInt.asUintN(bits, BigInt(r.int(2000) - 1000));
        case 1: return BigInt.asUintN(bits, (1n << BigInt(r.int(bits))) + BigInt(r.int(3) - 1));
        case 2: return BigInt.asUintN(bits, -(1n << BigInt(bits - 1)) + BigInt(r.int(3)));
        default: return r.u64() & ((1n << BigInt(bits)) - 1n);
      }
    };
    /** Values near the integer limits, for float-to-integer conversions. */
    const nearLimit = (bits: 32 | 64, to: number): bigint => {
      const lim = 2 ** (to - 1);
      const v = [lim, -lim, lim - 0.5, -lim - 0.5, lim - 1, -lim + 1, lim * 2, 0.5, 1.5, 2.5, -0.5, -1.5, 0.49999997][r.int(13)]!;
      const b = bits === 32 ? BigInt(new Uint32Array(new Float32Array([v]).buffer)[0]!) : new BigUint64Array(new Float64Array([v]).buffer)[0]!;
      return BigInt.asUintN(bits, b + BigInt(r.int(3) - 1));
    };
    for (const [f, from] of forms) {
      const c = o.code(f);
      for (let k = 0; k < 50; k++) {
        let b: bigint;
        if (from === 'i32' || from === 'i64') {
          const bits = from === 'i32' ? 32 : 64;
          b = 0n;
          for (let l = 0; l < 128 / bits; l++) b |= intVal(bits) << BigInt(l * bits);
        } else {
          const bits = from === 'f32' ? 32 : 64;
          const toInt = /2(dq|pi|si)/.test(f) ? (/rax|r10/.test(f) ? 64 : 32) : 0;
          b = 0n;
          for (let l = 0; l < 128 / bits; l++) b |= (toInt && r.int(3) === 0 ? nearLimit(bits, toInt) : fpVal(r, bits)) << BigInt(l * bits);
        }
        o.add(c, {
          xmm: { 1: vec(r), 2: b, 9: b }, mm: { 2: b & 0xffffffffffffffffn }, mxcsr: mxcsrVal(r),
          regs: { rdi: DATA, rax: b & 0xffffffffffffffffn }, data: bytesOf(b),
        });
      }
    }
    expect(report(o.run(BOTH), 5000)).toBe('');
  });

  it('round*, dpps/dppd, haddp*/hsubp*, addsubp*, shufps/shufpd, unpck*, and/andn/or/xor', () => {
    const o = new Oracle();
    const r = new Rng(743n);
    for (const sh of SHAPES) {
      const bits = bitsOf(sh);
      for (const imm of [...Array.from({ length: 16 }, (_, i) => i), 0x13, 0xf6, 0x8c]) {
        const c = o.code(`round${sh} xmm1, xmm2, ${imm}`);
        for (let k = 0; k < 12; k++) o.add(c, { xmm: { 1: fpVec(r, bits), 2: fpVec(r, bits) }, mxcsr: mxcsrVal(r) });
      }
      const m = o.code(`round${sh} xmm1, [rdi], 4`);
      for (let k = 0; k < 8; k++) {
        const b = fpVec(r, bits);
        o.add(m, { xmm: { 1: fpVec(r, bits) }, mxcsr: mxcsrVal(r), regs: { rdi: DATA }, data: bytesOf(b) });
      }
    }
    for (let imm = 0; imm < 256; imm += 7) {
      for (const f of [`dpps xmm1, xmm2, ${imm}`, `dppd xmm1, xmm2, ${imm & 0x33}`]) {
        const c = o.code(f);
        const bits = f.startsWith('dpps') ? 32 : 64;
        for (let k = 0; k < 6; k++) {
          const a = fpVec(r, bits), b = fpVec(r, bits, a);
          o.add(c, { xmm: { 1: a, 2: b }, mxcsr: mxcsrVal(r) });
        }
      }
    }
    for (const f of ['haddps', 'haddpd', 'hsubps', 'hsubpd', 'addsubps', 'addsubpd']) {
      for (const form of [`${f} xmm1, xmm2`, `${f} xmm1, [rdi]`, `${f} xmm3, xmm3`]) {
        const c = o.code(form);
        const bits = f.endsWith('ps') ? 32 : 64;
        for (let k = 0; k < 40; k++) {
          const a = fpVec(r, bits), b = fpVec(r, bits, a);
          o.add(c, { xmm: { 1: a, 2: b, 3: a }, mxcsr: mxcsrVal(r), regs: { rdi: DATA }, data: bytesOf(b) });
        }
      }
    }
    for (let imm = 0; imm < 256; imm += 3) {
      for (const f of [`shufps xmm1, xmm2, ${imm}`, `shufpd xmm1, xmm2, ${imm & 3}`, `shufps xmm1, xmm1, ${imm}`]) {
        const c = o.code(f);
        o.add(c, { xmm: { 1: vec(r), 2: vec(r) } });
      }
    }
    for (const op of ['unpcklps', 'unpckhps', 'unpcklpd', 'unpckhpd', 'andps', 'andpd', 'andnps', 'andnpd', 'orps', 'orpd', 'xorps', 'xorpd',
      'shufps', 'shufpd']) {
      for (const f of [`${op} xmm1, xmm2`, `${op} xmm1, [rdi]`]) {
        const c = o.code(op.startsWith('shuf') ? `${f}, 0x4e` : f);
        for (let k = 0; k < 6; k++) o.add(c, { xmm: { 1: vec(r), 2: vec(r) }, regs: { rdi: DATA }, data: bytesOf(vec(r)) });
      }
    }
    expect(report(o.run(BOTH), 5000)).toBe('');
  });

  it('rcpps/rsqrtps: every table entry and special operands match the CPU', () => {
    const o = new Oracle();
    const r = new Rng(744n);
    const forms = ['rcpps xmm1, xmm2', 'rsqrtps xmm1, xmm2'];
    const codes = forms.map((f) => o.code(f));
    // 4096 fractions (top 12 bits) x exponent parity, four per case
    for (const c of codes) {
      for (let i = 0; i < 4096; i += 2) {
        const lanes = [0, 1, 2, 3].map((j) => {
          const frac = (BigInt(i + (j & 1)) << 11n) | BigInt(r.int(2048));
          const e = j < 2 ? 127n : 128n;
          return (e << 23n) | frac;
        });
        o.add(c, { xmm: { 2: lanes.reduce((v, x, j) => v | (x << BigInt(32 * j)), 0n) } });
      }
      for (let k = 0; k < 300; k++) o.add(c, { xmm: { 1: vec(r), 2: fpVec(r, 32) }, mxcsr: mxcsrVal(r) });
    }
    for (const f of ['rcpss xmm1, xmm2', 'rsqrtss xmm1, [rdi]']) {
      const c = o.code(f);
      for (let k = 0; k < 100; k++) {
        const b = fpVec(r, 32);
        o.add(c, { xmm: { 1: vec(r), 2: b }, mxcsr: mxcsrVal(r), regs: { rdi: DATA }, data: bytesOf(b) });
      }
    }
    expect(report(o.run(BOTH), 5000)).toBe('');
  });

  it('ldmxcsr/stmxcsr: reserved bits #GP, MM and DAZ accepted', () => {
    const o = new Oracle();
    const r = new Rng(745n);
    const c = o.code('ldmxcsr [rdi]\nstmxcsr [rdi+4]');
    for (const v of [0x1f80, 0, 0xffff, 0x2ffff, 0x10000, 0x20000, 0x40000, 0x80000000, 0x1fbf, 0x7f80, 0x9fc0]) {
      o.add(c, { regs: { rdi: DATA }, data: bytesOf(BigInt(v), 4) });
    }
    for (let k = 0; k < 20; k++) o.add(c, { regs: { rdi: DATA }, data: bytesOf(BigInt(r.int(0x40000)), 4) });
    expect(report(o.run(BOTH), 5000)).toBe('');
  });
});

