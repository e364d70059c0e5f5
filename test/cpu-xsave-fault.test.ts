// Which byte a #PF of a state-image instruction reports in CR2 (FXSAVE/FXRSTOR, XSAVE/XSAVEOPT/XSAVEC/XRSTOR,
// FNSAVE/FRSTOR/FNSTENV/FLDENV), measured natively against kemu. The images span up to 576 bytes, so they can lie
// wholly in a faulting page or cross from a good page into a faulting one or the other way; the byte reported
// follows the order in which the CPU checks the image (src/cpu/fpu/mem.ts). The fuzzer found the FXSAVE/FXRSTOR
// case (kvm reported the image's last byte, kemu its first); the native oracle (test/util/oracle.ts) compares
// vectors and #PF error codes but not CR2, so this test has its own native side: a C program that runs each case on
// an area whose middle page is PROT_NONE and prints the faulting address (si_addr) and the error code's W bit.
// kemu runs the same bytes in ring 3 in the fuzzer's world (src/fuzz/env.ts), whose data area has unmapped pages
// on both sides.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseState, CODE_BASE, DATA_BASE, DATA_SIZE, Lane, TERMINATOR } from '../src/fuzz/env.ts';
import { NATIVE_ORACLE } from './util/oracle.ts';
import { scratchDir } from './util/gnu.ts';

/** The instructions, all with the image at [rdi] (RAX = 3, RDX = 0: XSAVE's x87|SSE), and their image sizes. */
const INSNS: { name: string; bytes: number[]; size: number; align: number }[] = [
  { name: 'fxsave', bytes: [0x0f, 0xae, 0x07], size: 512, align: 16 },
  { name: 'fxrstor', bytes: [0x0f, 0xae, 0x0f], size: 512, align: 16 },
  { name: 'fxsave64', bytes: [0x48, 0x0f, 0xae, 0x07], size: 512, align: 16 },
  { name: 'xsave', bytes: [0x0f, 0xae, 0x27], size: 576, align: 64 },
  { name: 'xsaveopt', bytes: [0x0f, 0xae, 0x37], size: 576, align: 64 },
  { name: 'xsavec', bytes: [0x0f, 0xc7, 0x27], size: 576, align: 64 },
  { name: 'xrstor', bytes: [0x0f, 0xae, 0x2f], size: 576, align: 64 },
  { name: 'fnsave', bytes: [0xdd, 0x37], size: 108, align: 1 },
  { name: 'frstor', bytes: [0xdd, 0x27], size: 108, align: 1 },
  { name: 'fnstenv', bytes: [0xd9, 0x37], size: 28, align: 1 },
  { name: 'fldenv', bytes: [0xd9, 0x27], size: 28, align: 1 },
];

/** Offsets of the image in the native area (page 1 faults): wholly in page 1, crossing 0 -> 1, crossing 1 -> 2. */
function offsets(size: number, align: number): number[] {
  const out = [0x1000, 0x1400, 0x1000 - 0x40, 0x1000 - size + 0x40, 0x2000 - 0x40, 0x2000 - size + 0x40];
  if (align === 16) out.push(0x1000 - 0x10, 0x2000 - 0x10, 0x1000 - size + 0x10);
  if (align === 1) out.push(0x1000 - 1, 0x1000 - 3, 0x2000 - 1, 0x2000 - 3, 0x1000 - size + 1, 0x1000 - size + 2, 0x2000 - size + 1);
  // (aligned down; those that miss page 1 dropped)
  return [...new Set(out.map((o) => o - (o % align)))].filter((o) => o < 0x2000 && o + size > 0x1000);
}

interface Case {
  insn: number;
  off: number;
  /** With alignment checks on (EFLAGS.AC; CR0.AM is set on both sides), in a good page. */
  ac?: boolean;
}

const CASES: Case[] = [
  ...INSNS.flatMap((x, insn) => offsets(x.size, x.align).map((off) => ({ insn, off }))),
  ...INSNS.flatMap((_, insn) => [0, 1, 2, 3, 4, 6, 8, 12, 32].map((k) => ({ insn, off: 0x100 + k, ac: true }))),
];

/** Natively: each case's fault as "offset-from-image w" or "none". */
function runNative(): string[] {
  const fns = INSNS.map((x, i) =>
    `static void f${i}(char *p, int ac) { __asm__ volatile(
      "test %%ecx, %%ecx; jz 1f; pushfq; orq $0x40000, (%%rsp); popfq; 1:\\n"
      ".byte ${x.bytes.map((b) => '0x' + b.toString(16)).join(',')}\\n"
      "pushfq; andq $~0x40000, (%%rsp); popfq" :: "D"(p), "a"(3L), "d"(0L), "c"(ac) : "memory", "cc"); }`,
  );
  const src = `#define _GNU_SOURCE
#include <stdio.h>
#include <signal.h>
#include <setjmp.h>
#include <string.h>
#include <ucontext.h>
#include <sys/mman.h>
static sigjmp_buf jb;
static char *fault;
static long err;
static int sig, code;
static void h(int s, siginfo_t *si, void *u) {
  __asm__ volatile("pushfq; andq $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
  sig = s;
  code = si->si_code;
  fault = si->si_addr;
  err = ((ucontext_t *)u)->uc_mcontext.gregs[REG_ERR];
  siglongjmp(jb, 1);
}
${fns.join('\n')}
static void (*const fn[])(char *, int) = { ${INSNS.map((_, i) => `f${i}`).join(', ')} };
static const int cases[][3] = { ${CASES.map((c) => `{${c.insn}, ${c.off}, ${c.ac ? 1 : 0}}`).join(', ')} };
int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGBUS, &sa, 0);
  char *base = mmap(0, 0x3000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return 2;
  memset(base, 0, 0x3000);
  mprotect(base + 0x1000, 0x1000, PROT_NONE);
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *p = base + cases[i][1];
    if (!sigsetjmp(jb, 1)) {
      fn[cases[i][0]](p, cases[i][2]);
      __asm__ volatile("fninit");
      printf("none\\n");
    } else {
      __asm__ volatile("fninit");
      if (sig == SIGBUS) printf("#AC\\n");
      else if (code == SI_KERNEL) printf("#GP\\n");
      else printf("%ld %d\\n", (long)(fault - p), (int)((err >> 1) & 1));
    }
  }
  return 0;
}
`;
  const dir = scratchDir();
  const c = join(dir, `xsave-fault-${process.pid}.c`);
  const exe = join(dir, `xsave-fault-${process.pid}`);
  writeFileSync(c, src);
  try {
    execFileSync('gcc', ['-O1', '-o', exe, c]);
    return execFileSync(exe, { encoding: 'utf8', timeout: 20_000 }).trim().split('\n');
  } finally {
    rmSync(c, { force: true });
    rmSync(exe, { force: true });
  }
}

describe.skipIf(!NATIVE_ORACLE.ok)('#PF address of state-image instructions (native CR2)', () => {
  const lane = new Lane('tcg');
  afterAll(() => lane.close());

  /**
   * kemu: native page 1 is an unmapped page of the fuzzer's world next to the data area: the one after it, or, for
   * an image that reaches native page 2, the one before it (native page 2 is then the data area's first page).
   */
  function runKemu(c: Case): string {
    const x = INSNS[c.insn]!;
    const page1 = c.ac ? DATA_BASE + 0x1000 : c.off + x.size > 0x2000 ? DATA_BASE - 0x1000 : DATA_BASE + DATA_SIZE;
    const addr = page1 - 0x1000 + c.off;
    const st = baseState();
    if (c.ac) st.rflags |= 0x40000n;
    st.gpr = st.gpr.map(() => 0n);
    st.gpr[0] = 3n;
    st.gpr[4] = BigInt(DATA_BASE + 0x800);
    st.gpr[7] = BigInt(addr);
    lane.memory.write(CODE_BASE, Uint8Array.of(...x.bytes, ...TERMINATOR));
    lane.memory.fill(DATA_BASE, DATA_SIZE);
    lane.codeChanged();
    const r = lane.run(st);
    if (r.kind === 'end') return 'none';
    if (r.kind === 'exception' && r.vector === 17) return '#AC';
    if (r.kind === 'exception' && r.vector === 13) return '#GP';
    if (r.kind !== 'exception' || r.vector !== 14) return `vector ${r.vector}`;
    return `${Number(r.state.cr2) - addr} ${(Number(r.frame[0]) >> 1) & 1}`;
  }

  it('reports the byte the CPU checks first that faults (FXSAVE/FXRSTOR: the last; XRSTOR: the header)', () => {
    const native = runNative();
    expect(native).toHaveLength(CASES.length);
    const mismatches = CASES.flatMap((c, i) => {
      const k = runKemu(c);
      const n = native[i]!;
      return k === n ? [] : [`${INSNS[c.insn]!.name} at page offset ${c.off.toString(16)}: native ${n}, kemu ${k} (fault offset, W)`];
    });
    expect(mismatches).toEqual([]);
    // every #PF case faults natively (the offsets all reach the PROT_NONE page)
    expect(native.filter((l, i) => l === 'none' && !CASES[i]!.ac)).toEqual([]);
  });
});
