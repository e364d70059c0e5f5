import { describe, expect, it } from 'vitest';
import { flatSegment } from '../src/cpu/state.js';
import { parseElf, PT_LOAD } from '../src/machine/elf.js';
import { detectKernelFormat, loadKernel, LoaderError } from '../src/machine/loader/index.js';
import { E820_RAM, E820_RESERVED, GDT_ADDR, PD_ADDR, PDPT_ADDR, PML4_ADDR } from '../src/machine/loader/layout.js';
import { encodeDescriptor } from '../src/machine/loader/segments.js';
import { GuestMemory } from '../src/machine/memory.js';
import { buildKernel } from './loader-build.js';

const MiB = 0x100000;
const RAM = 64 * MiB;
const [RAX, RBX, RSP] = [0, 3, 4];

/** Fresh RAM filled with a pattern, so tests can tell what the loader wrote and zeroed. */
function ram(size = RAM): GuestMemory {
  const m = new GuestMemory(size);
  m.fill(0, size, 0xaa);
  return m;
}

const symbol = (file: Uint8Array, name: string): number => Number(parseElf(file).symbols().find((s) => s.name === name)!.value);

const ELF64_SRC = `
  .text
  .globl _start
_start:
  hlt
  jmp _start
  .data
  .globl msg
msg: .ascii "kemu-data"
  .bss
  .globl buf
buf: .skip 0x2000
buf_end:
`;

const pvhSource = (bits: 32 | 64): string => `
  .pushsection .note.Xen, "a", @note
  .balign 4
  .long 4, ${bits === 64 ? 8 : 4}, 18
  .asciz "Xen"
  .balign 4
  ${bits === 64 ? '.quad' : '.long'} pvh_start
  .popsection
  .text
  .code32
  .globl _start, pvh_start
_start:
  ud2
pvh_start:
  hlt
  .bss
  .skip 0x1000
`;

const multibootElfSource = (flags = 3, checksum = `-(0x1BADB002 + ${flags})`): string => `
  .text
  .globl _start
  .balign 4
mbh:
  .long 0x1BADB002, ${flags}, ${checksum}
_start:
  hlt
  jmp _start
  .bss
  .skip 0x4000
`;
const MULTIBOOT_ELF_SRC = multibootElfSource();

const AOUT_FLAGS = 0x10003;
/** A flat Multiboot image whose header (at file offset 0x40) gives the load addresses; 0x3000 bytes of bss. */
const MULTIBOOT_AOUT_SRC = `
  .text
  .globl _start
image:
  .fill 0x40, 1, 0x90
mbh:
  .long 0x1BADB002, ${AOUT_FLAGS}, -(0x1BADB002 + ${AOUT_FLAGS})
  .long mbh, image, load_end, bss_end, _start
_start:
  hlt
  .ascii "AOUT-DATA"
load_end:
  .set bss_end, load_end + 0x3000
`;

describe('ELF64 long-mode loader', () => {
  const file = buildKernel(ELF64_SRC, { bits: 64, text: 0x200000 });

  it('loads the segments at their physical addresses and zeroes the bss', () => {
    const mem = ram();
    const r = loadKernel(file, mem);
    expect(r.format).toBe('elf64');
    const elf = parseElf(file);
    for (const p of elf.segments.filter((s) => s.type === PT_LOAD)) {
      expect(mem.read(Number(p.paddr), p.filesz)).toEqual(elf.segmentData(p));
    }
    expect(mem.read(0x200000, 3)).toEqual(Uint8Array.of(0xf4, 0xeb, 0xfd));
    expect(new TextDecoder().decode(mem.read(symbol(file, 'msg'), 9))).toBe('kemu-data');
    const buf = symbol(file, 'buf');
    expect(mem.read(buf, 0x2000).every((b) => b === 0)).toBe(true);
  });

  it('identity-maps 4 GiB with 2 MiB pages', () => {
    const mem = ram();
    const r = loadKernel(file, mem);
    expect(r.state.cr3).toBe(BigInt(PML4_ADDR));
    expect(mem.readU64(PML4_ADDR)).toBe(BigInt(PDPT_ADDR) | 3n);
    for (let i = 1; i < 512; i++) expect(mem.readU64(PML4_ADDR + i * 8)).toBe(0n);
    for (let i = 0; i < 4; i++) expect(mem.readU64(PDPT_ADDR + i * 8)).toBe(BigInt(PD_ADDR + i * 0x1000) | 3n);
    for (let i = 4; i < 512; i++) expect(mem.readU64(PDPT_ADDR + i * 8)).toBe(0n);
    expect(mem.readU64(PD_ADDR)).toBe(0x83n);
    expect(mem.readU64(PD_ADDR + 8)).toBe(0x200083n);
    expect(mem.readU64(PD_ADDR + 0x1000)).toBe(0x4000_0083n);
    expect(mem.readU64(PD_ADDR + 0x4000 - 8)).toBe(0xffe0_0083n);
  });

  it('writes a GDT with 64-bit code at 0x08, data at 0x10 and a TSS at 0x18', () => {
    const mem = ram();
    const r = loadKernel(file, mem);
    expect(r.state.gdtr).toEqual({ base: BigInt(GDT_ADDR), limit: 39 });
    expect(mem.readU64(GDT_ADDR)).toBe(0n);
    expect(mem.readU64(GDT_ADDR + 0x08)).toBe(0x00af9b000000ffffn);
    expect(mem.readU64(GDT_ADDR + 0x10)).toBe(0x00cf93000000ffffn);
    expect(mem.readU64(GDT_ADDR + 0x18)).toBe(0x00008b0000000067n);
    expect(mem.readU64(GDT_ADDR + 0x20)).toBe(0n);
  });

  it('returns the long-mode CPU state', () => {
    const r = loadKernel(file, ram());
    const s = r.state;
    expect(r.entry).toBe(0x200000n);
    expect(s.rip).toBe(0x200000n);
    expect(s.cs).toEqual(flatSegment(0x08, true, true));
    for (const seg of [s.ds, s.es, s.fs, s.gs, s.ss]) expect(seg).toEqual(flatSegment(0x10, false));
    expect(s.tr).toMatchObject({ selector: 0x18, base: 0n, limit: 0x67, type: 0xb, s: false, present: true });
    expect(s.cr0 & 0x8000_0031n).toBe(0x8000_0031n); // PG, NE, ET, PE
    expect(s.cr4).toBe(0x20n);
    expect(s.efer).toBe(0x500n);
    expect(s.rflags).toBe(0x2n);
    expect(s.gpr[RSP]).toBe(BigInt(RAM));
    expect(s.gpr.filter((_, i) => i !== RSP).every((v) => v === 0n)).toBe(true);
  });

  it('writes the command line to low memory and rejects modules', () => {
    const mem = ram();
    const r = loadKernel(file, mem, { cmdline: 'console=ttyS0' });
    expect(mem.readCString(r.cmdlineAddr!)).toBe('console=ttyS0');
    expect(r.cmdlineAddr!).toBeLessThan(0x9fc00);
    expect(() => loadKernel(file, ram(), { modules: [{ data: new Uint8Array(4), cmdline: '' }] })).toThrow(LoaderError);
  });

  it('refuses a kernel that does not fit in RAM', () => {
    const high = buildKernel(ELF64_SRC, { bits: 64, text: 0x4000000 - 0x1000 });
    expect(() => loadKernel(high, ram())).toThrow(/does not fit in guest RAM/);
  });

  it('refuses a kernel that lands on the page tables', () => {
    const low = buildKernel(ELF64_SRC, { bits: 64, text: 0xa000 });
    expect(() => loadKernel(low, ram())).toThrow(/(PML4|PDPT) at 0x[9a]000-0x[9a]fff overlaps ELF segment/);
  });

  it('refuses ET_DYN', () => {
    const pie = buildKernel(ELF64_SRC, { bits: 64, ldArgs: ['-pie'] });
    expect(() => loadKernel(pie, ram())).toThrow(/ET_EXEC/);
  });
});

describe('PVH loader', () => {
  for (const bits of [64, 32] as const) {
    it(`boots an ELF${bits} with the Xen PHYS32_ENTRY note in 32-bit protected mode`, () => {
      const file = buildKernel(pvhSource(bits), { bits, segment: MiB });
      expect(detectKernelFormat(file)).toBe('pvh');
      const mem = ram();
      const r = loadKernel(file, mem, { cmdline: 'root=/dev/vda quiet' });
      expect(r.format).toBe('pvh');
      const entry = BigInt(symbol(file, 'pvh_start'));
      expect(r.entry).toBe(entry);
      expect(mem.readU8(Number(entry))).toBe(0xf4);
      const s = r.state;
      expect(s.rip).toBe(entry);
      expect(s.cs).toEqual(flatSegment(0x08, true));
      for (const seg of [s.ds, s.es, s.fs, s.gs, s.ss]) expect(seg).toEqual(flatSegment(0x10, false));
      expect(s.tr).toMatchObject({ base: 0n, limit: 0x67, type: 0xb, present: true });
      expect(s.cr0).toBe(0x11n);
      expect(s.cr4).toBe(0n);
      expect(s.efer).toBe(0n);
      expect(s.rflags).toBe(0x2n);
      expect(s.gpr[RBX]).toBe(BigInt(r.bootInfoAddr!));
      expect(s.gdtr).toEqual({ base: BigInt(GDT_ADDR), limit: 31 });
      expect(mem.readU64(GDT_ADDR + 0x08)).toBe(0x00cf9b000000ffffn);
      expect(mem.readU64(GDT_ADDR + 0x10)).toBe(0x00cf93000000ffffn);
      expect(mem.readU64(GDT_ADDR + 0x18)).toBe(0x00008b0000000067n);
    });
  }

  it('fills hvm_start_info with the command line, memory map and modules', () => {
    const file = buildKernel(pvhSource(64), { bits: 64, segment: MiB });
    const mem = ram();
    const initrd = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
    const r = loadKernel(file, mem, { cmdline: 'console=ttyS0', modules: [{ data: initrd, cmdline: 'initrd' }] });
    const si = r.bootInfoAddr!;
    expect(si % 8).toBe(0);
    expect(si).toBeLessThan(0x9fc00);
    expect(mem.readU32(si)).toBe(0x336ec578);
    expect(mem.readU32(si + 4)).toBe(1);
    expect(mem.readU32(si + 8)).toBe(0);
    expect(mem.readU32(si + 12)).toBe(1);
    expect(mem.readCString(Number(mem.readU64(si + 24)))).toBe('console=ttyS0');
    expect(mem.readU64(si + 32)).toBe(0n);

    const memmap = Number(mem.readU64(si + 40));
    const entries = mem.readU32(si + 48);
    const map = Array.from({ length: entries }, (_, i) => ({
      addr: Number(mem.readU64(memmap + i * 24)),
      size: Number(mem.readU64(memmap + i * 24 + 8)),
      type: mem.readU32(memmap + i * 24 + 16),
    }));
    expect(map).toEqual([
      { addr: 0, size: 0x9fc00, type: E820_RAM },
      { addr: 0x9fc00, size: 0x400, type: E820_RESERVED },
      { addr: 0xf0000, size: 0x10000, type: E820_RESERVED },
      { addr: MiB, size: RAM - MiB, type: E820_RAM },
    ]);

    const modlist = Number(mem.readU64(si + 16));
    const paddr = Number(mem.readU64(modlist));
    expect(paddr % 0x1000).toBe(0);
    expect(mem.readU64(modlist + 8)).toBe(5000n);
    expect(mem.readCString(Number(mem.readU64(modlist + 16)))).toBe('initrd');
    expect(mem.read(paddr, 5000)).toEqual(initrd);
    // After the kernel, like QEMU.
    const elf = parseElf(file);
    const kernelEnd = Math.max(...elf.segments.filter((p) => p.type === PT_LOAD).map((p) => Number(p.paddr) + p.memsz));
    expect(paddr).toBe(Math.ceil(kernelEnd / 0x1000) * 0x1000);
    expect(r.modules).toEqual([{ start: paddr, end: paddr + 5000, cmdline: 'initrd', cmdlineAddr: Number(mem.readU64(modlist + 16)) }]);
  });

  it('has no module list without modules', () => {
    const file = buildKernel(pvhSource(32), { bits: 32, segment: MiB });
    const mem = ram();
    const r = loadKernel(file, mem);
    expect(mem.readU32(r.bootInfoAddr! + 12)).toBe(0);
    expect(mem.readU64(r.bootInfoAddr! + 16)).toBe(0n);
    expect(mem.readCString(Number(mem.readU64(r.bootInfoAddr! + 24)))).toBe('');
  });

  it('rejects a PVH note with a bad value size', () => {
    const file = buildKernel(pvhSource(64).replace('.long 4, 8, 18', '.long 4, 2, 18').replace('.quad pvh_start', '.short 0'), { bits: 64, segment: MiB });
    expect(() => loadKernel(file, ram())).toThrow(/2-byte value/);
  });
});

describe('Multiboot loader', () => {
  it('loads an ELF32 Multiboot kernel and fills multiboot_info', () => {
    const file = buildKernel(MULTIBOOT_ELF_SRC, { bits: 32 });
    expect(detectKernelFormat(file)).toBe('multiboot');
    const mem = ram();
    const r = loadKernel(file, mem, { cmdline: 'kernel arg=1' });
    expect(r.format).toBe('multiboot');
    expect(r.entry).toBe(BigInt(symbol(file, '_start')));
    expect(mem.readU8(Number(r.entry))).toBe(0xf4);
    const s = r.state;
    expect(s.gpr[RAX]).toBe(0x2badb002n);
    expect(s.gpr[RBX]).toBe(BigInt(r.bootInfoAddr!));
    expect(s.rip).toBe(r.entry);
    expect(s.cs).toEqual(flatSegment(0x08, true));
    expect(s.ss).toEqual(flatSegment(0x10, false));
    expect(s.cr0 & 0x8000_0001n).toBe(1n);
    expect(s.rflags & 0x20200n).toBe(0n); // VM and IF clear

    const mbi = r.bootInfoAddr!;
    expect(mbi % 4).toBe(0);
    const flags = mem.readU32(mbi);
    expect(flags).toBe(0x1 | 0x4 | 0x8 | 0x40 | 0x200);
    expect(mem.readU32(mbi + 4)).toBe(639);
    expect(mem.readU32(mbi + 8)).toBe((RAM - MiB) / 1024);
    expect(mem.readCString(mem.readU32(mbi + 16))).toBe('kernel arg=1');
    expect(mem.readU32(mbi + 20)).toBe(0);
    expect(mem.readCString(mem.readU32(mbi + 64))).toBe('kemu');

    const len = mem.readU32(mbi + 44);
    const addr = mem.readU32(mbi + 48);
    const map = [];
    for (let p = addr; p < addr + len; p += mem.readU32(p) + 4) {
      map.push({ size: mem.readU32(p), addr: Number(mem.readU64(p + 4)), len: Number(mem.readU64(p + 12)), type: mem.readU32(p + 20) });
    }
    expect(map).toEqual([
      { size: 20, addr: 0, len: 0x9fc00, type: 1 },
      { size: 20, addr: 0x9fc00, len: 0x400, type: 2 },
      { size: 20, addr: 0xf0000, len: 0x10000, type: 2 },
      { size: 20, addr: MiB, len: RAM - MiB, type: 1 },
    ]);
  });

  it('zeroes the ELF bss', () => {
    const file = buildKernel(MULTIBOOT_ELF_SRC, { bits: 32 });
    const mem = ram();
    loadKernel(file, mem);
    const bss = parseElf(file).section('.bss')!;
    expect(mem.read(Number(bss.addr), bss.size).every((b) => b === 0)).toBe(true);
  });

  it('places modules page-aligned after the kernel with their strings', () => {
    const file = buildKernel(MULTIBOOT_ELF_SRC, { bits: 32 });
    const mem = ram();
    const a = new TextEncoder().encode('first module');
    const b = Uint8Array.from({ length: 0x1801 }, (_, i) => i & 0xff);
    const r = loadKernel(file, mem, { modules: [{ data: a, cmdline: 'mod-a x' }, { data: b, cmdline: 'mod-b' }] });
    const mbi = r.bootInfoAddr!;
    expect(mem.readU32(mbi + 20)).toBe(2);
    const mods = mem.readU32(mbi + 24);
    const m0 = { start: mem.readU32(mods), end: mem.readU32(mods + 4), str: mem.readCString(mem.readU32(mods + 8)) };
    const m1 = { start: mem.readU32(mods + 16), end: mem.readU32(mods + 20), str: mem.readCString(mem.readU32(mods + 24)) };
    const bssEnd = Number(parseElf(file).section('.bss')!.addr) + parseElf(file).section('.bss')!.size;
    expect(m0.start).toBe(Math.ceil(bssEnd / 0x1000) * 0x1000);
    expect(m0).toMatchObject({ end: m0.start + a.length, str: 'mod-a x' });
    expect(m1.start).toBe(m0.start + 0x1000);
    expect(m1).toMatchObject({ end: m1.start + b.length, str: 'mod-b' });
    expect(mem.read(m0.start, a.length)).toEqual(a);
    expect(mem.read(m1.start, b.length)).toEqual(b);
  });

  it('loads an a.out-kludge image from the header addresses', () => {
    const file = buildKernel(MULTIBOOT_AOUT_SRC, { bits: 32, binary: true });
    expect(file[0]).toBe(0x90); // a flat binary, not an ELF
    const mem = ram();
    const r = loadKernel(file, mem);
    expect(r.format).toBe('multiboot');
    expect(mem.read(MiB, file.length)).toEqual(file);
    expect(r.entry).toBe(BigInt(MiB + 0x40 + 32));
    expect(mem.readU8(Number(r.entry))).toBe(0xf4);
    expect(mem.read(MiB + file.length, 0x3000).every((b) => b === 0)).toBe(true);
    expect(mem.readU8(MiB + file.length + 0x3000)).toBe(0xaa);
    expect(r.regions[0]).toMatchObject({ start: MiB, end: MiB + file.length + 0x3000 });
  });

  it('honours a load offset into the file (header_addr - load_addr < header offset)', () => {
    // 0x100 bytes of junk before the image: the header now sits at file offset 0x140 and still says the image
    // starts 0x40 before it, so loading starts at file offset 0x100.
    const image = buildKernel(MULTIBOOT_AOUT_SRC, { bits: 32, binary: true });
    const file = new Uint8Array(image.length + 0x100);
    file.fill(0xcc, 0, 0x100);
    file.set(image, 0x100);
    const mem = ram();
    loadKernel(file, mem);
    expect(mem.read(MiB, image.length)).toEqual(image);
  });

  it('rejects broken a.out-kludge headers', () => {
    const image = buildKernel(MULTIBOOT_AOUT_SRC, { bits: 32, binary: true });
    const patch = (off: number, v: number): Uint8Array => {
      const f = image.slice();
      new DataView(f.buffer).setUint32(0x40 + off, v, true);
      return f;
    };
    // load_addr above header_addr
    expect(() => loadKernel(patch(16, MiB + 0x1000), ram())).toThrow(/load_addr/);
    // image reaching before the file start
    expect(() => loadKernel(patch(16, MiB - 0x1000), ram())).toThrow(/before the start of the file/);
    // load_end_addr past the file
    expect(() => loadKernel(patch(20, MiB + 0x10000), ram())).toThrow(/truncated/);
    // bss_end below load_end
    expect(() => loadKernel(patch(24, MiB + 4), ram())).toThrow(/bss_end_addr/);
    // header cut short
    expect(() => loadKernel(image.subarray(0, 0x40 + 20), ram())).toThrow(/truncated/);
  });

  it('rejects unknown required header flags', () => {
    const file = buildKernel(multibootElfSource(0x0b), { bits: 32 });
    expect(() => loadKernel(file, ram())).toThrow(/unsupported features/);
  });

  it('rejects a 64-bit ELF without the a.out kludge', () => {
    const file = buildKernel(MULTIBOOT_ELF_SRC, { bits: 64 });
    expect(() => loadKernel(file, ram())).toThrow(/ELF32/);
  });

  it('ignores a header with a bad checksum', () => {
    const file = buildKernel(multibootElfSource(3, '0'), { bits: 32 });
    expect(() => detectKernelFormat(file)).toThrow(/32-bit ELF kernel without a Multiboot header or PVH note/);
  });

  it('prefers Multiboot over the PVH note, as QEMU does', () => {
    const file = buildKernel(MULTIBOOT_ELF_SRC + pvhSource(32).replace('.globl _start, pvh_start', '.globl pvh_start').replace('_start:\n  ud2', ''), {
      bits: 32,
    });
    expect(detectKernelFormat(file)).toBe('multiboot');
  });
});

describe('format detection and malformed files', () => {
  it('names what it accepts for unknown files', () => {
    expect(() => loadKernel(new Uint8Array(0), ram())).toThrow(/unrecognized kernel format; expected a Multiboot kernel/);
    expect(() => loadKernel(new TextEncoder().encode('#!/bin/sh\necho hi\n'), ram())).toThrow(LoaderError);
    const bz = new Uint8Array(0x400);
    bz.set(new TextEncoder().encode('HdrS'), 0x202);
    expect(() => loadKernel(bz, ram())).toThrow(/bzImage/);
  });

  it('rejects truncated ELF files with a LoaderError', () => {
    const file = buildKernel(ELF64_SRC, { bits: 64 });
    for (const len of [4, 20, 63, 64, 100, 0x1000, file.length - 100]) {
      expect(() => loadKernel(file.subarray(0, len), ram()), `length ${len}`).toThrow(LoaderError);
    }
  });

  it('never throws anything but LoaderError on corrupted kernels', () => {
    const kernels = [
      buildKernel(ELF64_SRC, { bits: 64 }),
      buildKernel(pvhSource(64), { bits: 64, segment: MiB }),
      buildKernel(pvhSource(32), { bits: 32, segment: MiB }),
      buildKernel(MULTIBOOT_ELF_SRC, { bits: 32 }),
      buildKernel(MULTIBOOT_AOUT_SRC, { bits: 32, binary: true }),
    ];
    const mem = new GuestMemory(4 * MiB);
    let seed = 12345;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    let loaded = 0;
    for (let iter = 0; iter < 1500; iter++) {
      const base = kernels[iter % kernels.length]!;
      // Corrupt bytes, mostly in the ELF/Multiboot headers where it matters; sometimes truncate.
      let f = base.slice();
      const flips = 1 + rand(4);
      for (let k = 0; k < flips; k++) f[rand(2) ? rand(Math.min(f.length, 0x100)) : rand(f.length)] = rand(256);
      if (rand(4) === 0) f = f.subarray(0, rand(f.length));
      try {
        loadKernel(f, mem, { cmdline: 'x', modules: rand(2) ? [{ data: new Uint8Array(10), cmdline: 'm' }] : [] });
        loaded++;
      } catch (e) {
        if (!(e instanceof LoaderError)) throw new Error(`iteration ${iter}: ${(e as Error).stack}`);
      }
    }
    expect(loaded).toBeGreaterThan(0);
  });
});

describe('descriptor encoding', () => {
  it('matches the hand-written descriptors', () => {
    const enc = (s: Parameters<typeof encodeDescriptor>[0]): bigint => {
      const [lo, hi] = encodeDescriptor(s);
      return (BigInt(hi) << 32n) | BigInt(lo);
    };
    expect(enc(flatSegment(8, true, true))).toBe(0x00af9b000000ffffn);
    expect(enc(flatSegment(8, true))).toBe(0x00cf9b000000ffffn);
    expect(enc({ ...flatSegment(0, false), base: 0x12345678n, limit: 0xabcde, g: false })).toBe(0x124a9334_5678bcden);
  });
});
