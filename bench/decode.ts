// Decode-speed benchmark: instructions per second over the .text of libc.so.6 (64-bit), decoding only and
// decoding + formatting. Usage: tsx bench/decode.ts [ELF file] [--rounds N]
import { readFileSync } from 'node:fs';
import { decode, newInstruction } from '../src/decoder/decode.ts';
import { formatIntel } from '../src/disasm/intel.ts';
import { parseElf } from '../src/machine/elf.ts';

const args = process.argv.slice(2);
const roundsAt = args.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(args.splice(roundsAt, 2)[1]) : 5;
const file = args[0] ?? '/usr/lib/x86_64-linux-gnu/libc.so.6';

const elf = parseElf(new Uint8Array(readFileSync(file)));
const text = elf.section('.text');
if (!text) throw new Error(`${file} has no .text section`);
const code = elf.sectionData(text);
const mode = elf.bits === 64 ? 64 : 32;
const insn = newInstruction();

function decodeAll(): number {
  let n = 0;
  for (let off = 0; off < code.length; n++) {
    decode(code, off, mode, insn);
    off += insn.length;
  }
  return n;
}

function formatAll(): number {
  let n = 0;
  let chars = 0;
  const base = text!.addr;
  for (let off = 0; off < code.length; n++) {
    decode(code, off, mode, insn);
    chars += formatIntel(insn, code, off, base + BigInt(off)).length;
    off += insn.length;
  }
  return chars > 0 ? n : 0;
}

/** Best of `rounds` runs (after one warm-up run), in instructions per second. */
function measure(run: () => number): { count: number; perSecond: number } {
  let count = run();
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    count = run();
    best = Math.min(best, performance.now() - t0);
  }
  return { count, perSecond: (count / best) * 1000 };
}

const m = (x: number): string => (x / 1e6).toFixed(2);
const d = measure(decodeAll);
console.log(`${file} .text: ${code.length} bytes, ${d.count} instructions`);
console.log(`decode:          ${m(d.perSecond)} M instructions/s (${(d.perSecond / 1e6 * (code.length / d.count)).toFixed(1)} MB/s)`);
const f = measure(formatAll);
console.log(`decode + format: ${m(f.perSecond)} M instructions/s`);
console.log(`README: decodes ${m(d.perSecond)} M instructions/s (${m(f.perSecond)} M/s with Intel-syntax formatting) over libc.so.6 .text, Node ${process.version}`);
