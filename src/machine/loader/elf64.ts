// A plain x86-64 ELF kernel entered directly in long mode, the state Firecracker gives an ELF vmlinux: paging on
// with the first 4 GiB identity-mapped, flat 64-bit code at 0x08 and data at 0x10, the stack at the top of RAM.
// There is no boot protocol to hand over a command line; it is written to low memory and reported in the result.

import { EM_X86_64, ET_EXEC, type ElfFile } from '../elf.js';
import type { GuestMemory } from '../memory.js';
import { LoaderError } from './error.js';
import { loadElfSegments, parseKernelElf, physicalEntry } from './elf-image.js';
import { BOOT_DATA_START, FOUR_GIB, LOW_RAM_END } from './layout.js';
import { writeIdentityMap } from './paging.js';
import { Placement } from './placement.js';
import { longModeState } from './segments.js';
import type { LoadOptions, LoadResult } from './types.js';

const RSP = 4;
const hex = (v: bigint): string => '0x' + v.toString(16);

export function loadElf64(bytes: Uint8Array, mem: GuestMemory, opts: LoadOptions = {}, parsed?: ElfFile): LoadResult {
  const elf = parsed ?? parseKernelElf(bytes, 64);
  const { bits, machine, type } = elf.header;
  if (bits !== 64) throw new LoaderError('not a 64-bit ELF kernel (ELF32 needs a Multiboot header or a PVH note)');
  if (machine !== EM_X86_64) throw new LoaderError(`ELF64 kernel is not x86-64 (e_machine ${machine})`);
  if (type !== ET_EXEC) throw new LoaderError(`ELF64 kernel is not an executable (e_type ${type}, expected ET_EXEC)`);
  if (opts.modules?.length) {
    throw new LoaderError('a plain ELF64 kernel has no way to receive modules (use PVH or Multiboot)');
  }

  const arena = new Placement(mem);
  loadElfSegments(elf, arena);
  const entry = physicalEntry(elf, elf.header.entry);
  if (entry >= BigInt(Math.min(mem.ramSize, FOUR_GIB))) {
    throw new LoaderError(`ELF64 entry point ${hex(elf.header.entry)} is outside the identity-mapped guest RAM`);
  }
  const pml4 = writeIdentityMap(arena);
  const state = longModeState(arena, pml4);
  state.rip = entry;
  state.gpr[RSP] = BigInt(Math.min(mem.ramSize, FOUR_GIB)) & ~0xfn;
  const cmdlineAddr =
    opts.cmdline === undefined ? undefined : arena.putString(opts.cmdline, BOOT_DATA_START, LOW_RAM_END, 'command line');
  return { format: 'elf64', state, entry, regions: arena.regions, cmdlineAddr, modules: [] };
}
