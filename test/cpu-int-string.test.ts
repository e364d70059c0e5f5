// String instructions against this machine's CPU (the native oracle): movs/cmps/scas/lods/stos in every element
// size, with and without REP/REPE/REPNE, both directions, 32-bit address size, segment overrides, counts 0..n.
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.ts';
import { buildKernel } from './loader-build.ts';
import { assemble } from './util/gnu.ts';
import { DATA, DF, Oracle, Rng, report, NATIVE_ORACLE } from './util/oracle.ts';

const SFX: Record<number, string> = { 1: 'b', 2: 'w', 4: 'd', 8: 'q' };

describe.skipIf(!NATIVE_ORACLE.ok)('string instructions (native oracle)', () => {
  it('single and repeated movs/stos/lods in all sizes and both directions', () => {
    const o = new Oracle();
    const r = new Rng(30n);
    for (const size of [1, 2, 4, 8])
      for (const op of ['movs', 'stos', 'lods'])
        for (const pfx of ['', 'rep ', 'repne ', 'addr32 rep ', 'fs ', 'rep fs ']) {
          if (op === 'stos' && pfx.includes('fs')) continue; // the destination segment cannot be overridden
          const c = o.code(`${pfx}${op}${SFX[size]}`);
          for (let k = 0; k < 12; k++) {
            const df = r.int(2) ? DF : 0;
            const n = BigInt(r.pick([0, 1, 2, 3, 7, 16, 33]));
            // rsi/rdi in the middle of a 0x400-byte area so both directions stay inside
            const hi = pfx.includes('addr32') ? 0xdead_0000_0000_0000n : 0n; // the upper halves are ignored and cleared
            o.add(c, {
              regs: { rsi: hi | BigInt(DATA + 0x100 + r.int(64)), rdi: hi | BigInt(DATA + 0x280 + r.int(64)), rcx: (pfx.includes('addr32') ? hi : 0n) | n, rax: r.u64() },
              flags: r.flags() | df, data: r.bytes(0x400),
              // with an FS override the source is read through an FS base of 0x40
              fsBase: pfx.includes('fs') ? 0x40 : undefined,
            });
          }
        }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('cmps/scas with REPE/REPNE stop at the first (mis)match or when rCX runs out', () => {
    const o = new Oracle();
    const r = new Rng(31n);
    for (const size of [1, 2, 4, 8])
      for (const op of ['cmps', 'scas'])
        for (const pfx of ['', 'repe ', 'repne ', 'addr32 repe ']) {
          const c = o.code(`${pfx}${op}${SFX[size]}`);
          for (let k = 0; k < 20; k++) {
            const df = r.int(3) === 0 ? DF : 0;
            // two similar buffers: runs of equal elements with the occasional difference
            const a = r.bytes(0x100);
            const b = a.map((x) => (r.int(40) === 0 ? r.int(256) : x));
            const data = new Uint8Array(0x400);
            data.set(a, 0x100);
            data.set(b, 0x280);
            const fill = r.int(3) === 0 ? 0n : BigInt(r.int(256)) * 0x0101010101010101n; // scas: a repeated pattern
            if (fill && op === 'scas') data.fill(Number(fill & 0xffn), 0x280, 0x280 + r.int(0x100));
            o.add(c, {
              regs: { rsi: BigInt(DATA + 0x180), rdi: BigInt(DATA + 0x300), rcx: BigInt(r.pick([0, 1, 5, 40, 100])), rax: fill || r.u64() },
              flags: r.flags() | df, data,
            });
          }
        }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('long REP MOVS/STOS (the bulk path): page crossings, overlaps, both directions, odd alignments', () => {
    const o = new Oracle();
    const r = new Rng(32n);
    for (const size of [1, 2, 4, 8])
      for (const op of ['movs', 'stos']) {
        const c = o.code(`rep ${op}${SFX[size]}`);
        for (let k = 0; k < 40; k++) {
          const df = r.int(2) ? DF : 0;
          const n = r.int(0x900 / size);
          // addresses anywhere in the 0x2000..0xe000 middle of the area, so overlaps of every kind happen
          const si = DATA + 0x2000 + r.int(0xc000 - 0x900);
          const di = r.int(3) === 0 ? si + r.int(33) - 16 : DATA + 0x2000 + r.int(0xc000 - 0x900);
          o.add(c, {
            regs: { rsi: BigInt(di < 0 ? si : si), rdi: BigInt(df ? di + 0x900 : di), rcx: BigInt(n), rax: r.u64() },
            flags: r.flags() | df, data: r.bytes(0x10000), outLen: 0x10000,
          });
        }
      }
    // a copy over the code that follows it (self-modifying code): the new bytes run
    const smc = o.code('lea rdi, [rip+2f]\nlea rsi, [rip+1f]\nmov ecx, 3\nrep movsb\n2: nop\nnop\nnop\njmp 3f\n1: inc eax\nnop\n3:');
    o.add(smc, { regs: { rax: 5n } });
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('a REP interrupted by a fault leaves the registers of the faulting iteration', () => {
    const o = new Oracle();
    // the copy runs off the end of the data area into unmapped memory
    const c = o.code('rep movsb');
    o.add(c, { regs: { rsi: BigInt(DATA), rdi: BigInt(DATA + 0x10000 - 5), rcx: 20n }, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
    const c2 = o.code('rep stosq');
    o.add(c2, { regs: { rdi: BigInt(DATA + 0x10000 - 24), rcx: 10n, rax: 0x1122334455667788n } });
    const c3 = o.code('std\nrep lodsd\ncld');
    o.add(c3, { regs: { rsi: BigInt(DATA + 8), rcx: 10n } });
    // long runs that leave the mapped area after several pages, both directions
    const c4 = o.code('rep movsq');
    o.add(c4, { regs: { rsi: BigInt(DATA), rdi: BigInt(DATA + 0x8000 + 4), rcx: 0x2000n }, data: new Uint8Array(0x8000).fill(7), outLen: 0x10000 });
    const c5 = o.code('std\nrep stosw\ncld');
    o.add(c5, { regs: { rdi: BigInt(DATA + 0x3001), rcx: 0x2000n, rax: 0xabcdn }, outLen: 0x10000 });
    const c6 = o.code('rep movsb');
    o.add(c6, { regs: { rsi: BigInt(DATA + 0x9000), rdi: BigInt(DATA), rcx: 0x8000n }, data: new Uint8Array(0x10000).fill(3), outLen: 0x10000 });
    const res = o.run();
    expect(report(res)).toBe('');
    expect(res.kemu.map((x) => x.vector)).toEqual([14, 14, 14, 14, 14, 14]);
  });
});

describe('string instructions with a 16-bit address size (kemu only: Linux cannot map the low 64 KiB)', () => {
  // 32-bit code with 67 prefixes: SI/DI/CX wrap at 64 KiB and their upper halves are kept
  function run(src: string, regs: Partial<Record<'eax' | 'ecx' | 'ebx' | 'esi' | 'edi', number>>, df = false) {
    const m = new Machine({ ramSize: 16 << 20, output: () => {} });
    m.load(buildKernel('.globl _start\n_start: hlt\n', { bits: 64 }));
    const st = m.cpu.getState();
    const idx = { eax: 0, ecx: 1, ebx: 3, esi: 6, edi: 7 } as const;
    const gpr = st.gpr.slice();
    for (const [k, v] of Object.entries(regs)) gpr[idx[k as keyof typeof idx]] = BigInt(v >>> 0);
    m.cpu.setState({ ...st, gpr, rip: 0x200000n, rflags: df ? 0x402n : 2n, cs: { ...st.cs, l: false, db: true } });
    const mem = m.board.memory;
    mem.write(0x200000, assemble(`${src}\nhlt`, 32));
    mem.write(0xfffc, new Uint8Array([0xa1, 0xa2, 0xa3, 0xa4]));
    mem.write(0x10000, new Uint8Array([0xb0, 0xb1, 0xb2, 0xb3]));
    mem.write(0x0, new Uint8Array([0xc0, 0xc1, 0xc2, 0xc3]));
    expect(m.run(1000).kind).toBe('halt');
    const s = m.cpu.getState();
    const r32 = (i: number) => Number(s.gpr[i]! & 0xffffffffn);
    return { eax: r32(0), ecx: r32(1), esi: r32(6), edi: r32(7), mem };
  }

  it('rep movsb wraps SI at 0xffff, keeps the upper halves', () => {
    const r = run('addr16 rep movsb', { esi: 0x1234fffe, edi: 0x56782000, ecx: 0xabcd0004 });
    expect(Array.from(r.mem.read(0x2000, 4))).toEqual([0xa3, 0xa4, 0xc0, 0xc1]);
    expect(r.esi.toString(16)).toBe('12340002');
    expect(r.edi.toString(16)).toBe('56782004');
    expect(r.ecx.toString(16)).toBe('abcd0000');
  });

  it('backwards through 0, and xlat/lods addresses', () => {
    const r = run('addr16 rep movsb', { esi: 0x1, edi: 0x2003, ecx: 4 }, true);
    expect(Array.from(r.mem.read(0x2000, 4))).toEqual([0xa3, 0xa4, 0xc0, 0xc1]);
    expect(r.esi).toBe(0xfffd);
    const x = run('addr16 xlat', { ebx: 0x7777ffff, eax: 0x02 });
    expect(x.eax & 0xff).toBe(0xc1);
    // an element at 0xffff is read across 0x10000 (only the offset wraps, not the access)
    const l = run('addr16 lodsw', { esi: 0xffff });
    expect(l.eax & 0xffff).toBe(0xb0a4);
    expect(l.esi).toBe(0x1);
  });
});
