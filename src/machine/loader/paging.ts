// Identity map of the first 4 GiB with 2 MiB pages, in low memory: one PML4, one PDPT, four page directories.

import { PD_ADDR, PDPT_ADDR, PML4_ADDR } from './layout.js';
import type { Placement } from './placement.js';

export const PTE_P = 0x1n;
export const PTE_RW = 0x2n;
export const PTE_PS = 0x80n;
const PAGE = 0x1000;
const HUGE = 0x20_0000n;

/** Writes the tables and returns the PML4 address (for CR3). */
export function writeIdentityMap(arena: Placement): number {
  const mem = arena.mem;
  const pml4 = arena.claim(PML4_ADDR, PAGE, 'PML4');
  const pdpt = arena.claim(PDPT_ADDR, PAGE, 'PDPT');
  const pd = arena.claim(PD_ADDR, 4 * PAGE, 'page directories');
  mem.fill(pml4, PAGE);
  mem.fill(pdpt, PAGE);
  mem.writeU64(pml4, BigInt(pdpt) | PTE_P | PTE_RW);
  for (let i = 0; i < 4; i++) {
    const dir = pd + i * PAGE;
    mem.writeU64(pdpt + i * 8, BigInt(dir) | PTE_P | PTE_RW);
    for (let j = 0; j < 512; j++) {
      mem.writeU64(dir + j * 8, (BigInt(i * 512 + j) * HUGE) | PTE_P | PTE_RW | PTE_PS);
    }
  }
  return pml4;
}
