// The MC146818-style real-time clock and CMOS RAM at ports 0x70 (index; bit 7 = NMI disable) and 0x71 (data).
//
// The time comes from the host's wall clock at power-on (or `baseTime`) plus the virtual time elapsed since, so it
// advances with the guest clock; a guest that sets the time (register B SET) moves the base. BCD or binary, 12 or
// 24 hour (register B DM and 24/12), the update-in-progress bit (register A UIP, set for the 244 us before each
// second), periodic (rate from register A RS), alarm and update-ended interrupts flagged in register C and raised
// on IRQ 8 until register C is read, register D VRT. CMOS bytes: memory sizes (0x15-0x18, 0x30-0x31, 0x34-0x35,
// 0x5b-0x5d), the century (0x32), the equipment byte and the standard checksum (0x2e-0x2f).

import type { IoSize, PortDevice } from '../machine/bus.js';
import { NS_PER_SEC, type Clock, type TimerDevice } from '../machine/clock.js';
import type { IrqLine } from '../machine/irq.js';

export const RTC_PORT = 0x70;
export const RTC_PORTS = 2;

export const REG_SEC = 0x00;
export const REG_SEC_ALARM = 0x01;
export const REG_MIN = 0x02;
export const REG_MIN_ALARM = 0x03;
export const REG_HOUR = 0x04;
export const REG_HOUR_ALARM = 0x05;
export const REG_WEEKDAY = 0x06;
export const REG_DAY = 0x07;
export const REG_MONTH = 0x08;
export const REG_YEAR = 0x09;
export const REG_A = 0x0a;
export const REG_B = 0x0b;
export const REG_C = 0x0c;
export const REG_D = 0x0d;
export const REG_CENTURY = 0x32;

export const A_UIP = 0x80;
export const B_SET = 0x80;
export const B_PIE = 0x40;
export const B_AIE = 0x20;
export const B_UIE = 0x10;
export const B_DM_BINARY = 0x04;
export const B_24H = 0x02;
export const C_IRQF = 0x80;
export const C_PF = 0x40;
export const C_AF = 0x20;
export const C_UF = 0x10;
export const D_VRT = 0x80;

/** UIP is set this long before each update. */
const UIP_NS = 244_000;

export interface RtcOptions {
  /** Guest RAM size in bytes (for the CMOS memory-size bytes). */
  ramSize: number;
  /** Wall-clock time at virtual time 0, in ms since the epoch (default: Date.now() at construction). */
  baseTime?: number;
}

const bcd = (v: number): number => ((Math.floor(v / 10) % 10) << 4) | (v % 10);
const unbcd = (v: number): number => (v >> 4) * 10 + (v & 15);

export class RtcCmos implements PortDevice, TimerDevice {
  readonly cmos = new Uint8Array(128);
  private index = 0;
  /** Port 0x70 bit 7. */
  nmiDisabled = true;
  /** Wall-clock seconds (UTC) at virtual time `epochNs`. */
  private baseSec: number;
  private epochNs: number;
  /** Last second (since the epoch) whose update was processed, and the last periodic interrupt index. */
  private lastUpdateSec: number;
  private lastPeriodic = 0;

  constructor(private readonly clock: Clock, private readonly irq: IrqLine, private readonly options: RtcOptions) {
    const ms = options.baseTime ?? Date.now();
    this.epochNs = clock.now() - (ms % 1000) * 1_000_000;
    this.baseSec = Math.floor(ms / 1000);
    this.lastUpdateSec = this.baseSec;
    this.reset();
  }

  reset(): void {
    const c = this.cmos;
    const keepTime = c.slice(0, 10);
    c.fill(0);
    c.set(keepTime);
    c[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    c[REG_B] = B_24H;
    c[REG_C] = 0;
    c[REG_D] = D_VRT;
    const ram = this.options.ramSize;
    const kib = (n: number): number => Math.min(0xffff, Math.max(0, Math.floor(n / 1024)));
    c[0x10] = 0; // no floppy drives
    c[0x14] = 0x06; // equipment: FPU present, 80x25 colour display (like SeaBIOS/QEMU)
    const base = Math.min(640, kib(ram));
    c[0x15] = base & 0xff;
    c[0x16] = base >> 8;
    const ext = kib(Math.min(ram, 0x400_0000) - 0x10_0000); // 1 MiB..64 MiB in KiB
    c[0x17] = c[0x30] = ext & 0xff;
    c[0x18] = c[0x31] = ext >> 8;
    const above16 = Math.min(0xffff, Math.max(0, Math.floor((Math.min(ram, 0x1_0000_0000) - 0x100_0000) / 0x10000)));
    c[0x34] = above16 & 0xff;
    c[0x35] = above16 >> 8;
    const above4g = Math.max(0, Math.floor((ram - 0x1_0000_0000) / 0x10000));
    c[0x5b] = above4g & 0xff;
    c[0x5c] = (above4g >> 8) & 0xff;
    c[0x5d] = (above4g >> 16) & 0xff;
    c[0x5f] = 0; // CPUs - 1
    this.updateChecksum();
    this.irq.lower();
    this.lastPeriodic = this.periodicIndex(this.clock.now());
  }

  private updateChecksum(): void {
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += this.cmos[i]!;
    this.cmos[0x2e] = sum >> 8;
    this.cmos[0x2f] = sum & 0xff;
  }

  /** Wall-clock seconds now. */
  private seconds(now: number): number {
    return this.baseSec + Math.floor((now - this.epochNs) / NS_PER_SEC);
  }

  private encode(v: number): number {
    return this.cmos[REG_B]! & B_DM_BINARY ? v : bcd(v);
  }

  private decode(v: number): number {
    return this.cmos[REG_B]! & B_DM_BINARY ? v : unbcd(v);
  }

  private encodeHour(h: number): number {
    if (this.cmos[REG_B]! & B_24H) return this.encode(h);
    const pm = h >= 12;
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.encode(h12) | (pm ? 0x80 : 0);
  }

  private decodeHour(v: number): number {
    if (this.cmos[REG_B]! & B_24H) return this.decode(v);
    const h12 = this.decode(v & 0x7f) % 12;
    return v & 0x80 ? h12 + 12 : h12;
  }

  /** Fills registers 0-9 and the century from the clock. */
  private latchTime(now: number): void {
    if (this.cmos[REG_B]! & B_SET) return;
    const d = new Date(this.seconds(now) * 1000);
    const c = this.cmos;
    c[REG_SEC] = this.encode(d.getUTCSeconds());
    c[REG_MIN] = this.encode(d.getUTCMinutes());
    c[REG_HOUR] = this.encodeHour(d.getUTCHours());
    c[REG_WEEKDAY] = this.encode(d.getUTCDay() + 1);
    c[REG_DAY] = this.encode(d.getUTCDate());
    c[REG_MONTH] = this.encode(d.getUTCMonth() + 1);
    c[REG_YEAR] = this.encode(d.getUTCFullYear() % 100);
    c[REG_CENTURY] = this.encode(Math.floor(d.getUTCFullYear() / 100));
  }

  /** The guest finished setting the time (SET cleared): the registers become the new base. */
  private takeTime(now: number): void {
    const c = this.cmos;
    const year = this.decode(c[REG_CENTURY]!) * 100 + this.decode(c[REG_YEAR]!);
    const ms = Date.UTC(year, this.decode(c[REG_MONTH]!) - 1, this.decode(c[REG_DAY]!), this.decodeHour(c[REG_HOUR]!),
      this.decode(c[REG_MIN]!), this.decode(c[REG_SEC]!));
    if (Number.isNaN(ms)) return;
    this.baseSec = Math.floor(ms / 1000);
    this.epochNs = now;
    this.lastUpdateSec = this.baseSec;
  }

  /** Periodic interrupt period in ns, or 0 when RS = 0. */
  periodNs(): number {
    const rs = this.cmos[REG_A]! & 15;
    if (rs === 0) return 0;
    const shift = rs < 3 ? rs + 6 : rs - 1; // RS 1, 2 alias 8 and 9
    return ((1 << shift) * NS_PER_SEC) / 32768;
  }

  private periodicIndex(now: number): number {
    const p = this.periodNs();
    return p ? Math.floor(now / p) : 0;
  }

  private setFlags(flags: number): void {
    const c = this.cmos;
    c[REG_C]! |= flags;
    const enabled = c[REG_C]! & (c[REG_B]! & (B_PIE | B_AIE | B_UIE));
    if (enabled && !(c[REG_C]! & C_IRQF)) {
      c[REG_C]! |= C_IRQF;
      this.irq.raise();
    }
  }

  private alarmMatches(now: number): boolean {
    const d = new Date(this.seconds(now) * 1000);
    const c = this.cmos;
    const match = (reg: number, v: number, hour = false): boolean =>
      (c[reg]! & 0xc0) === 0xc0 || (hour ? this.decodeHour(c[reg]!) : this.decode(c[reg]!)) === v;
    return match(REG_SEC_ALARM, d.getUTCSeconds()) && match(REG_MIN_ALARM, d.getUTCMinutes()) && match(REG_HOUR_ALARM, d.getUTCHours(), true);
  }

  poll(now: number): number {
    const c = this.cmos;
    let flags = 0;
    const p = this.periodNs();
    if (p) {
      const idx = Math.floor(now / p);
      if (idx > this.lastPeriodic) {
        this.lastPeriodic = idx;
        flags |= C_PF;
      }
    }
    if (!(c[REG_B]! & B_SET)) {
      const sec = this.seconds(now);
      if (sec > this.lastUpdateSec) {
        this.lastUpdateSec = sec;
        flags |= C_UF;
        if (this.alarmMatches(now)) flags |= C_AF;
      }
    }
    if (flags) this.setFlags(flags);
    let next = Infinity;
    const b = c[REG_B]!;
    if (p && b & B_PIE) next = (this.lastPeriodic + 1) * p;
    if (b & (B_UIE | B_AIE) && !(b & B_SET)) next = Math.min(next, this.epochNs + (this.lastUpdateSec + 1 - this.baseSec) * NS_PER_SEC);
    return Math.ceil(next);
  }

  ioRead(offset: number, _size: IoSize): number {
    if (offset === 0) return 0xff; // the index register is write-only
    return this.readReg(this.index);
  }

  ioWrite(offset: number, _size: IoSize, value: number): void {
    if (offset === 0) {
      this.index = value & 0x7f;
      this.nmiDisabled = (value & 0x80) !== 0;
    } else {
      this.writeReg(this.index, value & 0xff);
    }
  }

  readReg(reg: number): number {
    const now = this.clock.now();
    const c = this.cmos;
    switch (reg) {
      case REG_A: {
        const inSecond = (((now - this.epochNs) % NS_PER_SEC) + NS_PER_SEC) % NS_PER_SEC;
        const uip = !(c[REG_B]! & B_SET) && inSecond >= NS_PER_SEC - UIP_NS;
        return (c[REG_A]! & 0x7f) | (uip ? A_UIP : 0);
      }
      case REG_C: {
        this.poll(now);
        const v = c[REG_C]!;
        c[REG_C] = 0;
        this.irq.lower();
        return v;
      }
      default:
        if (reg <= REG_YEAR || reg === REG_CENTURY) this.latchTime(now);
        return c[reg]!;
    }
  }

  writeReg(reg: number, v: number): void {
    const now = this.clock.now();
    const c = this.cmos;
    switch (reg) {
      case REG_A: {
        const old = c[REG_A]!;
        c[REG_A] = v & 0x7f;
        if ((old ^ v) & 15) this.lastPeriodic = this.periodicIndex(now);
        break;
      }
      case REG_B: {
        const old = c[REG_B]!;
        if (v & B_SET && !(old & B_SET)) this.latchTime(now);
        if (v & B_SET) v &= ~B_UIE;
        c[REG_B] = v;
        if (old & B_SET && !(v & B_SET)) this.takeTime(now);
        if (v & B_PIE && !(old & B_PIE)) this.lastPeriodic = this.periodicIndex(now);
        // enabling an interrupt whose flag is already set raises IRQ 8
        this.setFlags(0);
        break;
      }
      case REG_C:
      case REG_D:
        break; // read-only
      default:
        c[reg] = v;
        if (reg >= 0x10 && reg <= 0x2d) this.updateChecksum();
    }
  }
}
