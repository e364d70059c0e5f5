// Loading an ELF kernel's PT_LOAD segments at their physical addresses (p_paddr), as QEMU and Firecracker do.

import { ElfError, parseElf, PT_LOAD, type ElfFile } from '../elf.js';
import { LoaderError } from './error.js';
import type { Placement } from './placement.js';

const hex = (v: number | bigint): string => '0x' + v.toString(16);

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

export function parseKernelElf(bytes: Uint8Array, bits?: 32 | 64): ElfFile {
  try {
    return parseElf(bytes, { bits });
  } catch (e) {
    if (e instanceof ElfError) throw new LoaderError(`bad ELF kernel: ${e.message}`);
    throw e;
  }
}

/** Writes the segments (zeroing their bss) and returns the physical range they span, end exclusive. */
export function loadElfSegments(elf: ElfFile, arena: Placement): { start: number; end: number } {
  let start = Infinity;
  let end = 0;
  let n = 0;
  elf.segments.forEach((p, i) => {
    if (p.type !== PT_LOAD || p.memsz === 0) return;
    const at = arena.claim(p.paddr, p.memsz, `ELF segment ${i} (${hex(p.memsz)} bytes)`, 'kernel');
    arena.mem.write(at, elf.segmentData(p));
    arena.mem.fill(at + p.filesz, p.memsz - p.filesz);
    start = Math.min(start, at);
    end = Math.max(end, at + p.memsz);
    n++;
  });
  if (!n) throw new LoaderError('ELF kernel has no loadable (PT_LOAD) segments');
  return { start, end };
}

/** The physical address of a virtual entry point inside a loaded segment (unchanged if it is in none). */
export function physicalEntry(elf: ElfFile, entry: bigint): bigint {
  for (const p of elf.segments) {
    if (p.type === PT_LOAD && entry >= p.vaddr && entry < p.vaddr + BigInt(p.memsz)) return p.paddr + (entry - p.vaddr);
  }
  return entry;
}
