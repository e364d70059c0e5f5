// Guests for the system tests (test/cpu-sys-*.test.ts): flat binaries built with GNU as/ld at test time, loaded at
// 0x8000 and started in real mode, run on the software CPU (tcg) and, where /dev/kvm works, on KVM as a hardware
// oracle (the same guest, the same log, compared).
//
// LM_PRELUDE boots from real mode to long mode (GDT, 4-level paging with 2 MiB pages for the first GiB, a 64-bit
// TSS, an IDT whose 256 vectors all go to a recorder) and calls `test_main`; returning from it exits with status 1
// (isa-debug-exit value 0). The recorder appends a record per event to `log` and then resumes at `resume`
// (with RSP = `resume_rsp`), or returns with IRETQ if `resume` is 1. Macros: `T step` ... `E step` around
// instructions that should raise an event (or not), run_user/run_user32 to enter ring 3.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeGuest, type Outcome } from './accel-harness.ts';
import type { AccelName, VcpuExit } from '../src/accel/accelerator.ts';
import type { TcgVcpu } from '../src/accel/tcg.ts';
import { enableJit } from '../src/jit/compiler.ts';
import { realModeSegment, resetState, type CpuState } from '../src/cpu/state.ts';
import { Board } from '../src/machine/board.ts';
import { KvmAccelerator, probeKvm } from '../src/accel/kvm/accel.ts';
import { TcgAccelerator } from '../src/accel/tcg.ts';
import { CPU_EXTRA_BYTES } from '../src/cpu/cpu.ts';
import { GuestVcpu, emulateOne } from '../src/machine/switch.ts';

export const LOAD_ADDR = 0x8000;

let dir: string | undefined;
let n = 0;
function workDir(): string {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'kemu-sys-'));
    const d = dir;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}

export interface Guest {
  bin: Uint8Array;
  /** Address of a global or local symbol. */
  sym(name: string): number;
}

/** Assembles (GNU as, 64-bit object, any .code16/.code32/.code64 inside) and links a flat image at `load`. */
export function buildGuest(source: string, load = LOAD_ADDR): Guest {
  const base = join(workDir(), `g${n++}`);
  writeFileSync(`${base}.s`, source);
  try {
    execFileSync('as', ['--64', '-o', `${base}.o`, `${base}.s`], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`as failed:\n${(e as { stderr?: Buffer }).stderr?.toString()}`);
  }
  execFileSync('ld', ['-m', 'elf_x86_64', '-nostdlib', '--build-id=none', `-Ttext=0x${load.toString(16)}`, '-e', '_start',
    '-z', 'noexecstack', '-z', 'max-page-size=0x1000', '-o', `${base}.elf`, `${base}.o`]);
  execFileSync('objcopy', ['-O', 'binary', '-R', '.bss', `${base}.elf`, `${base}.bin`]);
  const syms = new Map<string, number>();
  for (const line of execFileSync('nm', [`${base}.elf`], { encoding: 'utf8' }).split('\n')) {
    const m = /^([0-9a-f]+) \w (\S+)$/.exec(line);
    if (m) syms.set(m[2]!, parseInt(m[1]!, 16));
  }
  return {
    bin: new Uint8Array(readFileSync(`${base}.bin`)),
    sym: (name) => {
      const v = syms.get(name);
      if (v === undefined) throw new Error(`no symbol ${name}`);
      return v;
    },
  };
}

/** The flat image only. */
export function buildFlat(source: string, load = LOAD_ADDR): Uint8Array {
  return buildGuest(source, load).bin;
}

let kvmProbe: boolean | undefined;
/** KVM is usable here (the hardware oracle). */
export function kvmUsable(): boolean {
  kvmProbe ??= probeKvm().ok;
  return kvmProbe;
}

export interface SysRun {
  outcome: Outcome;
  out: string;
  board: Board;
  state: CpuState;
  /** Instructions the software CPU ran for KVM (runFlat's `fallback`). */
  fallbacks?: number;
  u64(addr: number): bigint;
  u32(addr: number): number;
}

/** Real mode, CS:IP = 0000:entry, everything else as after RESET. */
export function realModeStart(entry = LOAD_ADDR): CpuState {
  const st = resetState();
  st.cs = realModeSegment(0, 0xb);
  st.rip = BigInt(entry);
  return st;
}

/**
 * Loads a flat binary at `load` and runs it from `state` until it exits, halts or shuts down. `fallback` (kvm):
 * instructions KVM cannot emulate run on the software CPU (src/machine/switch.ts emulateOne); `fallbacks` counts them.
 */
export function runFlat(
  bin: Uint8Array,
  accel: AccelName = 'tcg',
  opts: { load?: number; state?: CpuState; maxSlices?: number; ram?: number; jit?: boolean; fallback?: boolean } = {},
): SysRun {
  if (opts.fallback && accel === 'kvm') return runFlatWithFallback(bin, opts);
  const g = makeGuest(accel, opts.ram ?? 16 << 20);
  g.board.memory.write(opts.load ?? LOAD_ADDR, bin);
  g.vcpu.setState(opts.state ?? realModeStart(opts.load ?? LOAD_ADDR));
  // the JIT tier compiling every block before its first run: the same IR, compiled
  if (opts.jit) enableJit((g.vcpu as TcgVcpu).cpu, { threshold: 0 });
  const outcome = drive(g.board, () => g.vcpu.run(accel === 'tcg' ? 1_000_000 : 100_000), opts.maxSlices ?? 100);
  const r = sysRun(g.board, outcome, g.out(), g.vcpu.getState());
  g.accel.close();
  return r;
}

/** Runs slices until the guest exits or resets through a device, or a slice ends other than by its budget. */
function drive(board: Board, slice: () => VcpuExit, maxSlices: number): Outcome {
  let outcome: Outcome = { kind: 'budget' };
  for (let i = 0; i < maxSlices; i++) {
    const e = slice();
    const req = board.stopRequest;
    if (req) return req.kind === 'exit' ? { kind: 'exit', status: req.status } : { kind: 'stopped' };
    outcome = e;
    if (e.kind !== 'budget') break;
  }
  return outcome;
}

function sysRun(board: Board, outcome: Outcome, out: string, state: CpuState, fallbacks?: number): SysRun {
  return { outcome, out, board, state, fallbacks, u64: (a) => board.memory.readU64(a), u32: (a) => board.memory.readU32(a) };
}

function runFlatWithFallback(bin: Uint8Array, opts: Parameters<typeof runFlat>[2] & {}): SysRun {
  const bytes: number[] = [];
  const board = new Board({ ramSize: opts.ram ?? 16 << 20, cpuReserve: CPU_EXTRA_BYTES, output: (b) => bytes.push(...b) });
  const kvm = new KvmAccelerator(board.memory);
  const tcg = new TcgAccelerator(board.memory, { jit: 'off' });
  const g = new GuestVcpu(board, kvm);
  board.memory.write(opts.load ?? LOAD_ADDR, bin);
  g.vcpu.setState(opts.state ?? realModeStart(opts.load ?? LOAD_ADDR));
  let fallbacks = 0;
  // (each emulated instruction takes a slice of its own)
  const outcome = drive(board, () => {
    const e = g.vcpu.run(100_000);
    if (e.kind !== 'error' || !e.emulation) return e;
    fallbacks++;
    return emulateOne(g, tcg);
  }, (opts.maxSlices ?? 100) * 10);
  const r = sysRun(board, outcome, Buffer.from(bytes).toString('latin1'), g.vcpu.getState(), fallbacks);
  g.close();
  return r;
}

/** Runs on tcg and, when KVM is usable, on KVM too. */
export function runBoth(bin: Uint8Array, opts: Parameters<typeof runFlat>[2] = {}): { tcg: SysRun; kvm?: SysRun } {
  const tcg = runFlat(bin, 'tcg', opts);
  const kvm = kvmUsable() ? runFlat(bin, 'kvm', opts) : undefined;
  return { tcg, kvm };
}

// ---------------------------------------------------------------------------------------------------------------
// The long-mode environment

/** GDT selectors of LM_PRELUDE. */
export const SEL = {
  KCODE32: 0x08, KCODE64: 0x10, KDATA: 0x18, UCODE32: 0x23, UDATA: 0x2b, UCODE64: 0x33, CODE16: 0x38, TSS: 0x40,
  CALLGATE: 0x50,
  /** Spare descriptors tests overwrite: 0x60 0x68 0x70 0x78 (8 bytes each), 0x80/0x90 (16 bytes). */
  SPARE: 0x60,
};

/** Fixed physical addresses of the environment. */
export const ADDR = {
  PML4: 0x100000, PDPT: 0x101000, PD: 0x102000,
  /** Free memory for tests (page tables, data), 0x200000-0x3fffff identity mapped. */
  FREE: 0x200000,
  /** The event log: u64 count, then 128-byte records. */
  LOG: 0x60000,
};

export interface LogRecord {
  vector: number;
  cr2: bigint;
  /** Address of the first qword the CPU pushed (RSP before the stub's push). */
  frameAt: bigint;
  /** The 8 qwords from there up. */
  frame: bigint[];
  step: number;
  /** CS and SS in the handler, its RFLAGS. */
  cs: number;
  ss: number;
  rflags: bigint;
  /** RAX at the event. */
  rax: bigint;
}

export function readLog(r: SysRun): LogRecord[] {
  const count = Number(r.u64(ADDR.LOG));
  const out: LogRecord[] = [];
  for (let i = 0; i < count && i < 120; i++) {
    const a = ADDR.LOG + 64 + i * 128;
    const q = (k: number) => r.u64(a + 8 * k);
    out.push({
      vector: Number(q(0)), cr2: q(1), frameAt: q(2), frame: Array.from({ length: 8 }, (_, k) => q(3 + k)),
      step: Number(q(11)), cs: Number(q(12)), ss: Number(q(13)), rflags: q(14), rax: q(15),
    });
  }
  return out;
}

/** Log record vector value NOFAULT writes when no event happened. */
export const NO_EVENT = 0x100;

export const LM_PRELUDE = String.raw`
.intel_syntax noprefix
.set LOG, 0x60000
.set PML4, 0x100000
.set PDPT, 0x101000
.set PD, 0x102000

# T step ... E step: the instructions between expect an event (or none); the recorder resumes after E.
.macro T step:req
  mov qword ptr [rip + cur_step], \step
  mov [rip + resume_rsp], rsp
  push rax
  lea rax, [rip + .Lend_\step]
  mov [rip + resume], rax
  pop rax
.endm
.macro E step:req
  call log_noevent
.Lend_\step:
.endm

.macro EXIT code
  mov al, \code
  out 0xf4, al
.endm

# PD[1] -> a page table at 0x210000: 0x200000-0x3fffff as 4 KiB pages, identity, user, writable (CR3 not reloaded)
.macro MAP_4K_PD1
  mov rdi, 0x210000
  mov rax, 0x200007
  mov ecx, 512
1:
  mov [rdi], rax
  add rax, 0x1000
  add rdi, 8
  dec ecx
  jnz 1b
  mov qword ptr [PD + 8], 0x210007
.endm

.text
.code16
.globl _start
_start:
  cli
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x7000
  mov dx, 0x3f8
  mov al, 'R'
  out dx, al
  lgdt [gdt_ptr16]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  ljmp 0x08, offset pm32

.code32
pm32:
  mov ax, 0x18
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  mov esp, 0x90000
  mov dx, 0x3f8
  mov al, 'P'
  out dx, al
  # page tables: clear 3 pages, PML4[0] -> PDPT, PDPT[0] -> PD, PD: 512 x 2 MiB, user-accessible
  mov edi, PML4
  xor eax, eax
  mov ecx, 0x3000 / 4
1:
  mov [edi], eax
  add edi, 4
  dec ecx
  jnz 1b
  mov dword ptr [PML4], PDPT + 7
  mov dword ptr [PDPT], PD + 7
  mov edi, PD
  mov eax, 0x87
  mov ecx, 512
2:
  mov [edi], eax
  add eax, 0x200000
  add edi, 8
  dec ecx
  jnz 2b
  mov eax, cr4
  or eax, 0x20
  mov cr4, eax
  mov eax, PML4
  mov cr3, eax
  mov ecx, 0xc0000080
  rdmsr
  or eax, 0x901
  wrmsr
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  ljmp 0x10, offset lm64

.code64
lm64:
  mov ax, 0x18
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  lea rsp, [rip + kstack_top]
  mov dx, 0x3f8
  mov al, 'L'
  out dx, al
  # TSS descriptor at 0x40
  lea rax, [rip + tss]
  lea rdi, [rip + gdt]
  mov word ptr [rdi + 0x42], ax
  shr rax, 16
  mov byte ptr [rdi + 0x44], al
  mov byte ptr [rdi + 0x47], ah
  shr rax, 16
  mov dword ptr [rdi + 0x48], eax
  lea rax, [rip + rsp0_top]
  mov [rip + tss + 4], rax
  lea rax, [rip + ist1_top]
  mov [rip + tss + 36], rax
  mov ax, 0x40
  ltr ax
  # IDT: 256 interrupt gates to the stubs, DPL 0 (3 for vectors 3, 4 and 0x80)
  lea rdi, [rip + idt]
  lea rsi, [rip + stubs]
  xor ecx, ecx
3:
  mov rax, rsi
  mov word ptr [rdi], ax
  mov word ptr [rdi + 2], 0x10
  mov word ptr [rdi + 4], 0x8e00
  shr rax, 16
  mov word ptr [rdi + 6], ax
  shr rax, 16
  mov dword ptr [rdi + 8], eax
  mov dword ptr [rdi + 12], 0
  add rdi, 16
  add rsi, 16
  inc ecx
  cmp ecx, 256
  jne 3b
  lea rdi, [rip + idt]
  mov byte ptr [rdi + 3 * 16 + 5], 0xee
  mov byte ptr [rdi + 4 * 16 + 5], 0xee
  mov byte ptr [rdi + 0x80 * 16 + 5], 0xee
  lidt [rip + idt_ptr]
  mov qword ptr [LOG], 0
  call test_main
  EXIT 0
  hlt

# ---- event recorder ----
common:
  push rax
  push rbx
  push rcx
  push rdx
  mov rbx, [LOG]
  cmp rbx, 120
  jae fatal
  shl rbx, 7
  add rbx, LOG + 64
  mov rax, [rsp + 32]
  mov [rbx], rax
  mov rax, cr2
  mov [rbx + 8], rax
  lea rax, [rsp + 40]
  mov [rbx + 16], rax
  xor ecx, ecx
4:
  mov rax, [rsp + 40 + rcx * 8]
  mov [rbx + 24 + rcx * 8], rax
  inc ecx
  cmp ecx, 8
  jne 4b
  mov rax, [rip + cur_step]
  mov [rbx + 88], rax
  mov ax, cs
  movzx eax, ax
  mov [rbx + 96], rax
  mov ax, ss
  movzx eax, ax
  mov [rbx + 104], rax
  pushfq
  pop rax
  mov [rbx + 112], rax
  mov rax, [rsp + 24]
  mov [rbx + 120], rax
  inc qword ptr [LOG]
  mov rax, [rip + resume]
  cmp rax, 1
  je 5f
  test rax, rax
  jz fatal
  mov qword ptr [rip + resume], 0
  mov rsp, [rip + resume_rsp]
  jmp rax
5:
  mov rax, [rsp + 32]
  pop rdx
  pop rcx
  pop rbx
  cmp rax, 8
  je 6f
  cmp rax, 10
  jb 7f
  cmp rax, 14
  jbe 6f
  cmp rax, 17
  je 6f
7:
  pop rax
  add rsp, 8
  iretq
6:
  pop rax
  add rsp, 16
  iretq

fatal:
  EXIT 0x7f
  hlt

# records a "no event" entry and clears resume (the expected event did not happen)
log_noevent:
  push rax
  push rbx
  mov rbx, [LOG]
  shl rbx, 7
  add rbx, LOG + 64
  mov qword ptr [rbx], 0x100
  mov rax, [rip + cur_step]
  mov [rbx + 88], rax
  inc qword ptr [LOG]
  mov qword ptr [rip + resume], 0
  pop rbx
  pop rax
  ret

# run_user(rip = rdi, rsp = rsi, rflags = rdx): IRETQ to ring 3 (64-bit code); "returns" when an event resumes here
run_user:
  pop rax
  mov [rip + resume], rax
  mov [rip + resume_rsp], rsp
  push 0x2b
  push rsi
  push rdx
  push 0x33
  push rdi
  iretq

# run_user32: the same into 32-bit compatibility mode
run_user32:
  pop rax
  mov [rip + resume], rax
  mov [rip + resume_rsp], rsp
  push 0x2b
  push rsi
  push rdx
  push 0x23
  push rdi
  iretq

# puts(rdi): NUL-terminated string to COM1
puts:
  mov dx, 0x3f8
8:
  mov al, [rdi]
  test al, al
  jz 9f
  out dx, al
  inc rdi
  jmp 8b
9:
  ret

.balign 16
stubs:
.set vec, 0
.rept 256
  .balign 16
  .byte 0x68
  .long vec
  .byte 0xe9
  .long common - (. + 4)
  .set vec, vec + 1
.endr

.data
.balign 16
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff   # 0x08 kernel code32
  .quad 0x00af9a000000ffff   # 0x10 kernel code64
  .quad 0x00cf92000000ffff   # 0x18 kernel data
  .quad 0x00cffa000000ffff   # 0x20 user code32
  .quad 0x00cff2000000ffff   # 0x28 user data
  .quad 0x00affa000000ffff   # 0x30 user code64
  .quad 0x00009a000000ffff   # 0x38 16-bit code (for leaving long mode)
  .quad 0x0000890000002068   # 0x40 TSS (base patched), limit covers the I/O bitmap
  .quad 0
  .quad 0, 0                 # 0x50 call gate (tests fill it)
  .fill 16, 8, 0             # 0x60.. spare
gdt_end:
gdt_ptr16:
  .word gdt_end - gdt - 1
  .long gdt
.balign 8
idt_ptr:
  .word 256 * 16 - 1
  .quad idt
.balign 16
tss:
  .long 0
  .quad 0, 0, 0              # RSP0-2
  .quad 0
  .quad 0, 0, 0, 0, 0, 0, 0  # IST1-7
  .quad 0
  .word 0
  .word iobitmap - tss       # I/O map base
iobitmap:
  .fill 8192 / 8, 8, 0       # all ports allowed
  .byte 0xff
.balign 8
cur_step: .quad 0
resume: .quad 0
resume_rsp: .quad 0

.bss
.balign 4096
idt: .skip 4096
  .skip 8192
kstack_top:
  .skip 256
  .skip 4096
rsp0_top:
  .skip 256
  .skip 4096
ist1_top:
  .skip 256
  .skip 4096
ustack_top:
  .skip 256
`;

// ---------------------------------------------------------------------------------------------------------------
// The 32-bit protected-mode environment

/** GDT selectors of PM_PRELUDE. */
export const SEL32 = {
  KCODE: 0x08, KDATA: 0x10, UCODE: 0x1b, UDATA: 0x23, TSS: 0x28, CALLGATE: 0x30, CODE16: 0x38, DATA16: 0x40,
  /** Spare descriptors tests overwrite: 0x48 0x50 0x58 0x60. */
  SPARE: 0x48,
};

/**
 * Boots to 32-bit protected mode without paging (flat segments, a 32-bit TSS with SS0:ESP0, an IDT of 256 32-bit
 * interrupt gates to the recorder) and calls `test_main`. Same T/E macros, log format (dwords zero-extended) and
 * resume protocol as LM_PRELUDE; `run_user` (EIP = edi, ESP = esi, EFLAGS = edx) enters ring 3 with IRETD.
 */
export const PM_PRELUDE = String.raw`
.intel_syntax noprefix
.set LOG, 0x60000

.macro T step:req
  mov dword ptr [cur_step], \step
  mov dword ptr [resume], offset .Lend_\step
  mov [resume_esp], esp
.endm
.macro E step:req
  call log_noevent
.Lend_\step:
.endm
.macro EXIT code
  mov al, \code
  out 0xf4, al
.endm

.text
.code16
.globl _start
_start:
  cli
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x7000
  lgdt [gdt_ptr]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  ljmp 0x08, offset pm32

.code32
pm32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  mov esp, offset kstack_top
  # TSS descriptor base
  mov eax, offset tss
  mov word ptr [gdt + 0x2a], ax
  shr eax, 16
  mov byte ptr [gdt + 0x2c], al
  mov byte ptr [gdt + 0x2f], ah
  mov dword ptr [tss + 4], offset esp0_top
  mov dword ptr [tss + 8], 0x10
  mov ax, 0x28
  ltr ax
  # IDT: 32-bit interrupt gates, DPL 0 (3 for vectors 3, 4, 0x80)
  mov edi, offset idt
  mov esi, offset stubs
  xor ecx, ecx
1:
  mov eax, esi
  mov word ptr [edi], ax
  mov word ptr [edi + 2], 0x08
  mov word ptr [edi + 4], 0x8e00
  shr eax, 16
  mov word ptr [edi + 6], ax
  add edi, 8
  add esi, 16
  inc ecx
  cmp ecx, 256
  jne 1b
  mov byte ptr [idt + 3 * 8 + 5], 0xee
  mov byte ptr [idt + 4 * 8 + 5], 0xee
  mov byte ptr [idt + 0x80 * 8 + 5], 0xee
  lidt [idt_ptr]
  mov dword ptr [LOG], 0
  mov dword ptr [LOG + 4], 0
  call test_main
  EXIT 0
  hlt

common:
  push eax
  push ebx
  push ecx
  push ds
  push es
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ebx, [LOG]
  cmp ebx, 120
  jae fatal
  shl ebx, 7
  add ebx, LOG + 64
  mov ecx, 128 / 4
  xor eax, eax
2:
  mov [ebx + ecx * 4 - 4], eax
  dec ecx
  jnz 2b
  mov eax, [esp + 20]
  mov [ebx], eax
  mov eax, cr2
  mov [ebx + 8], eax
  lea eax, [esp + 24]
  mov [ebx + 16], eax
  xor ecx, ecx
3:
  mov eax, [esp + 24 + ecx * 4]
  mov [ebx + 24 + ecx * 8], eax
  inc ecx
  cmp ecx, 8
  jne 3b
  mov eax, [cur_step]
  mov [ebx + 88], eax
  mov ax, cs
  movzx eax, ax
  mov [ebx + 96], eax
  mov ax, ss
  movzx eax, ax
  mov [ebx + 104], eax
  pushfd
  pop eax
  mov [ebx + 112], eax
  mov eax, [esp + 16]
  mov [ebx + 120], eax
  inc dword ptr [LOG]
  mov eax, [resume]
  cmp eax, 1
  je 5f
  test eax, eax
  jz fatal
  mov dword ptr [resume], 0
  mov esp, [resume_esp]
  mov bx, 0x10
  mov ds, bx
  mov es, bx
  mov fs, bx
  mov gs, bx
  jmp eax
5:
  mov eax, [esp + 20]
  pop es
  pop ds
  pop ecx
  pop ebx
  cmp eax, 8
  je 6f
  cmp eax, 10
  jb 7f
  cmp eax, 14
  jbe 6f
  cmp eax, 17
  je 6f
7:
  pop eax
  add esp, 4
  iretd
6:
  pop eax
  add esp, 8
  iretd

fatal:
  EXIT 0x7f
  hlt

log_noevent:
  push eax
  push ebx
  mov ebx, [LOG]
  shl ebx, 7
  add ebx, LOG + 64
  mov dword ptr [ebx], 0x100
  mov dword ptr [ebx + 4], 0
  mov eax, [cur_step]
  mov [ebx + 88], eax
  inc dword ptr [LOG]
  mov dword ptr [resume], 0
  pop ebx
  pop eax
  ret

# run_user(eip = edi, esp = esi, eflags = edx): IRETD to ring 3
run_user:
  pop eax
  mov [resume], eax
  mov [resume_esp], esp
  mov ax, 0x23
  mov ds, ax
  mov es, ax
  push 0x23
  push esi
  push edx
  push 0x1b
  push edi
  iretd

puts:
  mov dx, 0x3f8
8:
  mov al, [edi]
  test al, al
  jz 9f
  out dx, al
  inc edi
  jmp 8b
9:
  ret

.balign 16
stubs:
.set vec, 0
.rept 256
  .balign 16
  .byte 0x68
  .long vec
  .byte 0xe9
  .long common - (. + 4)
  .set vec, vec + 1
.endr

.data
.balign 16
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff   # 0x08 kernel code
  .quad 0x00cf92000000ffff   # 0x10 kernel data
  .quad 0x00cffa000000ffff   # 0x18 user code
  .quad 0x00cff2000000ffff   # 0x20 user data
  .quad 0x0000890000002068   # 0x28 TSS (base patched)
  .quad 0                    # 0x30 call gate
  .quad 0x00009a000000ffff   # 0x38 code16
  .quad 0x000092000000ffff   # 0x40 data16
  .fill 8, 8, 0              # 0x48.. spare
gdt_end:
gdt_ptr:
  .word gdt_end - gdt - 1
  .long gdt
idt_ptr:
  .word 256 * 8 - 1
  .long idt
.balign 16
tss:
  .long 0
  .long 0, 0                 # ESP0, SS0
  .long 0, 0, 0, 0           # ESP1 SS1 ESP2 SS2
  .fill 18, 4, 0             # CR3 ... LDT
  .word 0                    # 0x64: T
  .word iobitmap - tss       # 0x66: I/O map base
iobitmap:
  .fill 8192 / 4, 4, 0
  .byte 0xff
.balign 4
cur_step: .long 0
resume: .long 0
resume_esp: .long 0

.bss
.balign 4096
idt: .skip 2048
  .skip 8192
kstack_top:
  .skip 4096
esp0_top:
  .skip 4096
esp1_top:
  .skip 4096
ustack_top:
  .skip 256
`;
