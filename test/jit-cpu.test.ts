// Whole guests under the JIT (forced: threshold 0, and after a few interpreted runs) against the interpreter:
// same UART output, same stop, same instruction count, same final CPU state and memory.
import { describe, expect, it } from 'vitest';
import { agree, asm, PRINT_DL_AND_EXIT } from './jit-guest.ts';
import { buildKernel } from './loader-build.ts';
import { CALLS_GUEST, HELLO64_GUEST } from './smoke-guests.ts';
import { buildCGuest } from './jit-cguest.ts';
import type { Machine } from '../src/machine/machine.ts';

/**
 * Guest code mapping linear 0x200000-0x3fffff through a 4 KiB page table `pt` (identity, except linear 0x300000 ->
 * physical 0x210000), installed in the loader's page directory, TLB flushed.
 */
const MAP_300000 = `
        lea pt(%rip), %rdi
        mov $0x200003, %eax
        mov $512, %ecx
      0: mov %rax, (%rdi)
        add $8, %rdi
        add $0x1000, %rax
        loop 0b
        lea pt(%rip), %rdi
        movq $0x210003, 256*8(%rdi)
        lea pt(%rip), %rax
        or $3, %rax
        mov %rax, 0xb008
        mov %cr3, %rax
        mov %rax, %cr3
`;

describe('guests under the JIT', () => {
  it('prints over COM1 and exits (cpu-smoke guest)', () => {
    const { ref } = agree(asm(HELLO64_GUEST));
    expect(ref.out).toBe('hello from kemu\n');
    expect(ref.r).toEqual({ kind: 'exit', status: 0x43 });
  });

  it('calls, loops and flags (cpu-smoke guest)', () => {
    const { ref } = agree(asm(CALLS_GUEST));
    expect(ref.r).toEqual({ kind: 'exit', status: 3 });
  });

  it('stops at a budget boundary exactly like the interpreter', () => {
    const elf = asm(`
      .globl _start
      _start: xor %eax, %eax
      1: add $3, %rax
        imul $7, %rax, %rdx
        xor %rdx, %rax
        jmp 1b
    `);
    for (const n of [1, 2, 7, 1000, 12345]) {
      const { ref } = agree(elf, n);
      expect(ref.r).toMatchObject({ kind: 'budget' });
    }
  });

  it('a call out that raises an interrupt mid-block stops a compiled loop at its next block boundary', () => {
    // The loop's block is one compiled loop (its exit to its own start goes round inside the function); IN calls
    // out to JS in its middle, and the 200th read raises vector 0x30. The interrupt must come at the end of that
    // iteration's block, where the interpreter takes it: the handler exits with ECX, the iteration count.
    const elf = asm(`
      .globl _start
      _start:
        lea idt(%rip), %rdi
        lea handler(%rip), %rax
        mov %ax, 0x300(%rdi)
        mov %cs, %cx
        mov %cx, 0x302(%rdi)
        movw $0x8e00, 0x304(%rdi)
        shr $16, %rax
        mov %ax, 0x306(%rdi)
        shr $16, %rax
        mov %eax, 0x308(%rdi)
        lidt idtr(%rip)
        xor %ecx, %ecx
        xor %ebx, %ebx
        mov $0x500, %edx
        sti
      1: inc %ecx
        in %dx, %al
        add %eax, %ebx
        jmp 1b
      handler:
        mov %ecx, %eax
        out %al, $0xf4
      .data
      .balign 16
      idtr: .word 4095
        .quad idt
      .bss
      .balign 4096
      idt: .skip 4096
    `);
    const device = (m: Machine) => {
      let reads = 0;
      m.board.io.register(0x500, 1, {
        ioRead: () => {
          if (++reads === 200) m.cpu.pendingIrq = 0x30;
          return 1;
        },
        ioWrite: () => {},
      }, 'irq-test');
    };
    const { ref } = agree(elf, undefined, false, device);
    expect(ref.r).toEqual({ kind: 'exit', status: 200 * 2 + 1 });
  });

  it('recursion, stack and memory (fib, bubble sort)', () => {
    const { ref } = agree(asm(`
      .globl _start
      _start:
        mov $18, %edi
        call fib
        mov %rax, %r15
        lea arr(%rip), %rsi
        mov $64, %ecx
        mov $12345, %eax
      0: imul $1103515245, %eax, %eax
        add $12345, %eax
        mov %eax, -4(%rsi,%rcx,4)
        loop 0b
        mov $63, %r8d
      1: xor %ecx, %ecx
      2: mov (%rsi,%rcx,4), %eax
        mov 4(%rsi,%rcx,4), %edx
        cmp %edx, %eax
        jle 3f
        mov %edx, (%rsi,%rcx,4)
        mov %eax, 4(%rsi,%rcx,4)
      3: inc %ecx
        cmp %r8d, %ecx
        jb 2b
        dec %r8d
        jnz 1b
        xor %eax, %eax
        xor %ecx, %ecx
      4: rol $5, %eax
        xor (%rsi,%rcx,4), %eax
        inc %ecx
        cmp $64, %ecx
        jne 4b
        mov %eax, %ebx
        mov $0x3f8, %dx
        mov %bl, %al
        out %al, %dx
        mov %r15b, %al
        out %al, %dx
        out %al, $0xf4
      fib: cmp $2, %edi
        jae 5f
        mov %edi, %eax
        ret
      5: push %rdi
        dec %edi
        call fib
        pop %rdi
        push %rax
        lea -2(%rdi), %edi
        call fib
        pop %rdx
        add %rdx, %rax
        ret
      .data
      arr: .skip 256
    `));
    expect(ref.r).toMatchObject({ kind: 'exit' });
    expect(ref.out.charCodeAt(1)).toBe(2584 & 0xff); // fib(18)
  });

  it('self-modifying code: blocks are dropped and retranslated', () => {
    const { ref, jits } = agree(asm(`
      .globl _start
      _start:
        xor %ebx, %ebx
        mov $50, %ecx
      1: call patched
        add %eax, %ebx
        incl imm(%rip)
        loop 1b
        mov %bl, %al
        out %al, $0xf4
      .balign 4096
      patched:
        .byte 0xb8
      imm: .long 1
        ret
    `));
    expect(ref.r).toEqual({ kind: 'exit', status: ((50 * 51 / 2) & 0xff) * 2 + 1 });
    expect(jits[0]!.jit!.stats.dropped).toBeGreaterThan(0);
  });

  it('self-modifying code: a patch drops only the blocks made from the bytes it writes', () => {
    // one function patched 1000 times, in the page of the loop that patches it and of another function
    const { ref, jits } = agree(asm(`
      .globl _start
      _start:
        xor %ebx, %ebx
        mov $1000, %ecx
      1: call f
        add %eax, %ebx
        mov %cl, imm(%rip)
        call g
        add %eax, %ebx
        dec %ecx
        jnz 1b
        mov %bl, %al
        out %al, $0xf4
      f: mov $3, %eax
        ret
      g: .byte 0xb8
      imm: .long 0
        ret
    `));
    expect(ref.r).toEqual({ kind: 'exit', status: ((3000 + (1000 * 1001) / 2) & 0xff) * 2 + 1 });
    // (compiled before each run: each patch drops g's block; the loop's and f's stay)
    expect(jits[0]!.jit!.stats.dropped).toBeLessThanOrEqual(1001);
  });

  it('self-modifying code in the running page: chained blocks are unlinked, slots reused', () => {
    const { ref, jits } = agree(asm(`
      .globl _start
      _start:
        xor %ebx, %ebx
        mov $300, %ecx
      1: add $1, %edx
        jmp 2f
      2: mov $0, %eax
      imm = . - 4
        add %eax, %ebx
        incl imm(%rip)
        sub $1, %ecx
        jnz 1b
        mov %bl, %al
        out %al, $0xf4
    `));
    expect(ref.r).toEqual({ kind: 'exit', status: (((299 * 300) / 2) & 0xff) * 2 + 1 });
    const j = jits[0]!.jit!;
    expect(j.stats.dropped).toBeGreaterThan(250);
    expect(j.rt.slotIds).toBeLessThanOrEqual(128); // freed slots are reused
  });

  it('self-modifying code: a chained block that patches its own next instruction sees the new code', () => {
    // The loop runs chained (1: -> 2: -> 1: ...) when once, at rcx = 150, the block at 2: writes the immediate of
    // the instruction right after the writing one: the new immediate must take effect at once.
    const { ref } = agree(asm(`
      .globl _start
      _start:
        xor %ebx, %ebx
        mov $300, %ecx
      1: add $1, %edx
        jmp 2f
      2: lea dummy(%rip), %rdi
        lea imm(%rip), %rsi
        cmp $150, %ecx
        cmove %rsi, %rdi
        incl (%rdi)
        mov $0, %eax
      imm = . - 4
        add %eax, %ebx
        sub $1, %ecx
        jnz 1b
        mov %bl, %al
        out %al, $0xf4
      .data
      dummy: .long 0
    `));
    expect(ref.r).toEqual({ kind: 'exit', status: (150 & 0xff) * 2 + 1 });
  });

  it('chains across pages and notices a remapped code page (INVLPG)', () => {
    // Linear 0x300000 maps (4 KiB page table) to physical 0x210000 (code adding 1), later to 0x211000 (adding 2).
    const elf = buildKernel(`
      .globl _start
      _start:
${MAP_300000}
        lea back(%rip), %r14
        xor %ebx, %ebx
        mov $1000, %ecx
      loop:
        jmp far_away
      back:
        add %eax, %ebx
        dec %ecx
        jz done
        cmp $500, %ecx
        jne loop
        movq $0x211003, 256*8(%rdi)
        invlpg 0x300000
        jmp loop
      done:
        mov %ebx, %eax
        shr $2, %eax
        out %al, $0xf4
      .equ far_away, 0x300000
      .section .p1, "ax"
        mov $1, %eax
        jmp *%r14
      .section .p2, "ax"
        mov $2, %eax
        jmp *%r14
      .bss
      .balign 4096
      pt: .skip 4096
    `, { bits: 64, ldArgs: ['--section-start=.p1=0x210000', '--section-start=.p2=0x211000'] });
    const { ref, jits } = agree(elf);
    expect(ref.r).toEqual({ kind: 'exit', status: ((1500 >> 2) & 0xff) * 2 + 1 });
    expect(jits[0]!.jit!.stats.links).toBeGreaterThan(0);
  });

  it('indirect exits: a polymorphic jump table across pages, calls and returns', () => {
    const { ref, jits } = agree(asm(`
      .globl _start
      _start:
        xor %ebx, %ebx
        lea next(%rip), %r8
        mov $3000, %ecx
      1: mov %ecx, %eax
        and $3, %eax
        lea table(%rip), %rdx
        jmp *(%rdx,%rax,8)
      next:
        dec %ecx
        jnz 1b
        mov %bl, %al
        out %al, $0xf4
      .balign 4096
      t0: add $1, %ebx
        jmp next
      .balign 4096
      t1: call f
        add %eax, %ebx
        jmp next
      .balign 4096
      t2: add $3, %ebx
        jmp *%r8
      t3: xor $5, %ebx
        lea next(%rip), %r9
        push %r9
        ret
      f: mov $2, %eax
        lea next(%rip), %r8
        ret
      .data
      .balign 8
      table: .quad t0, t1, t2, t3
    `));
    expect(ref.r).toMatchObject({ kind: 'exit' });
    expect(jits[0]!.jit!.stats.misses).toBeGreaterThan(0);
  });

  it('indirect exits with many targets find the next block in the jump cache, not the run loop', () => {
    const { ref, jits } = agree(asm(`
      .globl _start
      _start:
        xor %ebx, %ebx
        mov $4000, %ecx
      1: mov %ecx, %eax
        and $15, %eax
        lea table(%rip), %rdx
        call *(%rdx,%rax,8)
        dec %ecx
        jnz 1b
        mov %bl, %al
        out %al, $0xf4
      f0: add $1, %ebx
        ret
      f1: add $2, %ebx
        ret
      f2: add $3, %ebx
        ret
      f3: add $4, %ebx
        ret
      f4: add $5, %ebx
        ret
      f5: add $6, %ebx
        ret
      f6: add $7, %ebx
        ret
      f7: add $8, %ebx
        ret
      f8: add $9, %ebx
        ret
      f9: add $10, %ebx
        ret
      f10: add $11, %ebx
        ret
      f11: add $12, %ebx
        ret
      f12: add $13, %ebx
        ret
      f13: add $14, %ebx
        ret
      f14: add $15, %ebx
        ret
      f15: add $16, %ebx
        ret
      .data
      .balign 8
      table: .quad f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15
    `));
    expect(ref.r).toMatchObject({ kind: 'exit' });
    // 4000 calls through one site with 16 targets (the site's own prediction gives up after a few misses)
    const stats = jits[0]!.jit!.stats;
    expect(stats.misses).toBeLessThan(40);
    expect(stats.entries).toBeLessThan(200);
  });

  it('blocks chain on after helpers (128-bit division, rep movs) and into a block straddling a page', () => {
    const { ref, jits } = agree(asm(`
      .globl _start
      _start:
        xor %ebx, %ebx
        mov $3000, %r12d
        jmp 1f
      .balign 4096
        .skip 4096 - 12
      1: mov %r12, %rax
        xor %edx, %edx
        mov $7, %ecx
        movabs $0x123456789, %r9   # (straddles the page boundary)
        divq %rcx
        add %rdx, %rbx
        lea src(%rip), %rsi
        lea dst(%rip), %rdi
        mov $24, %ecx
        rep movsb
        add dst+8(%rip), %rbx
        dec %r12d
        jnz 1b
        mov %bl, %al
        out %al, $0xf4
      .data
      src: .quad 1, 2, 3
      dst: .quad 0, 0, 0
    `));
    expect(ref.r).toMatchObject({ kind: 'exit' });
    // 3000 trips; the run loop enters compiled code only until the blocks are compiled and linked
    expect(jits[0]!.jit!.stats.entries).toBeLessThan(300);
  });

  it('REP MOVS/STOS in compiled code: the wasm fast path, and the JS helper for what it leaves', () => {
    const { ref, jits } = agree(asm(`
      .globl _start
      _start:
        mov $40, %r12d
      1: lea buf+3(%rip), %rdi           # memset across pages (byte fill)
        mov %r12d, %eax
        mov $9000, %ecx
        rep stosb
        lea buf+8(%rip), %rdi           # clear_page-like: equal bytes in a qword pattern, past the 64 KiB budget
        xor %eax, %eax
        mov $9000, %ecx
        rep stosq
        lea buf+16(%rip), %rdi          # a pattern of different bytes (the JS helper)
        movabs $0x1122334455667788, %rax
        add %r12, %rax
        mov $700, %ecx
        rep stosq
        lea buf(%rip), %rsi             # a copy across pages
        lea buf+70001(%rip), %rdi
        mov $12000, %ecx
        rep movsb
        lea buf+70001(%rip), %rsi       # forward onto its own source: repeats its first bytes (the JS helper)
        lea buf+70004(%rip), %rdi
        mov $500, %ecx
        rep movsb
        lea buf+80008(%rip), %rsi       # backward overlap: a plain move
        lea buf+80000(%rip), %rdi
        mov $300, %ecx
        rep movsq
        lea code(%rip), %rdi            # over translated code: the new bytes run (the JS helper)
        lea patch(%rip), %rsi
        mov $6, %ecx
        rep movsb
        call code
        add %eax, %r13d
        add buf+70100(%rip), %r13
        add buf+5000(%rip), %r13
        dec %r12d
        jnz 1b
        mov %r13, %rdx
${PRINT_DL_AND_EXIT}
      patch: mov $7, %eax
        ret
      .section .text2, "awx"
      code: mov $3, %eax
        ret
      .bss
      .balign 4096
      buf: .skip 100000
    `));
    expect(ref.r).toMatchObject({ kind: 'exit' });
    for (const j of jits) {
      // 7 REPs an iteration (~280 in all, some executing several times): the JS helper gets only its share
      expect(j.jit!.rt.repToJs).toBeGreaterThan(40);
      expect(j.jit!.rt.repToJs).toBeLessThan(200);
    }
  });

  it('an indirect exit to a remapped code page (INVLPG) runs the new code', () => {
    const elf = buildKernel(`
      .globl _start
      _start:
${MAP_300000}
        mov $0x300000, %r13
        xor %ebx, %ebx
        mov $1000, %ecx
      loop:
        call *%r13
        add %eax, %ebx
        dec %ecx
        jz done
        cmp $500, %ecx
        jne loop
        movq $0x211003, 256*8(%rdi)
        invlpg 0x300000
        jmp loop
      done:
        mov %ebx, %eax
        shr $2, %eax
        out %al, $0xf4
      .section .p1, "ax"
        mov $1, %eax
        ret
      .section .p2, "ax"
        mov $2, %eax
        ret
      .bss
      .balign 4096
      pt: .skip 4096
    `, { bits: 64, ldArgs: ['--section-start=.p1=0x210000', '--section-start=.p2=0x211000'] });
    const { ref } = agree(elf);
    expect(ref.r).toEqual({ kind: 'exit', status: ((1500 >> 2) & 0xff) * 2 + 1 });
  });

  it('a C program (gcc -O2, freestanding) computes the same results', () => {
    const { ref } = agree(buildCGuest(), 20_000_000);
    expect(ref.out.split('\n')[0]).toBe('00000000000008d6'); // primes below 20000
  });
});
