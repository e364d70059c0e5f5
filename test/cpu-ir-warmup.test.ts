// The interpreter warm-up (src/cpu/ir/warmup.ts) and the decoder's: every op is in some warm-up program, running
// them touches nothing of the CPU's state but the scratch words, RIP and the instruction count, and they cover the
// cases whose first appearance in a Linux boot deoptimised the interpreter (a 32-bit load of 2^31 or more, a
// 64-bit rotate by 32).
import { describe, expect, it } from 'vitest';
import { OPS, Op } from '../src/cpu/ir/ops.ts';
import { opStarts } from '../src/jit/opt.ts';
import { warmUpInterpreter, warmUpPrograms } from '../src/cpu/ir/warmup.ts';
import { warmUpDecoder } from '../src/decoder/warmup.ts';
import { CPU_EXTRA_BYTES, Cpu } from '../src/cpu/cpu.ts';
import { GuestMemory } from '../src/machine/memory.ts';
import * as L from '../src/cpu/layout.ts';

describe('warm-up', () => {
  it('has a program with each IR op', () => {
    const seen = new Set<number>();
    for (const p of warmUpPrograms(0x1000)) for (const pc of opStarts(p.code)) seen.add(p.code[pc]!);
    expect(OPS.map((d, i) => (seen.has(i) ? '' : d.name)).filter((x) => x)).toEqual([]);
  });

  it('runs them leaving the CPU state alone but for scratch, RIP and the count', () => {
    const mem = new GuestMemory(64 << 10, { extraBytes: CPU_EXTRA_BYTES });
    const none = { ioRead: () => 0xff, ioWrite: () => {}, mmioRead: () => 0xff, mmioWrite: () => {} };
    const cpu = new Cpu(mem, none);
    const state = () => Array.from(cpu.u8.subarray(cpu.stateBase, cpu.stateBase + L.STATE_SIZE));
    const before = state();
    warmUpInterpreter(cpu, 0x1000);
    const after = state();
    const changed = before.flatMap((b, i) => (b !== after[i] ? [i] : []));
    const allowed = (i: number) => (i >= L.SCRATCH && i < L.SCRATCH + 64) || (i >= L.RIP && i < L.RIP + 8);
    expect(changed.filter((i) => !allowed(i))).toEqual([]);
    expect(cpu.icount).toBeGreaterThan(0);
  });

  it('loads 32-bit values of 2^31 and above', () => {
    const mem = new GuestMemory(64 << 10, { extraBytes: CPU_EXTRA_BYTES });
    const none = { ioRead: () => 0xff, ioWrite: () => {}, mmioRead: () => 0xff, mmioWrite: () => {} };
    const cpu = new Cpu(mem, none);
    const read = cpu.read.bind(cpu);
    const big: number[] = [];
    cpu.read = (size, seg, lo, hi, w) => {
      const v = read(size, seg, lo, hi, w);
      if (v >= 2 ** 31) big.push(v);
      return v;
    };
    warmUpInterpreter(cpu, 0x1000);
    expect(big.length).toBeGreaterThan(0);
  });

  it('rotates 64-bit values by exactly 32', () => {
    const counts: number[] = [];
    for (const p of warmUpPrograms(0x1000)) {
      // the constant moved into each temp, then each 64-bit rotate's count operand
      const konst = new Map<number, number>();
      for (const pc of opStarts(p.code)) {
        const o = p.code[pc]!;
        if (o === Op.MOVI64) konst.set(p.code[pc + 1]!, p.code[pc + 2]!);
        if (o === Op.ROTL64 || o === Op.ROTR64) counts.push(konst.get(p.code[pc + 3]!)! & 63);
      }
    }
    expect(counts).toContain(32);
  });

  it('decodes without throwing', () => {
    expect(() => warmUpDecoder()).not.toThrow();
  });
});
