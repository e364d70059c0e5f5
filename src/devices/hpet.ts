// The High Precision Event Timer (IA-PC HPET spec 1.0a) at 0xfed00000: a 64-bit main counter at 100 MHz and three
// timers (comparators). Registers: general capabilities/ID (+0x000), general configuration (+0x010: ENABLE_CNF,
// LEG_RT_CNF), general interrupt status (+0x020, level-triggered timers; write 1 to clear), main counter (+0x0f0),
// and per timer n at +0x100 + 0x20n: configuration/capabilities, comparator, FSB route (FSB delivery is not
// offered). Timers: one-shot or periodic (all three periodic-capable), 32- or 64-bit, edge or level, routed to an
// I/O APIC input (INT_ROUTE_CNF), or in legacy replacement mode timer 0 -> IRQ 0 / GSI 2 and timer 1 -> IRQ 8.
// 32- and 64-bit accesses.

import type { MmioDevice } from '../machine/bus.js';
import type { Clock, TimerDevice } from '../machine/clock.js';

export const HPET_BASE = 0xfed0_0000;
export const HPET_SIZE = 0x400;
export const HPET_TIMERS = 3;
/** Counter period in femtoseconds (10 ns: 100 MHz). */
export const HPET_PERIOD_FS = 10_000_000;
export const HPET_NS_PER_TICK = HPET_PERIOD_FS / 1_000_000;
export const HPET_VENDOR = 0x8086;

export const CFG_ENABLE = 1;
export const CFG_LEGACY = 2;
export const TN_LEVEL = 0x2;
export const TN_ENABLE = 0x4;
export const TN_PERIODIC = 0x8;
export const TN_PERIODIC_CAP = 0x10;
export const TN_SIZE_CAP = 0x20;
export const TN_SETVAL = 0x40;
export const TN_32BIT = 0x100;
const TN_ROUTE_SHIFT = 9;
/** I/O APIC inputs a timer may be routed to: GSIs 20-23 (and 2/8 through legacy replacement). */
export const HPET_ROUTE_CAP = 0x00f0_0000;

/** Where a timer's interrupt goes: legacy (ISA IRQ 0 or 8) or an I/O APIC input. */
export interface HpetIrqSink {
  legacy(irq: 0 | 8, level: boolean): void;
  gsi(gsi: number, level: boolean): void;
  /** Legacy replacement was switched on or off (the PIT's and RTC's lines are (dis)connected). */
  legacyMode(on: boolean): void;
}

const U64 = 0xffff_ffff_ffff_ffffn;
const M32 = 0x1_0000_0000;

class HpetTimer {
  config = TN_PERIODIC_CAP | TN_SIZE_CAP;
  /** Comparator (ticks, up to 64 bits as a number: safe for 2.8 years at 100 MHz). */
  cmp = Number.MAX_SAFE_INTEGER;
  period = 0;
  /** The comparator has been reached and (one-shot) must not fire again until rewritten. */
  fired = false;
  /** The level this timer drives now. */
  out = false;
}

export class Hpet implements MmioDevice, TimerDevice {
  readonly mmioMaxSize = 8;
  private config = 0;
  private isr = 0;
  /** Counter value when it was last stopped or set, and the time it restarted from there. */
  private counterBase = 0;
  private counterStart = 0;
  readonly timers = [new HpetTimer(), new HpetTimer(), new HpetTimer()] as const;

  constructor(private readonly clock: Clock, private readonly sink: HpetIrqSink) {
    this.reset();
  }

  reset(): void {
    if (this.config & CFG_LEGACY) this.sink.legacyMode(false);
    this.config = 0;
    this.isr = 0;
    this.counterBase = 0;
    this.counterStart = this.clock.now();
    for (let i = 0; i < HPET_TIMERS; i++) {
      const t = this.timers[i]!;
      if (t.out) this.drive(i, false);
      Object.assign(t, new HpetTimer());
    }
  }

  get enabled(): boolean {
    return (this.config & CFG_ENABLE) !== 0;
  }

  /** Main counter now (ticks). */
  counter(now = this.clock.now()): number {
    if (!this.enabled) return this.counterBase;
    return this.counterBase + Math.floor((now - this.counterStart) / HPET_NS_PER_TICK);
  }

  private route(i: number): { legacy?: 0 | 8; gsi?: number } {
    if (this.config & CFG_LEGACY && i < 2) return { legacy: i === 0 ? 0 : 8 };
    return { gsi: (this.timers[i]!.config >> TN_ROUTE_SHIFT) & 31 };
  }

  private drive(i: number, level: boolean): void {
    const t = this.timers[i]!;
    t.out = level;
    const r = this.route(i);
    if (r.legacy !== undefined) this.sink.legacy(r.legacy, level);
    else this.sink.gsi(r.gsi!, level);
  }

  private fire(i: number): void {
    const t = this.timers[i]!;
    if (!(t.config & TN_ENABLE)) return;
    if (t.config & TN_LEVEL) {
      this.isr |= 1 << i;
      if (!t.out) this.drive(i, true);
    } else {
      this.drive(i, true);
      this.drive(i, false);
    }
  }

  /** Comparator as seen by the counter: 32-bit timers compare the low 32 bits. */
  private nextFire(i: number, count: number): number {
    const t = this.timers[i]!;
    if (t.config & TN_32BIT) {
      const low = count % M32;
      let d = (t.cmp % M32) - low;
      if (d < 0) d += M32;
      if (d === 0 && t.fired) return Infinity;
      return count + d;
    }
    if (t.fired && t.cmp <= count) return Infinity;
    return Math.max(t.cmp, count);
  }

  poll(now: number): number {
    if (!this.enabled) return Infinity;
    const count = this.counter(now);
    let next = Infinity;
    for (let i = 0; i < HPET_TIMERS; i++) {
      const t = this.timers[i]!;
      if (!t.fired && this.reached(t, count)) {
        this.fire(i);
        if (t.config & TN_PERIODIC && t.period > 0) {
          // advance past `count` by whole periods
          const behind = Math.floor((count - t.cmp) / t.period) + 1;
          t.cmp += behind * t.period;
          if (t.config & TN_32BIT) t.cmp %= M32;
        } else {
          t.fired = true;
        }
      }
      if (t.config & TN_ENABLE && !t.fired) {
        const at = this.nextFire(i, count);
        next = Math.min(next, this.counterStart + (at - this.counterBase) * HPET_NS_PER_TICK);
      }
    }
    return next;
  }

  private reached(t: HpetTimer, count: number): boolean {
    if (t.config & TN_32BIT) {
      // a 32-bit comparator matches when the low half of the counter passes it (within the last half-range)
      const d = (count % M32) - (t.cmp % M32);
      return d >= 0 && d < M32 / 2;
    }
    return count >= t.cmp;
  }

  read64(offset: number): bigint {
    switch (offset) {
      case 0x000:
        return (BigInt(HPET_PERIOD_FS) << 32n) | BigInt(((HPET_VENDOR << 16) | 0x8000 /* LEG_RT_CAP */ | 0x2000 /* 64-bit */ | ((HPET_TIMERS - 1) << 8) | 1) >>> 0);
      case 0x010: return BigInt(this.config);
      case 0x020: return BigInt(this.isr);
      case 0x0f0: return BigInt(this.counter());
    }
    if (offset >= 0x100 && offset < 0x100 + 0x20 * HPET_TIMERS) {
      const t = this.timers[(offset - 0x100) >> 5]!;
      switch (offset & 0x1f) {
        case 0x00: return (BigInt(HPET_ROUTE_CAP) << 32n) | BigInt(t.config);
        case 0x08: return BigInt(t.cmp) & U64;
        default: return 0n;
      }
    }
    return 0n;
  }

  write64(offset: number, value: bigint, mask: bigint = U64): void {
    const old = this.read64(offset);
    const v = (old & ~mask) | (value & mask);
    const lo = Number(v & 0xffff_ffffn);
    switch (offset) {
      case 0x010: {
        const now = this.clock.now();
        const was = this.config;
        if (was & CFG_ENABLE && !(lo & CFG_ENABLE)) this.counterBase = this.counter(now);
        if (!(was & CFG_ENABLE) && lo & CFG_ENABLE) this.counterStart = now;
        if ((was ^ lo) & CFG_LEGACY) {
          // move any asserted outputs of timers 0 and 1 to their new routes
          const outs = [this.timers[0].out, this.timers[1].out];
          if (outs[0]) this.drive(0, false);
          if (outs[1]) this.drive(1, false);
          this.config = lo & 3;
          this.sink.legacyMode((lo & CFG_LEGACY) !== 0);
          if (outs[0]) this.drive(0, true);
          if (outs[1]) this.drive(1, true);
        }
        this.config = lo & 3;
        return;
      }
      case 0x020:
        // write 1 to clear a level-triggered timer's status (and its interrupt)
        for (let i = 0; i < HPET_TIMERS; i++) {
          if (lo & (1 << i) && this.isr & (1 << i)) {
            this.isr &= ~(1 << i);
            if (this.timers[i]!.out) this.drive(i, false);
          }
        }
        return;
      case 0x0f0:
        if (!this.enabled) {
          this.counterBase = Number(v);
          for (const t of this.timers) t.fired = false;
        }
        return;
    }
    if (offset >= 0x100 && offset < 0x100 + 0x20 * HPET_TIMERS) {
      const i = (offset - 0x100) >> 5;
      const t = this.timers[i]!;
      switch (offset & 0x1f) {
        case 0x00: {
          const writable = TN_LEVEL | TN_ENABLE | TN_PERIODIC | TN_SETVAL | TN_32BIT | (31 << TN_ROUTE_SHIFT);
          const wasOut = t.out;
          if (wasOut) this.drive(i, false);
          let cfg = (t.config & ~writable) | (lo & writable);
          const gsi = (cfg >> TN_ROUTE_SHIFT) & 31;
          if (!(HPET_ROUTE_CAP & (1 << gsi))) cfg = (cfg & ~(31 << TN_ROUTE_SHIFT)) | (t.config & (31 << TN_ROUTE_SHIFT));
          t.config = cfg;
          if (cfg & TN_32BIT) t.cmp %= M32;
          if (!(cfg & TN_LEVEL)) this.isr &= ~(1 << i);
          if (wasOut && cfg & TN_LEVEL && cfg & TN_ENABLE) this.drive(i, true);
          return;
        }
        case 0x08: {
          let c = Number(v);
          if (t.config & TN_32BIT) c %= M32;
          // periodic: a write with VAL_SET sets the comparator, any write sets the period
          if (!(t.config & TN_PERIODIC) || t.config & TN_SETVAL) t.cmp = c;
          t.period = c;
          t.config &= ~TN_SETVAL;
          t.fired = false;
          return;
        }
      }
    }
  }

  mmioRead64(offset: number): bigint {
    return this.read64(offset);
  }

  mmioWrite64(offset: number, value: bigint): void {
    this.write64(offset, value);
  }

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    const v = this.read64(offset & ~7);
    const shift = BigInt((offset & 7) * 8);
    const mask = size === 4 ? 0xffff_ffffn : size === 2 ? 0xffffn : 0xffn;
    return Number((v >> shift) & mask);
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    const shift = BigInt((offset & 7) * 8);
    const mask = (size === 4 ? 0xffff_ffffn : size === 2 ? 0xffffn : 0xffn) << shift;
    this.write64(offset & ~7, BigInt(value >>> 0) << shift, mask);
  }
}
