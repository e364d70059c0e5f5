// kemu's disassembler against GNU objdump (`objdump -d -M intel -w`) on real binaries of this machine and on
// broad assembled samples in 64-, 32- and 16-bit code. For every instruction objdump decodes we decode at the
// same address and compare the length (must always agree), the mnemonic (>= 99.5%) and the full text.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, newInstruction } from '../src/decoder/decode.ts';
import { Invalid, type Mode } from '../src/decoder/types.ts';
import { formatIntel } from '../src/disasm/intel.ts';
import { parseElf } from '../src/machine/elf.ts';
import { samples16, samples32, samples64 } from './disasm-samples.ts';
import { assemble, mnemonicOf, objdumpRaw, parseObjdump, type ObjdumpLine } from './util/gnu.ts';

interface Stats {
  compared: number;
  lengthBad: number;
  mnemonicBad: number;
  textBad: number;
  /** objdump folds FWAIT (9B) into the next x87 instruction (fstcw = 9B D9 /7); the CPU runs two instructions. */
  fwaitMerged: number;
  /** Disagreements by objdump mnemonic: count and a few examples. */
  byMnemonic: Map<string, { count: number; examples: string[] }>;
}

const hex = (b: ArrayLike<number>): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

const PREFIX_WORD = /^(rex(\.[WRXB]+)?|data16|data32|addr16|addr32|lock|rep[nz]*|[c-gs]s|bnd|notrack|xacquire|xrelease)$/;

/** Lines that are not a decoded instruction: (bad), .byte, and objdump's lone prefixes (`ds rex.W` on a line). */
function skipped(l: ObjdumpLine): boolean {
  if (l.text.includes('(bad)') || l.text.startsWith('.byte') || l.text === '') return true;
  return l.text.split(' ').every((w) => PREFIX_WORD.test(w));
}

/** objdump folds FWAIT (9B) into a following x87 instruction; for the CPU they are two instructions. */
function fwaitMerged(l: ObjdumpLine, insnMnemonic: string): boolean {
  return insnMnemonic === 'fwait' && l.bytes.includes(0x9b) && l.bytes.length > 1;
}

function compare(lines: ObjdumpLine[], code: Uint8Array, base: number, mode: Mode, bareTargets: boolean): Stats {
  const st: Stats = { compared: 0, lengthBad: 0, mnemonicBad: 0, textBad: 0, fwaitMerged: 0, byMnemonic: new Map() };
  const note = (kind: string, l: ObjdumpLine, ours: string): void => {
    const key = `${kind} ${mnemonicOf(l.text)}`;
    const v = st.byMnemonic.get(key) ?? { count: 0, examples: [] };
    v.count++;
    if (v.examples.length < 3) v.examples.push(`${hex(l.bytes)}  objdump: ${l.text}  kemu: ${ours}`);
    st.byMnemonic.set(key, v);
  };
  const insn = newInstruction();
  for (const l of lines) {
    if (skipped(l)) continue;
    const off = l.addr - base;
    if (off < 0 || off >= code.length) continue;
    st.compared++;
    decode(code, off, mode, insn);
    if (insn.length !== l.bytes.length) {
      if (fwaitMerged(l, insn.mnemonic)) {
        st.fwaitMerged++;
        continue;
      }
      st.lengthBad++;
      note('length', l, insn.invalid === Invalid.None ? `${insn.mnemonic} (${insn.length} bytes)` : `(bad) (${insn.length} bytes)`);
      continue;
    }
    const ours = formatIntel(insn, code, off, BigInt(l.addr), { bareTargets });
    if (mnemonicOf(ours) !== mnemonicOf(l.text)) {
      st.mnemonicBad++;
      note('mnemonic', l, ours);
    } else if (ours !== l.text) {
      st.textBad++;
      note('text', l, ours);
    }
  }
  return st;
}

function summary(what: string, st: Stats, top = 25): string {
  const pct = (n: number): string => ((100 * n) / Math.max(1, st.compared)).toFixed(3) + '%';
  const out = [
    `${what}: ${st.compared} instructions; length agrees ${pct(st.compared - st.lengthBad)}, ` +
      `mnemonic ${pct(st.compared - st.lengthBad - st.mnemonicBad)}, full text ${pct(st.compared - st.lengthBad - st.mnemonicBad - st.textBad)}` +
      (st.fwaitMerged ? ` (${st.fwaitMerged} fwait+x87 pairs objdump prints as one)` : ''),
  ];
  const rows = [...st.byMnemonic.entries()].sort((a, b) => b[1].count - a[1].count).slice(0, top);
  for (const [key, v] of rows) {
    out.push(`  ${key} x${v.count}`);
    for (const e of v.examples) out.push(`      ${e}`);
  }
  return out.join('\n');
}

function check(what: string, st: Stats): void {
  const text = summary(what, st);
  console.log(summary(what, st, 8));
  expect(st.compared).toBeGreaterThan(0);
  expect(st.lengthBad, text).toBe(0);
  expect(st.compared - st.mnemonicBad, text).toBeGreaterThanOrEqual(0.995 * st.compared);
}

/** objdump over part of an ELF section (all of it by default), and the section bytes. */
function elfCase(file: string, section: string, maxBytes = Infinity): { lines: ObjdumpLine[]; code: Uint8Array; base: number; mode: Mode; bare: boolean } {
  const elf = parseElf(new Uint8Array(readFileSync(file)));
  const s = elf.section(section)!;
  const code = elf.sectionData(s).subarray(0, Math.min(s.size, maxBytes));
  const base = Number(s.addr);
  const args = ['-d', '-M', 'intel', '-w', '-j', section];
  if (maxBytes < s.size) args.push(`--stop-address=0x${(base + maxBytes).toString(16)}`);
  const out = execFileSync('objdump', [...args, file], { maxBuffer: 2 ** 31 - 1, encoding: 'utf8' });
  // objdump prints branch targets without 0x when the file has symbols.
  return { lines: parseObjdump(out), code, base, mode: elf.bits === 64 ? 64 : 32, bare: elf.symbols().length > 0 };
}

const BINARIES: [string, string, number?][] = [
  ['/lib64/ld-linux-x86-64.so.2', '.text'],
  ['/usr/lib/x86_64-linux-gnu/libm.so.6', '.text'],
  ['/usr/lib/x86_64-linux-gnu/libc.so.6', '.text'],
  ['/usr/bin/ls', '.text'],
  ['/usr/bin/objdump', '.text'],
  ['/usr/bin/gdb', '.text', 1 << 20], // 6 MB of code: the first megabyte (~250k instructions)
  ['/usr/lib/x86_64-linux-gnu/libc.so.6', '.plt'],
];

describe('disassembler vs objdump: binaries of this machine', () => {
  for (const [file, section, maxBytes] of BINARIES) {
    it.skipIf(!existsSync(file))(`${file} ${section}`, () => {
      const c = elfCase(file, section, maxBytes);
      check(`${file} ${section}`, compare(c.lines, c.code, c.base, c.mode, c.bare));
    });
  }
});

describe('disassembler vs objdump: assembled samples', () => {
  const cases: [Mode, () => string][] = [
    [64, samples64],
    [32, samples32],
    [16, samples16],
  ];
  for (const [mode, source] of cases) {
    it(`${mode}-bit code`, () => {
      const code = assemble(source(), mode);
      const org = mode === 16 ? 0x7c00 : 0x401000;
      const st = compare(objdumpRaw(code, mode, org), code, org, mode, false);
      check(`${mode}-bit samples`, st);
      expect(st.compared).toBeGreaterThan(mode === 16 ? 1000 : 1500);
    });
  }
});
