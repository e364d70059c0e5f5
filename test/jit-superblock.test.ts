// Superblocks (frontend/block.ts): a forward conditional branch within reach does not end the block; the paths
// join at a label where translation reaches the target. Guests with such branches run on straight-line blocks in
// the interpreter (the reference), on superblocks in the interpreter and under the JIT: everything observable must
// agree (output, stop, instruction count, CPU state, memory), also when the run stops at any instruction.
import { describe, expect, it } from 'vitest';
import { agree, asm } from './jit-guest.ts';
import { Rng } from './jit-rig.ts';

/** Random register-only code with flag producers and consumers and forward branches over a few instructions. */
function randomLoopBody(rng: Rng, n: number, nested = false): string[] {
  const regs = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14'];
  const cc = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
  const sized = (r: string, size: number) =>
    size === 8 ? r : size === 4 ? (r.startsWith('r') && /\d/.test(r) ? `${r}d` : `e${r.slice(1)}`)
      : size === 2 ? (/\d/.test(r) ? `${r}w` : r.slice(1)) : /\d/.test(r) ? `${r}b` : { rax: 'al', rbx: 'bl', rcx: 'cl', rdx: 'dl', rsi: 'sil', rdi: 'dil', rbp: 'bpl' }[r]!;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const size = rng.pick([1, 2, 4, 8, 8, 4]);
    const a = sized(rng.pick(regs), size), b = sized(rng.pick(regs), size);
    switch (rng.int(nested ? 9 : 11)) {
      case 0: case 1: out.push(`${rng.pick(['add', 'sub', 'adc', 'sbb', 'and', 'or', 'xor', 'cmp', 'test'])} ${a}, ${b}`); break;
      case 2: out.push(`${rng.pick(['add', 'sub', 'adc', 'sbb', 'cmp', 'and'])} ${a}, ${rng.int(300) - 150}`); break;
      case 3: out.push(`${rng.pick(['inc', 'dec', 'neg', 'not'])} ${a}`); break;
      case 4: out.push(`${rng.pick(['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr'])} ${a}, ${rng.int(9)}`); break;
      case 5: out.push(`set${rng.pick(cc)} ${sized(rng.pick(regs), 1)}`); break;
      case 6: out.push(`cmov${rng.pick(cc)} ${sized(rng.pick(regs), 8)}, ${sized(rng.pick(regs), 8)}`); break;
      case 7: out.push(rng.pick(['clc', 'stc', 'cmc', 'pushfq\npop r15\nand r15, 0x8d5\nadd rax, r15', 'lahf', 'sahf'])); break;
      case 8: out.push(`imul ${sized(rng.pick(regs), 8)}, ${sized(rng.pick(regs), 8)}, ${rng.int(100)}`); break;
      default: out.push(`j${rng.pick(cc)} 2f`, ...randomLoopBody(rng, 1 + rng.int(4), true), '2:');
    }
  }
  return out;
}

describe('superblocks', () => {
  it('joins paths whose flags come from different operations (CF, conditions, pushf after the join)', () => {
    const { ref } = agree(asm(`
      .globl _start
      _start:
        mov $0x9e3779b97f4a7c15, %rax
        xor %ebx, %ebx
        xor %r8d, %r8d
        mov $400, %ecx
      1: mov %rax, %rdx
        shl $13, %rdx
        xor %rdx, %rax
        mov %rax, %rdx
        shr $7, %rdx
        xor %rdx, %rax
        cmp %rax, %rbx
        jae 2f
        add %rax, %rbx          # flags of an add on this path, of the cmp on the other
      2: adc $0, %r8            # CF from either
        setc %dl
        movzbl %dl, %edx
        add %rdx, %r8
        test $1, %al
        jz 3f
        sub $5, %rbx            # a sub on this path, a test (logic) on the other
        jmp 4f
      3: inc %rbx               # inc keeps CF: of the test
      4: cmovb %rax, %rdx       # condition from a sub, or an inc with the test's CF
        add %rdx, %r8
        test $2, %al
        jz 5f
        shl $1, %rbx
      5: pushfq                 # all the status flags after the join
        pop %rdx
        and $0x8d5, %edx
        add %rdx, %r8
        dec %ecx
        jnz 1b
        mov %r8, %rax
        add %rbx, %rax
        out %al, $0xf4
    `), undefined, true);
    expect(ref.r).toMatchObject({ kind: 'exit' });
  });

  it('nested and shared forward branches; the JIT stops where the interpreter does (run budgets)', () => {
    const elf = asm(`
      .globl _start
      _start:
        xor %eax, %eax
        mov $1, %ebx
        mov $3000, %ecx
      1: add $7, %eax
        test $3, %al
        jz 3f
        test $4, %al
        jnz 2f
        imul $3, %ebx
        jmp 3f
      2: add %eax, %ebx
        cmp $100, %ebx
        ja 3f
        xor $0x55, %ebx
      3: rol $3, %ebx
        loop 1b
        mov %bl, %al
        out %al, $0xf4
    `);
    agree(elf, undefined, true);
    // (a run stops between blocks: superblocks stop elsewhere than straight-line blocks, the JIT where the
    // interpreter on the same blocks does)
    for (const n of [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 1000, 4321]) agree(elf, n);
  });

  it('branch targets inside an instruction, past the reach and on the next page stay exits', () => {
    const { ref } = agree(asm(`
      .globl _start
      _start:
        xor %ebx, %ebx
        mov $200, %ecx
      1: test $1, %cl
        jz 2f + 1               # into the middle of the mov below: its immediate runs as four nops
      2: mov $0x90909090, %eax
        add %eax, %ebx
        test $2, %cl
        jnz 4f                  # more than 256 bytes ahead
        .fill 300, 1, 0x90
      4: test $4, %cl
        jnz far                 # on the next page
      5: dec %ecx
        jnz 1b
        mov %bl, %al
        out %al, $0xf4
      .balign 4096
      far: add $3, %ebx
        jmp 5b
    `), undefined, true);
    expect(ref.r).toMatchObject({ kind: 'exit' });
  });

  it('random flag producers and consumers around forward branches, looped', () => {
    const rng = new Rng(77);
    for (let k = 0; k < 6; k++) {
      const body = randomLoopBody(rng, 30);
      const { ref } = agree(asm(`
        .intel_syntax noprefix
        .globl _start
        _start:
          mov rax, 0x0123456789abcdef
          mov rbx, 0xfedcba9876543210
          mov rcx, 7
          mov rdx, -1
          mov rsi, 0x80000000
          mov rdi, 0x7fffffff
          xor ebp, ebp
          mov r8, 1
          mov r9, 0x8000000000000000
          mov r10, 0xff
          mov r11, 0x8000
          mov r12, 3
          mov r13, 0x5555555555555555
          mov r14, 0
          mov qword ptr [rip + count], 100
        1:
          ${body.join('\n          ')}
          dec qword ptr [rip + count]
          jnz 1b
          mov al, bl
          xor al, cl
          out 0xf4, al
        .data
        count: .quad 0
      `), undefined, true);
      expect(ref.r).toMatchObject({ kind: 'exit' });
    }
  });

  it('a fault on a path of a superblock is precise; a write into a later part of it takes effect at once', () => {
    const { ref } = agree(asm(`
      .globl _start
      _start:
        lea handler(%rip), %rax
        mov %rax, idt + 6 * 16          # #UD handler (a 64-bit interrupt gate, built below)
        shr $16, %rax
        mov %ax, idt + 6 * 16 + 6
        movw $0x8e00, idt + 6 * 16 + 4
        mov %cs, %ax
        mov %ax, idt + 6 * 16 + 2
        lidt idtr(%rip)
        xor %ebx, %ebx
        mov $100, %ecx
      1: test $7, %cl
        jnz 2f
        ud2                              # on one path only: the handler skips it
      2: cmp $50, %ecx
        jne 3f
        movb $5, imm(%rip)               # patches the add below, later in this block
      3: add $1, %ebx
      imm = . - 1
        dec %ecx
        jnz 1b
        mov %bl, %al
        out %al, $0xf4
      handler:
        addq $2, (%rsp)
        add $100, %ebx
        iretq
      .data
      .balign 16
      idtr: .word 16 * 16 - 1
        .quad idt
      .balign 16
      idt: .fill 16 * 16, 1, 0
    `), undefined, true);
    expect(ref.r).toMatchObject({ kind: 'exit' });
  });
});
