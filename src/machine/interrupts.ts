// How the board's interrupt sources reach the vCPU.
//
//   ISA IRQ lines 0-15 ──┬─> 8259 pair (IRQ n) ── INT ──> LAPIC LINT0 (ExtINT, virtual wire) ─┐
//                        └─> I/O APIC (GSI n; IRQ 0 -> GSI 2) ── messages ──> LAPIC IRR ──────┴─> vCPU
//   HPET timers ──> I/O APIC GSIs, or (legacy replacement) ISA IRQ 0 / 8 in place of the PIT and the RTC
//   LAPIC timer, LVT error, self-IPIs ──> LAPIC IRR;  LINT1 / NMI IPIs / NMI-mode redirections ──> onNmi
//
// The CPU side polls pendingVector() (the vector it would take now, or -1) and calls ackInterrupt() when it takes
// it (the INTA cycle / LAPIC IRR -> ISR), which returns the vector to deliver. onChange fires whenever
// pendingVector() may have changed, so a run loop can keep cpu.pendingIrq current without polling.
//
// The run loop (software CPU; test/devices-irq-guest.test.ts does exactly this):
//   board.onInterruptChange = () => { cpu.pendingIrq = board.pendingVector(); };
//   board.onNmi = () => { cpu.nmiPending = true; };
//   cpu.onIrqAck = () => board.ackInterrupt();      // returns the same vector cpu.pendingIrq held
//   loop: next = board.pollTimers(); stop = cpu.run(min(slice, clock.instructionsUntil?.(next) ?? slice));
//         on Stop.Idle with cpu.pendingIrq < 0: board.clock.waitUntil(min(next, a host-input poll bound)).
// Through the Vcpu interface (KVM, or TcgVcpu's queue) acknowledge only when the vCPU can take the interrupt
// (KVM: ready_for_interrupt_injection, else request an interrupt window; tcg: RFLAGS.IF and no pending one), then
// vcpu.injectInterrupt(board.ackInterrupt()).

import type { DualPic } from '../devices/pic8259.js';
import type { IoApic } from '../devices/ioapic.js';
import type { LocalApic } from '../devices/lapic.js';
import type { IrqLine } from './irq.js';

/** The I/O APIC input an ISA IRQ arrives at (the MADT's interrupt source override IRQ 0 -> GSI 2). */
export function isaIrqToGsi(irq: number): number {
  return irq === 0 ? 2 : irq;
}

export class InterruptRouter {
  /** Levels driven by the ISA devices on each line, and by the HPET in legacy replacement mode. */
  private deviceLevels = 0;
  private hpetLevels = 0;
  private hpetLegacy = false;
  /** Called whenever pendingVector() may have changed. */
  onChange: () => void = () => {};
  /** An NMI for the CPU. */
  onNmi: () => void = () => {};

  constructor(readonly pic: DualPic, readonly ioapic: IoApic, readonly lapic: LocalApic) {
    pic.onChange = () => this.onChange();
    lapic.onChange = () => this.onChange();
    lapic.onEoi = (v) => ioapic.eoi(v);
    lapic.onNmi = () => this.onNmi();
  }

  /** Connects ISA lines 0-15 (each line's device drives PIC input n and I/O APIC input isaIrqToGsi(n)). */
  connectIsa(lines: readonly IrqLine[]): void {
    lines.forEach((line, irq) => line.connect((level) => this.setIsaIrq(irq, level)));
  }

  setIsaIrq(irq: number, level: boolean): void {
    const m = 1 << irq;
    this.deviceLevels = level ? this.deviceLevels | m : this.deviceLevels & ~m;
    this.drive(irq);
  }

  /** HPET legacy replacement: its timers 0 and 1 take over IRQ 0 and IRQ 8. */
  setHpetLegacyMode(on: boolean): void {
    this.hpetLegacy = on;
    this.drive(0);
    this.drive(8);
  }

  setHpetLegacyIrq(irq: 0 | 8, level: boolean): void {
    const m = 1 << irq;
    this.hpetLevels = level ? this.hpetLevels | m : this.hpetLevels & ~m;
    this.drive(irq);
  }

  /** A GSI input driven directly (HPET routed timers, PCI INTx later). */
  setGsi(gsi: number, level: boolean): void {
    this.ioapic.setIrq(gsi, level);
  }

  private drive(irq: number): void {
    const m = 1 << irq;
    const fromHpet = this.hpetLegacy && (irq === 0 || irq === 8);
    const level = ((fromHpet ? this.hpetLevels : this.deviceLevels) & m) !== 0;
    this.pic.setIrq(irq, level);
    this.ioapic.setIrq(isaIrqToGsi(irq), level);
  }

  /** The vector the CPU would take now (if its IF allows), or -1: the local APIC first, then the 8259 via LINT0. */
  pendingVector(): number {
    const v = this.lapic.pendingVector();
    if (v >= 0) return v;
    if (this.lapic.acceptsExtInt() && this.pic.intPending()) return this.pic.peekVector();
    return -1;
  }

  /** The CPU takes an interrupt: returns the vector to deliver (-1 if nothing is pending any more). */
  ackInterrupt(): number {
    if (this.lapic.pendingVector() >= 0) return this.lapic.ack();
    if (this.lapic.acceptsExtInt() && this.pic.intPending()) return this.pic.ack();
    return -1;
  }
}
