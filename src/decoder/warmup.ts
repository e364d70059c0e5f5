// Type feedback for the decoder before a guest runs (see src/cpu/ir/warmup.ts for why): decoding every opcode of
// the one-, two- and three-byte maps, with and without the common prefixes, in each mode, reaches the decoder's
// paths once. Booting Linux deoptimised the decoder's main function ~10 times without this.
import { decode, newInstruction } from './decode.ts';

const PREFIXES: number[][] = [[], [0x66], [0xf3], [0xf2], [0x48], [0x41], [0x66, 0x48], [0xf0], [0x64], [0xc5, 0xf9], [0xc4, 0xe2, 0x79]];
const MAPS: number[][] = [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]];
/** What follows the opcode: ModRM forms (register, [base+disp8] with SIB, [rip+disp32]) and immediate bytes. */
const TAILS: number[][] = [
  [0xc1, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88],
  [0x44, 0x24, 0x08, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66],
  [0x05, 0x10, 0x20, 0x30, 0x40, 0x01, 0x02, 0x03, 0x04],
];

export function warmUpDecoder(): void {
  const insn = newInstruction();
  const buf = new Uint8Array(32);
  for (const mode of [64, 32, 16] as const) {
    for (const pre of PREFIXES) {
      if ((pre[0] === 0x48 || pre[0] === 0x41 || pre[1] === 0x48) && mode !== 64) continue;
      if (mode === 16 && pre.length) continue;
      const vex = pre[0] === 0xc4 || pre[0] === 0xc5;
      for (const map of vex ? [[]] : MAPS) {
        for (let op = 0; op < 256; op++) {
          let n = 0;
          for (const b of pre) buf[n++] = b;
          for (const b of map) buf[n++] = b;
          buf[n++] = op;
          for (const b of TAILS[(op + pre.length) % TAILS.length]!) buf[n++] = b;
          decode(buf, 0, mode, insn);
        }
      }
    }
  }
}
