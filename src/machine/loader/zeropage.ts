// The Linux x86 boot protocol's data structures (Documentation/arch/x86/boot.rst and zero-page.rst): the setup
// header a bzImage carries at file offset 0x1f1, and the 4 KiB struct boot_params ("zero page") a loader hands the
// kernel, with that header copied in and the E820 memory map, command line and initrd filled out.

import { LoaderError } from './error.js';
import type { MemoryMapEntry } from './layout.js';

/** Offsets shared by the bzImage file and struct boot_params (the setup header sits at the same place in both). */
export const HDR = {
  setupSects: 0x1f1,
  bootFlag: 0x1fe,
  jump: 0x200,
  magic: 0x202,
  version: 0x206,
  typeOfLoader: 0x210,
  loadflags: 0x211,
  code32Start: 0x214,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  heapEndPtr: 0x224,
  cmdLinePtr: 0x228,
  initrdAddrMax: 0x22c,
  kernelAlignment: 0x230,
  relocatableKernel: 0x234,
  minAlignment: 0x235,
  xloadflags: 0x236,
  cmdlineSize: 0x238,
  prefAddress: 0x258,
  initSize: 0x260,
} as const;

/** Offsets of struct boot_params outside the setup header. */
export const BP = {
  extRamdiskImage: 0x0c0,
  extRamdiskSize: 0x0c4,
  extCmdLinePtr: 0x0c8,
  e820Entries: 0x1e8,
  e820Table: 0x2d0,
} as const;

export const ZERO_PAGE_SIZE = 0x1000;
/** Where struct setup_header ends inside boot_params (the padding before edd_mbr_sig_buffer starts at 0x290). */
export const SETUP_HEADER_LIMIT = 0x290;
export const E820_MAX_ENTRIES = 128;
export const E820_ENTRY_SIZE = 20;

export const HDRS_MAGIC = 0x53726448; // "HdrS"
export const BOOT_FLAG = 0xaa55;
/** 2.12: xloadflags, and with it the 64-bit entry point the direct 64-bit boot needs. */
export const MIN_VERSION = 0x020c;

export const LOADED_HIGH = 0x01;
export const KEEP_SEGMENTS = 0x40;
export const CAN_USE_HEAP = 0x80;
export const XLF_KERNEL_64 = 0x01;
export const XLF_CAN_BE_LOADED_ABOVE_4G = 0x02;
/** "Undefined" boot loader ID: not one of the registered loaders. */
export const LOADER_TYPE_UNDEFINED = 0xff;
/** The 64-bit entry point sits this far into the protected-mode kernel. */
export const STARTUP_64_OFFSET = 0x200;

export interface SetupHeader {
  /** Sectors of real-mode setup code after the boot sector (0 means 4). */
  setupSects: number;
  version: number;
  loadflags: number;
  code32Start: number;
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  xloadflags: number;
  /** Longest command line the kernel takes, without the NUL. */
  cmdlineSize: number;
  prefAddress: bigint;
  /** Bytes of memory the kernel needs from its load address to decompress and start. */
  initSize: number;
  /** File offset and length of the protected-mode kernel. */
  kernelOffset: number;
  kernelSize: number;
  /** End of the setup header in the file (0x202 + the jump's displacement), capped to boot_params' room. */
  headerEnd: number;
}

const hex = (v: number | bigint): string => '0x' + v.toString(16);

/** Whether the file carries the boot protocol's "HdrS" signature. */
export function hasSetupHeader(bytes: Uint8Array): boolean {
  return bytes.length >= 0x206 && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(HDR.magic, true) === HDRS_MAGIC;
}

/** Parses and checks a bzImage's setup header for the 64-bit boot protocol; throws LoaderError naming the problem. */
export function parseSetupHeader(bytes: Uint8Array): SetupHeader {
  if (!hasSetupHeader(bytes)) throw new LoaderError('not a Linux bzImage: no "HdrS" boot protocol signature at 0x202');
  if (bytes.length < SETUP_HEADER_LIMIT) {
    throw new LoaderError(`truncated bzImage: ${bytes.length} bytes, shorter than its setup header`);
  }
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = d.getUint16(HDR.version, true);
  const ver = `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
  if (d.getUint16(HDR.bootFlag, true) !== BOOT_FLAG) {
    throw new LoaderError(`bad bzImage: boot_flag is ${hex(d.getUint16(HDR.bootFlag, true))}, expected 0xaa55`);
  }
  if (version < MIN_VERSION) {
    throw new LoaderError(`bzImage boot protocol ${ver} is too old: the 64-bit entry needs 2.12 or later`);
  }
  const loadflags = d.getUint8(HDR.loadflags);
  if (!(loadflags & LOADED_HIGH)) throw new LoaderError('zImage (loaded low) kernels are not supported: LOADED_HIGH is clear');
  const xloadflags = d.getUint16(HDR.xloadflags, true);
  if (!(xloadflags & XLF_KERNEL_64)) {
    throw new LoaderError('bzImage has no 64-bit entry point (XLF_KERNEL_64 clear): only x86-64 kernels are supported');
  }
  const setupSects = d.getUint8(HDR.setupSects) || 4;
  const kernelOffset = (setupSects + 1) * 512;
  if (kernelOffset >= bytes.length) {
    throw new LoaderError(`truncated bzImage: ${setupSects} setup sectors but the file is only ${bytes.length} bytes`);
  }
  const kernelSize = bytes.length - kernelOffset;
  if (kernelSize <= STARTUP_64_OFFSET) {
    throw new LoaderError(`truncated bzImage: the protected-mode kernel (${kernelSize} bytes) ends before its 64-bit entry`);
  }
  const kernelAlignment = d.getUint32(HDR.kernelAlignment, true);
  const relocatable = d.getUint8(HDR.relocatableKernel) !== 0;
  if (relocatable && (kernelAlignment === 0 || (kernelAlignment & (kernelAlignment - 1)) !== 0)) {
    throw new LoaderError(`bad bzImage: kernel_alignment ${hex(kernelAlignment)} is not a power of two`);
  }
  const headerEnd = Math.min(0x202 + d.getUint8(HDR.jump + 1), SETUP_HEADER_LIMIT);
  if (headerEnd < HDR.xloadflags + 2) throw new LoaderError(`bad bzImage: setup header ends at ${hex(headerEnd)}`);
  return {
    setupSects,
    version,
    loadflags,
    code32Start: d.getUint32(HDR.code32Start, true),
    initrdAddrMax: d.getUint32(HDR.initrdAddrMax, true),
    kernelAlignment,
    relocatable,
    xloadflags,
    cmdlineSize: d.getUint32(HDR.cmdlineSize, true),
    prefAddress: d.getBigUint64(HDR.prefAddress, true),
    initSize: d.getUint32(HDR.initSize, true),
    kernelOffset,
    kernelSize,
    headerEnd,
  };
}

export interface ZeroPageParams {
  /** Guest-physical address the protected-mode kernel was loaded at (written to code32_start). */
  kernelAddr: number;
  cmdlineAddr: number;
  initrd?: { addr: number; size: number };
  e820: MemoryMapEntry[];
}

/** Builds struct boot_params: zeroes, the file's setup header, then the loader's fields. */
export function buildZeroPage(image: Uint8Array, hdr: SetupHeader, p: ZeroPageParams): Uint8Array {
  if (p.e820.length > E820_MAX_ENTRIES) throw new LoaderError(`too many E820 entries (${p.e820.length})`);
  const zp = new Uint8Array(ZERO_PAGE_SIZE);
  zp.set(image.subarray(HDR.setupSects, hdr.headerEnd), HDR.setupSects);
  const d = new DataView(zp.buffer);
  d.setUint8(HDR.typeOfLoader, LOADER_TYPE_UNDEFINED);
  // No real-mode setup code runs, so there is no heap and the segments are the loader's.
  d.setUint8(HDR.loadflags, (hdr.loadflags | LOADED_HIGH) & ~CAN_USE_HEAP);
  d.setUint32(HDR.code32Start, p.kernelAddr, true);
  const lo32 = (v: number): number => v >>> 0;
  const hi32 = (v: number): number => Math.floor(v / 0x1_0000_0000);
  d.setUint32(HDR.cmdLinePtr, lo32(p.cmdlineAddr), true);
  d.setUint32(BP.extCmdLinePtr, hi32(p.cmdlineAddr), true);
  if (p.initrd) {
    d.setUint32(HDR.ramdiskImage, lo32(p.initrd.addr), true);
    d.setUint32(BP.extRamdiskImage, hi32(p.initrd.addr), true);
    d.setUint32(HDR.ramdiskSize, lo32(p.initrd.size), true);
    d.setUint32(BP.extRamdiskSize, hi32(p.initrd.size), true);
  } else {
    d.setUint32(HDR.ramdiskImage, 0, true);
    d.setUint32(HDR.ramdiskSize, 0, true);
  }
  d.setUint8(BP.e820Entries, p.e820.length);
  p.e820.forEach((e, i) => {
    const at = BP.e820Table + i * E820_ENTRY_SIZE;
    d.setBigUint64(at, BigInt(e.addr), true);
    d.setBigUint64(at + 8, BigInt(e.size), true);
    d.setUint32(at + 16, e.type, true);
  });
  return zp;
}

/** Reads back the E820 table of a zero page (for tests and `--dump`-style inspection). */
export function readE820(zp: Uint8Array): MemoryMapEntry[] {
  const d = new DataView(zp.buffer, zp.byteOffset, zp.byteLength);
  const n = d.getUint8(BP.e820Entries);
  return Array.from({ length: n }, (_, i) => {
    const at = BP.e820Table + i * E820_ENTRY_SIZE;
    return { addr: Number(d.getBigUint64(at, true)), size: Number(d.getBigUint64(at + 8, true)), type: d.getUint32(at + 16, true) };
  });
}
