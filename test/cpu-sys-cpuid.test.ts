// The CPU model: every feature CPUID advertises has semantics for all its instructions (checked against the
// decoder's feature tags and the semantics registry), the leaves a guest reads are the model's, and the control
// registers and EFER accept exactly the bits the model implies.
import { describe, expect, it } from 'vitest';
import { FEATURES, cpuid, CR4_SUPPORTED, VENDOR, BRAND, FAMILY } from '../src/cpu/cpuid.ts';
import { PHYS_BITS } from '../src/cpu/mmu.ts';
import { SEMANTICS } from '../src/cpu/frontend/registry.ts';
import '../src/cpu/frontend/semantics.ts';
import { EVEX, LEGACY, VEX } from '../src/decoder/tables/index.ts';
import { parseEntry, type Node } from '../src/decoder/notation.ts';
import { LM_PRELUDE, NO_EVENT, buildGuest, readLog, runFlat } from './cpu-sys-guest.ts';

/** Mnemonics of the decoder's table entries, by feature tag. */
function mnemonicsByFeature(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (feature: string, mnemonic: string) => {
    let s = out.get(feature);
    if (!s) out.set(feature, (s = new Set()));
    s.add(mnemonic);
  };
  const walk = (n: Node): void => {
    if (!n) return;
    if (typeof n === 'string') {
      const e = parseEntry(n);
      add(e.feature, e.mnemonic);
    } else if ('sw' in n) n.c.forEach(walk);
    else add(n.feature, n.mnemonic);
  };
  for (const map of [...LEGACY, ...VEX, ...EVEX]) map.forEach(walk);
  return out;
}

describe('system: the CPUID model', () => {
  const byFeature = mnemonicsByFeature();

  it('every advertised feature has semantics for all its instructions', () => {
    const missing: string[] = [];
    for (const f of FEATURES) {
      const names = new Set([...(f.mnemonics ?? []), ...(f.decoderFeature ? (byFeature.get(f.decoderFeature) ?? []) : [])]);
      if (f.decoderFeature && !byFeature.has(f.decoderFeature)) missing.push(`${f.name}: no decoder feature ${f.decoderFeature}`);
      for (const m of names) if (!SEMANTICS.has(m)) missing.push(`${f.name}: ${m}`);
    }
    expect(missing).toEqual([]);
  });

  it('every instruction of the base ISA that the decoder knows has semantics, but those this CPU lacks', () => {
    // #UD as on the modelled CPU: RSM outside SMM; MSR-list and non-serializing WRMSR (not in its CPUID); TDX/SEAM
    const absent = new Set(['rsm', 'wrmsrns', 'wrmsrlist', 'rdmsrlist', 'tdcall', 'seamret', 'seamops', 'seamcall']);
    const missing = [...(byFeature.get('') ?? [])].filter((m) => !SEMANTICS.has(m) && !absent.has(m));
    expect(missing).toEqual([]);
  });

  it('advertises no AVX or VME (not implemented)', () => {
    const [, , c1, d1] = cpuid(1, 0);
    expect(d1 & (1 << 1)).toBe(0);
    expect(c1 & ((1 << 27) | (1 << 28))).toBe(0); // OSXSAVE follows CR4 (0 here), no AVX
  });

  it('identifies as an AMD family 1Ah x86-64 processor with the MMU address sizes', () => {
    const [max, b, c, d] = cpuid(0, 0);
    expect(max).toBeGreaterThanOrEqual(7);
    const str = (...r: number[]) => Buffer.from(new Uint32Array(r).buffer).toString('latin1');
    expect(str(b, d, c)).toBe(VENDOR);
    const sig = cpuid(1, 0)[0];
    expect(((sig >> 8) & 0xf) + ((sig >> 20) & 0xff)).toBe(FAMILY);
    expect(cpuid(0x80000000, 0)[0]).toBe(0x80000021);
    const brand = [0x80000002, 0x80000003, 0x80000004].flatMap((l) => cpuid(l, 0));
    expect(str(...brand).replace(/\0+$/, '')).toBe(BRAND);
    expect(cpuid(0x80000008, 0)[0] & 0xffff).toBe(PHYS_BITS | (48 << 8));
    expect(cpuid(0x80000001, 0)[3] & (1 << 29)).not.toBe(0); // LM
    expect(cpuid(0x12345, 0)).toEqual([0, 0, 0, 0]);
    expect(CR4_SUPPORTED & (1 << 20)).not.toBe(0);
    // not exposed to speculative attacks: AMD_SSB_NO, AutoIBRS, SRSO_NO
    expect(cpuid(0x80000008, 0)[1] & (1 << 26)).not.toBe(0);
    expect(cpuid(0x80000021, 0)[0] & ((1 << 8) | (1 << 29))).toBe((1 << 8) | (1 << 29));
  });

  it('a guest reads the same leaves; CR4 and EFER reject bits the model lacks', () => {
    const leaves = [0, 1, 7, 0x80000000, 0x80000001, 0x80000002, 0x80000007, 0x80000008, 0x80000021, 0x40000000];
    const g = buildGuest(LM_PRELUDE + String.raw`
.set RESULT, 0x70000
.text
test_main:
  lea rsi, [rip + leaves]
  mov rdi, RESULT
1:
  mov eax, [rsi]
  cmp eax, -1
  je 2f
  mov ecx, 0
  cpuid
  mov [rdi], eax
  mov [rdi + 4], ebx
  mov [rdi + 8], ecx
  mov [rdi + 12], edx
  add rdi, 16
  add rsi, 4
  jmp 1b
2:
  # CR4: VME (0), PCE (8), UMIP (11), FSGSBASE (16), PKE (22) are not in the model
  .irp bit, 0, 8, 11, 16, 22
  T 10\bit
    mov rax, cr4
    bts rax, \bit
    mov cr4, rax
  E 10\bit
  .endr
  T 200
    mov rax, cr4
    or eax, 0x84
    mov cr4, rax
    and eax, ~0x84
    mov cr4, rax
  E 200
  # EFER: SVME (12) and FFXSR (14) are not; LMA is read-only
  .irp bit, 12, 14
  T 30\bit
    mov ecx, 0xc0000080
    rdmsr
    bts eax, \bit
    wrmsr
  E 30\bit
  .endr
  T 301
    mov ecx, 0xc0000080
    rdmsr
    and eax, ~0x400
    wrmsr
    rdmsr
    mov [RESULT + 0x200], eax
  E 301
  # AIBRSE (21), which CPUID's AutoIBRS bit advertises, is accepted
  T 321
    mov ecx, 0xc0000080
    rdmsr
    bts eax, 21
    wrmsr
    rdmsr
    mov [RESULT + 0x204], eax
    btr eax, 21
    wrmsr
  E 321
  ret
.data
leaves: .long ${leaves.join(', ')}, -1
`);
    const r = runFlat(g.bin, 'tcg');
    expect(r.outcome).toEqual({ kind: 'exit', status: 1 });
    leaves.forEach((leaf, i) => {
      const got = [0, 4, 8, 12].map((k) => r.u32(0x70000 + 16 * i + k));
      expect([leaf.toString(16), got]).toEqual([leaf.toString(16), cpuid(leaf, 0)]);
    });
    const log = readLog(r);
    const ev = (step: number) => {
      const e = log.find((x) => x.step === step)!;
      return e.vector === NO_EVENT ? 'none' : `${e.vector}/${e.frame[0]}`;
    };
    for (const bit of [0, 8, 11, 16, 22]) expect([bit, ev(Number(`10${bit}`))]).toEqual([bit, '13/0']);
    expect(ev(200)).toBe('none');
    expect(ev(3012)).toBe('13/0');
    expect(ev(3014)).toBe('13/0');
    expect(ev(301)).toBe('none');
    expect(r.u32(0x70200) & 0x400).toBe(0x400); // LMA stays
    expect(ev(321)).toBe('none');
    expect(r.u32(0x70204) & (1 << 21)).toBe(1 << 21);
  });

  it('SERIALIZE is advertised and runs: code patched before it runs patched (Linux sync_core uses it, not IRET)', () => {
    expect(cpuid(7, 0)[3] & (1 << 14)).toBe(1 << 14);
    const g = buildGuest(LM_PRELUDE + String.raw`
.set RESULT, 0x70000
.text
test_main:
  T 1
    lea rdi, [rip + patched]
    mov dword ptr [rdi + 1], 42
    serialize
patched:
    mov eax, 1
    mov [RESULT], eax
  E 1
  ret
`);
    const r = runFlat(g.bin, 'tcg');
    expect(r.outcome).toEqual({ kind: 'exit', status: 1 });
    expect(readLog(r).find((x) => x.step === 1)!.vector).toBe(NO_EVENT);
    expect(r.u32(0x70000)).toBe(42);
  });
});
