// MSRs, control and debug registers, descriptor-table stores, string I/O, far transfers between 64-bit and
// compatibility mode, and the way back from long mode to real mode. Checked against the manuals and, where KVM
// here runs them natively, against KVM.
import { describe, expect, it } from 'vitest';
import { LM_PRELUDE, NO_EVENT, buildGuest, kvmUsable, readLog, runFlat, type LogRecord, type SysRun } from './cpu-sys-guest.ts';

const GUEST = LM_PRELUDE + String.raw`
.set RESULT, 0x70000
.macro RDMSR_TO idx, off
  mov ecx, \idx
  rdmsr
  mov [RESULT + \off], eax
  mov [RESULT + \off + 4], edx
.endm
.macro WRMSR_Q idx, value
  mov ecx, \idx
  mov rax, \value
  mov rdx, rax
  shr rdx, 32
  wrmsr
.endm
.text
test_main:
  # ---- MSRs ----
  T 1
    mov ecx, 0x12345
    rdmsr
  E 1
  T 2
    mov ecx, 0x12345
    wrmsr
  E 2
  RDMSR_TO 0xc0000080, 0x00
  T 3
    WRMSR_Q 0xc0000082, 0x0000800000000000
  E 3
  # FS base: through the MSR, from a descriptor, and kept by a null selector (AMD)
  WRMSR_Q 0xc0000100, RESULT + 0x100
  mov qword ptr fs:[0], 0x1234
  mov ax, 0x18
  mov fs, ax
  RDMSR_TO 0xc0000100, 0x08
  WRMSR_Q 0xc0000100, 0x5555000
  xor eax, eax
  mov fs, ax
  RDMSR_TO 0xc0000100, 0x10
  # SWAPGS
  WRMSR_Q 0xc0000101, 0x1111
  WRMSR_Q 0xc0000102, 0x2222
  swapgs
  RDMSR_TO 0xc0000101, 0x18
  RDMSR_TO 0xc0000102, 0x20
  swapgs
  # TSC, TSC_AUX, RDTSCP, RDPID
  rdtsc
  shl rdx, 32
  or rdx, rax
  mov rsi, rdx
  rdtsc
  shl rdx, 32
  or rax, rdx
  sub rax, rsi
  mov [RESULT + 0x28], rax
  WRMSR_Q 0x10, 0x100000000000
  mov rax, -1
  mov rdx, rax
  rdtsc
  mov [RESULT + 0x30], eax
  mov [RESULT + 0x34], edx
  # (the upper halves of RAX and RDX are cleared)
  shr rax, 32
  shr rdx, 32
  or rax, rdx
  mov [RESULT + 0x140], rax
  # (the KVM guest here has no RDTSCP/RDPID: its variant skips them)
.ifndef FOR_KVM
  WRMSR_Q 0xc0000103, 0x77
  rdtscp
  mov [RESULT + 0x38], rcx
  rdpid rax
  mov [RESULT + 0x40], rax
  T 4
    mov ecx, 0xc0000103
    mov eax, 1
    mov edx, 1
    wrmsr
  E 4
.endif
  # PAT, MTRRs, APIC base, SYSENTER
  RDMSR_TO 0x277, 0x48
  T 5
    WRMSR_Q 0x277, 0x0007040600070402
  E 5
  WRMSR_Q 0x277, 0x0007010600070406
  RDMSR_TO 0x277, 0x50
  RDMSR_TO 0xfe, 0x58
  T 6
    WRMSR_Q 0xfe, 0
  E 6
  WRMSR_Q 0x2ff, 0xc06
  RDMSR_TO 0x2ff, 0x60
  WRMSR_Q 0x200, 0x6
  RDMSR_TO 0x200, 0x68
  RDMSR_TO 0x1b, 0x70
  WRMSR_Q 0x176, 0x12345678
  RDMSR_TO 0x176, 0x78

  # ---- control registers ----
  T 7
    mov rax, cr0
    bts rax, 32
    mov cr0, rax
  E 7
  T 8
    mov rax, cr0
    btr rax, 30
    mov cr0, rax
  E 8
  T 9
    mov rax, cr0
    btr rax, 31
    mov cr0, rax
  E 9
  T 10
    mov rax, cr4
    btr rax, 5
    mov cr4, rax
  E 10
  T 11
    mov rax, cr3
    bts rax, 63
    mov cr3, rax
  E 11
  T 12
    mov rax, cr3
    bts rax, 52
    mov cr3, rax
  E 12
  mov eax, 5
  mov cr8, rax
  mov rax, cr8
  mov [RESULT + 0x80], rax
  T 13
    mov eax, 0x10
    mov cr8, rax
  E 13
  xor eax, eax
  mov cr8, rax
  mov eax, 0x1234
  mov cr2, rax
  mov rax, cr2
  mov [RESULT + 0x88], rax
  # debug registers
  mov eax, 0x401
  mov dr7, rax
  mov rax, dr7
  mov [RESULT + 0x90], rax
  xor eax, eax
  mov dr6, rax
  mov rax, dr6
  mov [RESULT + 0x98], rax
  mov rax, 0x12345678
  mov dr0, rax
  mov rax, dr0
  mov [RESULT + 0xa0], rax
  mov rax, cr4
  or eax, 8
  mov cr4, rax
  T 14
    mov rax, dr4
  E 14
  mov rax, cr4
  and eax, ~8
  mov cr4, rax
  mov rax, dr5
  mov [RESULT + 0xa8], rax
  mov eax, 0x2000
  mov dr7, rax
  T 15
    mov rax, dr0
  E 15
  mov rax, dr6
  mov [RESULT + 0xb0], rax
  mov rax, dr7
  mov [RESULT + 0xb8], rax
  # CLTS, LMSW, SMSW
  mov rax, cr0
  or eax, 8
  mov cr0, rax
  clts
  mov rax, cr0
  mov [RESULT + 0xc0], rax
  xor eax, eax
  lmsw ax
  smsw eax
  mov [RESULT + 0xc8], rax
  # SGDT SIDT STR SLDT
  sgdt [RESULT + 0xd0]
  sidt [RESULT + 0xe0]
  str ax
  mov [RESULT + 0xf0], ax
  mov eax, -1
  sldt eax
  mov [RESULT + 0xf8], rax
  # cache and TLB maintenance, fences
  T 16
    invlpg [0x123000]
    wbinvd
    invd
    clflush [RESULT]
.ifndef FOR_KVM
    clflushopt [RESULT]
    clwb [RESULT]
.endif
    lfence
    mfence
    sfence
    pause
  E 16
  T 17
    mov rax, 0x0000800000000000
    clflush [rax]
  E 17

  # ---- string I/O ----
  lea rsi, [rip + hello]
  mov dx, 0x3f8
  mov ecx, hello_end - hello
  cld
  rep outsb
  mov [RESULT + 0x108], rcx
  mov rdi, RESULT + 0x110
  mov dx, 0x3fd
  mov ecx, 4
  rep insb
  mov [RESULT + 0x118], rdi
  std
  mov rdi, RESULT + 0x120
  mov dx, 0x3fd
  insw
  cld
  mov [RESULT + 0x128], rdi
  # ring 3: denied by the bitmap
  mov byte ptr [rip + iobitmap + 0x3f8 / 8], 0xff
  mov qword ptr [rip + cur_step], 18
  lea rdi, [rip + user18]
  lea rsi, [rip + ustack_top]
  mov edx, 0x202
  call run_user
  mov byte ptr [rip + iobitmap + 0x3f8 / 8], 0

  # ---- far transfers: 64-bit -> compatibility mode -> 64-bit ----
  # (the IRETQ to ring 3 above nulled DS and ES, and the event back to ring 0 left SS null: fine in 64-bit mode,
  # not in compatibility mode)
  mov ax, 0x18
  mov ds, ax
  mov es, ax
  mov ss, ax
  T 19
    ljmp [rip + to_compat]
.code32
compat:
    mov eax, 0x32323232
    mov [RESULT + 0x130], eax
    ljmp 0x10, offset back64
.code64
back64:
    push 0x08
    lea rax, [rip + compat2]
    push rax
    retfq
.code32
compat2:
    mov dword ptr [RESULT + 0x134], 0x33
    push 0x10
    push offset back64b
    retf
.code64
back64b:
  E 19

  # ---- back to real mode: compatibility mode, paging off (LMA drops), PE off ----
  ljmp [rip + to_exit32]
.code32
exit32:
  mov eax, cr0
  and eax, 0x7fffffff
  mov cr0, eax
  mov ecx, 0xc0000080
  rdmsr
  mov [RESULT + 0x138], eax
  and eax, ~0x100
  wrmsr
  ljmp 0x38, offset exit16
.code16
exit16:
  mov eax, cr0
  and eax, 0xfffffffe
  mov cr0, eax
  ljmp 0, offset real_again
real_again:
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov si, offset bye
1:
  lodsb
  test al, al
  jz 2f
  mov dx, 0x3f8
  out dx, al
  jmp 1b
2:
  mov al, 0
  out 0xf4, al
  hlt
.code64

user18:
  mov dx, 0x3f8
  mov al, 'x'
  out dx, al

.data
hello: .ascii "string I/O\n"
hello_end:
bye: .asciz "real mode again\n"
to_compat: .long compat; .word 0x08
to_exit32: .long exit32; .word 0x08
`;

const g = buildGuest(GUEST);
const RESULT = 0x70000;

function byStep(log: LogRecord[]): Map<number, LogRecord> {
  const m = new Map<number, LogRecord>();
  for (const r of log) m.set(r.step, r);
  return m;
}

describe('system: MSRs, control registers, string I/O, mode transitions', () => {
  const tcg = runFlat(g.bin, 'tcg');
  const s = byStep(readLog(tcg));
  const q = (r: SysRun, off: number) => r.u64(RESULT + off);
  const ev = (step: number) => {
    const r = s.get(step)!;
    return r.vector === NO_EVENT ? 'none' : `${r.vector}/${r.frame[0]}`;
  };

  it('runs to the end, back in real mode', () => {
    expect(tcg.outcome).toEqual({ kind: 'exit', status: 1 });
    expect(tcg.out).toBe('RPLstring I/O\nreal mode again\n');
    expect(tcg.state.cr0 & 0x80000001n).toBe(0n);
    expect(tcg.state.efer & 0x500n).toBe(0n);
    expect(q(tcg, 0x138) & 0x500n).toBe(0x100n); // LMA dropped with CR0.PG
  });

  it('MSRs', () => {
    expect(ev(1)).toBe('13/0');
    expect(ev(2)).toBe('13/0');
    expect(q(tcg, 0x00)).toBe(0xd01n);
    expect(ev(3)).toBe('13/0'); // non-canonical LSTAR
    expect(q(tcg, 0x100)).toBe(0x1234n); // FS base from the MSR
    expect(q(tcg, 0x08)).toBe(0n); // ... from a descriptor
    expect(q(tcg, 0x10)).toBe(0x5555000n); // kept by a null selector
    expect([q(tcg, 0x18), q(tcg, 0x20)]).toEqual([0x2222n, 0x1111n]);
    expect(q(tcg, 0x28)).toBeGreaterThan(0n);
    expect(q(tcg, 0x30) - 0x100000000000n).toBeLessThan(1_000_000_000n);
    expect(q(tcg, 0x30)).toBeGreaterThanOrEqual(0x100000000000n);
    expect(q(tcg, 0x140)).toBe(0n);
    expect([q(tcg, 0x38), q(tcg, 0x40)]).toEqual([0x77n, 0x77n]);
    expect(ev(4)).toBe('13/0');
    expect(q(tcg, 0x48)).toBe(0x0007040600070406n);
    expect(ev(5)).toBe('13/0');
    expect(q(tcg, 0x50)).toBe(0x0007010600070406n);
    expect(q(tcg, 0x58)).toBe(0x508n);
    expect(ev(6)).toBe('13/0');
    expect([q(tcg, 0x60), q(tcg, 0x68)]).toEqual([0xc06n, 6n]);
    expect(q(tcg, 0x70)).toBe(0xfee00900n);
    expect(q(tcg, 0x78)).toBe(0x12345678n);
  });

  it('control and debug registers', () => {
    for (const step of [7, 8, 9, 10, 11, 12, 13]) expect([step, ev(step)]).toEqual([step, '13/0']);
    expect(q(tcg, 0x80)).toBe(5n);
    expect(q(tcg, 0x88)).toBe(0x1234n);
    expect(q(tcg, 0x90)).toBe(0x401n);
    expect(q(tcg, 0x98)).toBe(0xffff0ff0n);
    expect(q(tcg, 0xa0)).toBe(0x12345678n);
    expect(ev(14)).toBe('6/' + s.get(14)!.frame[0]); // #UD (no error code)
    expect(s.get(14)!.vector).toBe(6);
    expect(q(tcg, 0xa8)).toBe(0x401n); // DR5 is DR7 with CR4.DE = 0
    expect(s.get(15)!.vector).toBe(1); // DR7.GD
    expect(q(tcg, 0xb0) & 0x2000n).toBe(0x2000n); // DR6.BD
    expect(q(tcg, 0xb8) & 0x2000n).toBe(0n); // GD cleared
    expect(q(tcg, 0xc0) & 8n).toBe(0n); // CLTS
    expect(q(tcg, 0xc8) & 1n).toBe(1n); // LMSW cannot clear PE
  });

  it('descriptor-table stores', () => {
    expect(tcg.u32(RESULT + 0xd0) & 0xffff).toBe(g.sym('gdt_end') - g.sym('gdt') - 1);
    expect(q(tcg, 0xd2)).toBe(BigInt(g.sym('gdt')));
    expect(tcg.u32(RESULT + 0xe0) & 0xffff).toBe(0xfff);
    expect(q(tcg, 0xe2)).toBe(BigInt(g.sym('idt')));
    expect(tcg.u32(RESULT + 0xf0) & 0xffff).toBe(0x40);
    expect(q(tcg, 0xf8)).toBe(0n); // SLDT to a 32-bit register zero-extends
  });

  it('cache, TLB and ordering instructions', () => {
    expect(ev(16)).toBe('none');
    expect(ev(17)).toBe('13/0');
  });

  it('string I/O with REP, DF, and the I/O bitmap', () => {
    expect(q(tcg, 0x108)).toBe(0n);
    expect(tcg.u32(RESULT + 0x110)).toBe(0x60606060);
    expect(q(tcg, 0x118)).toBe(BigInt(RESULT + 0x114));
    expect(q(tcg, 0x128)).toBe(BigInt(RESULT + 0x11e));
    expect(ev(18)).toBe('13/0');
  });

  it('far JMP and RETF between 64-bit and compatibility mode', () => {
    expect(ev(19)).toBe('none');
    expect(tcg.u32(RESULT + 0x130)).toBe(0x32323232);
    expect(tcg.u32(RESULT + 0x134)).toBe(0x33);
  });

  it('the JIT tier produces the same events and results', () => {
    const jit = runFlat(g.bin, 'tcg', { jit: true });
    expect(jit.outcome).toEqual(tcg.outcome);
    expect(jit.out).toBe(tcg.out);
    for (let off = 0; off <= 0x140; off += 8) {
      if (off === 0x28 || off === 0x30) continue; // TSC readings
      expect([off.toString(16), q(jit, off)]).toEqual([off.toString(16), q(tcg, off)]);
    }
    const fmt = (r: LogRecord) => `${r.step} ${r.vector} ${r.frame.join(',')}`;
    expect(readLog(jit).map(fmt)).toEqual(readLog(tcg).map(fmt));
  });

  it.runIf(kvmUsable())('matches KVM', () => {
    const kvm = runFlat(buildGuest('.set FOR_KVM, 1\n' + GUEST).bin, 'kvm');
    expect(kvm.outcome).toEqual({ kind: 'exit', status: 1 });
    expect(kvm.out).toBe(tcg.out);
    // TSC values differ by nature; the host (AMD Zen 5) clears the FS base on a null selector load like Intel and
    // Zen 3+ (CPUID 0x80000021 NullSelectorClearsBase), the model (which does not set that bit) keeps it; the rest must agree
    for (let off = 0; off <= 0x140; off += 8) {
      if (off === 0x10 || off === 0x28 || off === 0x30 || off === 0x38 || off === 0x40) continue;
      expect([off.toString(16), q(kvm, off)]).toEqual([off.toString(16), q(tcg, off)]);
    }
    // KVM here accepts a reserved PAT type (step 5) and CR0 bit 32 (step 7), which the manuals make #GP(0); its
    // guest has no RDTSCP (step 4)
    const fmt = (r: LogRecord) => `${r.step} ${r.vector} ${r.vector === 13 ? r.frame[0] : ''}`;
    const skip = new Set([4, 5, 7]);
    expect(readLog(kvm).filter((r) => !skip.has(r.step)).map(fmt)).toEqual(readLog(tcg).filter((r) => !skip.has(r.step)).map(fmt));
  });
});
