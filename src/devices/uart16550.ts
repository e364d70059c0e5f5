// A 16550A UART (the PC's COM ports): eight byte-wide registers, a 16-byte receive FIFO, loopback, and one
// interrupt output. Transmission is instantaneous: a byte written to THR reaches the output sink at once and THR is
// empty again. Host input waits in an unbounded queue and enters the receive FIFO only as room appears, so the
// guest never sees an overrun from it (QEMU's can_receive flow control does the same).

import type { IoSize, PortDevice } from '../machine/bus.js';
import type { IrqLine } from '../machine/irq.js';

export type OutputSink = (bytes: Uint8Array) => void;

// Register offsets.
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

export const IER_RDI = 0x01;
export const IER_THRI = 0x02;
export const IER_RLSI = 0x04;
export const IER_MSI = 0x08;

export const IIR_NO_INT = 0x01;
export const IIR_MSI = 0x00;
export const IIR_THRI = 0x02;
export const IIR_RDI = 0x04;
export const IIR_RLSI = 0x06;
export const IIR_CTI = 0x0c;
export const IIR_FIFO = 0xc0;

export const FCR_ENABLE = 0x01;
export const FCR_CLEAR_RX = 0x02;
export const FCR_CLEAR_TX = 0x04;

export const LCR_DLAB = 0x80;

export const MCR_DTR = 0x01;
export const MCR_RTS = 0x02;
export const MCR_OUT1 = 0x04;
export const MCR_OUT2 = 0x08;
export const MCR_LOOP = 0x10;

export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_PE = 0x04;
export const LSR_FE = 0x08;
export const LSR_BI = 0x10;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
const LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

export const MSR_DCTS = 0x01;
export const MSR_DDSR = 0x02;
export const MSR_TERI = 0x04;
export const MSR_DDCD = 0x08;
export const MSR_CTS = 0x10;
export const MSR_DSR = 0x20;
export const MSR_RI = 0x40;
export const MSR_DCD = 0x80;
const MSR_DELTAS = 0x0f;
/** Modem inputs outside loopback: a host that is always there (carrier, DSR, CTS). */
const MSR_CONNECTED = MSR_DCD | MSR_DSR | MSR_CTS;

const FIFO_SIZE = 16;
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;

/** Bytes from the host waiting for the guest. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private offset = 0;

  push(data: Uint8Array): void {
    if (data.length) this.chunks.push(data.slice());
  }

  get empty(): boolean {
    return this.chunks.length === 0;
  }

  get length(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0) - this.offset;
  }

  shift(): number | undefined {
    const c = this.chunks[0];
    if (!c) return undefined;
    const b = c[this.offset++]!;
    if (this.offset === c.length) {
      this.chunks.shift();
      this.offset = 0;
    }
    return b;
  }

  clear(): void {
    this.chunks = [];
    this.offset = 0;
  }
}

export class Uart16550 implements PortDevice {
  readonly ioMaxSize = 1;
  private output: OutputSink;
  private readonly input = new ByteQueue();
  private rx: number[] = [];
  private lastRx = 0;
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private lsrErrors = 0;
  private msr = 0;
  private scr = 0;
  private divisor = 0;
  private fifoEnabled = false;
  private triggerLevel = 1;
  private thrPending = false;

  constructor(
    readonly irq: IrqLine,
    output: OutputSink = () => {},
  ) {
    this.output = output;
    this.reset();
  }

  /** Power-on state (QEMU's values: OUT2 set, 9600 baud, the host modem lines up). */
  reset(): void {
    this.rx = [];
    this.lastRx = 0;
    this.ier = 0;
    this.lcr = 0;
    this.mcr = MCR_OUT2;
    this.lsrErrors = 0;
    this.msr = MSR_CONNECTED;
    this.scr = 0;
    this.divisor = 12;
    this.fifoEnabled = false;
    this.triggerLevel = 1;
    this.thrPending = false;
    this.update();
  }

  setOutput(sink: OutputSink): void {
    this.output = sink;
  }

  /** Queues host bytes (stdin) for the guest. */
  receive(data: Uint8Array | string): void {
    this.input.push(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    this.pullInput();
    this.update();
  }

  /** Host bytes not yet taken into the receive FIFO. */
  get pendingInput(): number {
    return this.input.length;
  }

  /** The programmed baud rate (115200 / divisor). */
  get baud(): number {
    return this.divisor ? 115200 / this.divisor : 0;
  }

  ioRead(offset: number, _size: IoSize): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case RBR_THR_DLL:
        return dlab ? this.divisor & 0xff : this.readRbr();
      case IER_DLM:
        return dlab ? this.divisor >> 8 : this.ier;
      case IIR_FCR:
        return this.readIir();
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR: {
        const v = this.lsr();
        if (this.lsrErrors) {
          this.lsrErrors = 0;
          this.update();
        }
        return v;
      }
      case MSR: {
        const v = this.msr;
        if (v & MSR_DELTAS) {
          this.msr &= ~MSR_DELTAS;
          this.update();
        }
        return v;
      }
      case SCR:
        return this.scr;
      default:
        return 0xff;
    }
  }

  ioWrite(offset: number, _size: IoSize, value: number): void {
    value &= 0xff;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case RBR_THR_DLL:
        if (dlab) this.divisor = (this.divisor & 0xff00) | value;
        else this.transmit(value);
        break;
      case IER_DLM:
        if (dlab) this.divisor = (this.divisor & 0xff) | (value << 8);
        else this.writeIer(value);
        break;
      case IIR_FCR:
        this.writeFcr(value);
        break;
      case LCR:
        this.lcr = value;
        break;
      case MCR:
        this.writeMcr(value & 0x1f);
        break;
      case SCR:
        this.scr = value;
        break;
      default:
        break; // LSR and MSR are read-only
    }
  }

  private lsr(): number {
    return this.lsrErrors | (this.rx.length ? LSR_DR : 0) | LSR_THRE | LSR_TEMT;
  }

  private readRbr(): number {
    if (this.rx.length) this.lastRx = this.rx.shift()!;
    this.pullInput();
    this.update();
    return this.lastRx;
  }

  private readIir(): number {
    const id = this.interruptId();
    if (id === IIR_THRI) {
      // Reading IIR while it reports THR empty acknowledges that interrupt.
      this.thrPending = false;
      this.update();
    }
    return id | (this.fifoEnabled ? IIR_FIFO : 0);
  }

  private writeIer(value: number): void {
    const ier = value & 0x0f;
    const changed = this.ier ^ ier;
    this.ier = ier;
    // Enabling THRI with THR empty raises the interrupt again even if IIR had acknowledged it (QEMU and Bochs do
    // this and Windows relies on it).
    if (changed & IER_THRI) this.thrPending = (ier & IER_THRI) !== 0;
    this.update();
  }

  private writeFcr(value: number): void {
    const enable = (value & FCR_ENABLE) !== 0;
    // Changing the FIFO enable resets both FIFOs.
    if (enable !== this.fifoEnabled || value & FCR_CLEAR_RX) this.rx = [];
    this.fifoEnabled = enable;
    this.triggerLevel = enable ? TRIGGER_LEVELS[value >> 6]! : 1;
    this.pullInput();
    this.update();
  }

  private writeMcr(value: number): void {
    const wasLoop = (this.mcr & MCR_LOOP) !== 0;
    this.mcr = value;
    this.setModemInputs();
    if (wasLoop && !(value & MCR_LOOP)) this.pullInput();
    this.update();
  }

  /** Recomputes the MSR status bits and latches the deltas. */
  private setModemInputs(): void {
    let status = MSR_CONNECTED;
    if (this.mcr & MCR_LOOP) {
      // Loopback wires the outputs back: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
      status =
        (this.mcr & MCR_RTS ? MSR_CTS : 0) |
        (this.mcr & MCR_DTR ? MSR_DSR : 0) |
        (this.mcr & MCR_OUT1 ? MSR_RI : 0) |
        (this.mcr & MCR_OUT2 ? MSR_DCD : 0);
    }
    const old = this.msr;
    const diff = old ^ status;
    let deltas = old & MSR_DELTAS;
    if (diff & MSR_CTS) deltas |= MSR_DCTS;
    if (diff & MSR_DSR) deltas |= MSR_DDSR;
    if (diff & MSR_DCD) deltas |= MSR_DDCD;
    if (old & MSR_RI && !(status & MSR_RI)) deltas |= MSR_TERI;
    this.msr = status | deltas;
  }

  private transmit(byte: number): void {
    this.thrPending = false;
    this.update();
    if (this.mcr & MCR_LOOP) this.loopReceive(byte);
    else this.output(Uint8Array.of(byte));
    this.thrPending = true;
    this.update();
  }

  /** A byte arriving on the receive line from loopback: no flow control, so it can overrun. */
  private loopReceive(byte: number): void {
    const room = this.fifoEnabled ? FIFO_SIZE : 1;
    if (this.rx.length < room) {
      this.rx.push(byte);
    } else {
      this.lsrErrors |= LSR_OE;
      // Without FIFO the new character overwrites RBR; with FIFO it is lost.
      if (!this.fifoEnabled) this.rx[0] = byte;
    }
  }

  /** Moves host bytes into the receive FIFO while there is room (not in loopback: the line is disconnected). */
  private pullInput(): void {
    if (this.mcr & MCR_LOOP) return;
    const room = this.fifoEnabled ? FIFO_SIZE : 1;
    while (this.rx.length < room && !this.input.empty) this.rx.push(this.input.shift()!);
  }

  private interruptId(): number {
    const ier = this.ier;
    const n = this.rx.length;
    if (ier & IER_RLSI && this.lsrErrors) return IIR_RLSI;
    if (ier & IER_RDI && n >= this.triggerLevel) return IIR_RDI;
    // No wall clock: the character timeout fires as soon as the FIFO holds data below the trigger level.
    if (ier & IER_RDI && this.fifoEnabled && n > 0) return IIR_CTI;
    if (ier & IER_THRI && this.thrPending) return IIR_THRI;
    if (ier & IER_MSI && this.msr & MSR_DELTAS) return IIR_MSI;
    return IIR_NO_INT;
  }

  private update(): void {
    this.irq.set(this.interruptId() !== IIR_NO_INT);
  }
}
