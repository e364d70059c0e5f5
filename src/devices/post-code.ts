// Port 0x80, the POST diagnostic port: firmware and kernels write progress codes (Linux also uses it as an I/O
// delay). Writes are dropped; the last code is kept for diagnostics. Reads float high.

import type { IoSize, PortDevice } from '../machine/bus.js';

export const POST_PORT = 0x80;

export class PostCode implements PortDevice {
  lastCode: number | undefined;

  ioRead(_offset: number, _size: IoSize): number {
    return 0xff;
  }

  ioWrite(_offset: number, _size: IoSize, value: number): void {
    this.lastCode = value & 0xff;
  }
}
