// The two smallest ELF64 guests, shared by the software-CPU, JIT and accelerator tests.

/** Prints "hello from kemu\n" on COM1 and exits through isa-debug-exit with status 0x43. */
export const HELLO64_GUEST = `
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
`;

/** A loop, a call and signed/unsigned compares; exits with status 3 if all agree, 5 otherwise. */
export const CALLS_GUEST = `
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
`;

/** Echoes COM1 input with the case of letters swapped until a newline, then exits with status 1. */
export const ECHO_GUEST = `
  .globl _start
_start:
  mov $0x3f8, %dx
1: add $5, %dx
2: in %dx, %al
  test $1, %al          # data ready
  jz 2b
  sub $5, %dx
  in %dx, %al
  cmp $'\\n', %al
  je 3f
  xor $0x20, %al        # swap case
  out %al, %dx
  jmp 1b
3: mov $0, %al
  out %al, $0xf4
`;
