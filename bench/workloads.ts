// Guest workloads of `npm run bench`: ELF64 kernels with a Xen PVH note, so the same file boots on kemu (which
// enters PVH kernels like QEMU does) and on `qemu-system-x86_64 -kernel`. Each is one boot prelude (32-bit PVH entry
// -> page tables, GDT, long mode; then IDT, TSS, SYSCALL MSRs) and a workload function `bench_main` returning a
// checksum in RAX; the prelude prints "result=<hex>\n" on COM1 and exits through isa-debug-exit (port 0xf4, 0).
// Everything is deterministic, so the guest instruction count is the same on every emulator (kemu counts it).
import { buildKernel } from '../test/loader-build.ts';

export interface Workload {
  name: string;
  /** What it stresses, for the table. */
  what: string;
  /** Assembly of `bench_main` and anything it needs (sections as it likes; .text at the end). */
  body: string;
}

/**
 * The common part. Memory: identity map of the first 1 GiB, 4 KiB pages for the first 4 MiB (the page-fault
 * workload unmaps and remaps one of them), 2 MiB pages above; every page user-accessible and writable.
 * GDT: 0x08 kernel code, 0x10 kernel data, 0x18 user data, 0x20 user code (the SYSRET layout), 0x28 TSS.
 * IDT: #UD (6) skips the 2-byte ud2; #PF (14) maps the faulting 4 KiB page; anything else ends the run with
 * "fault <vector>". SYSCALL (from ring 3): rax=0 adds rdi to r14; 1 unmaps the page at rdi; 0xff ends the run
 * with result r14. `enter_user` (call with the user entry in rdi) drops to ring 3 on the user stack.
 */
function prelude(body: string): string {
  return `
  .pushsection .note.Xen, "a", @note
  .balign 4
  .long 4, 8, 18
  .asciz "Xen"
  .balign 4
  .quad pvh_start
  .popsection

  .text
  .code32
  .globl _start, pvh_start
_start:
pvh_start:
  cli
  mov $pml4, %edi          # zero the page tables (pml4, pdpt, pd, 2 page tables)
  mov $(5 * 1024), %ecx
  xor %eax, %eax
  rep stosl
  movl $(pdpt + 7), pml4
  movl $(pd + 7), pdpt
  movl $(pts + 7), pd
  movl $(pts + 4096 + 7), pd + 8
  mov $2, %ecx             # pd[2..511]: 2 MiB pages
1: mov %ecx, %eax
  shl $21, %eax
  or $0x87, %eax
  mov %eax, pd(,%ecx,8)
  inc %ecx
  cmp $512, %ecx
  jb 1b
  xor %ecx, %ecx           # pts[0..1023]: 4 KiB pages of the first 4 MiB
1: mov %ecx, %eax
  shl $12, %eax
  or $7, %eax
  mov %eax, pts(,%ecx,8)
  inc %ecx
  cmp $1024, %ecx
  jb 1b
  mov $pml4, %eax
  mov %eax, %cr3
  mov %cr4, %eax
  or $0x20, %eax           # PAE
  mov %eax, %cr4
  mov $0x277, %ecx         # PAT: the reset value (write-back for PAT entry 0)
  mov $0x00070406, %eax
  mov $0x00070406, %edx
  wrmsr
  mov $0xc0000080, %ecx    # EFER: LME | SCE
  rdmsr
  or $0x101, %eax
  wrmsr
  mov %cr0, %eax
  and $0x9fffffff, %eax    # caches on (CD, NW clear: under KVM they would really be off)
  or $0x80000001, %eax     # PG | PE
  mov %eax, %cr0
  lgdt gdtr
  ljmp $0x08, $long64

  .code64
long64:
  mov $0x10, %eax
  mov %eax, %ds
  mov %eax, %es
  mov %eax, %ss
  mov %eax, %fs
  mov %eax, %gs
  mov $kstack_top, %rsp
  pushq $2                 # RFLAGS: a known state (IRETQ faults with NT set)
  popfq
  mov $tss, %rax           # TSS descriptor base, RSP0
  mov %ax, tssdesc + 2
  shr $16, %rax
  mov %al, tssdesc + 4
  mov %ah, tssdesc + 7
  movq $kstack_top, tss + 4
  mov $0x28, %eax
  ltr %ax
  xor %ecx, %ecx           # IDT: every vector to its fault stub, then #UD and #PF
1: lea fault_stubs(,%rcx,8), %rdx
  call set_gate
  inc %ecx
  cmp $32, %ecx
  jb 1b
  mov $6, %ecx
  mov $ud_handler, %rdx
  call set_gate
  mov $14, %ecx
  mov $pf_handler, %rdx
  call set_gate
  lidt idtr
  mov $0xc0000081, %ecx    # STAR: SYSRET base 0x10, SYSCALL CS 0x08
  xor %eax, %eax
  mov $0x00100008, %edx
  wrmsr
  mov $0xc0000082, %ecx    # LSTAR
  mov $syscall_entry, %eax
  xor %edx, %edx
  wrmsr
  mov $0xc0000084, %ecx    # SFMASK: IF, TF, DF
  mov $0x700, %eax
  wrmsr
  xor %r14d, %r14d
  call bench_main
finish:                    # result in rax
  mov %rax, %rbx
  mov $msg_result, %rsi
  call puts
  mov $16, %ecx
1: rol $4, %rbx
  mov %ebx, %eax
  and $15, %eax
  movzbl hexdigits(%rax), %eax
  mov $0x3f8, %dx
  out %al, %dx
  dec %ecx
  jnz 1b
  mov $'\\n', %al
  out %al, %dx
  xor %eax, %eax
  out %al, $0xf4
2: hlt
  jmp 2b

puts:                      # rsi: NUL-terminated string
  mov $0x3f8, %dx
1: lodsb
  test %al, %al
  jz 2f
  out %al, %dx
  jmp 1b
2: ret

set_gate:                  # ecx: vector, rdx: handler; 64-bit interrupt gate, DPL 0
  mov %ecx, %eax
  shl $4, %eax
  mov %dx, idt(%rax)
  movw $0x08, idt + 2(%rax)
  movw $0x8e00, idt + 4(%rax)
  mov %rdx, %rdi
  shr $16, %rdi
  mov %di, idt + 6(%rax)
  shr $16, %rdi
  mov %edi, idt + 8(%rax)
  ret

enter_user:                # rdi: user entry
  pushq $0x1b
  pushq $ustack_top
  pushq $0x002
  pushq $0x23
  pushq %rdi
  iretq

ud_handler:
  addq $2, (%rsp)
  inc %r13
  iretq

pf_handler:
  push %rax
  push %rdx
  mov %cr2, %rdx
  mov %rdx, %rax
  shr $12, %rax
  cmp $1024, %rax
  jae fault_other
  orq $1, pts(,%rax,8)
  invlpg (%rdx)
  pop %rdx
  pop %rax
  add $8, %rsp
  iretq

  .balign 8
fault_stubs:               # 8 bytes each: vector in bl
  .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  mov $\\v, %bl
  jmp fault_common
  .balign 8
  .endr
fault_other:
  mov $14, %bl
fault_common:
  mov $kstack_top, %rsp
  mov $msg_fault, %rsi
  call puts
  movzbl %bl, %eax
  shr $4, %eax
  movzbl hexdigits(%rax), %eax
  out %al, %dx
  mov %bl, %al
  and $15, %eax
  movzbl hexdigits(%rax), %eax
  out %al, %dx
  mov $'\\n', %al
  out %al, %dx
  mov $3, %al
  out %al, $0xf4
  hlt

syscall_entry:             # no stack needed: rcx, r11 hold the user RIP and RFLAGS
  test %eax, %eax
  jnz 1f
  add %rdi, %r14
  sysretq
1: cmp $1, %eax
  jne 2f
  mov %rdi, %rax
  shr $12, %rax
  andq $-2, pts(,%rax,8)
  invlpg (%rdi)
  sysretq
2: mov $kstack_top, %rsp
  mov %r14, %rax
  jmp finish

  .data
  .balign 16
gdt:
  .quad 0
  .quad 0x00af9b000000ffff   # 0x08 kernel code64
  .quad 0x00cf93000000ffff   # 0x10 kernel data
  .quad 0x00cff3000000ffff   # 0x18 user data
  .quad 0x00affb000000ffff   # 0x20 user code64
tssdesc:
  .quad 0x0000890000000067   # 0x28 TSS (base filled in)
  .quad 0
gdt_end:
gdtr: .word gdt_end - gdt - 1
  .quad gdt
  .balign 16
idtr: .word 32 * 16 - 1
  .quad idt
tss: .fill 104, 1, 0
msg_result: .asciz "result="
msg_fault: .asciz "fault "
hexdigits: .ascii "0123456789abcdef"

  .bss
  .balign 4096
pml4: .skip 4096
pdpt: .skip 4096
pd: .skip 4096
pts: .skip 8192
idt: .skip 4096
  .skip 16384
kstack_top:
  .skip 16384
ustack_top:

  .text
${body}
`;
}

export function buildWorkload(w: Workload): Uint8Array {
  return buildKernel(prelude(w.body), { bits: 64, segment: 0x100000 });
}

/** The empty guest: boot and exit at once (what the wall times of a whole emulator process are reduced by). */
export const EMPTY: Workload = { name: 'empty', what: 'boot and exit', body: 'bench_main: xor %eax, %eax\n  ret' };

/** The benchmark workloads; `scale` multiplies their iteration counts (1: QEMU TCG takes 0.5-3 s on each). */
export function workloads(scale = 1): Workload[] {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  return [
    {
      name: 'integer',
      what: 'xorshift, imul, shifts, a 64-entry table',
      body: `
bench_main:
  mov $${n(20_000_000)}, %rcx
  mov $0x9e3779b97f4a7c15, %rax
  xor %ebx, %ebx
  mov $table, %rdi
1: mov %rax, %rdx
  shl $13, %rdx
  xor %rdx, %rax
  mov %rax, %rdx
  shr $7, %rdx
  xor %rdx, %rax
  mov %rax, %rdx
  shl $17, %rdx
  xor %rdx, %rax
  mov %eax, %edx
  and $63, %edx
  add (%rdi,%rdx,8), %rbx
  imul $31, %rbx, %rbx
  mov %rbx, (%rdi,%rdx,8)
  cmp %rax, %rbx
  jae 2f
  add $3, %rbx
2: dec %rcx
  jnz 1b
  mov %rbx, %rax
  ret
  .data
  .balign 8
table: .fill 64, 8, 1
  .text
`,
    },
    {
      name: 'memory',
      what: 'pointer chasing over 4 MiB (one full-period LCG cycle)',
      body: `
  .set NODES, 65536          # 64-byte nodes: 4 MiB
bench_main:
  mov $nodes, %rsi
  xor %ecx, %ecx            # node i -> node (5 i + 12345) mod NODES
1: imul $5, %ecx, %eax
  add $12345, %eax
  and $(NODES - 1), %eax
  shl $6, %rax
  add %rsi, %rax
  mov %rcx, %rdx
  shl $6, %rdx
  mov %rax, (%rsi,%rdx)
  mov %rcx, 8(%rsi,%rdx)
  inc %ecx
  cmp $NODES, %ecx
  jb 1b
  mov $${n(12_000_000)}, %rcx
  mov %rsi, %rdx
  xor %eax, %eax
2: add 8(%rdx), %rax
  mov (%rdx), %rdx
  xor %rcx, %rax
  dec %rcx
  jnz 2b
  ret
  .bss
  .balign 4096
nodes: .skip 65536 * 64
  .text
`,
    },
    {
      name: 'branchy',
      what: 'Collatz sequence lengths: data-dependent branches',
      body: `
bench_main:
  xor %r8d, %r8d            # total steps
  mov $1, %r9d              # n
1: mov %r9, %rax
2: cmp $1, %rax
  je 4f
  inc %r8
  test $1, %al
  jnz 3f
  shr %rax
  jmp 2b
3: lea 1(%rax,%rax,2), %rax
  jmp 2b
4: inc %r9
  cmp $${n(400_000)}, %r9
  jb 1b
  mov %r8, %rax
  ret
`,
    },
    {
      name: 'smc',
      what: 'self-modifying code: patch an immediate, call it',
      body: `
bench_main:
  mov $${n(300_000)}, %rcx
  xor %ebx, %ebx
1: mov %ecx, %eax
  and $0xffff, %eax
  mov %eax, patched + 1     # the imm32 of the mov below
  call patched
  add %rax, %rbx
  dec %rcx
  jnz 1b
  mov %rbx, %rax
  ret
  .section .text.smc, "ax"
  .balign 4096
patched:
  mov $0, %eax
  imul $3, %eax
  ret
  .balign 4096
  .text
`,
    },
    {
      name: 'syscall',
      what: 'ring 3 <-> ring 0 through SYSCALL/SYSRET',
      body: `
bench_main:
  mov $user, %rdi
  jmp enter_user
user:
  mov $${n(4_000_000)}, %ebx
1: xor %eax, %eax
  mov %rbx, %rdi
  syscall
  dec %ebx
  jnz 1b
  mov $0xff, %eax
  syscall
`,
    },
    {
      name: 'exceptions',
      what: 'ring 3: #UD and #PF handlers, SYSCALL to unmap',
      body: `
  .set TARGET, 0x300000
bench_main:
  mov $TARGET, %rdi         # start with the target page unmapped
  shr $12, %rdi
  andq $-2, pts(,%rdi,8)
  invlpg TARGET
  xor %r13d, %r13d
  mov $user, %rdi
  jmp enter_user
user:
  mov $${n(150_000)}, %ebx
  mov $TARGET, %r12
1: ud2
  add (%r12), %r14           # #PF: the handler maps the page
  mov %rbx, (%r12)
  mov $1, %eax               # unmap it again
  mov %r12, %rdi
  syscall
  xor %eax, %eax
  mov %rbx, %rdi
  syscall
  dec %ebx
  jnz 1b
  mov $0xff, %eax
  syscall
`,
    },
    {
      name: 'bootmix',
      what: 'rep stos/movs, checksums with calls, port I/O, CPUID',
      body: `
  .set BUF, 1048576
bench_main:
  mov $${n(40)}, %r15d
  xor %r12d, %r12d
0: mov $src, %rdi           # fill: rep stosq a pattern
  mov $(BUF / 8), %ecx
  mov %r15, %rax
  mov $0x0101010101010101, %rdx
  imul %rdx, %rax
  rep stosq
  mov $src, %rdi            # patch one word per 256 bytes
  xor %ecx, %ecx
1: mov %ecx, (%rdi,%rcx)
  add $256, %ecx
  cmp $BUF, %ecx
  jb 1b
  mov $src, %rsi            # copy: rep movsb
  mov $dst, %rdi
  mov $BUF, %ecx
  rep movsb
  mov $dst, %rsi            # checksum page by page
  xor %ebp, %ebp
2: call page_sum
  add %rax, %r12
  mov %bpl, %al
  out %al, $0x80
  add $4096, %ebp
  cmp $BUF, %ebp
  jb 2b
  mov $1, %eax
  cpuid
  dec %r15d
  jnz 0b
  mov %r12, %rax
  ret
page_sum:                   # rsi + rbp: 4 KiB, 16 bytes a step
  lea (%rsi,%rbp), %rdi
  xor %eax, %eax
  xor %ecx, %ecx
1: mov (%rdi,%rcx), %rdx
  add %rdx, %rax
  rol $3, %rax
  xor 8(%rdi,%rcx), %rax
  add $16, %ecx
  cmp $4096, %ecx
  jb 1b
  ret
  .bss
  .balign 4096
src: .skip BUF
dst: .skip BUF
  .text
`,
    },
  ];
}
