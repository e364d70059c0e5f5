// The two cascaded Intel 8259A programmable interrupt controllers of the PC: master at 0x20/0x21, slave at
// 0xa0/0xa1 on the master's IR2, plus the edge/level control registers (ELCR) at 0x4d0/0x4d1.
//
// Each chip: ICW1-ICW4 initialisation (single/cascade, ICW4 needed, vector base, auto-EOI, special fully nested
// mode), OCW1 (mask), OCW2 (non-specific/specific EOI, rotation, set priority), OCW3 (read IRR/ISR, poll, special
// mask). Inputs are edge-triggered (a rising edge latches IRR) unless the ELCR bit makes them level-triggered.
// The INTA cycle (ack()) picks the highest-priority request, sets ISR (unless auto-EOI) and returns the vector;
// when the request went away in between it returns the spurious vector of IR7 (IRQ 7 or IRQ 15).

import type { IoSize, PortDevice } from '../machine/bus.js';

export const PIC_MASTER_PORT = 0x20;
export const PIC_SLAVE_PORT = 0xa0;
export const ELCR_PORT = 0x4d0;

class Pic8259 {
  irr = 0;
  imr = 0;
  isr = 0;
  /** Inputs' current levels (for edge detection and level mode). */
  private inputs = 0;
  /** Lowest-priority rotation: IR(priorityAdd) has the highest priority. */
  priorityAdd = 0;
  vectorBase = 0;
  readIsr = false;
  poll = false;
  specialMask = false;
  /** 0: operational; 2,3,4: expecting ICW2, ICW3, ICW4. */
  initStep = 0;
  needIcw4 = false;
  single = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  /** ICW3 value (master: slave bitmap; slave: its ID). */
  icw3 = 0;
  /** Level-triggered inputs (ELCR); bits the chip lets be level-triggered are `elcrMask`. */
  elcr = 0;

  constructor(readonly elcrMask: number, readonly isMaster: boolean) {}

  reset(): void {
    this.irr = this.imr = this.isr = 0;
    this.priorityAdd = this.vectorBase = 0;
    this.readIsr = this.poll = this.specialMask = false;
    this.initStep = 0;
    this.needIcw4 = this.single = this.autoEoi = this.rotateOnAutoEoi = this.specialFullyNested = false;
    this.icw3 = 0;
    // keep the inputs' levels (wires) and ELCR (a chipset register reset separately)
  }

  setInput(irq: number, level: boolean): void {
    const m = 1 << irq;
    if (this.elcr & m) {
      if (level) this.irr |= m;
      else this.irr &= ~m;
    } else if (level && !(this.inputs & m)) {
      this.irr |= m;
    }
    if (level) this.inputs |= m;
    else this.inputs &= ~m;
  }

  /** Highest-priority bit of `mask` after rotation, as an IR number, or 8 when none. */
  private priority(mask: number): number {
    if (!mask) return 8;
    let p = 0;
    while (!(mask & (1 << ((p + this.priorityAdd) & 7)))) p++;
    return p;
  }

  /** The IR number to be serviced, or -1. `cascadeIr` is the master's slave input in SFNM. */
  pendingIrq(): number {
    const p = this.priority(this.irr & ~this.imr);
    if (p === 8) return -1;
    // in special mask mode masked-out ISR bits do not inhibit; in SFNM the slave input may nest on itself
    let isr = this.isr;
    if (this.specialMask) isr &= ~this.imr;
    if (this.isMaster && this.specialFullyNested) isr &= ~(1 << 2);
    const cur = this.priority(isr);
    return p < cur ? (p + this.priorityAdd) & 7 : -1;
  }

  /** The INTA cycle for IR `irq` (as returned by pendingIrq). */
  ackIrq(irq: number): void {
    const m = 1 << irq;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (irq + 1) & 7;
    } else {
      this.isr |= m;
    }
    if (!(this.elcr & m)) this.irr &= ~m;
  }

  readCommand(): number {
    if (this.poll) {
      this.poll = false;
      return this.pollRead();
    }
    return this.readIsr ? this.isr : this.irr;
  }

  /** OCW3 poll: bit 7 set and the IR number if a request is pending (it is acknowledged as by INTA). */
  pollRead(): number {
    const irq = this.pendingIrq();
    if (irq < 0) return 0;
    this.ackIrq(irq);
    return 0x80 | irq;
  }

  writeCommand(v: number): void {
    if (v & 0x10) {
      // ICW1
      this.reset();
      this.needIcw4 = (v & 1) !== 0;
      this.single = (v & 2) !== 0;
      if (v & 8) this.elcr = 0xff & this.elcrMask; // LTIM: all inputs level-triggered
      this.initStep = 2;
    } else if (v & 0x08) {
      // OCW3
      if (v & 0x04) this.poll = true;
      if (v & 0x02) this.readIsr = (v & 1) !== 0;
      if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
    } else {
      // OCW2
      const cmd = v >> 5;
      const level = v & 7;
      switch (cmd) {
        case 0: // rotate in auto-EOI mode: clear
        case 4: // set
          this.rotateOnAutoEoi = cmd === 4;
          break;
        case 1: // non-specific EOI
        case 5: { // rotate on non-specific EOI
          const p = this.priority(this.isr);
          if (p !== 8) {
            const irq = (p + this.priorityAdd) & 7;
            this.isr &= ~(1 << irq);
            if (cmd === 5) this.priorityAdd = (irq + 1) & 7;
          }
          break;
        }
        case 3: // specific EOI
          this.isr &= ~(1 << level);
          break;
        case 7: // rotate on specific EOI
          this.isr &= ~(1 << level);
          this.priorityAdd = (level + 1) & 7;
          break;
        case 6: // set priority: `level` becomes the lowest
          this.priorityAdd = (level + 1) & 7;
          break;
        default: // 2: no operation
          break;
      }
    }
  }

  readData(): number {
    if (this.poll) {
      this.poll = false;
      return this.pollRead();
    }
    return this.imr;
  }

  writeData(v: number): void {
    switch (this.initStep) {
      case 2:
        this.vectorBase = v & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3;
        break;
      case 3:
        this.icw3 = v;
        this.initStep = this.needIcw4 ? 4 : 0;
        break;
      case 4:
        this.autoEoi = (v & 2) !== 0;
        this.specialFullyNested = (v & 0x10) !== 0;
        this.initStep = 0;
        break;
      default:
        this.imr = v;
        break;
    }
  }
}

/** The master/slave pair. `onChange` is called whenever the INT output may have changed. */
export class DualPic {
  readonly master = new Pic8259(0xf8, true); // IRQ 0-2 are always edge-triggered
  readonly slave = new Pic8259(0xde, false); // IRQ 8 and 13 too
  /** Called after anything that may change intPending(). */
  onChange: () => void = () => {};

  /** Ports 0x20-0x21. */
  readonly masterPorts: PortDevice = {
    ioRead: (o: number, _s: IoSize) => this.read(this.master, o),
    ioWrite: (o: number, _s: IoSize, v: number) => this.write(this.master, o, v),
  };
  /** Ports 0xa0-0xa1. */
  readonly slavePorts: PortDevice = {
    ioRead: (o: number, _s: IoSize) => this.read(this.slave, o),
    ioWrite: (o: number, _s: IoSize, v: number) => this.write(this.slave, o, v),
  };
  /** Ports 0x4d0-0x4d1: ELCR1 (IRQ 0-7) and ELCR2 (IRQ 8-15). */
  readonly elcrPorts: PortDevice = {
    ioRead: (o: number, _s: IoSize) => (o ? this.slave.elcr : this.master.elcr),
    ioWrite: (o: number, _s: IoSize, v: number) => {
      const c = o ? this.slave : this.master;
      c.elcr = v & c.elcrMask;
      this.changed();
    },
  };

  private read(c: Pic8259, offset: number): number {
    const polling = c.poll;
    const v = offset ? c.readData() : c.readCommand();
    if (polling) this.changed();
    return v;
  }

  private write(c: Pic8259, offset: number, v: number): void {
    if (offset) c.writeData(v & 0xff);
    else c.writeCommand(v & 0xff);
    this.changed();
  }

  /** Drives ISA input `irq` (0-15). */
  setIrq(irq: number, level: boolean): void {
    if (irq < 8) this.master.setInput(irq, level);
    else this.slave.setInput(irq - 8, level);
    this.changed();
  }

  private cascade(): void {
    const req = this.slave.pendingIrq() >= 0;
    this.master.setInput(2, req);
    // a slave request that went away before INTA is withdrawn rather than left latched on IR2 (which would
    // only produce a spurious IRQ 15)
    if (!req) this.master.irr &= ~(1 << 2);
  }

  private changed(): void {
    this.cascade();
    this.onChange();
  }

  /** Whether the master drives INT. */
  intPending(): boolean {
    return this.master.pendingIrq() >= 0;
  }

  /** The vector the next INTA would return, or -1 (no side effects). */
  peekVector(): number {
    const irq = this.master.pendingIrq();
    if (irq < 0) return -1;
    if (irq === 2) {
      const s = this.slave.pendingIrq();
      return this.slave.vectorBase + (s < 0 ? 7 : s);
    }
    return this.master.vectorBase + irq;
  }

  /** The INTA cycle: acknowledges the highest request and returns its vector (spurious IR7 if none). */
  ack(): number {
    const m = this.master;
    let vector: number;
    const irq = m.pendingIrq();
    if (irq < 0) {
      vector = m.vectorBase + 7; // spurious IRQ 7
    } else {
      m.ackIrq(irq);
      if (irq === 2) {
        const s = this.slave.pendingIrq();
        if (s < 0) vector = this.slave.vectorBase + 7; // spurious IRQ 15
        else {
          this.slave.ackIrq(s);
          vector = this.slave.vectorBase + s;
          // the slave's INT drops during INTA: a request still pending makes a new edge on IR2
          m.setInput(2, false);
        }
      } else {
        vector = m.vectorBase + irq;
      }
    }
    this.changed();
    return vector;
  }

  /** Power-on state as the firmware leaves it (there is no BIOS to program the chips): master vectors 0x08-0x0f,
   * slave 0x70-0x77 on IR2, every input masked but the cascade. A guest reprograms both with ICW1-4. */
  reset(): void {
    this.master.reset();
    this.slave.reset();
    this.master.elcr = this.slave.elcr = 0;
    const init = (c: Pic8259, base: number, icw3: number, imr: number) => {
      c.writeCommand(0x11);
      c.writeData(base);
      c.writeData(icw3);
      c.writeData(0x01);
      c.writeData(imr);
    };
    init(this.master, 0x08, 0x04, 0xfb);
    init(this.slave, 0x70, 0x02, 0xff);
    this.changed();
  }

  constructor() {
    this.reset();
  }
}
