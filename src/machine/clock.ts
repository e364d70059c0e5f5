// Virtual time for the timer devices. Every timer (PIT, RTC, LAPIC timer, HPET, ACPI PM timer) reads one Clock in
// nanoseconds; none owns a host timer. The board fires due timers when the run loop calls Board.pollTimers()
// between CPU run slices, and the loop sizes its slices by the earliest deadline.
//
// HostClock follows the host's monotonic clock. InsnClock is deterministic: time is the guest's retired
// instruction count times a fixed cost, plus whatever an idle CPU skipped (waitUntil jumps ahead instead of
// sleeping). ManualClock is set by hand (device tests).

export interface Clock {
  /** Nanoseconds since the clock started; never goes backwards. */
  now(): number;
  /** Blocks (host) or jumps (virtual) until now() >= deadline: for an idle CPU with nothing pending. */
  waitUntil(deadline: number): void;
  /** For an instruction-driven clock: instructions that must retire before `deadline`; undefined for others. */
  instructionsUntil?(deadline: number): number;
}

export const NS_PER_SEC = 1_000_000_000;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

export class HostClock implements Clock {
  private readonly start = process.hrtime.bigint();
  private last = 0;

  now(): number {
    const t = Number(process.hrtime.bigint() - this.start);
    if (t > this.last) this.last = t;
    return this.last;
  }

  waitUntil(deadline: number): void {
    if (!Number.isFinite(deadline)) return; // nothing scheduled: the caller decides how to idle
    for (;;) {
      const left = deadline - this.now();
      if (left <= 0) return;
      // Atomics.wait on a cell nobody notifies: a synchronous sleep (allowed on Node's main thread).
      if (left >= 1_000_000) Atomics.wait(sleepCell, 0, 0, Math.floor(left / 1_000_000));
      else if (left > 50_000) Atomics.wait(sleepCell, 0, 0, 0.05);
      // below ~50 us: spin
    }
  }
}

/** Deterministic time from an instruction counter (e.g. `() => cpu.icount`). */
export class InsnClock implements Clock {
  private skipped = 0;
  private last = 0;

  constructor(
    /** Retired instructions so far; settable because the CPU usually exists only after the board. */
    public counter: () => number = () => 0,
    readonly nsPerInsn = 1,
  ) {}

  now(): number {
    const t = this.counter() * this.nsPerInsn + this.skipped;
    if (t > this.last) this.last = t;
    return this.last;
  }

  waitUntil(deadline: number): void {
    const now = this.now();
    if (deadline > now && Number.isFinite(deadline)) {
      this.skipped += deadline - now;
      this.last = deadline;
    }
  }

  instructionsUntil(deadline: number): number {
    if (!Number.isFinite(deadline)) return Number.MAX_SAFE_INTEGER;
    return Math.max(1, Math.ceil((deadline - this.now()) / this.nsPerInsn));
  }
}

/** Time set by hand: tests drive devices with it. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  set(ns: number): void {
    if (ns > this.t) this.t = ns;
  }
  advance(ns: number): void {
    this.t += ns;
  }
  waitUntil(deadline: number): void {
    if (deadline > this.t && Number.isFinite(deadline)) this.t = deadline;
  }
}

/** floor(ns * hz / 1e9) without leaving the safe-integer range (hz < 2^32, ns < 2^53). */
export function nsToTicks(ns: number, hz: number): number {
  const sec = Math.floor(ns / NS_PER_SEC);
  const rem = ns - sec * NS_PER_SEC;
  return sec * hz + Math.floor((rem * hz) / NS_PER_SEC);
}

/** The first nanosecond at which nsToTicks(ns, hz) >= ticks. */
export function ticksToNs(ticks: number, hz: number): number {
  if (!Number.isFinite(ticks)) return Infinity;
  const q = Math.floor(ticks / hz);
  const r = ticks - q * hz;
  return q * NS_PER_SEC + Math.ceil((r * NS_PER_SEC) / hz);
}

/** A device with deadlines: the board polls these between run slices. */
export interface TimerDevice {
  /** Fires whatever is due at `now`; returns the next deadline in ns (Infinity: none). */
  poll(now: number): number;
}
