// The guest's serial console on the host terminal: stdin goes to COM1. On a terminal, stdin is in raw mode (keys
// go to the guest as typed, Ctrl-C included) and QEMU's escape applies: Ctrl-A x quits, Ctrl-A Ctrl-A sends one
// Ctrl-A. Piped stdin is forwarded as it comes until it ends.
import type { Board } from '../machine/board.ts';

const CTRL_A = 0x01;

export class SerialConsole {
  /** Whether more host input can still arrive. */
  open = true;
  private escape = false;
  private readonly tty: boolean;
  private readonly onData = (data: Buffer) => this.input(new Uint8Array(data));
  private readonly onEnd = () => {
    this.open = false;
  };

  constructor(private readonly board: Board, private readonly stop: () => void, private readonly stdin = process.stdin) {
    this.tty = !!stdin.isTTY;
    if (this.tty) stdin.setRawMode(true);
    stdin.on('data', this.onData);
    stdin.on('end', this.onEnd);
    stdin.resume();
  }

  /** Host bytes: the escape sequences on a terminal, everything else to the guest. */
  input(bytes: Uint8Array): void {
    if (!this.tty) {
      this.board.sendInput(bytes);
      return;
    }
    const out: number[] = [];
    for (const b of bytes) {
      if (this.escape) {
        this.escape = false;
        if (b === 0x78 /* x */) {
          process.stderr.write('\r\nkemu: terminated (Ctrl-A x)\r\n');
          this.board.stopRequest ??= { kind: 'exit', status: 0 };
          this.stop();
          return;
        }
        if (b === CTRL_A) out.push(CTRL_A);
        // any other key after Ctrl-A is dropped, as QEMU does with unknown escapes
      } else if (b === CTRL_A) this.escape = true;
      else out.push(b);
    }
    if (out.length) this.board.sendInput(Uint8Array.from(out));
  }

  close(): void {
    this.stdin.off('data', this.onData);
    this.stdin.off('end', this.onEnd);
    if (this.tty) this.stdin.setRawMode(false);
    this.stdin.pause();
  }
}
