// The Intel 8254 programmable interval timer at ports 0x40-0x43, clocked at 1.193182 MHz, and port 0x61 (the
// system control port B: channel 2's gate, the speaker enable, the refresh toggle and channel 2's output).
//
// Channel 0 drives ISA IRQ 0, channel 1 is the (unused) refresh timer, channel 2 is gated by port 0x61 bit 0 and
// its output is read at port 0x61 bit 5: the pair Linux calibrates the TSC with. Modes 0-5; counts written and read
// as LSB, MSB or LSB-then-MSB; counter latch and read-back commands; BCD counting. Counts are computed from the
// virtual clock when read; the IRQ 0 edges are produced when the board polls the timer (poll()).

import type { IoSize, PortDevice } from '../machine/bus.js';
import { nsToTicks, ticksToNs, type Clock, type TimerDevice } from '../machine/clock.js';
import type { IrqLine } from '../machine/irq.js';

export const PIT_PORT = 0x40;
export const PIT_PORTS = 4;
export const PORT_B = 0x61;
export const PIT_HZ = 1_193_182;

const RW_LATCH = 0;
const RW_LSB = 1;
const RW_MSB = 2;
const RW_WORD = 3;

const toBcd = (v: number): number => {
  let r = 0;
  for (let shift = 0; shift < 16; shift += 4, v = Math.floor(v / 10)) r |= (v % 10) << shift;
  return r;
};
const fromBcd = (v: number): number => ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);

class Channel {
  mode = 0;
  rw = RW_WORD;
  bcd = false;
  /** The count as loaded (1..65536, or 1..10000 in BCD). */
  count = 0x10000;
  loaded = false;
  /** The tick when counting (from `count`) began. */
  start = 0;
  /** Modes 0/4 with the gate low: elapsed ticks when counting paused. */
  paused: number | undefined;
  /** Modes 1/5: a gate rising edge started counting; modes 2/3: not stopped by a low gate. */
  triggered = false;
  gate = true;
  nullCount = true;
  /** LSB/MSB access: the next write is the MSB (and the pending LSB). */
  writeMsb = false;
  lsb = 0;
  readMsb = false;
  latched: number | undefined;
  latchedMsb = false;
  status: number | undefined;
  /** Index of the last output edge reported on the IRQ line. */
  firedEdge = 0;

  /** Ticks counted since the start, or -1 when not counting. */
  elapsed(tick: number): number {
    if (!this.loaded) return -1;
    if (this.paused !== undefined) return this.paused;
    if ((this.mode === 1 || this.mode === 5 || (this.mode & 3) === 2 || (this.mode & 3) === 3) && !this.triggered) return -1;
    return Math.max(0, tick - this.start);
  }

  modulus(): number {
    return this.bcd ? 10000 : 0x10000;
  }

  value(tick: number): number {
    const d = this.elapsed(tick);
    const n = this.count;
    if (d < 0) return n % this.modulus();
    const m = this.modulus();
    switch (this.mode) {
      case 2:
      case 6:
        return n - (d % n);
      case 3:
      case 7: {
        const v = (n - ((2 * d) % n)) & 0x1fffe;
        return v % m;
      }
      default: // 0, 1, 4, 5: count down and wrap
        return (((n - d) % m) + m) % m;
    }
  }

  out(tick: number): boolean {
    const d = this.elapsed(tick);
    const n = this.count;
    switch (this.mode) {
      case 0:
        return this.loaded && d >= n;
      case 1:
        return d < 0 || d >= n;
      case 2:
      case 6:
        return d < 0 || d % n !== n - 1;
      case 3:
      case 7:
        return d < 0 || d % n < Math.ceil(n / 2);
      default: // 4, 5: low for one tick at the terminal count
        return d !== n;
    }
  }

  /** The tick of output rising edge number k (k >= 1), or Infinity. */
  edgeTick(k: number): number {
    if (this.elapsed(this.start) < 0 || this.paused !== undefined) return Infinity;
    const n = this.count;
    switch (this.mode) {
      case 0:
      case 1:
        return k === 1 ? this.start + n : Infinity;
      case 4:
      case 5:
        return k === 1 ? this.start + n + 1 : Infinity;
      default: // periodic: the output rises at every reload
        return this.start + k * n;
    }
  }

  /** Rising edges seen by `tick`. */
  edgesBy(tick: number): number {
    const d = this.elapsed(tick);
    if (d < 0) return 0;
    const n = this.count;
    switch (this.mode) {
      case 0:
      case 1:
        return d >= n ? 1 : 0;
      case 4:
      case 5:
        return d >= n + 1 ? 1 : 0;
      default:
        return Math.floor(d / n);
    }
  }

  statusByte(tick: number): number {
    return (this.out(tick) ? 0x80 : 0) | (this.nullCount ? 0x40 : 0) | (this.rw << 4) | (this.mode << 1) | (this.bcd ? 1 : 0);
  }
}

export class Pit8254 implements PortDevice, TimerDevice {
  readonly channels = [new Channel(), new Channel(), new Channel()] as const;
  /** Port 0x61 bit 1: speaker data enable. */
  private speaker = false;

  /** Port 0x61. */
  readonly portB: PortDevice = {
    ioRead: (_o: number, _s: IoSize) => {
      const tick = this.tick();
      const ch2 = this.channels[2];
      // bit 4 toggles every 15.085 us (DRAM refresh request, channel 1 in old PCs)
      const refresh = Math.floor(this.clock.now() / 15085) & 1;
      return (ch2.gate ? 1 : 0) | (this.speaker ? 2 : 0) | (refresh << 4) | (ch2.out(tick) ? 0x20 : 0);
    },
    ioWrite: (_o: number, _s: IoSize, v: number) => {
      this.speaker = (v & 2) !== 0;
      this.setGate(2, (v & 1) !== 0);
    },
  };

  constructor(private readonly clock: Clock, private readonly irq0: IrqLine) {
    this.reset();
  }

  private tick(): number {
    return nsToTicks(this.clock.now(), PIT_HZ);
  }

  reset(): void {
    for (let i = 0; i < 3; i++) {
      const c = new Channel();
      c.gate = i !== 2;
      Object.assign(this.channels[i]!, c);
    }
    this.speaker = false;
    this.irq0.lower();
  }

  ioRead(offset: number, _size: IoSize): number {
    if (offset === 3) return 0xff; // the control register is write-only
    const c = this.channels[offset]!;
    if (c.status !== undefined) {
      const s = c.status;
      c.status = undefined;
      return s;
    }
    let v: number;
    let word: number;
    if (c.latched !== undefined) {
      word = c.latched;
      if (c.rw === RW_WORD && !c.latchedMsb) {
        c.latchedMsb = true;
        return word & 0xff;
      }
      c.latched = undefined;
      c.latchedMsb = false;
      return c.rw === RW_LSB ? word & 0xff : (word >> 8) & 0xff;
    }
    word = this.readValue(c);
    switch (c.rw) {
      case RW_LSB:
        v = word & 0xff;
        break;
      case RW_MSB:
        v = (word >> 8) & 0xff;
        break;
      default:
        v = c.readMsb ? (word >> 8) & 0xff : word & 0xff;
        c.readMsb = !c.readMsb;
        break;
    }
    return v;
  }

  private readValue(c: Channel): number {
    const v = c.value(this.tick());
    return c.bcd ? toBcd(v) : v & 0xffff;
  }

  ioWrite(offset: number, _size: IoSize, value: number): void {
    value &= 0xff;
    if (offset === 3) {
      this.control(value);
      return;
    }
    const c = this.channels[offset]!;
    switch (c.rw) {
      case RW_LSB:
        this.load(offset, c, value);
        break;
      case RW_MSB:
        this.load(offset, c, value << 8);
        break;
      default:
        if (!c.writeMsb) {
          c.lsb = value;
          c.writeMsb = true;
        } else {
          c.writeMsb = false;
          this.load(offset, c, c.lsb | (value << 8));
        }
    }
  }

  private control(v: number): void {
    const sel = v >> 6;
    const tick = this.tick();
    if (sel === 3) {
      // read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 1-3 select channels
      for (let i = 0; i < 3; i++) {
        if (!(v & (2 << i))) continue;
        const c = this.channels[i]!;
        if (!(v & 0x10) && c.status === undefined) c.status = c.statusByte(tick);
        if (!(v & 0x20) && c.latched === undefined) c.latched = this.readValue(c);
      }
      return;
    }
    const c = this.channels[sel]!;
    const rw = (v >> 4) & 3;
    if (rw === RW_LATCH) {
      if (c.latched === undefined) {
        c.latched = this.readValue(c);
        c.latchedMsb = false;
      }
      return;
    }
    c.rw = rw;
    c.mode = (v >> 1) & 7;
    if (c.mode > 5) c.mode -= 4; // 6 and 7 are aliases of 2 and 3
    c.bcd = (v & 1) !== 0;
    c.loaded = false;
    c.nullCount = true;
    c.writeMsb = c.readMsb = false;
    c.latched = undefined;
    c.status = undefined;
    c.paused = undefined;
    c.triggered = false;
    c.firedEdge = 0;
    // the IRQ 0 line carries only the output's rising edges as pulses (modes 1-5) or the terminal count level
    // (mode 0), so programming the channel never makes an edge of its own
    if (sel === 0) this.irq0.lower();
  }

  private load(index: number, c: Channel, raw: number): void {
    const tick = this.tick();
    let n = c.bcd ? fromBcd(raw) : raw;
    if (n === 0) n = c.modulus();
    c.count = n;
    c.nullCount = false;
    c.loaded = true;
    c.start = tick;
    c.firedEdge = 0;
    c.paused = undefined;
    // modes 1 and 5 wait for a gate edge; 2 and 3 count while the gate is high; 0 and 4 pause while it is low
    if (c.mode === 2 || c.mode === 3) c.triggered = c.gate;
    else if (c.mode === 0 || c.mode === 4) {
      c.triggered = true;
      if (!c.gate) c.paused = 0;
    }
    if (index === 0) this.irq0.lower();
  }

  /** Channel gate input (2: port 0x61 bit 0; channels 0 and 1 are tied high). */
  setGate(index: number, level: boolean): void {
    const c = this.channels[index]!;
    if (c.gate === level) return;
    const tick = this.tick();
    if (level) {
      if (c.mode === 0 || c.mode === 4) {
        if (c.paused !== undefined) {
          c.start = tick - c.paused;
          c.paused = undefined;
        }
      } else if (c.loaded) {
        // rising edge: modes 1 and 5 (re)trigger, 2 and 3 reload
        c.start = tick;
        c.triggered = true;
        c.firedEdge = 0;
      }
    } else if ((c.mode === 0 || c.mode === 4) && c.loaded && c.paused === undefined) {
      c.paused = Math.max(0, tick - c.start);
    } else if (c.mode === 2 || c.mode === 3) {
      c.triggered = false; // counting stops, the output goes high
    }
    c.gate = level;
  }

  /** The output of channel `index` now. */
  out(index: number): boolean {
    return this.channels[index]!.out(this.tick());
  }

  poll(now: number): number {
    const c = this.channels[0];
    const tick = nsToTicks(now, PIT_HZ);
    const edges = c.edgesBy(tick);
    if (edges > c.firedEdge) {
      c.firedEdge = edges;
      if (c.mode === 0 || c.mode === 1) this.irq0.raise();
      else this.irq0.pulse(); // one edge for however many periods passed (lost ticks are coalesced)
    }
    return ticksToNs(c.edgeTick(c.firedEdge + 1), PIT_HZ);
  }
}
