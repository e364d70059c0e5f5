// The JIT against the IR interpreter: random IR programs and blocks translated from real guest code run both
// ways from the same memory snapshot; outcome (normal exit or guest fault), instruction count and all memory
// (RAM, CPU state block, TLB) must be identical.
import { describe, expect, it } from 'vitest';
import { OPS } from '../src/cpu/ir/ops.ts';
import { handledOps } from '../src/jit/codegen.ts';
import { JitRig, Rng } from './jit-rig.ts';
import { checkDefs, randomProgram, type GenOptions } from './jit-gen.ts';
import { asmLines } from './jit-asm.ts';
import { decode, newInstruction } from '../src/decoder/decode.ts';
import { translateBlock } from '../src/cpu/frontend/block.ts';

function fuzz(rig: JitRig, seed: number, n: number, o: GenOptions, inlineTlb = true): string[] {
  const rng = new Rng(seed);
  const bad: string[] = [];
  for (let i = 0; i < n && bad.length < 1; i++) {
    const p = randomProgram(rng, o);
    const defs = checkDefs(p);
    if (defs) throw new Error(`generator: ${defs}`);
    const d = rig.compare(p, inlineTlb);
    if (d) bad.push(`program ${i} (seed ${seed}):\n${d}`);
  }
  return bad;
}

describe('JIT codegen coverage', () => {
  it('has code for every IR op', () => {
    const missing = OPS.map((d, i) => (handledOps().has(i) ? null : d.name)).filter((x) => x);
    expect(missing).toEqual([]);
  });
});

describe('JIT vs interpreter: random IR', () => {
  const rig = new JitRig();
  it('arithmetic and state', () => {
    expect(fuzz(rig, 11, 300, { ops: 60 })).toEqual([]);
  });
  it('with guest memory', () => {
    expect(fuzz(rig, 12, 300, { ops: 60, memory: true })).toEqual([]);
  });
  it('with helpers, raises and RIP access', () => {
    expect(fuzz(rig, 13, 200, { ops: 80, memory: true, helpers: true })).toEqual([]);
    expect(fuzz(rig, 14, 100, { ops: 80, memory: true, helpers: true, ripAccess: true })).toEqual([]);
  });
  it('without the inline TLB', () => {
    expect(fuzz(rig, 15, 100, { ops: 60, memory: true, helpers: true }, false)).toEqual([]);
  });
  it('at CPL 3', () => {
    expect(fuzz(new JitRig({ user: true, seed: 2 }), 16, 150, { ops: 60, memory: true, helpers: true })).toEqual([]);
  });
  it('in compatibility mode', () => {
    expect(fuzz(new JitRig({ compat: true, seed: 3 }), 17, 100, { ops: 60, memory: true, helpers: true })).toEqual([]);
  });
});

describe('JIT vs interpreter: blocks of real guest code', () => {
  it('translated from random instruction sequences', () => {
    const rng = new Rng(21);
    const lines = asmLines(rng, 400);
    const rig = new JitRig({ kernel: `.intel_syntax noprefix\n.globl _start\n_start:\n${lines.join('\n')}\n.byte 0xcc,0xcc,0xcc,0xcc\n` });
    const cpu = rig.cpu;
    const code = cpu.u8.subarray(0x100000, 0x100000 + 16 * 1024);
    const starts: number[] = [];
    const insn = newInstruction();
    for (let off = 0; code[off] !== 0xcc || code[off + 1] !== 0xcc; off += insn.length) {
      starts.push(off);
      decode(code, off, 64, insn);
    }
    const bad: string[] = [];
    let faults = 0;
    for (let k = 0; k < starts.length && bad.length < 1; k++) {
      const rip = 0x100000n + BigInt(starts[k]!);
      const t = translateBlock(cpu, rip, rip, cpu.mode);
      for (let j = 0; j < 2 && bad.length < 1; j++) {
        rig.restore();
        rig.randomState(rng, 0.8);
        rig.cpu.rip = rip;
        rig.snapshot();
        const d = rig.compare(t.prog);
        if (d) bad.push(`block at ${rip.toString(16)}:\n${d}`);
        if (rig.last!.result !== 'ok') faults++;
      }
    }
    expect(bad).toEqual([]);
    expect(starts.length).toBeGreaterThan(400);
    expect(faults).toBeLessThan(starts.length * 2);
  });
});
