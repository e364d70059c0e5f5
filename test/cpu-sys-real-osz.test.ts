// 16-bit code with a 66 prefix on PUSH/POP (PUSHD/POPD of an immediate and of FS: dword slots on a 16-bit stack),
// ENTERD/LEAVED, and BOUND (word and dword bounds, in range and #BR through the IVT), on the software CPU;
// PUSHD/POPD are compared with KVM where it is usable. All were #UD before (no semantics for the decoder's names).
import { describe, expect, it } from 'vitest';
import { buildGuest, kvmUsable, runFlat } from './cpu-sys-guest.ts';

const GUEST = String.raw`
.intel_syntax noprefix
.text
.code16
.globl _start
_start:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word ptr [5 * 4], offset br_handler
  mov word ptr [5 * 4 + 2], 0
  mov word ptr [6 * 4], offset ud_handler
  mov word ptr [6 * 4 + 2], 0

  mov [res + 0], sp
  pushd 0x12345678
  mov [res + 2], sp
  pop ecx
  mov [res + 4], ecx
  pushd -3
  pop edx
  mov [res + 8], edx
  mov ax, 0x1234
  mov fs, ax
  pushd fs
  mov [res + 12], sp
  pop eax
  mov [res + 14], ax              # the selector (the upper half of the slot differs between CPUs)
  pushd 0x5678
  popd fs
  mov [res + 16], fs
  mov [res + 18], sp

  mov ax, 3
  bound ax, [bounds16]             # -5 <= 3 <= 10: nothing
  mov word ptr [res + 32], 1
  mov ax, 11
at_bound16:
  bound ax, [bounds16]             # 11 > 10: #BR
after_bound16:
  mov eax, -0x70000000
at_bound32:
  bound eax, [bounds32]            # below -0x60000000: #BR
after_bound32:
  mov eax, 0x7fffffff
  bound eax, [bounds32]            # the upper bound itself: nothing
  mov word ptr [res + 34], 1

  mov esp, 0x12347000              # SP 0x7000; the upper half of ESP is not the stack's
  mov ebp, 0xabcd6ff0
  mov dword ptr [0x6fec], 0x11111111   # [BP-4]: the enclosing frame's pointer that level 2 copies
  enterd 8, 2
  mov [res + 44], esp
  mov [res + 48], ebp
  mov eax, [0x6ffc]                # the pushed EBP
  mov [res + 52], eax
  mov eax, [0x6ff8]                # the copied pointer
  mov [res + 56], eax
  mov eax, [0x6ff4]                # the new frame pointer
  mov [res + 60], eax
  leaved
  mov [res + 64], esp
  mov [res + 68], ebp
  hlt

ud_handler:                        # #UD: an instruction without semantics ends the run
  mov word ptr [res + 40], 6
  hlt

br_handler:                        # #BR is a fault: skip the BOUND (the return IP is its own)
  push bp
  mov bp, sp
  mov ax, [bp + 2]
  mov [res + 36 + di], ax
  add di, 2
  cmp ax, offset at_bound16
  mov ax, offset after_bound16
  je 1f
  mov ax, offset after_bound32
1:
  mov [bp + 2], ax
  pop bp
  iret

.balign 4
bounds16: .word -5, 10
bounds32: .long -0x60000000, 0x7fffffff
res: .fill 72, 1, 0
`;

const guest = buildGuest(GUEST);

describe('system: real mode, 66-prefixed stack instructions and BOUND', () => {
  const tcg = runFlat(guest.bin, 'tcg');
  const res = guest.sym('res');
  const w = (k: number) => tcg.u32(res + k) & 0xffff;

  it('runs to its end', () => {
    expect(tcg.outcome.kind).toBe('halt');
    expect(w(40)).toBe(0); // no #UD
  });

  it('PUSHD/POPD move dword slots, of an immediate (sign-extended imm8 too) and of FS', () => {
    expect(w(2)).toBe(w(0) - 4);
    expect(tcg.u32(res + 4)).toBe(0x12345678);
    expect(tcg.u32(res + 8)).toBe(0xfffffffd);
    expect(w(12)).toBe(w(0) - 4);
    expect(w(14)).toBe(0x1234);
    expect(w(16)).toBe(0x5678);
    expect(w(18)).toBe(w(0));
  });

  it('ENTERD/LEAVED: dword slots on a 16-bit stack, EBP from ESP with its upper half kept', () => {
    const d = (k: number) => tcg.u32(res + k) >>> 0;
    expect([d(44), d(48)]).toEqual([0x12346fec, 0x12346ffc]);
    expect([d(52), d(56), d(60)]).toEqual([0xabcd6ff0, 0x11111111, 0x12346ffc]);
    expect([d(64), d(68)]).toEqual([0x12347000, 0xabcd6ff0]);
  });

  it('BOUND faults (#BR, at the instruction) only outside the signed bounds', () => {
    expect([w(32), w(34)]).toEqual([1, 1]);
    expect([w(36), w(38)]).toEqual([guest.sym('at_bound16'), guest.sym('at_bound32')]);
  });

  // kvm_pvm's emulator of ring-0 code stops on BOUND and on ENTER with a nesting level (KVM_EXIT_INTERNAL_ERROR):
  // those 5 run on the software CPU (runFlat's fallback), so only PUSHD/POPD are compared with KVM
  it.runIf(kvmUsable())('PUSHD/POPD match KVM', () => {
    const kvm = runFlat(guest.bin, 'kvm', { fallback: true });
    expect(kvm.outcome.kind).toBe('halt');
    expect(kvm.fallbacks).toBe(5);
    for (let k = 0; k < 20; k += 2) expect([k, kvm.u32(res + k) & 0xffff]).toEqual([k, w(k)]);
  });
});
