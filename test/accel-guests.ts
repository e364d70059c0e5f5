// Guest sources shared by the accelerator tests and the KVM benchmark (AT&T syntax, built with test/loader-build.ts).

/** Ring-0 stub for an ELF64 guest: own GDT with ring-3 segments and a 64-bit TSS, user-accessible identity paging
 * (first 1 GiB, 2 MiB pages), an IDT whose vectors 0x20-0x2f go to `irq_handler` (which the guest defines), then
 * iretq to `user_entry` in ring 3 with IOPL=3 and IF as `userIf` says. Port I/O from ring 3 is allowed twice over: by
 * IOPL and by an all-zero I/O permission bitmap in the TSS (kvm_pvm ignores IOPL and checks only the bitmap). */
export function ring3Prelude(userIf = false): string {
  const rflags = userIf ? 0x3202 : 0x3002;
  return `
  .text
  .globl _start
_start:
  lgdt gdtr(%rip)
  pushq $0x08
  lea 1f(%rip), %rax
  pushq %rax
  lretq
1:
  mov $0x10, %eax
  mov %eax, %ds
  mov %eax, %es
  mov %eax, %ss
  mov %eax, %fs
  mov %eax, %gs
  lea tss(%rip), %rax
  mov %ax, tssdesc+2(%rip)
  shr $16, %rax
  mov %al, tssdesc+4(%rip)
  mov %ah, tssdesc+7(%rip)
  shr $16, %rax
  mov %eax, tssdesc+8(%rip)
  lea kstack_top(%rip), %rax
  mov %rax, tss+4(%rip)
  mov $0x28, %eax
  ltr %ax
  lea pml4(%rip), %rax
  mov %rax, %cr3
  lea idt(%rip), %rdi
  lea irq_handler(%rip), %rdx
  mov $0x40, %ecx  # 2 * vector
2:
  mov %rdx, %rax
  mov %ax, (%rdi,%rcx,8)
  movw $0x08, 2(%rdi,%rcx,8)
  movw $0x8e00, 4(%rdi,%rcx,8)
  shr $16, %rax
  mov %ax, 6(%rdi,%rcx,8)
  shr $16, %rax
  mov %eax, 8(%rdi,%rcx,8)
  add $2, %ecx
  cmp $0x60, %ecx  # vectors 0x20-0x2f
  jb 2b
  lidt idtr(%rip)
  lea ustack_top(%rip), %rax
  pushq $0x1b
  pushq %rax
  pushq $${rflags}
  pushq $0x23
  lea user_entry(%rip), %rax
  pushq %rax
  iretq

  .data
  .balign 16
gdt:
  .quad 0
  .quad 0x00af9b000000ffff  # 0x08 kernel code64
  .quad 0x00cf93000000ffff  # 0x10 kernel data
  .quad 0x00cff3000000ffff  # 0x18 user data (0x1b)
  .quad 0x00affb000000ffff  # 0x20 user code64 (0x23)
tssdesc:
  .quad 0x0000890000002068  # 0x28 TSS with I/O bitmap (base filled in at run time)
  .quad 0
gdt_end:
gdtr:
  .word gdt_end - gdt - 1
  .quad gdt
  .balign 16
idtr:
  .word 256 * 16 - 1
  .quad idt
  .balign 16
tss:
  .fill 102, 1, 0
  .word 104                 # I/O permission bitmap offset
  .fill 8192, 1, 0          # every port allowed
  .byte 0xff
  .balign 4096
pml4:
  .quad pdpt + 7
  .fill 511, 8, 0
pdpt:
  .quad pd + 7
  .fill 511, 8, 0
pd:
  .set i, 0
  .rept 512
  .quad (i << 21) | 0x87
  .set i, i + 1
  .endr
  .bss
  .balign 4096
idt:
  .skip 4096
  .skip 8192
kstack_top:
  .skip 8192
ustack_top:
`;
}

/** Ring-3 code printing the NUL-terminated string at %rsi on COM1 (clobbers %al, %dx, %rsi). */
const PUTS = `
puts:
  mov $0x3f8, %dx
1: movb (%rsi), %al
  test %al, %al
  jz 2f
  out %al, %dx
  inc %rsi
  jmp 1b
2: ret
`;

/** Ring-3 code printing %rax as 16 hex digits on COM1 (clobbers %rax, %rcx, %rdx, %rbx). */
const PUTHEX = `
puthex:
  mov %rax, %rbx
  mov $16, %ecx
  mov $0x3f8, %dx
1: rol $4, %rbx
  mov %bl, %al
  and $0xf, %al
  add $'0', %al
  cmp $'9', %al
  jbe 2f
  add $7, %al
2: out %al, %dx
  dec %ecx
  jnz 1b
  ret
`;

export interface SieveOptions {
  /** Sieve size in bytes (the array lives in .bss). */
  size: number;
  /** How many times the sieve runs; each round writes the round number to port 0x80 (one I/O exit). */
  rounds: number;
}

/** Number of primes below n. */
export function primeCount(n: number): number {
  const a = new Uint8Array(n);
  let c = 0;
  for (let i = 2; i < n; i++) {
    if (a[i]) continue;
    c++;
    for (let j = i * i; j < n; j += i) a[j] = 1;
  }
  return c;
}

/**
 * The ring-3 integer workload: a sieve of Eratosthenes over `size` bytes, `rounds` times, all in ring 3 (set up by
 * ring3Prelude). Prints "primes=<hex>\n" on COM1 and exits through isa-debug-exit with 0 when the count is
 * `primeCount(size)` (status 1), else 1 (status 3).
 */
export function sieveGuest({ size, rounds }: SieveOptions): string {
  return `${ring3Prelude()}
  .text
user_entry:
  mov $${rounds}, %r15d
outer:
  lea sieve(%rip), %rdi
  mov $${size}, %ecx
  xor %eax, %eax
  rep stosb
  lea sieve(%rip), %rsi
  xor %r12d, %r12d
  mov $2, %ebx
loop_i:
  cmp $${size}, %rbx
  jae done
  cmpb $0, (%rsi,%rbx)
  jne next_i
  inc %r12
  mov %rbx, %rcx
  imul %rbx, %rcx
  cmp $${size}, %rcx
  jae next_i
mark:
  movb $1, (%rsi,%rcx)
  add %rbx, %rcx
  cmp $${size}, %rcx
  jb mark
next_i:
  inc %rbx
  jmp loop_i
done:
  mov %r15d, %eax
  out %al, $0x80
  dec %r15d
  jnz outer
  lea msg(%rip), %rsi
  call puts
  mov %r12, %rax
  call puthex
  mov $'\\n', %al
  mov $0x3f8, %dx
  out %al, %dx
  xor %eax, %eax
  cmp $${primeCount(size)}, %r12
  setne %al
  out %al, $0xf4
  hlt
irq_handler:
  iretq
${PUTS}
${PUTHEX}
  .data
msg: .asciz "primes="
  .bss
  .balign 4096
sieve:
  .skip ${size}
`;
}

/** The expected UART output of sieveGuest. */
export function sieveOutput(size: number): string {
  return `primes=${primeCount(size).toString(16).toUpperCase().padStart(16, '0')}\n`;
}

/** Prints a string on COM1 from 32-bit code (flat segments) and exits with status 0x43. */
const BODY32 = `
  mov $0x3f8, %dx
  mov $msg32, %esi
1: movb (%esi), %al
  inc %esi
  test %al, %al
  jz 2f
  out %al, %dx
  jmp 1b
2: mov $0x21, %al
  out %al, $0xf4
  hlt
msg32: .asciz "hello from 32-bit\\n"
`;

/** An ELF kernel with the Xen PVH note (entered in 32-bit protected mode); link as ELF32 or ELF64. */
export function pvhGuest(bits: 32 | 64): string {
  return `
  .pushsection .note.Xen, "a", @note
  .balign 4
  .long 4, ${bits === 64 ? 8 : 4}, 18
  .asciz "Xen"
  .balign 4
  ${bits === 64 ? '.quad' : '.long'} pvh_start
  .popsection
  .text
  .code32
  .globl _start, pvh_start
_start:
pvh_start:
${BODY32}`;
}

/** A Multiboot (v1) ELF32 kernel. */
export const MULTIBOOT_GUEST = `
  .text
  .code32
  .globl _start
  .balign 4
mbh: .long 0x1BADB002, 3, -(0x1BADB002 + 3)
_start:
${BODY32}`;

export { HELLO64_GUEST } from './smoke-guests.ts';

/** Lines that point 64-bit IDT entry `vector` of `idt` (an interrupt gate, CS 0x08, DPL 0) to `handler`. */
export function idtGate(vector: number, handler: string): string {
  return `
  lea idt+${16 * vector}(%rip), %rdi
  lea ${handler}(%rip), %rax
  mov %ax, (%rdi)
  movw $0x08, 2(%rdi)
  movw $0x8e00, 4(%rdi)
  shr $16, %rax
  mov %ax, 6(%rdi)
  shr $16, %rax
  mov %eax, 8(%rdi)`;
}

/** The IDT that idtGate fills (256 entries) and its descriptor `idtr`. */
export const IDT_DATA = `
  .data
idtr: .word 4095
  .quad idt
  .bss
  .balign 4096
idt: .skip 4096
`;

/** Ring 0, long mode: an IDT entry for vector 0x20, then sti; hlt until three interrupts printed 'I'; exit 3. */
export const IRQ_HLT_GUEST = `
  .globl _start
_start:${idtGate(0x20, 'handler')}
  lidt idtr(%rip)
  xor %ebx, %ebx
1: sti
  hlt
  cli
  cmp $3, %ebx
  jb 1b
  mov %bl, %al
  out %al, $0xf4
handler:
  inc %ebx
  mov $0x3f8, %dx
  mov $'I', %al
  out %al, %dx
  iretq
${IDT_DATA}`;

/** Ring 0, long mode: INT 0x80 to a handler that prints 'A', then 'B' and exit 3. */
export const INT80_GUEST = `
  .globl _start
_start:${idtGate(0x80, 'handler')}
  lidt idtr(%rip)
  int $0x80
  mov $0x3f8, %dx
  mov $'B', %al
  out %al, %dx
  mov $1, %al
  out %al, $0xf4
handler:
  mov $0x3f8, %dx
  mov $'A', %al
  out %al, %dx
  iretq
${IDT_DATA}`;

/** Ring 3 with IF=1 spinning until an interrupt (any of 0x20-0x2f) sets a flag; then prints 'U' and spins again. */
export const RING3_SPIN_GUEST = `${ring3Prelude(true)}
  .text
user_entry:
1: cmpb $0, flag(%rip)
  je 1b
  mov $0x3f8, %dx
  mov $'U', %al
  out %al, %dx
  movb $0, flag(%rip)
  jmp 1b
irq_handler:
  movb $1, flag(%rip)
  iretq
  .data
flag: .byte 0
`;
