import { describe, expect, it } from 'vitest';
import { Board } from '../src/machine/board.js';
import { ManualClock } from '../src/machine/clock.js';
import { LAPIC_BASE } from '../src/devices/lapic.js';
import { IOAPIC_BASE } from '../src/devices/ioapic.js';

const MiB = 0x100000;

function setup(ramSize = 2 * MiB, baseTime = Date.UTC(2024, 1, 29, 23, 59, 58)) {
  const clock = new ManualClock();
  const board = new Board({ ramSize, clock, output: () => {}, rtcBaseTime: baseTime });
  const outb = (port: number, v: number) => board.io.write(port, 1, v);
  const inb = (port: number) => board.io.read(port, 1);
  const cmos = (reg: number) => {
    outb(0x70, reg);
    return inb(0x71);
  };
  const setCmos = (reg: number, v: number) => {
    outb(0x70, reg);
    outb(0x71, v);
  };
  const apic = (reg: number) => board.mmio.read(LAPIC_BASE + reg, 4);
  const setApic = (reg: number, v: number) => board.mmio.write(LAPIC_BASE + reg, 4, v);
  const ioapicWrite = (reg: number, v: number) => {
    board.mmio.write(IOAPIC_BASE, 4, reg);
    board.mmio.write(IOAPIC_BASE + 0x10, 4, v);
  };
  const ioapicRead = (reg: number) => {
    board.mmio.write(IOAPIC_BASE, 4, reg);
    return board.mmio.read(IOAPIC_BASE + 0x10, 4);
  };
  return { clock, board, outb, inb, cmos, setCmos, apic, setApic, ioapicWrite, ioapicRead };
}

describe('MC146818 RTC / CMOS', () => {
  it('shows the base time in BCD and advances with the virtual clock (across a leap day)', () => {
    const { clock, cmos } = setup();
    expect([cmos(0), cmos(2), cmos(4), cmos(7), cmos(8), cmos(9), cmos(0x32)]).toEqual([0x58, 0x59, 0x23, 0x29, 0x02, 0x24, 0x20]);
    expect(cmos(6)).toBe(5); // Thursday
    clock.advance(2_000_000_000);
    expect([cmos(0), cmos(2), cmos(4), cmos(7), cmos(8), cmos(9)]).toEqual([0x00, 0x00, 0x00, 0x01, 0x03, 0x24]);
    expect(cmos(0x0d)).toBe(0x80); // VRT
  });

  it('binary and 12-hour modes', () => {
    const { cmos, setCmos } = setup(2 * MiB, Date.UTC(2025, 6, 4, 15, 30, 45));
    setCmos(0x0b, 0x06); // binary, 24 h
    expect([cmos(0), cmos(2), cmos(4), cmos(9)]).toEqual([45, 30, 15, 25]);
    setCmos(0x0b, 0x00); // BCD, 12 h
    expect(cmos(4)).toBe(0x80 | 0x03);
  });

  it('sets UIP in the last 244 us of each second', () => {
    const { clock, cmos } = setup(2 * MiB, 1_700_000_000_000);
    clock.set(999_000_000);
    expect(cmos(0x0a) & 0x80).toBe(0);
    clock.set(999_800_000);
    expect(cmos(0x0a) & 0x80).toBe(0x80);
    clock.set(1_000_000_000);
    expect(cmos(0x0a) & 0x80).toBe(0);
  });

  it('lets the guest set the time through register B SET', () => {
    const { clock, cmos, setCmos } = setup();
    setCmos(0x0b, 0x82);
    setCmos(0x04, 0x07);
    setCmos(0x02, 0x15);
    setCmos(0x00, 0x00);
    clock.advance(5_000_000_000); // frozen while SET
    expect(cmos(0)).toBe(0);
    setCmos(0x0b, 0x02);
    clock.advance(3_000_000_000);
    expect([cmos(4), cmos(2), cmos(0), cmos(7)]).toEqual([0x07, 0x15, 0x03, 0x29]);
  });

  it('raises IRQ 8 at the periodic rate until register C is read', () => {
    const { clock, board, cmos, setCmos } = setup();
    setCmos(0x0a, 0x26); // 1024 Hz
    setCmos(0x0b, 0x42); // PIE
    const next = board.pollTimers();
    expect(next).toBeLessThanOrEqual(976_563);
    clock.set(next);
    board.pollTimers();
    expect(board.irqs[8]!.level).toBe(true);
    expect(cmos(0x0c)).toBe(0xc0);
    expect(board.irqs[8]!.level).toBe(false);
    expect(cmos(0x0c)).toBe(0);
  });

  it('reports memory sizes and keeps the checksum', () => {
    const { cmos } = setup(128 * MiB);
    expect(cmos(0x15) | (cmos(0x16) << 8)).toBe(640);
    expect(cmos(0x17) | (cmos(0x18) << 8)).toBe(63 * 1024);
    expect(cmos(0x30) | (cmos(0x31) << 8)).toBe(63 * 1024);
    expect(cmos(0x34) | (cmos(0x35) << 8)).toBe((128 - 16) * 16);
    expect([cmos(0x5b), cmos(0x5c), cmos(0x5d)]).toEqual([0, 0, 0]);
    let sum = 0;
    for (let r = 0x10; r <= 0x2d; r++) sum += cmos(r);
    expect((cmos(0x2e) << 8) | cmos(0x2f)).toBe(sum);
  });
});

describe('local APIC', () => {
  it('has ID 0, version 0x14 with six LVT entries, and starts in virtual-wire mode', () => {
    const { apic } = setup();
    expect(apic(0x20)).toBe(0);
    expect(apic(0x30)).toBe(0x50014);
    expect(apic(0xf0)).toBe(0xff);
    expect(apic(0x350)).toBe(0x700);
    expect(apic(0x360)).toBe(0x400);
    expect(apic(0x320)).toBe(0x10000);
  });

  it('one-shot timer: counts down at 1 GHz / divide and raises its vector once', () => {
    const { clock, board, apic, setApic } = setup();
    setApic(0xf0, 0x1ff); // enable, spurious vector 0xff
    setApic(0x3e0, 0x3); // divide by 16
    setApic(0x320, 0xec); // one-shot, vector 0xec
    setApic(0x380, 1000);
    expect(apic(0x390)).toBe(1000);
    clock.advance(16 * 250);
    expect(apic(0x390)).toBe(750);
    expect(board.pollTimers()).toBe(16 * 1000);
    expect(board.pendingVector()).toBe(-1);
    clock.set(16 * 1000);
    expect(board.pollTimers()).toBe(Infinity);
    expect(apic(0x390)).toBe(0);
    expect(apic(0x200 + 0x70) >>> 12).toBe(1); // IRR bit 0xec
    expect(board.pendingVector()).toBe(0xec);
    expect(board.ackInterrupt()).toBe(0xec);
    expect(apic(0x100 + 0x70) >>> 12).toBe(1); // ISR bit 0xec
    expect(apic(0xa0)).toBe(0xe0); // PPR
    setApic(0xb0, 0);
    expect(apic(0x100 + 0x70)).toBe(0);
    expect(apic(0xa0)).toBe(0);
  });

  it('periodic timer, TPR blocking, self-IPI and NMI IPI', () => {
    const { clock, board, apic, setApic } = setup();
    let nmis = 0;
    board.onNmi = () => nmis++;
    setApic(0xf0, 0x1ff);
    setApic(0x3e0, 0xb); // divide by 1
    setApic(0x320, 0x20000 | 0x40);
    setApic(0x380, 500);
    let fired = 0;
    for (let t = 100; t <= 2600; t += 100) {
      clock.set(t);
      board.pollTimers();
      if (board.pendingVector() === 0x40) {
        board.ackInterrupt();
        setApic(0xb0, 0);
        fired++;
      }
    }
    expect(fired).toBe(5);
    expect(apic(0x390)).toBe(400);
    setApic(0x320, 0x10000); // mask
    setApic(0x80, 0x50); // TPR class 5 blocks vectors 0x00-0x5f
    setApic(0x300, 0x40000 | 0x51); // self IPI 0x51
    expect(board.pendingVector()).toBe(-1);
    setApic(0x80, 0x40);
    expect(board.pendingVector()).toBe(0x51);
    expect(board.ackInterrupt()).toBe(0x51);
    setApic(0xb0, 0);
    setApic(0x310, 0);
    setApic(0x300, 0x400); // NMI to APIC ID 0
    expect(nmis).toBe(1);
    setApic(0x300, 0x40500); // INIT to self: ignored
    setApic(0x300, 0x40600 | 0x10); // SIPI to self: ignored
    expect(board.pendingVector()).toBe(-1);
    // an illegal vector sets the error register after a write
    setApic(0x300, 0x40000 | 0x05);
    setApic(0x280, 0);
    expect(apic(0x280)).toBe(0x20);
  });

  it('masking LINT0 hides the 8259', () => {
    const { board, outb, setApic } = setup();
    outb(0x20, 0x11); outb(0x21, 0x30); outb(0x21, 0x04); outb(0x21, 0x01);
    outb(0x21, 0x00);
    board.irqs[1]!.pulse();
    expect(board.pendingVector()).toBe(0x31);
    setApic(0xf0, 0x1ff);
    setApic(0x350, 0x10700);
    expect(board.pendingVector()).toBe(-1);
  });
});

describe('I/O APIC', () => {
  it('reports 24 entries, all masked, and routes edge IRQs (IRQ 0 on GSI 2)', () => {
    const { board, outb, ioapicRead, ioapicWrite, setApic } = setup();
    expect(ioapicRead(1)).toBe(0x170020);
    expect(ioapicRead(0x10) & 0x10000).toBe(0x10000);
    setApic(0xf0, 0x1ff);
    setApic(0x350, 0x10700); // PIC off, as Linux does with the IOAPIC in use
    ioapicWrite(0x10 + 2 * 2, 0x30);
    ioapicWrite(0x10 + 2 * 2 + 1, 0);
    ioapicWrite(0x10 + 2 * 4, 0x34);
    outb(0x43, 0x30); // PIT one-shot
    outb(0x40, 10);
    outb(0x40, 0);
    board.irqs[4]!.pulse();
    expect(board.ackInterrupt()).toBe(0x34);
    setApic(0xb0, 0);
    expect(board.pendingVector()).toBe(-1);
    (board.clock as ManualClock).set(1_000_000);
    board.pollTimers();
    expect(board.ackInterrupt()).toBe(0x30);
  });

  it('level-triggered: remote IRR until the EOI broadcast, then resent while still asserted', () => {
    const { board, ioapicRead, ioapicWrite, setApic, apic } = setup();
    setApic(0xf0, 0x1ff);
    ioapicWrite(0x10 + 2 * 9, 0x8000 | 0x49);
    board.irqs[9]!.raise();
    expect(ioapicRead(0x10 + 2 * 9) & 0x4000).toBe(0x4000);
    expect(apic(0x180 + 0x20) & (1 << 9)).toBe(1 << 9); // TMR bit 0x49
    expect(board.ackInterrupt()).toBe(0x49);
    expect(board.pendingVector()).toBe(-1);
    setApic(0xb0, 0); // EOI: broadcast, line still high -> resent
    expect(board.pendingVector()).toBe(0x49);
    expect(board.ackInterrupt()).toBe(0x49);
    board.irqs[9]!.lower();
    setApic(0xb0, 0);
    expect(ioapicRead(0x10 + 2 * 9) & 0x4000).toBe(0);
    expect(board.pendingVector()).toBe(-1);
  });

  it('masked level input is sent when unmasked', () => {
    const { board, ioapicWrite, setApic } = setup();
    setApic(0xf0, 0x1ff);
    ioapicWrite(0x10 + 2 * 10, 0x18000 | 0x4a);
    board.irqs[10]!.raise();
    expect(board.pendingVector()).toBe(-1);
    ioapicWrite(0x10 + 2 * 10, 0x08000 | 0x4a);
    expect(board.pendingVector()).toBe(0x4a);
  });
});
