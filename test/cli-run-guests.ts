// Guests for the `kemu run` and backend-switch tests: ring-0 long mode, integer only (kvm_pvm emulates guest ring 0
// and cannot run x87/SSE there), lots of UART output (each character polls the line status register, then writes:
// two port I/O exits under KVM), isa-debug-exit at the end.
import { ring3Prelude } from './accel-guests.ts';

/** What chattyGuest(lines) prints. */
export function chattyOutput(lines: number): { text: string; status: number } {
  let text = '';
  let hash = 0x12345678;
  let odd = 0;
  const table = new Array<number>(256).fill(0);
  const put = (s: string, i: number) => {
    text += s;
    if (i & 1) odd += s.length;
  };
  for (let i = 0; i < lines; i++) {
    hash = (Math.imul(hash, 1103515245) + 12345 + i) >>> 0;
    table[i & 255] = hash;
    put('line ', i);
    put(String(i), i);
    put(': ', i);
    put(hash.toString(16).padStart(8, '0'), i);
    put('\n', i);
  }
  const sum = table.reduce((a, b) => (a + b) >>> 0, 0);
  return { text, status: ((((sum + odd) >>> 0) & 0x7f) << 1) | 1 };
}

/**
 * Prints `lines` lines "line N: HASH" (HASH a 32-bit LCG, also stored in a 256-entry table), then exits with
 * (table sum + characters printed on odd lines) & 0x7f. The odd-line count is kept with ADC right after each OUT,
 * so CF is live across every UART exit (the flags must move with the state). With `ring3`, a ring-0 stub (GDT,
 * TSS, IDT, user paging) drops to ring 3 first and the printing runs there (port I/O allowed by IOPL and the TSS
 * bitmap).
 */
export function chattyGuest(lines: number, ring3 = false): string {
  const entry = ring3
    ? `${ring3Prelude()}\n  .text\n  irq_handler: iretq\n  user_entry:`
    : '  .globl _start\n  _start:';
  return `
${entry}
    lea stack_top(%rip), %rsp
    xor %r12d, %r12d          # line number
    mov $0x12345678, %r13d    # hash
    xor %r14d, %r14d          # characters printed on odd lines
    lea table(%rip), %rdi
  next_line:
    imul $1103515245, %r13d, %r13d
    add $12345, %r13d
    add %r12d, %r13d
    mov %r12d, %eax
    and $255, %eax
    mov %r13d, (%rdi,%rax,4)
    lea s_line(%rip), %rsi
    call puts
    mov %r12, %rax
    call putdec
    lea s_colon(%rip), %rsi
    call puts
    mov %r13d, %eax
    call puthex32
    mov $10, %al
    call putc
    inc %r12d
    cmp $${lines}, %r12d
    jb next_line
    xor %eax, %eax
    xor %ecx, %ecx
  1: add (%rdi,%rcx,4), %eax
    inc %ecx
    cmp $256, %ecx
    jb 1b
    add %r14d, %eax
    and $0x7f, %eax
    out %al, $0xf4
  9: jmp 9b

  putc:                       # %al
    push %rdx
    push %rax
    mov $0x3fd, %dx
  2: in %dx, %al
    test $0x20, %al
    jz 2b
    pop %rax
    mov $0x3f8, %dx
    bt $0, %r12d              # CF = odd line
    out %al, %dx
    adc $0, %r14d
    pop %rdx
    ret
  puts:                       # %rsi
    push %rax
  3: movb (%rsi), %al
    test %al, %al
    jz 4f
    call putc
    inc %rsi
    jmp 3b
  4: pop %rax
    ret
  putdec:                     # %rax
    push %rbx
    push %rcx
    push %rdx
    mov $10, %ebx
    xor %ecx, %ecx
  5: xor %edx, %edx
    div %rbx
    push %rdx
    inc %ecx
    test %rax, %rax
    jnz 5b
  6: pop %rax
    add $48, %al
    call putc
    dec %ecx
    jnz 6b
    pop %rdx
    pop %rcx
    pop %rbx
    ret
  puthex32:                   # %eax
    push %rcx
    push %rbx
    mov %eax, %ebx
    mov $8, %ecx
  7: rol $4, %ebx
    mov %ebx, %eax
    and $15, %eax
    cmp $10, %al
    jb 8f
    add $39, %al
  8: add $48, %al
    call putc
    dec %ecx
    jnz 7b
    pop %rbx
    pop %rcx
    ret

    .data
  s_line: .asciz "line "
  s_colon: .asciz ": "
    .bss
    .balign 16
  table: .skip 1024
  stack: .skip 8192
  stack_top:
`;
}
