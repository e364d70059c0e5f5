// Compiling on a worker thread (JitOptions.asyncCompile, what `kemu run` uses): blocks keep running in the
// interpreter until their module is back and are installed when they run next; a batch that lost a block while it
// was compiling (code written, translations flushed) is not installed. Same results as the interpreter, and the
// code cache's bookkeeping stays consistent throughout.
import { describe, expect, it } from 'vitest';
import { PRINT_DL_AND_EXIT, boot, expectSame, runSliced } from './jit-guest.ts';
import { buildKernel } from './loader-build.ts';

describe('JIT: compiling on a worker thread', () => {
  // a few hundred blocks (nested loops, calls, a data-dependent branch), run long enough for modules to arrive
  const fns = Array.from({ length: 60 }, (_, i) => `f${i}: imul $${(i % 5) + 3}, %rax, %rax
    add $${i}, %rax
    test $${1 << i % 4}, %al
    jz 1f
    xor %rax, %rdx
  1: add $1, %rdx
    ret`);
  const guest = buildKernel(`
  .globl _start
  _start:
    mov $4000, %ecx
    mov $1, %eax
    xor %edx, %edx
  0: ${fns.map((_, i) => `call f${i}`).join('\n      ')}
    dec %ecx
    jnz 0b
    ${PRINT_DL_AND_EXIT}
  ${fns.join('\n    ')}
  `, { bits: 64 });
  const ref = boot(guest, null, 50_000_000);

  it('runs hot code compiled once its modules arrive, with the interpreter\'s results', () => {
    const j = runSliced(guest, { threshold: 8, batch: 4, asyncCompile: true }, 200_000, 50_000_000);
    expectSame(j, ref);
    expect(j.jit.stats.failed).toBe(0);
    expect(j.jit.stats.compiled).toBeGreaterThan(100);
    expect(j.jit.stats.entries).toBeGreaterThan(0);
  });

  it('goes on compiling on its own thread once the worker is gone, dropping what was in flight', () => {
    // (closed a few hundred instructions after its first batch: the worker thread is still starting)
    const j = runSliced(guest, { threshold: 8, batch: 4, asyncCompile: true }, 500, 50_000_000, true);
    expect(j.compilingAtClose).toBeGreaterThan(0);
    expectSame(j, ref);
    expect(j.jit.stats.compiled).toBeGreaterThan(100);
  });

  it('does not install a batch whose block was rewritten while it compiled', () => {
    // Each round, the inner loop's block becomes hot (threshold 2) a few iterations before the round patches its
    // immediate: the write drops the block while its module is on the worker (a round trip takes far longer than
    // those iterations), so that module must never run.
    const elf = buildKernel(`
    .globl _start
    _start:
      mov $300, %r8d
      xor %eax, %eax
      xor %edx, %edx
    0: mov $6, %ecx
    1: add $1, %rax
    patch: add $5, %rdx
      dec %ecx
      jnz 1b
      incb patch+3(%rip)
      dec %r8d
      jnz 0b
      ${PRINT_DL_AND_EXIT}
    `, { bits: 64 });
    const ref = boot(elf, null, 10_000_000);
    const j = runSliced(elf, { threshold: 2, batch: 1, asyncCompile: true }, 500);
    expectSame(j, ref);
    expect(j.jit.stats.cancelled).toBeGreaterThan(0);
  });
});
