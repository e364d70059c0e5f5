import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Board } from '../src/machine/board.js';
import { HostClock, InsnClock, ManualClock, nsToTicks, ticksToNs } from '../src/machine/clock.js';
import { HPET_BASE } from '../src/devices/hpet.js';
import { IOAPIC_BASE } from '../src/devices/ioapic.js';
import { LAPIC_BASE } from '../src/devices/lapic.js';
import { PM_TIMER_HZ } from '../src/devices/acpi-pm.js';
import { ACPI_TABLES_BASE, buildAcpiTables, parseSdtHeader } from '../src/machine/acpi/tables.js';

const MiB = 0x100000;

function setup() {
  const clock = new ManualClock();
  let exits: number[] = [];
  const board = new Board({ ramSize: 4 * MiB, clock, output: () => {}, onExit: (s) => exits.push(s) });
  const rd = (off: number) => board.mmio.read64(HPET_BASE + off);
  const wr = (off: number, v: bigint) => board.mmio.write64(HPET_BASE + off, v);
  const outb = (port: number, v: number) => board.io.write(port, 1, v);
  const inb = (port: number) => board.io.read(port, 1);
  return { clock, board, rd, wr, outb, inb, exits: () => exits };
}

describe('HPET', () => {
  it('reports 3 timers at 10 ns, 64-bit, legacy-capable; the counter runs only when enabled', () => {
    const { clock, rd, wr, board } = setup();
    const cap = rd(0);
    expect(cap >> 32n).toBe(10_000_000n);
    expect(Number(cap & 0xffffn)).toBe(0x8000 | 0x2000 | 0x200 | 1);
    expect(Number((cap >> 16n) & 0xffffn)).toBe(0x8086);
    clock.advance(1000);
    expect(rd(0xf0)).toBe(0n);
    wr(0x10, 1n);
    clock.advance(1000);
    expect(rd(0xf0)).toBe(100n);
    expect(board.mmio.read(HPET_BASE + 0xf0, 4)).toBe(100);
    expect(board.mmio.read(HPET_BASE + 0xf4, 4)).toBe(0);
    wr(0x10, 0n);
    clock.advance(1000);
    expect(rd(0xf0)).toBe(100n);
    expect(Number(rd(0x100) >> 32n)).toBe(0x00f00000);
    expect(Number(rd(0x100) & 0x30n)).toBe(0x30);
  });

  it('legacy replacement: periodic timer 0 drives IRQ 0 instead of the PIT', () => {
    const { clock, rd, wr, board, outb } = setup();
    // PIC as Linux sets it up
    outb(0x20, 0x11); outb(0x21, 0x30); outb(0x21, 0x04); outb(0x21, 0x01); outb(0x21, 0x00);
    // what hpet_set_periodic does: ENABLE | PERIODIC | SETVAL, comparator = now + delta, then the period
    wr(0x10, 3n);
    const delta = 100_000n; // 1 ms
    wr(0x100, 0x4n | 0x8n | 0x40n);
    wr(0x108, rd(0xf0) + delta);
    wr(0x108, delta);
    const pitEdges = board.irqs[0]!.risingEdges;
    let taken = 0;
    let next = board.pollTimers();
    expect(next).toBe(1_000_000);
    for (let i = 0; i < 5; i++) {
      clock.set(next);
      next = board.pollTimers();
      if (board.pendingVector() === 0x30) {
        board.ackInterrupt();
        outb(0x20, 0x20);
        taken++;
      }
    }
    expect(taken).toBe(5);
    expect(next).toBe(6_000_000);
    // the PIT's own IRQ 0 line is disconnected while legacy replacement is on
    outb(0x43, 0x30); outb(0x40, 1); outb(0x40, 0);
    clock.advance(10_000);
    board.pollTimers();
    expect(board.irqs[0]!.risingEdges).toBe(pitEdges + 1);
    expect(board.pendingVector()).toBe(-1);
  });

  it('one-shot 32-bit level-triggered timer 2 routed to GSI 20', () => {
    const { clock, rd, wr, board } = setup();
    board.mmio.write(LAPIC_BASE + 0xf0, 4, 0x1ff);
    board.mmio.write(IOAPIC_BASE, 4, 0x10 + 2 * 20);
    board.mmio.write(IOAPIC_BASE + 0x10, 4, 0x8000 | 0x60);
    wr(0x140, 0x2n | 0x4n | 0x100n | (20n << 9n));
    expect(Number((rd(0x140) >> 9n) & 31n)).toBe(20);
    wr(0x148, 500n);
    wr(0x10, 1n);
    expect(board.pollTimers()).toBe(5000);
    clock.set(5000);
    board.pollTimers();
    expect(rd(0x20)).toBe(4n);
    expect(board.ackInterrupt()).toBe(0x60);
    wr(0x20, 4n); // clear status: the line drops
    expect(rd(0x20)).toBe(0n);
    board.mmio.write(LAPIC_BASE + 0xb0, 4, 0);
    expect(board.pendingVector()).toBe(-1);
    clock.advance(1_000_000);
    expect(board.pollTimers()).toBe(Infinity); // one-shot: fired once
  });
});

describe('ACPI PM timer and PM1 registers', () => {
  it('counts at 3.579545 MHz in 32 bits', () => {
    const { clock, board } = setup();
    clock.set(1_000_000_000);
    expect(board.io.read(0x608, 4)).toBe(PM_TIMER_HZ);
    clock.set(1_500_000_000);
    expect(board.io.read(0x608, 4)).toBe(nsToTicks(1_500_000_000, PM_TIMER_HZ));
  });

  it('keeps SCI_EN set and powers off on SLP_TYP 5 | SLP_EN', () => {
    const { board, exits } = setup();
    expect(board.io.read(0x604, 2) & 1).toBe(1);
    board.io.write(0x604, 2, (5 << 10) | 0x2000);
    expect(board.stopRequest).toEqual({ kind: 'exit', status: 0 });
    expect(exits()).toEqual([0]);
  });

  it('flags the timer carry on SCI (IRQ 9) when TMR_EN is set', () => {
    const { clock, board } = setup();
    board.io.write(0x602, 2, 1);
    const next = board.pollTimers();
    expect(next).toBe(ticksToNs(0x8000_0000, PM_TIMER_HZ));
    clock.set(next);
    board.pollTimers();
    expect(board.io.read(0x600, 2) & 1).toBe(1);
    expect(board.irqs[9]!.level).toBe(true);
    board.io.write(0x600, 2, 1);
    expect(board.irqs[9]!.level).toBe(false);
  });
});

describe('ACPI tables', () => {
  const readStr = (m: Uint8Array, a: number, n: number) => String.fromCharCode(...m.subarray(a, a + n));

  it('places a valid RSDP at 0xe0000 and every table checksums', () => {
    const { board } = setup();
    const m = board.memory.bytes();
    const dv = board.memory.view();
    const r = ACPI_TABLES_BASE;
    expect(board.acpiTables!.rsdp).toBe(r);
    expect(readStr(m, r, 8)).toBe('RSD PTR ');
    let s = 0;
    for (let i = 0; i < 20; i++) s += m[r + i]!;
    expect(s & 0xff).toBe(0);
    s = 0;
    for (let i = 0; i < 36; i++) s += m[r + i]!;
    expect(s & 0xff).toBe(0);
    expect(m[r + 15]).toBe(2);
    expect(dv.getUint32(r + 20, true)).toBe(36);
    const xsdt = Number(dv.getBigUint64(r + 24, true));
    const rsdt = dv.getUint32(r + 16, true);
    const x = parseSdtHeader(m, xsdt);
    expect(x).toMatchObject({ signature: 'XSDT', checksumOk: true });
    const sigs: string[] = [];
    for (let p = xsdt + 36; p < xsdt + x.length; p += 8) {
      const h = parseSdtHeader(m, Number(dv.getBigUint64(p, true)));
      expect(h.checksumOk).toBe(true);
      sigs.push(h.signature);
    }
    expect(sigs).toEqual(['FACP', 'APIC', 'HPET']);
    const rs = parseSdtHeader(m, rsdt);
    expect(rs).toMatchObject({ signature: 'RSDT', checksumOk: true, length: 36 + 12 });
  });

  it('FADT: PM blocks, SCI 9, 32-bit timer, reset register, DSDT with \\_S5', () => {
    const { board } = setup();
    const m = board.memory.bytes();
    const dv = board.memory.view();
    const f = board.acpiTables!.tables['FACP']!;
    expect(parseSdtHeader(m, f)).toMatchObject({ length: 276, revision: 6, checksumOk: true });
    expect(dv.getUint16(f + 46, true)).toBe(9);
    expect(dv.getUint32(f + 56, true)).toBe(0x600);
    expect(dv.getUint32(f + 64, true)).toBe(0x604);
    expect(dv.getUint32(f + 76, true)).toBe(0x608);
    expect([m[f + 88], m[f + 89], m[f + 91]]).toEqual([4, 2, 4]);
    const flags = dv.getUint32(f + 112, true);
    expect(flags & (1 << 8)).toBeTruthy(); // TMR_VAL_EXT
    expect(flags & (1 << 20)).toBe(0); // not hardware-reduced
    expect(m[f + 116]).toBe(1);
    expect(Number(dv.getBigUint64(f + 120, true))).toBe(0x64);
    expect(m[f + 128]).toBe(0xfe);
    expect(m[f + 108]).toBe(0x32);
    expect(Number(dv.getBigUint64(f + 208 + 4, true))).toBe(0x608);
    const dsdt = Number(dv.getBigUint64(f + 140, true));
    expect(dv.getUint32(f + 40, true)).toBe(dsdt);
    const d = parseSdtHeader(m, dsdt);
    expect(d).toMatchObject({ signature: 'DSDT', checksumOk: true });
    expect([...m.subarray(dsdt + 36, dsdt + d.length)]).toEqual([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00]);
    const facs = Number(dv.getBigUint64(f + 132, true));
    expect(facs % 64).toBe(0);
    expect(readStr(m, facs, 4)).toBe('FACS');
    expect(dv.getUint32(facs + 4, true)).toBe(64);
  });

  it('MADT: LAPIC, IOAPIC, overrides IRQ0->GSI2 and IRQ9 level, LINT1 NMI; HPET table', () => {
    const { board } = setup();
    const m = board.memory.bytes();
    const dv = board.memory.view();
    const a = board.acpiTables!.tables['APIC']!;
    const h = parseSdtHeader(m, a);
    expect(dv.getUint32(a + 36, true)).toBe(0xfee00000);
    expect(dv.getUint32(a + 40, true)).toBe(1);
    const entries: number[][] = [];
    for (let p = a + 44; p < a + h.length; p += m[p + 1]!) entries.push([...m.subarray(p, p + m[p + 1]!)]);
    expect(entries.map((e) => e[0])).toEqual([0, 1, 2, 2, 4]);
    expect(entries[0]).toEqual([0, 8, 0, 0, 1, 0, 0, 0]);
    expect(entries[1]).toEqual([1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0]);
    expect(entries[2]).toEqual([2, 10, 0, 0, 2, 0, 0, 0, 0, 0]);
    expect(entries[3]).toEqual([2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0]);
    expect(entries[4]).toEqual([4, 6, 0xff, 0, 0, 1]);
    const t = board.acpiTables!.tables['HPET']!;
    expect(parseSdtHeader(m, t)).toMatchObject({ length: 56, checksumOk: true });
    expect(dv.getUint32(t + 36, true)).toBe(Number(board.hpet.read64(0) & 0xffffffffn));
    expect(Number(dv.getBigUint64(t + 44, true))).toBe(HPET_BASE);
  });

  const hasIasl = spawnSync('iasl', ['-v'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasIasl)('disassemble cleanly with iasl -d (acpica-tools, optional)', () => {
    const t = buildAcpiTables();
    const dir = mkdtempSync(join(tmpdir(), 'kemu-acpi-'));
    try {
      const dv = new DataView(t.bytes.buffer);
      for (const name of ['FACP', 'APIC', 'HPET', 'DSDT', 'XSDT', 'RSDT', 'FACS']) {
        const off = t.tables[name]! - t.base;
        const len = dv.getUint32(off + 4, true);
        const file = join(dir, `${name}.dat`);
        writeFileSync(file, t.bytes.subarray(off, off + len));
        execFileSync('iasl', ['-d', file], { cwd: dir, stdio: 'pipe' });
        const dsl = readFileSync(join(dir, `${name}.dsl`), 'utf8');
        expect(dsl).not.toMatch(/\*\*\*\* (Error|Warning)|Invalid/i);
        if (name === 'DSDT') expect(dsl).toMatch(/Name \(_S5, Package \(0x04\)/);
        else expect(dsl).toContain(`"${name}"`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('can be built at another base', () => {
    const t = buildAcpiTables({ base: 0x9000 });
    expect(t.rsdp).toBe(0x9000);
    expect(Object.values(t.tables).every((a) => a >= 0x9000 && a < 0x9000 + t.bytes.length)).toBe(true);
  });
});

describe('clocks', () => {
  it('InsnClock follows the instruction counter and jumps when idle', () => {
    let n = 0;
    const c = new InsnClock(() => n, 2);
    n = 100;
    expect(c.now()).toBe(200);
    expect(c.instructionsUntil(1000)).toBe(400);
    c.waitUntil(5000);
    expect(c.now()).toBe(5000);
    n = 110;
    expect(c.now()).toBe(5020);
  });

  it('HostClock is monotonic and waits', () => {
    const c = new HostClock();
    const t0 = c.now();
    c.waitUntil(t0 + 2_000_000);
    expect(c.now()).toBeGreaterThanOrEqual(t0 + 2_000_000);
  });

  it('tick conversions round-trip over long times', () => {
    for (const ns of [0, 1, 999_999_999, 1e9, 123_456_789_012_345, 2 ** 52]) {
      const t = nsToTicks(ns, 1_193_182);
      expect(ticksToNs(t, 1_193_182)).toBeLessThanOrEqual(ns);
      expect(nsToTicks(ticksToNs(t + 1, 1_193_182), 1_193_182)).toBe(t + 1);
    }
  });
});
