// `-kernel` for kemu: the format is chosen from the file's content in QEMU's order — a Multiboot header wins, then
// an ELF with the Xen PVH note, then a plain x86-64 ELF entered in long mode.

import type { GuestMemory } from '../memory.js';
import { isElf, parseKernelElf } from './elf-image.js';
import { loadElf64 } from './elf64.js';
import { LoaderError } from './error.js';
import { findMultibootHeader, loadMultiboot } from './multiboot.js';
import { loadPvh, pvhEntry } from './pvh.js';
import type { KernelFormat, LoadOptions, LoadResult } from './types.js';

export { LoaderError } from './error.js';
export type { BootModule, KernelFormat, LoadedModule, LoadOptions, LoadResult } from './types.js';

const ACCEPTS = 'a Multiboot kernel, an ELF kernel with a Xen PVH note, or an x86-64 ELF executable';

function isBzImage(bytes: Uint8Array): boolean {
  // "HdrS" at 0x202 marks the Linux x86 boot protocol header.
  const magic = [0x48, 0x64, 0x72, 0x53];
  return bytes.length >= 0x206 && magic.every((b, i) => bytes[0x202 + i] === b);
}

/** Which loader would take this file (throws LoaderError if none). */
export function detectKernelFormat(bytes: Uint8Array): KernelFormat {
  if (findMultibootHeader(bytes)) return 'multiboot';
  if (isBzImage(bytes)) throw new LoaderError(`Linux bzImage kernels are not supported yet; expected ${ACCEPTS}`);
  if (!isElf(bytes)) throw new LoaderError(`unrecognized kernel format; expected ${ACCEPTS}`);
  const elf = parseKernelElf(bytes);
  if (pvhEntry(elf) !== undefined) return 'pvh';
  if (elf.bits === 64) return 'elf64';
  throw new LoaderError(`32-bit ELF kernel without a Multiboot header or PVH note; expected ${ACCEPTS}`);
}

/** Loads a kernel image into guest memory and returns the vCPU state to start it in. */
export function loadKernel(bytes: Uint8Array, mem: GuestMemory, opts: LoadOptions = {}): LoadResult {
  switch (detectKernelFormat(bytes)) {
    case 'multiboot':
      return loadMultiboot(bytes, mem, opts);
    case 'pvh':
      return loadPvh(bytes, mem, opts);
    case 'elf64':
      return loadElf64(bytes, mem, opts);
  }
}
