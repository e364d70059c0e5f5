// The accelerator contract: how the board drives a CPU backend. The software CPU (tcg) and KVM both implement it;
// devices and loaders never know which one runs. Port I/O and MMIO are dispatched by the backend to the board's
// buses (the same objects for both backends); run() returns to the board only for the exits it must act on.
import type { CpuState } from '../cpu/state.ts';

export type AccelName = 'tcg' | 'kvm';

/** Where a backend sends guest port I/O and MMIO. */
export interface IoHandler {
  ioRead(port: number, size: number): number;
  ioWrite(port: number, size: number, value: number): void;
  mmioRead(addr: number, size: number): number;
  mmioWrite(addr: number, size: number, value: number): void;
}

export type VcpuExit =
  /** HLT with interrupts disabled: nothing will wake the vCPU. */
  | { kind: 'halt' }
  /** HLT with interrupts enabled: waiting for an interrupt (the board may inject one and run again). */
  | { kind: 'idle' }
  /** Triple fault / shutdown. */
  | { kind: 'shutdown' }
  /** requestStop() was called (a device asked to exit or reset, a signal, a timer, a switch point). */
  | { kind: 'stopped' }
  /** The budget given to run() is used up (instructions for tcg, exits for kvm). */
  | { kind: 'budget' }
  /** A single-step or breakpoint debug exit. */
  | { kind: 'debug' }
  /**
   * The backend cannot continue (e.g. KVM_EXIT_INTERNAL_ERROR, a failed entry); the message says why. `emulation`:
   * KVM could not emulate the instruction at RIP (state intact, nothing of it done): another backend can run it.
   */
  | { kind: 'error'; message: string; emulation?: true };

/**
 * The board's interrupt controllers as the vCPU sees them (src/machine/interrupts.ts): the vector it would take
 * now if RFLAGS.IF allows (or -1), and the acknowledge cycle that takes it (returns the vector to deliver, -1 if
 * it went away). A backend acknowledges only at the moment it delivers.
 */
export interface InterruptSource {
  pending(): number;
  ack(): number;
}

export interface Vcpu {
  /**
   * Runs until an exit; `budget` bounds the work (see VcpuExit budget). `maxMs` bounds the host time a backend that
   * runs the guest without counting instructions (kvm) stays in it, so the board's next timer deadline is met; tcg's
   * budget does that job and it ignores `maxMs`.
   */
  run(budget?: number, maxMs?: number): VcpuExit;
  getState(): CpuState;
  setState(state: CpuState): void;
  /** Queues an external interrupt; it is delivered when the guest can take it. */
  injectInterrupt(vector: number): void;
  /** Takes external interrupts from the board's controllers from now on. */
  connectInterrupts(source: InterruptSource): void;
  /** The source's pending() may have changed (called by the board, possibly while run() is in progress). */
  interruptsChanged(): void;
  /** A non-maskable interrupt. */
  injectNmi(): void;
  /** Makes a run() in progress (or the next one) return { kind: 'stopped' } as soon as possible. */
  requestStop(): void;
  /**
   * Exits (or instructions, for tcg) so far. `kemu run --after-exits` counts KVM exits under kvm, and the guest's
   * port I/O and MMIO accesses under tcg (src/machine/switch.ts).
   */
  readonly exits: number;
}

export interface Accelerator {
  readonly name: AccelName;
  /** Creates the (single, for now) vCPU over the board's guest memory, with I/O going to `io`. */
  createVcpu(io: IoHandler): Vcpu;
  /** Releases host resources (file descriptors, mappings). */
  close(): void;
}

export class AccelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccelError';
  }
}
