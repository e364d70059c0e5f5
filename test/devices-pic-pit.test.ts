import { describe, expect, it } from 'vitest';
import { Board } from '../src/machine/board.js';
import { ManualClock, nsToTicks, ticksToNs } from '../src/machine/clock.js';
import { PIT_HZ } from '../src/devices/pit8254.js';

const MiB = 0x100000;

function setup() {
  const clock = new ManualClock();
  const board = new Board({ ramSize: 2 * MiB, clock, output: () => {} });
  const outb = (port: number, v: number) => board.io.write(port, 1, v);
  const inb = (port: number) => board.io.read(port, 1);
  return { clock, board, outb, inb };
}

/** Linux's init_8259A(): vectors 0x30/0x38, cascade on IR2, 8086 mode (optionally auto-EOI on the master). */
function initPics(outb: (p: number, v: number) => void, autoEoi = false) {
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
  outb(0x20, 0x11);
  outb(0x21, 0x30);
  outb(0x21, 0x04);
  outb(0x21, autoEoi ? 0x03 : 0x01);
  outb(0xa0, 0x11);
  outb(0xa1, 0x38);
  outb(0xa1, 0x02);
  outb(0xa1, 0x01);
  outb(0x21, 0x00);
  outb(0xa1, 0x00);
}

describe('8259A pair', () => {
  it('masks read back (Linux probe) and nothing is pending after init', () => {
    const { board, outb, inb } = setup();
    outb(0x21, 0xff);
    expect(inb(0x21)).toBe(0xff);
    initPics(outb);
    expect(inb(0x21)).toBe(0x00);
    expect(board.pendingVector()).toBe(-1);
  });

  it('delivers an edge on IRQ 4 at vector 0x34, holds ISR until EOI', () => {
    const { board, outb, inb } = setup();
    initPics(outb);
    board.irqs[4]!.pulse();
    expect(board.pendingVector()).toBe(0x34);
    outb(0x20, 0x0a); // OCW3: read IRR
    expect(inb(0x20)).toBe(0x10);
    expect(board.ackInterrupt()).toBe(0x34);
    expect(board.pendingVector()).toBe(-1);
    outb(0x20, 0x0b); // OCW3: read ISR
    expect(inb(0x20)).toBe(0x10);
    // a second edge waits behind the in-service one
    board.irqs[4]!.pulse();
    expect(board.pendingVector()).toBe(-1);
    outb(0x20, 0x20); // non-specific EOI
    expect(inb(0x20)).toBe(0x00);
    expect(board.ackInterrupt()).toBe(0x34);
  });

  it('prioritises lower IRQs and nests higher ones', () => {
    const { board, outb } = setup();
    initPics(outb);
    board.irqs[3]!.pulse();
    board.irqs[1]!.pulse();
    expect(board.ackInterrupt()).toBe(0x31);
    board.irqs[0]!.pulse(); // higher priority than the in-service IRQ 1: nests
    expect(board.ackInterrupt()).toBe(0x30);
    expect(board.pendingVector()).toBe(-1); // IRQ 3 is below IRQ 1
    outb(0x20, 0x60); // specific EOI IRQ 0
    outb(0x20, 0x61); // specific EOI IRQ 1
    expect(board.ackInterrupt()).toBe(0x33);
  });

  it('cascades the slave through IR2 and needs EOIs on both', () => {
    const { board, outb } = setup();
    initPics(outb);
    board.irqs[8]!.pulse();
    board.irqs[12]!.pulse();
    expect(board.ackInterrupt()).toBe(0x38);
    outb(0xa0, 0x20);
    expect(board.pendingVector()).toBe(-1); // master IR2 still in service
    outb(0x20, 0x20);
    expect(board.ackInterrupt()).toBe(0x3c);
  });

  it('respects the mask register', () => {
    const { board, outb } = setup();
    initPics(outb);
    outb(0x21, 0x10);
    board.irqs[4]!.pulse();
    expect(board.pendingVector()).toBe(-1);
    outb(0x21, 0x00);
    expect(board.pendingVector()).toBe(0x34);
  });

  it('gives spurious IRQ 7 when a level request goes away before INTA', () => {
    const { board, outb, inb } = setup();
    initPics(outb);
    outb(0x4d1, 0x04); // ELCR: IRQ 10 level-triggered
    expect(inb(0x4d1)).toBe(0x04);
    outb(0x4d0, 0xff);
    expect(inb(0x4d0)).toBe(0xf8); // IRQ 0-2 cannot be level-triggered
    outb(0x4d0, 0x00);
    board.irqs[10]!.raise();
    expect(board.pendingVector()).toBe(0x3a);
    board.irqs[10]!.lower();
    expect(board.pendingVector()).toBe(-1);
    expect(board.interrupts.pic.ack()).toBe(0x37);
    outb(0x4d0, 0x20); // IRQ 5 level
    board.irqs[5]!.raise();
    board.irqs[5]!.lower();
    expect(board.interrupts.pic.ack()).toBe(0x37);
  });

  it('keeps a level-triggered request pending while the line is high', () => {
    const { board, outb } = setup();
    initPics(outb);
    outb(0x4d1, 0x02); // IRQ 9
    board.irqs[9]!.raise();
    expect(board.ackInterrupt()).toBe(0x39);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    expect(board.pendingVector()).toBe(0x39);
    board.irqs[9]!.lower();
    expect(board.pendingVector()).toBe(-1);
  });

  it('auto-EOI leaves ISR clear; poll mode acknowledges through OCW3', () => {
    const { board, outb, inb } = setup();
    initPics(outb, true);
    board.irqs[3]!.pulse();
    expect(board.ackInterrupt()).toBe(0x33);
    outb(0x20, 0x0b);
    expect(inb(0x20)).toBe(0);
    board.irqs[6]!.pulse();
    outb(0x20, 0x0c); // OCW3 poll
    expect(inb(0x20)).toBe(0x86);
    expect(board.pendingVector()).toBe(-1);
  });

  it('reports interrupt-state changes', () => {
    const { board, outb } = setup();
    initPics(outb);
    let changes = 0;
    board.onInterruptChange = () => changes++;
    board.irqs[4]!.pulse();
    expect(changes).toBeGreaterThan(0);
  });
});

describe('8254 PIT', () => {
  it('channel 2 mode 0 with the gate on port 0x61: the Linux TSC calibration loop', () => {
    const { clock, outb, inb } = setup();
    outb(0x61, (inb(0x61) & ~0x02) | 0x01); // gate high, speaker off
    outb(0x43, 0xb0); // channel 2, LSB then MSB, mode 0, binary
    const latch = Math.floor(PIT_HZ / 100); // 10 ms
    outb(0x42, latch & 0xff);
    outb(0x42, latch >> 8);
    const start = clock.now();
    expect(inb(0x61) & 0x20).toBe(0);
    let loops = 0;
    while (!(inb(0x61) & 0x20)) {
      clock.advance(1000);
      loops++;
    }
    const elapsed = clock.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(ticksToNs(latch, PIT_HZ) - 1000);
    expect(elapsed).toBeLessThanOrEqual(ticksToNs(latch, PIT_HZ) + 1000);
    expect(loops).toBeGreaterThan(9000);
    expect(inb(0x61) & 0x01).toBe(1);
  });

  it('reads the counter LSB/MSB unlatched (quick_pit_calibrate) and counts at 1.193182 MHz', () => {
    const { clock, outb, inb } = setup();
    outb(0x61, 0x01);
    outb(0x43, 0xb0);
    outb(0x42, 0xff);
    outb(0x42, 0xff);
    const read = () => inb(0x42) | (inb(0x42) << 8);
    expect(read()).toBe(0xffff);
    clock.advance(1_000_000); // 1 ms = 1193 ticks
    expect(read()).toBe(0xffff - nsToTicks(1_000_000, PIT_HZ));
    // gate low pauses mode 0
    outb(0x61, 0x00);
    const v = read();
    clock.advance(1_000_000);
    expect(read()).toBe(v);
  });

  it('latches the count and reads status back', () => {
    const { clock, outb, inb } = setup();
    outb(0x43, 0x34); // channel 0, LSB/MSB, mode 2
    outb(0x40, 0x00);
    outb(0x40, 0x10); // 4096
    clock.advance(ticksToNs(100, PIT_HZ));
    outb(0x43, 0x00); // latch channel 0
    clock.advance(ticksToNs(50, PIT_HZ));
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(4096 - 100);
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(4096 - 150); // latch consumed
    outb(0x43, 0xe2); // read-back: status only, channel 0
    expect(inb(0x40)).toBe(0x80 | 0x30 | (2 << 1)); // OUT high, LSB/MSB, mode 2
    outb(0x43, 0xc2); // read-back: status and count
    expect(inb(0x40) & 0x3f).toBe(0x34);
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(4096 - 150);
  });

  it('mode 2 on channel 0 gives periodic IRQ 0 edges at the programmed rate (HZ=1000)', () => {
    const { clock, board, outb } = setup();
    initPics(outb);
    outb(0x43, 0x34);
    const latch = Math.round(PIT_HZ / 1000);
    outb(0x40, latch & 0xff);
    outb(0x40, latch >> 8);
    const edges0 = board.irqs[0]!.risingEdges;
    let next = board.pollTimers();
    expect(next).toBe(ticksToNs(latch, PIT_HZ));
    let taken = 0;
    for (let i = 0; i < 10; i++) {
      clock.set(next);
      next = board.pollTimers();
      if (board.pendingVector() === 0x30) {
        expect(board.ackInterrupt()).toBe(0x30);
        outb(0x20, 0x20);
        taken++;
      }
    }
    expect(taken).toBe(10);
    expect(board.irqs[0]!.risingEdges - edges0).toBe(10);
    expect(next).toBe(ticksToNs(11 * latch, PIT_HZ));
  });

  it('mode 0 on channel 0 (one-shot): IRQ 0 rises once at the terminal count', () => {
    const { clock, board, outb } = setup();
    outb(0x43, 0x30);
    outb(0x40, 100);
    outb(0x40, 0);
    expect(board.irqs[0]!.level).toBe(false);
    clock.set(ticksToNs(99, PIT_HZ));
    board.pollTimers();
    expect(board.irqs[0]!.level).toBe(false);
    clock.set(ticksToNs(100, PIT_HZ));
    expect(board.pollTimers()).toBe(Infinity);
    expect(board.irqs[0]!.level).toBe(true);
    outb(0x40, 100);
    outb(0x40, 0);
    expect(board.irqs[0]!.level).toBe(false);
  });

  it('mode 3 square wave on channel 2 toggles OUT every half period', () => {
    const { clock, outb, inb } = setup();
    outb(0x61, 0x03);
    outb(0x43, 0xb6); // channel 2, LSB/MSB, mode 3
    outb(0x42, 100);
    outb(0x42, 0);
    expect(inb(0x61) & 0x20).toBe(0x20);
    clock.set(ticksToNs(50, PIT_HZ));
    expect(inb(0x61) & 0x20).toBe(0);
    clock.set(ticksToNs(100, PIT_HZ));
    expect(inb(0x61) & 0x20).toBe(0x20);
  });
});
