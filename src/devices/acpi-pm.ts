// The ACPI fixed-hardware register blocks (not hardware-reduced), at ACPI_PM_PORT (0x600, as QEMU's ICH9):
//   +0 PM1a_EVT_BLK (4 bytes): PM1 status (TMR_STS, PWRBTN_STS, WAK_STS; write 1 to clear) and enable
//   +4 PM1a_CNT_BLK (2 bytes): SCI_EN (always 1: the FADT has no SMI command port, ACPI is always on), SLP_TYP,
//      SLP_EN — writing SLP_EN with SLP_TYP 5 (the DSDT's \_S5) powers the machine off
//   +8 PM_TMR_BLK (4 bytes): the 32-bit power-management timer at 3.579545 MHz
// The SCI (IRQ 9) is raised while an enabled status bit is set (the timer's bit-31 carry, the power button).

import type { IoSize, PortDevice } from '../machine/bus.js';
import { nsToTicks, ticksToNs, type Clock, type TimerDevice } from '../machine/clock.js';
import type { IrqLine } from '../machine/irq.js';

export const ACPI_PM_PORT = 0x600;
export const ACPI_PM_PORTS = 12;
export const PM1_EVT_OFFSET = 0;
export const PM1_CNT_OFFSET = 4;
export const PM_TMR_OFFSET = 8;
export const PM_TIMER_HZ = 3_579_545;
export const ACPI_SCI_IRQ = 9;
/** The SLP_TYP value the DSDT's \_S5 package names. */
export const SLP_TYP_S5 = 5;

export const PM1_TMR_STS = 0x0001;
export const PM1_PWRBTN_STS = 0x0100;
export const PM1_WAK_STS = 0x8000;
export const PM1_TMR_EN = 0x0001;
export const PM1_PWRBTN_EN = 0x0100;
export const PM1_SCI_EN = 0x0001;
export const PM1_SLP_EN = 0x2000;

export class AcpiPm implements PortDevice, TimerDevice {
  readonly ioMaxSize = 4;
  private sts = 0;
  private en = 0;
  private cnt = PM1_SCI_EN;
  /** Timer bit-31 carries already flagged. */
  private carries = 0;

  /** Called when the guest enters a sleep state (SLP_EN) with its SLP_TYP. */
  onSleep: (slpTyp: number) => void = () => {};

  constructor(private readonly clock: Clock, private readonly sci: IrqLine) {}

  reset(): void {
    this.sts = this.en = 0;
    this.cnt = PM1_SCI_EN;
    this.carries = Math.floor(this.timerTicks(this.clock.now()) / 0x8000_0000);
    this.updateSci();
  }

  private timerTicks(now: number): number {
    return nsToTicks(now, PM_TIMER_HZ);
  }

  /** PM_TMR now (32 bits). */
  timer(): number {
    return this.timerTicks(this.clock.now()) % 0x1_0000_0000;
  }

  /** The host pressed the power button. */
  powerButton(): void {
    this.sts |= PM1_PWRBTN_STS;
    this.updateSci();
  }

  private updateSci(): void {
    this.sci.set((this.sts & this.en & (PM1_TMR_STS | PM1_PWRBTN_STS)) !== 0);
  }

  poll(now: number): number {
    const c = Math.floor(this.timerTicks(now) / 0x8000_0000);
    if (c > this.carries) {
      this.carries = c;
      this.sts |= PM1_TMR_STS;
      this.updateSci();
    }
    return this.en & PM1_TMR_EN ? ticksToNs((this.carries + 1) * 0x8000_0000, PM_TIMER_HZ) : Infinity;
  }

  private readReg(offset: number): number {
    // registers as a byte array: status 0-1, enable 2-3, control 4-5, timer 8-11
    switch (offset) {
      case 0: return this.sts & 0xff;
      case 1: return this.sts >> 8;
      case 2: return this.en & 0xff;
      case 3: return this.en >> 8;
      case 4: return this.cnt & 0xff;
      case 5: return this.cnt >> 8;
      case 8: case 9: case 10: case 11: return (this.timer() >>> ((offset - 8) * 8)) & 0xff;
      default: return 0;
    }
  }

  ioRead(offset: number, size: IoSize): number {
    if (offset === PM_TMR_OFFSET && size === 4) return this.timer();
    if (offset === PM1_EVT_OFFSET && size === 4) return (this.sts | (this.en << 16)) >>> 0;
    let v = 0;
    for (let k = 0; k < size; k++) v += this.readReg(offset + k) * 2 ** (8 * k);
    return v;
  }

  ioWrite(offset: number, size: IoSize, value: number): void {
    for (let k = 0; k < size; k++) {
      const b = Math.floor(value / 2 ** (8 * k)) & 0xff;
      switch (offset + k) {
        case 0: this.sts &= ~b; break;
        case 1: this.sts &= ~(b << 8); break;
        case 2: this.en = (this.en & 0xff00) | b; break;
        case 3: this.en = (this.en & 0x00ff) | (b << 8); break;
        case 4: this.cnt = (this.cnt & 0xff00) | b | PM1_SCI_EN; break;
        case 5: this.cnt = (this.cnt & 0x00ff) | ((b << 8) & ~PM1_SLP_EN); break;
      }
    }
    this.updateSci();
    if (offset <= 5 && offset + size > 5 && Math.floor(value / 2 ** (8 * (5 - offset))) & (PM1_SLP_EN >> 8)) {
      this.onSleep((this.cnt >> 10) & 7);
    }
  }
}
