// How many wasm locals a compiled block declares. V8's baseline compiler (Liftoff) zeroes every local at each call
// and keeps only a few in registers: a chain of blocks with dozens of locals each spent more time entering blocks
// than running them. Temps used once are emitted where they are used, the rest share locals.
import { describe, expect, it } from 'vitest';
import { translateBlock } from '../src/cpu/frontend/block.ts';
import { generate, type Callee, type CodegenEnv } from '../src/jit/codegen.ts';
import { JitRig } from './jit-rig.ts';

/** The locals (beyond the two parameters) of the function generated for the block at the kernel's entry. */
function localsOf(asm: string): number {
  const rig = new JitRig({ kernel: `.intel_syntax noprefix\n.globl _start\n_start:\n${asm}\nint3\n` });
  const cpu = rig.cpu;
  const t = translateBlock(cpu, cpu.rip, cpu.rip, cpu.mode);
  let next = 0;
  const callee = (): Callee => ({ index: next++, type: 0 });
  const env: CodegenEnv = {
    read: callee, read64: callee, write: callee, write64: callee, raise: callee, helper: callee,
  };
  const g = generate(t.prog, env, { stateBase: cpu.stateBase, mode: cpu.mode });
  return g.locals.reduce((n, [count]) => n + count, 0);
}

describe('JIT: wasm locals of a block', () => {
  it('straight-line arithmetic over six registers needs few locals', () => {
    const ops = [
      'add rax, rbx', 'sub rcx, 7', 'xor rdx, rax', 'inc rsi', 'imul rdi, rax, 3', 'shl rax, 2', 'and rbx, rcx',
      'or rdx, 0x55', 'lea rsi, [rax + rbx * 4 + 8]', 'neg rcx', 'mov rdi, rdx', 'sar rdx, 3', 'not rbx', 'add eax, esi',
      'movzx ecx, dl', 'sub rdi, rcx', 'test rax, rbx', 'sete dl', 'rol rsi, 5', 'add rbx, rdi',
    ];
    const n = localsOf(ops.join('\n'));
    // (6 registers cached in locals and a few temps alive at once: 9; 66 when every temp had a local of its own)
    expect(n, `${n} locals`).toBeLessThan(16);
  });

  it('memory accesses with their inline TLB lookups and slow paths too', () => {
    const n = localsOf(['mov rax, [rbx + 8]', 'add rax, rcx', 'mov [rbx + 16], rax', 'inc qword ptr [rbx]', 'add rbx, 24'].join('\n'));
    expect(n, `${n} locals`).toBeLessThan(12); // (9; 30 before)
  });
});
