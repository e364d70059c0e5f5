// Guest exceptions raised inside compiled blocks: the state the exception handler sees (the frame it gets, every
// register, the lazy flags, CR2) and the instruction count must be the interpreter's. Each guest installs an IDT
// whose handlers record the vector and halt, makes a loop hot, then faults in the middle of the hot block after
// earlier instructions of the same block changed registers, flags and memory.
import { describe, expect, it } from 'vitest';
import { agree, asm } from './jit-guest.ts';

/** Guest prologue: 32 interrupt gates to stubs that print 'A' + vector on COM1 and halt. */
const PROLOGUE = `
  .globl _start
  _start:
    lea idt(%rip), %rdi
    lea stubs(%rip), %rax
    xor %ecx, %ecx
  0: mov %ax, (%rdi)
    movw $0x08, 2(%rdi)
    movw $0x8e00, 4(%rdi)
    mov %rax, %rdx
    shr $16, %rdx
    mov %dx, 6(%rdi)
    shr $16, %rdx
    mov %edx, 8(%rdi)
    movl $0, 12(%rdi)
    add $16, %rdi
    add $8, %rax
    inc %ecx
    cmp $32, %ecx
    jne 0b
    lidt idtr(%rip)
    mov $0x11111111, %eax
    mov $0x22222222, %ebx
    mov $0x33333333, %ecx
    mov $0x44444444, %edx
    mov $0x55555555, %esi
    lea table(%rip), %rdi
    xor %ebp, %ebp
`;
const EPILOGUE = `
  .balign 8
  stubs:
  .rept 32
    .balign 8
    mov $'A' + (. - stubs) / 8, %al
    mov $0x3f8, %dx
    out %al, %dx
    hlt
  .endr
  .data
  .balign 16
  idtr: .word 32 * 16 - 1
    .quad idt
  .balign 16
  idt: .skip 512
  .balign 8
  table: .skip 4096
`;

function guest(body: string) {
  return asm(PROLOGUE + body + EPILOGUE);
}

describe('faults inside compiled blocks', () => {
  it('#PF on a load after register, flag and memory updates in the same block', () => {
    const { ref } = agree(guest(`
      # table[0..39] = pointers to table, table[40] = an address above 4 GiB (not mapped)
      movabs $0x100000000, %r8
      mov %r8, 320(%rdi)
      mov $40, %ecx
    1: mov %rdi, -8(%rdi,%rcx,8)
      loop 1b
      xor %ecx, %ecx
    2: add $3, %eax
      xor %eax, %ebx
      mov %rbx, 2048(%rdi,%rcx,8)
      mov (%rdi,%rcx,8), %rsi
      add (%rsi), %rdx
      sub $7, %r9
      inc %ecx
      jmp 2b
    `));
    expect(ref.r).toMatchObject({ kind: 'halt' });
    expect(ref.out).toBe('O'); // #PF
    expect(ref.state).toContain('"cr2":"100000000"');
  });

  it('#GP on a non-canonical address and #DE from div, in hot blocks', () => {
    const { ref } = agree(guest(`
      mov $30, %ecx
      movabs $0x00007ffffffffff8, %r10
    1: add %rcx, %rax
      shl $1, %rbx
      lea (%r10,%rcx,8), %r11
      mov (%r11), %r12
      sub $1, %ecx
      jmp 1b
    `));
    expect(ref.r).toMatchObject({ kind: 'halt' });
    expect(ref.out).toBe('N'); // #GP
    const de = agree(guest(`
      mov $40, %ecx
    1: mov $1000, %eax
      xor %edx, %edx
      add $5, %ebx
      lea -20(%rcx), %esi
      div %esi
      mov %eax, (%rdi,%rcx,4)
      loop 1b
    `));
    expect(de.ref.r).toMatchObject({ kind: 'halt' });
    expect(de.ref.out).toBe('A'); // #DE
  });

  it('#UD and a faulting helper (wrmsr to an unknown MSR) after earlier instructions of the block', () => {
    const ud = agree(guest(`
      mov $20, %ecx
    1: add %ecx, %eax
      cmp $3, %ecx
      jne 2f
      inc %ebx
      ud2
    2: loop 1b
    `));
    expect(ud.ref.r).toMatchObject({ kind: 'halt' });
    expect(ud.ref.out).toBe('G'); // #UD
    const gp = agree(guest(`
      mov $20, %ecx
    1: add %ecx, %ebp
      cmp $5, %ecx
      jne 2f
      add $9, %r13
      mov $0xdead0000, %ecx
      xor %eax, %eax
      xor %edx, %edx
      wrmsr
    2: loop 1b
    `));
    expect(gp.ref.r).toMatchObject({ kind: 'halt' });
    expect(gp.ref.out).toBe('N'); // #GP
  });

  it('a page-crossing store that faults on its second page writes nothing', () => {
    const { ref } = agree(guest(`
      # the last 4 bytes below 4 GiB are RAM-less MMIO: use the top of the identity map instead
      movabs $0xfffffffc, %r8
      mov $10, %ecx
    1: add $1, %eax
      mov %rax, (%rdi,%rcx,8)
      sub $1, %ecx
      jnz 1b
      mov %rax, (%r8)
      movabs $0xfffffffffffc, %r8
      movabs $0x00000000fffffffc, %r9
      add $1, %r14
      mov %rbx, 4(%r9)
    `));
    expect(ref.r).toMatchObject({ kind: 'halt' });
    expect(ref.out).toBe('O'); // #PF
  });
});
