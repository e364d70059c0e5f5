// The PVH boot ABI (Xen's, used by QEMU -kernel for an ELF with XEN_ELFNOTE_PHYS32_ENTRY): 32-bit protected mode
// with paging off, EBX = physical address of an hvm_start_info (version 1) carrying the command line, the module
// list and the E820-style memory map.

import { XEN_ELFNOTE_PHYS32_ENTRY, ET_EXEC, type ElfFile } from '../elf.js';
import type { GuestMemory } from '../memory.js';
import { LoaderError } from './error.js';
import { loadElfSegments, parseKernelElf } from './elf-image.js';
import { BOOT_DATA_START, LOW_RAM_END, memoryMap } from './layout.js';
import { placeModules } from './modules.js';
import { Placement } from './placement.js';
import { protectedModeState } from './segments.js';
import type { LoadOptions, LoadResult } from './types.js';

export const HVM_START_MAGIC = 0x336ec578;
export const HVM_START_VERSION = 1;
/** sizeof(struct hvm_start_info), hvm_modlist_entry and hvm_memmap_table_entry. */
export const START_INFO_SIZE = 56;
export const MODLIST_ENTRY_SIZE = 32;
export const MEMMAP_ENTRY_SIZE = 24;

const RBX = 3;
const hex = (v: number | bigint): string => '0x' + v.toString(16);

/** The PVH 32-bit entry point from the Xen note, or undefined if the ELF has none. */
export function pvhEntry(elf: ElfFile): bigint | undefined {
  let notes;
  try {
    notes = elf.notes();
  } catch (e) {
    throw new LoaderError(`bad ELF kernel: ${(e as Error).message}`);
  }
  const note = notes.find((n) => n.name === 'Xen' && n.type === XEN_ELFNOTE_PHYS32_ENTRY);
  if (!note) return undefined;
  const d = new DataView(note.desc.buffer, note.desc.byteOffset, note.desc.byteLength);
  if (note.desc.length === 4) return BigInt(d.getUint32(0, true));
  if (note.desc.length === 8) return d.getBigUint64(0, true);
  throw new LoaderError(`Xen PHYS32_ENTRY note has a ${note.desc.length}-byte value (expected 4 or 8)`);
}

export function loadPvh(bytes: Uint8Array, mem: GuestMemory, opts: LoadOptions = {}, parsed?: ElfFile): LoadResult {
  const elf = parsed ?? parseKernelElf(bytes);
  const entry = pvhEntry(elf);
  if (entry === undefined) throw new LoaderError('ELF kernel has no Xen PHYS32_ENTRY (PVH) note');
  if (elf.header.type !== ET_EXEC) {
    throw new LoaderError(`PVH kernel is not an executable (e_type ${elf.header.type}, expected ET_EXEC)`);
  }
  if (entry >= BigInt(mem.ramSize)) throw new LoaderError(`PVH entry point ${hex(entry)} is outside guest RAM`);

  const arena = new Placement(mem);
  const kernel = loadElfSegments(elf, arena);
  const state = protectedModeState(arena);
  const modules = placeModules(arena, opts.modules ?? [], kernel.end);

  const low = (size: number, what: string): number => arena.zeroed(size, 8, BOOT_DATA_START, LOW_RAM_END, what);
  const info = low(START_INFO_SIZE, 'hvm_start_info');
  const cmdlineAddr = arena.putString(opts.cmdline ?? '', BOOT_DATA_START, LOW_RAM_END, 'command line');

  const map = memoryMap(mem.ramSize);
  const memmap = low(map.length * MEMMAP_ENTRY_SIZE, 'memory map');
  map.forEach((e, i) => {
    const p = memmap + i * MEMMAP_ENTRY_SIZE;
    mem.writeU64(p, e.addr);
    mem.writeU64(p + 8, e.size);
    mem.writeU32(p + 16, e.type);
  });

  let modlist = 0;
  if (modules.length) {
    modlist = low(modules.length * MODLIST_ENTRY_SIZE, 'module list');
    modules.forEach((m, i) => {
      const p = modlist + i * MODLIST_ENTRY_SIZE;
      mem.writeU64(p, m.start);
      mem.writeU64(p + 8, m.end - m.start);
      mem.writeU64(p + 16, m.cmdlineAddr);
    });
  }

  mem.writeU32(info, HVM_START_MAGIC);
  mem.writeU32(info + 4, HVM_START_VERSION);
  mem.writeU32(info + 8, 0); // flags
  mem.writeU32(info + 12, modules.length);
  mem.writeU64(info + 16, modlist);
  mem.writeU64(info + 24, cmdlineAddr);
  mem.writeU64(info + 32, 0); // rsdp_paddr: no ACPI tables yet
  mem.writeU64(info + 40, memmap);
  mem.writeU32(info + 48, map.length);

  state.rip = entry;
  state.gpr[RBX] = BigInt(info);
  return { format: 'pvh', state, entry, regions: arena.regions, bootInfoAddr: info, cmdlineAddr, modules };
}
