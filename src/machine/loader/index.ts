// `-kernel` for kemu: the format is chosen from the file's content in QEMU's order — a Linux bzImage (the "HdrS"
// boot protocol header at 0x202) first, then a Multiboot header, then an ELF with the Xen PVH note, then a plain
// x86-64 ELF entered in long mode.

import type { GuestMemory } from '../memory.js';
import { isElf, parseKernelElf } from './elf-image.js';
import { loadElf64 } from './elf64.js';
import { loadBzImage } from './bzimage.js';
import { LoaderError } from './error.js';
import { findMultibootHeader, loadMultiboot } from './multiboot.js';
import { loadPvh, pvhEntry } from './pvh.js';
import type { KernelFormat, LoadOptions, LoadResult } from './types.js';
import { hasSetupHeader } from './zeropage.js';

export { LoaderError } from './error.js';
export type { BootModule, KernelFormat, LoadedModule, LoadOptions, LoadResult } from './types.js';

const ACCEPTS = 'a Multiboot kernel, a Linux bzImage, an ELF kernel with a Xen PVH note, or an x86-64 ELF executable';

/** Which loader would take this file (throws LoaderError if none). */
export function detectKernelFormat(bytes: Uint8Array): KernelFormat {
  if (hasSetupHeader(bytes)) return 'bzimage';
  if (findMultibootHeader(bytes)) return 'multiboot';
  if (!isElf(bytes)) throw new LoaderError(`unrecognized kernel format; expected ${ACCEPTS}`);
  const elf = parseKernelElf(bytes);
  if (pvhEntry(elf) !== undefined) return 'pvh';
  if (elf.bits === 64) return 'elf64';
  throw new LoaderError(`32-bit ELF kernel without a Multiboot header or PVH note; expected ${ACCEPTS}`);
}

/** Loads a kernel image into guest memory and returns the vCPU state to start it in. */
export function loadKernel(bytes: Uint8Array, mem: GuestMemory, opts: LoadOptions = {}): LoadResult {
  const format = detectKernelFormat(bytes);
  if (format === 'bzimage') return loadBzImage(bytes, mem, opts);
  // Elsewhere the initrd is the first boot module, as QEMU hands it to PVH (hvm_start_info modlist) and Multiboot.
  if (opts.initrd) {
    if (format === 'elf64') throw new LoaderError('a plain ELF64 kernel has no way to receive an initrd (use PVH, Multiboot or a bzImage)');
    opts = { ...opts, modules: [{ data: opts.initrd, cmdline: '' }, ...(opts.modules ?? [])], initrd: undefined };
  }
  switch (format) {
    case 'multiboot':
      return loadMultiboot(bytes, mem, opts);
    case 'pvh':
      return loadPvh(bytes, mem, opts);
    case 'elf64':
      return loadElf64(bytes, mem, opts);
  }
}
