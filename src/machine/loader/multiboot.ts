// Multiboot (version 1): a header in the first 8 KiB tells how to load the kernel, either from its ELF32 program
// headers or, with flag bit 16 (the "a.out kludge"), from the header's own address fields. The kernel is entered in
// 32-bit protected mode with paging off, EAX = 0x2BADB002 and EBX = the multiboot_info.

import { EM_386, ET_EXEC, type ElfFile } from '../elf.js';
import type { GuestMemory } from '../memory.js';
import { LoaderError } from './error.js';
import { isElf, loadElfSegments, parseKernelElf, physicalEntry } from './elf-image.js';
import { BOOT_DATA_START, HIGH_RAM_START, LOW_RAM_END, memoryMap } from './layout.js';
import { placeModules } from './modules.js';
import { Placement } from './placement.js';
import { protectedModeState } from './segments.js';
import type { LoadOptions, LoadResult } from './types.js';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
export const MULTIBOOT_SEARCH = 8192;

// Header flags.
export const MBH_PAGE_ALIGN = 1 << 0;
export const MBH_MEMORY_INFO = 1 << 1;
export const MBH_VIDEO_MODE = 1 << 2;
export const MBH_AOUT_KLUDGE = 1 << 16;

// multiboot_info flags.
export const MBI_MEMORY = 1 << 0;
export const MBI_CMDLINE = 1 << 2;
export const MBI_MODS = 1 << 3;
export const MBI_MEM_MAP = 1 << 6;
export const MBI_BOOT_LOADER_NAME = 1 << 9;

/** multiboot_info is 116 bytes with the framebuffer fields; all we do not fill stays zero. */
export const MBI_SIZE = 116;
export const MBI_MODULE_SIZE = 16;
/** An mmap entry: a 4-byte size field (20) then base, length and type. */
export const MMAP_ENTRY_SIZE = 24;
export const BOOT_LOADER_NAME = 'kemu';

const RAX = 0;
const RBX = 3;
const hex = (v: number | bigint): string => '0x' + v.toString(16);

export interface MultibootHeader {
  /** File offset of the header. */
  offset: number;
  flags: number;
}

/** The first valid Multiboot header (magic and checksum) in the first 8 KiB, 4-byte aligned. */
export function findMultibootHeader(bytes: Uint8Array): MultibootHeader | undefined {
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = Math.min(bytes.length, MULTIBOOT_SEARCH);
  for (let off = 0; off + 12 <= limit; off += 4) {
    if (d.getUint32(off, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = d.getUint32(off + 4, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + d.getUint32(off + 8, true)) & 0xffffffff) === 0) return { offset: off, flags };
  }
  return undefined;
}

/** Loads the image from the a.out-kludge address fields; returns the kernel's physical end and entry. */
function loadAout(bytes: Uint8Array, hdr: MultibootHeader, arena: Placement): { end: number; entry: bigint } {
  if (hdr.offset + 32 > bytes.length) throw new LoaderError('Multiboot header with the address flag (bit 16) is truncated');
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const field = (o: number): number => d.getUint32(hdr.offset + o, true);
  const headerAddr = field(12);
  const loadAddr = field(16);
  const loadEndAddr = field(20);
  const bssEndAddr = field(24);
  const entryAddr = field(28);
  const bad = (what: string): LoaderError => new LoaderError(`Multiboot ${what}`);

  if (loadAddr > headerAddr) throw bad(`load_addr ${hex(loadAddr)} is above header_addr ${hex(headerAddr)}`);
  // The image starts in the file (header_addr - load_addr) bytes before the header.
  const fileStart = hdr.offset - (headerAddr - loadAddr);
  if (fileStart < 0) throw bad(`header_addr - load_addr (${hex(headerAddr - loadAddr)}) reaches before the start of the file`);
  let size = bytes.length - fileStart;
  if (loadEndAddr !== 0) {
    if (loadEndAddr < loadAddr) throw bad(`load_end_addr ${hex(loadEndAddr)} is below load_addr ${hex(loadAddr)}`);
    if (fileStart + loadEndAddr - loadAddr > bytes.length) {
      throw bad(`image is truncated: load_end_addr asks for ${hex(loadEndAddr - loadAddr)} bytes, the file has ${hex(size)}`);
    }
    size = loadEndAddr - loadAddr;
  }
  let memSize = size;
  if (bssEndAddr !== 0) {
    if (bssEndAddr < loadAddr + size) throw bad(`bss_end_addr ${hex(bssEndAddr)} is below the image end ${hex(loadAddr + size)}`);
    memSize = bssEndAddr - loadAddr;
  }
  const at = arena.claim(loadAddr, memSize, `Multiboot image (${hex(memSize)} bytes)`, 'kernel');
  arena.mem.write(at, bytes.subarray(fileStart, fileStart + size));
  arena.mem.fill(at + size, memSize - size);
  return { end: at + memSize, entry: BigInt(entryAddr) };
}

function loadElf32(bytes: Uint8Array, arena: Placement): { end: number; entry: bigint } {
  if (!isElf(bytes)) {
    throw new LoaderError('Multiboot kernel is neither ELF nor has load addresses in its header (flag bit 16)');
  }
  const elf: ElfFile = parseKernelElf(bytes);
  const { bits, machine, type } = elf.header;
  if (bits !== 32) throw new LoaderError('Multiboot ELF kernel must be ELF32 (a 64-bit image needs the a.out kludge, bit 16)');
  if (machine !== EM_386) throw new LoaderError(`Multiboot ELF kernel is not i386 (e_machine ${machine})`);
  if (type !== ET_EXEC) throw new LoaderError(`Multiboot ELF kernel is not an executable (e_type ${type})`);
  const { end } = loadElfSegments(elf, arena);
  return { end, entry: physicalEntry(elf, elf.header.entry) };
}

export function loadMultiboot(bytes: Uint8Array, mem: GuestMemory, opts: LoadOptions = {}): LoadResult {
  const hdr = findMultibootHeader(bytes);
  if (!hdr) throw new LoaderError('no Multiboot header (magic 0x1BADB002 with a valid checksum) in the first 8 KiB');
  // Bits 0-15 are requirements: refuse any we do not know. Video mode (bit 2) is a request we may ignore.
  const unknown = hdr.flags & 0xfff8;
  if (unknown) throw new LoaderError(`Multiboot header requires unsupported features (flags ${hex(hdr.flags)})`);

  const arena = new Placement(mem);
  const kernel = hdr.flags & MBH_AOUT_KLUDGE ? loadAout(bytes, hdr, arena) : loadElf32(bytes, arena);
  if (kernel.entry >= BigInt(mem.ramSize)) throw new LoaderError(`Multiboot entry point ${hex(kernel.entry)} is outside guest RAM`);
  const state = protectedModeState(arena);
  const modules = placeModules(arena, opts.modules ?? [], kernel.end);

  const low = (size: number, what: string): number => arena.zeroed(size, 4, BOOT_DATA_START, LOW_RAM_END, what);
  const info = low(MBI_SIZE, 'multiboot_info');
  const cmdlineAddr = arena.putString(opts.cmdline ?? '', BOOT_DATA_START, LOW_RAM_END, 'command line');
  const nameAddr = arena.putString(BOOT_LOADER_NAME, BOOT_DATA_START, LOW_RAM_END, 'boot loader name');

  const map = memoryMap(mem.ramSize);
  const mmap = low(map.length * MMAP_ENTRY_SIZE, 'memory map');
  map.forEach((e, i) => {
    const p = mmap + i * MMAP_ENTRY_SIZE;
    mem.writeU32(p, MMAP_ENTRY_SIZE - 4);
    mem.writeU64(p + 4, e.addr);
    mem.writeU64(p + 12, e.size);
    mem.writeU32(p + 20, e.type);
  });

  const mods = low(Math.max(modules.length, 1) * MBI_MODULE_SIZE, 'module list');
  modules.forEach((m, i) => {
    const p = mods + i * MBI_MODULE_SIZE;
    mem.writeU32(p, m.start);
    mem.writeU32(p + 4, m.end);
    mem.writeU32(p + 8, m.cmdlineAddr);
  });

  const lowRam = map[0]!.size;
  const upperRam = mem.ramSize > HIGH_RAM_START ? mem.ramSize - HIGH_RAM_START : 0;
  mem.writeU32(info, MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MEM_MAP | MBI_BOOT_LOADER_NAME);
  mem.writeU32(info + 4, Math.floor(lowRam / 1024)); // mem_lower, KiB
  mem.writeU32(info + 8, Math.floor(upperRam / 1024)); // mem_upper, KiB from 1 MiB
  mem.writeU32(info + 16, cmdlineAddr);
  mem.writeU32(info + 20, modules.length);
  mem.writeU32(info + 24, mods);
  mem.writeU32(info + 44, map.length * MMAP_ENTRY_SIZE);
  mem.writeU32(info + 48, mmap);
  mem.writeU32(info + 64, nameAddr);

  state.rip = kernel.entry;
  state.gpr[RAX] = BigInt(MULTIBOOT_BOOTLOADER_MAGIC);
  state.gpr[RBX] = BigInt(info);
  const { regions } = arena;
  return { format: 'multiboot', state, entry: kernel.entry, regions, bootInfoAddr: info, cmdlineAddr, modules };
}
