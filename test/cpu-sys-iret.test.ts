// IRETQ in 64-bit mode (src/cpu/system/far.ts: the fast path for the common case and the general code it hands
// anything else to): returns to the same privilege with a data or null SS, to ring 3 (data segments nulled), from
// ring 3 to ring 3 (IF kept), to compatibility mode, through descriptors whose accessed bit is still clear, and the
// faults (#GP/#NP/#SS with their error codes, #PF on the stack slots with CR2) with nothing changed by the faulting
// IRETQ. On the software CPU (interpreter and JIT) and, where KVM works, compared with KVM.
import { describe, expect, it } from 'vitest';
import { LM_PRELUDE, NO_EVENT, SEL, buildGuest, kvmUsable, readLog, runFlat, type LogRecord, type SysRun } from './cpu-sys-guest.ts';

const RESULT = 0x70000;

// FRAME pushes an IRETQ frame: SS, RSP, RFLAGS, CS, RIP (RAX is clobbered)
const GUEST = LM_PRELUDE + String.raw`
.set RESULT, 0x70000
.macro FRAME ss, sp, fl, cs, target
  push \ss
  push \sp
  push \fl
  push \cs
  lea rax, [rip + \target]
  push rax
.endm
# stores RFLAGS, RSP, SS, CS at RESULT + slot * 32, then restores flags (IF=0 DF=0 AC=0), SS and the stack
.macro SAVE slot
  pushfq
  pop qword ptr [RESULT + \slot * 32]
  mov [RESULT + \slot * 32 + 8], rsp
  mov eax, ss
  mov [RESULT + \slot * 32 + 16], rax
  mov eax, cs
  mov [RESULT + \slot * 32 + 24], rax
  push 2
  popfq
  mov ax, 0x18
  mov ss, ax
  mov rsp, [rip + saved_rsp]
.endm
# after an event: RFLAGS, SS and DS/ES back to the test's values (a step that misbehaves does not disturb the next)
.macro RESET
  push 2
  popfq
  mov ax, 0x18
  mov ss, ax
  mov ds, ax
  mov es, ax
.endm
# step: IRETQ to iret1 with SS, CS and RFLAGS 0x402 on the current stack, expecting a fault; then RESET
.macro FAULTING step, ss, cs
  T \step
    mov rbx, rsp
    FRAME \ss, rbx, 0x402, \cs, iret1
    iretq
  E \step
  RESET
.endm
.text
test_main:
  mov [rip + saved_rsp], rsp
  # 4 KiB pages for 0x200000-0x3fffff, 0x221000 not present
  MAP_4K_PD1
  and qword ptr [0x210000 + 0x21 * 8], -2
  mov rax, cr3
  mov cr3, rax

  # slot 0: CPL 0 to CPL 0, SS 0x18, a new RSP, RFLAGS with IF, DF, AC and status flags
  mov rbx, rsp
  sub rbx, 0x100
  FRAME 0x18, rbx, 0x40ed7, 0x10, 2f
  iretq
2:
  SAVE 0
  # slot 1: the same with a null SS (RPL 0)
  mov rbx, rsp
  sub rbx, 0x200
  FRAME 0, rbx, 0x246, 0x10, 2f
  iretq
2:
  SAVE 1
  # slot 2: code and data descriptors with the accessed bit clear (0x60 code64, 0x68 data): IRETQ sets them
  mov rax, 0x00af9a000000ffff
  mov [rip + gdt + 0x60], rax
  mov rax, 0x00cf92000000ffff
  mov [rip + gdt + 0x68], rax
  mov rbx, rsp
  sub rbx, 0x300
  FRAME 0x68, rbx, 0x2, 0x60, 2f
  iretq
2:
  SAVE 2
  movzx eax, byte ptr [rip + gdt + 0x65]
  mov [RESULT + 3 * 32], rax
  movzx eax, byte ptr [rip + gdt + 0x6d]
  mov [RESULT + 3 * 32 + 8], rax
  # back to CS 0x10
  mov rbx, rsp
  FRAME 0x18, rbx, 0x2, 0x10, 2f
  iretq
2:
  # slot 4: a conforming 64-bit code segment (0x70, DPL 0) with RPL 0
  mov rax, 0x00af9f000000ffff
  mov [rip + gdt + 0x70], rax
  mov rbx, rsp
  FRAME 0x18, rbx, 0x2, 0x70, 2f
  iretq
2:
  SAVE 4
  mov rbx, rsp
  FRAME 0x18, rbx, 0x2, 0x10, 2f
  iretq
2:

  # ---- faults at CPL 0 (each IRETQ frame also asks for a null SS and DF: neither may take effect) ----
  # a non-canonical RIP: #GP(0)
  T 1
    mov rbx, rsp
    push 0
    push rbx
    push 0x402
    push 0x10
    mov rax, 0x0000800000000000
    push rax
  iret1:
    iretq
  E 1
  RESET
  # the RSP slot on a not-present page: #PF(0), CR2 = the slot
  T 2
    mov qword ptr [0x220fe8], 0x12345
    mov qword ptr [0x220ff0], 0x10
    mov qword ptr [0x220ff8], 0x402
    mov rsp, 0x220fe8
  iret2:
    iretq
  E 2
  RESET
  # the RIP slot on a not-present page (the #PF on IST1, so that the recorder can read its frame)
  mov byte ptr [rip + idt + 14 * 16 + 4], 1
  T 3
    mov rsp, 0x221000
  iret3:
    iretq
  E 3
  RESET
  mov byte ptr [rip + idt + 14 * 16 + 4], 0
  # a data segment as CS with the RSP slot on a not-present page: the CS check comes first, #GP(0x18)
  T 4
    mov qword ptr [0x220fe8], 0x12345
    mov qword ptr [0x220ff0], 0x18
    mov qword ptr [0x220ff8], 0x402
    mov rsp, 0x220fe8
    iretq
  E 4
  RESET
  # CS not present: #NP(0x78)
  mov rax, 0x00af1a000000ffff
  mov [rip + gdt + 0x78], rax
  FAULTING 5, 0, 0x78
  # CS DPL 3 with RPL 0 (non-conforming): #GP(0x30)
  FAULTING 6, 0, 0x30
  # a null CS: #GP(0)
  FAULTING 7, 0x18, 0
  # SS not present (0x80): #SS(0x80)
  mov rax, 0x00cf12000000ffff
  mov [rip + gdt + 0x80], rax
  FAULTING 8, 0x80, 0x10
  # SS RPL 3 for CS RPL 0: #GP(0x18)
  FAULTING 9, 0x1b, 0x10
  # SS beyond the GDT limit: #GP(0x1008); an LDT selector without an LDT: #GP(0x1c)
  FAULTING 10, 0x1008, 0x10
  FAULTING 11, 0x1c, 0x10
  # SS a code segment: #GP(0x10)
  FAULTING 12, 0x10, 0x10
  # to ring 3 with a null SS: #GP(0) (the user code descriptor is not accessed yet: far.ts's general code)
  FAULTING 13, 0, 0x33
  # CS with the D bit and L (0x88): #GP(0x88)
  mov rax, 0x00ef9a000000ffff
  mov [rip + gdt + 0x88], rax
  FAULTING 14, 0, 0x88
  # NT set: #GP(0)
  T 15
    mov rbx, rsp
    FRAME 0x18, rbx, 0x402, 0x10, iret1
    pushfq
    or qword ptr [rsp], 0x4000
    popfq
    iretq
  E 15
  RESET
  push 2
  popfq
  # ---- other privilege levels and modes (each ends in an event) ----
  # to compatibility mode at CPL 0 (CS 0x08), which runs UD2
  T 16
    mov rbx, rsp
    FRAME 0x18, rbx, 0x2, 0x08, code32_ud
    iretq
  E 16
  RESET
  # to ring 3 (64-bit): DS and ES (DPL 0) are nulled; the user code reads DS and runs UD2
  T 17
    lea rbx, [rip + ustack_top]
    FRAME 0x2b, rbx, 0x40ad7, 0x33, user_ds
    iretq
  E 17
  RESET
  # ring 3 to ring 3: IF stays (IOPL 0), the other flags, RSP and RIP are loaded
  T 18
    lea rbx, [rip + ustack_top]
    FRAME 0x2b, rbx, 0x202, 0x33, user_iret
    iretq
  E 18
  RESET
  # ring 3 to ring 0 by IRETQ: #GP(0x10)
  T 19
    lea rbx, [rip + ustack_top]
    FRAME 0x2b, rbx, 0x202, 0x33, user_iret0
    iretq
  E 19
  RESET
  # to ring 3 with a null SS again, now that the user code descriptor is accessed (far.ts's fast path): #GP(0)
  FAULTING 20, 0, 0x33
  mov ax, 0x18
  mov ds, ax
  mov es, ax
  ret

user_ds:
  mov eax, ds
  mov ecx, es
  shl ecx, 16
  or eax, ecx
  ud2
user_iret:
  mov rbx, rsp
  sub rbx, 0x40
  push 0x2b
  push rbx
  push 0x8d7
  push 0x33
  lea rax, [rip + 1f]
  push rax
  iretq
1:
  pushfq
  pop rax
  ud2
user_iret0:
  mov rbx, rsp
  push 0x2b
  push rbx
  push 0x202
  push 0x10
  lea rax, [rip + 1f]
  push rax
  iretq
1:
  ud2

.code32
code32_ud:
  ud2
.code64

.data
.balign 8
saved_rsp: .quad 0
`;

const guest = buildGuest(GUEST);
const bin = guest.bin;

function byStep(log: LogRecord[]): Map<number, LogRecord> {
  const m = new Map<number, LogRecord>();
  for (const r of log) m.set(r.step, r);
  return m;
}

const KCS = BigInt(SEL.KCODE64);

/**
 * Steps where /dev/kvm here (nested, kvm_pvm) is no reference: its IRETQ loads a non-canonical RIP and faults at the
 * target (1), reads the SS:RSP slots before checking CS (4: #PF, where the SDM's order checks CS first), loads a
 * code segment into SS (12) and accepts a code segment with L and D set (14), all against the SDM; and its #UD
 * delivery from ring 3 clears EFLAGS.AC in the handler (17). It also leaves the accessed bits of the descriptors IRETQ
 * loads clear.
 */
const NOT_ON_KVM = new Set([1, 4, 12, 14, 17]);

function results(r: SysRun): bigint[] {
  return Array.from({ length: 5 * 4 }, (_, i) => r.u64(RESULT + 8 * i));
}

function fmt(r: LogRecord): string {
  return `step ${r.step} vec ${r.vector.toString(16)} cr2 ${r.cr2.toString(16)} at ${r.frameAt.toString(16)} frame ${r.frame.map((q) => q.toString(16)).join(' ')} cs ${r.cs.toString(16)} ss ${r.ss.toString(16)} fl ${r.rflags.toString(16)} rax ${r.rax.toString(16)}`;
}

describe('system: IRETQ in 64-bit mode', () => {
  const tcg = runFlat(bin, 'tcg');
  const log = readLog(tcg);
  const s = byStep(log);
  const res = results(tcg);
  const slot = (i: number) => ({ fl: res[4 * i]!, rsp: res[4 * i + 1]!, ss: res[4 * i + 2]!, cs: res[4 * i + 3]! });
  // the RSP of test_main (after its return address), which the SAVE macro restores
  const mainRsp = () => slot(0).rsp + 0x100n;

  it('runs to the end', () => {
    expect(tcg.outcome).toEqual({ kind: 'exit', status: 1 });
    expect(log.map((r) => r.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('CPL 0 to CPL 0: RIP, CS, RFLAGS (IF, DF, AC and the status flags), RSP and SS from the frame', () => {
    expect(slot(0)).toEqual({ fl: 0x40ed7n, rsp: mainRsp() - 0x100n, ss: 0x18n, cs: KCS });
    expect(slot(1)).toEqual({ fl: 0x246n, rsp: mainRsp() - 0x200n, ss: 0n, cs: KCS });
  });

  it('sets the accessed bits of CS and SS descriptors; a conforming code segment', () => {
    expect(slot(2)).toEqual({ fl: 0x2n, rsp: mainRsp() - 0x300n, ss: 0x68n, cs: 0x60n });
    expect([res[12], res[13]]).toEqual([0x9bn, 0x93n]);
    expect(slot(4)).toEqual({ fl: 0x2n, rsp: mainRsp(), ss: 0x18n, cs: 0x70n });
  });

  it('a non-canonical RIP: #GP(0), with RSP, SS and RFLAGS unchanged', () => {
    const r = s.get(1)!;
    expect([r.vector, Number(r.frame[0])]).toEqual([13, 0]);
    // error code, RIP (the IRETQ), CS, RFLAGS, RSP (at the frame), SS
    expect(r.frame[1]).toBe(BigInt(guest.sym('iret1')));
    expect(r.frame[2]).toBe(KCS);
    expect(r.frame[3]! & 0x400n).toBe(0n); // DF from the frame not loaded
    expect(r.frame[4]).toBe(r.frameAt + 48n); // the IRETQ frame is still on the stack, right above the exception frame
    expect(r.frame[5]).toBe(0x18n);
    expect(r.frame[6]).toBe(0x0000800000000000n); // the IRETQ frame: RIP, CS, RFLAGS, RSP, SS
    expect(r.frame[7]).toBe(KCS);
    expect(r.ss).toBe(0x18);
  });

  it('#PF on the stack slots: CR2 is the slot, the CS check before the SS:RSP slots', () => {
    const pf2 = s.get(2)!;
    expect([pf2.vector, Number(pf2.frame[0]), pf2.cr2]).toEqual([14, 0, 0x221000n]);
    expect([pf2.frame[1], pf2.frame[4], pf2.frame[5]]).toEqual([BigInt(guest.sym('iret2')), 0x220fe8n, 0x18n]);
    expect(pf2.frame[3]! & 0x400n).toBe(0n);
    const pf3 = s.get(3)!;
    expect([pf3.vector, Number(pf3.frame[0]), pf3.cr2, pf3.frame[4]]).toEqual([14, 0, 0x221000n, 0x221000n]);
    expect(pf3.frame[1]).toBe(BigInt(guest.sym('iret3')));
    expect([s.get(4)!.vector, Number(s.get(4)!.frame[0])]).toEqual([13, 0x18]);
  });

  it('selector faults: #NP/#GP/#SS with their error codes', () => {
    const ev = (step: number) => [s.get(step)!.vector, Number(s.get(step)!.frame[0])];
    expect(ev(5)).toEqual([11, 0x78]);
    expect(ev(6)).toEqual([13, 0x30]);
    expect(ev(7)).toEqual([13, 0]);
    expect(ev(8)).toEqual([12, 0x80]);
    expect(ev(9)).toEqual([13, 0x18]);
    expect(ev(10)).toEqual([13, 0x1008]);
    expect(ev(11)).toEqual([13, 0x1c]);
    expect(ev(12)).toEqual([13, 0x10]);
    expect(ev(13)).toEqual([13, 0]);
    expect(ev(14)).toEqual([13, 0x88]);
    expect(ev(15)).toEqual([13, 0]);
    expect(ev(20)).toEqual([13, 0]);
    for (const step of [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 20]) {
      const r = s.get(step)!;
      expect([r.frame[2], r.frame[5], r.ss]).toEqual([KCS, 0x18n, 0x18]); // CS, SS unchanged
      expect(r.frame[4]).toBe(r.frameAt + 48n); // RSP unchanged
    }
  });

  it('to compatibility mode, to ring 3 (data segments nulled), ring 3 to ring 3 (IF kept), ring 3 to ring 0 (#GP)', () => {
    const c32 = s.get(16)!;
    expect([c32.vector, c32.frame[1], c32.frame[4]]).toEqual([6, 0x08n, 0x18n]);
    const u = s.get(17)!;
    // (the user code changed the status flags; RF is set by the #UD)
    expect([u.vector, u.frame[1], u.frame[2]! & ~0x108d5n, u.frame[4]]).toEqual([6, 0x33n, 0x40202n, 0x2bn]);
    expect(u.rax & 0xffffffffn).toBe(0n); // DS and ES null
    const uu = s.get(18)!;
    expect([uu.vector, uu.frame[1], uu.frame[4]]).toEqual([6, 0x33n, 0x2bn]);
    expect(uu.rax).toBe(0x8d7n | 0x200n); // IF cannot be cleared at CPL 3 with IOPL 0
    expect(uu.frame[2]! & ~0x10000n).toBe(0x8d7n | 0x200n);
    expect(uu.frame[3]).toBe(u.frame[3]! - 0x40n); // RSP from the frame
    const g = s.get(19)!;
    expect([g.vector, Number(g.frame[0]), g.frame[2], g.frame[5]]).toEqual([13, 0x10, 0x33n, 0x2bn]);
    expect(log.every((r) => r.vector !== NO_EVENT)).toBe(true);
  });

  it('the JIT tier gives the same events and results', () => {
    const jit = runFlat(bin, 'tcg', { jit: true });
    expect(jit.outcome).toEqual(tcg.outcome);
    expect(readLog(jit).map(fmt)).toEqual(log.map(fmt));
    expect(results(jit)).toEqual(res);
  });

  it.runIf(kvmUsable())('matches KVM but for the nested KVM\'s deviations', () => {
    const kvm = runFlat(bin, 'kvm');
    expect(kvm.outcome).toEqual({ kind: 'exit', status: 1 });
    const keep = (l: LogRecord[]) => l.filter((r) => !NOT_ON_KVM.has(r.step)).map(fmt);
    expect(keep(readLog(kvm))).toEqual(keep(log));
    // (it leaves the accessed bits of the descriptors IRETQ loads clear: slot 3)
    const noAccessed = (r: bigint[]) => r.map((v, i) => (i === 12 || i === 13 ? -1n : v));
    expect(noAccessed(results(kvm))).toEqual(noAccessed(res));
  });
});
