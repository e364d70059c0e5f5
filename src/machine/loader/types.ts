import type { CpuState } from '../../cpu/state.js';
import type { Region } from './placement.js';

export type KernelFormat = 'elf64' | 'pvh' | 'multiboot';

export interface BootModule {
  data: Uint8Array;
  cmdline: string;
}

export interface LoadOptions {
  cmdline?: string;
  modules?: BootModule[];
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
}
