// The board's vCPU behind the accelerator interface, movable between backends while the guest runs, and the run
// loop `kemu run` uses for every backend.
//
// Moving a guest (switchBackend): the architectural state leaves the old vCPU as a CpuState (src/cpu/state.ts) and
// is set on the new one; guest RAM is the same WebAssembly.Memory for both, so nothing is copied. A vCPU is created
// once per accelerator and reused when the guest comes back (KVM cannot create vCPU 0 of a VM twice). The state
// carries the x87/SSE registers, XCR0, the STI/MOV SS interrupt shadow and NMI state. What does not carry over:
// - interrupts queued with injectInterrupt() and not yet taken (the board's controllers keep theirs: they are
//   acknowledged only when a vCPU delivers);
// - the TSC: a KVM vCPU's state has none, and KVM (kvm_pvm here) does not take the software CPU's value, so each
//   backend keeps its own counter.
// The software CPU's translations are dropped when the guest comes back to it (the other backend may have rewritten
// code); its TLB is flushed by setState.
//
// Switch points ("exits") are counted per backend: under kvm every return from KVM_RUN (port I/O, MMIO, HLT, an
// interrupt window, the end of a 20 ms time slice); under tcg every port I/O or MMIO access of the guest (what would
// be an exit under KVM), and the switch happens at the end of the translated block that made the Nth access.
import { AccelError, type Accelerator, type AccelName, type IoHandler, type Vcpu, type VcpuExit } from '../accel/accelerator.ts';
import { TcgVcpu } from '../accel/tcg.ts';
import type { CpuState } from '../cpu/state.ts';
import type { Board } from './board.ts';
import type { IoSize } from './bus.ts';

/** The guest's single vCPU on the board, on whichever accelerator it runs now. */
export class GuestVcpu {
  accel: Accelerator;
  vcpu: Vcpu;
  /** Port I/O and MMIO accesses the guest made so far, on all backends. */
  ioAccesses = 0;
  /** When ioAccesses reaches this, the running vCPU is asked to stop (a tcg switch point). */
  stopAtIo = Number.POSITIVE_INFINITY;
  readonly io: IoHandler;
  private readonly vcpus = new Map<Accelerator, Vcpu>();

  /** `onVcpu` sees every vCPU when it is created (e.g. to install trace hooks on a software CPU). */
  constructor(readonly board: Board, accel: Accelerator, private readonly onVcpu?: (v: Vcpu, a: Accelerator) => void) {
    this.io = boardIo(board, () => this.vcpu, () => {
      if (++this.ioAccesses >= this.stopAtIo) this.vcpu.requestStop();
    });
    this.accel = accel;
    this.vcpu = this.vcpuOf(accel);
    // Interrupts from the board's controllers go to whichever vCPU runs the guest now.
    board.onInterruptChange = () => this.vcpu.interruptsChanged();
    board.onNmi = () => this.vcpu.injectNmi();
  }

  get name(): AccelName {
    return this.accel.name;
  }

  /** The accelerator's vCPU, created on first use. */
  vcpuOf(accel: Accelerator): Vcpu {
    let v = this.vcpus.get(accel);
    if (!v) {
      v = accel.createVcpu(this.io);
      v.connectInterrupts({ pending: () => this.board.pendingVector(), ack: () => this.board.ackInterrupt() });
      this.vcpus.set(accel, v);
      this.onVcpu?.(v, accel);
    }
    return v;
  }

  /** Exits so far on the current backend, in the unit switch points are counted in (see the header). */
  get exits(): number {
    return this.accel.name === 'kvm' ? this.vcpu.exits : this.ioAccesses;
  }

  /** Closes every accelerator the guest ran on (not those only planned: their owner closes them). */
  close(): void {
    for (const a of this.vcpus.keys()) a.close();
    this.vcpus.clear();
  }
}

/** The board's buses as a backend's IoHandler; a device's exit or reset request stops the running vCPU. */
export function boardIo(board: Board, current: () => Vcpu | undefined, onAccess?: () => void): IoHandler {
  const after = (): void => {
    onAccess?.();
    if (board.stopRequest) current()?.requestStop();
  };
  return {
    ioRead: (port, size) => {
      const v = board.io.read(port, size as IoSize);
      after();
      return v;
    },
    ioWrite: (port, size, value) => {
      board.io.write(port, size as IoSize, value);
      after();
    },
    mmioRead: (addr, size) => {
      const v = board.mmio.read(addr, size as IoSize);
      after();
      return v;
    },
    mmioWrite: (addr, size, value) => {
      board.mmio.write(addr, size as IoSize, value);
      after();
    },
  };
}

/** Sets `state` on a vCPU that may have run this guest before: a software CPU forgets its translations first. */
export function adoptState(to: Vcpu, state: CpuState): void {
  if (to instanceof TcgVcpu) to.cpu.flushTranslations();
  to.setState(state);
}

/**
 * Moves the running guest to `to`: the state of the current vCPU (stopped between instructions: after run()
 * returned) goes to `to`'s vCPU, which becomes the current one. Returns it.
 */
export function switchBackend(guest: GuestVcpu, to: Accelerator): Vcpu {
  if (to === guest.accel) return guest.vcpu;
  const state = guest.vcpu.getState();
  const next = guest.vcpuOf(to);
  adoptState(next, state);
  guest.accel = to;
  guest.vcpu = next;
  next.interruptsChanged();
  return next;
}

/** Runs one instruction of the guest on `tcg` (a software-CPU accelerator) and moves it back to where it was. */
export function emulateOne(guest: GuestVcpu, tcg: Accelerator): VcpuExit {
  const back = guest.accel;
  const v = switchBackend(guest, tcg);
  if (!(v instanceof TcgVcpu)) throw new AccelError('the emulation fallback needs a software-CPU accelerator');
  const e = v.step();
  switchBackend(guest, back);
  return e;
}

export type GuestOutcome =
  | { kind: 'exit'; status: number }
  | { kind: 'reset' }
  /** HLT with interrupts disabled, or (`idle`) enabled but with no timer armed and no input to wait for. */
  | { kind: 'halt'; rip: bigint; idle?: true }
  | { kind: 'shutdown'; rip: bigint }
  | { kind: 'budget'; rip: bigint }
  | { kind: 'error'; message: string };

export interface SwitchPoint {
  /** Exits (see the header) on the backend running before this switch, counted from when it took over. */
  afterExits: number;
  to: Accelerator;
}

export interface RunBoardOptions {
  /** Software-CPU instructions allowed in all (tcg phases only); then the outcome is 'budget'. */
  maxInsns?: number;
  /** Backend switches, in order. */
  switches?: readonly SwitchPoint[];
  /** Instructions per tcg run() slice (default: adapted so that a slice takes about 20 ms). */
  tcgSlice?: number;
  /** Called after a switch. */
  onSwitch?: (from: AccelName, to: AccelName, atExits: number) => void;
  /**
   * A software-CPU accelerator over the same RAM that runs, one at a time, the instructions KVM reports it cannot
   * emulate (KVM_EXIT_INTERNAL_ERROR, emulation failure), after which the guest goes back to KVM. Without it such an
   * exit ends the run with an error.
   */
  emulationFallback?: Accelerator;
  /** Called each time the fallback ran an instruction for KVM, with its RIP. */
  onFallback?: (rip: bigint, message: string) => void;
  /** Awaited between run() slices (default: one turn of the event loop, so stdin and timers get serviced). */
  pause?: () => Promise<void>;
  /**
   * An idle vCPU (HLT with interrupts enabled) with no timer armed and nothing pending ends the run as 'halt',
   * unless this says host input may still come (an open console) and the run should wait for it.
   */
  waitForInput?: () => boolean;
}

/** Waits for host time `deadline` (ns of `clock`) or at most `maxMs`, letting the event loop run meanwhile. */
async function idleUntil(clock: Board['clock'], deadline: number, maxMs: number): Promise<void> {
  if (clock.instructionsUntil) {
    // virtual time: jump to the deadline at once (nothing happens in between), but still serve host input
    if (Number.isFinite(deadline)) clock.waitUntil(deadline);
    else await new Promise((r) => setTimeout(r, maxMs));
    await nextTurn();
    return;
  }
  const ms = (deadline - clock.now()) / 1e6;
  if (ms >= 1) await new Promise((r) => setTimeout(r, Math.min(ms, maxMs)));
  else if (ms > 0) clock.waitUntil(deadline);
  await nextTurn();
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs the guest until it exits or resets through a device, halts for good, shuts down, or fails. */
export async function runBoard(guest: GuestVcpu, opts: RunBoardOptions = {}): Promise<GuestOutcome> {
  const board = guest.board;
  const switches = opts.switches ?? [];
  let slice = opts.tcgSlice ?? 100_000;
  const pause = opts.pause ?? nextTurn;
  let insnsLeft = opts.maxInsns ?? Number.POSITIVE_INFINITY;
  let next = 0;
  let phaseStart = guest.exits;
  const rip = (): bigint => guest.vcpu.getState().rip;
  const clock = board.clock;
  /** Software-CPU instructions per ns of clock time, measured (sizes slices so timers fire near their deadline). */
  let rate = 0.05;
  let lastPause = performance.now();
  try {
    for (;;) {
      const deadline = board.pollTimers();
      const sw = switches[next];
      const tcg = guest.vcpu instanceof TcgVcpu ? guest.vcpu : undefined;
      let e: VcpuExit;
      if (sw && guest.exits - phaseStart >= sw.afterExits) {
        e = { kind: 'stopped' };
      } else if (tcg) {
        guest.stopAtIo = sw ? phaseStart + sw.afterExits : Number.POSITIVE_INFINITY;
        const before = tcg.cpu.icount;
        const t0 = performance.now();
        const c0 = clock.now();
        // up to the next timer deadline: exactly under an instruction-count clock, estimated under the host clock
        let budget = Math.min(slice, insnsLeft);
        if (Number.isFinite(deadline)) {
          const until = clock.instructionsUntil?.(deadline) ?? Math.max(1000, Math.ceil((deadline - c0) * rate));
          budget = Math.min(budget, until);
        }
        e = tcg.run(budget);
        const ran = tcg.cpu.icount - before;
        insnsLeft -= ran;
        const dt = clock.now() - c0;
        if (ran > 10_000 && dt > 0 && !clock.instructionsUntil) rate = ran / dt;
        if (opts.tcgSlice === undefined && e.kind === 'budget' && budget === Math.min(slice, insnsLeft + ran)) {
          // about 20 ms per slice, so stdin, signals and timers are serviced promptly whatever the guest does
          const ms = performance.now() - t0;
          if (ms < 10) slice = Math.min(slice * 2, 50_000_000);
          else if (ms > 40) slice = Math.max(slice >> 1, 10_000);
        }
      } else {
        // KVM runs until an exit or the end of its time slice: end the slice at the next timer deadline
        const ms = Number.isFinite(deadline) ? (deadline - clock.now()) / 1e6 : undefined;
        e = guest.vcpu.run(sw ? sw.afterExits - (guest.exits - phaseStart) : undefined, ms);
        if (e.kind === 'error' && e.emulation && opts.emulationFallback) {
          opts.onFallback?.(rip(), e.message);
          e = emulateOne(guest, opts.emulationFallback);
          if (e.kind === 'budget') continue;
        }
      }
      const req = board.stopRequest;
      if (req) return req.kind === 'exit' ? { kind: 'exit', status: req.status } : { kind: 'reset' };
      if ((e.kind === 'budget' || e.kind === 'stopped') && sw && guest.exits - phaseStart >= sw.afterExits) {
        const from = guest.name;
        const at = guest.exits - phaseStart;
        guest.stopAtIo = Number.POSITIVE_INFINITY;
        try {
          switchBackend(guest, sw.to);
        } catch (err) {
          // e.g. a state KVM refuses: the guest stays where it was, stopped
          if (!(err instanceof AccelError)) throw err;
          return { kind: 'error', message: `cannot switch from ${from} to ${sw.to.name}: ${err.message}` };
        }
        next++;
        phaseStart = guest.exits;
        opts.onSwitch?.(from, guest.name, at);
        continue;
      }
      switch (e.kind) {
        case 'budget':
          if (tcg && insnsLeft <= 0) return { kind: 'budget', rip: rip() };
          // the event loop gets a turn about every 20 ms (stdin, signals), not after every short timer slice
          if (performance.now() - lastPause >= 20) {
            await pause();
            lastPause = performance.now();
          }
          break;
        case 'stopped':
          await pause();
          lastPause = performance.now();
          break;
        case 'idle': {
          // HLT with interrupts enabled: wait for the next timer (or host input), then run again
          if (board.pendingVector() >= 0) break;
          const next = board.pollTimers();
          if (board.pendingVector() >= 0) break;
          if (!Number.isFinite(next) && !opts.waitForInput?.()) return { kind: 'halt', rip: rip(), idle: true };
          await idleUntil(clock, next, 10);
          lastPause = performance.now();
          break;
        }
        case 'halt':
          return { kind: 'halt', rip: rip() };
        case 'shutdown':
          return { kind: 'shutdown', rip: rip() };
        case 'debug':
          return { kind: 'error', message: `unexpected debug exit at rip 0x${rip().toString(16)}` };
        case 'error':
          return { kind: 'error', message: e.message };
      }
    }
  } finally {
    guest.stopAtIo = Number.POSITIVE_INFINITY;
  }
}
