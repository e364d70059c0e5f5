// End to end: an ELF64 guest built at test time boots on the software CPU and talks to the UART.
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.ts';
import { buildKernel } from './loader-build.ts';

function boot(source: string, maxInsns = 1_000_000) {
  const out: number[] = [];
  const m = new Machine({ ramSize: 16 << 20, output: (b) => out.push(...b) });
  m.load(buildKernel(source, { bits: 64 }));
  const r = m.run(maxInsns);
  return { r, out: Buffer.from(out).toString(), m };
}

describe('software CPU smoke', () => {
  it('prints over COM1 and exits through isa-debug-exit', () => {
    const { r, out } = boot(`
      .globl _start
      _start:
        mov $0x3f8, %dx
        lea msg(%rip), %rsi
      1: movb (%rsi), %al
        inc %rsi
        test %al, %al
        jz 2f
        out %al, %dx
        jmp 1b
      2: mov $0x21, %al
        out %al, $0xf4
      msg: .asciz "hello from kemu\\n"
    `);
    expect(out).toBe('hello from kemu\n');
    expect(r).toEqual({ kind: 'exit', status: 0x43 });
  });

  it('calls, loops and flags', () => {
    const { r } = boot(`
      .globl _start
      _start:
        mov $10, %ecx
        xor %eax, %eax
      1: add %ecx, %eax
        loop 1b
        call f
        cmp $55, %eax
        jne bad
        cmp $-1, %rbx
        jge bad
        mov $1, %al
        out %al, $0xf4
      bad:
        mov $2, %al
        out %al, $0xf4
      f: mov $-5, %rbx
        ret
    `);
    expect(r).toEqual({ kind: 'exit', status: 3 });
  });

  it('reports a HLT with interrupts off', () => {
    const { r } = boot(`.globl _start\n_start: hlt\n`);
    expect(r.kind).toBe('halt');
  });
});
