// The JIT's code cache stays within its budget: a guest whose hot code is larger than the budget runs to the same
// result as under the interpreter, modules get evicted and recompiled, and no link slot ever points at code that
// is no longer in the cache.
import { describe, expect, it } from 'vitest';
import type { JitOptions } from '../src/jit/compiler.ts';
import { PRINT_DL_AND_EXIT, boot, expectSame, runSliced } from './jit-guest.ts';
import { buildKernel } from './loader-build.ts';
import { buildWorkload } from '../bench/workloads.ts';

/** `n` distinct functions (each a few blocks), called in turn `rounds` times; also patches one of them (SMC). */
function bigCodeGuest(n: number, rounds: number): Uint8Array {
  const fns: string[] = [];
  const calls: string[] = [];
  for (let i = 0; i < n; i++) {
    fns.push(`f${i}: add $${i + 1}, %rax
      imul $${(i % 7) + 3}, %rax, %rax
      test $${1 << i % 5}, %al
      jz 1f
      xor $${i * 17}, %rdx
    1: add %rax, %rdx
      ret`);
    calls.push(`call f${i}`);
  }
  return buildKernel(`
    .globl _start
    _start:
      mov $${rounds}, %ecx
      xor %eax, %eax
      xor %edx, %edx
    0: ${calls.join('\n      ')}
      incl patch+1(%rip)     # self-modifying: the immediate of the mov below
      call patch
      dec %ecx
      jnz 0b
      ${PRINT_DL_AND_EXIT}
    patch: mov $5, %esi
      add %rsi, %rdx
      ret
    ${fns.join('\n    ')}
  `, { bits: 64 });
}

describe('JIT code cache budget', () => {
  const elf = bigCodeGuest(300, 40);
  const ref = boot(elf, null, 20_000_000);

  it('evicts cold modules to stay within a byte budget and still computes the same', () => {
    const budget = 24 * 1024;
    const j = runSliced(elf, { threshold: 2, batch: 4, maxCodeBytes: budget }, 50_000);
    expectSame(j, ref);
    const s = j.jit.stats;
    expect(s.failed).toBe(0);
    expect(s.evictedModules).toBeGreaterThan(10);
    expect(s.bytes).toBeGreaterThan(4 * budget); // much more code compiled than ever alive at once
    expect(s.peakBytes).toBeLessThanOrEqual(budget);
    expect(s.liveBytes).toBeLessThanOrEqual(budget);
  });

  it('bounds the number of modules, down to a single one', () => {
    for (const maxModules of [1, 3]) {
      const j = runSliced(elf, { threshold: 1, batch: 2, maxModules }, 30_000);
      expectSame(j, ref);
      expect(j.jit.stats.liveModules).toBeLessThanOrEqual(maxModules);
      expect(j.jit.stats.evictedModules).toBeGreaterThan(0);
    }
  });

  it('with compile-at-once (threshold 0) and a tiny budget', () => {
    const small = bigCodeGuest(40, 4);
    const sref = boot(small, null, 1_000_000);
    const j = runSliced(small, { threshold: 0, maxCodeBytes: 4096 }, 2_000);
    expectSame(j, sref);
    expect(j.jit.stats.evicted).toBeGreaterThan(100);
  });

  it('direct calls inside a module: a block dropped for an alias takes its direct callers with it', () => {
    // One code page run at two linear addresses in turn: each switch drops the translation made for the other
    // RIP (same physical key), whose exit slots are then reused, while blocks of its module called it directly.
    const elf = buildWorkload({
      name: 'alias',
      what: '',
      body: `
  .set ALIAS, 0x3ff000
bench_main:
  mov $afn, %rax            # pts[1023] (linear ALIAS) -> the page of afn
  or $7, %rax
  mov %rax, pts + 1023 * 8
  invlpg ALIAS
  mov $300, %r15d
  xor %eax, %eax
0: call afn
  mov $ALIAS, %rdx
  call *%rdx
  test $3, %r15b
  jnz 1f
  call afn
1: dec %r15d
  jnz 0b
  ret
  .balign 4096
afn: mov $40, %ecx
1: add %rcx, %rax
  test $1, %cl
  jz 2f
  xor $5, %rax
  rol $3, %rax
2: dec %ecx
  jnz 1b
  ret
  .balign 4096
`,
    });
    const ref = boot(elf, null, 20_000_000);
    expect(ref.out).toMatch(/^result=[0-9a-f]{16}\n$/);
    for (const opts of [{ threshold: 2, batch: 8 }, { threshold: 0 }, { threshold: 1, batch: 3, maxModules: 2 }]) {
      const j = runSliced(elf, opts, 7_000);
      expect(j.out).toBe(ref.out);
      expect(j.icount).toBe(ref.icount);
      expect(j.problems).toEqual([]);
    }
  });
});
