// A whole machine: the board (RAM, buses, devices) driven by the software CPU (with the JIT unless `jit` or
// KEMU_JIT says off).
import { Board, type BoardOptions } from './board.ts';
import { CPU_EXTRA_BYTES, Cpu, Stop } from '../cpu/cpu.ts';
import { applyJit, jitModeFromEnv, type JitMode } from './jit-mode.ts';
import type { LoadOptions, LoadResult } from './loader/index.ts';

export type RunResult =
  | { kind: 'exit'; status: number }
  | { kind: 'reset' }
  | { kind: 'halt'; rip: bigint }
  | { kind: 'shutdown'; rip: bigint }
  | { kind: 'budget'; rip: bigint };

export interface MachineOptions extends Omit<BoardOptions, 'cpuReserve'> {
  /** The WebAssembly JIT: off, on (compile hot blocks) or force (every block); default KEMU_JIT, else on. */
  jit?: JitMode;
}

export class Machine {
  readonly board: Board;
  readonly cpu: Cpu;

  constructor(options: MachineOptions) {
    // Device-requested exits and resets stop the CPU at its next block boundary.
    this.board = new Board({
      ...options,
      cpuReserve: CPU_EXTRA_BYTES,
      onExit: (s) => {
        this.cpu.requestStop();
        options.onExit?.(s);
      },
      onReset: () => {
        this.cpu.requestStop();
        options.onReset?.();
      },
    });
    const { io, mmio } = this.board;
    this.cpu = new Cpu(this.board.memory, {
      ioRead: (port, size) => io.read(port, size as 1 | 2 | 4),
      ioWrite: (port, size, value) => io.write(port, size as 1 | 2 | 4, value),
      mmioRead: (addr, size) => mmio.read(addr, size as 1 | 2 | 4),
      mmioWrite: (addr, size, value) => mmio.write(addr, size as 1 | 2 | 4, value),
    });
    applyJit(this.cpu, options.jit ?? jitModeFromEnv());
  }

  /** Loads a kernel and puts the CPU in the state its boot protocol defines. */
  load(image: Uint8Array, opts?: LoadOptions): LoadResult {
    const r = this.board.loadKernel(image, opts);
    this.cpu.setState(r.state);
    return r;
  }

  /** Runs until the guest exits, resets, halts for good, triple-faults, or `maxInsns` retire. */
  run(maxInsns = Number.MAX_SAFE_INTEGER): RunResult {
    const cpu = this.cpu;
    let left = maxInsns;
    for (;;) {
      const before = cpu.icount;
      const stop = cpu.run(Math.min(left, 1_000_000));
      left -= cpu.icount - before;
      const req = this.board.stopRequest;
      if (req) return req.kind === 'exit' ? { kind: 'exit', status: req.status } : { kind: 'reset' };
      switch (stop) {
        case Stop.Shutdown: return { kind: 'shutdown', rip: cpu.rip };
        case Stop.Halt: return { kind: 'halt', rip: cpu.rip };
        case Stop.Idle: return { kind: 'halt', rip: cpu.rip }; // no interrupt sources are wired yet
        case Stop.Budget: if (left <= 0) return { kind: 'budget', rip: cpu.rip }; break;
        case Stop.Requested: break;
      }
    }
  }
}
