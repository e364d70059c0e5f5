// Linux bzImage direct boot through the 64-bit boot protocol, as Firecracker and cloud-hypervisor do it: no
// real-mode setup code runs. The protected-mode kernel (everything after the setup sectors) is loaded at its
// preferred address (or 1 MiB aligned up to kernel_alignment), the zero page gets the file's setup header, the
// E820 map, the command line and the initrd, and the vCPU starts at startup_64 (load address + 0x200) in long
// mode with the first 4 GiB identity-mapped, RSI = the zero page and interrupts off.
//
// The GDT is the one the ELF64 loader builds (code 0x08, data 0x10), as Firecracker's: boot.rst asks for
// __BOOT_CS 0x10 / __BOOT_DS 0x18, but startup_64 loads null data selectors and its own GDT before relying on any.

import type { GuestMemory } from '../memory.js';
import { LoaderError } from './error.js';
import { BOOT_DATA_START, FOUR_GIB, HIGH_RAM_START, LOW_RAM_END, memoryMap } from './layout.js';
import { writeIdentityMap } from './paging.js';
import { Placement } from './placement.js';
import { longModeState } from './segments.js';
import type { LoadOptions, LoadResult } from './types.js';
import {
  buildZeroPage, parseSetupHeader, STARTUP_64_OFFSET, XLF_CAN_BE_LOADED_ABOVE_4G, ZERO_PAGE_SIZE, type SetupHeader,
} from './zeropage.js';

const PAGE = 0x1000;
const STACK_SIZE = 0x1000;
const [RSP, RSI] = [4, 6];
const hex = (v: number | bigint): string => '0x' + v.toString(16);
const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;
const alignDown = (v: number, a: number): number => Math.floor(v / a) * a;

/** The kernel's footprint from its load address: the file's payload or init_size, whichever is larger. */
function kernelExtent(hdr: SetupHeader): number {
  return Math.max(hdr.kernelSize, hdr.initSize);
}

/** Where the protected-mode kernel goes: pref_address if it is usable, else 1 MiB rounded up to the alignment. */
export function kernelLoadAddress(hdr: SetupHeader, ramSize: number): number {
  const need = kernelExtent(hdr);
  const limit = Math.min(ramSize, FOUR_GIB);
  if (!hdr.relocatable) return HIGH_RAM_START;
  const pref = Number(hdr.prefAddress);
  if (pref >= HIGH_RAM_START && pref % hdr.kernelAlignment === 0 && pref + need <= limit) return pref;
  return alignUp(HIGH_RAM_START, hdr.kernelAlignment);
}

/** The highest page-aligned free range of `size` bytes below `hi`, claimed for `what`. */
function allocHigh(arena: Placement, size: number, lo: number, hi: number, what: string): number {
  let at = alignDown(hi - size, PAGE);
  while (at >= lo) {
    const end = at + size;
    const other = arena.regions.find((r) => r.end > r.start && at < r.end && r.start < end);
    if (!other) return arena.claim(at, size, what);
    at = alignDown(other.start - size, PAGE);
  }
  throw new LoaderError(`no room for ${what} (${size} bytes) between ${hex(lo)} and ${hex(hi)} in guest RAM`);
}

export function loadBzImage(bytes: Uint8Array, mem: GuestMemory, opts: LoadOptions = {}): LoadResult {
  const hdr = parseSetupHeader(bytes);
  if (opts.modules?.length) {
    throw new LoaderError('a bzImage takes one initrd, not boot modules (pass the initrd as `initrd`)');
  }
  const cmdline = opts.cmdline ?? '';
  const cmdlineBytes = new TextEncoder().encode(cmdline).length;
  if (hdr.cmdlineSize && cmdlineBytes > hdr.cmdlineSize) {
    throw new LoaderError(`kernel command line is ${cmdlineBytes} bytes; this kernel takes at most ${hdr.cmdlineSize}`);
  }

  const arena = new Placement(mem);
  const pml4 = writeIdentityMap(arena);
  const state = longModeState(arena, pml4);

  const kernelAddr = kernelLoadAddress(hdr, mem.ramSize);
  // Non-relocatable kernels decompress to pref_address (LOAD_PHYSICAL_ADDR) wherever they were loaded.
  const runAt = hdr.relocatable ? kernelAddr : Math.max(kernelAddr, Number(hdr.prefAddress));
  const extentEnd = Math.max(kernelAddr + hdr.kernelSize, runAt + hdr.initSize);
  if (extentEnd > Math.min(mem.ramSize, FOUR_GIB)) {
    throw new LoaderError(
      `the kernel needs guest RAM up to ${hex(extentEnd)} (loaded at ${hex(kernelAddr)}, init_size ${hex(hdr.initSize)}) ` +
        `but the guest has ${hex(mem.ramSize)} bytes`,
    );
  }
  arena.claim(kernelAddr, extentEnd - kernelAddr, `kernel (${hex(hdr.kernelSize)} bytes, init_size ${hex(hdr.initSize)})`);
  mem.write(kernelAddr, bytes.subarray(hdr.kernelOffset));
  mem.fill(kernelAddr + hdr.kernelSize, extentEnd - kernelAddr - hdr.kernelSize);

  const zeroPage = arena.alloc(ZERO_PAGE_SIZE, PAGE, BOOT_DATA_START, LOW_RAM_END, 'zero page (boot_params)');
  const stack = arena.alloc(STACK_SIZE, 16, BOOT_DATA_START, LOW_RAM_END, 'boot stack');
  const cmdlineAddr = arena.putString(cmdline, BOOT_DATA_START, LOW_RAM_END, 'command line');

  let initrd: { addr: number; size: number } | undefined;
  if (opts.initrd) {
    const size = opts.initrd.length;
    const max = hdr.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? FOUR_GIB : (hdr.initrdAddrMax || 0x37ffffff) + 1;
    const hi = Math.min(mem.ramSize, max, FOUR_GIB);
    if (size === 0) throw new LoaderError('the initrd is empty');
    const addr = allocHigh(arena, size, HIGH_RAM_START, hi, `initrd (${size} bytes)`);
    mem.write(addr, opts.initrd);
    initrd = { addr, size };
  }

  mem.write(zeroPage, buildZeroPage(bytes, hdr, { kernelAddr, cmdlineAddr, initrd, e820: memoryMap(mem.ramSize) }));

  const entry = BigInt(kernelAddr + STARTUP_64_OFFSET);
  state.rip = entry;
  state.gpr[RSI] = BigInt(zeroPage);
  state.gpr[RSP] = BigInt(stack + STACK_SIZE);
  state.rflags = 0x2n;
  return {
    format: 'bzimage',
    state,
    entry,
    regions: arena.regions,
    bootInfoAddr: zeroPage,
    cmdlineAddr,
    modules: [],
    initrd: initrd && { start: initrd.addr, end: initrd.addr + initrd.size },
  };
}
