// Paging, hard: 4-level paging with 4 KiB, 2 MiB and 1 GiB pages, accessed/dirty bits at every level, NX at a
// directory level, U/S, SMEP, SMAP with EFLAGS.AC (STAC/CLAC), global pages across CR3 reloads, INVLPG (also of a
// 2 MiB page cached as 4 KiB pieces, and through GS), CR4.PGE toggles; 32-bit paging with 4 MiB pages and legacy
// PAE paging; and self-modifying code (code written through another mapping, and an instruction rewritten just
// ahead in its block).
import { describe, expect, it } from 'vitest';
import { LM_PRELUDE, NO_EVENT, PM_PRELUDE, buildGuest, kvmUsable, readLog, runFlat, type LogRecord, type SysRun } from './cpu-sys-guest.ts';

const RESULT = 0x70000;

const LM_GUEST = LM_PRELUDE + String.raw`
.set RESULT, 0x70000
# KVM here cannot run STAC/CLAC (it emulates them and fails): its variant sets EFLAGS.AC with POPFQ
.macro SET_AC
.ifdef FOR_KVM
  pushfq
  or dword ptr [rsp], 0x40000
  popfq
.else
  stac
.endif
.endm
.macro CLR_AC
.ifdef FOR_KVM
  pushfq
  and dword ptr [rsp], ~0x40000
  popfq
.else
  clac
.endif
.endm
.set PT, 0x210000
.text
test_main:
  # PD[1] -> PT: 0x200000-0x3fffff as 4 KiB pages, entries without A/D bits
  MAP_4K_PD1
  and qword ptr [PDPT], ~0x60
  and qword ptr [PML4], ~0x60
  mov rax, cr3
  mov cr3, rax

  # ---- accessed and dirty bits ----
  mov rax, [0x230000]
  mov rax, [PT + 0x30 * 8]
  mov [RESULT + 0x00], rax      # PTE after a read: A
  mov rax, [PD + 8]
  mov [RESULT + 0x08], rax      # PDE: A
  mov rax, [PDPT]
  mov [RESULT + 0x10], rax
  mov rax, [PML4]
  mov [RESULT + 0x18], rax
  mov byte ptr [0x231000], 1
  mov rax, [PT + 0x31 * 8]
  mov [RESULT + 0x20], rax      # PTE after a write: A and D
  mov rax, [PD + 8]
  mov [RESULT + 0x28], rax      # the PDE gets no D

  # ---- a 1 GiB page: PDPT[1] maps 0x40000000 -> physical 0 (KVM here does not offer 1 GiB pages) ----
.ifndef FOR_KVM
  mov qword ptr [PDPT + 8], 0x87
  invlpg [0x40000000]
  mov rax, 0x40008000
  mov rax, [rax]
  mov [RESULT + 0x30], rax      # = the first bytes of the image
  mov rax, [PDPT + 8]
  mov [RESULT + 0x38], rax      # A set, and D not (only read)
  # reserved bit 13 in a 1 GiB entry
  mov qword ptr [PDPT + 8], 0x2087
  mov rax, 0x40008000
  invlpg [rax]
  T 1
    mov rax, [rax]
  E 1
  mov qword ptr [PDPT + 8], 0
.endif

  # ---- NX at the directory level (a 2 MiB page at 0x400000) ----
  mov rax, 0x8000000000400087
  mov [PD + 2 * 8], rax
  invlpg [0x400000]
  mov byte ptr [0x400000], 0xc3
  T 2
    mov rax, 0x400000
    call rax
  E 2
  mov qword ptr [PD + 2 * 8], 0x400087
  invlpg [0x400000]

  # ---- global pages, CR3 reloads, INVLPG ----
  mov qword ptr [0x232000], 0x1111
  mov qword ptr [0x233000], 0x2222
  mov rax, cr4
  or eax, 0x80
  mov cr4, rax
  mov qword ptr [PT + 0x40 * 8], 0x232107   # 0x240000 -> 0x232000, global
  mov qword ptr [PT + 0x41 * 8], 0x232007   # 0x241000 -> 0x232000, not global
  invlpg [0x240000]
  invlpg [0x241000]
  mov rax, [0x240000]
  mov rax, [0x241000]
  mov qword ptr [PT + 0x40 * 8], 0x233107   # remap both to 0x233000 without telling the TLB
  mov qword ptr [PT + 0x41 * 8], 0x233007
  mov rax, cr3
  mov cr3, rax
  mov rax, [0x240000]
  mov [RESULT + 0x40], rax      # global: still the old mapping
  mov rax, [0x241000]
  mov [RESULT + 0x48], rax      # not global: the new one
  invlpg [0x240000]
  mov rax, [0x240000]
  mov [RESULT + 0x50], rax      # INVLPG: the new one
  mov qword ptr [PT + 0x40 * 8], 0x232107
  mov rax, cr3
  mov cr3, rax
  mov rax, [0x240000]
  mov [RESULT + 0x58], rax      # stale again (global)
  mov rax, [0x241000]                       # filled as not global
  mov qword ptr [PT + 0x41 * 8], 0x232107   # made global: the same TLB entry is refilled as global
  invlpg [0x241000]
  mov rax, [0x241000]
  mov qword ptr [PT + 0x41 * 8], 0x233107   # remapped without telling the TLB
  mov rax, cr3
  mov cr3, rax
  mov rax, [0x241000]
  mov [RESULT + 0x90], rax      # kept across the CR3 load: global now
  mov rax, cr4
  and eax, ~0x80
  mov cr4, rax
  mov rax, [0x240000]
  mov [RESULT + 0x60], rax      # CR4.PGE cleared: everything flushed
  # INVLPG through GS: in 64-bit code the FS/GS base is part of the address
  mov qword ptr [0x234000], 0x5555
  mov qword ptr [0x235000], 0x6666
  mov qword ptr [PT + 0x42 * 8], 0x234007   # 0x242000 -> 0x234000
  invlpg [0x242000]
  mov rax, [0x242000]
  mov qword ptr [PT + 0x42 * 8], 0x235007   # remapped
  mov ecx, 0xc0000101                       # GS.base = 0x200000
  mov eax, 0x200000
  xor edx, edx
  wrmsr
  mov rax, 0x42000
  invlpg gs:[rax]                           # 0x242000
  xor eax, eax
  wrmsr
  mov rax, [0x242000]
  mov [RESULT + 0x98], rax      # the new mapping
  # INVLPG of a 2 MiB page drops all of its 4 KiB pieces
  mov qword ptr [PD + 3 * 8], 0x200087      # 0x600000 -> 0x200000 (2 MiB)
  invlpg [0x600000]
  mov qword ptr [0x201000], 0x3333
  mov qword ptr [0x205000], 0x4444
  mov rax, [0x601000]
  mov rax, [0x605000]
  mov qword ptr [PD + 3 * 8], 0x400087      # -> 0x400000
  mov qword ptr [0x401000], 0x7777
  mov qword ptr [0x405000], 0x8888
  invlpg [0x601000]
  mov rax, [0x601000]
  mov [RESULT + 0x68], rax
  mov rax, [0x605000]
  mov [RESULT + 0x70], rax

  # ---- SMEP and SMAP: the first 2 MiB supervisor-only, 0x220000 stays a user page ----
  and qword ptr [PD], ~4
  invlpg [0]
  mov rax, cr3
  mov cr3, rax
  mov byte ptr [0x224000], 0xc3
  mov rax, cr4
  or eax, 0x300000
  mov cr4, rax
  T 3
    mov rax, [0x220000]
  E 3
  T 4
    SET_AC
    mov rax, [0x220000]
    CLR_AC
  E 4
  T 5
    mov dword ptr [0x220000], 1
  E 5
  T 6
    mov rax, 0x224000
    call rax
  E 6
  mov rax, cr4
  and eax, ~0x300000
  mov cr4, rax
  T 7
    mov rax, 0x224000
    call rax
  E 7
  or qword ptr [PD], 4
  mov rax, cr3
  mov cr3, rax

  # ---- self-modifying code ----
  # a function on its own page, run, rewritten through an alias mapping, run again
  mov qword ptr [PT + 0x50 * 8], 0x225007   # 0x250000 -> 0x225000: the alias
  invlpg [0x250000]
  lea rsi, [rip + fn_one]
  mov rdi, 0x225000
  mov ecx, fn_end - fn_one
  rep_copy1:
  mov al, [rsi]
  mov [rdi], al
  inc rsi
  inc rdi
  dec ecx
  jnz rep_copy1
  mov rax, 0x225000
  call rax
  mov [RESULT + 0x78], rax
  mov dword ptr [0x250000 + 1], 2     # mov eax, imm32: the immediate
  mov rax, 0x225000
  call rax
  mov [RESULT + 0x80], rax
  # an instruction just ahead in the same block
  mov byte ptr [rip + smc_imm], 5
  mov eax, 1
smc_insn:
  mov ecx, 3
  mov [RESULT + 0x88], rcx
  ret

fn_one:
  mov eax, 1
  ret
fn_end:
.set smc_imm, smc_insn + 1
`;

const lm = buildGuest(LM_GUEST);
const lmKvm = () => buildGuest('.set FOR_KVM, 1\n' + LM_GUEST);

function byStep(log: LogRecord[]): Map<number, LogRecord> {
  const m = new Map<number, LogRecord>();
  for (const r of log) m.set(r.step, r);
  return m;
}

describe('system: 4-level paging', () => {
  const tcg = runFlat(lm.bin, 'tcg');
  const s = byStep(readLog(tcg));
  const q = (r: SysRun, off: number) => r.u64(RESULT + off);
  const ev = (step: number) => [s.get(step)!.vector, Number(s.get(step)!.frame[0]), s.get(step)!.cr2];

  it('runs to the end', () => {
    expect(tcg.outcome).toEqual({ kind: 'exit', status: 1 });
  });

  it('sets accessed bits at every level and the dirty bit in the leaf on a write', () => {
    expect(q(tcg, 0x00) & 0x60n).toBe(0x20n);
    expect(q(tcg, 0x08) & 0x60n).toBe(0x20n);
    expect(q(tcg, 0x10) & 0x20n).toBe(0x20n);
    expect(q(tcg, 0x18) & 0x20n).toBe(0x20n);
    expect(q(tcg, 0x20) & 0x60n).toBe(0x60n);
  });

  it('1 GiB pages', () => {
    expect(q(tcg, 0x30)).toBe(tcg.u64(0x8000));
    expect(q(tcg, 0x38) & 0x60n).toBe(0x20n);
    expect(ev(1)).toEqual([14, 9, 0x40008000n]);
  });

  it('NX in a directory entry', () => {
    expect(ev(2)).toEqual([14, 0x11, 0x400000n]);
  });

  it('global pages survive CR3 loads; INVLPG and CR4.PGE flush them', () => {
    expect(q(tcg, 0x40)).toBe(0x1111n);
    expect(q(tcg, 0x48)).toBe(0x2222n);
    expect(q(tcg, 0x50)).toBe(0x2222n);
    expect(q(tcg, 0x58)).toBe(0x2222n);
    expect(q(tcg, 0x60)).toBe(0x1111n);
    expect(q(tcg, 0x90)).toBe(0x1111n);
    expect(q(tcg, 0x98)).toBe(0x6666n);
  });

  it('INVLPG drops every 4 KiB piece of a large page', () => {
    expect(q(tcg, 0x68)).toBe(0x7777n);
    expect(q(tcg, 0x70)).toBe(0x8888n);
  });

  it('SMAP (with STAC/CLAC) and SMEP', () => {
    expect(ev(3)).toEqual([14, 1, 0x220000n]);
    expect(s.get(4)!.vector).toBe(NO_EVENT);
    expect(ev(5)).toEqual([14, 3, 0x220000n]);
    expect(ev(6)).toEqual([14, 0x11, 0x224000n]);
    expect(s.get(7)!.vector).toBe(NO_EVENT);
  });

  it('self-modifying code through an alias and within a block', () => {
    expect(q(tcg, 0x78)).toBe(1n);
    expect(q(tcg, 0x80)).toBe(2n);
    expect(q(tcg, 0x88)).toBe(5n);
  });

  it('the JIT tier produces the same events and results', () => {
    const jit = runFlat(lm.bin, 'tcg', { jit: true });
    expect(jit.outcome).toEqual(tcg.outcome);
    for (let off = 0; off <= 0x98; off += 8) expect([off, q(jit, off)]).toEqual([off, q(tcg, off)]);
    expect(readLog(jit).map(fmt)).toEqual(readLog(tcg).map(fmt));
  });

  it.runIf(kvmUsable())('matches KVM (results that do not depend on TLB caching)', () => {
    const kvm = runFlat(lmKvm().bin, 'kvm');
    expect(kvm.outcome).toEqual({ kind: 'exit', status: 1 });
    for (const off of [0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x50, 0x60, 0x68, 0x70, 0x78, 0x80, 0x88, 0x98]) {
      expect([off, q(kvm, off)]).toEqual([off, q(tcg, off)]);
    }
    // the variant's code is shorter (no 1 GiB part): compare events without their RIPs
    const keep = (l: LogRecord[]) => l.filter((r) => r.step !== 1).map((r) => `${fmt(r)}`.replace(/frame (\S+) \S+/, 'frame $1'));
    expect(keep(readLog(kvm))).toEqual(keep(readLog(tcg)));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 32-bit paging (4 KiB and 4 MiB pages) and legacy PAE

const PM_GUEST = PM_PRELUDE + String.raw`
.set RESULT, 0x70000
.set PD32, 0x100000
.set PT32, 0x101000
.set PDPT, 0x102000
.set PDPAE, 0x103000
.text
test_main:
  # 32-bit paging: PD[0..3] 4 MiB pages (user), PD[1] replaced by a 4 KiB table (KVM here refuses CR0.PG with
  # CR4.PSE)
  mov edi, PD32
  mov eax, 0x87
  mov ecx, 1024
1:
  mov [edi], eax
  add eax, 0x400000
  add edi, 4
  dec ecx
  jnz 1b
  mov edi, PT32
  mov eax, 0x400007
  mov ecx, 1024
2:
  mov [edi], eax
  add eax, 0x1000
  add edi, 4
  dec ecx
  jnz 2b
  mov dword ptr [PD32 + 4], PT32 + 7
  and dword ptr [PT32 + 0x10 * 4], ~1      # 0x410000 not present
  and dword ptr [PT32 + 0x11 * 4], ~2      # 0x411000 read-only
  mov eax, cr4
  or eax, 0x10                            # PSE
  mov cr4, eax
  mov eax, PD32
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80010000                      # PG, WP
  mov cr0, eax
  mov dword ptr [0x800004], 0x55aa
  mov eax, [0x800004]
  mov [RESULT + 0], eax
  mov eax, [PD32 + 8]
  mov [RESULT + 4], eax                   # 4 MiB PDE: A and D
  mov eax, [0x412000]
  mov eax, [PT32 + 0x12 * 4]
  mov [RESULT + 8], eax                   # PTE: A only
  T 1
    mov eax, [0x410abc]
  E 1
  T 2
    mov dword ptr [0x411000], 1
  E 2
  # user page fault with an error code from ring 3: 0x412000 made supervisor-only
  and dword ptr [PT32 + 0x12 * 4], ~4
  invlpg [0x412000]
  mov dword ptr [cur_step], 3
  mov edi, offset user3
  mov esi, offset ustack_top
  mov edx, 0x202
  call run_user
  # back to no paging, then legacy PAE: PDPT[0] -> PD with 2 MiB pages, NX on 0x600000
  mov eax, cr0
  and eax, ~0x80000000
  mov cr0, eax
  mov dword ptr [PDPT], PDPAE + 1
  mov dword ptr [PDPT + 4], 0
  mov edi, PDPAE
  mov eax, 0x87
  mov ecx, 512
3:
  mov [edi], eax
  mov dword ptr [edi + 4], 0
  add eax, 0x200000
  add edi, 8
  dec ecx
  jnz 3b
  mov dword ptr [PDPAE + 3 * 8 + 4], 0x80000000
  mov ecx, 0xc0000080
  rdmsr
  or eax, 0x800
  wrmsr
  mov eax, cr4
  or eax, 0x20
  mov cr4, eax
  mov eax, PDPT
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov dword ptr [0x500010], 0x1234
  mov eax, [0x500010]
  mov [RESULT + 12], eax
  mov byte ptr [0x600000], 0xc3
  T 4
    mov eax, 0x600000
    call eax
  E 4
  # a PDPTE with a reserved bit
  mov dword ptr [PDPT + 8], PDPAE + 1 + 0x100
  T 5
    mov eax, [0x40000000]
  E 5
  mov eax, cr0
  and eax, ~0x80000000
  mov cr0, eax
  ret

user3:
  mov eax, [0x412000]
`;

const pm = buildGuest(PM_GUEST);

// KVM here refuses CR0.PG in legacy 32-bit and PAE paging modes (#GP), so these run on the software CPU only.
describe('system: 32-bit and PAE paging', () => {
  const tcg = runFlat(pm.bin, 'tcg');
  const s = byStep(readLog(tcg));
  const d = (r: SysRun, off: number) => r.u32(RESULT + off);
  const ev = (step: number) => [s.get(step)!.vector, Number(s.get(step)!.frame[0]), s.get(step)!.cr2];

  it('runs to the end', () => {
    expect(tcg.outcome).toEqual({ kind: 'exit', status: 1 });
  });

  it('32-bit paging: 4 MiB and 4 KiB pages, A/D bits, error codes', () => {
    expect(d(tcg, 0)).toBe(0x55aa);
    expect(d(tcg, 4) & 0x60).toBe(0x60);
    expect(d(tcg, 8) & 0x60).toBe(0x20);
    expect(ev(1)).toEqual([14, 0, 0x410abcn]);
    expect(ev(2)).toEqual([14, 3, 0x411000n]);
    expect(ev(3)).toEqual([14, 5, 0x412000n]);
  });

  it('legacy PAE: 2 MiB pages, NX, reserved PDPTE bits', () => {
    expect(d(tcg, 12)).toBe(0x1234);
    expect(ev(4)).toEqual([14, 0x11, 0x600000n]);
    expect(ev(5)).toEqual([14, 9, 0x40000000n]);
  });

});

function fmt(r: LogRecord): string {
  return `step ${r.step} vec ${r.vector.toString(16)} cr2 ${r.cr2.toString(16)} frame ${r.frame.slice(0, 3).map((v) => v.toString(16)).join(' ')}`;
}
