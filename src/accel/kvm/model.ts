// The software CPU's CPUID model as a leaf list, the input KVM_SET_CPUID2 is built from (see cpuid.ts): one model
// for both backends, so a guest sees the same processor under tcg and under KVM (minus what the host lacks).
import { cpuid } from '../../cpu/cpuid.ts';
import type { CpuidLeaf } from './cpuid.ts';

/** Leaves whose ECX selects a subleaf, with how many subleaves the model defines. */
const SUBLEAF_COUNTS: Record<number, number> = { 4: 1, 7: 1, 0xb: 2, 0xd: 2 };

export function emulatedCpuModel(): CpuidLeaf[] {
  const out: CpuidLeaf[] = [];
  const add = (leaf: number): void => {
    const subs = SUBLEAF_COUNTS[leaf];
    if (subs === undefined) {
      const [eax, ebx, ecx, edx] = cpuid(leaf, 0);
      out.push({ leaf, eax, ebx, ecx, edx });
      return;
    }
    for (let s = 0; s < subs; s++) {
      const [eax, ebx, ecx, edx] = cpuid(leaf, s);
      out.push({ leaf, subleaf: s, eax, ebx, ecx, edx });
    }
  };
  const maxBasic = cpuid(0, 0)[0];
  for (let l = 0; l <= maxBasic; l++) add(l);
  const maxExt = cpuid(0x80000000, 0)[0];
  for (let l = 0x80000000; l <= maxExt; l++) add(l);
  return out;
}
