// Where the loaders put their boot structures in guest RAM, and the memory map they report. All of it sits in
// conventional memory below the EBDA, the way Firecracker and QEMU's option ROMs lay things out.

export const GDT_ADDR = 0x500;
/** Boot information, command lines, module lists: allocated from here up to LOW_RAM_END. */
export const BOOT_DATA_START = 0x1000;
/** Identity-map page tables for the long-mode entry: PML4, PDPT and four page directories (as Firecracker). */
export const PML4_ADDR = 0x9000;
export const PDPT_ADDR = 0xa000;
export const PD_ADDR = 0xb000;
/** Start of the extended BIOS data area: conventional RAM ends here (639 KiB). */
export const LOW_RAM_END = 0x9fc00;
export const BIOS_AREA_START = 0xf0000;
export const HIGH_RAM_START = 0x100000;
export const FOUR_GIB = 0x1_0000_0000;

export const SEL_CODE = 0x08;
export const SEL_DATA = 0x10;
export const SEL_TSS = 0x18;

export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface MemoryMapEntry {
  addr: number;
  size: number;
  type: number;
}

/** The E820 map SeaBIOS reports under QEMU, minus firmware tables: low RAM, the EBDA and the BIOS area
 * reserved, RAM from 1 MiB. The VGA/option-ROM window 0xa0000-0xf0000 is a hole. */
export function memoryMap(ramSize: number): MemoryMapEntry[] {
  const map: MemoryMapEntry[] = [{ addr: 0, size: Math.min(ramSize, LOW_RAM_END), type: E820_RAM }];
  if (ramSize <= LOW_RAM_END) return map;
  map.push({ addr: LOW_RAM_END, size: 0xa0000 - LOW_RAM_END, type: E820_RESERVED });
  map.push({ addr: BIOS_AREA_START, size: HIGH_RAM_START - BIOS_AREA_START, type: E820_RESERVED });
  if (ramSize > HIGH_RAM_START) map.push({ addr: HIGH_RAM_START, size: ramSize - HIGH_RAM_START, type: E820_RAM });
  return map;
}
