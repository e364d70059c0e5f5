// The local APIC of the (single) vCPU, memory-mapped at 0xfee00000 (xAPIC mode; no x2APIC).
//
// Registers: ID, version (0x14, six LVT entries), TPR/APR/PPR, EOI, LDR/DFR, SVR (software enable, spurious
// vector), ISR/TMR/IRR (256 bits each), ESR, ICR (fixed and NMI IPIs to self; INIT and SIPI are ignored), the
// LVT (timer, thermal, performance counter, LINT0, LINT1, error), the timer's divide configuration, initial and
// current counts. The timer counts at 1 GHz / divide in one-shot or periodic mode (TSC-deadline is not
// advertised by CPUID, so that mode is treated as one-shot).
//
// After reset the LVT keeps the firmware's virtual-wire setup (LINT0 = ExtINT, LINT1 = NMI) as QEMU's does, so
// the 8259's INT reaches the CPU until the guest reprograms LINT0. Interrupts arrive through accept() (IOAPIC,
// IPIs, the timer); the CPU takes the highest deliverable one with ack(); an EOI of a level-triggered vector
// calls onEoi so the IOAPIC can clear its remote IRR.

import type { MmioDevice } from '../machine/bus.js';
import type { Clock, TimerDevice } from '../machine/clock.js';

export const LAPIC_BASE = 0xfee0_0000;
export const LAPIC_SIZE = 0x1000;
/** The timer's input clock (the "bus clock"): 1 GHz, one count per nanosecond before the divider. */
export const LAPIC_TIMER_HZ = 1_000_000_000;

export const REG_ID = 0x20;
export const REG_VERSION = 0x30;
export const REG_TPR = 0x80;
export const REG_APR = 0x90;
export const REG_PPR = 0xa0;
export const REG_EOI = 0xb0;
export const REG_RRD = 0xc0;
export const REG_LDR = 0xd0;
export const REG_DFR = 0xe0;
export const REG_SVR = 0xf0;
export const REG_ISR = 0x100;
export const REG_TMR = 0x180;
export const REG_IRR = 0x200;
export const REG_ESR = 0x280;
export const REG_LVT_CMCI = 0x2f0;
export const REG_ICR_LO = 0x300;
export const REG_ICR_HI = 0x310;
export const REG_LVT_TIMER = 0x320;
export const REG_LVT_THERMAL = 0x330;
export const REG_LVT_PERF = 0x340;
export const REG_LVT_LINT0 = 0x350;
export const REG_LVT_LINT1 = 0x360;
export const REG_LVT_ERROR = 0x370;
export const REG_TIMER_INIT = 0x380;
export const REG_TIMER_CUR = 0x390;
export const REG_TIMER_DIV = 0x3e0;

export const LVT_MASKED = 0x10000;
export const LVT_TIMER_PERIODIC = 0x20000;
export const LVT_LEVEL = 0x8000;
export const LVT_REMOTE_IRR = 0x4000;
export const SVR_ENABLE = 0x100;
export const DM_FIXED = 0;
export const DM_NMI = 4;
export const DM_INIT = 5;
export const DM_SIPI = 6;
export const DM_EXTINT = 7;

export const ESR_SEND_ILLEGAL = 0x20;
export const ESR_RECV_ILLEGAL = 0x40;
export const ESR_ILLEGAL_REG = 0x80;

const LVT_REGS = [REG_LVT_TIMER, REG_LVT_THERMAL, REG_LVT_PERF, REG_LVT_LINT0, REG_LVT_LINT1, REG_LVT_ERROR];
// writable bits per LVT entry (timer: vector, mask, mode; LINTs: also delivery mode, polarity, trigger)
const LVT_WRITABLE = [0x300ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff];

class Bits256 {
  readonly w = new Uint32Array(8);
  get(v: number): boolean {
    return ((this.w[v >> 5]! >>> (v & 31)) & 1) !== 0;
  }
  set(v: number, on: boolean): void {
    if (on) this.w[v >> 5]! |= 1 << (v & 31);
    else this.w[v >> 5]! &= ~(1 << (v & 31));
  }
  /** Highest set bit, or -1. */
  highest(): number {
    for (let i = 7; i >= 0; i--) {
      const x = this.w[i]!;
      if (x) return i * 32 + 31 - Math.clz32(x);
    }
    return -1;
  }
  clear(): void {
    this.w.fill(0);
  }
}

export class LocalApic implements MmioDevice, TimerDevice {
  id = 0;
  tpr = 0;
  ldr = 0;
  dfr = 0xffffffff;
  svr = 0xff;
  esr = 0;
  private esrPending = 0;
  icrLo = 0;
  icrHi = 0;
  readonly lvt = new Uint32Array(6);
  readonly irr = new Bits256();
  readonly isr = new Bits256();
  readonly tmr = new Bits256();
  divideConf = 0;
  initialCount = 0;
  /** Virtual time (ns) the timer's current count started from initialCount; Infinity: stopped. */
  private timerStart = Infinity;
  /** Periods of the timer already signalled. */
  private timerFired = 0;

  /** Something changed what ack() would return. */
  onChange: () => void = () => {};
  /** An EOI for a level-triggered vector (broadcast to the IOAPICs). */
  onEoi: (vector: number) => void = () => {};
  /** An NMI was sent to this CPU (LINT1 in NMI mode, an NMI IPI). */
  onNmi: () => void = () => {};

  constructor(private readonly clock: Clock) {
    this.reset();
  }

  reset(): void {
    this.tpr = this.ldr = this.esr = this.esrPending = this.icrLo = this.icrHi = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.lvt.fill(LVT_MASKED);
    // virtual wire mode, as the firmware leaves it on the BSP
    this.lvt[3] = DM_EXTINT << 8;
    this.lvt[4] = DM_NMI << 8;
    this.irr.clear();
    this.isr.clear();
    this.tmr.clear();
    this.divideConf = this.initialCount = 0;
    this.timerStart = Infinity;
    this.timerFired = 0;
    this.onChange();
  }

  get enabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  /** Processor priority: max(TPR, the class of the highest in-service vector). */
  ppr(): number {
    const isrv = Math.max(0, this.isr.highest());
    return (this.tpr & 0xf0) >= (isrv & 0xf0) ? this.tpr & 0xff : isrv & 0xf0;
  }

  /** The vector the CPU would take now, or -1. */
  pendingVector(): number {
    const v = this.irr.highest();
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return -1;
    return v;
  }

  /** The CPU takes the highest deliverable interrupt: IRR -> ISR. Returns it, or the spurious vector. */
  ack(): number {
    const v = this.pendingVector();
    if (v < 0) return this.svr & 0xff;
    this.irr.set(v, false);
    this.isr.set(v, true);
    this.onChange();
    return v;
  }

  /** A fixed interrupt arrives (from the IOAPIC, an IPI or a local source). */
  accept(vector: number, level: boolean): void {
    vector &= 0xff;
    if (vector < 16) {
      this.error(ESR_RECV_ILLEGAL);
      return;
    }
    this.irr.set(vector, true);
    this.tmr.set(vector, level);
    this.onChange();
  }

  /** Whether the 8259's INT reaches the CPU (LINT0 unmasked in ExtINT mode). */
  acceptsExtInt(): boolean {
    const l = this.lvt[3]!;
    return !(l & LVT_MASKED) && ((l >> 8) & 7) === DM_EXTINT;
  }

  /** LINT1 (or LINT0) in NMI mode: an edge on the pin. */
  lint(pin: 0 | 1): void {
    const l = this.lvt[3 + pin]!;
    if (l & LVT_MASKED) return;
    const dm = (l >> 8) & 7;
    if (dm === DM_NMI) this.onNmi();
    else if (dm === DM_FIXED) this.accept(l & 0xff, false);
  }

  private error(bits: number): void {
    this.esrPending |= bits;
    const l = this.lvt[5]!;
    if (!(l & LVT_MASKED)) this.accept(l & 0xff, false);
  }

  private eoi(): void {
    const v = this.isr.highest();
    if (v < 0) return;
    this.isr.set(v, false);
    if (this.tmr.get(v)) this.onEoi(v);
    this.onChange();
  }

  private divisor(): number {
    const d = (this.divideConf & 3) | ((this.divideConf & 8) >> 1);
    return d === 7 ? 1 : 2 << d;
  }

  private get periodic(): boolean {
    return (this.lvt[0]! & 0x60000) === LVT_TIMER_PERIODIC;
  }

  /** Timer period in ns (initialCount * divisor at 1 GHz). */
  private periodNs(): number {
    return this.initialCount * this.divisor();
  }

  currentCount(now = this.clock.now()): number {
    if (!Number.isFinite(this.timerStart) || this.initialCount === 0) return 0;
    const ticks = Math.floor((now - this.timerStart) / this.divisor());
    if (this.periodic) return this.initialCount - (ticks % this.initialCount);
    return Math.max(0, this.initialCount - ticks);
  }

  poll(now: number): number {
    if (!Number.isFinite(this.timerStart) || this.initialCount === 0) return Infinity;
    const period = this.periodNs();
    const periods = Math.floor((now - this.timerStart) / period);
    if (periods > this.timerFired) {
      this.timerFired = this.periodic ? periods : 1;
      const l = this.lvt[0]!;
      if (!(l & LVT_MASKED)) this.accept(l & 0xff, false);
      if (!this.periodic) {
        this.timerStart = Infinity;
        return Infinity;
      }
    }
    return this.timerStart + (this.timerFired + 1) * period;
  }

  private ipi(): void {
    const lo = this.icrLo;
    const dm = (lo >> 8) & 7;
    const shorthand = (lo >> 18) & 3;
    let self: boolean;
    if (shorthand === 1 || shorthand === 2) self = true;
    else if (shorthand === 3) self = false;
    else {
      const dest = this.icrHi >>> 24;
      if (lo & 0x800) {
        // logical: flat model matches LDR bits, cluster model the cluster and member bits
        const ldr = this.ldr >>> 24;
        self = (this.dfr >>> 28) === 0xf ? (dest & ldr) !== 0 : (dest >> 4) === (ldr >> 4) && (dest & ldr & 15) !== 0;
      } else {
        self = dest === 0xff || dest === this.id;
      }
    }
    if (!self) return;
    if (dm === DM_FIXED || dm === 1 /* lowest priority */) {
      if ((lo & 0xff) < 16) this.error(ESR_SEND_ILLEGAL);
      else this.accept(lo & 0xff, false);
    } else if (dm === DM_NMI) {
      this.onNmi();
    }
    // INIT, SIPI, SMI to the only CPU: ignored
  }

  readReg(reg: number): number {
    if (reg >= REG_ISR && reg < REG_ISR + 0x80) return this.isr.w[(reg - REG_ISR) >> 4]!;
    if (reg >= REG_TMR && reg < REG_TMR + 0x80) return this.tmr.w[(reg - REG_TMR) >> 4]!;
    if (reg >= REG_IRR && reg < REG_IRR + 0x80) return this.irr.w[(reg - REG_IRR) >> 4]!;
    const li = LVT_REGS.indexOf(reg);
    if (li >= 0) return this.lvt[li]!;
    switch (reg) {
      case REG_ID: return (this.id << 24) >>> 0;
      case REG_VERSION: return 0x0005_0014; // version 0x14, max LVT entry 5
      case REG_TPR: return this.tpr;
      case REG_APR: return 0;
      case REG_PPR: return this.ppr();
      case REG_LDR: return this.ldr;
      case REG_DFR: return this.dfr;
      case REG_SVR: return this.svr;
      case REG_ESR: return this.esr;
      case REG_ICR_LO: return this.icrLo & ~0x1000; // delivery status: idle
      case REG_ICR_HI: return this.icrHi;
      case REG_TIMER_INIT: return this.initialCount;
      case REG_TIMER_CUR: return this.currentCount();
      case REG_TIMER_DIV: return this.divideConf;
      default: return 0;
    }
  }

  writeReg(reg: number, v: number): void {
    v >>>= 0;
    const li = LVT_REGS.indexOf(reg);
    if (li >= 0) {
      if (!this.enabled) v |= LVT_MASKED;
      const wasPeriodic = this.periodic;
      this.lvt[li] = (this.lvt[li]! & ~LVT_WRITABLE[li]!) | (v & LVT_WRITABLE[li]!);
      if (li === 0 && wasPeriodic !== this.periodic) this.restartTimer();
      this.onChange();
      return;
    }
    switch (reg) {
      case REG_ID: this.id = v >>> 24; break;
      case REG_TPR: this.tpr = v & 0xff; this.onChange(); break;
      case REG_EOI: this.eoi(); break;
      case REG_LDR: this.ldr = v & 0xff00_0000; break;
      case REG_DFR: this.dfr = (v | 0x0fff_ffff) >>> 0; break;
      case REG_SVR:
        this.svr = v & 0x13ff;
        if (!this.enabled) for (let i = 0; i < 6; i++) this.lvt[i]! |= LVT_MASKED;
        this.onChange();
        break;
      case REG_ESR:
        // a write latches the errors found since the last write and clears the pending ones
        this.esr = this.esrPending;
        this.esrPending = 0;
        break;
      case REG_ICR_HI: this.icrHi = v & 0xff00_0000; break;
      case REG_ICR_LO:
        this.icrLo = v & 0x000c_dfff;
        this.ipi();
        break;
      case REG_TIMER_INIT:
        this.initialCount = v;
        this.restartTimer();
        break;
      case REG_TIMER_DIV: {
        const now = this.clock.now();
        const cur = this.currentCount(now);
        this.divideConf = v & 0xb;
        // keep counting from the current count at the new rate
        if (Number.isFinite(this.timerStart) && this.initialCount) {
          this.timerStart = now - (this.initialCount - cur) * this.divisor();
          this.timerFired = 0;
        }
        break;
      }
      case REG_TIMER_CUR:
      case REG_VERSION:
      case REG_PPR:
      case REG_APR:
      case REG_RRD:
        break; // read-only
      default:
        if (!(reg >= REG_ISR && reg < REG_IRR + 0x80)) this.error(ESR_ILLEGAL_REG);
    }
  }

  private restartTimer(): void {
    this.timerStart = this.initialCount ? this.clock.now() : Infinity;
    this.timerFired = 0;
  }

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    const v = this.readReg(offset & 0xff0);
    const shift = (offset & 3) * 8;
    return size === 4 && !(offset & 3) ? v : (v >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset & 0xf || size !== 4) return; // only aligned 32-bit writes are defined
    this.writeReg(offset, value);
  }
}
