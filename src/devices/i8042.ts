// A minimal i8042 keyboard controller: enough for a guest to find the controller idle and to reset the machine
// through it (command 0xFE pulses the CPU reset line, the way Linux's `reboot=k` and most hobby kernels reboot).
// No keyboard or mouse: the output buffer is always empty.

import type { IoSize, PortDevice } from '../machine/bus.js';

export const I8042_DATA_PORT = 0x60;
export const I8042_COMMAND_PORT = 0x64;

export const STATUS_OBF = 0x01; // output buffer full (data for the guest at 0x60)
export const STATUS_IBF = 0x02; // input buffer full (controller busy)
export const STATUS_SYS = 0x04; // system flag: self-test passed
export const STATUS_CMD = 0x08; // last write was a command (0x64), not data (0x60)
export const STATUS_UNLOCKED = 0x10; // keyboard not inhibited

export const CMD_RESET = 0xfe;

/** The controller answers at two ports that are not adjacent (0x61-0x63 belong to others): register `dataPort`
 * at 0x60 and `commandPort` at 0x64. */
export class I8042 {
  private status = STATUS_SYS | STATUS_UNLOCKED;

  readonly dataPort: PortDevice = {
    ioRead: (_offset: number, _size: IoSize) => 0,
    ioWrite: (_offset: number, _size: IoSize, _value: number) => {
      this.status &= ~STATUS_CMD;
    },
  };

  readonly commandPort: PortDevice = {
    ioRead: (_offset: number, _size: IoSize) => this.status,
    ioWrite: (_offset: number, _size: IoSize, value: number) => {
      this.status |= STATUS_CMD;
      if ((value & 0xff) === CMD_RESET) this.onReset();
    },
  };

  constructor(private readonly onReset: () => void) {}

  reset(): void {
    this.status = STATUS_SYS | STATUS_UNLOCKED;
  }
}
