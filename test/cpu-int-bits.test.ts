// Bit instructions against this machine's CPU (the native oracle): bt/bts/btr/btc, bsf/bsr, popcnt/lzcnt/tzcnt,
// bswap, movbe, BMI1/BMI2, ADX, crc32.
import { describe, expect, it } from 'vitest';
import { DATA, Oracle, PTR, REGS, Rng, biased, edgeValues, report, withGarbage, NATIVE_ORACLE } from './util/oracle.ts';

describe.skipIf(!NATIVE_ORACLE.ok)('bit instructions (native oracle)', () => {
  it('bt/bts/btr/btc: register, immediate and memory forms, offsets beyond the operand', () => {
    const o = new Oracle();
    const r = new Rng(20n);
    for (const op of ['bt', 'bts', 'btr', 'btc'])
      for (const size of [2, 4, 8]) {
        const [a, b] = [REGS[size]![0], REGS[size]![3]];
        const reg = o.code(`${op} ${a}, ${b}`);
        const mem = o.code(`${op} ${PTR[size]} [rsi], ${b}`);
        const imm = o.code(`${op} ${a}, ${r.int(256)}`);
        const memImm = o.code(`${op} ${PTR[size]} [rsi+3], ${r.int(256)}`);
        const lock = o.code(`lock ${op === 'bt' ? 'bts' : op} ${PTR[size]} [rsi], ${b}`);
        for (let k = 0; k < 60; k++) {
          o.add(reg, { regs: { rax: biased(r, 64), rbx: biased(r, 64) }, flags: r.flags() });
          o.add(imm, { regs: { rax: biased(r, 64) }, flags: r.flags() });
          // signed bit offsets reaching up to +-0x200 bytes around [rsi]
          const off = BigInt(r.int(0x2000) - 0x1000);
          const data = r.bytes(0x400);
          o.add(mem, { regs: { rsi: DATA + 0x200, rbx: withGarbage(r, BigInt.asUintN(size * 8, off), size * 8) }, flags: r.flags(), data });
          o.add(lock, { regs: { rsi: DATA + 0x200, rbx: withGarbage(r, BigInt.asUintN(size * 8, off), size * 8) }, flags: r.flags(), data });
          o.add(memImm, { regs: { rsi: DATA }, flags: r.flags(), data: r.bytes(16) });
        }
      }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('bsf/bsr/popcnt/lzcnt/tzcnt, zero sources included', () => {
    const o = new Oracle();
    const r = new Rng(21n);
    for (const op of ['bsf', 'bsr', 'popcnt', 'lzcnt', 'tzcnt'])
      for (const size of [2, 4, 8]) {
        const [a, b] = [REGS[size]![0], REGS[size]![3]];
        const reg = o.code(`${op} ${a}, ${b}`);
        const mem = o.code(`${op} ${a}, ${PTR[size]} [rsi]`);
        for (const v of edgeValues(size * 8)) o.add(reg, { regs: { rax: r.u64(), rbx: withGarbage(r, v, size * 8) }, flags: r.flags() });
        for (let k = 0; k < 100; k++) {
          o.add(reg, { regs: { rax: r.u64(), rbx: r.int(5) ? biased(r, 64) : withGarbage(r, 0n, size * 8) }, flags: r.flags() });
          o.add(mem, { regs: { rax: r.u64(), rsi: DATA }, data: r.int(4) ? r.bytes(8) : new Uint8Array(8), flags: r.flags() });
        }
      }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('bswap (16-bit too), movbe', () => {
    const o = new Oracle();
    const r = new Rng(22n);
    const codes = [o.code('bswap eax'), o.code('bswap rax'), o.code('bswap r9'), o.code('.byte 0x66, 0x0f, 0xc8', { label: 'bswap ax' }),
      o.code('movbe ax, [rsi]'), o.code('movbe eax, [rsi+1]'), o.code('movbe rax, [rsi+2]'),
      o.code('movbe [rsi], bx'), o.code('movbe [rsi+3], ebx'), o.code('movbe [rsi+1], rbx')];
    for (const c of codes) for (let k = 0; k < 30; k++) o.add(c, { regs: { rax: r.u64(), rbx: r.u64(), r9: r.u64(), rsi: DATA }, data: r.bytes(16) });
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('BMI1 and BMI2', () => {
    const o = new Oracle();
    const r = new Rng(23n);
    for (const size of [4, 8]) {
      const [a, b, c] = [REGS[size]![0], REGS[size]![3], REGS[size]![1]];
      const ctl = () => BigInt(r.int(3) ? (r.int(80) << 8) | r.int(80) : r.int(0x10000)) | (r.u64() & ~0xffffn);
      const forms: [string, () => Record<string, bigint>][] = [
        [`andn ${a}, ${b}, ${c}`, () => ({ rbx: biased(r, 64), rcx: biased(r, 64) })],
        [`andn ${a}, ${b}, ${PTR[size]} [rsi]`, () => ({ rbx: biased(r, 64) })],
        [`bextr ${a}, ${b}, ${c}`, () => ({ rbx: biased(r, 64), rcx: ctl() })],
        [`bextr ${a}, ${PTR[size]} [rsi], ${c}`, () => ({ rcx: ctl() })],
        [`blsi ${a}, ${b}`, () => ({ rbx: biased(r, 64) })],
        [`blsmsk ${a}, ${b}`, () => ({ rbx: biased(r, 64) })],
        [`blsr ${a}, ${PTR[size]} [rsi]`, () => ({})],
        [`blsr ${a}, ${b}`, () => ({ rbx: biased(r, 64) })],
        [`bzhi ${a}, ${b}, ${c}`, () => ({ rbx: biased(r, 64), rcx: ctl() })],
        [`mulx ${a}, ${b}, ${c}`, () => ({ rdx: biased(r, 64), rcx: biased(r, 64) })],
        [`mulx ${a}, ${a}, ${c}`, () => ({ rdx: biased(r, 64), rcx: biased(r, 64) })],
        [`mulx ${b}, ${a}, ${PTR[size]} [rsi]`, () => ({ rdx: biased(r, 64) })],
        [`pdep ${a}, ${b}, ${c}`, () => ({ rbx: biased(r, 64), rcx: biased(r, 64) })],
        [`pext ${a}, ${b}, ${c}`, () => ({ rbx: biased(r, 64), rcx: biased(r, 64) })],
        [`pext ${a}, ${b}, ${PTR[size]} [rsi]`, () => ({ rbx: biased(r, 64) })],
        [`rorx ${a}, ${b}, ${r.int(64)}`, () => ({ rbx: biased(r, 64) })],
        [`sarx ${a}, ${b}, ${c}`, () => ({ rbx: biased(r, 64), rcx: r.u64() })],
        [`shlx ${a}, ${b}, ${c}`, () => ({ rbx: biased(r, 64), rcx: r.u64() })],
        [`shrx ${a}, ${PTR[size]} [rsi], ${c}`, () => ({ rcx: r.u64() })],
        [`tzcnt ${a}, ${b}`, () => ({ rbx: biased(r, 64) })],
      ];
      for (const [src, gen] of forms) {
        const code = o.code(src);
        for (let k = 0; k < 80; k++) o.add(code, { regs: { rax: r.u64(), rsi: DATA, ...gen() }, data: r.bytes(8), flags: r.flags() });
      }
    }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('adcx/adox chains, crc32', () => {
    const o = new Oracle();
    const r = new Rng(24n);
    const codes = [
      o.code('adcx eax, ebx'), o.code('adox eax, ebx'), o.code('adcx rax, rbx'), o.code('adox rax, [rsi]'),
      o.code('adcx rax, rbx\nadox rcx, rdx\nadcx rax, rbx\nadox rcx, rdx'),
      o.code('crc32 eax, bl'), o.code('crc32 eax, bx'), o.code('crc32 eax, ebx'), o.code('crc32 rax, rbx'),
      o.code('crc32 rax, byte ptr [rsi]'), o.code('crc32 eax, word ptr [rsi]'), o.code('crc32 eax, dword ptr [rsi]'), o.code('crc32 rax, qword ptr [rsi]'),
    ];
    for (const c of codes)
      for (let k = 0; k < 60; k++) o.add(c, { regs: { rax: biased(r, 64), rbx: biased(r, 64), rcx: biased(r, 64), rdx: biased(r, 64), rsi: DATA }, data: r.bytes(8), flags: r.flags() });
    const res = o.run();
    expect(report(res)).toBe('');
  });
});
