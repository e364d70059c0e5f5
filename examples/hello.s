# A tiny x86-64 guest: it starts in the state kemu's ELF64 loader gives (long mode, paging on, CPL 0), prints over
# COM1, computes 20! and exits through isa-debug-exit. `npm run demo` builds it with as/ld and boots it.
  .globl _start
  .text
_start:
  lea banner(%rip), %rsi
  call puts
  mov $1, %rax            # 20! fits in 64 bits
  mov $20, %rcx
1: imul %rcx, %rax
  loop 1b
  lea digits_end(%rip), %rdi
  mov $10, %rbx
2: xor %edx, %edx          # convert to decimal, last digit first
  div %rbx
  add $'0', %dl
  dec %rdi
  mov %dl, (%rdi)
  test %rax, %rax
  jnz 2b
  lea label(%rip), %rsi
  call puts
  mov %rdi, %rsi
  call puts
  lea newline(%rip), %rsi
  call puts
  xor %eax, %eax          # kemu exits with status (0 << 1) | 1 = 1, QEMU's isa-debug-exit convention
  out %al, $0xf4
  hlt

# Prints the NUL-terminated string at RSI, polling the UART's line status like a driver does.
puts:
  mov $0x3fd, %dx         # line status register
3: lodsb
  test %al, %al
  jz 5f
  mov %al, %ah
4: in %dx, %al
  test $0x20, %al         # transmitter holding register empty
  jz 4b
  mov %ah, %al
  sub $5, %dx
  out %al, %dx
  add $5, %dx
  jmp 3b
5: ret

  .data
banner:  .asciz "Hello from a kemu guest in 64-bit mode!\n"
label:   .asciz "20! = "
newline: .asciz "\n"
digits:  .skip 24
digits_end: .byte 0
