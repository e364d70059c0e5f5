// Shifts and rotates against this machine's CPU (the native oracle): every size, register and memory
// destinations, counts 0..65 in CL and as immediates, all flags.
import { describe, expect, it } from 'vitest';
import { DATA, Oracle, PTR, REGS, Rng, biased, report, withGarbage, NATIVE_ORACLE } from './util/oracle.ts';

const SIZES = [1, 2, 4, 8] as const;

describe.skipIf(!NATIVE_ORACLE.ok)('shifts and rotates (native oracle)', () => {
  it('shl/sal/shr/sar/rol/ror/rcl/rcr by CL, all counts and sizes', () => {
    const o = new Oracle();
    const r = new Rng(1n);
    for (const op of ['shl', 'sal', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr'])
      for (const size of SIZES) {
        const reg = o.code(`${op} ${REGS[size]![0]}, cl`);
        const mem = o.code(`${op} ${PTR[size]} [rsi+8], cl`);
        for (let cnt = 0; cnt < 66; cnt++) {
          for (let k = 0; k < 3; k++) {
            const v = biased(r, size * 8);
            // CL holds the count; the bits above it must not matter
            const rcx = withGarbage(r, BigInt(cnt), 8);
            o.add(reg, { regs: { rax: withGarbage(r, v, size * 8), rcx }, flags: r.flags() });
          }
          const data = r.bytes(24);
          o.add(mem, { regs: { rsi: DATA, rcx: BigInt(cnt) }, flags: r.flags(), data });
        }
      }
    const res = o.run();
    expect(res.count).toBeGreaterThan(8000);
    expect(report(res)).toBe('');
  });

  it('immediate counts and the count-1 forms', () => {
    const o = new Oracle();
    const r = new Rng(2n);
    for (const op of ['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr'])
      for (const size of SIZES) {
        const one = o.code(`${op} ${REGS[size]![3]}, 1`);
        for (let k = 0; k < 30; k++) o.add(one, { regs: { rbx: biased(r, 64) }, flags: r.flags() });
        for (const cnt of [0, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 200, 255]) {
          const c = o.code(`${op} ${REGS[size]![3]}, ${cnt}`);
          for (let k = 0; k < 6; k++) o.add(c, { regs: { rbx: biased(r, 64) }, flags: r.flags() });
        }
      }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('shld/shrd with CL and immediates, 16/32/64-bit, register and memory', () => {
    const o = new Oracle();
    const r = new Rng(3n);
    for (const op of ['shld', 'shrd'])
      for (const size of [2, 4, 8]) {
        const [a, b] = [REGS[size]![0], REGS[size]![3]];
        const reg = o.code(`${op} ${a}, ${b}, cl`);
        const mem = o.code(`${op} ${PTR[size]} [rdi], ${b}, cl`);
        for (let cnt = 0; cnt < 66; cnt++)
          for (let k = 0; k < 4; k++) {
            o.add(reg, { regs: { rax: biased(r, 64), rbx: biased(r, 64), rcx: withGarbage(r, BigInt(cnt), 8) }, flags: r.flags() });
            if (k === 0) o.add(mem, { regs: { rdi: DATA + 3, rbx: biased(r, 64), rcx: BigInt(cnt) }, flags: r.flags(), data: r.bytes(16) });
          }
        for (const cnt of [0, 1, 4, 15, 16, 17, 31, 32, 63]) {
          const c = o.code(`${op} ${a}, ${b}, ${cnt}`);
          for (let k = 0; k < 8; k++) o.add(c, { regs: { rax: biased(r, 64), rbx: biased(r, 64) }, flags: r.flags() });
        }
      }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('flags produced in the same block feed the next instruction', () => {
    // the translator knows the producer statically here: exercise the inline flag formulas through jcc/setcc/adc
    const o = new Oracle();
    const r = new Rng(4n);
    for (const op of ['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr']) {
      const c = o.code(`${op} eax, cl\nsetc dl\nseto dh\nsets bl\nsetz bh\nsetp r8b\nadc r9, 0\nlahf`);
      for (let k = 0; k < 80; k++) o.add(c, { regs: { rax: biased(r, 64), rcx: BigInt(r.int(40)), r9: 0n }, flags: r.flags() });
    }
    const res = o.run();
    expect(report(res)).toBe('');
  });
});
