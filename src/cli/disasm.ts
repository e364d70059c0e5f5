// `kemu disasm`: Intel-syntax listing of an ELF file's code sections, or of a raw binary.
import type { Mode } from '../decoder/types.ts';
import { listing } from '../disasm/listing.ts';
import { ElfError, parseElf, PF_X, PT_LOAD, SHF_EXECINSTR, SHT_NOBITS, type ElfFile } from '../machine/elf.ts';
import { Output, parseArgs, parseNumber, readInput, UsageError, type Command } from './common.ts';

const USAGE = `Usage: kemu disasm [--bits 16|32|64] [--section NAME] FILE
       kemu disasm --raw --bits 16|32|64 [--org ADDR] FILE

Disassembles FILE in Intel syntax (GNU objdump's spelling), one instruction per line:
  <address> <instruction bytes> <mnemonic> <operands>

ELF files: the executable sections (or the one --section names); the mode defaults to the ELF class.
Raw files (--raw): the whole file as code loaded at --org (default 0), in the mode --bits gives.`;

interface Region {
  name: string;
  addr: bigint;
  code: Uint8Array;
}

function parseBits(text: string | true | undefined): Mode | undefined {
  if (text === undefined) return undefined;
  if (text === '16' || text === '32' || text === '64') return Number(text) as Mode;
  throw new UsageError(`disasm: --bits must be 16, 32 or 64, not '${text}'`);
}

/** Code regions of an ELF file: executable sections, or executable PT_LOAD segments if it has no sections. */
function elfRegions(elf: ElfFile, section: string | undefined): Region[] {
  if (section !== undefined) {
    const s = elf.section(section);
    if (!s) throw new UsageError(`disasm: no section '${section}'`);
    if (s.type === SHT_NOBITS) throw new UsageError(`disasm: section '${section}' has no contents in the file`);
    return [{ name: s.name, addr: s.addr, code: elf.sectionData(s) }];
  }
  const out = elf.sections
    .filter((s) => s.flags & SHF_EXECINSTR && s.type !== SHT_NOBITS && s.size > 0)
    .map((s) => ({ name: s.name, addr: s.addr, code: elf.sectionData(s) }));
  if (out.length || elf.sections.length) return out;
  return elf.segments
    .filter((p) => p.type === PT_LOAD && p.flags & PF_X && p.filesz > 0)
    .map((p, i) => ({ name: `segment ${i}`, addr: p.vaddr, code: elf.segmentData(p) }));
}

/** Branch-target names from the symbol table: `<name>` or `<name+0x10>`, as objdump prints them. */
function symbolizer(elf: ElfFile, regions: Region[]): ((t: bigint) => string | undefined) | undefined {
  const syms = elf
    .symbols()
    .filter((s) => s.name && s.shndx !== 0 && (s.type === 0 || s.type === 2)) // NOTYPE or FUNC, defined
    .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  if (!syms.length) return undefined;
  const inCode = (t: bigint): boolean => regions.some((r) => t >= r.addr && t < r.addr + BigInt(r.code.length));
  return (t) => {
    if (!inCode(t)) return undefined;
    let lo = 0;
    let hi = syms.length - 1;
    if (syms[0]!.value > t) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (syms[mid]!.value <= t) lo = mid;
      else hi = mid - 1;
    }
    const s = syms[lo]!;
    return t === s.value ? s.name : `${s.name}+0x${(t - s.value).toString(16)}`;
  };
}

async function run(args: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(args, { values: ['--bits', '--org', '--section'], booleans: ['--raw'] }, 'disasm');
  if (positionals.length !== 1) throw new UsageError(`disasm: expected one FILE (see kemu disasm --help)`);
  const file = positionals[0]!;
  const bits = parseBits(flags.get('--bits'));
  const raw = flags.has('--raw');
  const out = new Output();

  let regions: Region[];
  let mode: Mode;
  let symbolize: ((t: bigint) => string | undefined) | undefined;
  if (raw) {
    if (!bits) throw new UsageError('disasm: --raw needs --bits 16, 32 or 64');
    if (flags.has('--section')) throw new UsageError('disasm: --section is for ELF files, not --raw');
    const org = flags.get('--org');
    mode = bits;
    regions = [{ name: '', addr: org === undefined ? 0n : parseNumber(String(org), 'disasm: --org'), code: readInput(file) }];
  } else {
    if (flags.has('--org')) throw new UsageError('disasm: --org is for --raw files');
    let elf: ElfFile;
    try {
      elf = parseElf(readInput(file));
    } catch (e) {
      if (e instanceof ElfError) throw new ElfError(`${file}: ${e.message}${/magic/.test(e.message) ? ' (use --raw for raw code)' : ''}`);
      throw e;
    }
    mode = bits ?? (elf.bits === 64 ? 64 : 32);
    regions = elfRegions(elf, flags.get('--section') as string | undefined);
    symbolize = symbolizer(elf, regions);
  }

  const options = { bareTargets: symbolize !== undefined, symbolize };
  for (const r of regions) {
    if (!raw) await out.line(`\nDisassembly of section ${r.name}:`);
    for (const line of listing(r.code, mode, r.addr, options)) {
      await out.line(line.line);
      if (out.closed) return 0;
    }
  }
  await out.flush();
  return 0;
}

export const disasm: Command = {
  name: 'disasm',
  summary: 'disassemble an ELF file or raw code (Intel syntax, as objdump prints it)',
  usage: USAGE,
  run,
};
