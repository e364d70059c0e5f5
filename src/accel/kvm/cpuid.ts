// The CPUID a KVM guest sees: the emulated CPU model's leaves intersected with KVM_GET_SUPPORTED_CPUID. Feature-flag
// registers are ANDed (a guest must never be told about a feature the host cannot give it); maximum-leaf and
// address-size fields take the smaller value; XSAVE layout leaves come from the host (the hardware defines them);
// identification and topology values come from the model.
import { CPUID2_HEADER, CPUID_ENTRY, CPUID_ENTRY_SIZE, CPUID_FLAG_SIGNIFICANT_INDEX } from './abi.ts';

export interface CpuidEntry {
  function: number;
  index: number;
  /** KVM_CPUID_FLAG_SIGNIFCANT_INDEX when `index` selects a subleaf. */
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

/** A leaf of a CPU model (what src/cpu's CPUID emulation answers); `subleaf` undefined = ECX ignored. */
export interface CpuidLeaf {
  leaf: number;
  subleaf?: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

export function readCpuid2(dv: DataView, off: number): CpuidEntry[] {
  const n = dv.getUint32(off, true);
  const out: CpuidEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = off + CPUID2_HEADER + CPUID_ENTRY_SIZE * i;
    const g = (f: number) => dv.getUint32(o + f, true);
    out.push({
      function: g(CPUID_ENTRY.FUNCTION), index: g(CPUID_ENTRY.INDEX), flags: g(CPUID_ENTRY.FLAGS),
      eax: g(CPUID_ENTRY.EAX), ebx: g(CPUID_ENTRY.EBX), ecx: g(CPUID_ENTRY.ECX), edx: g(CPUID_ENTRY.EDX),
    });
  }
  return out;
}

export function cpuid2Size(n: number): number {
  return CPUID2_HEADER + CPUID_ENTRY_SIZE * n;
}

export function writeCpuid2(dv: DataView, off: number, entries: readonly CpuidEntry[]): void {
  dv.setUint32(off, entries.length, true);
  dv.setUint32(off + 4, 0, true);
  entries.forEach((e, i) => {
    const o = off + CPUID2_HEADER + CPUID_ENTRY_SIZE * i;
    for (let k = 0; k < CPUID_ENTRY_SIZE; k += 4) dv.setUint32(o + k, 0, true);
    const s = (f: number, v: number) => dv.setUint32(o + f, v >>> 0, true);
    s(CPUID_ENTRY.FUNCTION, e.function);
    s(CPUID_ENTRY.INDEX, e.index);
    s(CPUID_ENTRY.FLAGS, e.flags);
    s(CPUID_ENTRY.EAX, e.eax);
    s(CPUID_ENTRY.EBX, e.ebx);
    s(CPUID_ENTRY.ECX, e.ecx);
    s(CPUID_ENTRY.EDX, e.edx);
  });
}

type Reg = 'eax' | 'ebx' | 'ecx' | 'edx';
const REGS: readonly Reg[] = ['eax', 'ebx', 'ecx', 'edx'];

/** Registers holding feature bits, by "leaf" or "leaf.subleaf". */
const FEATURE_REGS: Record<string, readonly Reg[]> = {
  '1': ['ecx', 'edx'],
  '6': ['eax', 'ecx'],
  '7.0': ['ebx', 'ecx', 'edx'],
  '7.1': ['eax', 'ebx', 'ecx', 'edx'],
  '7.2': ['edx'],
  '0xd.1': ['eax'],
  '0x14.0': ['ebx', 'ecx'],
  '0x80000001': ['ecx', 'edx'],
  '0x80000007': ['edx'],
  '0x80000008': ['ebx'],
  '0x80000021': ['eax'],
};

const key = (leaf: number, sub: number | undefined): string =>
  (leaf < 10 ? String(leaf) : '0x' + leaf.toString(16)) + (sub === undefined ? '' : '.' + sub);

function featureRegs(leaf: number, sub: number | undefined): readonly Reg[] {
  return FEATURE_REGS[key(leaf, sub)] ?? FEATURE_REGS[key(leaf, undefined)] ?? [];
}

function findSupported(supported: readonly CpuidEntry[], leaf: number, sub: number | undefined): CpuidEntry | undefined {
  return supported.find((e) => e.function === leaf && (!(e.flags & CPUID_FLAG_SIGNIFICANT_INDEX) || e.index === (sub ?? 0)));
}

/**
 * The KVM_SET_CPUID2 entries for a CPU model: every model leaf the host also has, with feature bits ANDed. Leaves
 * the host lacks are dropped (KVM would answer them with zeros anyway, but an explicit entry would claim support).
 */
export function intersectCpuid(model: readonly CpuidLeaf[], supported: readonly CpuidEntry[]): CpuidEntry[] {
  const out: CpuidEntry[] = [];
  for (const m of model) {
    const host = findSupported(supported, m.leaf, m.subleaf);
    if (!host) continue;
    const e: CpuidEntry = {
      function: m.leaf, index: m.subleaf ?? 0, flags: m.subleaf === undefined ? 0 : CPUID_FLAG_SIGNIFICANT_INDEX,
      eax: m.eax, ebx: m.ebx, ecx: m.ecx, edx: m.edx,
    };
    for (const r of featureRegs(m.leaf, m.subleaf)) e[r] = (m[r] & host[r]) >>> 0;
    if (m.leaf === 0 || m.leaf === 0x80000000 || (m.leaf === 7 && (m.subleaf ?? 0) === 0)) {
      e.eax = Math.min(m.eax >>> 0, host.eax >>> 0);
    } else if (m.leaf === 0x80000008) {
      // physical and linear address widths: the guest's may not exceed the host's
      const phys = Math.min(m.eax & 0xff, host.eax & 0xff);
      const lin = Math.min((m.eax >>> 8) & 0xff, (host.eax >>> 8) & 0xff);
      e.eax = ((m.eax & ~0xffff) | (lin << 8) | phys) >>> 0;
    } else if (m.leaf === 0xd) {
      const sub = m.subleaf ?? 0;
      if (sub === 0) {
        e.eax = (m.eax & host.eax) >>> 0; // XCR0 bits
        e.edx = (m.edx & host.edx) >>> 0;
        e.ebx = host.ebx;
        e.ecx = host.ecx;
      } else if (sub >= 2) {
        for (const r of REGS) e[r] = host[r];
      }
    }
    out.push(e);
  }
  // XSAVE components the intersected XCR0 no longer allows describe nothing the guest can enable.
  const xcr0 = out.find((e) => e.function === 0xd && e.index === 0)?.eax ?? 0;
  return out.filter((e) => !(e.function === 0xd && e.index >= 2 && e.index < 32 && !(xcr0 & (1 << e.index))));
}
