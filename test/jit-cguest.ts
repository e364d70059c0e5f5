// A freestanding C guest (gcc -O2 at test/bench time): CRC32 table, a sieve, insertion sort, recursion, 64-bit
// arithmetic; prints four hex lines on COM1 and exits through isa-debug-exit.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKernel } from './loader-build.ts';

export function buildCGuest(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'kemu-cguest-'));
  try {
    writeFileSync(join(dir, 'g.c'), C_GUEST);
    execFileSync('gcc', ['-O2', '-S', '-ffreestanding', '-fno-pic', '-fno-pie', '-mno-red-zone', '-fno-stack-protector',
      '-mgeneral-regs-only', '-fno-asynchronous-unwind-tables', '-fcf-protection=none', '-fno-builtin', '-o', join(dir, 'g.s'), join(dir, 'g.c')]);
    return buildKernel(`.globl _start\n_start: call kmain\nhlt\n${readFileSync(join(dir, 'g.s'), 'utf8')}`, { bits: 64 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const C_GUEST = String.raw`
typedef unsigned long u64; typedef unsigned int u32; typedef unsigned char u8;
static inline void outb(unsigned short p, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static void puts_(const char *s) { while (*s) outb(0x3f8, *s++); }
static void puthex(u64 v) { char b[17]; for (int i = 15; i >= 0; i--) { b[i] = "0123456789abcdef"[v & 15]; v >>= 4; } b[16] = 0; puts_(b); puts_("\n"); }
static u32 crc_table[256];
static u32 crc32(const u8 *p, int n) { u32 c = ~0u; while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8); return ~c; }
static u8 sieve[20000];
static int arr[2000];
static u64 fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static void sort(int *a, int n) { for (int i = 1; i < n; i++) { int v = a[i], j = i - 1; while (j >= 0 && a[j] > v) { a[j + 1] = a[j]; j--; } a[j + 1] = v; } }
void kmain(void) {
  for (u32 i = 0; i < 256; i++) { u32 c = i; for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1; crc_table[i] = c; }
  int primes = 0;
  for (int i = 2; i < 20000; i++) { if (!sieve[i]) { primes++; for (int j = i * 2; j < 20000; j += i) sieve[j] = 1; } }
  puthex(primes);
  u64 x = 88172645463325252ull;
  for (int i = 0; i < 2000; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; arr[i] = (int)(x % 100000) - 50000; }
  sort(arr, 2000);
  puthex(crc32((const u8 *)arr, sizeof arr));
  puthex(fib(20));
  u64 h = 0; for (u64 i = 1; i < 3000; i++) h = h * 31 + (i * i) / (i % 7 + 1) + (i << (i & 15)) + (h >> 3);
  puthex(h);
  outb(0xf4, 0);
}
`;
