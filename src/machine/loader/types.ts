import type { CpuState } from '../../cpu/state.js';
import type { Region } from './placement.js';

export type KernelFormat = 'elf64' | 'pvh' | 'multiboot' | 'bzimage';

export interface BootModule {
  data: Uint8Array;
  cmdline: string;
}

export interface LoadOptions {
  cmdline?: string;
  modules?: BootModule[];
  /** An initial ramdisk: a bzImage's ramdisk_image, or module 0 for PVH and Multiboot kernels (as QEMU -initrd). */
  initrd?: Uint8Array;
}

export interface LoadedModule {
  /** Guest-physical range [start, end) of the module's bytes. */
  start: number;
  end: number;
  cmdline: string;
  cmdlineAddr: number;
}

export interface LoadResult {
  format: KernelFormat;
  /** The vCPU state to start the guest in. */
  state: CpuState;
  /** Guest-physical entry point (= state.rip). */
  entry: bigint;
  /** Everything the loader wrote, by guest-physical range. */
  regions: Region[];
  /** The hvm_start_info (PVH) or multiboot_info (Multiboot) address handed over in EBX. */
  bootInfoAddr?: number;
  cmdlineAddr?: number;
  modules: LoadedModule[];
  /** Where a bzImage's initrd went (PVH and Multiboot report it as module 0). */
  initrd?: { start: number; end: number };
}
