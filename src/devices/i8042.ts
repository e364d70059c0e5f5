// The i8042 keyboard controller with a keyboard attached and no mouse. The controller side is what an OS probes
// (Linux's i8042 driver): the command byte (CTR) read and written through 0x20/0x60, self-tests, the keyboard and
// aux port enables, the output port (bit 0 low resets the machine, as does command 0xFE, the way Linux's
// `reboot=k` and most hobby kernels reboot), and the aux loopback 0xD3, which a real controller answers itself.
// The keyboard answers its commands (ACK, reset with a passed self-test, MF2 identify) but never types; bytes sent
// to the absent mouse come back as 0xFE. Answers queue in the output buffer (0x60) and raise IRQ 1 (keyboard) or
// IRQ 12 (aux) while they wait, when the CTR enables that interrupt. Every command answers at once: a probe that
// got no answer would sit in the guest's polling timeout (half a second per try in Linux).

import type { IoSize, PortDevice } from '../machine/bus.js';
import type { IrqLine } from '../machine/irq.js';

export const I8042_DATA_PORT = 0x60;
export const I8042_COMMAND_PORT = 0x64;

export const STATUS_OBF = 0x01; // output buffer full (data for the guest at 0x60)
export const STATUS_IBF = 0x02; // input buffer full (controller busy)
export const STATUS_SYS = 0x04; // system flag (CTR bit 2): self-test passed
export const STATUS_CMD = 0x08; // last write was a command (0x64), not data (0x60)
export const STATUS_UNLOCKED = 0x10; // keyboard not inhibited
export const STATUS_AUXDATA = 0x20; // the byte in the output buffer is from the aux port

export const CTR_KBDINT = 0x01;
export const CTR_AUXINT = 0x02;
export const CTR_SYS = 0x04;
export const CTR_KBDDIS = 0x10;
export const CTR_AUXDIS = 0x20;
export const CTR_XLATE = 0x40;

export const CMD_READ_CTR = 0x20;
export const CMD_WRITE_CTR = 0x60;
export const CMD_AUX_DISABLE = 0xa7;
export const CMD_AUX_ENABLE = 0xa8;
export const CMD_AUX_TEST = 0xa9;
export const CMD_SELF_TEST = 0xaa;
export const CMD_KBD_TEST = 0xab;
export const CMD_KBD_DISABLE = 0xad;
export const CMD_KBD_ENABLE = 0xae;
export const CMD_READ_OUTPUT = 0xd0;
export const CMD_WRITE_OUTPUT = 0xd1;
export const CMD_KBD_LOOP = 0xd2;
export const CMD_AUX_LOOP = 0xd3;
export const CMD_AUX_SEND = 0xd4;
export const CMD_RESET = 0xfe;

/** The command byte after power-on: keyboard interrupt, system flag, scancode translation. */
const CTR_RESET = CTR_SYS | CTR_KBDINT | CTR_XLATE;
const KBD_ACK = 0xfa;
const KBD_RESEND = 0xfe;
const OUTPUT_PORT = 0x03; // A20 on, no reset

/** Keyboard commands that take one parameter byte (each byte gets an ACK). */
const KBD_WITH_PARAM = new Set([0xed, 0xf0, 0xf3]);

/** The controller answers at two ports that are not adjacent (0x61-0x63 belong to others): register `dataPort`
 * at 0x60 and `commandPort` at 0x64. */
export class I8042 {
  private ctr = CTR_RESET;
  private lastWasCommand = false;
  /** Bytes waiting for the guest at 0x60, each from the keyboard side or the aux side. */
  private out: { byte: number; aux: boolean }[] = [];
  /** The controller command waiting for its parameter byte at 0x60, or the keyboard's (-1: none). */
  private pendingCmd = -1;
  private pendingKbd = -1;

  readonly dataPort: PortDevice = {
    ioRead: (_offset: number, _size: IoSize) => {
      const head = this.out.shift();
      // the line drops with the read and rises again for the next byte: an edge per byte, as each interrupt takes one
      this.kbdIrq?.lower();
      this.auxIrq?.lower();
      this.updateIrqs();
      return head?.byte ?? 0;
    },
    ioWrite: (_offset: number, _size: IoSize, value: number) => {
      this.lastWasCommand = false;
      this.data(value & 0xff);
    },
  };

  readonly commandPort: PortDevice = {
    ioRead: (_offset: number, _size: IoSize) => this.status(),
    ioWrite: (_offset: number, _size: IoSize, value: number) => {
      this.lastWasCommand = true;
      this.command(value & 0xff);
    },
  };

  constructor(
    private readonly onReset: () => void,
    private readonly kbdIrq?: IrqLine,
    private readonly auxIrq?: IrqLine,
  ) {}

  reset(): void {
    this.ctr = CTR_RESET;
    this.lastWasCommand = false;
    this.out = [];
    this.pendingCmd = this.pendingKbd = -1;
    this.updateIrqs();
  }

  private status(): number {
    const head = this.out[0];
    return (
      (head ? STATUS_OBF : 0) |
      (head?.aux ? STATUS_AUXDATA : 0) |
      (this.ctr & CTR_SYS ? STATUS_SYS : 0) |
      (this.lastWasCommand ? STATUS_CMD : 0) |
      STATUS_UNLOCKED
    );
  }

  private push(byte: number, aux = false): void {
    this.out.push({ byte, aux });
    this.updateIrqs();
  }

  /** The interrupt line of the byte at the head of the output buffer is high while it waits (and enabled). */
  private updateIrqs(): void {
    const head = this.out[0];
    this.kbdIrq?.set(!!head && !head.aux && (this.ctr & CTR_KBDINT) !== 0);
    this.auxIrq?.set(!!head && head.aux && (this.ctr & CTR_AUXINT) !== 0);
  }

  private command(cmd: number): void {
    this.pendingCmd = -1;
    switch (cmd) {
      case CMD_READ_CTR:
        return this.push(this.ctr);
      case CMD_AUX_DISABLE:
        this.ctr |= CTR_AUXDIS;
        return;
      case CMD_AUX_ENABLE:
        this.ctr &= ~CTR_AUXDIS;
        return;
      case CMD_AUX_TEST:
      case CMD_KBD_TEST:
        return this.push(0x00); // interface OK
      case CMD_SELF_TEST:
        this.ctr |= CTR_SYS;
        return this.push(0x55);
      case CMD_KBD_DISABLE:
        this.ctr |= CTR_KBDDIS;
        return;
      case CMD_KBD_ENABLE:
        this.ctr &= ~CTR_KBDDIS;
        return;
      case CMD_READ_OUTPUT:
        return this.push(OUTPUT_PORT);
      case CMD_RESET:
        return this.onReset();
      case CMD_WRITE_CTR:
      case CMD_WRITE_OUTPUT:
      case CMD_KBD_LOOP:
      case CMD_AUX_LOOP:
      case CMD_AUX_SEND:
        this.pendingCmd = cmd;
        return;
      default:
        // 0xF0-0xFF pulse output lines (bit 0 low: the reset line); other commands (internal RAM...) do nothing here
        if (cmd >= 0xf0 && (cmd & 1) === 0) this.onReset();
    }
  }

  private data(byte: number): void {
    const cmd = this.pendingCmd;
    this.pendingCmd = -1;
    switch (cmd) {
      case CMD_WRITE_CTR:
        this.ctr = byte;
        return this.updateIrqs();
      case CMD_WRITE_OUTPUT:
        if ((byte & 1) === 0) this.onReset();
        return;
      case CMD_KBD_LOOP:
        return this.push(byte);
      case CMD_AUX_LOOP:
        return this.push(byte, true);
      case CMD_AUX_SEND:
        return this.push(KBD_RESEND, true); // no mouse: nothing acknowledges
      default:
        return this.keyboard(byte);
    }
  }

  /** A byte for the keyboard: its commands (an MF2 keyboard that never has a key to send). */
  private keyboard(byte: number): void {
    if (this.pendingKbd >= 0) {
      const cmd = this.pendingKbd;
      this.pendingKbd = -1;
      this.push(KBD_ACK);
      if (cmd === 0xf0 && byte === 0) this.push(0x02); // get scancode set: set 2
      return;
    }
    if (KBD_WITH_PARAM.has(byte)) {
      this.pendingKbd = byte;
      return this.push(KBD_ACK);
    }
    switch (byte) {
      case 0xee: // echo
        return this.push(0xee);
      case 0xf2: // identify: MF2 keyboard
        this.push(KBD_ACK);
        this.push(0xab);
        return this.push(0x83);
      case 0xff: // reset: ACK, then self-test passed
        this.push(KBD_ACK);
        return this.push(0xaa);
      default:
        // enable/disable scanning, set defaults, typematic/make/break modes: acknowledged; anything else: resend
        return this.push(byte >= 0xf4 ? KBD_ACK : KBD_RESEND);
    }
  }
}
