import { beforeEach, describe, expect, it } from 'vitest';
import { DebugExit } from '../src/devices/debug-exit.js';
import { I8042, STATUS_AUXDATA, STATUS_IBF, STATUS_OBF } from '../src/devices/i8042.js';
import { PostCode } from '../src/devices/post-code.js';
import { Uart16550 } from '../src/devices/uart16550.js';
import { PortBus } from '../src/machine/bus.js';
import { IrqLine } from '../src/machine/irq.js';

const COM1 = 0x3f8;
const [RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR] = [0, 1, 2, 3, 4, 5, 6, 7].map((o) => COM1 + o) as number[] as [
  number, number, number, number, number, number, number, number,
];
const FCR = IIR;
const DLL = RBR;
const DLM = IER;

describe('16550 UART', () => {
  let bus: PortBus;
  let irq: IrqLine;
  let uart: Uart16550;
  let out: number[];
  const inb = (port: number): number => bus.read(port, 1);
  const outb = (port: number, v: number): void => bus.write(port, 1, v);

  beforeEach(() => {
    bus = new PortBus();
    irq = new IrqLine('irq4');
    out = [];
    uart = new Uart16550(irq, (b) => out.push(...b));
    bus.register(COM1, 8, uart, 'COM1');
  });

  /** What Linux's serial8250 does on startup: 115200 8N1, FIFO with an 8-byte trigger, DTR/RTS/OUT2. */
  function linuxSetup(): void {
    outb(LCR, 0x80);
    outb(DLL, 0x01);
    outb(DLM, 0x00);
    outb(LCR, 0x03);
    outb(FCR, 0x01 | 0x02 | 0x04 | 0x80); // enable, clear both, trigger 8
    outb(MCR, 0x0b);
  }

  it('resets to an idle line', () => {
    expect(inb(IER)).toBe(0);
    expect(inb(IIR)).toBe(0x01);
    expect(inb(LCR)).toBe(0);
    expect(inb(LSR)).toBe(0x60);
    expect(inb(MSR) & 0xf0).toBe(0xb0);
    expect(irq.level).toBe(false);
    expect(uart.baud).toBe(9600);
  });

  it('programs the divisor latch through DLAB', () => {
    outb(IER, 0x05);
    outb(LCR, 0x83);
    outb(DLL, 0x0c);
    outb(DLM, 0x01);
    expect(inb(DLL)).toBe(0x0c);
    expect(inb(DLM)).toBe(0x01);
    expect(inb(LCR)).toBe(0x83);
    outb(LCR, 0x03);
    expect(inb(IER)).toBe(0x05); // IER untouched by the DLM write
    expect(uart.baud).toBe(115200 / 0x10c);
    outb(LCR, 0x80);
    outb(DLL, 1);
    outb(DLM, 0);
    outb(LCR, 0x03);
    expect(uart.baud).toBe(115200);
  });

  it('passes the Linux 8250 autoconfig probes (IER, loopback, FIFO type)', () => {
    outb(IER, 0);
    expect(inb(IER) & 0x0f).toBe(0);
    outb(IER, 0xff);
    expect(inb(IER)).toBe(0x0f); // only the four low bits exist
    outb(IER, 0);
    // Loopback check: RTS and OUT2 come back as CTS and DCD.
    outb(MCR, 0x10 | 0x0a);
    expect(inb(MSR) & 0xf0).toBe(0x90);
    outb(MCR, 0);
    // FIFO: IIR bits 7:6 read 11 on a 16550A.
    outb(FCR, 0x01);
    expect(inb(IIR) >> 6).toBe(3);
    outb(FCR, 0);
    expect(inb(IIR) >> 6).toBe(0);
    // Scratch register
    outb(SCR, 0xa5);
    expect(inb(SCR)).toBe(0xa5);
    outb(SCR, 0x5a);
    expect(inb(SCR)).toBe(0x5a);
  });

  it('transmits to the output sink and keeps THR empty', () => {
    linuxSetup();
    for (const c of 'Hi!\n') {
      while (!(inb(LSR) & 0x20)) {
        /* poll THRE, as early console code does */
      }
      outb(RBR, c.charCodeAt(0));
    }
    expect(String.fromCharCode(...out)).toBe('Hi!\n');
    expect(inb(LSR) & 0x60).toBe(0x60);
    expect(irq.level).toBe(false); // IER is 0
  });

  it('raises the THR-empty interrupt when enabled and clears it on IIR read', () => {
    linuxSetup();
    outb(IER, 0x02);
    expect(irq.level).toBe(true);
    expect(inb(IIR)).toBe(0xc2);
    expect(irq.level).toBe(false);
    expect(inb(IIR)).toBe(0xc1);
    // Each transmitted byte empties THR again.
    outb(RBR, 0x41);
    expect(irq.level).toBe(true);
    expect(out).toEqual([0x41]);
    // Writing THR acknowledges too; disabling THRI drops the line.
    outb(IER, 0x00);
    expect(irq.level).toBe(false);
    // Re-enabling THRI with THR empty raises it again (QEMU/Bochs behaviour).
    outb(IER, 0x02);
    expect(irq.level).toBe(true);
    const edges = irq.risingEdges;
    outb(RBR, 0x42);
    expect(irq.risingEdges).toBe(edges + 1); // a fresh edge for an edge-triggered PIC
  });

  it('receives host input with the character timeout below the trigger level', () => {
    linuxSetup();
    outb(IER, 0x01);
    expect(irq.level).toBe(false);
    uart.receive('ok');
    expect(irq.level).toBe(true);
    expect(inb(IIR)).toBe(0xcc); // character timeout
    expect(inb(LSR) & 0x01).toBe(1);
    let s = '';
    while (inb(LSR) & 0x01) s += String.fromCharCode(inb(RBR));
    expect(s).toBe('ok');
    expect(irq.level).toBe(false);
    expect(inb(IIR)).toBe(0xc1);
  });

  it('reports received data available at the trigger level', () => {
    linuxSetup();
    outb(FCR, 0xc1); // trigger 14
    outb(IER, 0x01);
    uart.receive('0123456789abcd');
    expect(inb(IIR)).toBe(0xc4);
    uart.receive('efghijklmnopqrstuvwxyz');
    // 16 bytes in the FIFO, the rest waits in the host queue (no overrun)
    expect(uart.pendingInput).toBe(36 - 16);
    let s = '';
    while (inb(LSR) & 0x01) s += String.fromCharCode(inb(RBR));
    expect(s).toBe('0123456789abcdefghijklmnopqrstuvwxyz');
    expect(inb(LSR) & 0x02).toBe(0);
    expect(irq.level).toBe(false);
  });

  it('holds one byte at a time without FIFO', () => {
    outb(LCR, 0x03);
    outb(IER, 0x01);
    uart.receive(new Uint8Array([1, 2, 3]));
    expect(inb(IIR)).toBe(0x04);
    expect(uart.pendingInput).toBe(2);
    expect([inb(RBR), inb(RBR), inb(RBR)]).toEqual([1, 2, 3]);
    expect(inb(LSR) & 0x01).toBe(0);
    expect(inb(IIR)).toBe(0x01);
    expect(irq.level).toBe(false);
  });

  it('clears the receive FIFO on FCR request', () => {
    linuxSetup();
    uart.receive('abc');
    outb(FCR, 0x83);
    expect(inb(LSR) & 0x01).toBe(0);
  });

  it('loops transmitted bytes back and mirrors the modem lines in loopback', () => {
    linuxSetup();
    outb(MCR, 0x10); // loop, all outputs low
    expect(inb(MSR)).toBe(0x0b); // CTS, DSR, DCD dropped: their deltas
    expect(inb(MSR)).toBe(0x00); // deltas clear on read
    outb(MCR, 0x10 | 0x01 | 0x04); // DTR, OUT1
    expect(inb(MSR)).toBe(0x20 | 0x40 | 0x02); // DSR, RI, DDSR
    outb(MCR, 0x10 | 0x01); // RI falls
    expect(inb(MSR)).toBe(0x20 | 0x04); // TERI
    outb(RBR, 0x5a);
    expect(out).toEqual([]);
    expect(inb(LSR) & 0x01).toBe(1);
    expect(inb(RBR)).toBe(0x5a);
    // Host input waits while the line is looped.
    uart.receive('h');
    expect(inb(LSR) & 0x01).toBe(0);
    outb(MCR, 0x0b);
    expect(inb(RBR)).toBe(0x68);
  });

  it('signals modem status changes when MSI is enabled', () => {
    outb(IER, 0x08);
    expect(irq.level).toBe(false);
    outb(MCR, 0x10);
    expect(irq.level).toBe(true);
    expect(inb(IIR)).toBe(0x00);
    inb(MSR);
    expect(irq.level).toBe(false);
  });

  it('flags a loopback overrun as a line status interrupt', () => {
    outb(LCR, 0x03);
    outb(MCR, 0x10);
    outb(IER, 0x05);
    outb(RBR, 1);
    expect(inb(IIR)).toBe(0x04);
    outb(RBR, 2); // RBR not read: overrun, the new byte replaces the old
    expect(inb(IIR)).toBe(0x06);
    expect(inb(LSR) & 0x03).toBe(0x03);
    expect(inb(LSR) & 0x02).toBe(0); // OE clears on read
    expect(inb(IIR)).toBe(0x04);
    expect(inb(RBR)).toBe(2);
    expect(irq.level).toBe(false);
  });

  it('splits wider port accesses into byte accesses', () => {
    outb(SCR, 0x12);
    // A word read at LSR covers LSR and MSR.
    expect(bus.read(LSR, 2)).toBe(0x60 | (0xb0 << 8));
    // A dword read at 0x3fe reaches two unassigned ports.
    expect(bus.read(0x3fe, 4)).toBe(0xffff12b0);
  });

  it('goes back to power-on state on reset', () => {
    linuxSetup();
    outb(IER, 0x0f);
    uart.receive('xyz');
    uart.reset();
    expect(inb(IER)).toBe(0);
    expect(inb(LSR)).toBe(0x60);
    expect(irq.level).toBe(false);
  });
});

describe('isa-debug-exit', () => {
  it('exits with (value << 1) | 1 for any access size', () => {
    const codes: number[] = [];
    const bus = new PortBus();
    bus.register(0xf4, 4, new DebugExit((s) => codes.push(s)));
    bus.write(0xf4, 1, 0x10);
    bus.write(0xf4, 1, 0);
    bus.write(0xf4, 2, 0x1234);
    bus.write(0xf4, 4, 0xffffffff);
    expect(codes).toEqual([0x21, 1, 0x2469, 0x1ffffffff]);
    expect(bus.read(0xf4, 1)).toBe(0);
  });
});

describe('POST port 0x80', () => {
  it('swallows writes', () => {
    const bus = new PortBus();
    const post = new PostCode();
    bus.register(0x80, 1, post);
    bus.write(0x80, 1, 0x42);
    expect(post.lastCode).toBe(0x42);
    expect(bus.read(0x80, 1)).toBe(0xff);
  });
});

describe('i8042', () => {
  const setup = () => {
    const resets = { n: 0 };
    const kbd = new IrqLine('irq1');
    const aux = new IrqLine('irq12');
    const bus = new PortBus();
    const kbc = new I8042(() => resets.n++, kbd, aux);
    bus.register(0x60, 1, kbc.dataPort);
    bus.register(0x64, 1, kbc.commandPort);
    const cmd = (c: number, ...params: number[]) => {
      bus.write(0x64, 1, c);
      for (const p of params) bus.write(0x60, 1, p);
    };
    /** Everything waiting in the output buffer, with the aux flag of each byte. */
    const drain = () => {
      const got: string[] = [];
      while (bus.read(0x64, 1) & STATUS_OBF) {
        const aux = bus.read(0x64, 1) & STATUS_AUXDATA ? 'a' : '';
        got.push(bus.read(0x60, 1).toString(16) + aux);
      }
      return got;
    };
    return { resets, kbd, aux, bus, kbc, cmd, drain };
  };

  it('reports an idle controller and resets the system on 0xFE and through the output port', () => {
    const { resets, bus, cmd } = setup();
    const status = bus.read(0x64, 1);
    expect(status & (STATUS_IBF | STATUS_OBF)).toBe(0);
    expect(status & 0x04).toBe(0x04);
    cmd(0xa7);
    expect(bus.read(0x64, 1) & 0x08).toBe(0x08);
    cmd(0xfe);
    expect(resets.n).toBe(1);
    cmd(0xd1, 0x03); // A20 on, reset line high: nothing happens
    expect(resets.n).toBe(1);
    cmd(0xd1, 0x02);
    expect(resets.n).toBe(2);
    // 0x61-0x63 are not the controller's.
    expect(bus.read(0x61, 1)).toBe(0xff);
  });

  it("answers Linux's probe at once: CTR read/write, self-tests, aux enable bits and loopback", () => {
    const { bus, cmd, drain } = setup();
    cmd(0x20);
    const ctr = bus.read(0x60, 1);
    expect(ctr & 0x04).toBe(0x04);
    cmd(0x60, 0x30); // keyboard and aux disabled, interrupts off
    cmd(0x20);
    expect(drain()).toEqual(['30']);
    cmd(0xaa);
    cmd(0xab);
    cmd(0xa9);
    expect(drain()).toEqual(['55', '0', '0']);
    cmd(0xd3, 0x5a); // the aux loopback is the controller's own
    expect(drain()).toEqual(['5aa']);
    cmd(0xa8); // (the self-test set the system flag)
    cmd(0x20);
    expect(drain()).toEqual(['14']);
    cmd(0xa7);
    cmd(0x20);
    expect(drain()).toEqual(['34']);
    cmd(0xd4, 0xf2); // to the mouse: there is none
    expect(drain()).toEqual(['fea']);
  });

  it('has a keyboard that acknowledges, resets and identifies, with IRQ 1 / IRQ 12 while a byte waits', () => {
    const { bus, kbd, aux, cmd, drain } = setup();
    cmd(0x60, 0x45); // keyboard interrupt on, translation, system flag
    bus.write(0x60, 1, 0xff);
    expect(kbd.level).toBe(true);
    expect(drain()).toEqual(['fa', 'aa']);
    expect(kbd.level).toBe(false);
    expect(kbd.risingEdges).toBe(2);
    bus.write(0x60, 1, 0xf2);
    bus.write(0x60, 1, 0xed);
    bus.write(0x60, 1, 0x07);
    bus.write(0x60, 1, 0xf0);
    bus.write(0x60, 1, 0x00);
    bus.write(0x60, 1, 0xf4);
    bus.write(0x60, 1, 0xee);
    expect(drain()).toEqual(['fa', 'ab', '83', 'fa', 'fa', 'fa', 'fa', '2', 'fa', 'ee']);
    cmd(0xd3, 0x11); // aux byte with the aux interrupt off: no IRQ 12
    expect(aux.level).toBe(false);
    expect(kbd.level).toBe(false);
    drain();
    cmd(0x60, 0x45 | 0x02);
    cmd(0xd3, 0x22);
    expect(aux.level).toBe(true);
    expect(drain()).toEqual(['22a']);
    expect(aux.level).toBe(false);
  });
});
