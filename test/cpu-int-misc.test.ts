// setcc/cmovcc, accumulator extensions, enter/leave, pusha/popa, BCD, xadd/cmpxchg/xchg, flag instructions,
// xlat, LOCK forms, 66-prefixed near branches, against this machine's CPU (the native oracle; 32-bit-only
// instructions in compatibility mode).
import { describe, expect, it } from 'vitest';
import { CF, DATA, DF, Oracle, PTR, REGS, Rng, ZF, biased, report, withGarbage, NATIVE_ORACLE } from './util/oracle.ts';

const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

describe.skipIf(!NATIVE_ORACLE.ok)('miscellaneous integer instructions (native oracle)', () => {
  it('setcc and cmovcc on every condition, flags from this block and from an earlier one', () => {
    const o = new Oracle();
    const r = new Rng(40n);
    for (const cc of CC) {
      const codes = [
        o.code(`set${cc} al\nset${cc} ah\nset${cc} byte ptr [rsi]`),
        o.code(`cmov${cc} eax, ebx\ncmov${cc} cx, dx\ncmov${cc} r8, [rsi+8]\ncmov${cc} r9d, [rsi]`),
        // producer in the same block: comparisons and arithmetic feeding the condition
        o.code(`cmp rbx, rcx\nset${cc} al\ncmov${cc} rdx, rbx`),
        o.code(`cmp bl, cl\nset${cc} al\ncmov${cc} edx, ebx`),
        o.code(`sub ebx, ecx\nset${cc} al`),
        o.code(`add bx, cx\nset${cc} al`),
        o.code(`test rbx, rcx\nset${cc} al`),
        o.code(`inc cl\nset${cc} al`),
      ];
      for (const c of codes)
        for (let k = 0; k < 25; k++) {
          const b = biased(r, 64);
          const cv = r.int(4) === 0 ? b : biased(r, 64);
          o.add(c, { regs: { rax: r.u64(), rbx: b, rcx: cv, rdx: r.u64(), r8: r.u64(), r9: r.u64(), rsi: DATA }, flags: r.flags(), data: r.bytes(16) });
        }
    }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('cbw cwde cdqe cwd cdq cqo', () => {
    const o = new Oracle();
    const r = new Rng(41n);
    for (const op of ['cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo']) {
      const c = o.code(op);
      for (let k = 0; k < 40; k++) o.add(c, { regs: { rax: biased(r, 64), rdx: r.u64() } });
    }
    expect(report(o.run())).toBe('');
  });

  it('enter (nesting levels, 16-bit operand size) and leave', () => {
    const o = new Oracle();
    const r = new Rng(42n);
    for (const level of [0, 1, 2, 3, 7, 31, 32 + 2]) {
      // 0x1234 bytes do not fit below rSP in the data area: the final stack pointer is not writable, #PF
      for (const [alloc, pfx] of [[0, ''], [24, ''], [0x1234, ''], [8, 'data16 ']] as const) {
        const c = o.code(`${pfx}enter ${alloc}, ${level}`);
        for (let k = 0; k < 3; k++) {
          o.add(c, { regs: { rsp: BigInt(DATA + 0x400 + 8 * r.int(8)), rbp: BigInt(DATA + 0x600 + 8 * r.int(16)) }, data: r.bytes(0x800) });
        }
      }
    }
    // 32-bit code: a 4-byte stack
    for (const src of ['enter 12, 0', 'enter 8, 3', 'enterw 6, 2', 'leave', 'leavew', 'enter 16, 2\nleave']) {
      const c = o.code(src, { bits: 32 });
      for (let k = 0; k < 4; k++) o.add(c, { regs: { rsp: BigInt(DATA + 0x400 + 4 * r.int(8)), rbp: BigInt(DATA + 0x600 + 4 * r.int(16)) }, data: r.bytes(0x800) });
    }
    const lv = o.code('leave');
    const lv16 = o.code('data16 leave');
    const pair = o.code('enter 32, 3\nmov [rbp-8], rax\nleave\nenter 16, 0\nleave');
    for (let k = 0; k < 10; k++) {
      const init = { regs: { rsp: BigInt(DATA + 0x400), rbp: BigInt(DATA + 0x500 + 8 * r.int(16)), rax: r.u64() }, data: r.bytes(0x800) };
      o.add(lv, init);
      o.add(lv16, init);
      o.add(pair, init);
    }
    expect(report(o.run())).toBe('');
  });

  it('pusha/popa and BCD adjustments (compatibility mode)', () => {
    const o = new Oracle();
    const r = new Rng(43n);
    for (const src of ['pusha', 'popa', 'pushaw', 'popaw', 'pusha\npopa', 'xchg eax, ebx\npushaw\npopa']) {
      const c = o.code(src, { bits: 32 });
      for (let k = 0; k < 6; k++) {
        const regs: Record<string, bigint> = {};
        for (const n of ['rax', 'rcx', 'rdx', 'rbx', 'rbp', 'rsi', 'rdi']) regs[n] = r.u64() & 0xffffffffn;
        o.add(c, { regs: { ...regs, rsp: BigInt(DATA + 0x100 + 4 * r.int(16)) }, data: r.bytes(0x200) });
      }
    }
    // every AL with AF/CF combinations, a random AH; aam with a base of 0 is #DE
    for (const op of ['daa', 'das', 'aaa', 'aas', 'aam', 'aad', 'aam 7', 'aad 13', 'aam 0', 'aad 0', 'aam 255']) {
      const c = o.code(op, { bits: 32 });
      for (let al = 0; al < 256; al += op.includes(' ') ? 5 : 1)
        for (const f of [0, CF, 0x10, CF | 0x10]) o.add(c, { regs: { rax: BigInt((r.int(256) << 8) | al) }, flags: f | (r.flags() & 0x8c4) });
    }
    const res = o.run();
    expect(report(res)).toBe('');
    expect(res.native.filter((x) => x.vector === 0).length).toBe(52 * 4); // aam 0: #DE
  });

  it('xadd, cmpxchg, cmpxchg8b/16b, xchg, with and without LOCK', () => {
    const o = new Oracle();
    const r = new Rng(44n);
    for (const size of [1, 2, 4, 8]) {
      const [a, b, c] = [REGS[size]![0], REGS[size]![3], REGS[size]![1]];
      const forms = [`xadd ${b}, ${c}`, `xadd ${b}, ${b}`, `lock xadd ${PTR[size]} [rsi], ${c}`, `cmpxchg ${b}, ${c}`,
        `cmpxchg ${a}, ${c}`, `lock cmpxchg ${PTR[size]} [rsi], ${c}`, `xchg ${b}, ${c}`, `xchg ${PTR[size]} [rsi], ${c}`, `xchg ${a}, ${a}`];
      for (const f of forms) {
        const code = o.code(f);
        for (let k = 0; k < 40; k++) {
          const v = biased(r, size * 8);
          const eq = r.int(2) === 0;
          const data = new Uint8Array(16);
          const mv = eq ? v : biased(r, size * 8);
          for (let i = 0; i < size; i++) data[i] = Number((mv >> BigInt(8 * i)) & 0xffn);
          o.add(code, { regs: { rax: withGarbage(r, v, size * 8), rbx: withGarbage(r, eq ? v : biased(r, 64), size * 8), rcx: r.u64(), rsi: DATA }, data, flags: r.flags() });
        }
      }
    }
    for (const f of ['cmpxchg8b [rsi]', 'lock cmpxchg8b [rsi+8]', 'cmpxchg16b [rsi]', 'lock cmpxchg16b [rsi+16]', 'cmpxchg16b [rsi+8]']) {
      const code = o.code(f);
      for (let k = 0; k < 30; k++) {
        const eq = r.int(2) === 0;
        const [x, y] = [r.u64(), r.u64()];
        const data = new Uint8Array(48);
        const dv = new DataView(data.buffer);
        for (const off of [0, 8, 16, 24]) dv.setBigUint64(off, r.u64(), true);
        const off = f.includes('+16') ? 16 : f.includes('+8') ? 8 : 0;
        if (eq) {
          dv.setBigUint64(off, f.includes('8b') ? (x & 0xffffffffn) | ((y & 0xffffffffn) << 32n) : x, true);
          if (!f.includes('8b')) dv.setBigUint64(off + 8, y, true);
        }
        o.add(code, { regs: { rax: x, rdx: y, rbx: r.u64(), rcx: r.u64(), rsi: DATA }, data, flags: r.flags() });
      }
    }
    const res = o.run();
    expect(report(res)).toBe('');
    expect(res.native.filter((x) => x.vector === 13).length).toBe(30); // misaligned cmpxchg16b: #GP(0)
  });

  it('clc stc cmc cld std, sahf lahf, xlat', () => {
    const o = new Oracle();
    const r = new Rng(45n);
    const codes = [
      o.code('clc'), o.code('stc'), o.code('cmc'), o.code('cld'), o.code('std\nmov eax, 1'), o.code('std\ncld'),
      o.code('sahf'), o.code('lahf'), o.code('add eax, ebx\nlahf\nsahf\nsetc cl\nseto ch'), o.code('cmc\ncmc\ncmc\nadc ebx, 0'),
      o.code('xlat'), o.code('xlatb'), o.code('fs xlat'), o.code('addr32 xlat'),
    ];
    for (const c of codes)
      for (let k = 0; k < 30; k++) {
        o.add(c, {
          regs: { rax: r.u64(), rbx: (r.int(2) ? 0xffff_ffff_0000_0000n : 0n) | BigInt(DATA + r.int(16)), rcx: r.u64() },
          flags: r.flags() | (r.int(2) ? DF : 0), data: r.bytes(0x110), fsBase: 0x20,
        });
      }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('NOP forms and LOCK prefixes where they are not allowed (#UD)', () => {
    const o = new Oracle();
    const codes = [
      o.code('nop'), o.code('nop dword ptr [rax+rax*1+0]'), o.code('nop word ptr cs:[rax+rax*1+0]'), o.code('pause'),
      o.code('.byte 0x48, 0x90', { label: 'rex.w nop' }), o.code('.byte 0x0f, 0x1f, 0xc0', { label: 'nop eax' }),
      o.code('.byte 0x66, 0x90', { label: 'xchg ax, ax' }), o.code('.byte 0x0f, 0x19, 0xc0', { label: 'hint nop 0f 19' }),
      // prefetches (never fault, even on unmapped addresses), cldemote, MPX forms (NOPs without MPX)
      o.code('prefetchnta [rsi]\nprefetcht0 [rax]\nprefetcht1 [rsi]\nprefetcht2 [rsi]\nprefetchw [rax]\nprefetch [rax]'),
      o.code('.byte 0x0f, 0x0d, 0x10, 0x0f, 0x1c, 0x06, 0x0f, 0x1a, 0x06, 0x0f, 0x1b, 0x06, 0xf3, 0x0f, 0x1b, 0x06, 0xf2, 0x0f, 0x1a, 0x06, 0x66, 0x0f, 0x1a, 0xc1',
        { label: 'prefetchwt1, cldemote, bndldx, bndstx, bndmk, bndcu, bndmov' }),
      o.code('.byte 0xf0, 0x01, 0xd8', { label: 'lock add eax, ebx' }), o.code('.byte 0xf0, 0x0f, 0xa3, 0x06', { label: 'lock bt [rsi], eax' }),
      o.code('.byte 0xf0, 0x90', { label: 'lock nop' }),
    ];
    for (const c of codes) o.add(c, { regs: { rsi: BigInt(DATA), rax: 0x12345678n }, flags: 0x8d5 });
    const res = o.run();
    expect(report(res)).toBe('');
    expect(res.native.map((x) => x.vector)).toEqual([-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 6, 6, 6]);
  });

  it('near branches with a 66 prefix: rel16, 16-bit targets and return addresses, as on AMD (also in 64-bit mode)', () => {
    // Intel ignores 66 on JMP/CALL rel and Jcc in 64-bit mode (rel32, 64-bit targets); AMD, this host, does not.
    // The snippets run at 0x6000xx, so every 16-bit target is in the unmapped low 64 KiB: #PF there, at the
    // target, after CALL's 2-byte push or RET's 2-byte pop. Not-taken Jcc/LOOP/JCXZ show the rel16/rel8 length.
    const o = new Oracle();
    const forms: [string, string][] = [
      ['jmpw rel16', '0x66, 0xe9, 0x34, 0x12'], ['callw rel16', '0x66, 0xe8, 0x34, 0x12'], ['retw', '0x66, 0xc3'],
      ['retw 16', '0x66, 0xc2, 0x10, 0x00'], ['je rel16', '0x66, 0x0f, 0x84, 0x00, 0x10'], ['je rel8', '0x66, 0x74, 0x10'],
      ['jmp rel8', '0x66, 0xeb, 0x10'], ['loop rel8', '0x66, 0xe2, 0x10'], ['jrcxz/jecxz rel8', '0x66, 0xe3, 0x10'],
      ['jmp bx', '0x66, 0xff, 0xe3'], ['call bx', '0x66, 0xff, 0xd3'], ['jmp word [rsi]', '0x66, 0xff, 0x26'],
      ['call word [rsi]', '0x66, 0xff, 0x16'],
    ];
    // the return addresses RET pops at DATA + 8, the pointer JMP/CALL [rsi] reads at DATA + 0x20
    const data = new Uint8Array(0x24);
    data.set([0x34, 0x12, 0x78, 0x56], 8);
    data.set([0xcd, 0xab, 0x11, 0x22], 0x20);
    for (const bits of [64, 32] as const) {
      for (const [name, bytes] of forms) {
        const c = o.code(`.byte ${bytes}\nmov eax, 1`, { bits, label: `${bits}-bit: 66 ${name}` });
        for (const [flags, rcx] of [[0, 5n], [ZF, 1n], [0, 0n], [0, 0x10000n]] as const) {
          o.add(c, { regs: { rsp: DATA + 8, rcx, rbx: 0x12345678n, rsi: DATA + 0x20 }, flags, data });
        }
      }
    }
    // REX.W after 66: 64-bit operand size again (rel32, a 64-bit target)
    for (const bytes of ['0x66, 0x48, 0xe9, 0, 0, 0, 0', '0x66, 0x48, 0xe8, 0, 0, 0, 0', '0x66, 0x48, 0xff, 0xe3']) {
      o.add(o.code(`.byte ${bytes}\nmov eax, 1`), { regs: { rsp: DATA + 0x10, rbx: 0x12345678n } });
    }
    const res = o.run({ jit: 'both' });
    expect(report(res)).toBe('');
    expect(res.native.filter((x) => x.vector === 14 && x.rip < 0x10000n).length).toBeGreaterThan(70);
  });
});
