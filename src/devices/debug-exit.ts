// QEMU's isa-debug-exit (as `-device isa-debug-exit,iobase=0xf4,iosize=4`): writing v ends the run with exit
// status (v << 1) | 1, so a guest can report success or failure to the host. Reads return 0.

import type { IoSize, PortDevice } from '../machine/bus.js';

export const DEBUG_EXIT_PORT = 0xf4;
export const DEBUG_EXIT_PORTS = 4;

export class DebugExit implements PortDevice {
  readonly ioMaxSize = 4;

  constructor(private readonly onExit: (status: number) => void) {}

  ioRead(_offset: number, _size: IoSize): number {
    return 0;
  }

  ioWrite(_offset: number, _size: IoSize, value: number): void {
    // Arithmetic, not <<: a 32-bit value shifted left needs 33 bits.
    this.onExit(value * 2 + 1);
  }
}
