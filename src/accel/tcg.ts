// The software CPU behind the accelerator interface. A thin wrapper over Cpu: budgets are instructions, exits are
// retired instructions, and queued interrupts are delivered between run slices when RFLAGS.IF allows.
import { AccelError, type Accelerator, type InterruptSource, type IoHandler, type Vcpu, type VcpuExit } from './accelerator.ts';
import { CPU_EXTRA_BYTES, Cpu, Stop } from '../cpu/cpu.ts';
import type { CpuState } from '../cpu/state.ts';
import { deliverInterrupt } from '../cpu/system/deliver.ts';
import { GuestMemory } from '../machine/memory.ts';
import { warmUpInterpreter } from '../cpu/ir/warmup.ts';
import { warmUpDecoder } from '../decoder/warmup.ts';
import { applyJit, jitModeFromEnv, type JitMode } from '../machine/jit-mode.ts';
import type { Jit } from '../jit/compiler.ts';

/** While an interrupt waits for IF, the CPU runs in slices this long so it is taken soon after STI. */
const IRQ_POLL_INSNS = 64;

const EXITS: Record<Stop, VcpuExit> = {
  [Stop.Budget]: { kind: 'budget' },
  [Stop.Halt]: { kind: 'halt' },
  [Stop.Idle]: { kind: 'idle' },
  [Stop.Shutdown]: { kind: 'shutdown' },
  [Stop.Requested]: { kind: 'stopped' },
};

let warmed = false;

/**
 * Gives the decoder and the IR interpreter type feedback for all their paths (their warmup.ts), the interpreter on
 * a CPU of its own, once per process. A TcgVcpu does it when it is made; `kemu run` calls it first thing, so that
 * V8's optimizing compile of the interpreter (~0.4 s on a background thread here) overlaps loading the kernel rather
 * than the guest's first instructions, which until then run in V8's unoptimized tiers.
 */
export function warmUp(): void {
  if (warmed) return;
  warmed = true;
  warmUpDecoder();
  const mem = new GuestMemory(64 << 10, { extraBytes: CPU_EXTRA_BYTES });
  const none = { ioRead: () => 0xff, ioWrite: () => {}, mmioRead: () => 0xff, mmioWrite: () => {} };
  warmUpInterpreter(new Cpu(mem, none), 0x1000);
}

export class TcgVcpu implements Vcpu {
  readonly cpu: Cpu;
  private readonly irqQueue: number[] = [];
  private source: InterruptSource | undefined;
  private stopRequested = false;

  constructor(memory: GuestMemory, io: IoHandler, jit: JitMode = 'off', asyncCompile = false) {
    warmUp();
    this.cpu = new Cpu(memory, io);
    this.jitCompiler = applyJit(this.cpu, jit, asyncCompile);
  }

  private readonly jitCompiler: Jit | undefined;

  /** Stops the JIT's compile worker, if any. */
  close(): void {
    this.jitCompiler?.close();
  }

  get exits(): number {
    return this.cpu.icount;
  }

  run(budget = Number.POSITIVE_INFINITY): VcpuExit {
    const cpu = this.cpu;
    const end = cpu.icount + budget;
    for (;;) {
      if (this.stopRequested) {
        this.stopRequested = false;
        return EXITS[Stop.Requested];
      }
      this.deliverPending();
      const left = end - cpu.icount;
      if (left <= 0) return EXITS[Stop.Budget];
      const waiting = this.irqQueue.length !== 0;
      const stop = cpu.run(waiting ? Math.min(left, IRQ_POLL_INSNS) : left);
      if (stop === Stop.Requested) this.stopRequested = true;
      else if (stop === Stop.Budget) continue;
      else if (stop === Stop.Idle && this.irqQueue.length) continue;
      else return EXITS[stop];
    }
  }

  /** Runs one instruction (see Cpu.runOne). */
  step(): VcpuExit {
    this.deliverPending();
    return EXITS[this.cpu.runOne()];
  }

  private deliverPending(): void {
    const cpu = this.cpu;
    if (this.irqQueue.length === 0 || !(cpu.flags() & 0x200) || cpu.shutdown) return;
    cpu.halted = false;
    deliverInterrupt(cpu, this.irqQueue.shift()!);
  }

  getState(): CpuState {
    return this.cpu.getState();
  }

  setState(state: CpuState): void {
    this.cpu.setState(state);
  }

  injectInterrupt(vector: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new AccelError(`bad interrupt vector ${vector}`);
    this.irqQueue.push(vector);
  }

  connectInterrupts(source: InterruptSource): void {
    this.source = source;
    // The CPU keeps the pending vector in pendingIrq and acknowledges when it delivers (cpu.ts takeInterrupt).
    this.cpu.irqAck = () => {
      const v = source.ack();
      this.cpu.pendingIrq = source.pending();
      return v;
    };
    this.interruptsChanged();
  }

  interruptsChanged(): void {
    if (this.source) this.cpu.pendingIrq = this.source.pending();
  }

  injectNmi(): void {
    this.cpu.nmiPending = true;
  }

  requestStop(): void {
    this.stopRequested = true;
    this.cpu.requestStop();
  }
}

export interface TcgOptions {
  /** The WebAssembly JIT for the vCPU (default: KEMU_JIT from the environment, else 'on'). */
  jit?: JitMode;
  /** Compile on a worker thread (JitOptions.asyncCompile; default false). */
  asyncCompile?: boolean;
}

export class TcgAccelerator implements Accelerator {
  readonly name = 'tcg' as const;
  private vcpu: TcgVcpu | undefined;
  readonly jit: JitMode;
  private readonly asyncCompile: boolean;

  constructor(readonly memory: GuestMemory, options: TcgOptions = {}) {
    this.jit = options.jit ?? jitModeFromEnv();
    this.asyncCompile = options.asyncCompile ?? false;
    if (memory.extraSize < CPU_EXTRA_BYTES) {
      throw new AccelError(`the software CPU needs ${CPU_EXTRA_BYTES} bytes reserved after guest RAM`);
    }
  }

  createVcpu(io: IoHandler): TcgVcpu {
    if (this.vcpu) throw new AccelError('this accelerator has its vCPU already (one vCPU for now)');
    this.vcpu = new TcgVcpu(this.memory, io, this.jit, this.asyncCompile);
    return this.vcpu;
  }

  close(): void {
    this.vcpu?.close();
    this.vcpu = undefined;
  }
}
