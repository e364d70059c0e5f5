// 32-bit protected mode: exception frames without and with a privilege change (SS0:ESP0 from the TSS), segment
// limits and selector faults, IRETD to ring 3 (and the data segments it nulls), a call gate with parameters and
// RETF imm to the outer level, SYSENTER/SYSEXIT, virtual-8086 mode (entry by IRETD, INT n and #GP out of it), IOPL
// and the I/O bitmap, LAR/LSL/VERR/VERW/ARPL, #DF. On the software CPU, and compared with KVM where KVM here is a
// usable reference (see NOT_ON_KVM).
import { describe, expect, it } from 'vitest';
import { NO_EVENT, PM_PRELUDE, buildFlat, kvmUsable, readLog, runFlat, type LogRecord, type SysRun } from './cpu-sys-guest.ts';

const RESULT = 0x70000;

const GUEST = PM_PRELUDE + String.raw`
.set RESULT, 0x70000
.macro SOFTINT n
.ifdef FOR_KVM
  ud2
.else
  int \n
.endif
.endm
.text
test_main:
  T 1
    xor ecx, ecx
    div ecx
  E 1
  # 0x48: execute-only code; 0x50: data, limit 0xfff; 0x58: data not present; 0x60: user data, limit 0xfff
  mov dword ptr [gdt + 0x48], 0x0000ffff
  mov dword ptr [gdt + 0x4c], 0x00cf9800
  mov dword ptr [gdt + 0x50], 0x00000fff
  mov dword ptr [gdt + 0x54], 0x00409200
  mov dword ptr [gdt + 0x58], 0x0000ffff
  mov dword ptr [gdt + 0x5c], 0x00cf1200
  mov dword ptr [gdt + 0x60], 0x00000fff
  mov dword ptr [gdt + 0x64], 0x0040f200
  T 2
    mov ax, 0x48
    mov ds, ax
  E 2
  T 3
    mov ax, 0x58
    mov ss, ax
  E 3
  T 4
    mov ax, 0x50
    mov fs, ax
    mov eax, fs:[0xffd]
  E 4
  T 5
    mov ax, 0x50
    mov fs, ax
    mov eax, fs:[0xffc]
  E 5
  T 6
    mov ax, 0x48
    mov es, ax
    mov eax, 1
  E 6
  # #DF: #GP while the #GP gate is not present
  and byte ptr [idt + 13 * 8 + 5], 0x7f
  T 41
    mov ax, 0x48
    mov ds, ax
  E 41
  or byte ptr [idt + 13 * 8 + 5], 0x80
  # LAR/LSL/VERR/VERW/ARPL (KVM here emulates LAR and fails)
.ifndef FOR_KVM
  T 40
    mov eax, 0x12345678
    lar eax, word ptr [sel_user_code]
    mov [RESULT + 0x40], eax
    lsl ebx, word ptr [sel_data_small]
    mov [RESULT + 0x44], ebx
    pushfd
    pop dword ptr [RESULT + 0x48]
    mov ecx, 0x0d
    lar ecx, ecx
    pushfd
    pop dword ptr [RESULT + 0x4c]
    mov [RESULT + 0x50], ecx
    mov ax, 0x48
    verr ax
    pushfd
    pop dword ptr [RESULT + 0x54]
    mov ax, 0x50
    verw ax
    pushfd
    pop dword ptr [RESULT + 0x58]
    mov ax, 0x08
    verw ax
    pushfd
    pop dword ptr [RESULT + 0x5c]
    mov ax, 0x28
    lsl eax, ax
    mov [RESULT + 0x60], eax
    mov ax, 0x10
    mov bx, 0x1b
    arpl ax, bx
    mov [RESULT + 0x64], eax
    pushfd
    pop dword ptr [RESULT + 0x68]
  E 40
.endif
  # KVM here emulates IRETD to ring 3 and fails: its variant stops before ring 3
.ifndef FOR_KVM
  # data segments nulled by IRETD to ring 3: DS = kernel data (DPL 0), FS = user data (DPL 3)
  mov ax, 0x10
  mov ds, ax
  # ---- ring 3 ----
  mov byte ptr [iobitmap + 0x10], 0xff
  .irp n, 10, 11, 12, 13, 14, 15, 16, 17
  mov dword ptr [cur_step], \n
  mov edi, offset user\n
  mov esi, offset ustack_top
  mov edx, 0x202
  call run_user
  .endr
  # IRETD to ring 3 with DS = kernel data, FS = user data, GS = null
  mov dword ptr [cur_step], 18
  mov dword ptr [resume], offset 1f
  mov [resume_esp], esp
  mov ax, 0x10
  mov ds, ax
  mov ax, 0x23
  mov fs, ax
  xor eax, eax
  mov gs, ax
  push 0x23
  push offset ustack_top
  push 0x202
  push 0x1b
  push offset user18
  iretd
1:
  # 32-bit call gate at 0x30: DPL 3, 2 parameters, to 0x08:gate_target
  mov eax, offset gate_target
  mov word ptr [gdt + 0x30], ax
  mov word ptr [gdt + 0x32], 0x08
  mov word ptr [gdt + 0x34], 0xec02
  shr eax, 16
  mov word ptr [gdt + 0x36], ax
  mov dword ptr [cur_step], 20
  mov edi, offset user20
  mov esi, offset ustack_top
  mov edx, 0x202
  call run_user
  # SYSENTER/SYSEXIT
  mov ecx, 0x174
  mov eax, 0x08
  xor edx, edx
  wrmsr
  mov ecx, 0x175
  mov eax, offset esp1_top
  wrmsr
  mov ecx, 0x176
  mov eax, offset sysenter_entry
  wrmsr
  mov dword ptr [cur_step], 21
  mov edi, offset user21
  mov esi, offset ustack_top
  mov edx, 0x202
  call run_user
  # virtual-8086 mode: IOPL 3 (INT n through the DPL-3 gate), then IOPL 0 (#GP)
  .irp n, 30, 31, 32, 33
  mov dword ptr [cur_step], \n
  mov dword ptr [resume], offset 2f
  mov [resume_esp], esp
  push 0x1111
  push 0x2222
  push 0x3333
  push 0x4444
  push 0
  push 0x7000
  .if \n == 30
  push 0x23202
  .else
  push 0x20202
  .endif
  push 0
  push offset v86code\n
  iretd
2:
  .endr
.endif
  ret

gate_target:
  # copy the frame the call gate built (EIP, CS, 2 parameters, ESP, SS) and the stack it is on
  mov eax, [esp]
  mov [RESULT + 0], eax
  mov eax, [esp + 4]
  mov [RESULT + 4], eax
  mov eax, [esp + 8]
  mov [RESULT + 8], eax
  mov eax, [esp + 12]
  mov [RESULT + 12], eax
  mov eax, [esp + 16]
  mov [RESULT + 16], eax
  mov eax, [esp + 20]
  mov [RESULT + 20], eax
  mov [RESULT + 24], esp
  mov ax, ss
  mov [RESULT + 28], ax
  retf 8

sysenter_entry:
  mov [RESULT + 0x20], esp
  mov ax, cs
  mov [RESULT + 0x24], ax
  mov ax, ss
  mov [RESULT + 0x28], ax
  pushfd
  pop dword ptr [RESULT + 0x2c]
  sysexit

user10: cli
user11: in al, 0x80
user12:
  in al, 0x70
  mov eax, 0xabcd
  SOFTINT 0x80
user13:
  mov ax, 0x63
  mov ss, ax
  mov esp, 0x2000
  push eax
user14:
  mov ax, 0x63
  mov ds, ax
  mov eax, [0x1000]
user15: mov eax, cr0
user16: SOFTINT 0x81
user17:
  mov ax, 0x10
  mov ds, ax
user18:
  mov eax, ds
  shl eax, 16
  mov ax, fs
  mov ebx, gs
  SOFTINT 0x80
user20:
  push 0x1234
  push 0x5678
  lcall 0x33, 0
  mov eax, esp
  SOFTINT 0x80
user21:
  mov ecx, esp
  mov edx, offset 3f
  sysenter
3:
  mov eax, esp
  SOFTINT 0x80

.code16
v86code30:
  mov ax, 0x1234
  SOFTINT 0x80
v86code31:
  mov ax, 0x4321
  SOFTINT 0x80
v86code32:
  cli
v86code33:
  mov al, 1
  out 0x80, al
.code32

.data
sel_user_code: .word 0x1b
sel_data_small: .word 0x50
`;

const bin = buildFlat(GUEST);


function byStep(log: LogRecord[]): Map<number, LogRecord> {
  const m = new Map<number, LogRecord>();
  for (const r of log) m.set(r.step, r);
  return m;
}

describe('system: 32-bit protected mode', () => {
  const tcg = runFlat(bin, 'tcg');
  const log = readLog(tcg);
  const s = byStep(log);
  const ev = (step: number) => {
    const r = s.get(step);
    return r ? [r.vector, Number(r.frame[0])] : undefined;
  };
  const u32 = (r: SysRun, off: number) => r.u32(RESULT + off);

  it('runs to the end', () => {
    expect(tcg.outcome).toEqual({ kind: 'exit', status: 1 });
  });

  it('exceptions at CPL 0 push EFLAGS, CS, EIP only', () => {
    const de = s.get(1)!;
    expect(de.vector).toBe(0);
    expect(de.frame[1]).toBe(0x08n);
    expect(de.frame[2]! & 0x10000n).toBe(0x10000n);
    expect(de.frame[3]).not.toBe(0x10n); // no SS:ESP pushed
  });

  it('segment loads and limits', () => {
    expect(ev(2)).toEqual([13, 0x48]);
    expect(ev(3)).toEqual([12, 0x58]);
    expect(ev(4)).toEqual([13, 0]); // dword at 0xffd crosses the 0xfff limit
    expect(s.get(5)!.vector).toBe(NO_EVENT);
    expect(ev(6)).toEqual([13, 0x48]); // execute-only code is not readable: not for ES either
  });

  it('ring 3: IOPL, the I/O bitmap, stack-switching frames', () => {
    expect(ev(10)).toEqual([13, 0]);
    expect(ev(11)).toEqual([13, 0]);
    const int80 = s.get(12)!;
    expect(int80.vector).toBe(0x80);
    expect(int80.rax).toBe(0xabcdn);
    expect(int80.frame.slice(1, 5)).toEqual([0x1bn, 0x202n, int80.frame[3], 0x23n]);
    expect(ev(13)).toEqual([12, 0]); // stack limit at CPL 3
    expect(ev(14)).toEqual([13, 0]); // data limit
    expect(ev(15)).toEqual([13, 0]);
    expect(ev(16)).toEqual([13, 0x81 * 8 + 2]);
    expect(ev(17)).toEqual([13, 0x10]); // DPL 0 data at CPL 3
  });

  it('IRETD to ring 3 nulls data segments the new CPL may not use', () => {
    const r = s.get(18)!;
    expect(r.vector).toBe(0x80);
    expect(r.rax).toBe(0x00000023n); // DS null, FS kept (DPL 3)
  });

  it('call gate with parameters, RETF imm to the outer level', () => {
    const r = s.get(20)!;
    expect(r.vector).toBe(0x80);
    expect([u32(tcg, 4), u32(tcg, 8), u32(tcg, 12), u32(tcg, 20)]).toEqual([0x1b, 0x5678, 0x1234, 0x23]);
    expect(u32(tcg, 16)).toBe(Number(r.frame[3]) - 8); // the caller's ESP after its two pushes
    expect(u32(tcg, 28) & 0xffff).toBe(0x10); // SS0 from the TSS
    expect(r.rax).toBe(r.frame[3]); // RETF 8 dropped the parameters from the outer stack
  });

  it('SYSENTER/SYSEXIT', () => {
    expect([u32(tcg, 0x24) & 0xffff, u32(tcg, 0x28) & 0xffff]).toEqual([0x08, 0x10]);
    expect(u32(tcg, 0x2c) & 0x200).toBe(0);
    const r = s.get(21)!;
    expect(r.vector).toBe(0x80);
    expect(r.frame[1]).toBe(0x1bn);
    expect(r.frame[4]).toBe(0x23n);
  });

  it('virtual-8086 mode', () => {
    const r = s.get(30)!;
    expect(r.vector).toBe(0x80);
    expect(r.rax & 0xffffn).toBe(0x1234n);
    expect(r.frame[1]).toBe(0n); // CS
    expect(r.frame[2]! & 0x20000n).toBe(0x20000n); // VM in the pushed EFLAGS
    expect(r.frame.slice(3, 8)).toEqual([0x7000n, 0n, 0x4444n, 0x3333n, 0x2222n]); // ESP SS ES DS FS
    expect(ev(31)).toEqual([13, 0]); // INT n with IOPL < 3
    expect(ev(32)).toEqual([13, 0]); // CLI with IOPL < 3
    expect(ev(33)).toEqual([13, 0]); // OUT to a port the bitmap denies
  });

  it('LAR, LSL, VERR, VERW, ARPL', () => {
    expect(u32(tcg, 0x40)).toBe(0x00c0fa00);
    expect(u32(tcg, 0x44)).toBe(0xfff);
    expect(u32(tcg, 0x48) & 0x40).toBe(0x40);
    expect(u32(tcg, 0x4c) & 0x40).toBe(0); // LDT selector without LDT: ZF = 0
    expect(u32(tcg, 0x50)).toBe(0x0d); // unchanged
    expect(u32(tcg, 0x54) & 0x40).toBe(0); // execute-only: not readable
    expect(u32(tcg, 0x58) & 0x40).toBe(0x40);
    expect(u32(tcg, 0x5c) & 0x40).toBe(0); // code is never writable
    expect(u32(tcg, 0x60)).toBe(0x2068); // TSS limit
    expect(u32(tcg, 0x64) & 0xffff).toBe(0x13);
    expect(u32(tcg, 0x68) & 0x40).toBe(0x40);
  });

  it('#DF when the #GP gate is not present', () => {
    expect(ev(41)).toEqual([8, 0]);
  });

  // KVM here (nested) emulates IRETD to ring 3, LAR, call gates and software interrupts and fails on them: only the
  // ring-0 steps are compared.
  it('the JIT tier produces the same events and results', () => {
    const jit = runFlat(bin, 'tcg', { jit: true });
    expect(jit.outcome).toEqual(tcg.outcome);
    expect(readLog(jit).map(fmt)).toEqual(log.map(fmt));
    for (let off = 0; off < 0x70; off += 4) expect([off, u32(jit, off)]).toEqual([off, u32(tcg, off)]);
  });

  it.runIf(kvmUsable())('matches KVM event for event (ring-0 steps)', () => {
    const kvm = runFlat(buildFlat('.set FOR_KVM, 1\n' + GUEST), 'kvm');
    expect(kvm.outcome).toEqual({ kind: 'exit', status: 1 });
    const keep = (l: LogRecord[]) => l.filter((r) => r.step < 10 || r.step === 41).map(fmt);
    expect(keep(log)).toEqual(keep(readLog(kvm)));
  });
});

function fmt(r: LogRecord): string {
  return `step ${r.step} vec ${r.vector.toString(16)} cr2 ${r.cr2.toString(16)} at ${r.frameAt.toString(16)} frame ${r.frame.map((q) => q.toString(16)).join(' ')} cs ${r.cs.toString(16)} ss ${r.ss.toString(16)} fl ${r.rflags.toString(16)} rax ${r.rax.toString(16)}`;
}
