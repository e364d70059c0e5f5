import { describe, expect, it } from 'vitest';
import { Board } from '../src/machine/board.js';
import { BusError, MmioBus, PortBus, type MmioDevice, type PortDevice } from '../src/machine/bus.js';
import { IrqLine } from '../src/machine/irq.js';
import { GuestMemory, GuestMemoryError } from '../src/machine/memory.js';
import { buildKernel } from './loader-build.js';

const MiB = 0x100000;

describe('GuestMemory', () => {
  it('validates the RAM size', () => {
    expect(() => new GuestMemory(0)).toThrow(GuestMemoryError);
    expect(() => new GuestMemory(1000)).toThrow(/multiple of 64 KiB/);
    expect(() => new GuestMemory(0xf000_0000)).toThrow(/maximum/);
    expect(() => new GuestMemory(0x10000, { extraBytes: -1 })).toThrow(GuestMemoryError);
  });

  it('backs RAM and the reserved area with one WebAssembly.Memory', () => {
    const m = new GuestMemory(MiB, { extraBytes: 100 });
    expect(m.ramSize).toBe(MiB);
    expect(m.extraBase).toBe(MiB);
    expect(m.extraSize).toBe(0x10000);
    expect(m.memory.buffer.byteLength).toBe(MiB + 0x10000);
    expect(m.memory).toBeInstanceOf((globalThis as unknown as { WebAssembly: { Memory: Function } }).WebAssembly.Memory);
  });

  it('reads and writes little-endian values with bounds checks', () => {
    const m = new GuestMemory(MiB, { extraBytes: 0x10000 });
    m.writeU8(0, 0x12);
    m.writeU16(2, 0x3456);
    m.writeU32(4, 0x89abcdef);
    m.writeU64(8, 0x0123456789abcdefn);
    m.writeU64(16, -1n);
    expect([m.readU8(0), m.readU16(2), m.readU32(4), m.readU64(8), m.readU64(16)]).toEqual([
      0x12, 0x3456, 0x89abcdef, 0x0123456789abcdefn, 0xffffffffffffffffn,
    ]);
    expect(m.bytes()[8]).toBe(0xef);
    m.write(MiB - 3, Uint8Array.of(1, 2, 3));
    expect(m.read(MiB - 3, 3)).toEqual(Uint8Array.of(1, 2, 3));
    m.fill(MiB - 2, 2, 9);
    expect(m.read(MiB - 3, 3)).toEqual(Uint8Array.of(1, 9, 9));
    // The reserved area after RAM is not guest memory.
    expect(() => m.readU32(MiB - 2)).toThrow(GuestMemoryError);
    expect(() => m.write(MiB - 2, new Uint8Array(3))).toThrow(GuestMemoryError);
    expect(() => m.readU8(-1)).toThrow(GuestMemoryError);
    expect(() => m.fill(0.5, 1)).toThrow(GuestMemoryError);
    m.write(100, new TextEncoder().encode('abc\0'));
    expect(m.readCString(100)).toBe('abc');
  });

  it('re-takes its views after memory.grow', () => {
    const m = new GuestMemory(0x10000, { maximumBytes: 0x30000 });
    const before = m.bytes();
    m.writeU32(0, 0xdeadbeef);
    m.memory.grow(1);
    expect(before.byteLength).toBe(0); // detached
    expect(m.bytes().byteLength).toBe(0x20000);
    expect(m.view().getUint32(0, true)).toBe(0xdeadbeef);
    expect(m.readU32(0)).toBe(0xdeadbeef);
  });
});

describe('PortBus', () => {
  class Recorder implements PortDevice {
    log: string[] = [];
    constructor(readonly ioMaxSize: 1 | 2 | 4 = 1) {}
    ioRead(offset: number, size: number): number {
      this.log.push(`r${offset}/${size}`);
      return 0x10 + offset;
    }
    ioWrite(offset: number, size: number, value: number): void {
      this.log.push(`w${offset}/${size}=${value.toString(16)}`);
    }
  }

  it('reads all ones from unassigned ports and drops writes', () => {
    const bus = new PortBus();
    expect(bus.read(0x1234, 1)).toBe(0xff);
    expect(bus.read(0x1234, 2)).toBe(0xffff);
    expect(bus.read(0x1234, 4)).toBe(0xffffffff);
    bus.write(0x1234, 4, 0);
  });

  it('hands devices offsets from their base and splits what they cannot take', () => {
    const bus = new PortBus();
    const narrow = new Recorder(1);
    const wide = new Recorder(4);
    bus.register(0x100, 4, narrow, 'narrow');
    bus.register(0x200, 8, wide, 'wide');
    expect(bus.read(0x102, 1)).toBe(0x12);
    expect(bus.read(0x101, 2)).toBe(0x1211);
    expect(bus.read(0x102, 4)).toBe(0xffff1312); // straddles the end of the range
    bus.write(0x100, 2, 0xbeef);
    expect(narrow.log).toEqual(['r2/1', 'r1/1', 'r2/1', 'r2/1', 'r3/1', 'w0/1=ef', 'w1/1=be']);
    expect(bus.read(0x204, 4)).toBe(0x14);
    bus.write(0x204, 4, 0x12345678);
    bus.write(0x206, 4, 0xaabbccdd); // crosses into unassigned space: split
    expect(wide.log).toEqual(['r4/4', 'w4/4=12345678', 'w6/1=dd', 'w7/1=cc']);
    expect(bus.owner(0x103)).toBe('narrow');
    expect(bus.owner(0x300)).toBeUndefined();
  });

  it('refuses overlapping or bad registrations', () => {
    const bus = new PortBus();
    bus.register(0x3f8, 8, new Recorder(), 'COM1');
    expect(() => bus.register(0x3ff, 1, new Recorder(), 'x')).toThrow(/already taken by COM1/);
    expect(() => bus.register(0xffff, 2, new Recorder())).toThrow(BusError);
    expect(() => bus.register(0x10, 0, new Recorder())).toThrow(BusError);
  });
});

describe('MmioBus', () => {
  class Regs implements MmioDevice {
    readonly regs = new Map<number, number>();
    constructor(readonly mmioMaxSize: 4 | 8 = 4) {}
    mmioRead(offset: number, size: 1 | 2 | 4): number {
      return (this.regs.get(offset) ?? 0) & (size === 4 ? 0xffffffff : (1 << (8 * size)) - 1);
    }
    mmioWrite(offset: number, _size: 1 | 2 | 4, value: number): void {
      this.regs.set(offset, value);
    }
    mmioRead64(offset: number): bigint {
      return BigInt(this.regs.get(offset) ?? 0) * 3n;
    }
    mmioWrite64(offset: number, value: bigint): void {
      this.regs.set(offset, Number(value & 0xffffn));
    }
  }

  it('routes by physical range and answers unassigned space with all ones', () => {
    const bus = new MmioBus();
    const apic = new Regs();
    const hpet = new Regs(8);
    bus.register(0xfee00000, 0x1000, apic, 'LAPIC');
    bus.register(0xfed00000, 0x400, hpet, 'HPET');
    bus.write(0xfee00080, 4, 0xf0);
    expect(apic.regs.get(0x80)).toBe(0xf0);
    expect(bus.read(0xfee00080, 4)).toBe(0xf0);
    expect(bus.read(0xfec00000, 4)).toBe(0xffffffff);
    expect(bus.read64(0xfec00000)).toBe(0xffffffffffffffffn);
    expect(bus.claims(0xfee00fff)).toBe(true);
    expect(bus.claims(0xfee01000)).toBe(false);
    expect(bus.owner(0xfed00010)).toBe('HPET');
    // 8-byte accesses: whole for the HPET, two dwords for the LAPIC.
    hpet.regs.set(0xf0, 5);
    expect(bus.read64(0xfed000f0)).toBe(15n);
    apic.regs.set(0x10, 1);
    apic.regs.set(0x14, 2);
    expect(bus.read64(0xfee00010)).toBe(0x2_0000_0001n);
    bus.write64(0xfee00020, 0x1234_5678_9abc_def0n);
    expect([apic.regs.get(0x20), apic.regs.get(0x24)]).toEqual([0x9abcdef0, 0x12345678]);
  });

  it('refuses overlaps and incomplete 8-byte devices', () => {
    const bus = new MmioBus();
    bus.register(0x1000, 0x1000, new Regs(), 'a');
    expect(() => bus.register(0x1fff, 2, new Regs(), 'b')).toThrow(/overlaps a/);
    bus.register(0x2000, 0x10, new Regs(), 'c');
    expect(() => bus.register(0x3000, 0x10, { mmioMaxSize: 8, mmioRead: () => 0, mmioWrite: () => {} })).toThrow(/mmioRead64/);
  });
});

describe('IrqLine', () => {
  it('tells its controller about level changes only', () => {
    const line = new IrqLine('irq4');
    const seen: boolean[] = [];
    line.raise();
    line.connect((l) => seen.push(l));
    line.raise();
    line.lower();
    line.lower();
    line.pulse();
    expect(seen).toEqual([true, false, true, false]);
    expect(line.risingEdges).toBe(2);
    expect(line.level).toBe(false);
  });
});

describe('Board', () => {
  it('wires COM1, isa-debug-exit, POST and the i8042 to the port bus', () => {
    const out: number[] = [];
    const exits: number[] = [];
    let resets = 0;
    const board = new Board({
      ramSize: 2 * MiB,
      cpuReserve: 0x20000,
      output: (b) => out.push(...b),
      onExit: (s) => exits.push(s),
      onReset: () => resets++,
    });
    expect(board.memory.ramSize).toBe(2 * MiB);
    expect(board.memory.extraSize).toBe(0x20000);
    for (const c of 'ok\n') board.io.write(0x3f8, 1, c.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe('ok\n');

    board.io.write(0x3f9, 1, 0x01); // RX interrupt on
    expect(board.irqs[4]!.level).toBe(false);
    board.sendInput('k');
    expect(board.irqs[4]!.level).toBe(true);
    expect(board.io.read(0x3f8, 1)).toBe(0x6b);
    expect(board.irqs[4]!.level).toBe(false);

    board.io.write(0x80, 1, 0x55);
    expect(board.post.lastCode).toBe(0x55);
    expect(board.stopRequest).toBeUndefined();
    board.io.write(0xf4, 1, 3);
    expect(exits).toEqual([7]);
    expect(board.stopRequest).toEqual({ kind: 'exit', status: 7 });
    board.reset();
    expect(board.stopRequest).toBeUndefined();
    board.io.write(0x64, 1, 0xfe);
    expect(resets).toBe(1);
    expect(board.stopRequest).toEqual({ kind: 'reset' });
    expect(board.io.read(0x2f8, 1)).toBe(0xff); // no COM2
  });

  it('loads a kernel into its RAM', () => {
    const board = new Board({ ramSize: 4 * MiB, output: () => {} });
    const k = buildKernel('.text\n.globl _start\n_start: hlt\n', { bits: 64 });
    const r = board.loadKernel(k);
    expect(r.format).toBe('elf64');
    expect(board.memory.readU8(Number(r.entry))).toBe(0xf4);
  });
});
