// Guest workloads for the benchmarks, built at bench time with GNU as/ld (nothing prebuilt is committed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'kemu-bench-'));

/** Assembles and links an x86-64 ELF guest at 1 MiB; returns its path. */
export function buildGuest(name: string, source: string): string {
  const base = join(dir, name);
  writeFileSync(`${base}.s`, source);
  execFileSync('as', ['--64', '-o', `${base}.o`, `${base}.s`]);
  execFileSync('ld', ['-m', 'elf_x86_64', '-nostdlib', '-z', 'max-page-size=0x1000', '-Ttext=0x100000', '-e', '_start', '-o', `${base}.elf`, `${base}.o`]);
  return `${base}.elf`;
}

export function readGuest(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/**
 * Integer/ALU workload: an xorshift generator feeding adds, multiplies, shifts, compares and a small table in
 * memory, `iters` times; exits through isa-debug-exit with a checksum byte.
 */
export function integerWorkload(iters: number): string {
  return `
  .globl _start
  _start:
    mov $${iters}, %rcx
    mov $0x9e3779b97f4a7c15, %rax
    xor %rbx, %rbx
    lea table(%rip), %rdi
  1:
    mov %rax, %rdx          # xorshift64
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
    add (%rdi,%rdx,8), %rbx  # table lookup
    imul $31, %rbx, %rbx
    mov %rbx, (%rdi,%rdx,8)
    cmp %rax, %rbx
    jae 2f
    add $3, %rbx
  2:
    dec %rcx
    jnz 1b
    mov %bl, %al
    out %al, $0xf4
  .data
  .balign 8
  table: .fill 64, 8, 1
  `;
}
