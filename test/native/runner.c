// The native side of the CPU oracle (test/util/oracle.ts): runs x86-64 snippets on this machine's CPU and records
// the architectural outcome, so kemu can be compared against real hardware.
//
// Input file (little endian): u32 magic 'KORC', u32 nCodes, u32 nCases;
//   nCodes x { u32 len; u8 bytes[len] }
//   nCases x { u32 code; u64 regs[16]; u64 rflags; u32 dataLen; u8 data[dataLen]; u32 outLen;
//              u32 segs (bit 0: set the FS base, bit 1: the GS base); u64 fsBase; u64 gsBase;
//              u8 fx[512] (the x87/SSE state, an FXSAVE image, loaded with FXRSTOR before the snippet) }
// Output file: nCases x { u32 vector (0xffffffff: none); u32 err; u64 regs[16]; u64 rflags; u64 rip; u8 data[outLen];
//              u8 fx[512] (FXSAVE image after the snippet, or at the faulting instruction) }
//
// Each case: the code goes to CODE_ADDR followed by a jump to `epilogue`; the data area is zeroed and the case's
// bytes copied to its start; all sixteen GPRs (RSP included) and RFLAGS are loaded and the code runs. The epilogue
// (or, after an exception, the signal handler) records the registers and returns to C. Snippets for 32-bit code
// bring their own far jumps into Linux's compatibility-mode code segment (0x23) and back (0x33).
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define CODE_ADDR 0x600000UL
#define CODE_SIZE 0x10000UL
#define DATA_ADDR 0x700000UL
#define DATA_SIZE 0x10000UL

// Shared with the assembly below.
extern uint64_t k_init[17];  // rax..r15, rflags
extern uint64_t k_out[17];
extern uint64_t k_host_rsp;
extern uint64_t k_code_ptr;
extern void k_run(void);
extern char k_epilogue[];
extern char k_resume[];
extern uint8_t k_fx_in[512], k_fx_out[512], k_fx_host[512];

__asm__(
    ".intel_syntax noprefix\n"
    ".bss\n"
    ".p2align 4\n"
    ".globl k_init\n .hidden k_init\n k_init: .skip 17*8\n"
    ".globl k_out\n .hidden k_out\n k_out: .skip 17*8\n"
    ".globl k_host_rsp\n .hidden k_host_rsp\n k_host_rsp: .skip 8\n"
    ".globl k_code_ptr\n .hidden k_code_ptr\n k_code_ptr: .skip 8\n"
    "k_flag_stack: .skip 64\n k_flag_top:\n"
    ".p2align 4\n"
    ".globl k_fx_in\n .hidden k_fx_in\n k_fx_in: .skip 512\n"
    ".globl k_fx_out\n .hidden k_fx_out\n k_fx_out: .skip 512\n"
    ".globl k_fx_host\n .hidden k_fx_host\n k_fx_host: .skip 512\n"
    ".text\n"
    ".globl k_run\n .hidden k_run\n"
    "k_run:\n"
    "  push rbx\n push rbp\n push r12\n push r13\n push r14\n push r15\n"
    "  mov [rip+k_host_rsp], rsp\n"
    "  fxsave64 [rip+k_fx_host]\n"
    "  fxrstor64 [rip+k_fx_in]\n"
    "  push qword ptr [rip+k_init+128]\n"
    "  popfq\n"
    "  mov rax, [rip+k_init+0]\n mov rcx, [rip+k_init+8]\n mov rdx, [rip+k_init+16]\n mov rbx, [rip+k_init+24]\n"
    "  mov rbp, [rip+k_init+40]\n mov rsi, [rip+k_init+48]\n mov rdi, [rip+k_init+56]\n"
    "  mov r8, [rip+k_init+64]\n mov r9, [rip+k_init+72]\n mov r10, [rip+k_init+80]\n mov r11, [rip+k_init+88]\n"
    "  mov r12, [rip+k_init+96]\n mov r13, [rip+k_init+104]\n mov r14, [rip+k_init+112]\n mov r15, [rip+k_init+120]\n"
    "  mov rsp, [rip+k_init+32]\n"
    "  jmp qword ptr [rip+k_code_ptr]\n"
    ".globl k_epilogue\n .hidden k_epilogue\n"
    "k_epilogue:\n"
    "  mov [rip+k_out+0], rax\n mov [rip+k_out+8], rcx\n mov [rip+k_out+16], rdx\n mov [rip+k_out+24], rbx\n"
    "  mov [rip+k_out+32], rsp\n mov [rip+k_out+40], rbp\n mov [rip+k_out+48], rsi\n mov [rip+k_out+56], rdi\n"
    "  mov [rip+k_out+64], r8\n mov [rip+k_out+72], r9\n mov [rip+k_out+80], r10\n mov [rip+k_out+88], r11\n"
    "  mov [rip+k_out+96], r12\n mov [rip+k_out+104], r13\n mov [rip+k_out+112], r14\n mov [rip+k_out+120], r15\n"
    "  lea rsp, [rip+k_flag_top]\n"
    "  pushfq\n"
    "  pop qword ptr [rip+k_out+128]\n"
    "  fxsave64 [rip+k_fx_out]\n"
    ".globl k_resume\n .hidden k_resume\n"
    "k_resume:\n"
    "  fxrstor64 [rip+k_fx_host]\n"
    "  cld\n"
    "  mov rsp, [rip+k_host_rsp]\n"
    "  pop r15\n pop r14\n pop r13\n pop r12\n pop rbp\n pop rbx\n"
    "  ret\n"
    ".att_syntax prefix\n");

static volatile int fault_vector;
static volatile uint32_t fault_err;
static volatile uint64_t fault_rip;

// greg index of each GPR in encoding order
static const int GREG[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                             REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};

static void on_fault(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ctx;
  greg_t *g = uc->uc_mcontext.gregs;
  for (int i = 0; i < 16; i++) k_out[i] = (uint64_t)g[GREG[i]];
  k_out[16] = (uint64_t)g[REG_EFL];
  fault_vector = (int)g[REG_TRAPNO];
  fault_err = (uint32_t)g[REG_ERR];
  fault_rip = (uint64_t)g[REG_RIP];
  // the x87/SSE state at the fault: the signal frame's XSAVE image (components in their initial state may be
  // left unwritten there: XSTATE_BV says which)
  const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
  memcpy(k_fx_out, fp, 512);
  uint32_t magic;
  memcpy(&magic, fp + 464, 4);
  if (magic == 0x46505853U) {  // FP_XSTATE_MAGIC1: an XSAVE header follows the legacy area
    uint64_t bv;
    memcpy(&bv, fp + 512, 8);
    if (!(bv & 1)) {
      memset(k_fx_out, 0, 24);
      k_fx_out[0] = 0x7f, k_fx_out[1] = 0x03;
      memset(k_fx_out + 32, 0, 128);
    }
    if (!(bv & 2)) memset(k_fx_out + 160, 0, 256);
  }
  g[REG_RIP] = (greg_t)(uintptr_t)k_resume;
  // a fault in a compatibility-mode (32-bit) snippet: resume in 64-bit code
  g[REG_CSGSFS] = (g[REG_CSGSFS] & ~(greg_t)0xffff) | 0x33;
  g[REG_EFL] &= ~(greg_t)0x400;
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)n + 1);
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) { perror("read"); exit(2); }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static const uint8_t *cur, *end;
static uint32_t rd32(void) {
  if (cur + 4 > end) { fprintf(stderr, "input truncated\n"); exit(2); }
  uint32_t v;
  memcpy(&v, cur, 4);
  cur += 4;
  return v;
}
static uint64_t rd64(void) {
  if (cur + 8 > end) { fprintf(stderr, "input truncated\n"); exit(2); }
  uint64_t v;
  memcpy(&v, cur, 8);
  cur += 8;
  return v;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: runner IN OUT\n"); return 2; }
  size_t len;
  uint8_t *in = read_file(argv[1], &len);
  cur = in;
  end = in + len;
  if (rd32() != 0x43524f4b) { fprintf(stderr, "bad magic\n"); return 2; }
  uint32_t ncodes = rd32(), ncases = rd32();
  const uint8_t **codes = calloc(ncodes, sizeof *codes);
  uint32_t *codelen = calloc(ncodes, sizeof *codelen);
  for (uint32_t i = 0; i < ncodes; i++) {
    codelen[i] = rd32();
    codes[i] = cur;
    cur += codelen[i];
    if (cur > end || codelen[i] + 16 > CODE_SIZE) { fprintf(stderr, "bad code %u\n", i); return 2; }
  }

  uint8_t *code = mmap((void *)CODE_ADDR, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  uint8_t *data = mmap((void *)DATA_ADDR, DATA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                       -1, 0);
  if (code != (void *)CODE_ADDR || data != (void *)DATA_ADDR) { fprintf(stderr, "mmap at fixed addresses failed\n"); return 2; }

  static uint8_t altstack[1 << 16];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGFPE, SIGSEGV, SIGBUS, SIGILL, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);

  FILE *out = fopen(argv[2], "wb");
  if (!out) { perror(argv[2]); return 2; }
  uint32_t last = 0xffffffff;
  for (uint32_t c = 0; c < ncases; c++) {
    uint32_t ci = rd32();
    if (ci >= ncodes) { fprintf(stderr, "bad code index\n"); return 2; }
    for (int i = 0; i < 17; i++) k_init[i] = rd64();
    uint32_t dlen = rd32();
    if (dlen > DATA_SIZE || cur + dlen > end) { fprintf(stderr, "bad data\n"); return 2; }
    memset(data, 0, DATA_SIZE);
    memcpy(data, cur, dlen);
    cur += dlen;
    uint32_t olen = rd32();
    if (olen > DATA_SIZE) { fprintf(stderr, "bad out length\n"); return 2; }
    if (ci != last) {
      // code, then `jmp qword ptr [rip+0]` with the epilogue's address
      memcpy(code, codes[ci], codelen[ci]);
      uint8_t *j = code + codelen[ci];
      j[0] = 0xff; j[1] = 0x25; j[2] = j[3] = j[4] = j[5] = 0;
      uint64_t ep = (uint64_t)(uintptr_t)k_epilogue;
      memcpy(j + 6, &ep, 8);
      __builtin___clear_cache((char *)code, (char *)j + 14);
      last = ci;
    }
    uint32_t segs = rd32();
    uint64_t fs = rd64(), gs = rd64();
    if (cur + 512 > end) { fprintf(stderr, "input truncated\n"); return 2; }
    memcpy(k_fx_in, cur, 512);
    cur += 512;
    k_code_ptr = CODE_ADDR;
    fault_vector = -1;
    fault_err = 0;
    fault_rip = 0;
    // FS holds the C library's thread pointer: swap it only around the snippet (nothing in between uses TLS)
    uint64_t oldfs = 0, oldgs = 0;
    if (segs & 1) { syscall(SYS_arch_prctl, ARCH_GET_FS, &oldfs); syscall(SYS_arch_prctl, ARCH_SET_FS, fs); }
    if (segs & 2) { syscall(SYS_arch_prctl, ARCH_GET_GS, &oldgs); syscall(SYS_arch_prctl, ARCH_SET_GS, gs); }
    k_run();
    if (segs & 1) syscall(SYS_arch_prctl, ARCH_SET_FS, oldfs);
    if (segs & 2) syscall(SYS_arch_prctl, ARCH_SET_GS, oldgs);
    uint32_t vec = fault_vector < 0 ? 0xffffffffu : (uint32_t)fault_vector;
    uint32_t err = fault_err;
    fwrite(&vec, 4, 1, out);
    fwrite(&err, 4, 1, out);
    fwrite(k_out, 8, 17, out);
    uint64_t rip = fault_rip;
    fwrite(&rip, 8, 1, out);
    fwrite(data, 1, olen, out);
    fwrite(k_fx_out, 1, 512, out);
  }
  fclose(out);
  return 0;
}
