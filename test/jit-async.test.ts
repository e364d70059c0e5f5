// Compiling on a worker thread (JitOptions.asyncCompile, what `kemu run` uses): blocks keep running in the
// interpreter until their module is back and are installed when they run next; a batch that lost a block while it
// was compiling (code written, translations flushed) is not installed. Same results as the interpreter, and the
// code cache's bookkeeping stays consistent throughout.
import { afterEach, describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.ts';
import { enableJit, type Jit, type JitOptions } from '../src/jit/compiler.ts';
import { boot } from './jit-guest.ts';
import { buildKernel } from './loader-build.ts';

const jits: Jit[] = [];
afterEach(() => {
  for (const j of jits.splice(0)) j.close();
});

/**
 * Runs `elf` with the JIT in slices of `slice` instructions, checking the cache's invariants between them;
 * `closeEarly`: closes the JIT's worker as soon as it has a batch (compiles go on synchronously).
 */
function runJit(elf: Uint8Array, opts: JitOptions, slice: number, closeEarly = false) {
  const out: number[] = [];
  const m = new Machine({ ramSize: 16 << 20, output: (b) => out.push(...b), jit: 'off' });
  m.load(elf);
  const jit = enableJit(m.cpu, opts);
  jits.push(jit);
  const problems: string[] = [];
  let compilingAtClose = 0;
  let r;
  for (;;) {
    r = m.run(slice);
    problems.push(...jit.checkInvariants());
    if (closeEarly && jit.compiling) {
      compilingAtClose = jit.compiling;
      jit.close();
      closeEarly = false;
    }
    if (r.kind !== 'budget' || m.cpu.icount > 50_000_000) break;
  }
  return { r, out: Buffer.from(out).toString(), icount: m.cpu.icount, jit, problems, compilingAtClose };
}

/** Prints %rdx's low byte and exits (port 0xf4) with %al. */
const EXIT = `
      mov $0x3f8, %bx
      xchg %bx, %dx
      mov %bl, %al
      out %al, %dx
      xchg %bx, %dx
      mov %dl, %al
      out %al, $0xf4`;

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
    ${EXIT}
  ${fns.join('\n    ')}
  `, { bits: 64 });
  const ref = boot(guest, null, 50_000_000);

  it('runs hot code compiled once its modules arrive, with the interpreter\'s results', () => {
    const j = runJit(guest, { threshold: 8, batch: 4, asyncCompile: true }, 200_000);
    expect(j.r).toEqual(ref.r);
    expect(j.out).toBe(ref.out);
    expect(j.icount).toBe(ref.icount);
    expect(j.problems).toEqual([]);
    expect(j.jit.stats.failed).toBe(0);
    expect(j.jit.stats.compiled).toBeGreaterThan(100);
    expect(j.jit.stats.entries).toBeGreaterThan(0);
  });

  it('goes on compiling on its own thread once the worker is gone, dropping what was in flight', () => {
    // (closed a few hundred instructions after its first batch: the worker thread is still starting)
    const j = runJit(guest, { threshold: 8, batch: 4, asyncCompile: true }, 500, true);
    expect(j.compilingAtClose).toBeGreaterThan(0);
    expect(j.r).toEqual(ref.r);
    expect(j.out).toBe(ref.out);
    expect(j.icount).toBe(ref.icount);
    expect(j.problems).toEqual([]);
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
      ${EXIT}
    `, { bits: 64 });
    const ref = boot(elf, null, 10_000_000);
    const j = runJit(elf, { threshold: 2, batch: 1, asyncCompile: true }, 500);
    expect(j.r).toEqual(ref.r);
    expect(j.out).toBe(ref.out);
    expect(j.icount).toBe(ref.icount);
    expect(j.problems).toEqual([]);
    expect(j.jit.stats.cancelled).toBeGreaterThan(0);
  });
});
