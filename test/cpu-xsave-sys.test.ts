// The x87/XSAVE system interface on kemu's software CPU (interpreter and JIT), where the native oracle cannot go
// (ring 0, control registers): #NM from CR0.TS/EM/MP for x87, FWAIT, FXSAVE and XSAVE; #UD for the XSAVE family with
// CR4.OSXSAVE clear; XSETBV's #GP cases and XGETBV; CPUID leaf 0xD and CPUID.1:ECX.OSXSAVE following CR4; #MF only
// with CR0.NE; the reset state. Checked against the SDM's tables (these steps have no hardware oracle here).
import { describe, expect, it } from 'vitest';
import { LM_PRELUDE, NO_EVENT, buildGuest, readLog, runFlat } from './cpu-sys-guest.ts';
import { Machine } from '../src/machine/machine.ts';
import * as L from '../src/cpu/layout.ts';
import { cpuid } from '../src/cpu/cpuid.ts';
import { fxrstorImage, fxsaveImage } from '../src/cpu/fpu/image.ts';

const GUEST = LM_PRELUDE + String.raw`
.set RESULT, 0x70000
.text
test_main:
  mov rax, cr4
  or eax, (1 << 9) | (1 << 10) | (1 << 18)
  mov cr4, rax
  # CR0.TS: x87, FWAIT (with MP), FXSAVE, XSAVE -> #NM; CR0.EM: x87 and FXSAVE #NM, XSAVE not
  mov rax, cr0
  or eax, 8 | 0x20 | 2
  mov cr0, rax
  T 1
    fninit
  E 1
  T 2
    fwait
  E 2
  T 3
    fxsave [rip + area]
  E 3
  T 4
    xor edx, edx
    mov eax, 3
    xsave [rip + area]
  E 4
  mov rax, cr0
  and eax, ~2
  mov cr0, rax
  T 5
    fwait
  E 5
  clts
  mov rax, cr0
  or eax, 4 | 2
  mov cr0, rax
  # with CR0.EM and MP, TS clear: x87 and FXSAVE #NM, XSAVE and FWAIT run
  T 6
    fld1
  E 6
  T 7
    fxsave [rip + area]
  E 7
  T 8
    xor edx, edx
    mov eax, 3
    xsave [rip + area]
  E 8
  T 9
    fwait
  E 9
  mov rax, cr0
  and eax, ~4
  mov cr0, rax
  # XSETBV / XGETBV
  T 10
    xor ecx, ecx
    xor edx, edx
    mov eax, 3
    xsetbv
  E 10
  T 11
    xor ecx, ecx
    xgetbv
    mov [RESULT], eax
    mov [RESULT + 4], edx
  E 11
  .irp n, 0, 1, 2, 3, 4
  T 12\n
    xor ecx, ecx
    mov eax, [rip + bad_xcr0 + 8 * \n]
    mov edx, [rip + bad_xcr0 + 8 * \n + 4]
    xsetbv
  E 12\n
  .endr
  T 13
    mov ecx, 1
    xor edx, edx
    mov eax, 3
    xsetbv
  E 13
  T 14
    mov ecx, 1
    xgetbv
  E 14
  # CPUID: leaf 0xD, OSXSAVE in leaf 1 ECX with CR4.OSXSAVE set, then clear
  mov eax, 0xd
  xor ecx, ecx
  cpuid
  mov [RESULT + 8], eax
  mov [RESULT + 12], ebx
  mov [RESULT + 16], ecx
  mov eax, 0xd
  mov ecx, 1
  cpuid
  mov [RESULT + 20], eax
  mov eax, 1
  cpuid
  mov [RESULT + 24], ecx
  mov rax, cr4
  and eax, ~(1 << 18)
  mov cr4, rax
  mov eax, 1
  cpuid
  mov [RESULT + 28], ecx
  T 15
    xgetbv
  E 15
  T 16
    xor edx, edx
    mov eax, 3
    xsave [rip + area]
  E 16
  T 17
    xsetbv
  E 17
  mov rax, cr4
  or eax, 1 << 18
  mov cr4, rax
  # alignment
  T 18
    fxsave [rip + area + 8]
  E 18
  T 19
    xsave [rip + area + 16]
  E 19
  # #MF: with CR0.NE pending unmasked exceptions fault at the next waiting instruction, not without
  mov word ptr [rip + cw], 0x37b
  fninit
  fldcw [rip + cw]
  fldz
  fld1
  fdivrp st(1), st
  T 20
    fwait
  E 20
  T 21
    fnstsw ax
  E 21
  mov rax, cr0
  and eax, ~0x20
  mov cr0, rax
  T 22
    fwait
    fld1
  E 22
  mov rax, cr0
  or eax, 0x20
  mov cr0, rax
  T 23
    fnclex
    fwait
  E 23
  # XSETBV at CPL 3: #GP; XGETBV allowed
  lea rdi, [rip + user1]
  lea rsi, [rip + ustack_top]
  mov edx, 0x202
  mov qword ptr [rip + cur_step], 30
  call run_user
  lea rdi, [rip + user2]
  lea rsi, [rip + ustack_top]
  mov edx, 0x202
  mov qword ptr [rip + cur_step], 31
  call run_user
  ret
user1:
  xor ecx, ecx
  xor edx, edx
  mov eax, 3
  xsetbv
  ud2
user2:
  xor ecx, ecx
  xgetbv
  ud2
.data
.p2align 6
area: .space 1024
cw: .word 0
.p2align 3
# no x87 bit, unsupported AVX, both, bit 3, a bit in EDX
bad_xcr0: .quad 0, 2, 7, 0xb, 0x100000003
`;

describe('x87/XSAVE system interface (kemu)', () => {
  for (const jit of [false, true]) {
    it(`#NM, #UD, #GP, #MF, XSETBV/XGETBV, CPUID 0xD (${jit ? 'JIT' : 'interpreter'})`, () => {
      const g = buildGuest(GUEST);
      const r = runFlat(g.bin, 'tcg', { jit });
      expect(r.outcome).toEqual({ kind: 'exit', status: 1 });
      const log = readLog(r);
      const ev = (step: number) => {
        const e = log.find((x) => x.step === step);
        if (!e) return 'missing';
        return e.vector === NO_EVENT ? 'none' : `${e.vector}`;
      };
      const got = Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 120, 121, 122, 123, 124, 13, 14, 15, 16, 17, 18, 19,
        20, 21, 22, 23, 30, 31].map((s) => [s, ev(s)]));
      expect(got).toEqual({
        1: '7', 2: '7', 3: '7', 4: '7', 5: 'none', 6: '7', 7: '7', 8: 'none', 9: 'none', 10: 'none', 11: 'none',
        120: '13', 121: '13', 122: '13', 123: '13', 124: '13', 13: '13', 14: '13', 15: '6', 16: '6', 17: '6',
        18: '13', 19: '13', 20: '16', 21: 'none', 22: 'none', 23: 'none', 30: '13', 31: '6',
      });
      expect([r.u32(0x70000), r.u32(0x70004)]).toEqual([3, 0]);
      expect([r.u32(0x70008), r.u32(0x7000c), r.u32(0x70010), r.u32(0x70014)]).toEqual([3, 576, 576, 3]);
      expect(r.u32(0x70018) & (1 << 27)).not.toBe(0);
      expect(r.u32(0x7001c) & (1 << 27)).toBe(0);
    });
  }

  it('CPUID reports XSAVE, FXSR and the FPU; CR4 OSXSAVE reflected only when set', () => {
    expect(cpuid(1, 0)[2] & (1 << 26)).not.toBe(0);
    expect(cpuid(1, 0)[3] & ((1 << 0) | (1 << 24))).toBe((1 << 0) | (1 << 24));
    expect(cpuid(1, 0, 1 << 18)[2] & (1 << 27)).not.toBe(0);
    expect(cpuid(1, 0)[2] & (1 << 27)).toBe(0);
    expect(cpuid(0xd, 2)).toEqual([0, 0, 0, 0]);
    // subleaf 1 EBX: the compacted (XSAVEC) size Linux checks its own computation against
    expect(cpuid(0xd, 1)).toEqual([3, 576, 0, 0]);
  });

  it('reset state is FNINIT with MXCSR 1F80 and XCR0 = 1; the FXSAVE image round-trips', () => {
    const m = new Machine({ ramSize: 1 << 20, output: () => {} });
    const cpu = m.cpu;
    expect(cpu.get32(L.FCW) & 0xffff).toBe(0x37f);
    expect(cpu.get32(L.MXCSR)).toBe(0x1f80);
    expect(cpu.get64(L.XCR0)).toBe(1n);
    const img = fxsaveImage(cpu);
    expect(img[0]! | (img[1]! << 8)).toBe(0x37f);
    // a state with TOP = 5 and two registers: the image holds them in stack order
    const src = new Uint8Array(512);
    const dv = new DataView(src.buffer);
    dv.setUint16(0, 0x27f, true);
    dv.setUint16(2, 5 << 11, true);
    src[4] = (1 << 5) | (1 << 6);
    dv.setBigUint64(32, 0x8000000000000000n, true);
    dv.setUint16(40, 0x3fff, true);
    dv.setBigUint64(48, 0xc000000000000000n, true);
    dv.setUint16(56, 0x4000, true);
    dv.setUint32(24, 0x1f80, true);
    src[160] = 0x5a;
    fxrstorImage(cpu, src);
    expect(cpu.get64(L.fpRegOff(5)) & 0xffffffffffffffffn).toBe(0x8000000000000000n);
    expect(cpu.get32(L.fpRegOff(6) + 8) & 0xffff).toBe(0x4000);
    const back = fxsaveImage(cpu);
    back.set(src.subarray(28, 32), 28); // MXCSR_MASK is the model's
    expect(Buffer.from(back)).toEqual(Buffer.from(src));
  });
});
