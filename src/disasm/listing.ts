// A disassembly listing: one line per instruction, `<hex address> <bytes as hex> <mnemonic> <operands>`.
import { decode, newInstruction } from '../decoder/decode.ts';
import type { Instruction, Mode } from '../decoder/types.ts';
import { formatIntel, type FormatOptions } from './intel.ts';

export interface ListingLine {
  address: bigint;
  /** Offset of the instruction in the code buffer. */
  offset: number;
  length: number;
  /** Intel-syntax text (objdump's spelling); '(bad)' for an invalid or truncated encoding. */
  text: string;
  /** The whole listing line: `<hex address> <instruction bytes, no spaces> <text>`. */
  line: string;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Decodes `code` from start to end in the given mode; `org` is the address of code[0]. An invalid encoding
 * takes the bytes the decoder examined (at least one) and the listing resumes after them.
 */
export function* listing(code: Uint8Array, mode: Mode, org: bigint | number = 0n, options: FormatOptions = {}): Generator<ListingLine> {
  const base = BigInt(org);
  const insn: Instruction = newInstruction();
  for (let offset = 0; offset < code.length; ) {
    decode(code, offset, mode, insn);
    const length = Math.max(1, Math.min(insn.length, code.length - offset));
    const address = base + BigInt(offset);
    const text = formatIntel(insn, code, offset, address, options);
    let bytes = '';
    for (let i = offset; i < offset + length; i++) bytes += HEX[code[i]!];
    yield { address, offset, length, text, line: `${address.toString(16)} ${bytes} ${text}` };
    offset += length;
  }
}
