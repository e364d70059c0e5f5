// The I/O APIC (82093AA-style, version 0x20 with the EOI register) at 0xfec00000: IOREGSEL at +0x00, IOWIN at
// +0x10, EOI at +0x40. 24 redirection entries (GSIs 0-23): vector, delivery mode (fixed, lowest priority, NMI;
// ExtINT is taken as fixed), trigger mode, mask, remote IRR, destination. Edge-triggered entries send on a rising
// edge of an unmasked input; level-triggered ones send while the input is asserted and remote IRR is clear, and
// set remote IRR until the local APIC broadcasts an EOI for the vector (or the guest writes the EOI register).
//
// Inputs are "asserted" levels: the wire polarity is abstracted away, so the polarity bit is stored but not used.
// With one CPU every message goes to it whatever the destination field says.

import type { MmioDevice } from '../machine/bus.js';

export const IOAPIC_BASE = 0xfec0_0000;
export const IOAPIC_SIZE = 0x1000;
export const IOAPIC_PINS = 24;
export const IOAPIC_VERSION = 0x20;

export const RTE_MASKED = 0x10000;
export const RTE_LEVEL = 0x8000;
export const RTE_REMOTE_IRR = 0x4000;
export const RTE_DELIVS = 0x1000;

export interface ApicSink {
  /** A fixed/lowest-priority interrupt message. */
  deliver(vector: number, level: boolean): void;
  nmi(): void;
}

export class IoApic implements MmioDevice {
  id = 0;
  private sel = 0;
  /** Low and high dwords of each redirection entry. */
  readonly lo = new Uint32Array(IOAPIC_PINS);
  readonly hi = new Uint32Array(IOAPIC_PINS);
  private inputs = 0;

  constructor(private readonly sink: ApicSink) {
    this.reset();
  }

  reset(): void {
    this.id = 0;
    this.sel = 0;
    this.lo.fill(RTE_MASKED);
    this.hi.fill(0);
  }

  /** Drives input pin `gsi`. */
  setIrq(gsi: number, level: boolean): void {
    if (gsi < 0 || gsi >= IOAPIC_PINS) return;
    const m = 1 << gsi;
    const was = (this.inputs & m) !== 0;
    if (level) this.inputs |= m;
    else this.inputs &= ~m;
    const lo = this.lo[gsi]!;
    if (lo & RTE_LEVEL) {
      if (level) this.service(gsi);
    } else if (level && !was) {
      this.service(gsi);
    }
  }

  /** Sends pin `gsi`'s message if it is unmasked (and, when level-triggered, not awaiting an EOI). */
  private service(gsi: number): void {
    const lo = this.lo[gsi]!;
    if (lo & RTE_MASKED) return;
    const level = (lo & RTE_LEVEL) !== 0;
    if (level) {
      if (lo & RTE_REMOTE_IRR || !(this.inputs & (1 << gsi))) return;
      this.lo[gsi] = lo | RTE_REMOTE_IRR;
    }
    const dm = (lo >> 8) & 7;
    if (dm === 4) this.sink.nmi();
    else this.sink.deliver(lo & 0xff, level);
  }

  /** The local APIC's EOI broadcast for a level-triggered vector. */
  eoi(vector: number): void {
    for (let i = 0; i < IOAPIC_PINS; i++) {
      const lo = this.lo[i]!;
      if ((lo & 0xff) === vector && lo & RTE_REMOTE_IRR) {
        this.lo[i] = lo & ~RTE_REMOTE_IRR;
        this.service(i); // still asserted: send again
      }
    }
  }

  private readReg(reg: number): number {
    switch (reg) {
      case 0: return (this.id & 15) << 24;
      case 1: return ((IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION;
      case 2: return (this.id & 15) << 24; // arbitration ID
      default: {
        const i = (reg - 0x10) >> 1;
        if (reg < 0x10 || i >= IOAPIC_PINS) return 0;
        return reg & 1 ? this.hi[i]! : this.lo[i]!;
      }
    }
  }

  private writeReg(reg: number, v: number): void {
    if (reg === 0) {
      this.id = (v >>> 24) & 15;
      return;
    }
    const i = (reg - 0x10) >> 1;
    if (reg < 0x10 || i >= IOAPIC_PINS) return;
    if (reg & 1) {
      this.hi[i] = v & 0xff00_0000;
      return;
    }
    const old = this.lo[i]!;
    // delivery status and remote IRR are read-only
    this.lo[i] = ((v & ~(RTE_REMOTE_IRR | RTE_DELIVS)) | (old & RTE_REMOTE_IRR)) >>> 0;
    if (!(this.lo[i]! & RTE_LEVEL)) this.lo[i]! &= ~RTE_REMOTE_IRR;
    // unmasking (or making level-triggered) an asserted level input sends it
    if (this.lo[i]! & RTE_LEVEL) this.service(i);
  }

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    let v = 0;
    const reg = offset & ~3;
    if (reg === 0x00) v = this.sel;
    else if (reg === 0x10) v = this.readReg(this.sel);
    const shift = (offset & 3) * 8;
    return size === 4 ? v : (v >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    const reg = offset & ~3;
    if (reg === 0x00) this.sel = value & 0xff;
    else if (reg === 0x10 && size === 4) this.writeReg(this.sel, value >>> 0);
    else if (reg === 0x40) this.eoi(value & 0xff);
  }
}
