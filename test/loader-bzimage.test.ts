// Linux bzImage direct boot (64-bit boot protocol): a fake bzImage is assembled at test time — a setup sector with a
// valid header and a 64-bit payload that checks the zero page, prints the command line and the initrd over COM1 and
// exits through isa-debug-exit — and booted end to end; plus unit tests of the header parser, the zero page and
// the placement rules.
import { describe, expect, it } from 'vitest';
import { probeKvm } from '../src/accel/kvm/accel.js';
import { detectKernelFormat, loadKernel, LoaderError } from '../src/machine/loader/index.js';
import { E820_RAM, E820_RESERVED, GDT_ADDR, PML4_ADDR } from '../src/machine/loader/layout.js';
import {
  BP, buildZeroPage, HDR, parseSetupHeader, readE820, ZERO_PAGE_SIZE,
} from '../src/machine/loader/zeropage.js';
import { GuestMemory } from '../src/machine/memory.js';
import { Machine } from '../src/machine/machine.js';
import { makeGuest, runGuest } from './accel-harness.js';
import { buildKernel } from './loader-build.js';

const MiB = 0x100000;
const [RSP, RSI] = [4, 6];

interface FakeOptions {
  pref?: number;
  align?: number;
  initSize?: number;
  relocatable?: boolean;
  xloadflags?: number;
  version?: number;
}

/** A bzImage: boot sector + 1 setup sector (0x400 bytes), then the protected-mode kernel with startup_64 at +0x200. */
function fakeBzImage(o: FakeOptions = {}): Uint8Array {
  const src = `
  .text
  .globl _start
_start:
  .org 0x1f1
  .byte 1                       # setup_sects
  .word 0                       # root_flags
  .long (payload_end - payload + 15) / 16
  .word 0, 0xffff, 0            # ram_size, vid_mode, root_dev
  .word 0xaa55                  # boot_flag
  .byte 0xeb, hdr_end - hdrs    # jump over the header
hdrs:
  .ascii "HdrS"
  .word ${o.version ?? 0x020f}
  .long 0                       # realmode_swtch
  .word 0x1000, 0               # start_sys_seg, kernel_version
  .byte 0                       # type_of_loader
  .byte 0x81                    # loadflags: LOADED_HIGH | CAN_USE_HEAP
  .word 0
  .long 0x100000                # code32_start
  .long 0, 0                    # ramdisk_image, ramdisk_size
  .long 0
  .word 0xde00                  # heap_end_ptr
  .byte 0, 0
  .long 0                       # cmd_line_ptr
  .long 0x7fffffff              # initrd_addr_max
  .long ${o.align ?? 0x200000}  # kernel_alignment
  .byte ${o.relocatable === false ? 0 : 1}
  .byte 21                      # min_alignment
  .word ${o.xloadflags ?? 3}    # XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
  .long 2047                    # cmdline_size
  .long 0
  .quad 0
  .long 0, 0                    # payload_offset, payload_length
  .quad 0                       # setup_data
  .quad ${o.pref ?? 0x1000000}  # pref_address
  .long ${o.initSize ?? 0x100000}
  .long 0, 0                    # handover_offset, kernel_info_offset
hdr_end:
  .org 0x400
payload:
  .code32
  ud2                           # startup_32: not used by the 64-bit protocol
  .org 0x600
  .code64
startup_64:
  pushfq
  pop %rax
  mov $1, %al
  testl $0x200, %eax            # interrupts must be off
  jnz fail
  mov $2, %al
  cmpl $0x53726448, 0x202(%rsi) # the setup header was copied into the zero page
  jne fail
  mov $3, %al
  cmpb $0xff, 0x210(%rsi)       # type_of_loader
  jne fail
  mov $4, %al
  lea payload(%rip), %rbx
  cmp 0x214(%rsi), %ebx         # code32_start = where the payload really is
  jne fail
  mov $5, %al
  cmpw $0xaa55, 0x1fe(%rsi)
  jne fail
  mov $6, %al
  test $0xf, %spl               # a usable, aligned stack
  jnz fail
  mov 0x228(%rsi), %ebx         # the command line
  call puts
  mov $'|', %al
  call putc
  mov 0x218(%rsi), %ebx         # the initrd
  mov 0x21c(%rsi), %ecx
1:test %ecx, %ecx
  jz 2f
  mov (%rbx), %al
  call putc
  inc %rbx
  dec %ecx
  jmp 1b
2:mov $'|', %al
  call putc
  movzbl 0x1e8(%rsi), %eax      # e820_entries
  add $'0', %al
  call putc
  xor %eax, %eax
fail:
  mov $0xf4, %dx
  out %al, %dx
  hlt
puts:
  mov (%rbx), %al
  test %al, %al
  jz 9f
  call putc
  inc %rbx
  jmp puts
9:ret
putc:
  push %rdx
  mov $0x3f8, %dx
  out %al, %dx
  pop %rdx
  ret
payload_end:
`;
  return buildKernel(src, { bits: 64, text: 0, binary: true });
}

function boot(image: Uint8Array, opts: { cmdline?: string; initrd?: Uint8Array }, ramSize = 64 * MiB) {
  const out: number[] = [];
  const m = new Machine({ ramSize, output: (b) => out.push(...b) });
  const load = m.load(image, opts);
  const r = m.run(1_000_000);
  return { load, r, out: Buffer.from(out).toString('latin1'), m };
}

describe('bzImage: end to end on the software CPU', () => {
  const image = fakeBzImage();

  it('enters startup_64 in long mode with RSI = the zero page, command line and initrd filled in', () => {
    const initrd = new TextEncoder().encode('INITRD-BYTES');
    const { load, r, out } = boot(image, { cmdline: 'console=ttyS0 quiet', initrd });
    expect(load.format).toBe('bzimage');
    expect(load.entry).toBe(0x1000200n); // pref_address + 0x200
    expect(out).toBe('console=ttyS0 quiet|INITRD-BYTES|4');
    expect(r).toEqual({ kind: 'exit', status: 1 });
  });

  it('boots without an initrd (ramdisk_size 0)', () => {
    const { load, r, out } = boot(image, { cmdline: '' });
    expect(load.initrd).toBeUndefined();
    expect(out).toBe('||4');
    expect(r).toEqual({ kind: 'exit', status: 1 });
  });

  it('falls back to 1 MiB aligned up when pref_address does not fit in RAM', () => {
    const { load, r, out } = boot(image, { cmdline: 'x' }, 16 * MiB);
    expect(load.entry).toBe(0x200200n); // 0x100000 aligned to kernel_alignment 0x200000, + 0x200
    expect(out).toBe('x||4');
    expect(r).toEqual({ kind: 'exit', status: 1 });
  });
});

const kvm = probeKvm();

describe('bzImage: end to end under KVM', () => {
  it.skipIf(!kvm.ok)(`KVM accepts the entry state and the payload sees the same zero page${kvm.ok ? '' : ` [skipped: ${kvm.reason}]`}`, () => {
    const g = makeGuest('kvm', 64 * MiB);
    try {
      const r = loadKernel(fakeBzImage(), g.board.memory, { cmdline: 'console=ttyS0', initrd: new TextEncoder().encode('RD') });
      g.vcpu.setState(r.state);
      expect(runGuest(g)).toEqual({ kind: 'exit', status: 1 });
      expect(g.out()).toBe('console=ttyS0|RD|4');
    } finally {
      g.accel.close();
    }
  });
});

describe('bzImage loader', () => {
  const image = fakeBzImage();
  const ram = (size = 64 * MiB): GuestMemory => {
    const m = new GuestMemory(size);
    m.fill(0, size, 0xaa);
    return m;
  };

  it('is detected by its HdrS header, ahead of a Multiboot header (as QEMU checks)', () => {
    expect(detectKernelFormat(image)).toBe('bzimage');
    const both = new Uint8Array(Math.max(image.length, 0x1000));
    both.set(image);
    const d = new DataView(both.buffer);
    d.setUint32(0x800, 0x1badb002, true);
    d.setUint32(0x804, 0, true);
    d.setUint32(0x808, -0x1badb002 >>> 0, true);
    expect(detectKernelFormat(both)).toBe('bzimage');
    d.setUint32(0x202, 0, true);
    expect(detectKernelFormat(both)).toBe('multiboot');
  });

  it('parses the setup header', () => {
    const h = parseSetupHeader(image);
    expect(h).toMatchObject({
      setupSects: 1, version: 0x020f, kernelOffset: 0x400, kernelSize: image.length - 0x400, kernelAlignment: 0x200000,
      relocatable: true, xloadflags: 3, cmdlineSize: 2047, prefAddress: 0x1000000n, initSize: 0x100000,
      initrdAddrMax: 0x7fffffff,
    });
    expect(h.headerEnd).toBe(0x26c);
  });

  it('builds the zero page: header copied, loader fields, e820', () => {
    const mem = ram();
    const initrd = new Uint8Array(0x2345).fill(7);
    const r = loadKernel(image, mem, { cmdline: 'root=/dev/ram0', initrd });
    const zp = mem.read(r.bootInfoAddr!, ZERO_PAGE_SIZE);
    const d = new DataView(zp.buffer);
    expect(r.state.gpr[RSI]).toBe(BigInt(r.bootInfoAddr!));
    expect(r.bootInfoAddr! % 0x1000).toBe(0);
    expect(zp.subarray(0, BP.extRamdiskImage).every((b) => b === 0)).toBe(true);
    expect(zp.subarray(BP.extCmdLinePtr + 4, BP.e820Entries).every((b) => b === 0)).toBe(true);
    expect(zp.subarray(0x290).filter((_, i) => i < BP.e820Table - 0x290).every((b) => b === 0)).toBe(true);
    expect(d.getUint32(HDR.magic, true)).toBe(0x53726448);
    expect(d.getUint16(HDR.version, true)).toBe(0x020f);
    expect(d.getUint8(HDR.typeOfLoader)).toBe(0xff);
    expect(d.getUint8(HDR.loadflags) & 0x81).toBe(0x01); // LOADED_HIGH kept, CAN_USE_HEAP dropped (no setup code)
    expect(d.getUint32(HDR.code32Start, true)).toBe(0x1000000);
    expect(d.getUint32(HDR.cmdLinePtr, true)).toBe(r.cmdlineAddr);
    expect(d.getUint32(BP.extCmdLinePtr, true)).toBe(0);
    expect(mem.readCString(r.cmdlineAddr!)).toBe('root=/dev/ram0');
    const rd = d.getUint32(HDR.ramdiskImage, true);
    expect(d.getUint32(HDR.ramdiskSize, true)).toBe(0x2345);
    expect(rd % 0x1000).toBe(0);
    expect(r.initrd).toEqual({ start: rd, end: rd + 0x2345 });
    expect(mem.read(rd, 0x2345).every((b) => b === 7)).toBe(true);
    // Placed high: as close to the top of RAM as page alignment allows.
    expect(rd + 0x2345).toBeLessThanOrEqual(64 * MiB);
    expect(rd + 0x2345 + 0x1000).toBeGreaterThan(64 * MiB);
    expect(readE820(zp)).toEqual([
      { addr: 0, size: 0x9fc00, type: E820_RAM },
      { addr: 0x9fc00, size: 0x400, type: E820_RESERVED },
      { addr: 0xf0000, size: 0x10000, type: E820_RESERVED },
      { addr: MiB, size: 63 * MiB, type: E820_RAM },
    ]);
  });

  it('loads the protected-mode kernel and enters in long mode with the identity map and GDT of the ELF64 loader', () => {
    const mem = ram();
    const r = loadKernel(image, mem, {});
    expect(mem.read(0x1000000, image.length - 0x400)).toEqual(image.subarray(0x400));
    // The rest of init_size is zeroed and claimed.
    expect(mem.read(0x1000000 + image.length - 0x400, 0x100).every((b) => b === 0)).toBe(true);
    expect(r.regions.some((g) => g.start === 0x1000000 && g.end === 0x1100000)).toBe(true);
    expect(r.state.cr3).toBe(BigInt(PML4_ADDR));
    expect(r.state.efer & 0x500n).toBe(0x500n);
    expect(r.state.cs.l).toBe(true);
    expect(r.state.gdtr.base).toBe(BigInt(GDT_ADDR));
    expect(r.state.rflags).toBe(2n);
    expect(r.state.rip).toBe(0x1000200n);
    expect(Number(r.state.gpr[RSP]) % 16).toBe(0);
    expect(Number(r.state.gpr[RSP])).toBeLessThan(0x9fc00);
  });

  it('keeps the initrd below initrd_addr_max', () => {
    const img = image.slice();
    new DataView(img.buffer).setUint32(HDR.initrdAddrMax, 0x2ffffff, true);
    new DataView(img.buffer).setUint16(HDR.xloadflags, 1, true);
    const r = loadKernel(img, ram(), { initrd: new Uint8Array(0x1800) });
    expect(r.initrd!.end).toBeLessThanOrEqual(0x3000000);
    expect(r.initrd!.start).toBe(0x3000000 - 0x2000);
  });

  it('loads a non-relocatable kernel at 1 MiB and reserves its decompression area at pref_address', () => {
    const r = loadKernel(fakeBzImage({ relocatable: false }), ram(), {});
    expect(r.entry).toBe(0x100200n);
    expect(r.regions.some((g) => g.start === MiB && g.end === 0x1100000)).toBe(true);
  });

  it('rejects malformed bzImages with a LoaderError naming the problem', () => {
    const mutate = (f: (d: DataView) => void, len = image.length): Uint8Array => {
      const img = image.slice(0, len);
      f(new DataView(img.buffer));
      return img;
    };
    const cases: [Uint8Array, RegExp][] = [
      [mutate((d) => d.setUint16(HDR.version, 0x020b, true)), /boot protocol 2\.11 is too old/],
      [mutate((d) => d.setUint16(HDR.xloadflags, 0, true)), /no 64-bit entry point/],
      [mutate((d) => d.setUint8(HDR.loadflags, 0)), /LOADED_HIGH/],
      [mutate((d) => d.setUint16(HDR.bootFlag, 0, true)), /boot_flag/],
      [mutate((d) => d.setUint32(HDR.kernelAlignment, 0x300000, true)), /kernel_alignment/],
      [mutate((d) => d.setUint8(HDR.setupSects, 40)), /truncated bzImage/],
      [mutate(() => {}, 0x500), /truncated bzImage/],
      [mutate(() => {}, 0x280), /truncated bzImage/],
    ];
    for (const [img, re] of cases) expect(() => loadKernel(img, ram(), {})).toThrow(re);
    expect(() => loadKernel(image, ram(), { cmdline: 'x'.repeat(2048) })).toThrow(/at most 2047/);
    expect(() => loadKernel(image, ram(), { modules: [{ data: new Uint8Array(1), cmdline: '' }] })).toThrow(LoaderError);
    expect(() => loadKernel(fakeBzImage({ initSize: 0x3000000 }), ram(16 * MiB), {})).toThrow(/needs guest RAM up to/);
    expect(() => loadKernel(image, ram(16 * MiB), { initrd: new Uint8Array(15 * MiB) })).toThrow(/no room for initrd/);
  });

  it('never throws anything but LoaderError on corrupted headers', () => {
    let seed = 99;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const mem = new GuestMemory(32 * MiB);
    for (let i = 0; i < 500; i++) {
      let f = image.slice();
      for (let k = 0; k < 1 + rand(4); k++) f[0x1f1 + rand(0x80)] = rand(256);
      if (rand(4) === 0) f = f.subarray(0, rand(f.length));
      try {
        loadKernel(f, mem, { cmdline: 'x', initrd: rand(2) ? new Uint8Array(100) : undefined });
      } catch (e) {
        if (!(e instanceof LoaderError)) throw new Error(`iteration ${i}: ${(e as Error).stack}`);
      }
    }
  });
});

describe('zero page builder', () => {
  it('writes ext_* high halves for addresses above 4 GiB and caps the header copy', () => {
    const image = new Uint8Array(0x1000);
    const d0 = new DataView(image.buffer);
    image.fill(0x55, 0x1f1, 0x400);
    d0.setUint8(HDR.jump + 1, 0xff); // a header claiming to run past boot_params' room
    const hdr = { headerEnd: 0x290, loadflags: 1 } as Parameters<typeof buildZeroPage>[1];
    const zp = buildZeroPage(image, hdr, {
      kernelAddr: 0x1000000, cmdlineAddr: 0x1_2345_6000, initrd: { addr: 0x2_0000_1000, size: 0x1_0000_0010 }, e820: [],
    });
    const d = new DataView(zp.buffer);
    expect(d.getUint32(HDR.cmdLinePtr, true)).toBe(0x2345_6000);
    expect(d.getUint32(BP.extCmdLinePtr, true)).toBe(1);
    expect(d.getUint32(HDR.ramdiskImage, true)).toBe(0x1000);
    expect(d.getUint32(BP.extRamdiskImage, true)).toBe(2);
    expect(d.getUint32(HDR.ramdiskSize, true)).toBe(0x10);
    expect(d.getUint32(BP.extRamdiskSize, true)).toBe(1);
    expect(zp[0x28f]).toBe(0x55);
    expect(zp[0x290]).toBe(0);
    expect(d.getUint8(BP.e820Entries)).toBe(0);
    expect(() => buildZeroPage(image, hdr, { kernelAddr: 0, cmdlineAddr: 0, e820: new Array(129).fill({ addr: 0, size: 1, type: 1 }) }))
      .toThrow(LoaderError);
  });
});

describe('initrd for PVH and Multiboot kernels', () => {
  const PVH = `
  .pushsection .note.Xen, "a", @note
  .balign 4
  .long 4, 4, 18
  .asciz "Xen"
  .balign 4
  .long pvh_start
  .popsection
  .text
  .code32
  .globl _start, pvh_start
_start:
pvh_start:
  hlt
`;

  it('passes the initrd as module 0 of the hvm_start_info modlist, as QEMU does', () => {
    const file = buildKernel(PVH, { bits: 32, segment: MiB });
    const mem = new GuestMemory(32 * MiB);
    const r = loadKernel(file, mem, { cmdline: 'c', initrd: Uint8Array.of(1, 2, 3), modules: [{ data: Uint8Array.of(9), cmdline: 'm' }] });
    expect(r.format).toBe('pvh');
    expect(r.modules.map((m) => m.cmdline)).toEqual(['', 'm']);
    expect(mem.read(r.modules[0]!.start, 3)).toEqual(Uint8Array.of(1, 2, 3));
    const info = r.bootInfoAddr!;
    expect(mem.readU32(info + 12)).toBe(2);
    const modlist = Number(mem.readU64(info + 16));
    expect(mem.readU64(modlist)).toBe(BigInt(r.modules[0]!.start));
    expect(mem.readU64(modlist + 8)).toBe(3n);
  });

  it('refuses an initrd for a plain ELF64 kernel', () => {
    const file = buildKernel('.globl _start\n_start: hlt\n', { bits: 64 });
    expect(() => loadKernel(file, new GuestMemory(16 * MiB), { initrd: Uint8Array.of(1) })).toThrow(/initrd/);
  });
});
