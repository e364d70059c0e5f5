// The PC board without its CPU: guest RAM, the port and MMIO buses, the ISA IRQ lines and the legacy devices,
// wired to the host through callbacks. A run loop (`kemu run`) drives it together with a CPU and stops when
// `stopRequest` is set.

import { DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS, DebugExit } from '../devices/debug-exit.js';
import { I8042, I8042_COMMAND_PORT, I8042_DATA_PORT } from '../devices/i8042.js';
import { POST_PORT, PostCode } from '../devices/post-code.js';
import { Uart16550, type OutputSink } from '../devices/uart16550.js';
import { MmioBus, PortBus } from './bus.js';
import { IrqLine } from './irq.js';
import { loadKernel, type LoadOptions, type LoadResult } from './loader/index.js';
import { GuestMemory } from './memory.js';

export const COM1_PORT = 0x3f8;
export const COM1_IRQ = 4;
export const ISA_IRQS = 16;

export type StopRequest = { kind: 'exit'; status: number } | { kind: 'reset' };

export interface BoardOptions {
  /** Guest RAM in bytes (a multiple of 64 KiB). */
  ramSize: number;
  /** Bytes reserved after RAM for the CPU's own state. */
  cpuReserve?: number;
  /** Where COM1 output goes; default: process.stdout. */
  output?: OutputSink;
  /** Called when the guest writes to isa-debug-exit, with the exit status (v << 1) | 1. */
  onExit?: (status: number) => void;
  /** Called when the guest requests a system reset. */
  onReset?: () => void;
}

const stdoutSink: OutputSink = (bytes) => {
  process.stdout.write(bytes);
};

export class Board {
  readonly memory: GuestMemory;
  readonly io = new PortBus();
  readonly mmio = new MmioBus();
  /** ISA IRQ lines 0-15, not yet connected to an interrupt controller. */
  readonly irqs: IrqLine[];
  readonly com1: Uart16550;
  readonly debugExit: DebugExit;
  readonly post = new PostCode();
  readonly i8042: I8042;
  /** Set when the guest asked to exit or reset; the run loop stops the CPU and handles it. */
  stopRequest: StopRequest | undefined;

  constructor(options: BoardOptions) {
    this.memory = new GuestMemory(options.ramSize, { extraBytes: options.cpuReserve ?? 0 });
    this.irqs = Array.from({ length: ISA_IRQS }, (_, i) => new IrqLine(`irq${i}`));

    this.com1 = new Uart16550(this.irqs[COM1_IRQ]!, options.output ?? stdoutSink);
    this.debugExit = new DebugExit((status) => {
      this.stopRequest ??= { kind: 'exit', status };
      options.onExit?.(status);
    });
    this.i8042 = new I8042(() => {
      this.stopRequest ??= { kind: 'reset' };
      options.onReset?.();
    });

    this.io.register(COM1_PORT, 8, this.com1, 'COM1');
    this.io.register(DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS, this.debugExit, 'isa-debug-exit');
    this.io.register(POST_PORT, 1, this.post, 'POST');
    this.io.register(I8042_DATA_PORT, 1, this.i8042.dataPort, 'i8042 data');
    this.io.register(I8042_COMMAND_PORT, 1, this.i8042.commandPort, 'i8042 command');
  }

  /** Loads a kernel image (Multiboot, PVH ELF or x86-64 ELF) into RAM; the result holds the start state. */
  loadKernel(image: Uint8Array, opts?: LoadOptions): LoadResult {
    return loadKernel(image, this.memory, opts);
  }

  /** Host input (stdin) for COM1. */
  sendInput(data: Uint8Array | string): void {
    this.com1.receive(data);
  }

  /** Devices back to power-on state (RAM is kept); clears the stop request. */
  reset(): void {
    this.com1.reset();
    this.i8042.reset();
    this.post.lastCode = undefined;
    this.stopRequest = undefined;
  }
}
